package push

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Outcome is what became of one send, and so what the queue does next.
type Outcome int

// The outcomes of a send.
const (
	// Delivered: the push service took the message (2xx).
	Delivered Outcome = iota + 1
	// Retry: try again later, after Result.RetryAfter when the push service
	// said so: 5xx, 429, 408, or no answer (network error, timeout).
	Retry
	// Drop: the subscription is gone (404, 410); delete it.
	Drop
	// Refused: the message or the push resource will not do (other 4xx, a
	// redirect, a push resource the server does not connect to, bad keys);
	// sending it again changes nothing.
	Refused
)

// MaxRetryAfter caps the Retry-After a push service can ask for.
const MaxRetryAfter = 24 * time.Hour

// String names an outcome, for logs and metric labels.
func (o Outcome) String() string {
	switch o {
	case Delivered:
		return "delivered"
	case Retry:
		return "retry"
	case Drop:
		return "drop"
	case Refused:
		return "refused"
	}
	return "outcome(" + strconv.Itoa(int(o)) + ")"
}

// Result is the outcome of one send and what it rests on.
type Result struct {
	Outcome    Outcome
	Status     int           // the push service's HTTP status; 0 when none came
	RetryAfter time.Duration // with Retry: the push service's Retry-After, capped at MaxRetryAfter; 0 for none
	Err        error         // unless Delivered: what went wrong; it never holds the push resource URL
}

// outcomeOf maps a push service's status to an outcome (RFC 8030 §5, §6.2,
// §8.4; RFC 6585 §4 for 429).
func outcomeOf(status int) Outcome {
	switch {
	case status >= 200 && status < 300:
		return Delivered
	case status == http.StatusNotFound || status == http.StatusGone:
		return Drop
	case status == http.StatusTooManyRequests || status == http.StatusRequestTimeout || status >= 500:
		return Retry
	}
	return Refused
}

// retryAfter reads a Retry-After header (RFC 9110 §10.2.3): seconds or an
// HTTP date; 0 when absent or unreadable.
func retryAfter(h string, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0
	}
	var d time.Duration
	if n, err := strconv.ParseInt(h, 10, 64); err == nil {
		if n > int64(MaxRetryAfter/time.Second) {
			return MaxRetryAfter
		}
		d = time.Duration(n) * time.Second
	} else if t, err := http.ParseTime(h); err == nil {
		d = t.Sub(now)
	}
	return min(max(d, 0), MaxRetryAfter)
}
