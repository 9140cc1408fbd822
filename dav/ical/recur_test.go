package ical

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

// instanceStarts lists the UTC starts of the instances of the first
// non-VTIMEZONE component that overlap [lo, hi).
func instanceStarts(t *testing.T, obj *Object, opts Options, lo, hi string) []string {
	t.Helper()
	c := newCtx(obj, opts)
	var first = obj.root.Children[0]
	for _, ch := range obj.root.Children {
		if ch.Name != "VTIMEZONE" {
			first = ch
			break
		}
	}
	tr := TimeRange{Start: utc(lo), End: utc(hi)}
	var out []string
	err := c.each(c.seriesOf(first), tr.Start, tr.End, func(in *instance) bool {
		if c.instOverlaps(in, tr) {
			out = append(out, formatUTC(in.start))
		}
		return true
	})
	if err != nil {
		t.Fatalf("each: %v", err)
	}
	slices.Sort(out)
	return out
}

// event builds a VEVENT object from property lines.
func event(props ...string) string {
	lines := append([]string{"BEGIN:VEVENT", "UID:r", "DTSTAMP:20060101T000000Z"}, props...)
	return calendar(append(lines, "END:VEVENT")...)
}

func TestRecurrence(t *testing.T) {
	ny := "DTSTART;TZID=America/New_York:19970902T090000"
	cases := []struct {
		name   string
		obj    string
		lo, hi string
		want   []string
	}{
		{"RRULE COUNT", event(ny, "DURATION:PT1H", "RRULE:FREQ=DAILY;COUNT=3"), "19970101T000000Z", "19980101T000000Z",
			[]string{"19970902T130000Z", "19970903T130000Z", "19970904T130000Z"}},
		{"RRULE UNTIL inclusive", event(ny, "DURATION:PT1H", "RRULE:FREQ=DAILY;UNTIL=19970904T130000Z"), "19970101T000000Z", "",
			[]string{"19970902T130000Z", "19970903T130000Z", "19970904T130000Z"}},
		{"monthly first Friday", event("DTSTART;TZID=America/New_York:19970905T090000", "RRULE:FREQ=MONTHLY;BYDAY=1FR;COUNT=3"), "19970101T000000Z", "",
			[]string{"19970905T130000Z", "19971003T130000Z", "19971107T140000Z"}},
		{"DTSTART outside the rule is still the first instance", event(ny, "RRULE:FREQ=MONTHLY;BYDAY=1FR;COUNT=2"), "19970101T000000Z", "",
			[]string{"19970902T130000Z", "19970905T130000Z", "19971003T130000Z"}},
		{"yearly week 20 Monday", event("DTSTART;TZID=America/New_York:19970512T090000", "RRULE:FREQ=YEARLY;BYWEEKNO=20;BYDAY=MO;COUNT=3"), "19970101T000000Z", "",
			[]string{"19970512T130000Z", "19980511T130000Z", "19990517T130000Z"}},
		{"last weekday of month (BYSETPOS)", event("DTSTART:19970930T090000Z", "RRULE:FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1;COUNT=3"), "19970101T000000Z", "",
			[]string{"19970930T090000Z", "19971031T090000Z", "19971128T090000Z"}},
		{"biweekly WKST=SU", event("DTSTART:19970902T090000Z", "RRULE:FREQ=WEEKLY;INTERVAL=2;WKST=SU;BYDAY=TU,TH;COUNT=4"), "19970101T000000Z", "",
			[]string{"19970902T090000Z", "19970904T090000Z", "19970916T090000Z", "19970918T090000Z"}},
		{"third-last day of month", event("DTSTART:19970928T090000Z", "RRULE:FREQ=MONTHLY;BYMONTHDAY=-3;COUNT=2"), "19970101T000000Z", "",
			[]string{"19970928T090000Z", "19971029T090000Z"}},
		{"leap day yearly", event("DTSTART;VALUE=DATE:20000229", "RRULE:FREQ=YEARLY;COUNT=3"), "19990101T000000Z", "",
			[]string{"20000229T000000Z", "20040229T000000Z", "20080229T000000Z"}},
		{"minutely with BYHOUR", event("DTSTART:20060104T155000Z", "RRULE:FREQ=MINUTELY;INTERVAL=20;BYHOUR=9,16;COUNT=3"), "20060101T000000Z", "",
			[]string{"20060104T155000Z", "20060104T161000Z", "20060104T163000Z", "20060104T165000Z"}},
		{"EXDATE comma list", event("DTSTART:20060102T100000Z", "RRULE:FREQ=DAILY;COUNT=5", "EXDATE:20060103T100000Z,20060105T100000Z"), "20060101T000000Z", "",
			[]string{"20060102T100000Z", "20060104T100000Z", "20060106T100000Z"}},
		{"EXDATE with TZID list", event("DTSTART;TZID=Europe/Berlin:20060102T100000", "RRULE:FREQ=DAILY;COUNT=3", "EXDATE;TZID=Europe/Berlin:20060103T100000,20060104T100000"), "20060101T000000Z", "",
			[]string{"20060102T090000Z"}},
		{"RDATE list and PERIOD", event("DTSTART:20060102T100000Z", "DTEND:20060102T110000Z", "RDATE:20060110T100000Z,20060111T100000Z", "RDATE;VALUE=PERIOD:20060120T100000Z/PT3H"), "20060101T000000Z", "",
			[]string{"20060102T100000Z", "20060110T100000Z", "20060111T100000Z", "20060120T100000Z"}},
		{"RDATE VALUE=DATE", event("DTSTART;VALUE=DATE:20060102", "RDATE;VALUE=DATE:20060105,20060107"), "20060101T000000Z", "",
			[]string{"20060102T000000Z", "20060105T000000Z", "20060107T000000Z"}},
		{"RDATE PERIOD overlaps by its own length", event("DTSTART:20060102T100000Z", "DTEND:20060102T110000Z", "RDATE;VALUE=PERIOD:20060120T100000Z/20060120T150000Z"), "20060120T140000Z", "20060120T143000Z",
			[]string{"20060120T100000Z"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := instanceStarts(t, mustParse(t, tc.obj), Options{}, tc.lo, tc.hi)
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %v\nwant %v", got, tc.want)
			}
		})
	}
}

func TestOverridesAndCancellation(t *testing.T) {
	obj := mustParse(t, calendar(
		"BEGIN:VEVENT", "UID:o", "DTSTAMP:20060101T000000Z", "DTSTART:20060102T100000Z", "DURATION:PT1H", "RRULE:FREQ=DAILY;COUNT=5", "SUMMARY:daily", "END:VEVENT",
		"BEGIN:VEVENT", "UID:o", "DTSTAMP:20060101T000000Z", "RECURRENCE-ID:20060103T100000Z", "DTSTART:20060103T150000Z", "DURATION:PT1H", "SUMMARY:moved", "END:VEVENT",
		"BEGIN:VEVENT", "UID:o", "DTSTAMP:20060101T000000Z", "RECURRENCE-ID:20060104T100000Z", "DTSTART:20060104T100000Z", "STATUS:CANCELLED", "END:VEVENT",
	))
	got := instanceStarts(t, obj, Options{}, "20060101T000000Z", "")
	want := []string{"20060102T100000Z", "20060103T150000Z", "20060105T100000Z", "20060106T100000Z"}
	if !slices.Equal(got, want) {
		t.Errorf("got %v want %v", got, want)
	}
	// The moved instance no longer occupies its original slot.
	if matchRange(t, obj, "VEVENT", "20060103T100000Z", "20060103T110000Z", Options{}) {
		t.Error("original slot of the overridden instance matched")
	}
	if !matchRange(t, obj, "VEVENT", "20060103T150000Z", "20060103T153000Z", Options{}) {
		t.Error("moved instance did not match")
	}
	if matchRange(t, obj, "VEVENT", "20060104T100000Z", "20060104T110000Z", Options{}) {
		t.Error("cancelled instance matched")
	}
}

func TestThisAndFuture(t *testing.T) {
	obj := mustParse(t, calendar(
		"BEGIN:VEVENT", "UID:f", "DTSTAMP:20060101T000000Z", "DTSTART:20060102T100000Z", "DURATION:PT1H", "RRULE:FREQ=DAILY;COUNT=5", "END:VEVENT",
		"BEGIN:VEVENT", "UID:f", "DTSTAMP:20060101T000000Z", "RECURRENCE-ID;RANGE=THISANDFUTURE:20060104T100000Z", "DTSTART:20060104T120000Z", "DURATION:PT30M", "END:VEVENT",
	))
	got := instanceStarts(t, obj, Options{}, "20060101T000000Z", "")
	want := []string{"20060102T100000Z", "20060103T100000Z", "20060104T120000Z", "20060105T120000Z", "20060106T120000Z"}
	if !slices.Equal(got, want) {
		t.Errorf("got %v want %v", got, want)
	}
}

func TestAllDayAndFloatingUseDefaultLocation(t *testing.T) {
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	allDay := mustParse(t, event("DTSTART;VALUE=DATE:20060104", "DTEND;VALUE=DATE:20060105"))
	// In Tokyo the day 2006-01-04 is 2006-01-03T15:00Z to 2006-01-04T15:00Z.
	if !matchRange(t, allDay, "VEVENT", "20060103T150000Z", "20060103T160000Z", Options{Location: tokyo}) {
		t.Error("all-day event not matched in its Tokyo day")
	}
	if matchRange(t, allDay, "VEVENT", "20060104T150000Z", "20060104T160000Z", Options{Location: tokyo}) {
		t.Error("all-day event matched after its Tokyo day")
	}
	if !matchRange(t, allDay, "VEVENT", "20060104T150000Z", "20060104T160000Z", Options{}) {
		t.Error("all-day event not matched in its UTC day")
	}
	floating := mustParse(t, event("DTSTART:20060104T100000", "DTEND:20060104T110000"))
	if !matchRange(t, floating, "VEVENT", "20060104T010000Z", "20060104T013000Z", Options{Location: tokyo}) {
		t.Error("floating event not read in Tokyo time")
	}
	if matchRange(t, floating, "VEVENT", "20060104T010000Z", "20060104T013000Z", Options{}) {
		t.Error("floating event not read in UTC by default")
	}
}

func TestDSTTransitions(t *testing.T) {
	obj := mustParse(t, event("DTSTART;TZID=Europe/Berlin:20240329T090000", "DURATION:PT1H", "RRULE:FREQ=DAILY;COUNT=4"))
	got := instanceStarts(t, obj, Options{}, "20240101T000000Z", "")
	want := []string{"20240329T080000Z", "20240330T080000Z", "20240331T070000Z", "20240401T070000Z"}
	if !slices.Equal(got, want) {
		t.Errorf("got %v want %v", got, want)
	}
	// An all-day event on the short day lasts 23 hours in Berlin.
	berlin, _ := time.LoadLocation("Europe/Berlin")
	day := mustParse(t, event("DTSTART;VALUE=DATE:20240331", "DTEND;VALUE=DATE:20240401"))
	if matchRange(t, day, "VEVENT", "20240331T220000Z", "20240331T230000Z", Options{Location: berlin}) {
		t.Error("23-hour day overlapped the next day")
	}
	// A wall time in the spring gap reads with the offset before the gap.
	gap := mustParse(t, event("DTSTART;TZID=Europe/Berlin:20240331T023000", "DURATION:PT1H"))
	if got := instanceStarts(t, gap, Options{}, "20240101T000000Z", ""); !slices.Equal(got, []string{"20240331T013000Z"}) {
		t.Errorf("gap time: got %v", got)
	}
}

// customZone is a VTIMEZONE whose TZID is not an IANA name, with Berlin's rules.
const customZone = "BEGIN:VTIMEZONE\r\nTZID:Custom/Zone\r\n" +
	"BEGIN:DAYLIGHT\r\nDTSTART:19700329T020000\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nEND:DAYLIGHT\r\n" +
	"BEGIN:STANDARD\r\nDTSTART:19701025T030000\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nEND:STANDARD\r\n" +
	"END:VTIMEZONE"

func TestEmbeddedVTIMEZONE(t *testing.T) {
	obj := mustParse(t, withZone(customZone, calendar(
		"BEGIN:VEVENT", "UID:z", "DTSTAMP:20060101T000000Z", "DTSTART;TZID=Custom/Zone:20241025T090000", "DURATION:PT1H", "RRULE:FREQ=DAILY;COUNT=4", "END:VEVENT")))
	got := instanceStarts(t, obj, Options{}, "20240101T000000Z", "")
	want := []string{"20241025T070000Z", "20241026T070000Z", "20241027T080000Z", "20241028T080000Z"}
	if !slices.Equal(got, want) {
		t.Errorf("got %v want %v", got, want)
	}
	// The embedded definition wins over an IANA zone of the same name.
	shadow := strings.Replace(customZone, "Custom/Zone", "America/New_York", 1)
	obj2 := mustParse(t, withZone(shadow, calendar("BEGIN:VEVENT", "UID:z", "DTSTAMP:20060101T000000Z", "DTSTART;TZID=America/New_York:20240701T090000", "END:VEVENT")))
	if got := instanceStarts(t, obj2, Options{}, "20240101T000000Z", ""); !slices.Equal(got, []string{"20240701T070000Z"}) {
		t.Errorf("embedded zone not preferred: %v", got)
	}
}

func TestWindowsTZID(t *testing.T) {
	for tzid, want := range map[string]string{
		"W. Europe Standard Time":        "20240701T070000Z",
		"Pacific Standard Time":          "20240701T160000Z",
		"\"Romance Standard Time\"":      "20240701T070000Z",
		"Tokyo Standard Time":            "20240701T000000Z",
		"India Standard Time":            "20240701T033000Z",
		"E. South America Standard Time": "20240701T120000Z",
	} {
		obj := mustParse(t, event("DTSTART;TZID="+tzid+":20240701T090000"))
		if got := instanceStarts(t, obj, Options{}, "20240101T000000Z", ""); !slices.Equal(got, []string{want}) {
			t.Errorf("%s: got %v want %s", tzid, got, want)
		}
	}
}

func TestWindowsTableResolves(t *testing.T) {
	if len(windowsZones) < 60 {
		t.Fatalf("only %d Windows zones", len(windowsZones))
	}
	for win, iana := range windowsZones {
		if _, err := time.LoadLocation(iana); err != nil {
			t.Errorf("%s -> %s: %v", win, iana, err)
		}
	}
}

// Q18: DAVx5 sends start = now-90d and no end; a series from years ago must match.
func TestOldSeriesOpenEndedRange(t *testing.T) {
	weekly := mustParse(t, event("DTSTART;TZID=Europe/Berlin:20120105T090000", "DTEND;TZID=Europe/Berlin:20120105T100000", "RRULE:FREQ=WEEKLY;BYDAY=TH"))
	if !matchRange(t, weekly, "VEVENT", "20250901T000000Z", "", Options{}) {
		t.Error("weekly series from 2012 did not match an open-ended range")
	}
	// Daily since 1990: far more instances than the cap before the range.
	daily := mustParse(t, event("DTSTART:19900101T090000Z", "DURATION:PT1H", "RRULE:FREQ=DAILY"))
	if !matchRange(t, daily, "VEVENT", "20250901T000000Z", "", Options{MaxInstances: 100}) {
		t.Error("daily series from 1990 did not match")
	}
	ended := mustParse(t, event("DTSTART:20100101T090000Z", "DURATION:PT1H", "RRULE:FREQ=DAILY;UNTIL=20150101T000000Z"))
	if matchRange(t, ended, "VEVENT", "20250901T000000Z", "", Options{}) {
		t.Error("ended series matched")
	}
}

func TestInstanceCap(t *testing.T) {
	obj := mustParse(t, event("DTSTART:20060101T000000Z", "RRULE:FREQ=MINUTELY"))
	_, err := Render(obj, &CalendarData{Expand: &TimeRange{Start: utc("20060101T000000Z"), End: utc("20070101T000000Z")}}, Options{MaxInstances: 1000})
	if !errors.Is(err, ErrTooManyInstances) {
		t.Errorf("expand: got %v, want ErrTooManyInstances", err)
	}
	// COUNT rules are walked from the start; a large COUNT hits the cap.
	counted := mustParse(t, event("DTSTART:20060101T000000Z", "RRULE:FREQ=DAILY;COUNT=50000", "DURATION:PT1M"))
	if _, err := Match(counted, rangeFilter("VEVENT", "21000101T000000Z", ""), Options{}); !errors.Is(err, ErrTooManyInstances) {
		t.Errorf("count: got %v, want ErrTooManyInstances", err)
	}
	// A rule that never produces anything exhausts the work budget.
	never := mustParse(t, event("DTSTART:20060101T000000Z", "RRULE:FREQ=SECONDLY;BYMONTH=2;BYMONTHDAY=30"))
	if _, err := Match(never, rangeFilter("VEVENT", "20070101T000000Z", ""), Options{}); !errors.Is(err, ErrTooComplex) {
		t.Errorf("never: got %v, want ErrTooComplex", err)
	}
}

// withZone inserts a VTIMEZONE block before the first VEVENT of cal.
func withZone(zone, cal string) string {
	return strings.Replace(cal, "BEGIN:VEVENT", zone+"\r\nBEGIN:VEVENT", 1)
}

// TestSharedVTIMEZONE: objects that carry the same definition share one
// built zone, concurrent evaluations agree, and a year whose onsets were
// cut short by a caller's budget is not kept for the next caller.
func TestSharedVTIMEZONE(t *testing.T) {
	mk := func(uid string) *Object {
		return mustParse(t, withZone(customZone, calendar(
			"BEGIN:VEVENT", "UID:"+uid, "DTSTAMP:20060101T000000Z", "DTSTART;TZID=Custom/Zone:20241025T090000", "DURATION:PT1H", "RRULE:FREQ=DAILY;COUNT=4", "END:VEVENT")))
	}
	a, b := mk("a"), mk("b")
	if sharedZones.get(a.tzdef["Custom/Zone"]) != sharedZones.get(b.tzdef["Custom/Zone"]) {
		t.Fatal("two objects with the same VTIMEZONE built two zones")
	}
	want := []string{"20241025T070000Z", "20241026T070000Z", "20241027T080000Z", "20241028T080000Z"}
	done := make(chan []string)
	for i := range 8 {
		go func() {
			obj := a
			if i%2 == 1 {
				obj = b
			}
			c := newCtx(obj, Options{})
			var got []string
			err := c.each(c.seriesOf(obj.root.Children[1]), utc("20240101T000000Z"), time.Time{}, func(in *instance) bool {
				got = append(got, formatUTC(in.start))
				return true
			})
			if err != nil {
				got = []string{err.Error()}
			}
			done <- got
		}()
	}
	for range 8 {
		if got := <-done; !slices.Equal(got, want) {
			t.Errorf("concurrent evaluation: got %v want %v", got, want)
		}
	}

	// A definition whose onsets cost more than the budget: the starved
	// evaluation fails, and a later one with room computes the year whole.
	busy := strings.Replace(customZone, "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU", "RRULE:FREQ=HOURLY;BYMONTH=3;BYDAY=-1SU;BYHOUR=2", 1)
	busy = strings.Replace(busy, "Custom/Zone", "Busy/Zone", 1)
	obj := mustParse(t, withZone(busy, calendar("BEGIN:VEVENT", "UID:z", "DTSTAMP:20060101T000000Z", "DTSTART;TZID=Busy/Zone:20240701T090000", "DURATION:PT1H", "END:VEVENT")))
	if _, err := Match(obj, rangeFilter("VEVENT", "20240101T000000Z", ""), Options{MaxSteps: 50}); !errors.Is(err, ErrTooComplex) {
		t.Fatalf("starved evaluation: got %v, want ErrTooComplex", err)
	}
	if got := instanceStarts(t, obj, Options{}, "20240101T000000Z", ""); !slices.Equal(got, []string{"20240701T070000Z"}) {
		t.Errorf("after a starved evaluation: got %v", got)
	}
}
