package dav

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// bigSeries returns an event from 2025-03-01 09:00 UTC with rule as its
// RRULE (none when empty), rdates daily RDATEs from June on, and overrides
// of the daily instances after those, as one object.
func bigSeries(uid, rule string, rdates, overrides int) string {
	var b strings.Builder
	start := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	day := func(i int) string { return start.AddDate(0, 0, i).Format("20060102T150405Z") }
	b.WriteString("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//EN\r\nBEGIN:VEVENT\r\nUID:" + uid + "\r\nDTSTAMP:20250101T000000Z\r\nDTSTART:" + day(0) + "\r\nDURATION:PT1H\r\nSUMMARY:Series\r\n")
	if rule != "" {
		b.WriteString("RRULE:" + rule + "\r\n")
	}
	for i := 1; i <= rdates; i++ {
		b.WriteString("RDATE:" + day(100+i) + "\r\n")
	}
	b.WriteString("END:VEVENT\r\n")
	for i := 1; i <= overrides; i++ {
		fmt.Fprintf(&b, "BEGIN:VEVENT\r\nUID:%s\r\nDTSTAMP:20250101T000000Z\r\nRECURRENCE-ID:%s\r\nDTSTART:%s\r\nDURATION:PT2H\r\nSUMMARY:Moved %d\r\nEND:VEVENT\r\n", uid, day(100+rdates+i), day(100+rdates+i), i)
	}
	b.WriteString("END:VCALENDAR\r\n")
	return b.String()
}

// marchQuery is a calendar-query of most of March 2025, as DAVx5 lists a
// calendar, with or without the calendar data. It misses the first
// instance of bigSeries, so that the RDATEs and overrides are all walked.
func marchQuery(data bool) string {
	prop := "<D:getetag/>"
	if data {
		prop += "<C:calendar-data/>"
	}
	return `<?xml version="1.0" encoding="utf-8"?><C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop>` + prop +
		`</D:prop><C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:time-range start="20250305T000000Z" end="20250401T000000Z"/></C:comp-filter></C:comp-filter></C:filter></C:calendar-query>`
}

// TestPutRecurrenceSize: PUT refuses, with 403 max-instances, an object
// that every time-range query would refuse: its RDATEs, overrides and the
// instances walked for its index count towards the one instance cap
// (default 10,000), for COPY and MOVE into a calendar too. What stays
// within it is stored and queried.
func TestPutRecurrenceSize(t *testing.T) {
	ts := newTestServer(t)
	tests := []struct {
		name   string
		body   string
		status int
	}{
		{"30,000 RDATEs", bigSeries("rdates", "", 30000, 0), 403},
		{"20,000 overrides", bigSeries("overrides", "FREQ=DAILY", 0, 20000), 403},
		{"6,000 RDATEs and 6,000 overrides", bigSeries("both", "FREQ=DAILY", 6000, 6000), 403},
		{"COUNT of 20,000", bigSeries("count", "FREQ=DAILY;COUNT=20000", 0, 0), 403},
		{"a rule that never occurs", bigSeries("never", "FREQ=SECONDLY;BYMONTH=2;BYMONTHDAY=30;COUNT=1", 0, 0), 403},
		{"5,000 RDATEs and 4,000 overrides", bigSeries("within", "", 5000, 4000), 201},
		{"COUNT of 9,000", bigSeries("count-ok", "FREQ=DAILY;COUNT=9000", 0, 0), 201},
		{"daily for a century", bigSeries("until", "FREQ=DAILY;UNTIL=21250301T090000Z", 0, 0), 201},
		{"daily without end", bigSeries("daily", "FREQ=DAILY", 0, 0), 201},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := calPath + strings.ReplaceAll(tc.name, " ", "-") + ".ics"
			rec := ts.do(t, "alice", "PUT", p, tc.body, "Content-Type: text/calendar")
			if tc.status == 403 {
				wantError(t, rec, 403, "<C:max-instances/>")
				if got := ts.do(t, "alice", "GET", p, ""); got.Code != 404 {
					t.Fatalf("refused object stored: %d", got.Code)
				}
				return
			}
			if rec.Code != tc.status {
				t.Fatalf("PUT: %d, want %d\n%s", rec.Code, tc.status, rec.Body.String())
			}
		})
	}
	// COPY and MOVE into a calendar meet the same check (RFC 4791 5.3.2.1).
	const plain = "/dav/calendars/alice/p/"
	if rec := ts.do(t, "alice", "MKCOL", plain, ""); rec.Code != 201 {
		t.Fatalf("MKCOL: %d", rec.Code)
	}
	if rec := ts.do(t, "alice", "PUT", plain+"big.ics", bigSeries("copied", "", 30000, 0), "Content-Type: text/calendar"); rec.Code != 201 {
		t.Fatalf("PUT into a plain collection: %d", rec.Code)
	}
	for _, m := range []string{"COPY", "MOVE"} {
		wantError(t, ts.do(t, "alice", m, plain+"big.ics", "", "Destination: "+calPath+"copied.ics"), 403, "<C:max-instances/>")
	}
	for _, data := range []bool{false, true} {
		if d := parseMS(t, ts.do(t, "alice", "REPORT", calPath, marchQuery(data), "Depth: 1")); len(d.Responses) != 3 {
			t.Fatalf("March query (data %v) lists %d objects, want the 3 daily series: %+v", data, len(d.Responses), d.Responses)
		}
	}
}

// TestOversizedObjectSkipped: an object stored before PUT checked its
// recurrence size does not break queries on its calendar: a one-month
// calendar-query lists the other objects and names the one left out in
// its responsedescription, and free-busy answers.
func TestOversizedObjectSkipped(t *testing.T) {
	ts := newTestServer(t)
	strict := ts.h
	ts.h = NewHandler(Options{Auth: strict.(*handler).auth, MaxInstances: 100000, Logger: strict.(*handler).log}) // as before the check
	big := calPath + "big.ics"
	for p, body := range map[string]string{
		big:                   bigSeries("big", "", 30000, 0),
		calPath + "march.ics": strings.Replace(icsOther, "DTSTART:20250302T100000Z", "DTSTART:20250310T100000Z\r\nDURATION:PT1H", 1),
	} {
		if rec := ts.do(t, "alice", "PUT", p, body, "Content-Type: text/calendar"); rec.Code != 201 {
			t.Fatalf("PUT %s: %d %s", p, rec.Code, rec.Body.String())
		}
	}
	ts.h = strict
	for _, data := range []bool{false, true} {
		rec := ts.do(t, "alice", "REPORT", calPath, marchQuery(data), "Depth: 1")
		d := parseMS(t, rec)
		if len(d.Responses) != 1 || d.Responses[0].Href != calPath+"march.ics" {
			t.Fatalf("March query (data %v): %+v", data, d.Responses)
		}
		if !strings.Contains(rec.Body.String(), "<D:responsedescription>") || !strings.Contains(rec.Body.String(), big) {
			t.Fatalf("the answer does not name the object left out:\n%s", rec.Body.String())
		}
	}
	fb := `<?xml version="1.0" encoding="utf-8"?><C:free-busy-query xmlns:C="urn:ietf:params:xml:ns:caldav"><C:time-range start="20250301T000000Z" end="20250401T000000Z"/></C:free-busy-query>`
	if rec := ts.do(t, "alice", "REPORT", calPath, fb, "Depth: 1"); rec.Code != 200 || !strings.Contains(rec.Body.String(), "FREEBUSY:20250310T100000Z") {
		t.Fatalf("free-busy: %d\n%s", rec.Code, rec.Body.String())
	}
	// A query too wide for an object within the cap still gets 403.
	if rec := ts.do(t, "alice", "PUT", calPath+"daily.ics", dailyEvent, "Content-Type: text/calendar"); rec.Code != 201 {
		t.Fatalf("PUT daily: %d", rec.Code)
	}
	wide := strings.Replace(marchQuery(false), `<D:getetag/>`, `<C:calendar-data><C:expand start="20250101T000000Z" end="21000101T000000Z"/></C:calendar-data>`, 1)
	wide = strings.Replace(wide, `end="20250401T000000Z"`, `end="21000101T000000Z"`, 1)
	wantError(t, ts.do(t, "alice", "REPORT", calPath, wide, "Depth: 1"), 403, "too-many-instances")
}
