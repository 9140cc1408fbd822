package dav

import (
	"net/http"
	"strings"
	"testing"
)

func TestWellKnownRedirect(t *testing.T) {
	ts := newTestServer(t)
	for _, tc := range []struct{ method, path string }{
		{"PROPFIND", "/.well-known/caldav"},
		{"PROPFIND", "/.well-known/carddav"},
		{"GET", "/.well-known/caldav/"},
		{"OPTIONS", "/.well-known/carddav"},
	} {
		rec := ts.do(t, "", tc.method, tc.path, bodyApplePrincipal, "Depth: 0")
		if rec.Code != http.StatusMovedPermanently || rec.Header().Get("Location") != "/dav/" {
			t.Errorf("%s %s: %d %q, want 301 /dav/", tc.method, tc.path, rec.Code, rec.Header().Get("Location"))
		}
	}
}

func TestAuthentication(t *testing.T) {
	ts := newTestServer(t)
	tests := []struct {
		name, user string
		status     int
		header     string
		value      string
	}{
		{"no credentials", "", 401, "WWW-Authenticate", `Basic realm="Coffer", charset="UTF-8"`},
		{"unknown user", "mallory", 401, "WWW-Authenticate", `Basic realm="Coffer", charset="UTF-8"`},
		{"throttled", "dave", 503, "Retry-After", "90"},
		{"blocked", "carol", 403, "Content-Type", "application/xml; charset=utf-8"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := ts.do(t, tc.user, "PROPFIND", "/dav/", bodyApplePrincipal, "Depth: 0")
			if rec.Code != tc.status || rec.Header().Get(tc.header) != tc.value {
				t.Fatalf("%d %s=%q; want %d %q", rec.Code, tc.header, rec.Header().Get(tc.header), tc.status, tc.value)
			}
			if tc.user == "carol" && !strings.Contains(rec.Body.String(), "deleted on 2025-06-01") {
				t.Fatalf("blocked body lacks the reason: %s", rec.Body.String())
			}
		})
	}
}

func TestOptions(t *testing.T) {
	ts := newTestServer(t)
	for _, p := range []string{"/", "/dav/", "/dav/principals/alice/", "/dav/calendars/alice/",
		"/dav/calendars/alice/calendar/", "/dav/addressbooks/alice/contacts", "/dav/addressbooks/alice/"} {
		rec := ts.do(t, "alice", "OPTIONS", p, "")
		dav := rec.Header().Get("DAV")
		if rec.Code != 200 || !strings.HasPrefix(dav, "1,") || !strings.Contains(dav, "calendar-access") ||
			!strings.Contains(dav, "addressbook") || strings.Contains(dav, "schedule") {
			t.Errorf("OPTIONS %s: %d DAV=%q", p, rec.Code, dav)
		}
		if !strings.Contains(rec.Header().Get("Allow"), "MKCALENDAR") {
			t.Errorf("OPTIONS %s: Allow=%q", p, rec.Header().Get("Allow"))
		}
	}
	if rec := ts.do(t, "alice", "OPTIONS", "/dav/calendars/alice/nope/", ""); rec.Code != 404 {
		t.Errorf("OPTIONS on a missing collection: %d", rec.Code)
	}
}

func TestDiscoveryPropfind(t *testing.T) {
	ts := newTestServer(t)
	tests := []struct {
		name, path, body string
		headers          []string
		want             []string
	}{
		{"apple root", "/", bodyApplePrincipal, []string{"Depth: 0", "Brief: t", "Prefer: return=minimal"},
			[]string{"<D:current-user-principal><D:href>/dav/principals/alice/</D:href>", "<D:principal-URL>"}},
		{"davx5 root", "/dav/", bodyDAVx5CalDiscovery, []string{"Depth: 0"},
			[]string{"<D:current-user-principal><D:href>/dav/principals/alice/</D:href>",
				"<C:calendar-home-set><D:href>/dav/calendars/alice/</D:href>", "<D:resourcetype><D:collection/></D:resourcetype>"}},
		{"evolution root", "/", bodyEvolutionDiscovery, []string{"Depth: 0"},
			[]string{"<CR:addressbook-home-set><D:href>/dav/addressbooks/alice/</D:href>"}},
		{"apple principal", "/dav/principals/alice/", bodyApplePrincipalProps, []string{"Depth: 0", "Brief: t", "Prefer: return=minimal"},
			[]string{"<C:calendar-user-address-set><D:href>mailto:alice@example.org</D:href><D:href>/dav/principals/alice/</D:href>",
				"<D:principal-URL><D:href>/dav/principals/alice/</D:href>", "<D:displayname>Alice</D:displayname>",
				"<D:principal-collection-set><D:href>/dav/principals/</D:href>", "<D:supported-report-set/>"}},
		{"principal without slash", "/dav/principals/alice", bodyApplePrincipal, []string{"Depth: 0"},
			[]string{"<D:resourcetype><D:collection/><D:principal/></D:resourcetype>"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := ts.do(t, "alice", "PROPFIND", tc.path, tc.body, tc.headers...)
			d := parseMS(t, rec)
			if len(d.Responses) != 1 {
				t.Fatalf("%d responses", len(d.Responses))
			}
			r := d.Responses[0]
			if !strings.HasSuffix(r.Href, "/") {
				t.Errorf("href %q lacks its slash", r.Href)
			}
			got := r.ok(t)
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("missing %s in\n%s", w, got)
				}
			}
			minimal := strings.Contains(strings.Join(tc.headers, " "), "minimal")
			if minimal && len(r.Propstats) != 1 {
				t.Errorf("minimal answer carries %d propstats", len(r.Propstats))
			}
		})
	}
}

func TestCalendarUserAddressFallbacks(t *testing.T) {
	ts := newTestServer(t)
	rec := ts.do(t, "bob", "PROPFIND", "/dav/principals/bob/", bodyDAVx5AddressSet, "Depth: 0")
	got := parseMS(t, rec).Responses[0].ok(t)
	if !strings.Contains(got, "<D:href>mailto:bob@dav.example.org</D:href>") {
		t.Fatalf("no host-derived mailto: %s", got)
	}
}

// TestCrossUser proves that every method on another user's paths answers
// 403 need-privileges whether or not the user exists, and changes nothing.
func TestCrossUser(t *testing.T) {
	ts := newTestServer(t)
	paths := []string{"/dav/principals/bob/", "/dav/calendars/bob/", "/dav/calendars/bob/calendar/",
		"/dav/calendars/bob/calendar/x.ics", "/dav/addressbooks/bob/contacts/", "/dav/calendars/nobody/calendar/",
		"/dav/calendars/b%6Fb/calendar/"}
	methods := []struct{ method, body string }{
		{"GET", ""}, {"HEAD", ""}, {"OPTIONS", ""}, {"PROPFIND", bodyApplePrincipal}, {"PROPPATCH", bodyAppleProppatch},
		{"PUT", icsOther}, {"DELETE", ""}, {"MKCALENDAR", ""}, {"MKCOL", ""}, {"REPORT", `<sync-collection xmlns="DAV:"><sync-token/></sync-collection>`},
		{"MOVE", ""},
	}
	for _, p := range paths {
		for _, m := range methods {
			rec := ts.do(t, "alice", m.method, p, m.body)
			if rec.Code != http.StatusForbidden {
				t.Errorf("%s %s: %d", m.method, p, rec.Code)
				continue
			}
			if m.method != "HEAD" {
				wantError(t, rec, 403, "need-privileges")
			}
		}
	}
	if cs, _ := ts.bob.Collections(t.Context(), "calendars"); len(cs) != 2 {
		t.Fatalf("bob's calendars changed: %d", len(cs))
	}
}

func TestBadPaths(t *testing.T) {
	ts := newTestServer(t)
	tests := []struct {
		path   string
		status int
	}{
		{"/dav/calendars/alice/calendar/a%2Fb.ics", 400},
		{"/dav/calendars/alice/%2E%2E/", 400},
		{"/dav/calendars/alice//x.ics", 400},
		{"/dav/calendars/alice/calendar/a/b/c", 404},
		{"/dav/nowhere/", 404},
		{"/other", 404},
		{"/dav/calendars/", 404},
	}
	for _, tc := range tests {
		rec := ts.do(t, "alice", "PROPFIND", tc.path, "", "Depth: 0")
		if rec.Code != tc.status {
			t.Errorf("%s: %d, want %d", tc.path, rec.Code, tc.status)
		}
	}
}

func TestCollectionWithoutSlash(t *testing.T) {
	ts := newTestServer(t)
	rec := ts.do(t, "alice", "PROPFIND", "/dav/calendars/alice/calendar", bodyThunderbirdBook, "Depth: 0")
	if rec.Header().Get("Content-Location") != calPath {
		t.Fatalf("Content-Location %q", rec.Header().Get("Content-Location"))
	}
	parseMS(t, rec).resp(t, calPath)
}
