package dav

import (
	"testing"
)

// FuzzCheckCalendarTimezone: a calendar-timezone value is accepted with a
// TZID, or refused with 403 valid-calendar-data; never a 500 or a panic.
func FuzzCheckCalendarTimezone(f *testing.F) {
	for _, s := range []string{utcTimezone, "garbage", "", " \n" + utcTimezone + "\n ",
		"BEGIN:VCALENDAR\r\nBEGIN:VTIMEZONE\r\nTZID:x\r\nEND:VTIMEZONE\r\nEND:VCALENDAR\r\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 16384 {
			return
		}
		tz, err := checkCalendarTimezone(s)
		if err != nil {
			if e := asError(err); e.Status != 403 || e.Precondition != condValidCalendarData {
				t.Fatalf("refusal %v", err)
			}
			return
		}
		if tz.TZID == "" {
			t.Fatalf("accepted without TZID: %q", s)
		}
	})
}
