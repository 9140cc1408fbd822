package ical

import (
	"errors"
	"strings"
	"testing"
)

func TestParseMalformed(t *testing.T) {
	cases := map[string]string{
		"TZID without colon":      calendar("BEGIN:VEVENT", "UID:a", "DTSTART;TZID=x", "END:VEVENT"),
		"junk after quoted param": calendar("BEGIN:VEVENT", "UID:a", `X-A;P="b"c:v`, "END:VEVENT"),
		"missing END":             "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\n",
		"not a calendar":          "BEGIN:VCARD\r\nEND:VCARD\r\n",
		"deep nesting":            strings.Repeat("BEGIN:X\r\n", 100) + strings.Repeat("END:X\r\n", 100),
		"huge parameter":          calendar("BEGIN:VEVENT", "X-A;P="+strings.Repeat("a", 10000)+":v", "END:VEVENT"),
		"empty":                   "",
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Parse([]byte(in))
			var e *Error
			if !errors.As(err, &e) || e.Condition != CondValidCalendarData {
				t.Errorf("got %v, want valid-calendar-data", err)
			}
		})
	}
}

func TestInvalidValuesAreErrors(t *testing.T) {
	for _, props := range [][]string{
		{"DTSTART:2006-01-04"},
		{"DTSTART:20060104T100000Z", "RRULE:FREQ=SOMETIMES"},
		{"DTSTART:20060104T100000Z", "RRULE:FREQ=DAILY;BYHOUR=25"},
		{"DTSTART:20060104T100000Z", "DURATION:PT"},
	} {
		obj := mustParse(t, event(props...))
		if _, err := Match(obj, rangeFilter("VEVENT", "20060101T000000Z", ""), Options{}); err == nil {
			t.Errorf("%v: no error", props)
		}
	}
}

func TestResolveTZID(t *testing.T) {
	for in, want := range map[string]string{
		"Europe/Berlin":                            "Europe/Berlin",
		"w. europe standard time":                  "Europe/Berlin",
		"/mozilla.org/20050126_1/America/New_York": "America/New_York",
		"GMT Standard Time":                        "Europe/London",
	} {
		loc, ok := ResolveTZID(in)
		if !ok || loc.String() != want {
			t.Errorf("%s: got %v %v", in, loc, ok)
		}
	}
	for _, bad := range []string{"", "Local", "Nowhere/Special", "../../etc/passwd"} {
		if _, ok := ResolveTZID(bad); ok {
			t.Errorf("%q resolved", bad)
		}
	}
}
