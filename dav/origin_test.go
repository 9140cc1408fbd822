package dav

import (
	"strings"
	"testing"
)

// TestCrossSiteWrites: a method that changes data and carries an Origin
// or Sec-Fetch-Site of another site gets 403 and changes nothing; reads,
// and writes without those headers (as DAV clients send them) or from the
// service's own origin, go through.
func TestCrossSiteWrites(t *testing.T) {
	ts := newTestServer(t)
	ev := calPath + "ev1.ics"
	if rec := ts.do(t, "alice", "PUT", ev, icsEvent); rec.Code != 201 {
		t.Fatalf("PUT: %d", rec.Code)
	}
	const evil = "Origin: https://evil.example"
	tests := []struct {
		name, method, path, body string
		headers                  []string
		status                   int
	}{
		{"PUT", "PUT", calPath + "x.ics", icsOther, []string{evil}, 403},
		{"PUT over", "PUT", ev, icsEventV2, []string{"Sec-Fetch-Site: cross-site"}, 403},
		{"DELETE", "DELETE", ev, "", []string{evil}, 403},
		{"PROPPATCH", "PROPPATCH", calPath, `<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:displayname>Pwned</D:displayname></D:prop></D:set></D:propertyupdate>`, []string{evil}, 403},
		{"MKCOL", "MKCOL", "/dav/calendars/alice/p/", "", []string{"Origin: null"}, 403},
		{"MKCALENDAR", "MKCALENDAR", "/dav/calendars/alice/c2/", "", []string{evil}, 403},
		{"COPY", "COPY", ev, "", []string{evil, "Destination: /dav/calendars/alice/calendar/copy.ics"}, 403},
		{"MOVE", "MOVE", ev, "", []string{"Sec-Fetch-Site: same-site", "Destination: /dav/calendars/alice/calendar/moved.ics"}, 403},
		{"PROPFIND from evil.example reads", "PROPFIND", calPath, "", []string{evil, "Depth: 0"}, 207},
		{"REPORT from evil.example reads", "REPORT", calPath, `<C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/></D:prop><D:href>` + ev + `</D:href></C:calendar-multiget>`, []string{evil}, 207},
		{"same origin", "PROPPATCH", calPath, `<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:displayname>Mine</D:displayname></D:prop></D:set></D:propertyupdate>`, []string{"Origin: http://dav.example.org:8443", "Sec-Fetch-Site: same-origin"}, 207},
		// Chromium's own form post from a page with Referrer-Policy: no-referrer.
		{"same origin, Origin null", "PROPPATCH", calPath, `<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:displayname>Mine</D:displayname></D:prop></D:set></D:propertyupdate>`, []string{"Origin: null", "Sec-Fetch-Site: same-origin"}, 207},
		{"cross-site fetch with a same-host Origin", "PROPPATCH", calPath, `<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:displayname>Pwned</D:displayname></D:prop></D:set></D:propertyupdate>`, []string{"Origin: http://dav.example.org:8443", "Sec-Fetch-Site: cross-site"}, 403},
		{"no Origin (DAV client)", "PUT", calPath + "y.ics", icsOther, nil, 201},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := ts.do(t, "alice", tc.method, tc.path, tc.body, tc.headers...)
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d:\n%s", rec.Code, tc.status, rec.Body.String())
			}
			if tc.status == 403 {
				wantError(t, rec, 403, "")
			}
		})
	}
	if got := ts.do(t, "alice", "GET", ev, ""); got.Body.String() != icsEvent {
		t.Fatalf("cross-site requests changed the event: %d %q", got.Code, got.Body.String())
	}
	for _, p := range []string{calPath + "x.ics", calPath + "copy.ics", calPath + "moved.ics", "/dav/calendars/alice/p/", "/dav/calendars/alice/c2/"} {
		if rec := ts.do(t, "alice", "GET", p, ""); rec.Code != 404 {
			t.Fatalf("a cross-site request created %s: %d", p, rec.Code)
		}
	}
	if got := parseMS(t, ts.do(t, "alice", "PROPFIND", calPath, `<propfind xmlns="DAV:"><prop><displayname/></prop></propfind>`, "Depth: 0")).resp(t, calPath).ok(t); !strings.Contains(got, ">Mine<") {
		t.Fatalf("displayname: %s", got)
	}
}
