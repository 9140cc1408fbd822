package dav

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestRefusedLoginsAreLoggedOncePerAddress is issue 11 point 5: throttled
// and refused logins give no ERROR line, and one INFO line per address,
// however many requests the address sends.
func TestRefusedLoginsAreLoggedOncePerAddress(t *testing.T) {
	var logs bytes.Buffer
	ts := newTestServer(t, func(o *Options) { o.Logger = slog.New(slog.NewTextHandler(&logs, nil)) })
	for _, tt := range []struct {
		name, user, addr, line string
		status                 int
	}{
		{"throttled", "dave", "192.0.2.1:4000", "login throttled", http.StatusServiceUnavailable},
		{"not a username", strings.Repeat("x", 100<<10), "192.0.2.2:4000", "login refused", http.StatusUnauthorized},
	} {
		t.Run(tt.name, func(t *testing.T) {
			logs.Reset()
			for i := 0; i < 200; i++ {
				req := httptest.NewRequest("PROPFIND", "http://dav.example.org/dav/", nil)
				req.RemoteAddr = tt.addr
				req.SetBasicAuth(tt.user, "pw")
				rec := httptest.NewRecorder()
				ts.h.ServeHTTP(rec, req)
				if rec.Code != tt.status {
					t.Fatalf("request %d: %d, want %d", i, rec.Code, tt.status)
				}
			}
			out := logs.String()
			if strings.Contains(out, "level=ERROR") {
				t.Errorf("refused logins logged as errors:\n%.2000s", out)
			}
			if n := strings.Count(out, "level=INFO msg=\""+tt.line+"\""); n != 1 {
				t.Errorf("200 refused logins from one address logged %d times, want once:\n%.2000s", n, out)
			}
			if strings.Contains(out, "xxxx") {
				t.Error("the username went into the log")
			}
		})
	}
}

// TestLoginLogMinute: an address is logged again once a minute has passed,
// and other addresses have their own line.
func TestLoginLogMinute(t *testing.T) {
	var logs bytes.Buffer
	l := newLoginLog(slog.New(slog.NewTextHandler(&logs, nil)))
	now := time.Unix(1_000_000, 0)
	for _, tt := range []struct {
		addr  string
		after time.Duration
		want  int // lines so far
	}{
		{"192.0.2.1:1", 0, 1},
		{"192.0.2.1:2", 59 * time.Second, 1},
		{"192.0.2.2:1", 0, 2},
		{"192.0.2.1:3", time.Second, 3},
		{"[2001:db8::1]:1", 0, 4},
	} {
		now = now.Add(tt.after)
		l.note(tt.addr, "login throttled", now)
		if n := strings.Count(logs.String(), "\n"); n != tt.want {
			t.Fatalf("after %s at +%v: %d lines, want %d:\n%s", tt.addr, tt.after, n, tt.want, logs.String())
		}
	}
}
