package dav

import (
	"fmt"
	"strings"
	"testing"
)

// TestNestedPlainCollections: plain WebDAV collections nest inside plain
// collections, need their parent (409), refuse non-XML bodies (415) and
// existing resources (405); calendars and address books stay top-level.
func TestNestedPlainCollections(t *testing.T) {
	ts := newTestServer(t)
	const p = "/dav/calendars/alice/p/"
	steps := []struct {
		name, method, path, body string
		headers                  []string
		status                   int
		cond                     string
	}{
		{"plain MKCOL", "MKCOL", p, "", nil, 201, ""},
		{"nested MKCOL", "MKCOL", p + "a/", "", nil, 201, ""},
		{"extended MKCOL of a plain collection, no slash", "MKCOL", p + "a/b",
			`<?xml version="1.0" encoding="utf-8"?><D:mkcol xmlns:D="DAV:"><D:set><D:prop><D:resourcetype><D:collection/></D:resourcetype><D:displayname>B</D:displayname></D:prop></D:set></D:mkcol>`,
			[]string{"Content-Type: application/xml"}, 201, ""},
		{"again", "MKCOL", p + "a/", "", nil, 405, ""},
		{"no parent", "MKCOL", p + "x/y/", "", nil, 409, ""},
		{"unknown body type", "MKCOL", p + "c/", "afafafaf", []string{"Content-Type: xzy-foo/bar-512"}, 415, ""},
		{"PUT any type", "PUT", p + "f.png", "\x89PNG\r\n\x1a\n\x00", []string{"Content-Type: image/png"}, 201, ""},
		{"PUT without parent", "PUT", p + "nonesuch/f.txt", "x", nil, 409, ""},
		{"PUT onto a collection", "PUT", p + "a", "x", nil, 405, ""},
		{"MKCOL over an object", "MKCOL", p + "f.png", "", nil, 405, ""},
		{"MKCOL over an object, slash", "MKCOL", p + "f.png/", "", nil, 405, ""},
		{"calendar nested", "MKCALENDAR", p + "cal/", "", nil, 403, "calendar-collection-location-ok"},
		{"plain collection in the address-book home", "MKCOL", "/dav/addressbooks/alice/q/",
			"", nil, 201, ""},
		{"address book inside a plain collection", "MKCOL", "/dav/addressbooks/alice/q/book/",
			`<mkcol xmlns="DAV:"><set><prop><resourcetype><collection/><addressbook xmlns="urn:ietf:params:xml:ns:carddav"/></resourcetype></prop></set></mkcol>`,
			nil, 403, "addressbook-collection-location-ok"},
		{"collection inside a calendar", "MKCOL", calPath + "sub/", "", nil, 403, ""},
		{"too deep", "MKCOL", p + strings.Repeat("d/", maxNesting+1), "", nil, 404, ""},
	}
	for _, s := range steps {
		rec := ts.do(t, "alice", s.method, s.path, s.body, s.headers...)
		if s.status >= 400 {
			wantError(t, rec, s.status, s.cond)
		} else if rec.Code != s.status {
			t.Fatalf("%s: %s %s: %d %s", s.name, s.method, s.path, rec.Code, rec.Body)
		}
	}

	// Stored as sent.
	rec := ts.do(t, "alice", "GET", p+"f.png", "")
	if rec.Body.String() != "\x89PNG\r\n\x1a\n\x00" || rec.Header().Get("Content-Type") != "image/png" {
		t.Fatalf("GET: %q %q", rec.Body, rec.Header().Get("Content-Type"))
	}
	// A slash-less path names the nested collection when there is one.
	rec = ts.do(t, "alice", "PROPFIND", p+"a/b", "", "Depth: 0")
	if rec.Header().Get("Content-Location") != p+"a/b/" {
		t.Fatalf("Content-Location %q", rec.Header().Get("Content-Location"))
	}
	if got := parseMS(t, rec).resp(t, p+"a/b/").ok(t); !strings.Contains(got, "<D:resourcetype><D:collection/></D:resourcetype>") ||
		!strings.Contains(got, ">B</displayname>") {
		t.Fatalf("nested collection: %s", got)
	}
	// Depth 1 lists direct members only.
	listing := []struct {
		path      string
		want, not []string
	}{
		{"/dav/calendars/alice/", []string{p, calPath}, []string{p + "a/"}},
		{p, []string{p, p + "a/", p + "f.png"}, []string{p + "a/b/"}},
		{p + "a/", []string{p + "a/", p + "a/b/"}, nil},
	}
	for _, l := range listing {
		d := parseMS(t, ts.do(t, "alice", "PROPFIND", l.path, "", "Depth: 1"))
		hrefs := map[string]bool{}
		for _, r := range d.Responses {
			hrefs[r.Href] = true
		}
		for _, h := range l.want {
			if !hrefs[h] {
				t.Errorf("Depth 1 on %s lacks %s: %v", l.path, h, hrefs)
			}
		}
		for _, h := range l.not {
			if hrefs[h] {
				t.Errorf("Depth 1 on %s lists %s", l.path, h)
			}
		}
	}
	// DELETE takes the nested collections along.
	if rec := ts.do(t, "alice", "DELETE", p, ""); rec.Code != 204 {
		t.Fatalf("DELETE: %d", rec.Code)
	}
	wantError(t, ts.do(t, "alice", "PROPFIND", p+"a/b/", "", "Depth: 0"), 404, "")
}

// TestQuotaProperties: RFC 4331 properties on every collection and home;
// quota-available-bytes only with a configured quota, which PUT and COPY
// then enforce with 507 quota-not-exceeded. The account's usage counts the
// object's body and name besides the provisioned collections' properties.
func TestQuotaProperties(t *testing.T) {
	base, err := newTestServer(t).alice.Usage(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	used := fmt.Sprintf("<D:quota-used-bytes>%d</D:quota-used-bytes>", base+7+5)
	const pf = `<propfind xmlns="DAV:"><prop><quota-used-bytes/><quota-available-bytes/><current-user-privilege-set/><owner/></prop></propfind>`
	tests := []struct {
		name    string
		quota   int64
		want    []string
		missing string
	}{
		{"no quota", 0, []string{used, "<D:write/>", "<D:owner><D:href>/dav/principals/alice/</D:href>"}, "<D:quota-available-bytes/>"},
		{"quota", base + 100, []string{used, "<D:quota-available-bytes>88</D:quota-available-bytes>"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts := newTestServer(t, func(o *Options) { o.QuotaBytes = tc.quota })
			ts.do(t, "alice", "MKCOL", "/dav/addressbooks/alice/p/", "")
			ts.do(t, "alice", "MKCOL", "/dav/addressbooks/alice/p/q/", "")
			if rec := ts.do(t, "alice", "PUT", "/dav/addressbooks/alice/p/a.txt", "1234567", "Content-Type: text/plain"); rec.Code != 201 {
				t.Fatalf("PUT: %d", rec.Code)
			}
			for _, path := range []string{"/dav/calendars/alice/", calPath, "/dav/addressbooks/alice/contacts/", "/dav/addressbooks/alice/p/q/"} {
				r := parseMS(t, ts.do(t, "alice", "PROPFIND", path, pf, "Depth: 0")).Responses[0]
				got := r.ok(t)
				for _, w := range tc.want {
					if !strings.Contains(got, w) {
						t.Errorf("%s lacks %s in %s", path, w, got)
					}
				}
				if tc.missing != "" && !strings.Contains(r.missing(), tc.missing) {
					t.Errorf("%s: %s not reported missing: %+v", path, tc.missing, r.Propstats)
				}
			}
			if tc.quota == 0 {
				return
			}
			wantError(t, ts.do(t, "alice", "PUT", "/dav/addressbooks/alice/p/big.txt", strings.Repeat("x", 94)), 507, "quota-not-exceeded")
			// Replacing an object credits what it replaces: 95 bytes and the name fill the quota.
			if rec := ts.do(t, "alice", "PUT", "/dav/addressbooks/alice/p/a.txt", strings.Repeat("x", 95)); rec.Code != 204 {
				t.Fatalf("replacing PUT: %d %s", rec.Code, rec.Body)
			}
			wantError(t, ts.do(t, "alice", "COPY", "/dav/addressbooks/alice/p/a.txt", "", "Destination: /dav/addressbooks/alice/p/b.txt"), 507, "quota-not-exceeded")
			wantError(t, ts.do(t, "alice", "COPY", "/dav/addressbooks/alice/p/", "", "Destination: /dav/addressbooks/alice/r/"), 507, "quota-not-exceeded")
			if rec := ts.do(t, "alice", "MOVE", "/dav/addressbooks/alice/p/a.txt", "", "Destination: /dav/addressbooks/alice/p/b.txt"); rec.Code != 201 {
				t.Fatalf("MOVE within the quota: %d %s", rec.Code, rec.Body)
			}
		})
	}
}

// TestGetUserContentHeaders: every GET of user content is neither sniffed
// nor run as a document of the service origin, and what a browser would
// render (HTML, SVG, XML) is an attachment.
func TestGetUserContentHeaders(t *testing.T) {
	ts := newTestServer(t)
	const p = "/dav/calendars/alice/web/"
	if rec := ts.do(t, "alice", "MKCOL", p, ""); rec.Code != 201 {
		t.Fatalf("MKCOL: %d", rec.Code)
	}
	const script = `<html><body><script>fetch("/account/app-passwords",{method:"POST",body:"{}"})</script></body></html>`
	tests := []struct {
		name, path, contentType, body string
		attachment                    bool
	}{
		{"HTML with a script", p + "x.html", "text/html; charset=utf-8", script, true},
		{"XHTML", p + "x.xhtml", "application/xhtml+xml", script, true},
		{"SVG", p + "x.svg", "image/svg+xml", `<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`, true},
		{"XML", p + "x.xml", "text/xml", `<?xml-stylesheet href="x.xsl"?><a/>`, true},
		{"application/xml", p + "y.xml", "application/xml", `<a/>`, true},
		{"no usable type", p + "z", "not a type", script, false}, // stored as application/octet-stream
		{"plain text", p + "x.txt", "text/plain", script, false},
		{"PNG", p + "x.png", "image/png", "\x89PNG\r\n\x1a\n\x00", false},
		{"event", calPath + "ev1.ics", "text/calendar", icsEvent, false},
		{"card", "/dav/addressbooks/alice/contacts/card1.vcf", "text/vcard", vcard3, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if rec := ts.do(t, "alice", "PUT", tc.path, tc.body, "Content-Type: "+tc.contentType); rec.Code != 201 {
				t.Fatalf("PUT: %d %s", rec.Code, rec.Body.String())
			}
			for _, method := range []string{"GET", "HEAD"} {
				rec := ts.do(t, "alice", method, tc.path, "")
				h := rec.Header()
				if rec.Code != 200 || h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Content-Security-Policy") != "sandbox" {
					t.Fatalf("%s: %d, nosniff %q, CSP %q", method, rec.Code, h.Get("X-Content-Type-Options"), h.Get("Content-Security-Policy"))
				}
				if got := h.Get("Content-Disposition") == "attachment"; got != tc.attachment {
					t.Fatalf("%s of %s: Content-Disposition %q", method, h.Get("Content-Type"), h.Get("Content-Disposition"))
				}
			}
		})
	}
}
