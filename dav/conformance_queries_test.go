package dav

import (
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
