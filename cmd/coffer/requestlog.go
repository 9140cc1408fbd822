package main

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// logFlags are serve's logging settings.
type logFlags struct {
	format, level *string
}

// newLogger builds the server's logger from the flags: text or JSON lines
// at the given level and above, on w.
func (f logFlags) newLogger(w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(*f.level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", *f.level)
	}
	o := &slog.HandlerOptions{Level: level}
	switch strings.ToLower(*f.format) {
	case "text":
		return slog.New(slog.NewTextHandler(w, o)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, o)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", *f.format)
}

// clientGone reports whether the client hung up before the answer was
// complete: the request's context ends when its connection does.
func clientGone(r *http.Request) bool { return r.Context().Err() != nil }

// logRequests writes one INFO line per request: method, status and
// duration; the path only when withPath (the access log is on, so the
// operator chose to keep paths); never a query, header or body. A client
// that hung up is logged as such, whatever status the handler chose.
// Refused and throttled logins (401, and 503 with Retry-After) get no line
// here: an anonymous client must not set the log's size, and the login
// log reports them once per address a minute.
func logRequests(log *slog.Logger, withPath bool, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		if st := sw.Status(); st == http.StatusUnauthorized || (st == http.StatusServiceUnavailable && sw.Header().Get("Retry-After") != "") {
			return
		}
		msg, status := "request", any(sw.Status())
		if clientGone(r) {
			msg, status = "client hung up", "none" // no answer reached it
		}
		attrs := []any{"method", methodLabel(r.Method), "status", status, "duration_ms", float64(time.Since(start).Microseconds()) / 1000}
		if withPath {
			attrs = append(attrs, "path", r.URL.Path)
		}
		log.Info(msg, attrs...)
	})
}
