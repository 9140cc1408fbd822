package ical

import (
	"errors"
	"testing"
	"time"
)

// fuzzOpts keeps every fuzz iteration fast.
var fuzzOpts = Options{MaxInstances: 200, MaxSteps: 20000}

// FuzzParseFilter feeds arbitrary XML to the filter parser and evaluates
// whatever it accepts.
func FuzzParseFilter(f *testing.F) {
	f.Add([]byte(`<C:filter xmlns:C="urn:ietf:params:xml:ns:caldav"><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:time-range start="20060104T000000Z"/><C:prop-filter name="SUMMARY"><C:text-match collation="i;unicode-casemap">caf</C:text-match></C:prop-filter></C:comp-filter></C:comp-filter></C:filter>`))
	f.Add([]byte(`<C:filter xmlns:C="urn:ietf:params:xml:ns:caldav"><C:comp-filter name="VCALENDAR"><C:comp-filter name="VTODO"><C:is-not-defined/></C:comp-filter></C:comp-filter></C:filter>`))
	obj, err := Parse([]byte(calendar(attendeeEvent)))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 8192 {
			return
		}
		flt, err := ParseFilter(data)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if _, err := Match(obj, flt, fuzzOpts); err != nil && !errors.Is(err, ErrTooComplex) && !errors.Is(err, ErrTooManyInstances) {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("untyped error %v", err)
			}
		}
	})
}

// FuzzTimeRange evaluates arbitrary objects against bounded time-ranges and
// checks that the summary never rejects a match.
func FuzzTimeRange(f *testing.F) {
	f.Add(event("DTSTART:20060104T100000Z", "DURATION:PT1H", "RRULE:FREQ=DAILY;COUNT=5"), int64(0), int64(86400*3))
	f.Add(calendar("BEGIN:VTODO", "UID:t", "DUE;TZID=Europe/Berlin:20060104T100000", "END:VTODO"), int64(-86400), int64(0))
	f.Add(withZone(customZone, event("DTSTART;TZID=Custom/Zone:20061029T023000", "RRULE:FREQ=HOURLY;COUNT=4")), int64(86400*290), int64(86400*300))
	f.Add(event("DTSTART:20060104T100000Z", "BEGIN:VALARM", "TRIGGER;RELATED=END:-PT5M", "REPEAT:3", "DURATION:PT1M", "END:VALARM"), int64(86400*2), int64(-1))
	base := utc("20060101T000000Z")
	f.Fuzz(func(t *testing.T, ics string, a, b int64) {
		if len(ics) > 4096 {
			return
		}
		obj, err := Parse([]byte(ics))
		if err != nil {
			return
		}
		const span = 86400 * 365 * 20
		var tr TimeRange
		if a >= 0 {
			tr.Start = base.Add(time.Duration(a%span) * time.Second)
		}
		if b >= 0 {
			tr.End = tr.Start.Add(time.Duration(1+b%span) * time.Second)
			if tr.Start.IsZero() {
				tr.End = base.Add(time.Duration(b%span) * time.Second)
			}
		}
		if tr.Start.IsZero() && tr.End.IsZero() {
			tr.Start = base
		}
		sum, sumErr := Summarize(obj, nil, fuzzOpts)
		for _, comp := range obj.Components() {
			flt := &Filter{Comp: CompFilter{Name: "VCALENDAR", Comps: []CompFilter{{Name: comp, TimeRange: &tr},
				{Name: comp, Comps: []CompFilter{{Name: "VALARM", TimeRange: &tr}}}}}}
			ok, err := Match(obj, &Filter{Comp: CompFilter{Name: "VCALENDAR", Comps: flt.Comp.Comps[:1]}}, fuzzOpts)
			if err == nil && ok && sumErr == nil && comp == sum.Component && !sum.MayOverlap(tr.Start, tr.End) {
				t.Fatalf("Match true but MayOverlap false: %+v %+v", sum, tr)
			}
			_, _ = Match(obj, flt, fuzzOpts)
		}
		if !tr.Start.IsZero() && !tr.End.IsZero() {
			_, _ = FreeBusy([]*Object{obj}, tr, fuzzOpts)
			_, _ = Render(obj, &CalendarData{Expand: &tr}, fuzzOpts)
		}
	})
}

// FuzzExpand expands arbitrary recurrence rules, dates and zones.
func FuzzExpand(f *testing.F) {
	f.Add("FREQ=YEARLY;BYWEEKNO=1,-1;BYDAY=MO,SU;WKST=SU", "20060101T090000", "Europe/Berlin", "20060110T090000,20060111")
	f.Add("FREQ=MONTHLY;BYDAY=-1FR;BYSETPOS=1,-1;INTERVAL=3", "20060131T235959Z", "", "")
	f.Add("FREQ=SECONDLY;BYHOUR=25", "20060101", "W. Europe Standard Time", "")
	f.Add("FREQ=MINUTELY;INTERVAL=7;BYMONTHDAY=-1;UNTIL=20070101T000000Z", "20060105T010203", "Custom/Zone", "")
	f.Fuzz(func(t *testing.T, rule, start, tzid, exdate string) {
		if len(rule)+len(start)+len(tzid)+len(exdate) > 512 {
			return
		}
		ds := "DTSTART:" + start
		if tzid != "" {
			ds = "DTSTART;TZID=" + tzid + ":" + start
		}
		obj, err := Parse([]byte(withZone(customZone, event(ds, "DURATION:PT1H", "RRULE:"+rule, "EXDATE:"+exdate))))
		if err != nil {
			return
		}
		tr := TimeRange{Start: utc("20050101T000000Z"), End: utc("20080101T000000Z")}
		_, _ = Render(obj, &CalendarData{Expand: &tr}, fuzzOpts)
		_, _ = Match(obj, rangeFilter("VEVENT", "20300101T000000Z", ""), fuzzOpts)
		_, _ = Summarize(obj, nil, fuzzOpts)
	})
}

// FuzzParseZone feeds CALDAV:timezone texts to ParseZone and evaluates a
// floating event in each zone it accepts.
func FuzzParseZone(f *testing.F) {
	f.Add(rfcEastern)
	f.Add(withZone(customZone, calendar()))
	f.Add("garbage")
	obj, err := Parse([]byte(event("DTSTART:20270101T010000", "RRULE:FREQ=WEEKLY;COUNT=3")))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, text string) {
		if len(text) > 8192 {
			return
		}
		z, err := ParseZone([]byte(text))
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Condition != CondValidCalendarData {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		opts := fuzzOpts
		opts.Zone = z
		if _, err := Match(obj, rangeFilter("VEVENT", "20261201T000000Z", "20270201T000000Z"), opts); err != nil && !errors.Is(err, ErrTooComplex) && !errors.Is(err, ErrTooManyInstances) {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("untyped error %v", err)
			}
		}
	})
}
