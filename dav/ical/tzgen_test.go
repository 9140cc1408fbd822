package ical

import (
	"strings"
	"testing"
	"time"
)

// The generated definitions agree with the zone data they come from: at
// every hour around each onset and at noon of every week from 1971 to
// 2099, the offset the VTIMEZONE gives is Go's (RFC 7809 section 3.1).
func TestZoneDefinitionMatchesZoneData(t *testing.T) {
	zones := []string{"America/New_York", "Europe/Berlin", "Europe/Vienna", "Asia/Kolkata", "Australia/Lord_Howe",
		"Asia/Jerusalem", "America/Sao_Paulo", "Pacific/Auckland", "Africa/Casablanca", "America/St_Johns", "UTC", "Europe/Dublin"}
	for _, name := range zones {
		t.Run(name, func(t *testing.T) {
			loc, err := time.LoadLocation(name)
			if err != nil {
				t.Fatal(err)
			}
			def := ZoneDefinition(name, loc, "\r\n")
			obj := mustParse(t, calendar(strings.TrimSuffix(def, "\r\n"), "BEGIN:VEVENT", "UID:a", "DTSTART;TZID="+name+":20270101T000000", "END:VEVENT"))
			z := obj.namedZone(name)
			if z == nil || z.vtz == nil {
				t.Fatalf("definition not usable:\n%s", def)
			}
			c := newCtx(obj, Options{MaxSteps: 1 << 30, MaxInstances: 1 << 30})
			check := func(at time.Time) {
				_, want := at.In(loc).Zone()
				if got := z.vtz.offsetAt(c, at.Unix()); got != want {
					t.Fatalf("%s: offset %d, want %d\n%s", at, got, want, def)
				}
			}
			for _, o := range zoneOnsets(loc) {
				if o.at.Year() < 1971 {
					continue
				}
				for h := -2; h <= 2; h++ {
					check(o.at.Add(time.Duration(h)*time.Hour + time.Second))
				}
			}
			for at := time.Date(1971, 1, 1, 12, 0, 0, 0, time.UTC); at.Year() < 2100; at = at.Add(7 * 24 * time.Hour) {
				check(at)
			}
			if n := strings.Count(def, "\r\n"); n > 1000 { // Casablanca, moved for Ramadan each year, takes about 600
				t.Errorf("definition of %d lines", n)
			}
		})
	}
}

func TestAddZoneDefinitions(t *testing.T) {
	berlin := "BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\nBEGIN:STANDARD\r\nDTSTART:19701025T030000\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n"
	head := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\n"
	tests := []struct {
		name string
		in   string
		adds []string // TZIDs of the added definitions, in order; none: unchanged
	}{
		{"no TZID", head + "BEGIN:VEVENT\r\nUID:a\r\nDTSTART:20270101T000000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n", nil},
		{"defined", head + berlin + "BEGIN:VEVENT\r\nUID:a\r\nDTSTART;TZID=Europe/Berlin:20270101T000000\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n", nil},
		{"missing", head + "BEGIN:VEVENT\r\nUID:a\r\nDTSTART;TZID=Europe/Berlin:20270101T000000\r\nDTEND;TZID=America/New_York:20270101T010000\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n", []string{"Europe/Berlin", "America/New_York"}},
		{"one of two missing, folded and quoted", head + berlin + "BEGIN:VEVENT\r\nUID:a\r\nDTSTART;TZID=Europe/Berlin:20270101T000000\r\nDTEND;X-A=\"b;c:d\";TZ\r\n ID=\"America/New_York\":20270101T010000\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n", []string{"America/New_York"}},
		{"unknown name", head + "BEGIN:VEVENT\r\nUID:a\r\nDTSTART;TZID=Nowhere:20270101T000000\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n", nil},
		{"bare line feeds", strings.ReplaceAll(head+"BEGIN:VTODO\r\nUID:a\r\nDUE;TZID=Asia/Kolkata:20270101T000000\r\nEND:VTODO\r\nEND:VCALENDAR\r\n", "\r\n", "\n"), []string{"Asia/Kolkata"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, changed := AddZoneDefinitions([]byte(tc.in))
			if changed != (len(tc.adds) > 0) {
				t.Fatalf("changed %v:\n%s", changed, out)
			}
			if !changed {
				if string(out) != tc.in {
					t.Fatalf("unchanged body differs")
				}
				return
			}
			// Every input byte is kept, in order; only whole VTIMEZONEs are added.
			s := string(out)
			i := strings.Index(tc.in, "BEGIN:V"+strings.SplitN(strings.SplitN(tc.in, "BEGIN:V", 3)[2], "\n", 2)[0])
			if !strings.HasPrefix(s, tc.in[:i]) || !strings.HasSuffix(s, tc.in[i:]) {
				t.Fatalf("input not kept:\n%s", s)
			}
			var got []string
			for _, part := range strings.Split(s[i:len(s)-len(tc.in)+i], "BEGIN:VTIMEZONE")[1:] {
				id, _, _ := strings.Cut(strings.TrimLeft(part, "\r\n"), "\n")
				got = append(got, strings.TrimSuffix(strings.TrimPrefix(id, "TZID:"), "\r"))
			}
			if strings.Join(got, ",") != strings.Join(tc.adds, ",") {
				t.Fatalf("added %v, want %v:\n%s", got, tc.adds, s)
			}
			obj, err := Parse(out)
			if err != nil {
				t.Fatalf("result does not parse: %v\n%s", err, s)
			}
			if id, unknown := obj.UnknownTZID(); unknown {
				t.Fatalf("%s still undefined", id)
			}
			for _, id := range tc.adds {
				if _, ok := obj.tzdef[id]; !ok {
					t.Fatalf("%s not defined in the result", id)
				}
			}
		})
	}
}

// FuzzAddZoneDefinitions: any stored body comes back whole, with only
// VTIMEZONEs added before its first component, and what parsed before
// parses after.
func FuzzAddZoneDefinitions(f *testing.F) {
	f.Add([]byte("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:a\r\nDTSTART;TZID=Europe/Berlin:20270101T000000\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"))
	f.Add([]byte("BEGIN:VCALENDAR\nBEGIN:VTODO\nDUE;X=\"a:b\";tzid=\"Asia/Tokyo\":20270101T000000\n END:VTODO\nEND:VCALENDAR"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 8192 {
			return
		}
		out, changed := AddZoneDefinitions(data)
		if !changed {
			if string(out) != string(data) {
				t.Fatal("unchanged body differs")
			}
			return
		}
		if len(out) <= len(data) {
			t.Fatal("nothing added")
		}
		_, _, at := scanZones(data)
		if string(out[:at]) != string(data[:at]) || string(out[len(out)-(len(data)-at):]) != string(data[at:]) {
			t.Fatalf("input not kept: %q", out)
		}
		if _, err := Parse(data); err == nil {
			if _, err := Parse(out); err != nil {
				t.Fatalf("parsed before, not after: %v\n%q", err, out)
			}
		}
	})
}

func BenchmarkAddZoneDefinitions(b *testing.B) {
	defined := []byte(calendar("BEGIN:VTIMEZONE", "TZID:Europe/Berlin", "BEGIN:STANDARD", "DTSTART:19701025T030000", "TZOFFSETFROM:+0200", "TZOFFSETTO:+0100", "END:STANDARD", "END:VTIMEZONE",
		"BEGIN:VEVENT", "UID:a", "DTSTAMP:20260101T000000Z", "DTSTART;TZID=Europe/Berlin:20270101T000000", "DTEND;TZID=Europe/Berlin:20270101T010000", "SUMMARY:Lunch", "END:VEVENT"))
	for _, bc := range []struct {
		name string
		body []byte
	}{{"defined", defined}, {"utc", []byte(calendar("BEGIN:VEVENT", "UID:a", "DTSTART:20270101T000000Z", "END:VEVENT"))}} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				AddZoneDefinitions(bc.body)
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
