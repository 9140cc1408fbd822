package dav

import (
	"strings"

	"github.com/coffer-dav/coffer/dav/ical"
)

// checkCalendarTimezone validates the text of a CALDAV:calendar-timezone
// property (RFC 4791 section 5.2.2), and serves the CALDAV:timezone
// element of a calendar-query (section 9.8) as well: an iCalendar object
// with exactly one complete VTIMEZONE. It returns the parsed zone, or a
// 403 valid-calendar-data error. Surrounding white space, which indented
// XML bodies put around the text, is ignored.
func checkCalendarTimezone(text string) (*ical.Timezone, error) {
	tz, err := ical.ParseTimezone([]byte(strings.TrimSpace(text)))
	if err != nil {
		return nil, calendarError(err) // ParseTimezone fails with valid-calendar-data only
	}
	return tz, nil
}
