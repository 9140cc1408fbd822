package ical

import (
	"errors"
	"strings"
	"testing"
)

// rfcEastern is the VTIMEZONE of RFC 4791's examples, under a TZID that
// no zone database knows.
var rfcEastern = calendar("BEGIN:VTIMEZONE", "TZID:US-Eastern",
	"BEGIN:STANDARD", "DTSTART:19671029T020000", "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10", "TZOFFSETFROM:-0400", "TZOFFSETTO:-0500", "END:STANDARD",
	"BEGIN:DAYLIGHT", "DTSTART:19870405T020000", "RRULE:FREQ=YEARLY;BYDAY=1SU;BYMONTH=4", "TZOFFSETFROM:-0500", "TZOFFSETTO:-0400", "END:DAYLIGHT",
	"END:VTIMEZONE")

func TestParseZone(t *testing.T) {
	cases := []struct {
		name, text string
		ok         bool
	}{
		{"RFC 4791 US-Eastern", rfcEastern, true},
		{"LF line ends", strings.ReplaceAll(rfcEastern, "\r\n", "\n"), true},
		{"garbage", "garbage", false},
		{"empty VCALENDAR", calendar(), false},
		{"an event besides", strings.Replace(rfcEastern, "END:VCALENDAR", "BEGIN:VEVENT\r\nUID:x\r\nDTSTAMP:20060101T000000Z\r\nDTSTART:20060101T000000Z\r\nEND:VEVENT\r\nEND:VCALENDAR", 1), false},
		{"two VTIMEZONEs", calendar("BEGIN:VTIMEZONE", "TZID:A", "BEGIN:STANDARD", "DTSTART:19700101T000000", "TZOFFSETFROM:+0100", "TZOFFSETTO:+0100", "END:STANDARD", "END:VTIMEZONE",
			"BEGIN:VTIMEZONE", "TZID:B", "BEGIN:STANDARD", "DTSTART:19700101T000000", "TZOFFSETFROM:+0200", "TZOFFSETTO:+0200", "END:STANDARD", "END:VTIMEZONE"), false},
		{"no TZID", calendar("BEGIN:VTIMEZONE", "BEGIN:STANDARD", "DTSTART:19700101T000000", "TZOFFSETFROM:+0100", "TZOFFSETTO:+0100", "END:STANDARD", "END:VTIMEZONE"), false},
		{"no observance", calendar("BEGIN:VTIMEZONE", "TZID:Europe/Berlin", "END:VTIMEZONE"), false},
		{"observance without offsets", calendar("BEGIN:VTIMEZONE", "TZID:X", "BEGIN:STANDARD", "DTSTART:19700101T000000", "END:STANDARD", "END:VTIMEZONE"), false},
	}
	ev := mustParse(t, event("DTSTART:20270101T010000", "DTEND:20270101T020000"))
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			z, err := ParseZone([]byte(tc.text))
			var e *Error
			switch {
			case !tc.ok:
				if !errors.As(err, &e) || e.Condition != CondValidCalendarData {
					t.Fatalf("got %v, want %s", err, CondValidCalendarData)
				}
				return
			case err != nil:
				t.Fatalf("refused: %v", err)
			}
			// Floating 01:00 in US-Eastern (winter, UTC-5) is 06:00Z.
			if !matchRange(t, ev, "VEVENT", "20270101T060000Z", "20270101T070000Z", Options{Zone: z}) ||
				matchRange(t, ev, "VEVENT", "20270101T010000Z", "20270101T020000Z", Options{Zone: z}) {
				t.Errorf("floating time not read in %s", z.TZID)
			}
		})
	}
}

func TestZoneNamed(t *testing.T) {
	ev := mustParse(t, event("DTSTART:20270101T010000", "DTEND:20270101T020000"))
	for _, tc := range []struct {
		tzid, start, end string // the range that floating 01:00-02:00 takes
	}{
		{"US/Eastern", "20270101T060000Z", "20270101T070000Z"},
		{"Asia/Tokyo", "20261231T160000Z", "20261231T170000Z"},
		{"W. Europe Standard Time", "20270101T000000Z", "20270101T010000Z"},
	} {
		z, ok := ZoneNamed(tc.tzid)
		if !ok {
			t.Fatalf("%s unknown", tc.tzid)
		}
		if !matchRange(t, ev, "VEVENT", tc.start, tc.end, Options{Zone: z}) {
			t.Errorf("%s: floating time not in %s-%s", tc.tzid, tc.start, tc.end)
		}
	}
	for _, bad := range []string{"", "Mars/Olympus_Mons", "Local", "../etc/passwd"} {
		if _, ok := ZoneNamed(bad); ok {
			t.Errorf("%q resolved", bad)
		}
	}
}

// Issue 17 point 2: the value of calendar-timezone (RFC 4791 section 5.2.2),
// whose VTIMEZONE must be complete (RFC 5545 section 3.6.5).
func TestParseZoneComplete(t *testing.T) {
	const std = "BEGIN:STANDARD\r\nDTSTART:19701025T030000\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nEND:STANDARD"
	tests := []struct {
		name   string
		data   string
		tzid   string // "" when refused
		reason string // part of the refusal message
	}{
		{"one zone", calendar("BEGIN:VTIMEZONE", "TZID:Europe/Vienna", std, "END:VTIMEZONE"), "Europe/Vienna", ""},
		{"custom name", calendar("BEGIN:VTIMEZONE", "TZID:Customized Time Zone", std, "END:VTIMEZONE"), "Customized Time Zone", ""},
		{"Windows name", calendar("BEGIN:VTIMEZONE", "TZID:W. Europe Standard Time", std, "END:VTIMEZONE"), "W. Europe Standard Time", ""},
		{"LF line ends", strings.ReplaceAll(calendar("BEGIN:VTIMEZONE", "TZID:UTC", std, "END:VTIMEZONE"), "\r\n", "\n"), "UTC", ""},
		{"x-comp inside", calendar("BEGIN:VTIMEZONE", "TZID:X", "BEGIN:X-FOO", "END:X-FOO", std, "END:VTIMEZONE"), "X", ""},
		{"garbage", "garbage", "", ""},
		{"empty", "", "", ""},
		{"no zone", calendar(), "", "exactly one VTIMEZONE"},
		{"two zones", calendar("BEGIN:VTIMEZONE", "TZID:A", std, "END:VTIMEZONE", "BEGIN:VTIMEZONE", "TZID:B", std, "END:VTIMEZONE"), "", "exactly one VTIMEZONE"},
		{"an event", calendar("BEGIN:VTIMEZONE", "TZID:A", std, "END:VTIMEZONE", "BEGIN:VEVENT", "UID:x", "END:VEVENT"), "", "no other component"},
		{"two TZIDs", calendar("BEGIN:VTIMEZONE", "TZID:A", "TZID:B", std, "END:VTIMEZONE"), "", "TZID"},
		{"empty TZID", calendar("BEGIN:VTIMEZONE", "TZID:", std, "END:VTIMEZONE"), "", "TZID"},
		{"no observance", calendar("BEGIN:VTIMEZONE", "TZID:A", "END:VTIMEZONE"), "", "observance"},
		{"date DTSTART", calendar("BEGIN:VTIMEZONE", "TZID:A", strings.Replace(std, "19701025T030000", "19701025", 1), "END:VTIMEZONE"), "", "observance"},
		{"two DTSTARTs", calendar("BEGIN:VTIMEZONE", "TZID:A", strings.Replace(std, "TZOFFSETFROM", "DTSTART:19711025T030000\r\nTZOFFSETFROM", 1), "END:VTIMEZONE"), "", "observance"},
		{"no TZOFFSETFROM", calendar("BEGIN:VTIMEZONE", "TZID:A", strings.Replace(std, "TZOFFSETFROM:+0200\r\n", "", 1), "END:VTIMEZONE"), "", "observance"},
		{"offset out of range", calendar("BEGIN:VTIMEZONE", "TZID:A", strings.Replace(std, "+0100", "+2500", 1), "END:VTIMEZONE"), "", "observance"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			z, err := ParseZone([]byte(tc.data))
			if tc.tzid == "" {
				var e *Error
				if !errors.As(err, &e) || e.Condition != CondValidCalendarData || !strings.Contains(e.Message, tc.reason) {
					t.Fatalf("got %v, %v; want valid-calendar-data about %q", z, err, tc.reason)
				}
				return
			}
			if err != nil || z.TZID != tc.tzid {
				t.Fatalf("got %+v, %v; want %s", z, err, tc.tzid)
			}
		})
	}
}
