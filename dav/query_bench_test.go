package dav

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/coffer-dav/coffer/dav/ical"
	"github.com/coffer-dav/coffer/storage"
)

// queryBody is DAVx5's event listing (clients.md 2.5.6) with a time-range.
const queryBody = `<?xml version="1.0" encoding="UTF-8"?><CAL:calendar-query xmlns="DAV:" xmlns:CAL="urn:ietf:params:xml:ns:caldav"><prop><getetag/></prop><CAL:filter><CAL:comp-filter name="VCALENDAR"><CAL:comp-filter name="VEVENT"><CAL:time-range %s/></CAL:comp-filter></CAL:comp-filter></CAL:filter></CAL:calendar-query>`

// berlinVTimezone is the VTIMEZONE that DAVx5 and iOS embed for Europe/Berlin.
const berlinVTimezone = "BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\n" +
	"BEGIN:DAYLIGHT\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nTZNAME:CEST\r\nDTSTART:19700329T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nEND:DAYLIGHT\r\n" +
	"BEGIN:STANDARD\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nTZNAME:CET\r\nDTSTART:19701025T030000\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nEND:STANDARD\r\n" +
	"END:VTIMEZONE\r\n"

// queryEvent returns the n-th event of the query fixture: events spread
// over three years from 2024, with every 7th one (about 15%) recurring
// weekly, some for ever, some for a count, some until a date. Four in five
// embed their VTIMEZONE, as DAVx5 and iOS write them; the others rely on
// the IANA name.
func queryEvent(n int) string {
	day := n % (3 * 365)
	month, dom := 1+(day/28)%12, 1+day%28
	year := 2024 + day/365
	rule := ""
	switch {
	case n%7 != 0:
	case n%3 == 0:
		rule = "RRULE:FREQ=WEEKLY\r\n"
	case n%3 == 1:
		rule = "RRULE:FREQ=WEEKLY;COUNT=20\r\n"
	default:
		rule = fmt.Sprintf("RRULE:FREQ=DAILY;INTERVAL=3;UNTIL=%04d1231T000000Z\r\n", year)
	}
	tz := berlinVTimezone
	if n%5 == 0 {
		tz = ""
	}
	return fmt.Sprintf("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bench//EN\r\n"+tz+"BEGIN:VEVENT\r\nUID:q-%d@example.org\r\nDTSTAMP:20240101T000000Z\r\n"+
		"DTSTART;TZID=Europe/Berlin:%04d%02d%02dT%02d0000\r\nDTEND;TZID=Europe/Berlin:%04d%02d%02dT%02d3000\r\n%sSUMMARY:Event %d\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
		n, year, month, dom, 8+n%10, year, month, dom, 8+n%10, rule, n)
}

// newQueryFixture fills alice's calendar with size events, indexed as PUT indexes them.
func newQueryFixture(tb testing.TB, size int) *testServer {
	ts := newTestServer(tb)
	ctx := context.Background()
	cal, err := ts.alice.Collection(ctx, storage.HomeCalendars, "calendar")
	if err != nil {
		tb.Fatal(err)
	}
	for i := 0; i < size; i++ {
		body := []byte(queryEvent(i))
		obj, err := ical.Parse(body)
		if err != nil {
			tb.Fatal(err)
		}
		index, err := calendarIndex(obj, cal, ical.Options{})
		if err != nil {
			tb.Fatal(err)
		}
		_, err = ts.alice.PutObject(ctx, cal.ID, storage.PutOptions{Name: fmt.Sprintf("q-%d.ics", i), UID: fmt.Sprintf("q-%d@example.org", i),
			ContentType: calendarContentType, Body: body, Index: index})
		if err != nil {
			tb.Fatal(err)
		}
	}
	return ts
}

// BenchmarkCalendarQuery measures calendar-query over 10,000 events, 15%
// recurring: a one-month range, and a start-only range as DAVx5 sends it.
func BenchmarkCalendarQuery(b *testing.B) {
	ts := newQueryFixture(b, 10000)
	for _, tc := range []struct{ name, rng string }{
		{"one-month", `start="20250601T000000Z" end="20250701T000000Z"`},
		{"start-only", `start="20260801T000000Z"`},
	} {
		b.Run(tc.name, func(b *testing.B) {
			body := fmt.Sprintf(queryBody, tc.rng)
			var n int
			for i := 0; i < b.N; i++ {
				rec := ts.do(b, "alice", "REPORT", calPath, body, "Depth: 1")
				if rec.Code != 207 {
					b.Fatalf("%d %s", rec.Code, rec.Body)
				}
				n = strings.Count(rec.Body.String(), "<D:response>")
			}
			b.ReportMetric(float64(n), "matches")
		})
	}
}

// TestCalendarQueryAgreesWithFullEvaluation checks, on a smaller fixture,
// that the index never hides an event that the full evaluation matches.
func TestCalendarQueryAgreesWithFullEvaluation(t *testing.T) {
	ts := newQueryFixture(t, 400)
	// Every range matches something, and the edge cases name the event
	// that starts or ends exactly on an edge: q-1 is 08:00 to 08:30 UTC on
	// 2 January 2024, q-0 starts at 07:00 UTC on 1 January.
	for _, tt := range []struct{ rng, with, without string }{
		{`start="20250601T000000Z" end="20250701T000000Z"`, "", ""},
		{`start="20260801T000000Z"`, "", ""},
		{`end="20240115T000000Z"`, "q-1.ics", ""},
		{`start="20240102T080000Z"`, "q-1.ics", ""},
		{`start="20240102T083000Z" end="20240103T091500Z"`, "q-2.ics", "q-1.ics"},
		{`start="20240101T070000Z" end="20240102T080000Z"`, "q-0.ics", "q-1.ics"},
	} {
		rng := tt.rng
		indexed := hrefSet(parseMS(t, ts.do(t, "alice", "REPORT", calPath, fmt.Sprintf(queryBody, rng), "Depth: 1")))
		// The same query on a calendar whose objects carry no index entries.
		plain := newTestServer(t)
		ctx := context.Background()
		cal, _ := plain.alice.Collection(ctx, storage.HomeCalendars, "calendar")
		for i := 0; i < 400; i++ {
			if _, err := plain.alice.PutObject(ctx, cal.ID, storage.PutOptions{Name: fmt.Sprintf("q-%d.ics", i), Body: []byte(queryEvent(i))}); err != nil {
				t.Fatal(err)
			}
		}
		full := hrefSet(parseMS(t, plain.do(t, "alice", "REPORT", calPath, fmt.Sprintf(queryBody, rng), "Depth: 1")))
		if indexed != full {
			t.Fatalf("%s: indexed query %q, full evaluation %q", rng, indexed, full)
		}
		if indexed == "" {
			t.Fatalf("%s matches nothing: the case compares nothing", rng)
		}
		if has := func(name string) bool { return strings.Contains(" "+indexed+" ", "/"+name+" ") }; (tt.with != "" && !has(tt.with)) || (tt.without != "" && has(tt.without)) {
			t.Fatalf("%s: %d matched, want %q among them and %q not", rng, strings.Count(indexed, " ")+1, tt.with, tt.without)
		}
	}
}

// hrefSet returns the sorted hrefs of a multistatus, joined.
func hrefSet(d msDoc) string {
	var out []string
	for _, r := range d.Responses {
		out = append(out, r.Href)
	}
	return strings.Join(sortedCopy(out), " ")
}

func sortedCopy(s []string) []string {
	c := append([]string(nil), s...)
	for i := 1; i < len(c); i++ {
		for j := i; j > 0 && c[j] < c[j-1]; j-- {
			c[j], c[j-1] = c[j-1], c[j]
		}
	}
	return c
}
