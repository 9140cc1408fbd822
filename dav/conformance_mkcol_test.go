package dav

import (
	"encoding/xml"
	"fmt"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

// mkcolResp is a parsed mkcol-response (RFC 5689 section 5.2) or
// mkcalendar-response (RFC 4791 section 9.3).
type mkcolResp struct {
	XMLName   xml.Name
	Propstats []struct {
		Prop   msProp `xml:"DAV: prop"`
		Status string `xml:"DAV: status"`
		Error  struct {
			Inner string `xml:",innerxml"`
		} `xml:"DAV: error"`
	} `xml:"DAV: propstat"`
}

// wantPropFailure checks a failed MKCALENDAR or extended MKCOL: 403 with a
// body of root holding, per property, the status wanted ("403 cond" or
// "424"), and nothing else.
func wantPropFailure(t *testing.T, rec *httptest.ResponseRecorder, root string, want map[string]string) {
	t.Helper()
	if rec.Code != 403 || rec.Header().Get("Content-Type") != "application/xml; charset=utf-8" {
		t.Fatalf("status %d %q, want 403 XML; body:\n%s", rec.Code, rec.Header().Get("Content-Type"), rec.Body)
	}
	var r mkcolResp
	if err := xml.Unmarshal(rec.Body.Bytes(), &r); err != nil {
		t.Fatalf("body: %v\n%s", err, rec.Body)
	}
	space, local, _ := strings.Cut(root, " ")
	if r.XMLName != (xml.Name{Space: space, Local: local}) {
		t.Fatalf("root %v, want %s:\n%s", r.XMLName, root, rec.Body)
	}
	got := map[string]string{}
	for _, ps := range r.Propstats {
		var d struct {
			Kids []struct{ XMLName xml.Name } `xml:",any"`
		}
		if err := xml.Unmarshal([]byte("<p>"+ps.Prop.Inner+"</p>"), &d); err != nil {
			t.Fatal(err)
		}
		status := strings.TrimPrefix(ps.Status, "HTTP/1.1 ")
		status, _, _ = strings.Cut(status, " ")
		var cond struct {
			Kids []struct{ XMLName xml.Name } `xml:",any"`
		}
		if err := xml.Unmarshal([]byte("<e>"+ps.Error.Inner+"</e>"), &cond); err != nil {
			t.Fatal(err)
		}
		if len(cond.Kids) == 1 {
			status += " " + cond.Kids[0].XMLName.Local
		}
		for _, k := range d.Kids {
			if _, dup := got[k.XMLName.Local]; dup {
				t.Errorf("%s named twice", k.XMLName.Local)
			}
			got[k.XMLName.Local] = status
		}
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %q, want %q", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("propstats name %v, want %v", got, want)
	}
}

// Point 2 of issue 17: calendar-timezone must be an iCalendar object with
// exactly one complete VTIMEZONE (RFC 4791 section 5.2.2).
func TestConformanceCalendarTimezone(t *testing.T) {
	const (
		wrap   = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\n%sEND:VCALENDAR\r\n"
		std    = "BEGIN:STANDARD\r\nDTSTART:19701025T030000\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nEND:STANDARD\r\n"
		vienna = "BEGIN:VTIMEZONE\r\nTZID:Europe/Vienna\r\n" + std + "END:VTIMEZONE\r\n"
		event  = "BEGIN:VEVENT\r\nUID:x\r\nDTSTAMP:20250101T000000Z\r\nDTSTART:20250101T000000Z\r\nEND:VEVENT\r\n"
	)
	cal := func(inner string) string { return strings.Replace(wrap, "%s", inner, 1) }
	bad := []struct{ name, value string }{
		{"garbage", "garbage"},
		{"empty", ""},
		{"no VTIMEZONE", cal("")},
		{"two VTIMEZONEs", cal(vienna + strings.Replace(vienna, "Vienna", "Berlin", 1))},
		{"an event besides", cal(vienna + event)},
		{"no observance", cal("BEGIN:VTIMEZONE\r\nTZID:Europe/Vienna\r\nEND:VTIMEZONE\r\n")},
		{"no TZID", cal("BEGIN:VTIMEZONE\r\n" + std + "END:VTIMEZONE\r\n")},
		{"no TZOFFSETTO", cal("BEGIN:VTIMEZONE\r\nTZID:X\r\nBEGIN:DAYLIGHT\r\nDTSTART:19700329T020000\r\nTZOFFSETFROM:+0100\r\nEND:DAYLIGHT\r\nEND:VTIMEZONE\r\n")},
		{"UTC DTSTART", cal("BEGIN:VTIMEZONE\r\nTZID:X\r\n" + strings.Replace(std, "030000", "030000Z", 1) + "END:VTIMEZONE\r\n")},
		{"bad offset", cal("BEGIN:VTIMEZONE\r\nTZID:X\r\n" + strings.Replace(std, "+0100", "+01", 1) + "END:VTIMEZONE\r\n")},
		{"two VCALENDARs", cal(vienna) + cal(vienna)},
	}
	ts := newTestServer(t)
	pfTZ := `<propfind xmlns="DAV:"><prop><calendar-timezone xmlns="urn:ietf:params:xml:ns:caldav"/><displayname/></prop></propfind>`
	before := parseMS(t, ts.do(t, "alice", "PROPFIND", calPath, pfTZ, "Depth: 0")).Responses[0].ok(t)
	for _, tc := range bad {
		value := escapeString(tc.value)
		t.Run("PROPPATCH "+tc.name, func(t *testing.T) {
			// Apple's first-poll PROPPATCH (clients.md 3.2 step 6), with the value.
			body := `<?xml version="1.0" encoding="UTF-8"?>
<A:propertyupdate xmlns:A="DAV:"><A:set><A:prop><A:displayname>Personal</A:displayname><B:calendar-timezone xmlns:B="urn:ietf:params:xml:ns:caldav">` + value + `</B:calendar-timezone></A:prop></A:set></A:propertyupdate>`
			r := parseMS(t, ts.do(t, "alice", "PROPPATCH", calPath, body)).resp(t, calPath)
			if len(r.Propstats) != 2 || r.Propstats[0].Status != "HTTP/1.1 403 Forbidden" ||
				!strings.Contains(r.Propstats[0].Prop.Inner, "calendar-timezone") ||
				r.Propstats[1].Status != "HTTP/1.1 424 Failed Dependency" || !strings.Contains(r.Propstats[1].Prop.Inner, "displayname") {
				t.Fatalf("PROPPATCH answer: %+v", r.Propstats)
			}
			rec := ts.do(t, "alice", "PROPPATCH", calPath, body)
			if !strings.Contains(rec.Body.String(), "<D:error><C:valid-calendar-data/></D:error>") {
				t.Fatalf("no valid-calendar-data: %s", rec.Body)
			}
			if after := parseMS(t, ts.do(t, "alice", "PROPFIND", calPath, pfTZ, "Depth: 0")).Responses[0].ok(t); after != before {
				t.Fatalf("a refused PROPPATCH changed the calendar:\n%s\n%s", before, after)
			}
		})
		t.Run("MKCALENDAR "+tc.name, func(t *testing.T) {
			path := "/dav/calendars/alice/tz-refused/"
			body := `<?xml version='1.0' encoding='UTF-8' ?><CAL:mkcalendar xmlns="DAV:" xmlns:CAL="urn:ietf:params:xml:ns:caldav"><set><prop><displayname>Work</displayname><CAL:calendar-timezone>` + value + `</CAL:calendar-timezone></prop></set></CAL:mkcalendar>`
			wantPropFailure(t, ts.do(t, "alice", "MKCALENDAR", path, body, "Content-Type: application/xml; charset=UTF-8"),
				nsCalDAV+" mkcalendar-response", map[string]string{"calendar-timezone": "403 valid-calendar-data", "displayname": "424"})
			if rec := ts.do(t, "alice", "PROPFIND", path, pfTZ, "Depth: 0"); rec.Code != 404 {
				t.Fatalf("a refused MKCALENDAR created the calendar: %d", rec.Code)
			}
		})
		t.Run("extended MKCOL "+tc.name, func(t *testing.T) {
			path := "/dav/calendars/alice/tz-refused/"
			body := `<D:mkcol xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop><D:resourcetype><D:collection/><C:calendar/></D:resourcetype><C:calendar-timezone>` + value + `</C:calendar-timezone></D:prop></D:set></D:mkcol>`
			wantPropFailure(t, ts.do(t, "alice", "MKCOL", path, body, "Content-Type: application/xml"),
				"DAV: mkcol-response", map[string]string{"calendar-timezone": "403 valid-calendar-data", "resourcetype": "424"})
			if rec := ts.do(t, "alice", "PROPFIND", path, pfTZ, "Depth: 0"); rec.Code != 404 {
				t.Fatalf("a refused MKCOL created the calendar: %d", rec.Code)
			}
		})
	}

	// What the clients send is accepted, and stored as sent.
	good := []struct{ name, method, path, body, want string }{
		{"DAVx5 MKCALENDAR", "MKCALENDAR", "/dav/calendars/alice/davx5/", bodyDAVx5Mkcalendar, "TZURL:https://www.tzurl.org/zoneinfo-outlook/Europe/Vienna"},
		{"Apple MKCALENDAR", "MKCALENDAR", "/dav/calendars/alice/apple/", bodyAppleMkcalendar, "TZNAME:CEST&#13;\nTZOFFSETTO:+0200&#13;"},
		// RFC 4791 section 5.3.1.2, the example (the RFC indents the
		// iCalendar lines for print only): CDATA, and a TZID of its own.
		{"RFC 4791 MKCALENDAR", "MKCALENDAR", "/dav/calendars/alice/events/", `<?xml version="1.0" encoding="utf-8" ?>
   <C:mkcalendar xmlns:D="DAV:"
                 xmlns:C="urn:ietf:params:xml:ns:caldav">
     <D:set>
       <D:prop>
         <D:displayname>Lisa's Events</D:displayname>
         <C:calendar-description xml:lang="en"
   >Calendar restricted to events.</C:calendar-description>
         <C:supported-calendar-component-set>
           <C:comp name="VEVENT"/>
         </C:supported-calendar-component-set>
         <C:calendar-timezone><![CDATA[BEGIN:VCALENDAR
PRODID:-//Example Corp.//CalDAV Client//EN
VERSION:2.0
BEGIN:VTIMEZONE
TZID:US-Eastern
LAST-MODIFIED:19870101T000000Z
BEGIN:STANDARD
DTSTART:19671029T020000
RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10
TZOFFSETFROM:-0400
TZOFFSETTO:-0500
TZNAME:Eastern Standard Time (US & Canada)
END:STANDARD
BEGIN:DAYLIGHT
DTSTART:19870405T020000
RRULE:FREQ=YEARLY;BYDAY=1SU;BYMONTH=4
TZOFFSETFROM:-0500
TZOFFSETTO:-0400
TZNAME:Eastern Daylight Time (US & Canada)
END:DAYLIGHT
END:VTIMEZONE
END:VCALENDAR
]]></C:calendar-timezone>
       </D:prop>
     </D:set>
   </C:mkcalendar>`, "TZID:US-Eastern"},
		{"PROPPATCH indented", "PROPPATCH", calPath, `<propertyupdate xmlns="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><set><prop><C:calendar-timezone>
      ` + escapeString(cal(vienna)) + `
    </C:calendar-timezone></prop></set></propertyupdate>`, "TZID:Europe/Vienna"},
		{"custom TZID", "PROPPATCH", calPath, `<propertyupdate xmlns="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><set><prop><C:calendar-timezone>` +
			escapeString(cal(strings.Replace(vienna, "Europe/Vienna", "Customized Time Zone", 1))) + `</C:calendar-timezone></prop></set></propertyupdate>`, "TZID:Customized Time Zone"},
	}
	for _, tc := range good {
		t.Run(tc.name, func(t *testing.T) {
			rec := ts.do(t, "alice", tc.method, tc.path, tc.body, "Content-Type: text/xml")
			if tc.method == "PROPPATCH" {
				parseMS(t, rec).resp(t, tc.path).ok(t)
			} else if rec.Code != 201 {
				t.Fatalf("%s: %d %s", tc.method, rec.Code, rec.Body)
			}
			got := parseMS(t, ts.do(t, "alice", "PROPFIND", tc.path, pfTZ, "Depth: 0")).Responses[0].ok(t)
			if !strings.Contains(got, tc.want) {
				t.Fatalf("stored calendar-timezone lacks %q:\n%s", tc.want, got)
			}
		})
	}
}

// Point 5 of issue 17: MKCALENDAR and extended MKCOL on an existing
// resource fail with 403 resource-must-be-null (RFC 4791 section 5.3.1,
// RFC 5689 section 3); a plain MKCOL keeps 405 (RFC 4918 section 9.3.1,
// litmus mkcol_again and mkcol_over_plain).
func TestConformanceMkcolExisting(t *testing.T) {
	ts := newTestServer(t)
	if rec := ts.do(t, "alice", "PUT", "/dav/calendars/alice/calendar/e.ics", icsEvent); rec.Code != 201 {
		t.Fatalf("PUT: %d", rec.Code)
	}
	if rec := ts.do(t, "alice", "MKCOL", "/dav/addressbooks/alice/plain/", ""); rec.Code != 201 {
		t.Fatalf("MKCOL: %d", rec.Code)
	}
	if rec := ts.do(t, "alice", "PUT", "/dav/addressbooks/alice/plain/file", "x", "Content-Type: text/plain"); rec.Code != 201 {
		t.Fatalf("PUT: %d", rec.Code)
	}
	const (
		mkcalendar = `<?xml version="1.0" encoding="utf-8" ?><C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop><D:displayname>Lisa's Events</D:displayname></D:prop></D:set></C:mkcalendar>`
		mkcolCal   = `<?xml version="1.0" encoding="utf-8" ?><D:mkcol xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop><D:resourcetype><D:collection/><C:calendar/></D:resourcetype><D:displayname>Lisa's Events</D:displayname></D:prop></D:set></D:mkcol>`
		mkcolPlain = `<?xml version="1.0" encoding="utf-8" ?><D:mkcol xmlns:D="DAV:"><D:set><D:prop><D:displayname>Folder</D:displayname></D:prop></D:set></D:mkcol>`
	)
	tests := []struct {
		name, method, path, body string
		status                   int
	}{
		{"MKCALENDAR on a calendar", "MKCALENDAR", "/dav/calendars/alice/calendar/", mkcalendar, 403},
		{"MKCALENDAR without body on a calendar", "MKCALENDAR", "/dav/calendars/alice/tasks/", "", 403},
		{"MKCALENDAR without slash", "MKCALENDAR", "/dav/calendars/alice/calendar", mkcalendar, 403},
		{"MKCALENDAR on an object", "MKCALENDAR", "/dav/calendars/alice/calendar/e.ics", mkcalendar, 403},
		{"MKCALENDAR on the home", "MKCALENDAR", "/dav/calendars/alice/", mkcalendar, 403},
		{"DAVx5 MKCALENDAR on a calendar", "MKCALENDAR", "/dav/calendars/alice/calendar/", bodyDAVx5Mkcalendar, 403},
		{"extended MKCOL on a calendar", "MKCOL", "/dav/calendars/alice/calendar/", mkcolCal, 403},
		{"DAVx5 extended MKCOL on an address book", "MKCOL", "/dav/addressbooks/alice/contacts/", bodyDAVx5Mkcol, 403},
		{"extended MKCOL on a plain collection", "MKCOL", "/dav/addressbooks/alice/plain/", mkcolPlain, 403},
		{"extended MKCOL on a nested object", "MKCOL", "/dav/addressbooks/alice/plain/file/", mkcolPlain, 403},
		{"plain MKCOL on a collection", "MKCOL", "/dav/addressbooks/alice/plain/", "", 405},
		{"plain MKCOL on a nested object", "MKCOL", "/dav/addressbooks/alice/plain/file", "", 405},
		{"plain MKCOL on a calendar", "MKCOL", "/dav/calendars/alice/calendar/", "", 405},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := ts.do(t, "alice", tc.method, tc.path, tc.body, "Content-Type: application/xml; charset=\"utf-8\"")
			if tc.status == 403 {
				wantError(t, rec, 403, "<D:resource-must-be-null/>")
			} else if rec.Code != tc.status {
				t.Fatalf("status %d, want %d", rec.Code, tc.status)
			}
		})
	}
	// Nothing was changed: the calendar keeps its name and its event.
	got := parseMS(t, ts.do(t, "alice", "PROPFIND", calPath, `<propfind xmlns="DAV:"><prop><displayname/></prop></propfind>`, "Depth: 1"))
	if len(got.Responses) != 2 || !strings.Contains(got.resp(t, calPath).ok(t), ">Calendar<") {
		t.Fatalf("the calendar changed: %+v", got.Responses)
	}
}

// Point 6 of issue 17: MKCALENDAR and extended MKCOL set every property or
// create nothing (RFC 4791 section 5.3.1, RFC 5689 section 3): 403 for
// each property that cannot be set, 424 for the others.
func TestConformanceMkcolAtomic(t *testing.T) {
	ts := newTestServer(t)
	tests := []struct {
		name, method, path, body, root string
		want                           map[string]string
	}{
		{"MKCALENDAR with getetag", "MKCALENDAR", "/dav/calendars/alice/atomic/",
			`<?xml version="1.0" encoding="utf-8" ?><C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop><D:displayname>Lisa's Events</D:displayname><D:getetag>"x"</D:getetag><C:calendar-description>d</C:calendar-description></D:prop></D:set></C:mkcalendar>`,
			nsCalDAV + " mkcalendar-response", map[string]string{"getetag": "403 cannot-modify-protected-property", "displayname": "424", "calendar-description": "424"}},
		{"DAVx5 MKCALENDAR with sync-token", "MKCALENDAR", "/dav/calendars/alice/atomic/",
			strings.Replace(bodyDAVx5Mkcalendar, "<displayname>Work</displayname>", "<displayname>Work</displayname><sync-token>urn:x</sync-token>", 1),
			nsCalDAV + " mkcalendar-response", map[string]string{"sync-token": "403 cannot-modify-protected-property", "resourcetype": "424", "displayname": "424",
				"calendar-description": "424", "calendar-color": "424", "calendar-timezone-id": "424", "calendar-timezone": "424", "supported-calendar-component-set": "424"}},
		{"MKCALENDAR with getetag and a bad time zone", "MKCALENDAR", "/dav/calendars/alice/atomic/",
			`<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop><D:getetag>"x"</D:getetag></D:prop></D:set><D:set><D:prop><C:calendar-timezone>garbage</C:calendar-timezone><D:displayname>a</D:displayname></D:prop></D:set></C:mkcalendar>`,
			nsCalDAV + " mkcalendar-response", map[string]string{"getetag": "403 cannot-modify-protected-property", "calendar-timezone": "403 valid-calendar-data", "displayname": "424"}},
		{"MKCALENDAR of an address book", "MKCALENDAR", "/dav/calendars/alice/atomic/",
			`<C:mkcalendar xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns:D="DAV:" xmlns:R="urn:ietf:params:xml:ns:carddav"><D:set><D:prop><D:resourcetype><D:collection/><R:addressbook/></D:resourcetype></D:prop></D:set></C:mkcalendar>`,
			nsCalDAV + " mkcalendar-response", map[string]string{"resourcetype": "403 valid-resourcetype"}},
		// RFC 5689 section 3.5, the example as written.
		{"extended MKCOL of an unknown type", "MKCOL", "/dav/calendars/alice/atomic/",
			`<?xml version="1.0" encoding="utf-8" ?>
   <D:mkcol xmlns:D="DAV:"
                 xmlns:E="http://example.com/ns/">
     <D:set>
       <D:prop>
         <D:resourcetype>
           <D:collection/>
           <E:special-resource/>
         </D:resourcetype>
         <D:displayname>Special Resource</D:displayname>
       </D:prop>
     </D:set>
   </D:mkcol>`,
			"DAV: mkcol-response", map[string]string{"resourcetype": "403 valid-resourcetype", "displayname": "424"}},
		{"DAVx5 address book with getlastmodified", "MKCOL", "/dav/addressbooks/alice/atomic/",
			strings.Replace(bodyDAVx5Mkcol, "<displayname>Friends</displayname>", "<displayname>Friends</displayname><getlastmodified>Mon, 01 Jan 2024 00:00:00 GMT</getlastmodified>", 1),
			"DAV: mkcol-response", map[string]string{"getlastmodified": "403 cannot-modify-protected-property", "resourcetype": "424", "displayname": "424", "addressbook-description": "424"}},
		{"address book with a component set", "MKCOL", "/dav/addressbooks/alice/atomic/",
			`<mkcol xmlns="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns:R="urn:ietf:params:xml:ns:carddav"><set><prop><resourcetype><collection/><R:addressbook/></resourcetype><C:supported-calendar-component-set><C:comp name="VEVENT"/></C:supported-calendar-component-set></prop></set></mkcol>`,
			"DAV: mkcol-response", map[string]string{"supported-calendar-component-set": "403 cannot-modify-protected-property", "resourcetype": "424"}},
		{"plain collection with resourcetype after getcontenttype", "MKCOL", "/dav/addressbooks/alice/atomic/",
			`<mkcol xmlns="DAV:"><set><prop><getcontenttype>text/plain</getcontenttype></prop></set><set><prop><resourcetype><collection/></resourcetype></prop></set></mkcol>`,
			"DAV: mkcol-response", map[string]string{"getcontenttype": "403 cannot-modify-protected-property", "resourcetype": "424"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantPropFailure(t, ts.do(t, "alice", tc.method, tc.path, tc.body, "Content-Type: text/xml"), tc.root, tc.want)
			if rec := ts.do(t, "alice", "PROPFIND", tc.path, "", "Depth: 0"); rec.Code != 404 {
				t.Fatalf("a refused %s created the collection: %d", tc.method, rec.Code)
			}
		})
	}
	if cs, _ := ts.alice.Collections(t.Context(), "calendars"); len(cs) != 2 {
		t.Fatalf("a refused MKCALENDAR created something: %d calendars", len(cs))
	}
	if cs, _ := ts.alice.Collections(t.Context(), "addressbooks"); len(cs) != 1 {
		t.Fatalf("a refused MKCOL created something: %d address books", len(cs))
	}
}

// Point 7 of issue 17: the rules for a stored calendar object (RFC 4791
// sections 4.1 and 5.3.2.1) and time zones by reference (RFC 7809).
func TestConformanceCalendarObject(t *testing.T) {
	const head = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Example//EN\r\n"
	event := func(uid, extra string) string {
		return "BEGIN:VEVENT\r\nUID:" + uid + "\r\nDTSTAMP:20260101T000000Z\r\n" + extra + "END:VEVENT\r\n"
	}
	const nyZone = "BEGIN:VTIMEZONE\r\nTZID:Customized Time Zone\r\nBEGIN:STANDARD\r\nDTSTART:16010101T020000\r\nTZOFFSETFROM:-0400\r\nTZOFFSETTO:-0500\r\nRRULE:FREQ=YEARLY;BYDAY=1SU;BYMONTH=11\r\nEND:STANDARD\r\nBEGIN:DAYLIGHT\r\nDTSTART:16010101T020000\r\nTZOFFSETFROM:-0500\r\nTZOFFSETTO:-0400\r\nRRULE:FREQ=YEARLY;BYDAY=2SU;BYMONTH=3\r\nEND:DAYLIGHT\r\nEND:VTIMEZONE\r\n"
	tests := []struct {
		name, body string
		status     int
		cond       string
		zones      []string // VTIMEZONEs GET adds when the client sends no "CalDAV-Timezones: F"
	}{
		{"METHOD:PUBLISH", head + "METHOD:PUBLISH\r\n" + event("m1", "DTSTART:20270101T090000Z\r\n") + "END:VCALENDAR\r\n", 403, "valid-calendar-object-resource", nil},
		{"METHOD:REQUEST after the event", head + event("m2", "DTSTART:20270101T090000Z\r\n") + "METHOD:REQUEST\r\nEND:VCALENDAR\r\n", 403, "valid-calendar-object-resource", nil},
		{"IANA TZID without VTIMEZONE", head + event("tz1", "DTSTART;TZID=America/New_York:20270101T010000\r\n") + "END:VCALENDAR\r\n", 201, "", []string{"America/New_York"}},
		{"Windows TZID without VTIMEZONE", head + event("tz2", "DTSTART;TZID=\"W. Europe Standard Time\":20270101T010000\r\n") + "END:VCALENDAR\r\n", 201, "", []string{"W. Europe Standard Time"}},
		{"custom TZID with its VTIMEZONE", head + nyZone + event("tz3", "DTSTART;TZID=Customized Time Zone:20270101T010000\r\n") + "END:VCALENDAR\r\n", 201, "", nil},
		{"unknown TZID without VTIMEZONE", head + event("tz4", "DTSTART;TZID=Mars/Olympus_Mons:20270101T010000\r\n") + "END:VCALENDAR\r\n", 403, "valid-calendar-data", nil},
		{"unknown TZID in EXDATE", head + event("tz5", "DTSTART;TZID=Europe/Berlin:20270101T010000\r\nRRULE:FREQ=DAILY;COUNT=3\r\nEXDATE;TZID=Customized Time Zone:20270102T010000\r\n") + "END:VCALENDAR\r\n", 403, "valid-calendar-data", nil},
		{"unknown TZID in a VALARM", head + event("tz6", "DTSTART:20270101T010000Z\r\nBEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:x\r\nTRIGGER;VALUE=DATE-TIME;TZID=Nowhere:20261231T010000\r\nEND:VALARM\r\n") + "END:VCALENDAR\r\n", 403, "valid-calendar-data", nil},
		// RFC 5545 section 3.3.11 has no \" escape, but ical4j, which DAVx5
		// uses, wrote one before its issue #641, and libical, which
		// Evolution uses, did before its issue #74: accepted, stored as sent.
		{`escaped quote`, head + event("q1", "DTSTART:20270101T090000Z\r\nSUMMARY:Review of \\\"Phoenix\\\" design\r\nDESCRIPTION:say \\\"hi\\\"\\, then go\r\n") + "END:VCALENDAR\r\n", 201, "", nil},
	}
	ts := newTestServer(t)
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := calPath + "obj" + string(rune('a'+i)) + ".ics"
			rec := ts.do(t, "alice", "PUT", path, tc.body, "Content-Type: text/calendar; charset=utf-8")
			if tc.status != 201 {
				wantError(t, rec, tc.status, tc.cond)
				if rec := ts.do(t, "alice", "GET", path, ""); rec.Code != 404 {
					t.Fatalf("a refused PUT stored the object: %d", rec.Code)
				}
				return
			}
			if rec.Code != 201 {
				t.Fatalf("PUT: %d %s", rec.Code, rec.Body)
			}
			// RFC 7809 sections 3.1 and 7.1: with "CalDAV-Timezones: F" the
			// stored bytes; without, the missing zones are added before the
			// first component, every stored byte kept.
			if got := ts.do(t, "alice", "GET", path, "", "CalDAV-Timezones: F").Body.String(); got != tc.body {
				t.Fatalf("stored bytes differ:\n%q\n%q", got, tc.body)
			}
			rec = ts.do(t, "alice", "GET", path, "")
			got := rec.Body.String()
			if len(tc.zones) == 0 {
				if got != tc.body {
					t.Fatalf("GET changed an object that defines its zones:\n%q", got)
				}
				return
			}
			if !strings.HasPrefix(got, head+"BEGIN:VTIMEZONE\r\nTZID:"+tc.zones[0]+"\r\n") || !strings.HasSuffix(got, strings.TrimPrefix(tc.body, head)) ||
				strings.Count(got, "BEGIN:VTIMEZONE") != len(tc.zones) || rec.Header().Get("Content-Length") != strconv.Itoa(len(got)) {
				t.Fatalf("GET without CalDAV-Timezones:\n%s", got)
			}
			if _, _, err := validateCalendar(rec.Body.Bytes(), defaultComponents); err != nil {
				t.Fatalf("served data does not validate: %v", err)
			}
			// calendar-multiget too (RFC 7809 section 3.1).
			mg := fmt.Sprintf(bodyDAVx5CalMultiget, "<href>"+path+"</href>")
			if data := parseMS(t, ts.do(t, "alice", "REPORT", calPath, mg)).resp(t, path).ok(t); strings.Count(data, "BEGIN:VTIMEZONE") != len(tc.zones) {
				t.Fatalf("multiget without CalDAV-Timezones:\n%s", data)
			}
			if data := parseMS(t, ts.do(t, "alice", "REPORT", calPath, mg, "CalDAV-Timezones: F")).resp(t, path).ok(t); strings.Contains(data, "BEGIN:VTIMEZONE") {
				t.Fatalf("multiget with CalDAV-Timezones F:\n%s", data)
			}
		})
	}

	// calendar-no-timezone is advertised (RFC 7809 section 3.1.1) on the
	// calendar home and the calendars.
	for _, p := range []string{"/dav/calendars/alice/", calPath} {
		if dav := ts.do(t, "alice", "OPTIONS", p, "").Header().Get("DAV"); !strings.Contains(dav, ", calendar-no-timezone,") || !strings.HasPrefix(dav, "1, ") {
			t.Errorf("OPTIONS %s: DAV %q", p, dav)
		}
	}
	// The TZID without a VTIMEZONE is read from the server's zone data:
	// 01:00 in New York on 1 January 2027 is 06:00Z (RFC 7809 section 3.1).
	for _, tr := range []struct {
		rng  string
		want bool
	}{{`start="20270101T060000Z" end="20270101T063000Z"`, true}, {`start="20270101T010000Z" end="20270101T020000Z"`, false}} {
		body := `<?xml version="1.0" encoding="utf-8" ?><C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/></D:prop><C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:time-range ` + tr.rng + `/><C:prop-filter name="UID"><C:text-match>tz1</C:text-match></C:prop-filter></C:comp-filter></C:comp-filter></C:filter></C:calendar-query>`
		d := parseMS(t, ts.do(t, "alice", "REPORT", calPath, body, "Depth: 1"))
		if got := len(d.Responses) == 1; got != tr.want {
			t.Errorf("time-range %s: %d responses, want match %v", tr.rng, len(d.Responses), tr.want)
		}
	}
}
