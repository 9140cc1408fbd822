package push

import (
	"errors"
	"net/http"
	"net/url"
	"testing"
	"time"
)

// TestDialControl: at dial time, on the resolved address, only public
// addresses on 443 or 8443 pass; with loopback allowed, only loopback
// addresses, on any port.
func TestDialControl(t *testing.T) {
	for _, c := range []struct {
		addr     string
		loopback bool
		ok       bool
	}{
		{"8.8.8.8:443", false, true},
		{"8.8.8.8:8443", false, true},
		{"[2001:4860:4860::8888]:443", false, true},
		{"8.8.8.8:80", false, false},
		{"8.8.8.8:22", false, false},
		{"10.0.0.1:443", false, false},
		{"172.16.5.4:443", false, false},
		{"192.168.0.1:443", false, false},
		{"127.0.0.1:443", false, false},
		{"[::1]:443", false, false},
		{"[::ffff:127.0.0.1]:443", false, false},
		{"[::ffff:8.8.8.8]:443", false, true},
		{"169.254.169.254:443", false, false},
		{"[fe80::1]:443", false, false},
		{"[fe80::1%eth0]:443", false, false},
		{"100.100.100.200:443", false, false},
		{"224.0.0.1:443", false, false},
		{"255.255.255.255:443", false, false},
		{"0.0.0.0:443", false, false},
		{"[::]:443", false, false},
		{"198.18.0.1:443", false, false},
		{"[2002:a00:1::]:443", false, false},
		{"[2001:db8::1]:443", false, false},
		{"127.0.0.1:41234", true, true},
		{"127.3.2.1:80", true, true},
		{"[::1]:8080", true, true},
		{"8.8.8.8:443", true, false},
		{"10.0.0.1:80", true, false},
		{"[2001:4860:4860::8888]:443", true, false},
		{"not an address", false, false},
	} {
		err := dialControl(c.loopback)("tcp", c.addr, nil)
		if c.ok != (err == nil) || (err != nil && !errors.Is(err, ErrEndpoint)) {
			t.Errorf("dial %s (loopback %v) = %v", c.addr, c.loopback, err)
		}
	}
}

// TestCheckEndpoint: the URL check a registration can run before storing a
// push resource.
func TestCheckEndpoint(t *testing.T) {
	long := "https://push.example.net/" + string(make([]byte, MaxEndpoint))
	for _, c := range []struct {
		url      string
		loopback bool
		ok       bool
	}{
		{"https://fcm.googleapis.com/fcm/send/abc", false, true},
		{"https://updates.push.services.mozilla.com/wpush/v2/gAAA", false, true},
		{"https://up.example.org:8443/UP?token=x", false, true},
		{"https://push.example.net:443/x", false, true},
		{"https://8.8.8.8/x", false, true},
		{"http://push.example.net/x", false, false},
		{"https://push.example.net:80/x", false, false},
		{"https://push.example.net:22/x", false, false},
		{"https://10.0.0.1/x", false, false},
		{"https://127.0.0.1/x", false, false},
		{"https://user@push.example.net/x", false, false},
		{"mailto:a@example.org", false, false},
		{"push.example.net/x", false, false},
		{long, false, false},
		{"", false, false},
		{"http://127.0.0.1:41234/push/1", true, true},
		{"https://127.0.0.1:41234/push/1", true, true},
		{"http://[::1]:8080/push/1", true, true},
		{"http://localhost:8080/push/1", true, true},
		{"http://10.0.0.1/push/1", true, false},
		{"https://fcm.googleapis.com/fcm/send/abc", true, false},
		{"ws://127.0.0.1/push/1", true, false},
	} {
		err := CheckEndpoint(c.url, c.loopback)
		if c.ok != (err == nil) || (err != nil && !errors.Is(err, ErrEndpoint)) {
			t.Errorf("CheckEndpoint(%.60q, %v) = %v", c.url, c.loopback, err)
		}
	}
}

// TestOutcomeOf: the status codes of RFC 8030 and their outcomes.
func TestOutcomeOf(t *testing.T) {
	for status, want := range map[int]Outcome{
		200: Delivered, 201: Delivered, 202: Delivered, 204: Delivered,
		301: Refused, 302: Refused, 307: Refused, 308: Refused,
		400: Refused, 401: Refused, 403: Refused, 413: Refused,
		404: Drop, 410: Drop,
		408: Retry, 429: Retry, 500: Retry, 502: Retry, 503: Retry, 504: Retry,
		100: Refused,
	} {
		if got := outcomeOf(status); got != want {
			t.Errorf("outcomeOf(%d) = %v, want %v", status, got, want)
		}
	}
}

// TestRetryAfter: seconds and HTTP dates, capped and never negative.
func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		h    string
		want time.Duration
	}{
		{"", 0},
		{"30", 30 * time.Second},
		{" 120 ", 2 * time.Minute},
		{"0", 0},
		{"-5", 0},
		{"99999999999999", MaxRetryAfter},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0},
		{now.Add(72 * time.Hour).Format(http.TimeFormat), MaxRetryAfter},
		{"soon", 0},
	} {
		if got := retryAfter(c.h, now); got != c.want {
			t.Errorf("retryAfter(%q) = %v, want %v", c.h, got, c.want)
		}
	}
}

// FuzzCheckEndpoint: no push resource a client registers makes the check
// panic, and what passes without loopback is an https URL with a host.
func FuzzCheckEndpoint(f *testing.F) {
	f.Add("https://fcm.googleapis.com/fcm/send/abc")
	f.Add("https://[::ffff:10.0.0.1]:8443/x")
	f.Add("http://127.0.0.1:80/")
	f.Fuzz(func(t *testing.T, s string) {
		if CheckEndpoint(s, false) != nil {
			return
		}
		u, err := url.Parse(s)
		if err != nil || u.Scheme != "https" || u.Hostname() == "" || u.User != nil {
			t.Fatalf("accepted %q", s)
		}
	})
}
