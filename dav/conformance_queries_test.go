package dav

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// Conformance of calendar and address-book queries (issue 17): literal
// REPORT bodies against the handler.

// calQuery is a calendar-query asking for getetag, with the filter's
// comp-filters inside the VCALENDAR one.
func calQuery(inner string) string {
	return `<?xml version="1.0" encoding="utf-8"?>
<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:prop><D:getetag/></D:prop>
  <C:filter>
    <C:comp-filter name="VCALENDAR">` + inner + `</C:comp-filter>
  </C:filter>
</C:calendar-query>`
}

// RFC 4791 sections 7.8, 9.7 and 9.9: a filter that cannot be evaluated
// gets 403 valid-filter, not an empty 207.
func TestConformanceValidFilter(t *testing.T) {
	ts := newTestServer(t)
	ts.do(t, "alice", "PUT", calPath+"ev1.ics", icsEvent)
	const tr = `<C:time-range start="20250101T000000Z" end="20260101T000000Z"/>`
	cases := []struct {
		name, body string
	}{
		{"time-range in prop-filter SUMMARY", calQuery(`<C:comp-filter name="VEVENT"><C:prop-filter name="SUMMARY">` + tr + `</C:prop-filter></C:comp-filter>`)},
		{"VEVENT in VEVENT", calQuery(`<C:comp-filter name="VEVENT"><C:comp-filter name="VEVENT"/></C:comp-filter>`)},
		{"VEVENT in VALARM", calQuery(`<C:comp-filter name="VEVENT"><C:comp-filter name="VALARM"><C:comp-filter name="VEVENT"/></C:comp-filter></C:comp-filter>`)},
		{"VALARM in VCALENDAR", calQuery(`<C:comp-filter name="VALARM">` + tr + `</C:comp-filter>`)},
		{"time-range on VCALENDAR", `<?xml version="1.0" encoding="utf-8"?>
<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:prop><D:getetag/></D:prop>
  <C:filter><C:comp-filter name="VCALENDAR">` + tr + `</C:comp-filter></C:filter>
</C:calendar-query>`},
		{"time-range on VTIMEZONE", calQuery(`<C:comp-filter name="VTIMEZONE">` + tr + `</C:comp-filter>`)},
		{"time-range on STANDARD", calQuery(`<C:comp-filter name="VTIMEZONE"><C:comp-filter name="STANDARD">` + tr + `</C:comp-filter></C:comp-filter>`)},
		{"time-range on an X- component", calQuery(`<C:comp-filter name="X-CUSTOM">` + tr + `</C:comp-filter>`)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, ts.do(t, "alice", "REPORT", calPath, tc.body, "Depth: 1"), 403, "<C:valid-filter")
		})
	}
	// The same shapes, well placed, still answer.
	d := parseMS(t, ts.do(t, "alice", "REPORT", calPath, calQuery(`<C:comp-filter name="VEVENT"><C:prop-filter name="DTSTART">`+tr+`</C:prop-filter></C:comp-filter>`), "Depth: 1"))
	if len(d.Responses) != 1 || !strings.HasSuffix(d.Responses[0].Href, "ev1.ics") {
		t.Fatalf("DTSTART time-range: %+v", d.Responses)
	}
}

// Apple's home PROPFIND for the properties of point 12 (clients.md 3.2 step 5).
const bodyHomeReportsAndToken = `<?xml version="1.0" encoding="UTF-8"?>
<A:propfind xmlns:A="DAV:"><A:prop><A:supported-report-set/><A:sync-token/></A:prop></A:propfind>`

// RFC 3253 section 3.1.5: a home advertises only the reports it answers
// (sync-collection, Q5), and RFC 6578 section 4: it has a DAV:sync-token,
// the one its sync-collection hands out.
func TestConformanceHomeReports(t *testing.T) {
	ts := newTestServer(t)
	for _, tc := range []struct {
		home      string
		put, body string   // an object written into one of the home's collections
		refused   []string // report bodies the home refuses, so must not advertise
	}{
		{"/dav/calendars/alice/", calPath + "ev1.ics", icsEvent, []string{
			calQuery(`<C:comp-filter name="VEVENT"/>`),
			`<C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/></D:prop><D:href>/dav/calendars/alice/calendar/x.ics</D:href></C:calendar-multiget>`,
			`<C:free-busy-query xmlns:C="urn:ietf:params:xml:ns:caldav"><C:time-range start="20250101T000000Z" end="20250102T000000Z"/></C:free-busy-query>`,
		}},
		{"/dav/addressbooks/alice/", bookPath + "card1.vcf", vcard3, []string{
			`<CR:addressbook-query xmlns:D="DAV:" xmlns:CR="urn:ietf:params:xml:ns:carddav"><D:prop><D:getetag/></D:prop><CR:filter/></CR:addressbook-query>`,
			fmt.Sprintf(bodyThunderbirdCardMultiget, "<D:href>"+bookPath+"x.vcf</D:href>"),
		}},
	} {
		t.Run(tc.home, func(t *testing.T) {
			got := parseMS(t, ts.do(t, "alice", "PROPFIND", tc.home, bodyHomeReportsAndToken, "Depth: 0")).resp(t, tc.home).ok(t)
			if !strings.Contains(got, "<D:sync-collection/>") {
				t.Errorf("Q5: no sync-collection in %s", got)
			}
			for _, r := range []string{"calendar-query", "calendar-multiget", "free-busy-query", "addressbook-query", "addressbook-multiget"} {
				if strings.Contains(got, r) {
					t.Errorf("advertises %s: %s", r, got)
				}
			}
			for _, body := range tc.refused {
				wantError(t, ts.do(t, "alice", "REPORT", tc.home, body, "Depth: 1"), 403, "<D:supported-report/>")
			}
			tok := regexp.MustCompile(`<D:sync-token>([^<]+)</D:sync-token>`).FindStringSubmatch(got)
			if tok == nil {
				t.Fatalf("no DAV:sync-token: %s", got)
			}
			d := parseMS(t, ts.do(t, "alice", "REPORT", tc.home, fmt.Sprintf(bodyAppleSync, ""), "Depth: 1"))
			if d.SyncToken != tok[1] {
				t.Errorf("sync-collection token %q, property %q", d.SyncToken, tok[1])
			}
			// The token answers after a change, with the collection changed.
			ts.do(t, "alice", "PUT", tc.put, tc.body)
			coll := tc.put[:strings.LastIndex(tc.put, "/")+1]
			again := parseMS(t, ts.do(t, "alice", "REPORT", tc.home, fmt.Sprintf(bodyAppleSync, d.SyncToken), "Depth: 1"))
			if len(again.Responses) != 1 || again.Responses[0].Href != coll || again.SyncToken == d.SyncToken {
				t.Errorf("after a PUT into %s: %+v", coll, again)
			}
		})
	}
}

// RFC 6578 section 3.2: a home token stays valid and reports what changed
// since; only a removed collection, which the home keeps no trace of,
// makes it invalid.
func TestConformanceHomeSyncToken(t *testing.T) {
	ts := newTestServer(t)
	const home = "/dav/calendars/alice/"
	sync := func(tok string) msDoc {
		t.Helper()
		return parseMS(t, ts.do(t, "alice", "REPORT", home, fmt.Sprintf(bodyAppleSync, tok), "Depth: 1"))
	}
	hrefsOf := func(d msDoc) string {
		var out []string
		for _, r := range d.Responses {
			out = append(out, r.Href)
		}
		return strings.Join(out, " ")
	}
	first := sync("")
	if len(first.Responses) != 2 {
		t.Fatalf("initial home sync: %+v", first.Responses)
	}
	steps := []struct {
		name, method, path, body string
		want                     string // hrefs reported against the previous token
	}{
		{"nothing changed", "", "", "", ""},
		{"an event in the calendar", "PUT", calPath + "ev1.ics", icsEvent, calPath},
		{"a property of the task list", "PROPPATCH", home + "tasks/", `<?xml version="1.0" encoding="UTF-8"?>
<A:propertyupdate xmlns:A="DAV:"><A:set><A:prop><A:displayname>Chores</A:displayname></A:prop></A:set></A:propertyupdate>`, home + "tasks/"},
		{"a new calendar", "MKCALENDAR", home + "work/", "", home + "work/"},
		{"an event deleted", "DELETE", calPath + "ev1.ics", "", calPath},
	}
	tok := first.SyncToken
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if st.method != "" {
				if rec := ts.do(t, "alice", st.method, st.path, st.body); rec.Code >= 300 {
					t.Fatalf("%s %s: %d %s", st.method, st.path, rec.Code, rec.Body)
				}
			}
			d := sync(tok)
			if got := hrefsOf(d); got != st.want {
				t.Errorf("reported %q, want %q", got, st.want)
			}
			if (st.want == "") != (d.SyncToken == tok) {
				t.Errorf("token %q after %q", d.SyncToken, tok)
			}
			// The token handed out stays valid: asked again, nothing changed.
			if again := sync(d.SyncToken); len(again.Responses) != 0 || again.SyncToken != d.SyncToken {
				t.Errorf("reuse: %+v", again)
			}
			tok = d.SyncToken
		})
	}
	// A removed collection cannot be reported: the token is refused, and
	// the client starts over.
	if rec := ts.do(t, "alice", "DELETE", home+"work/", ""); rec.Code != 204 {
		t.Fatalf("DELETE: %d", rec.Code)
	}
	wantError(t, ts.do(t, "alice", "REPORT", home, fmt.Sprintf(bodyAppleSync, tok), "Depth: 1"), 403, "<D:valid-sync-token/>")
	if d := sync(""); len(d.Responses) != 2 {
		t.Fatalf("home sync after the delete: %+v", d.Responses)
	}
	for _, bad := range []string{"http://coffer.invalid/ns/sync/1", "http://coffer.invalid/ns/sync/home/1/abc", "http://coffer.invalid/ns/sync/home/x/", "garbage"} {
		wantError(t, ts.do(t, "alice", "REPORT", home, fmt.Sprintf(bodyAppleSync, bad), "Depth: 1"), 403, "<D:valid-sync-token/>")
	}
}

// addrQuery is an addressbook-query for cards whose FN contains text.
func addrQuery(text string) string {
	return `<?xml version="1.0" encoding="utf-8"?>
<C:addressbook-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav">
  <D:prop><D:getetag/></D:prop>
  <C:filter><C:prop-filter name="FN"><C:text-match collation="i;unicode-casemap" match-type="contains">` + text + `</C:text-match></C:prop-filter></C:filter>
</C:addressbook-query>`
}

// RFC 4791 sections 7.8 and 7.9, RFC 6352 sections 8.6 and 8.7: queries
// and multigets on an object answer for that object alone, and objects
// list them in supported-report-set.
func TestConformanceObjectReports(t *testing.T) {
	ts := newTestServer(t)
	ev, other, card := calPath+"ev1.ics", calPath+"other.ics", bookPath+"card1.vcf"
	ts.do(t, "alice", "PUT", ev, icsEvent)
	ts.do(t, "alice", "PUT", other, icsOther)
	ts.do(t, "alice", "PUT", card, vcard3)
	ts.do(t, "alice", "PUT", bookPath+"card2.vcf", vcard4)
	inRange := calQuery(`<C:comp-filter name="VEVENT"><C:time-range start="20250301T000000Z" end="20250302T000000Z"/></C:comp-filter>`)
	outOfRange := calQuery(`<C:comp-filter name="VEVENT"><C:time-range start="20260101T000000Z"/></C:comp-filter>`)
	cases := []struct {
		name, path, body, depth string
		want                    []string // href: status of each response, in order
	}{
		{"calendar-query, matching", ev, inRange, "0", []string{ev + " 200"}},
		{"calendar-query, not matching", ev, outOfRange, "0", nil},
		{"calendar-query, Depth 1 is the same", ev, inRange, "1", []string{ev + " 200"}},
		{"calendar-query, the other event is left out", other, inRange, "0", nil},
		{"calendar-multiget of the object and a sibling", ev, fmt.Sprintf(bodyDAVx5CalMultiget, hrefs(ev, other)), "0", []string{ev + " 200", other + " 404"}},
		{"addressbook-query, matching", card, addrQuery("jane"), "0", []string{card + " 200"}},
		{"addressbook-query, not matching", card, addrQuery("john"), "0", nil},
		{"addressbook-multiget", card, fmt.Sprintf(bodyThunderbirdCardMultiget, "<D:href>"+card+"</D:href>"), "0", []string{card + " 200"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := parseMS(t, ts.do(t, "alice", "REPORT", tc.path, tc.body, "Depth: "+tc.depth))
			var got []string
			for _, r := range d.Responses {
				code, _, _ := strings.Cut(strings.TrimPrefix(r.Status, "HTTP/1.1 "), " ")
				if len(r.Propstats) > 0 {
					r.ok(t)
					code = "200"
				}
				got = append(got, r.Href+" "+code)
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("responses %v, want %v", got, tc.want)
			}
		})
	}
	// Reports that make no sense on an object stay refused.
	wantError(t, ts.do(t, "alice", "REPORT", ev, `<C:free-busy-query xmlns:C="urn:ietf:params:xml:ns:caldav"><C:time-range start="20250101T000000Z" end="20250102T000000Z"/></C:free-busy-query>`, "Depth: 0"), 403, "<D:supported-report/>")
	wantError(t, ts.do(t, "alice", "REPORT", ev, fmt.Sprintf(bodyDAVx5Sync, ""), "Depth: 0"), 403, "<D:supported-report/>")
	wantError(t, ts.do(t, "alice", "REPORT", card, inRange, "Depth: 0"), 403, "<D:supported-report/>")

	for _, tc := range []struct {
		path      string
		want, not []string
	}{
		{ev, []string{"<C:calendar-query/>", "<C:calendar-multiget/>"}, []string{"addressbook", "sync-collection", "free-busy"}},
		{card, []string{"<CR:addressbook-query/>", "<CR:addressbook-multiget/>"}, []string{"calendar", "sync-collection"}},
	} {
		got := parseMS(t, ts.do(t, "alice", "PROPFIND", tc.path, `<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:"><D:prop><D:supported-report-set/></D:prop></D:propfind>`, "Depth: 0")).resp(t, tc.path).ok(t)
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: supported-report-set lacks %s: %s", tc.path, w, got)
			}
		}
		for _, n := range tc.not {
			if strings.Contains(got, n) {
				t.Errorf("%s: supported-report-set has %s: %s", tc.path, n, got)
			}
		}
	}
}

// usEastern is the CALDAV:timezone of RFC 4791's examples, as clients
// send it: a VCALENDAR with the one VTIMEZONE, under a TZID that names no
// IANA zone, so that the definition itself must be read.
const usEastern = `BEGIN:VCALENDAR&#13;
PRODID:-//Example Corp.//CalDAV Client//EN&#13;
VERSION:2.0&#13;
BEGIN:VTIMEZONE&#13;
TZID:US-Eastern&#13;
LAST-MODIFIED:19870101T000000Z&#13;
BEGIN:STANDARD&#13;
DTSTART:19671029T020000&#13;
RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10&#13;
TZOFFSETFROM:-0400&#13;
TZOFFSETTO:-0500&#13;
TZNAME:Eastern Standard Time (US &amp; Canada)&#13;
END:STANDARD&#13;
BEGIN:DAYLIGHT&#13;
DTSTART:19870405T020000&#13;
RRULE:FREQ=YEARLY;BYDAY=1SU;BYMONTH=4&#13;
TZOFFSETFROM:-0500&#13;
TZOFFSETTO:-0400&#13;
TZNAME:Eastern Daylight Time (US &amp; Canada)&#13;
END:DAYLIGHT&#13;
END:VTIMEZONE&#13;
END:VCALENDAR&#13;
`

// RFC 4791 sections 7.3 and 9.8, RFC 7809 (timezone-id): the zone a
// calendar-query names is the one its floating times are read in; an
// invalid one is refused.
func TestConformanceQueryTimezone(t *testing.T) {
	ts := newTestServer(t)
	floating, fixed := calPath+"floating.ics", calPath+"utc.ics"
	ts.do(t, "alice", "PUT", floating, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:floating\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20270101T010000\r\nDTEND:20270101T020000\r\nSUMMARY:New year\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
	ts.do(t, "alice", "PUT", fixed, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:utc\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20270101T061500Z\r\nDTEND:20270101T064500Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
	query := func(zone string) string {
		return `<?xml version="1.0" encoding="utf-8"?>
<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:prop><D:getetag/></D:prop>
  <C:filter>
    <C:comp-filter name="VCALENDAR">
      <C:comp-filter name="VEVENT">
        <C:time-range start="20270101T060000Z" end="20270101T070000Z"/>
      </C:comp-filter>
    </C:comp-filter>
  </C:filter>
  ` + zone + `
</C:calendar-query>`
	}
	// The same query, asking for the data expanded: the floating instance
	// comes out in UTC as the query's zone places it.
	expand := strings.Replace(query(`<C:timezone>`+usEastern+`</C:timezone>`), "<D:getetag/>",
		`<D:getetag/><C:calendar-data><C:expand start="20270101T000000Z" end="20270102T000000Z"/></C:calendar-data>`, 1)
	cases := []struct {
		name, body string
		status     int
		want       string // hrefs, or the condition of the error
	}{
		{"no zone: the calendar's (UTC)", query(""), 207, fixed},
		{"CALDAV:timezone US-Eastern", query(`<C:timezone>` + usEastern + `</C:timezone>`), 207, floating + " " + fixed},
		{"CALDAV:timezone-id US/Eastern", query(`<C:timezone-id>US/Eastern</C:timezone-id>`), 207, floating + " " + fixed},
		{"CALDAV:timezone-id Asia/Tokyo", query(`<C:timezone-id>Asia/Tokyo</C:timezone-id>`), 207, fixed},
		{"expanded in the query's zone", expand, 207, floating + " " + fixed},
		{"CALDAV:timezone garbage", query(`<C:timezone>garbage</C:timezone>`), 403, "<C:valid-calendar-data"},
		{"CALDAV:timezone without a VTIMEZONE", query(`<C:timezone>BEGIN:VCALENDAR&#13;
VERSION:2.0&#13;
PRODID:x&#13;
END:VCALENDAR&#13;
</C:timezone>`), 403, "<C:valid-calendar-data"},
		{"CALDAV:timezone with an event", query(`<C:timezone>BEGIN:VCALENDAR&#13;
VERSION:2.0&#13;
PRODID:x&#13;
BEGIN:VEVENT&#13;
UID:x&#13;
DTSTAMP:20260101T000000Z&#13;
DTSTART:20270101T010000Z&#13;
END:VEVENT&#13;
END:VCALENDAR&#13;
</C:timezone>`), 403, "<C:valid-calendar-data"},
		{"CALDAV:timezone-id unknown", query(`<C:timezone-id>Mars/Olympus_Mons</C:timezone-id>`), 403, "<C:valid-timezone"},
		{"both elements", query(`<C:timezone>` + usEastern + `</C:timezone><C:timezone-id>US/Eastern</C:timezone-id>`), 400, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := ts.do(t, "alice", "REPORT", calPath, tc.body, "Depth: 1")
			if tc.status != 207 {
				wantError(t, rec, tc.status, tc.want)
				return
			}
			d := parseMS(t, rec)
			var got []string
			for _, r := range d.Responses {
				got = append(got, r.Href)
			}
			slices.Sort(got) // the order of a query's answer is the index's
			if strings.Join(got, " ") != tc.want {
				t.Errorf("hrefs %v, want %q", got, tc.want)
			}
			if tc.body == expand {
				if data := d.resp(t, floating).ok(t); !strings.Contains(data, "DTSTART:20270101T060000Z") {
					t.Errorf("expanded floating instance not at 06:00Z: %s", data)
				}
			}
		})
	}
}
