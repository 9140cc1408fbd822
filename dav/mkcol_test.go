package dav

import (
	"strings"
	"testing"
)

func TestMkcalendarAndMkcol(t *testing.T) {
	ts := newTestServer(t)
	tests := []struct {
		name, method, path, body string
		want                     []string // in a later Depth 0 allprop-with-props PROPFIND
	}{
		{"davx5 calendar", "MKCALENDAR", "/dav/calendars/alice/3f0c7f1e-0b7a-4a57-9c1f-6a3f0e5d9a11/", bodyDAVx5Mkcalendar, []string{
			"<D:resourcetype><D:collection/><C:calendar/></D:resourcetype>",
			`<displayname xmlns="DAV:">Work</displayname>`,
			`<calendar-description xmlns="urn:ietf:params:xml:ns:caldav">Work &amp; stuff</calendar-description>`,
			`<calendar-color xmlns="http://apple.com/ns/ical/">#FF0000FF</calendar-color>`,
			`<calendar-timezone-id xmlns="urn:ietf:params:xml:ns:caldav">Europe/Vienna</calendar-timezone-id>`,
			"TZID:Europe/Vienna",
			`<supported-calendar-component-set xmlns="urn:ietf:params:xml:ns:caldav"><comp name="VEVENT"/></supported-calendar-component-set>`,
		}},
		{"apple reminders", "MKCALENDAR", "/dav/calendars/alice/6B1A0F7E-1C2D-4E5F-8A9B-0C1D2E3F4A5B/", bodyAppleMkcalendar, []string{
			`<calendar-color xmlns="http://apple.com/ns/ical/" symbolic-color="custom">#1BADF8FF</calendar-color>`,
			`<calendar-order xmlns="http://apple.com/ns/ical/">3</calendar-order>`,
			`<comp name="VTODO"/>`,
			"BEGIN:VCALENDAR&#13;\nVERSION:2.0&#13;",
			`<schedule-calendar-transp xmlns="urn:ietf:params:xml:ns:caldav"><opaque/></schedule-calendar-transp>`,
		}},
		{"davx5 address book", "MKCOL", "/dav/addressbooks/alice/5b7e2b8c-3f0a-4e0b-9d1e-2a7c4f6b8d90/", bodyDAVx5Mkcol, []string{
			"<D:resourcetype><D:collection/><CR:addressbook/></D:resourcetype>",
			`<addressbook-description xmlns="urn:ietf:params:xml:ns:carddav">Friends book</addressbook-description>`,
		}},
		{"bare MKCALENDAR", "MKCALENDAR", "/dav/calendars/alice/bare", "", []string{"<C:calendar/>", "<comp name=\"VJOURNAL\"/>"}},
		{"plain MKCOL", "MKCOL", "/dav/addressbooks/alice/plain/", "", []string{"<D:resourcetype><D:collection/></D:resourcetype>"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := ts.do(t, "alice", tc.method, tc.path, tc.body, "Content-Type: text/xml")
			if rec.Code != 201 || rec.Body.Len() != 0 {
				t.Fatalf("%s: %d %s", tc.method, rec.Code, rec.Body)
			}
			// RFC 4791 section 5.3.1 and RFC 5689 section 3: MKCALENDAR or a
			// MKCOL with a body fails resource-must-be-null; a plain MKCOL
			// keeps 405 (RFC 4918 section 9.3.1).
			if tc.method == "MKCOL" && tc.body == "" {
				if rec := ts.do(t, "alice", tc.method, tc.path, tc.body); rec.Code != 405 {
					t.Fatalf("second %s: %d", tc.method, rec.Code)
				}
			} else {
				wantError(t, ts.do(t, "alice", tc.method, tc.path, tc.body), 403, "resource-must-be-null")
			}
			pf := `<propfind xmlns="DAV:"><allprop/><include><supported-calendar-component-set xmlns="urn:ietf:params:xml:ns:caldav"/></include></propfind>`
			d := parseMS(t, ts.do(t, "alice", "PROPFIND", tc.path, pf, "Depth: 0"))
			got := d.Responses[0].ok(t)
			if !strings.HasSuffix(d.Responses[0].Href, "/") {
				t.Errorf("href %s", d.Responses[0].Href)
			}
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("lacks %s in\n%s", w, got)
				}
			}
		})
	}
	// The new Apple task list enforces its component set.
	wantError(t, ts.do(t, "alice", "PUT", "/dav/calendars/alice/6B1A0F7E-1C2D-4E5F-8A9B-0C1D2E3F4A5B/e.ics", icsEvent), 403, "supported-calendar-component")
}

func TestMkcolRefusals(t *testing.T) {
	ts := newTestServer(t)
	tests := []struct {
		name, method, path, body string
		status                   int
		cond                     string
	}{
		{"calendar in address-book home", "MKCALENDAR", "/dav/addressbooks/alice/x/", "", 403, "calendar-collection-location-ok"},
		{"address book in calendar home", "MKCOL", "/dav/calendars/alice/x/", bodyDAVx5Mkcol, 403, "addressbook-collection-location-ok"},
		{"on a home", "MKCOL", "/dav/calendars/alice/", "", 405, ""},
		{"nested", "MKCOL", "/dav/calendars/alice/calendar/sub/", "", 403, ""},
		{"wrong body", "MKCOL", "/dav/calendars/alice/x/", bodyDAVx5Mkcalendar, 400, ""},
		{"malformed body", "MKCALENDAR", "/dav/calendars/alice/x/", "<C:mkcalendar", 400, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, ts.do(t, "alice", tc.method, tc.path, tc.body), tc.status, tc.cond)
		})
	}
	if cs, _ := ts.alice.Collections(t.Context(), "calendars"); len(cs) != 2 {
		t.Fatalf("a refused MKCOL created something: %d calendars", len(cs))
	}
}

func TestProppatch(t *testing.T) {
	ts := newTestServer(t)
	ctag := `<propfind xmlns="DAV:" xmlns:CS="http://calendarserver.org/ns/"><prop><CS:getctag/></prop></propfind>`
	before := parseMS(t, ts.do(t, "alice", "PROPFIND", calPath, ctag, "Depth: 0")).Responses[0].ok(t)
	rec := ts.do(t, "alice", "PROPPATCH", calPath, bodyAppleProppatch)
	d := parseMS(t, rec)
	r := d.resp(t, calPath)
	if len(r.Propstats) != 1 || !strings.Contains(r.ok(t), "<A:calendar-color/>") ||
		!strings.Contains(r.ok(t), "calendar-order") {
		t.Fatalf("PROPPATCH answer: %+v", r)
	}
	pf := `<propfind xmlns="DAV:" xmlns:A="http://apple.com/ns/ical/" xmlns:CS="http://calendarserver.org/ns/"><prop><A:calendar-color/><A:calendar-order/><CS:getctag/></prop></propfind>`
	got := parseMS(t, ts.do(t, "alice", "PROPFIND", calPath, pf, "Depth: 0")).Responses[0].ok(t)
	for _, w := range []string{`<calendar-color xmlns="http://apple.com/ns/ical/" symbolic-color="orange">#FD8208FF</calendar-color>`,
		`<calendar-order xmlns="http://apple.com/ns/ical/">1</calendar-order>`, "</CS:getctag>"} {
		if !strings.Contains(got, w) {
			t.Errorf("lacks %s in %s", w, got)
		}
	}
	if after := parseMS(t, ts.do(t, "alice", "PROPFIND", calPath, ctag, "Depth: 0")).Responses[0].ok(t); after == before {
		t.Errorf("getctag did not move with a property change: %s", after)
	}

	// Remove displayname; set a dead property with a foreign namespace and
	// an xml:lang attribute.
	body := `<D:propertyupdate xmlns:D="DAV:" xmlns:X="urn:example:x"><D:remove><D:prop><D:displayname/></D:prop></D:remove><D:set><D:prop><X:note xml:lang="de" X:kind="a">Grüße &lt;3<X:sub/></X:note></D:prop></D:set></D:propertyupdate>`
	parseMS(t, ts.do(t, "alice", "PROPPATCH", calPath, body)).resp(t, calPath).ok(t)
	pf = `<propfind xmlns="DAV:"><prop><displayname/><note xmlns="urn:example:x"/></prop></propfind>`
	r = parseMS(t, ts.do(t, "alice", "PROPFIND", calPath, pf, "Depth: 0")).Responses[0]
	if got := r.ok(t); !strings.Contains(got, `<note xmlns="urn:example:x" xml:lang="de" xmlns:a0="urn:example:x" a0:kind="a">Grüße &lt;3<sub/></note>`) {
		t.Fatalf("dead property: %s", got)
	}
	if !strings.Contains(r.missing(), "displayname") {
		t.Fatalf("displayname not removed: %+v", r)
	}

	// Atomicity: a protected property fails the whole update.
	body = `<propertyupdate xmlns="DAV:"><set><prop><displayname>New</displayname><getetag>"x"</getetag></prop></set></propertyupdate>`
	r = parseMS(t, ts.do(t, "alice", "PROPPATCH", calPath, body)).resp(t, calPath)
	if len(r.Propstats) != 2 || r.Propstats[0].Status != "HTTP/1.1 403 Forbidden" || r.Propstats[1].Status != "HTTP/1.1 424 Failed Dependency" {
		t.Fatalf("protected: %+v", r.Propstats)
	}
	r = parseMS(t, ts.do(t, "alice", "PROPFIND", calPath, `<propfind xmlns="DAV:"><prop><displayname/></prop></propfind>`, "Depth: 0")).Responses[0]
	if r.missing() == "" {
		t.Fatalf("displayname was set despite the failure: %+v", r)
	}

	wantError(t, ts.do(t, "alice", "PROPPATCH", calPath, `<propertyupdate xmlns="DAV:"/>`), 400, "")
}
