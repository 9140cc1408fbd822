package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/coffer-dav/coffer/auth"
	"github.com/coffer-dav/coffer/dav"
	"github.com/coffer-dav/coffer/storage"
)

const metricsToken = "operator-token-for-metrics"

// scrape returns the status and body of a GET on the operator routes.
func scrape(t *testing.T, h http.Handler, path, token string) (int, string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

// TestOperatorRoutes: /healthz is open, /metrics needs the token unless
// public, the profiles always need it, and everything else goes to the operator API.
func TestOperatorRoutes(t *testing.T) {
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	tests := []struct {
		name   string
		public bool
		path   string
		token  string
		want   int
		body   string
	}{
		{"healthz without token", false, "/healthz", "", 200, "ok"},
		{"metrics without token", false, "/metrics", "", 401, ""},
		{"metrics with a wrong token", false, "/metrics", "operator-token-for-metricz", 401, ""},
		{"metrics with the token", false, "/metrics", metricsToken, 200, "coffer_argon2_runs_total 7"},
		{"public metrics", true, "/metrics", "", 200, "coffer_http_requests_in_flight"},
		{"profile without token", true, "/debug/pprof/heap", "", 401, ""},
		{"profile with the token", false, "/debug/pprof/heap?debug=1", metricsToken, 200, "heap profile"},
		{"API route", false, "/v1/accounts/alice", metricsToken, http.StatusTeapot, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMetrics(func() uint64 { return 7 })
			h := m.operatorRoutes(metricsToken, tt.public)(api)
			code, body := scrape(t, h, tt.path, tt.token)
			if code != tt.want || !strings.Contains(body, tt.body) {
				t.Fatalf("GET %s: %d %.200q, want %d with %q", tt.path, code, body, tt.want, tt.body)
			}
		})
	}
}

// TestRequestMetrics: requests are counted by method and status class,
// timed by method, and no label holds a path or a username.
func TestRequestMetrics(t *testing.T) {
	m := newMetrics(nil)
	h := m.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case "PROPFIND":
			w.WriteHeader(http.StatusMultiStatus)
		case "PUT":
			w.WriteHeader(http.StatusPreconditionFailed)
		default:
			io.WriteString(w, "implicit 200")
		}
	}))
	for _, r := range []struct{ method, path string }{
		{"PROPFIND", "/dav/calendars/alice/calendar/"}, {"PROPFIND", "/dav/calendars/bob/calendar/"},
		{"PUT", "/dav/addressbooks/alice/contacts/secret-name.vcf"}, {"GET", "/healthz"}, {"BREW", "/dav/"},
	} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(r.method, r.path, nil))
	}
	tests := []struct {
		method, class string
		want          float64
	}{
		{"PROPFIND", "2xx", 2}, {"PUT", "4xx", 1}, {"GET", "2xx", 1}, {"other", "2xx", 1}, {"PUT", "2xx", 0},
	}
	for _, tt := range tests {
		if got := testutil.ToFloat64(m.requests.WithLabelValues(tt.method, tt.class)); got != tt.want {
			t.Errorf("requests{%s,%s} = %v, want %v", tt.method, tt.class, got, tt.want)
		}
	}
	if n := testutil.CollectAndCount(m.latency); n != 4 {
		t.Errorf("latency series %d, want 4 (one per method)", n)
	}
	_, body := scrape(t, m.operatorRoutes(metricsToken, true)(http.NotFoundHandler()), "/metrics", "")
	for _, leak := range []string{"alice", "bob", "secret-name", "BREW", "/dav"} {
		if strings.Contains(body, leak) {
			t.Errorf("metrics mention %q", leak)
		}
	}
}

// TestLabels covers the bounded method and status labels.
func TestLabels(t *testing.T) {
	methods := map[string]string{"REPORT": "REPORT", "MKCALENDAR": "MKCALENDAR", "report": "other", "X-ANYTHING": "other", "": "other"}
	for in, want := range methods {
		if got := methodLabel(in); got != want {
			t.Errorf("methodLabel(%q) = %q, want %q", in, got, want)
		}
	}
	codes := map[int]string{207: "2xx", 304: "3xx", 412: "4xx", 503: "5xx", 0: "other", 999: "other"}
	for in, want := range codes {
		if got := codeClass(in); got != want {
			t.Errorf("codeClass(%d) = %q, want %q", in, got, want)
		}
	}
}

// fakeLogins answers logins with fixed outcomes by username.
type fakeLogins struct{}

func (fakeLogins) Login(ctx context.Context, username, password, remoteAddr string) (*dav.Account, error) {
	switch username {
	case "alice":
		return &dav.Account{ID: 1, Username: "alice", Space: fakeSpace{}}, nil
	case "carol":
		return nil, &auth.Blocked{Reason: "ended"}
	case "dave":
		return nil, &auth.Throttled{RetryAfter: time.Minute}
	case "erin":
		return nil, errors.New("database is locked")
	case "Not A Name":
		return nil, auth.ErrNotAUsername
	}
	return nil, auth.ErrBadCredentials
}

// fakeSpace answers Collection; every other call would panic.
type fakeSpace struct{ storage.Space }

func (fakeSpace) Collection(ctx context.Context, home storage.Home, name string) (*storage.Collection, error) {
	return &storage.Collection{Name: name}, nil
}

// TestLoginMetrics: logins are counted by result and timed, and the
// storage calls of a logged-in account are timed.
func TestLoginMetrics(t *testing.T) {
	m := newMetrics(nil)
	a := m.authenticator(fakeLogins{})
	for _, u := range []string{"alice", "alice", "bob", "carol", "dave", "erin", "Not A Name"} {
		acct, err := a.Login(context.Background(), u, "pw", "127.0.0.1:5000")
		if (err == nil) != (u == "alice") {
			t.Fatalf("login %s: %v", u, err)
		}
		if err == nil {
			if _, err := acct.Space.Collection(context.Background(), storage.HomeCalendars, "calendar"); err != nil {
				t.Fatal(err)
			}
		}
	}
	for result, want := range map[string]float64{"ok": 2, "bad_credentials": 1, "blocked": 1, "throttled": 1, "error": 1, "refused": 1} {
		if got := testutil.ToFloat64(m.logins.WithLabelValues(result)); got != want {
			t.Errorf("logins{%s} = %v, want %v", result, got, want)
		}
	}
	if n := testutil.CollectAndCount(m.loginDur); n != 1 {
		t.Errorf("login histogram series %d", n)
	}
	_, body := scrape(t, m.operatorRoutes(metricsToken, true)(http.NotFoundHandler()), "/metrics", "")
	if !strings.Contains(body, `coffer_storage_duration_seconds_count{op="collection"} 2`) {
		t.Errorf("storage calls not timed:\n%s", body)
	}
	if !strings.Contains(body, "coffer_dav_login_duration_seconds_count 7") {
		t.Errorf("logins not timed")
	}
}

// TestNilMetrics: without an operator listener nothing is wrapped.
func TestNilMetrics(t *testing.T) {
	var m *metrics
	h := http.NotFoundHandler()
	if got := m.wrap(h); got == nil {
		t.Fatal("nil metrics dropped the handler")
	}
	if _, ok := m.authenticator(fakeLogins{}).(fakeLogins); !ok {
		t.Fatal("nil metrics wrapped the authenticator")
	}
	if m := (&metricsFlags{}).setup(nil, &operatorFlags{}); m != nil {
		t.Fatal("metrics without an operator listener")
	}
}
