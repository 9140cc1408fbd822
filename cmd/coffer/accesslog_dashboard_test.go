package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestAccessLogDashboard: dashboard requests reach the access log as DAV
// ones do: the path without its query, the status, and nothing of the
// cookies, the form body, the password, the form token or the session that
// sign-in starts.
func TestAccessLogDashboard(t *testing.T) {
	d := newDashRig(t, dashRigOptions{})
	l := newTestAccessLog(t, &fakeClock{t: time.Date(2027, 1, 14, 9, 0, 0, 0, time.UTC)})
	srv := httptest.NewServer(l.Wrap(d.h))
	t.Cleanup(srv.Close)

	// A form token and its cookie from the rig's own (unlogged) server: the
	// token is the browser's, whichever server handed it out.
	token, formCookies := d.form("/signin", nil)
	session := d.signIn()
	cookie := func(cs ...*http.Cookie) string {
		var parts []string
		for _, c := range cs {
			parts = append(parts, c.Name+"="+c.Value)
		}
		return strings.Join(parts, "; ")
	}
	form := func(kv ...string) string {
		v := url.Values{}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v.Encode()
	}
	requests := []struct {
		name, method, target, cookie, body string
		wantPath                           string
		wantStatus                         int // 0: any (pages other helpers are writing)
	}{
		{"sign-in page after sign-out", "GET", "/signin?done=notice.signedout", "coffer_session=COOKIE-SECRET-SESSION; coffer_form=COOKIE-SECRET-FORM", "",
			"/signin", http.StatusOK},
		{"wrong password", "POST", "/signin", cookie(formCookies...), form("csrf", token, "username", "alice", "password", "PASSWORD-SECRET-WRONG"),
			"/signin", http.StatusUnauthorized},
		{"right password", "POST", "/signin?next=QUERY-SECRET", cookie(formCookies...), form("csrf", token, "username", "alice", "password", "correct horse battery"),
			"/signin", http.StatusSeeOther},
		{"confirmation link", "GET", "/confirm?u=alice&t=QUERY-SECRET-CONFIRM", "", "",
			"/confirm", 0},
		{"e-mail confirmation link", "GET", "/email/confirm?t=QUERY-SECRET-EMAIL", "", "",
			"/email/confirm", 0},
		{"password change", "POST", "/settings/password", cookie(session), form("csrf", "FORM-TOKEN-SECRET", "current_password", "correct horse battery", "new_password", "PASSWORD-SECRET-NEW", "new_password2", "PASSWORD-SECRET-NEW"),
			"/settings/password", http.StatusForbidden}, // a wrong form token: refused, but logged like the rest
	}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	secrets := []string{"COOKIE-SECRET", "PASSWORD-SECRET", "QUERY-SECRET", "FORM-TOKEN-SECRET", "correct horse battery", token, session.Value,
		"done=", "notice.signedout", "alice", "csrf", "username", "password=", "?"}
	for _, rq := range requests {
		var body io.Reader
		if rq.body != "" {
			body = strings.NewReader(rq.body)
		}
		req, err := http.NewRequest(rq.method, srv.URL+rq.target, body)
		if err != nil {
			t.Fatal(err)
		}
		if rq.body != "" {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		if rq.cookie != "" {
			req.Header.Set("Cookie", rq.cookie)
		}
		req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) Chrome/140.0")
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", rq.name, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		for _, c := range resp.Cookies() {
			if c.Value != "" {
				secrets = append(secrets, c.Value) // the session sign-in starts, a new form token
			}
		}
	}
	path := filepath.Join(l.dir, "access-2027011409.jsonl")
	entries := readEntries(t, path)
	if len(entries) != len(requests) {
		t.Fatalf("%d entries, want one for each of %d requests", len(entries), len(requests))
	}
	fields := []string{"duration_ms", "method", "path", "status", "time", "user_agent"}
	for i, rq := range requests {
		e := entries[i]
		keys := make([]string, 0, len(e))
		for k := range e {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		if !slices.Equal(keys, fields) {
			t.Errorf("%s: the entry has fields %v, want %v", rq.name, keys, fields)
		}
		if e["method"] != rq.method || e["path"] != rq.wantPath {
			t.Errorf("%s: logged %v %v, want %s %s", rq.name, e["method"], e["path"], rq.method, rq.wantPath)
		}
		if rq.wantStatus != 0 && e["status"] != float64(rq.wantStatus) {
			t.Errorf("%s: logged status %v, want %d", rq.name, e["status"], rq.wantStatus)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range secrets {
		if strings.Contains(string(b), s) {
			t.Errorf("the access log holds %q:\n%s", s, b)
		}
	}
}
