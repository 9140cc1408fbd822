package ical

import "testing"

// Each case names the RFC 4791 section 9.9 table row it exercises.
func TestTimeRangeVEVENT(t *testing.T) {
	cases := []struct {
		row        string
		props      []string
		start, end string
		want       bool
	}{
		{"DTEND: start < DTEND and end > DTSTART (inside)", []string{"DTSTART:20060104T100000Z", "DTEND:20060104T110000Z"}, "20060104T103000Z", "20060104T104000Z", true},
		{"DTEND: range ends at DTSTART", []string{"DTSTART:20060104T100000Z", "DTEND:20060104T110000Z"}, "20060104T090000Z", "20060104T100000Z", false},
		{"DTEND: range starts at DTEND", []string{"DTSTART:20060104T100000Z", "DTEND:20060104T110000Z"}, "20060104T110000Z", "20060104T120000Z", false},
		{"DURATION>0: start < DTSTART+DURATION and end > DTSTART", []string{"DTSTART:20060104T100000Z", "DURATION:PT1H"}, "20060104T105900Z", "20060104T120000Z", true},
		{"DURATION>0: range starts at DTSTART+DURATION", []string{"DTSTART:20060104T100000Z", "DURATION:PT1H"}, "20060104T110000Z", "20060104T120000Z", false},
		{"DURATION=0: start <= DTSTART and end > DTSTART", []string{"DTSTART:20060104T100000Z", "DURATION:PT0S"}, "20060104T100000Z", "20060104T100001Z", true},
		{"DURATION=0: range ends at DTSTART", []string{"DTSTART:20060104T100000Z", "DURATION:PT0S"}, "20060104T090000Z", "20060104T100000Z", false},
		{"no DTEND/DURATION, DATE-TIME: start <= DTSTART and end > DTSTART", []string{"DTSTART:20060104T100000Z"}, "20060104T100000Z", "20060104T100001Z", true},
		{"no DTEND/DURATION, DATE-TIME: after DTSTART", []string{"DTSTART:20060104T100000Z"}, "20060104T100001Z", "20060104T110000Z", false},
		{"no DTEND/DURATION, DATE: start < DTSTART+P1D and end > DTSTART", []string{"DTSTART;VALUE=DATE:20060104"}, "20060104T230000Z", "20060105T010000Z", true},
		{"no DTEND/DURATION, DATE: range starts next day", []string{"DTSTART;VALUE=DATE:20060104"}, "20060105T000000Z", "20060106T000000Z", false},
		{"open end: start only", []string{"DTSTART:20060104T100000Z", "DTEND:20060104T110000Z"}, "20060104T100000Z", "", true},
		{"open start: end only", []string{"DTSTART:20060104T100000Z", "DTEND:20060104T110000Z"}, "", "20060104T100001Z", true},
		{"open end: after event", []string{"DTSTART:20060104T100000Z", "DTEND:20060104T110000Z"}, "20060105T000000Z", "", false},
	}
	for _, tc := range cases {
		t.Run(tc.row, func(t *testing.T) {
			lines := append([]string{"BEGIN:VEVENT", "UID:e", "DTSTAMP:20060101T000000Z"}, tc.props...)
			lines = append(lines, "END:VEVENT")
			obj := mustParse(t, calendar(lines...))
			if got := matchRange(t, obj, "VEVENT", tc.start, tc.end, Options{}); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestTimeRangeVTODO(t *testing.T) {
	cases := []struct {
		row        string
		props      []string
		start, end string
		want       bool
	}{
		{"DTSTART+DURATION: (start <= DTSTART+DURATION) and (end > DTSTART or end >= DTSTART+DURATION)", []string{"DTSTART:20060104T100000Z", "DURATION:PT1H"}, "20060104T110000Z", "20060104T120000Z", true},
		{"DTSTART+DURATION: range after", []string{"DTSTART:20060104T100000Z", "DURATION:PT1H"}, "20060104T110001Z", "20060104T120000Z", false},
		{"DTSTART+DURATION: range before", []string{"DTSTART:20060104T100000Z", "DURATION:PT1H"}, "20060104T080000Z", "20060104T100000Z", false},
		{"DTSTART+DUE: ((start < DUE) or (start <= DTSTART)) and ((end > DTSTART) or (end >= DUE))", []string{"DTSTART:20060104T100000Z", "DUE:20060104T120000Z"}, "20060104T110000Z", "20060104T113000Z", true},
		{"DTSTART+DUE: range starts at DUE", []string{"DTSTART:20060104T100000Z", "DUE:20060104T120000Z"}, "20060104T120000Z", "20060104T130000Z", false},
		{"DTSTART+DUE: range ends at DTSTART", []string{"DTSTART:20060104T100000Z", "DUE:20060104T120000Z"}, "20060104T090000Z", "20060104T100000Z", false},
		{"DTSTART only: (start <= DTSTART) and (end > DTSTART)", []string{"DTSTART:20060104T100000Z"}, "20060104T100000Z", "20060104T100001Z", true},
		{"DTSTART only: range after", []string{"DTSTART:20060104T100000Z"}, "20060104T100001Z", "20060105T000000Z", false},
		{"DUE only: (start < DUE) and (end >= DUE)", []string{"DUE:20060104T100000Z"}, "20060104T090000Z", "20060104T100000Z", true},
		{"DUE only: range starts at DUE", []string{"DUE:20060104T100000Z"}, "20060104T100000Z", "20060104T110000Z", false},
		{"COMPLETED+CREATED: ((start <= CREATED) or (start <= COMPLETED)) and ((end >= CREATED) or (end >= COMPLETED))", []string{"CREATED:20060101T000000Z", "COMPLETED:20060110T000000Z"}, "20060105T000000Z", "20060106T000000Z", true},
		{"COMPLETED+CREATED: range after both", []string{"CREATED:20060101T000000Z", "COMPLETED:20060110T000000Z"}, "20060110T000001Z", "20060111T000000Z", false},
		{"COMPLETED+CREATED: range before both", []string{"CREATED:20060101T000000Z", "COMPLETED:20060110T000000Z"}, "20051201T000000Z", "20051231T000000Z", false},
		{"COMPLETED+CREATED: range holds COMPLETED", []string{"CREATED:20060101T000000Z", "COMPLETED:20060110T000000Z"}, "20060109T000000Z", "20060111T000000Z", true},
		{"COMPLETED only: (start <= COMPLETED) and (end >= COMPLETED)", []string{"COMPLETED:20060110T000000Z"}, "20060109T000000Z", "20060110T000000Z", true},
		{"COMPLETED only: range after", []string{"COMPLETED:20060110T000000Z"}, "20060110T000001Z", "20060111T000000Z", false},
		{"CREATED only: (end > CREATED)", []string{"CREATED:20060110T000000Z"}, "20000101T000000Z", "20060110T000001Z", true},
		{"CREATED only: range ends at CREATED", []string{"CREATED:20060110T000000Z"}, "20000101T000000Z", "20060110T000000Z", false},
		{"no dates: TRUE", nil, "20000101T000000Z", "20000102T000000Z", true},
	}
	for _, tc := range cases {
		t.Run(tc.row, func(t *testing.T) {
			lines := append([]string{"BEGIN:VTODO", "UID:t", "DTSTAMP:20060101T000000Z"}, tc.props...)
			lines = append(lines, "END:VTODO")
			obj := mustParse(t, calendar(lines...))
			if got := matchRange(t, obj, "VTODO", tc.start, tc.end, Options{}); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestTimeRangeVJOURNAL(t *testing.T) {
	cases := []struct {
		row        string
		props      []string
		start, end string
		want       bool
	}{
		{"DATE-TIME DTSTART: (start <= DTSTART) and (end > DTSTART)", []string{"DTSTART:20060104T100000Z"}, "20060104T100000Z", "20060104T100001Z", true},
		{"DATE-TIME DTSTART: range after", []string{"DTSTART:20060104T100000Z"}, "20060104T100001Z", "20060104T110000Z", false},
		{"DATE DTSTART: (start < DTSTART+P1D) and (end > DTSTART)", []string{"DTSTART;VALUE=DATE:20060104"}, "20060104T120000Z", "20060104T130000Z", true},
		{"DATE DTSTART: next day", []string{"DTSTART;VALUE=DATE:20060104"}, "20060105T000000Z", "20060105T130000Z", false},
		{"no DTSTART: FALSE", nil, "20000101T000000Z", "", false},
	}
	for _, tc := range cases {
		t.Run(tc.row, func(t *testing.T) {
			lines := append([]string{"BEGIN:VJOURNAL", "UID:j", "DTSTAMP:20060101T000000Z"}, tc.props...)
			lines = append(lines, "END:VJOURNAL")
			obj := mustParse(t, calendar(lines...))
			if got := matchRange(t, obj, "VJOURNAL", tc.start, tc.end, Options{}); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// Q20: without a time-range, undated VJOURNAL and VTODO are returned.
func TestUndatedWithoutTimeRange(t *testing.T) {
	for _, comp := range []string{"VJOURNAL", "VTODO"} {
		obj := mustParse(t, calendar("BEGIN:"+comp, "UID:x", "DTSTAMP:20060101T000000Z", "SUMMARY:note", "END:"+comp))
		f := &Filter{Comp: CompFilter{Name: "VCALENDAR", Comps: []CompFilter{{Name: comp}}}}
		ok, err := Match(obj, f, Options{})
		if err != nil || !ok {
			t.Errorf("%s without time-range: got %v, %v", comp, ok, err)
		}
	}
}

func TestTimeRangeVFREEBUSY(t *testing.T) {
	cases := []struct {
		row        string
		props      []string
		start, end string
		want       bool
	}{
		{"DTSTART+DTEND: (start <= DTEND) and (end > DTSTART)", []string{"DTSTART:20060104T000000Z", "DTEND:20060105T000000Z"}, "20060105T000000Z", "20060106T000000Z", true},
		{"DTSTART+DTEND: range before", []string{"DTSTART:20060104T000000Z", "DTEND:20060105T000000Z"}, "20060103T000000Z", "20060104T000000Z", false},
		{"FREEBUSY: (start < period-end) and (end > period-start)", []string{"FREEBUSY:20060104T100000Z/PT1H,20060104T140000Z/20060104T150000Z"}, "20060104T143000Z", "20060104T144000Z", true},
		{"FREEBUSY: between periods", []string{"FREEBUSY:20060104T100000Z/PT1H,20060104T140000Z/20060104T150000Z"}, "20060104T110000Z", "20060104T140000Z", false},
		{"neither: FALSE", nil, "20000101T000000Z", "", false},
	}
	for _, tc := range cases {
		t.Run(tc.row, func(t *testing.T) {
			lines := append([]string{"BEGIN:VFREEBUSY", "UID:f", "DTSTAMP:20060101T000000Z"}, tc.props...)
			lines = append(lines, "END:VFREEBUSY")
			obj := mustParse(t, calendar(lines...))
			if got := matchRange(t, obj, "VFREEBUSY", tc.start, tc.end, Options{}); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestTimeRangeVALARM(t *testing.T) {
	alarmFilter := func(start, end string) *Filter {
		return &Filter{Comp: CompFilter{Name: "VCALENDAR", Comps: []CompFilter{{
			Name: "VEVENT", Comps: []CompFilter{{Name: "VALARM", TimeRange: &TimeRange{Start: utc(start), End: utc(end)}}},
		}}}}
	}
	event := func(extra []string, alarm ...string) string {
		lines := []string{"BEGIN:VEVENT", "UID:a", "DTSTAMP:20060101T000000Z", "DTSTART:20060104T100000Z", "DTEND:20060104T110000Z"}
		lines = append(lines, extra...)
		lines = append(lines, "BEGIN:VALARM", "ACTION:DISPLAY", "DESCRIPTION:x")
		lines = append(lines, alarm...)
		lines = append(lines, "END:VALARM", "END:VEVENT")
		return calendar(lines...)
	}
	cases := []struct {
		row        string
		obj        string
		start, end string
		want       bool
	}{
		{"relative to start: (start <= trigger) and (end > trigger)", event(nil, "TRIGGER:-PT15M"), "20060104T094500Z", "20060104T094501Z", true},
		{"relative to start: range ends at trigger", event(nil, "TRIGGER:-PT15M"), "20060104T090000Z", "20060104T094500Z", false},
		{"relative to end", event(nil, "TRIGGER;RELATED=END:PT5M"), "20060104T110500Z", "20060104T110600Z", true},
		{"absolute trigger", event(nil, "TRIGGER;VALUE=DATE-TIME:20060103T080000Z"), "20060103T075900Z", "20060103T080100Z", true},
		{"REPEAT+DURATION: third repetition", event(nil, "TRIGGER:-PT30M", "REPEAT:2", "DURATION:PT10M"), "20060104T095000Z", "20060104T095100Z", true},
		{"REPEAT+DURATION: after last repetition", event(nil, "TRIGGER:-PT30M", "REPEAT:2", "DURATION:PT10M"), "20060104T095100Z", "20060104T095900Z", false},
		{"recurring parent: alarm of the third instance", event([]string{"RRULE:FREQ=DAILY;COUNT=5"}, "TRIGGER:-PT15M"), "20060106T094500Z", "20060106T094600Z", true},
		{"recurring parent: after COUNT", event([]string{"RRULE:FREQ=DAILY;COUNT=5"}, "TRIGGER:-PT15M"), "20060110T094500Z", "20060110T094600Z", false},
	}
	for _, tc := range cases {
		t.Run(tc.row, func(t *testing.T) {
			ok, err := Match(mustParse(t, tc.obj), alarmFilter(tc.start, tc.end), Options{})
			if err != nil || ok != tc.want {
				t.Errorf("got %v, %v; want %v", ok, err, tc.want)
			}
		})
	}
}
