package dav

import (
	"net/http"
	"strings"

	"github.com/coffer-dav/coffer/dav/ical"
)

// checkCalendarTimezone validates the text of a CALDAV:calendar-timezone
// property (RFC 4791 section 5.2.2), and serves the CALDAV:timezone
// element of a calendar-query (section 9.8) as well: an iCalendar object
// with exactly one complete VTIMEZONE. It returns the parsed zone, or a
// 403 valid-calendar-data error. Surrounding white space, which indented
// XML bodies put around the text, is ignored.
func checkCalendarTimezone(text string) (*ical.Zone, error) {
	z, err := ical.ParseZone([]byte(strings.TrimSpace(text)))
	if err != nil {
		return nil, calendarError(err) // ParseZone fails with valid-calendar-data only
	}
	return z, nil
}

// withZones returns calendar data as a request gets it (RFC 7809 section
// 3.1): with a VTIMEZONE added for each zone the stored object names
// without defining, unless the client sent "CalDAV-Timezones: F"
// (section 7.1) to say it does without. Objects that define all their
// zones, as DAVx5 and Apple write them (clients.md), go out
// byte for byte either way.
func withZones(r *http.Request, data []byte) []byte {
	if strings.EqualFold(strings.TrimSpace(r.Header.Get("CalDAV-Timezones")), "F") {
		return data
	}
	out, _ := ical.AddZoneDefinitions(data)
	return out
}
