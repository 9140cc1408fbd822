package ical

import (
	"errors"
	"strings"
	"testing"
)

// Issue 17 point 2: the value of calendar-timezone (RFC 4791 section 5.2.2).
func TestParseTimezone(t *testing.T) {
	const std = "BEGIN:STANDARD\r\nDTSTART:19701025T030000\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nEND:STANDARD"
	tests := []struct {
		name   string
		data   string
		tzid   string // "" when refused
		iana   bool   // the TZID names a zone of the server's data
		reason string // part of the refusal message
	}{
		{"one zone", calendar("BEGIN:VTIMEZONE", "TZID:Europe/Vienna", std, "END:VTIMEZONE"), "Europe/Vienna", true, ""},
		{"custom name", calendar("BEGIN:VTIMEZONE", "TZID:Customized Time Zone", std, "END:VTIMEZONE"), "Customized Time Zone", false, ""},
		{"Windows name", calendar("BEGIN:VTIMEZONE", "TZID:W. Europe Standard Time", std, "END:VTIMEZONE"), "W. Europe Standard Time", true, ""},
		{"LF line ends", strings.ReplaceAll(calendar("BEGIN:VTIMEZONE", "TZID:UTC", std, "END:VTIMEZONE"), "\r\n", "\n"), "UTC", true, ""},
		{"x-comp inside", calendar("BEGIN:VTIMEZONE", "TZID:X", "BEGIN:X-FOO", "END:X-FOO", std, "END:VTIMEZONE"), "X", false, ""},
		{"garbage", "garbage", "", false, ""},
		{"empty", "", "", false, ""},
		{"no zone", calendar(), "", false, "exactly one VTIMEZONE"},
		{"two zones", calendar("BEGIN:VTIMEZONE", "TZID:A", std, "END:VTIMEZONE", "BEGIN:VTIMEZONE", "TZID:B", std, "END:VTIMEZONE"), "", false, "exactly one VTIMEZONE"},
		{"an event", calendar("BEGIN:VTIMEZONE", "TZID:A", std, "END:VTIMEZONE", "BEGIN:VEVENT", "UID:x", "END:VEVENT"), "", false, "no component but"},
		{"two TZIDs", calendar("BEGIN:VTIMEZONE", "TZID:A", "TZID:B", std, "END:VTIMEZONE"), "", false, "TZID"},
		{"empty TZID", calendar("BEGIN:VTIMEZONE", "TZID:", std, "END:VTIMEZONE"), "", false, "TZID"},
		{"no observance", calendar("BEGIN:VTIMEZONE", "TZID:A", "END:VTIMEZONE"), "", false, "observance"},
		{"date DTSTART", calendar("BEGIN:VTIMEZONE", "TZID:A", strings.Replace(std, "19701025T030000", "19701025", 1), "END:VTIMEZONE"), "", false, "observance"},
		{"two DTSTARTs", calendar("BEGIN:VTIMEZONE", "TZID:A", strings.Replace(std, "TZOFFSETFROM", "DTSTART:19711025T030000\r\nTZOFFSETFROM", 1), "END:VTIMEZONE"), "", false, "observance"},
		{"no TZOFFSETFROM", calendar("BEGIN:VTIMEZONE", "TZID:A", strings.Replace(std, "TZOFFSETFROM:+0200\r\n", "", 1), "END:VTIMEZONE"), "", false, "observance"},
		{"offset out of range", calendar("BEGIN:VTIMEZONE", "TZID:A", strings.Replace(std, "+0100", "+2500", 1), "END:VTIMEZONE"), "", false, "observance"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tz, err := ParseTimezone([]byte(tc.data))
			if tc.tzid == "" {
				var e *Error
				if !errors.As(err, &e) || e.Condition != CondValidCalendarData || !strings.Contains(e.Message, tc.reason) {
					t.Fatalf("got %v, %v; want valid-calendar-data about %q", tz, err, tc.reason)
				}
				return
			}
			if err != nil || tz.TZID != tc.tzid {
				t.Fatalf("got %+v, %v; want %s", tz, err, tc.tzid)
			}
			if _, ok := tz.Location(); ok != tc.iana {
				t.Fatalf("Location known %v, want %v", ok, tc.iana)
			}
		})
	}
}

// Issue 17 point 7: TZIDs without a VTIMEZONE (RFC 7809 section 3.1).
func TestUnknownTZID(t *testing.T) {
	const zone = "BEGIN:VTIMEZONE\r\nTZID:Custom\r\nBEGIN:STANDARD\r\nDTSTART:19700101T000000\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0100\r\nEND:STANDARD\r\nEND:VTIMEZONE"
	tests := []struct {
		name  string
		lines []string
		want  string // "" when all resolve
	}{
		{"none", []string{"BEGIN:VEVENT", "UID:a", "DTSTART:20270101T000000Z", "END:VEVENT"}, ""},
		{"IANA", []string{"BEGIN:VEVENT", "UID:a", "DTSTART;TZID=Europe/Berlin:20270101T000000", "END:VEVENT"}, ""},
		{"prefixed IANA", []string{"BEGIN:VEVENT", "UID:a", "DTSTART;TZID=/mozilla.org/20050126_1/Europe/Berlin:20270101T000000", "END:VEVENT"}, ""},
		{"defined", []string{zone, "BEGIN:VEVENT", "UID:a", "DTSTART;TZID=Custom:20270101T000000", "END:VEVENT"}, ""},
		{"undefined", []string{"BEGIN:VEVENT", "UID:a", "DTSTART;TZID=Custom:20270101T000000", "END:VEVENT"}, "Custom"},
		{"undefined in DUE", []string{"BEGIN:VTODO", "UID:a", "DUE;TZID=Elsewhere:20270101T000000", "END:VTODO"}, "Elsewhere"},
		{"undefined in a VALARM", []string{"BEGIN:VEVENT", "UID:a", "DTSTART:20270101T000000Z", "BEGIN:VALARM", "TRIGGER;VALUE=DATE-TIME;TZID=Nowhere:20261231T000000", "END:VALARM", "END:VEVENT"}, "Nowhere"},
		{"Local is not a zone", []string{"BEGIN:VEVENT", "UID:a", "DTSTART;TZID=Local:20270101T000000", "END:VEVENT"}, "Local"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := mustParse(t, calendar(tc.lines...)).UnknownTZID()
			if got != tc.want || ok != (tc.want != "") {
				t.Fatalf("UnknownTZID = %q, %v; want %q", got, ok, tc.want)
			}
		})
	}
}

// FuzzParseTimezone: any input is accepted with a TZID or refused with
// valid-calendar-data, never a panic.
func FuzzParseTimezone(f *testing.F) {
	f.Add([]byte(calendar("BEGIN:VTIMEZONE", "TZID:Europe/Vienna", "BEGIN:STANDARD", "DTSTART:19701025T030000", "TZOFFSETFROM:+0200", "TZOFFSETTO:+0100", "END:STANDARD", "END:VTIMEZONE")))
	f.Add([]byte(calendar("BEGIN:VTIMEZONE", "TZID:A", "END:VTIMEZONE")))
	f.Add([]byte("garbage"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 16384 {
			return
		}
		tz, err := ParseTimezone(data)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Condition != CondValidCalendarData {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if strings.TrimSpace(tz.TZID) == "" {
			t.Fatalf("accepted without TZID: %q", data)
		}
		tz.Location()
	})
}
