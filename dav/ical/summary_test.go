package ical

import (
	"testing"
	"time"
)

func TestSummarize(t *testing.T) {
	cases := []struct {
		name    string
		obj     string
		check   func(Summary) bool
		yes, no [][2]string // ranges MayOverlap must accept / may reject
	}{
		{"single event", event("DTSTART:20060104T100000Z", "DTEND:20060104T110000Z"),
			func(s Summary) bool { return s.Component == "VEVENT" && s.UID == "r" && !s.Recurring && !s.Unbounded },
			[][2]string{{"20060104T103000Z", "20060104T104000Z"}, {"20060101T000000Z", ""}}, [][2]string{{"20060105T000000Z", ""}, {"", "20060103T000000Z"}}},
		{"infinite rule", event("DTSTART:20060104T100000Z", "RRULE:FREQ=WEEKLY"),
			func(s Summary) bool { return s.Recurring && s.Unbounded },
			[][2]string{{"20300101T000000Z", ""}}, [][2]string{{"", "20060101T000000Z"}}},
		{"UNTIL rule", event("DTSTART:20060104T100000Z", "RRULE:FREQ=DAILY;UNTIL=20060110T100000Z"),
			func(s Summary) bool { return s.Recurring && !s.Unbounded },
			[][2]string{{"20060110T100000Z", "20060110T100001Z"}}, [][2]string{{"20060301T000000Z", ""}}},
		{"COUNT rule", event("DTSTART:20060104T100000Z", "DURATION:PT1H", "RRULE:FREQ=DAILY;COUNT=3"),
			func(s Summary) bool { return s.End.Equal(utc("20060106T110000Z")) },
			[][2]string{{"20060106T100000Z", ""}}, [][2]string{{"20060107T000000Z", ""}}},
		{"undated VTODO matches everything", calendar("BEGIN:VTODO", "UID:t", "DTSTAMP:20060101T000000Z", "END:VTODO"),
			func(s Summary) bool { return s.Start.IsZero() && s.Unbounded && !s.Never },
			[][2]string{{"19700101T000000Z", "19700102T000000Z"}}, nil},
		{"undated VJOURNAL never matches a range", calendar("BEGIN:VJOURNAL", "UID:j", "DTSTAMP:20060101T000000Z", "END:VJOURNAL"),
			func(s Summary) bool { return s.Never },
			nil, [][2]string{{"19700101T000000Z", ""}}},
		{"all-day is widened for any zone", event("DTSTART;VALUE=DATE:20060104"),
			func(s Summary) bool { return s.Floating },
			[][2]string{{"20060103T120000Z", "20060103T130000Z"}}, nil},
		{"alarm lead time is covered", event("DTSTART:20060110T100000Z", "BEGIN:VALARM", "ACTION:DISPLAY", "TRIGGER:-P5D", "END:VALARM"),
			func(s Summary) bool { return true },
			[][2]string{{"20060105T100000Z", "20060105T100001Z"}}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			obj := mustParse(t, tc.obj)
			s, err := Summarize(obj, nil, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(s) {
				t.Errorf("summary %+v", s)
			}
			for _, r := range tc.yes {
				if !s.MayOverlap(utc(r[0]), utc(r[1])) {
					t.Errorf("MayOverlap(%v) = false for %+v", r, s)
				}
			}
			for _, r := range tc.no {
				if s.MayOverlap(utc(r[0]), utc(r[1])) {
					t.Errorf("MayOverlap(%v) = true for %+v", r, s)
				}
			}
			b, _ := s.MarshalBinary()
			var back Summary
			if err := back.UnmarshalBinary(b); err != nil || back != s {
				t.Errorf("round trip: %+v %v, want %+v", back, err, s)
			}
		})
	}
	var s Summary
	for _, bad := range [][]byte{nil, {9, 0}, {1, 8, 1, 'V'}} {
		if s.UnmarshalBinary(bad) == nil {
			t.Errorf("accepted %v", bad)
		}
	}
}

// MayOverlap must never reject an object that Match accepts.
func TestSummaryIsConservative(t *testing.T) {
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	objs := []string{
		event("DTSTART;VALUE=DATE:20060104", "RRULE:FREQ=WEEKLY;COUNT=4"),
		event("DTSTART:20060104T100000", "DTEND:20060104T110000"),
		event("DTSTART;TZID=W. Europe Standard Time:20060104T100000", "RRULE:FREQ=MONTHLY;UNTIL=20070101T000000Z"),
		calendar("BEGIN:VTODO", "UID:t", "DTSTAMP:20060101T000000Z", "DUE:20060110T000000Z", "END:VTODO"),
	}
	for _, o := range objs {
		obj := mustParse(t, o)
		s, err := Summarize(obj, nil, Options{})
		if err != nil {
			t.Fatal(err)
		}
		comp := obj.Components()[0]
		for d := 0; d < 400; d += 3 {
			start := utc("20060101T000000Z").Add(time.Duration(d) * 24 * time.Hour)
			for _, end := range []time.Time{start.Add(5 * time.Hour), {}} {
				f := &Filter{Comp: CompFilter{Name: "VCALENDAR", Comps: []CompFilter{{Name: comp, TimeRange: &TimeRange{Start: start, End: end}}}}}
				ok, err := Match(obj, f, Options{Location: tokyo})
				if err != nil {
					t.Fatal(err)
				}
				if ok && !s.MayOverlap(start, end) {
					t.Errorf("%s: Match true but MayOverlap false at %v", o, start)
				}
			}
		}
	}
}
