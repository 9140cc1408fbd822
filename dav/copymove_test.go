package dav

import (
	"fmt"
	"strings"
	"testing"
)

// probe is a request whose status a test checks.
type probe struct {
	method, path string
	status       int
}

// copyMoveFixture gives alice a plain collection p/ with a.txt, b.txt and
// a nested sub/ holding c.txt, and the event ev1.ics in her calendar.
func copyMoveFixture(t *testing.T) *testServer {
	t.Helper()
	ts := newTestServer(t)
	for _, s := range []struct{ method, path, body, ctype string }{
		{"MKCOL", "/dav/calendars/alice/p/", "", ""},
		{"MKCOL", "/dav/calendars/alice/p/sub/", "", ""},
		{"PUT", "/dav/calendars/alice/p/a.txt", "hello a", "text/plain"},
		{"PUT", "/dav/calendars/alice/p/b.txt", "hello b", "text/plain"},
		{"PUT", "/dav/calendars/alice/p/sub/c.txt", "hello c", "text/plain"},
		{"PUT", calPath + "ev1.ics", icsEvent, "text/calendar"},
	} {
		if rec := ts.do(t, "alice", s.method, s.path, s.body, "Content-Type: "+s.ctype); rec.Code != 201 {
			t.Fatalf("setup %s %s: %d %s", s.method, s.path, rec.Code, rec.Body)
		}
	}
	return ts
}

// TestCopyMove is the COPY/MOVE matrix of RFC 4918 sections 9.8 and 9.9:
// objects and collections, Overwrite, Depth, Destination forms, and the
// rules of calendar and address-book collections.
func TestCopyMove(t *testing.T) {
	const p = "/dav/calendars/alice/p/"
	tests := []struct {
		name, method, path string
		headers            []string
		status             int
		cond               string  // for error answers
		after              []probe // checked afterwards
	}{
		{"copy object to a new name", "COPY", p + "a.txt", []string{"Destination: " + p + "new.txt"}, 201, "",
			[]probe{{"GET", p + "a.txt", 200}, {"GET", p + "new.txt", 200}}},
		{"copy object, Overwrite F onto existing", "COPY", p + "a.txt", []string{"Destination: " + p + "b.txt", "Overwrite: F"}, 412, "", nil},
		{"copy object, Overwrite T onto existing", "COPY", p + "a.txt", []string{"Destination: " + p + "b.txt", "Overwrite: T"}, 204, "", nil},
		{"copy object, Overwrite absent onto existing", "COPY", p + "a.txt", []string{"Destination: " + p + "b.txt"}, 204, "", nil},
		{"copy object into a nested collection", "COPY", p + "a.txt", []string{"Destination: " + p + "sub/a.txt"}, 201, "",
			[]probe{{"GET", p + "sub/a.txt", 200}}},
		{"move object to a new name", "MOVE", p + "a.txt", []string{"Destination: " + p + "moved.txt"}, 201, "",
			[]probe{{"GET", p + "a.txt", 404}, {"GET", p + "moved.txt", 200}}},
		{"move object, Overwrite F onto existing", "MOVE", p + "a.txt", []string{"Destination: " + p + "b.txt", "Overwrite: F"}, 412, "",
			[]probe{{"GET", p + "a.txt", 200}}},
		{"move object onto existing", "MOVE", p + "a.txt", []string{"Destination: " + p + "b.txt"}, 204, "",
			[]probe{{"GET", p + "a.txt", 404}, {"GET", p + "b.txt", 200}}},
		{"destination parent missing", "COPY", p + "a.txt", []string{"Destination: " + p + "nonesuch/a.txt"}, 409, "", nil},
		{"source is destination", "MOVE", p + "a.txt", []string{"Destination: " + p + "a.txt"}, 403, "",
			[]probe{{"GET", p + "a.txt", 200}}},
		{"missing source", "COPY", p + "nonesuch.txt", []string{"Destination: " + p + "x.txt"}, 404, "", nil},
		{"no Destination", "COPY", p + "a.txt", nil, 400, "", nil},
		{"bad Overwrite", "COPY", p + "a.txt", []string{"Destination: " + p + "x.txt", "Overwrite: maybe"}, 400, "", nil},
		{"absolute URL destination", "COPY", p + "a.txt", []string{"Destination: http://dav.example.org:8443" + p + "x%20y.txt"}, 201, "",
			[]probe{{"GET", p + "x%20y.txt", 200}}},
		{"destination on another server", "COPY", p + "a.txt", []string{"Destination: http://elsewhere.example" + p + "x.txt"}, 502, "", nil},
		{"destination in another user's space", "COPY", p + "a.txt", []string{"Destination: /dav/calendars/bob/calendar/stolen.txt"}, 403, "need-privileges", nil},
		{"destination of an unknown user", "MOVE", p + "a.txt", []string{"Destination: http://dav.example.org:8443/dav/calendars/nobody/p/a.txt"}, 403, "need-privileges",
			[]probe{{"GET", p + "a.txt", 200}}},
		{"destination is a principal", "COPY", p + "a.txt", []string{"Destination: /dav/principals/alice/"}, 403, "need-privileges", nil},
		{"destination path trick", "COPY", p + "a.txt", []string{"Destination: /dav/calendars/alice/%2E%2E/bob/calendar/x.txt"}, 400, "", nil},
		{"home cannot hold objects", "COPY", p + "a.txt", []string{"Destination: /dav/calendars/alice/top/"}, 403, "", nil},

		{"copy collection, Depth infinity", "COPY", p, []string{"Destination: /dav/calendars/alice/q/", "Depth: infinity"}, 201, "",
			[]probe{{"GET", "/dav/calendars/alice/q/a.txt", 200}, {"GET", "/dav/calendars/alice/q/sub/c.txt", 200}, {"GET", p + "a.txt", 200}}},
		{"copy collection, Depth 0", "COPY", p, []string{"Destination: /dav/calendars/alice/q/", "Depth: 0"}, 201, "",
			[]probe{{"PROPFIND", "/dav/calendars/alice/q/", 207}, {"GET", "/dav/calendars/alice/q/a.txt", 404}, {"PROPFIND", "/dav/calendars/alice/q/sub/", 404}}},
		{"copy collection, Depth 1", "COPY", p, []string{"Destination: /dav/calendars/alice/q/", "Depth: 1"}, 400, "", nil},
		{"move collection, Depth 0", "MOVE", p, []string{"Destination: /dav/calendars/alice/q/", "Depth: 0"}, 400, "", nil},
		{"move collection with nested ones", "MOVE", p, []string{"Destination: /dav/calendars/alice/q/"}, 201, "",
			[]probe{{"PROPFIND", p, 404}, {"GET", "/dav/calendars/alice/q/sub/c.txt", 200}}},
		{"move collection across homes", "MOVE", p + "sub/", []string{"Destination: /dav/addressbooks/alice/moved"}, 201, "",
			[]probe{{"GET", "/dav/addressbooks/alice/moved/c.txt", 200}, {"GET", p + "sub/c.txt", 404}}},
		{"copy collection onto existing, Overwrite F", "COPY", p + "sub/", []string{"Destination: /dav/calendars/alice/calendar/", "Overwrite: F"}, 412, "", nil},
		{"copy collection onto its parent", "COPY", p + "sub/", []string{"Destination: " + p}, 403, "", nil},
		{"move collection into itself", "MOVE", p, []string{"Destination: " + p + "sub/deeper/"}, 403, "",
			[]probe{{"GET", p + "a.txt", 200}}},
		{"copy collection replaces a collection", "COPY", p + "sub/", []string{"Destination: /dav/calendars/alice/tasks/"}, 204, "",
			[]probe{{"GET", "/dav/calendars/alice/tasks/c.txt", 200}}},
		{"copy object onto a collection", "COPY", p + "a.txt", []string{"Destination: " + p + "sub"}, 204, "",
			[]probe{{"GET", p + "sub", 200}, {"GET", p + "sub/c.txt", 404}}},
		{"copy object onto a collection, Overwrite F", "COPY", p + "a.txt", []string{"Destination: " + p + "sub/", "Overwrite: F"}, 412, "",
			[]probe{{"GET", p + "sub/c.txt", 200}}},
		{"move collection onto an object", "MOVE", p + "sub/", []string{"Destination: " + p + "a.txt"}, 204, "",
			[]probe{{"GET", p + "a.txt/c.txt", 200}, {"GET", p + "sub/c.txt", 404}}},

		{"plain object into a calendar", "COPY", p + "a.txt", []string{"Destination: " + calPath + "a.ics"}, 403, "valid-calendar-data", nil},
		{"event into a task list", "COPY", calPath + "ev1.ics", []string{"Destination: /dav/calendars/alice/tasks/ev1.ics"}, 403, "supported-calendar-component", nil},
		{"event into an address book", "MOVE", calPath + "ev1.ics", []string{"Destination: /dav/addressbooks/alice/contacts/ev1.vcf"}, 403, "valid-address-data",
			[]probe{{"GET", calPath + "ev1.ics", 200}}},
		{"event copied within its calendar", "COPY", calPath + "ev1.ics", []string{"Destination: " + calPath + "copy.ics"}, 403, "no-uid-conflict", nil},
		{"event renamed within its calendar", "MOVE", calPath + "ev1.ics", []string{"Destination: " + calPath + "renamed.ics"}, 201, "",
			[]probe{{"GET", calPath + "renamed.ics", 200}, {"GET", calPath + "ev1.ics", 404}}},
		{"event into a plain collection", "COPY", calPath + "ev1.ics", []string{"Destination: " + p + "ev1.ics"}, 201, "",
			[]probe{{"GET", p + "ev1.ics", 200}}},
		{"calendar into a plain collection", "MOVE", calPath, []string{"Destination: " + p + "cal/"}, 403, "calendar-collection-location-ok", nil},
		{"calendar into the address-book home", "COPY", calPath, []string{"Destination: /dav/addressbooks/alice/cal/"}, 403, "calendar-collection-location-ok", nil},
		{"address book into the calendar home", "MOVE", "/dav/addressbooks/alice/contacts/", []string{"Destination: /dav/calendars/alice/book/"}, 403, "addressbook-collection-location-ok", nil},
		{"calendar renamed", "MOVE", calPath, []string{"Destination: /dav/calendars/alice/office/"}, 201, "",
			[]probe{{"GET", "/dav/calendars/alice/office/ev1.ics", 200}, {"PROPFIND", calPath, 404}}},
		{"home cannot be copied", "COPY", "/dav/calendars/alice/", []string{"Destination: /dav/calendars/alice/x/"}, 403, "need-privileges", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts := copyMoveFixture(t)
			rec := ts.do(t, "alice", tc.method, tc.path, "", tc.headers...)
			if tc.status >= 400 {
				wantError(t, rec, tc.status, tc.cond)
			} else if rec.Code != tc.status || rec.Body.Len() != 0 {
				t.Fatalf("%s: %d %s", tc.method, rec.Code, rec.Body)
			}
			for _, pr := range tc.after {
				if got := ts.do(t, "alice", pr.method, pr.path, "", "Depth: 0").Code; got != pr.status {
					t.Errorf("then %s %s: %d, want %d", pr.method, pr.path, got, pr.status)
				}
			}
			if cs, _ := ts.bob.Collections(t.Context(), "calendars"); len(cs) != 2 {
				t.Errorf("bob's calendars changed: %d", len(cs))
			}
		})
	}
}

// TestCopyMoveKeepsBytesAndProperties: a copy has the source's bytes,
// content type and dead properties, and the same strong ETag.
func TestCopyMoveKeepsBytesAndProperties(t *testing.T) {
	ts := copyMoveFixture(t)
	const p = "/dav/calendars/alice/p/"
	patch := `<?xml version="1.0" encoding="utf-8"?><propertyupdate xmlns="DAV:"><set><prop><note xmlns="urn:example:x">kept</note></prop></set></propertyupdate>`
	parseMS(t, ts.do(t, "alice", "PROPPATCH", p+"a.txt", patch)).Responses[0].ok(t)
	src := ts.do(t, "alice", "GET", p+"a.txt", "")
	if rec := ts.do(t, "alice", "MOVE", p+"a.txt", "", "Destination: "+p+"sub/z.txt"); rec.Code != 201 {
		t.Fatalf("MOVE: %d %s", rec.Code, rec.Body)
	}
	dst := ts.do(t, "alice", "GET", p+"sub/z.txt", "")
	if dst.Body.String() != "hello a" || dst.Header().Get("Content-Type") != "text/plain" || dst.Header().Get("ETag") != src.Header().Get("ETag") {
		t.Fatalf("moved object: %q %v", dst.Body, dst.Header())
	}
	pf := `<propfind xmlns="DAV:"><prop><note xmlns="urn:example:x"/></prop></propfind>`
	got := parseMS(t, ts.do(t, "alice", "PROPFIND", p+"sub/z.txt", pf, "Depth: 0")).Responses[0].ok(t)
	if !strings.Contains(got, `<note xmlns="urn:example:x">kept</note>`) {
		t.Fatalf("dead property lost in MOVE: %s", got)
	}
}

// TestMoveRecordsChangesOnBothSides: after moving an event between
// calendars, sync-collection reports it removed from the source and added
// to the destination, so clients that sync both see the move.
func TestMoveRecordsChangesOnBothSides(t *testing.T) {
	ts := newTestServer(t)
	const other = "/dav/calendars/alice/other/"
	if rec := ts.do(t, "alice", "MKCALENDAR", other, ""); rec.Code != 201 {
		t.Fatalf("MKCALENDAR: %d", rec.Code)
	}
	if rec := ts.do(t, "alice", "PUT", calPath+"ev1.ics", icsEvent); rec.Code != 201 {
		t.Fatalf("PUT: %d", rec.Code)
	}
	token := func(coll string) string {
		return parseMS(t, ts.do(t, "alice", "REPORT", coll, fmt.Sprintf(bodyDAVx5Sync, ""))).SyncToken
	}
	srcTok, dstTok := token(calPath), token(other)
	if rec := ts.do(t, "alice", "MOVE", calPath+"ev1.ics", "", "Destination: "+other+"ev1.ics"); rec.Code != 201 {
		t.Fatalf("MOVE: %d %s", rec.Code, rec.Body)
	}
	d := parseMS(t, ts.do(t, "alice", "REPORT", calPath, fmt.Sprintf(bodyDAVx5Sync, srcTok)))
	if r := d.resp(t, calPath+"ev1.ics"); r.Status != "HTTP/1.1 404 Not Found" {
		t.Fatalf("source does not report the removal: %+v", r)
	}
	d = parseMS(t, ts.do(t, "alice", "REPORT", other, fmt.Sprintf(bodyDAVx5Sync, dstTok)))
	if r := d.resp(t, other+"ev1.ics"); !strings.Contains(r.ok(t), "getetag") {
		t.Fatalf("destination does not report the addition: %+v", r)
	}
}
