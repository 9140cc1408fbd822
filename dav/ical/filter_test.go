package ical

import (
	"errors"
	"testing"
)

const attendeeEvent = "BEGIN:VEVENT\r\nUID:f1\r\nDTSTAMP:20060101T000000Z\r\nDTSTART:20060104T100000Z\r\n" +
	"SUMMARY:Caf\u00e9 Meeting\\, Room 5\r\nDESCRIPTION:Bring the REPORT\r\n" +
	"ATTENDEE;PARTSTAT=ACCEPTED;CN=Jane Doe:mailto:jane@example.com\r\n" +
	"ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:bob@example.com\r\n" +
	"BEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:-PT5M\r\nEND:VALARM\r\nEND:VEVENT"

func TestFilters(t *testing.T) {
	obj := mustParse(t, calendar(attendeeEvent))
	ev := func(cf CompFilter) *Filter {
		cf.Name = "VEVENT"
		return &Filter{Comp: CompFilter{Name: "VCALENDAR", Comps: []CompFilter{cf}}}
	}
	tm := func(text, coll string, neg bool) *TextMatch {
		return &TextMatch{Text: text, Collation: coll, Negate: neg}
	}
	cases := []struct {
		name string
		f    *Filter
		want bool
	}{
		{"comp-filter present", ev(CompFilter{}), true},
		{"comp-filter absent", &Filter{Comp: CompFilter{Name: "VCALENDAR", Comps: []CompFilter{{Name: "VTODO"}}}}, false},
		{"comp-filter is-not-defined", &Filter{Comp: CompFilter{Name: "VCALENDAR", Comps: []CompFilter{{Name: "VTODO", IsNotDefined: true}}}}, true},
		{"comp-filter is-not-defined on present", ev(CompFilter{IsNotDefined: true}), false},
		{"nested VALARM present", ev(CompFilter{Comps: []CompFilter{{Name: "VALARM"}}}), true},
		{"prop-filter present", ev(CompFilter{Props: []PropFilter{{Name: "SUMMARY"}}}), true},
		{"prop-filter absent", ev(CompFilter{Props: []PropFilter{{Name: "LOCATION"}}}), false},
		{"prop-filter is-not-defined", ev(CompFilter{Props: []PropFilter{{Name: "LOCATION", IsNotDefined: true}}}), true},
		{"prop-filter is-not-defined on present", ev(CompFilter{Props: []PropFilter{{Name: "SUMMARY", IsNotDefined: true}}}), false},
		{"text-match ascii-casemap default", ev(CompFilter{Props: []PropFilter{{Name: "DESCRIPTION", TextMatch: tm("report", "", false)}}}), true},
		{"text-match sees unescaped text", ev(CompFilter{Props: []PropFilter{{Name: "SUMMARY", TextMatch: tm("meeting, room", "", false)}}}), true},
		{"text-match ascii-casemap leaves non-ASCII", ev(CompFilter{Props: []PropFilter{{Name: "SUMMARY", TextMatch: tm("CAF\u00c9", CollationASCIICasemap, false)}}}), false},
		{"text-match unicode-casemap folds non-ASCII", ev(CompFilter{Props: []PropFilter{{Name: "SUMMARY", TextMatch: tm("CAF\u00c9", CollationUnicodeCasemap, false)}}}), true},
		{"text-match octet is case-sensitive", ev(CompFilter{Props: []PropFilter{{Name: "DESCRIPTION", TextMatch: tm("report", CollationOctet, false)}}}), false},
		{"text-match octet exact", ev(CompFilter{Props: []PropFilter{{Name: "DESCRIPTION", TextMatch: tm("REPORT", CollationOctet, false)}}}), true},
		{"text-match negate-condition", ev(CompFilter{Props: []PropFilter{{Name: "DESCRIPTION", TextMatch: tm("report", "", true)}}}), false},
		{"text-match negate-condition on non-matching text", ev(CompFilter{Props: []PropFilter{{Name: "DESCRIPTION", TextMatch: tm("lunch", "", true)}}}), true},
		{"param-filter text-match", ev(CompFilter{Props: []PropFilter{{Name: "ATTENDEE", TextMatch: tm("jane", "", false), Params: []ParamFilter{{Name: "PARTSTAT", TextMatch: tm("accepted", "", false)}}}}}), true},
		{"param-filter on the same property instance", ev(CompFilter{Props: []PropFilter{{Name: "ATTENDEE", TextMatch: tm("bob", "", false), Params: []ParamFilter{{Name: "PARTSTAT", TextMatch: tm("accepted", "", false)}}}}}), false},
		{"param-filter present", ev(CompFilter{Props: []PropFilter{{Name: "ATTENDEE", Params: []ParamFilter{{Name: "CN"}}}}}), true},
		{"param-filter is-not-defined", ev(CompFilter{Props: []PropFilter{{Name: "ATTENDEE", TextMatch: tm("bob", "", false), Params: []ParamFilter{{Name: "CN", IsNotDefined: true}}}}}), true},
		{"prop-filter time-range", ev(CompFilter{Props: []PropFilter{{Name: "DTSTART", TimeRange: &TimeRange{Start: utc("20060104T000000Z"), End: utc("20060105T000000Z")}}}}), true},
		{"prop-filter time-range outside", ev(CompFilter{Props: []PropFilter{{Name: "DTSTAMP", TimeRange: &TimeRange{Start: utc("20060104T000000Z")}}}}), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Match(obj, tc.f, Options{})
			if err != nil || got != tc.want {
				t.Errorf("got %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

func TestParseFilterXML(t *testing.T) {
	const doc = `<?xml version="1.0"?>
<C:filter xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns:X="urn:other">
  <C:comp-filter name="VCALENDAR">
    <C:comp-filter name="VEVENT">
      <C:time-range start="20060104T000000Z"/>
      <X:ignored/>
      <C:prop-filter name="ATTENDEE">
        <C:text-match collation="i;octet" negate-condition="yes">mailto:x@example.com</C:text-match>
        <C:param-filter name="PARTSTAT"><C:is-not-defined/></C:param-filter>
      </C:prop-filter>
    </C:comp-filter>
  </C:comp-filter>
</C:filter>`
	f, err := ParseFilter([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	ev := f.Comp.Comps[0]
	if ev.Name != "VEVENT" || ev.TimeRange == nil || !ev.TimeRange.End.IsZero() || !ev.TimeRange.Start.Equal(utc("20060104T000000Z")) {
		t.Errorf("comp-filter: %+v", ev)
	}
	pf := ev.Props[0]
	if pf.TextMatch.Collation != CollationOctet || !pf.TextMatch.Negate || pf.TextMatch.Text != "mailto:x@example.com" || !pf.Params[0].IsNotDefined {
		t.Errorf("prop-filter: %+v", pf)
	}
	if comp, tr, ok := f.Prefilter(); !ok || comp != "VEVENT" || !tr.Start.Equal(utc("20060104T000000Z")) {
		t.Errorf("Prefilter: %v %v %v", comp, tr, ok)
	}
}

func TestParseFilterXMLErrors(t *testing.T) {
	const ns = `xmlns:C="urn:ietf:params:xml:ns:caldav"`
	cases := []struct {
		name, doc, cond string
	}{
		{"unsupported collation", `<C:filter ` + ns + `><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:prop-filter name="SUMMARY"><C:text-match collation="i;klingon">x</C:text-match></C:prop-filter></C:comp-filter></C:comp-filter></C:filter>`, CondSupportedCollation},
		{"not VCALENDAR", `<C:filter ` + ns + `><C:comp-filter name="VEVENT"/></C:filter>`, CondValidFilter},
		{"two comp-filters", `<C:filter ` + ns + `><C:comp-filter name="VCALENDAR"/><C:comp-filter name="VCALENDAR"/></C:filter>`, CondValidFilter},
		{"local time in time-range", `<C:filter ` + ns + `><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:time-range start="20060104T000000"/></C:comp-filter></C:comp-filter></C:filter>`, CondValidFilter},
		{"empty time-range", `<C:filter ` + ns + `><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:time-range/></C:comp-filter></C:comp-filter></C:filter>`, CondValidFilter},
		{"end before start", `<C:filter ` + ns + `><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:time-range start="20060104T000000Z" end="20060103T000000Z"/></C:comp-filter></C:comp-filter></C:filter>`, CondValidFilter},
		{"bad negate-condition", `<C:filter ` + ns + `><C:comp-filter name="VCALENDAR"><C:prop-filter name="X"><C:text-match negate-condition="maybe">a</C:text-match></C:prop-filter></C:comp-filter></C:filter>`, CondValidFilter},
		{"unknown CalDAV element", `<C:filter ` + ns + `><C:comp-filter name="VCALENDAR"><C:bogus/></C:comp-filter></C:filter>`, CondValidFilter},
		{"wrong namespace", `<filter><comp-filter name="VCALENDAR"/></filter>`, CondValidFilter},
		{"is-not-defined with tests", `<C:filter ` + ns + `><C:comp-filter name="VCALENDAR"><C:comp-filter name="VTODO"><C:is-not-defined/><C:prop-filter name="X"/></C:comp-filter></C:comp-filter></C:filter>`, CondValidFilter},
		{"truncated XML", `<C:filter ` + ns + `><C:comp-filter name="VCALENDAR">`, CondValidFilter},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseFilter([]byte(tc.doc))
			var e *Error
			if !errors.As(err, &e) || e.Condition != tc.cond {
				t.Errorf("got %v, want condition %s", err, tc.cond)
			}
		})
	}
	// Depth cap.
	deep := `<C:filter ` + ns + `><C:comp-filter name="VCALENDAR">`
	for i := 0; i < 100; i++ {
		deep += `<C:comp-filter name="X">`
	}
	if _, err := ParseFilter([]byte(deep)); err == nil {
		t.Error("deep filter accepted")
	}
}

func TestUnicodeCasemapDecomposes(t *testing.T) {
	tm := &TextMatch{Text: "cafe\u0301", Collation: CollationUnicodeCasemap}
	for _, s := range []string{"Café", "CAFÉ", "un café noir"} {
		if !tm.Matches(s) {
			t.Errorf("%q does not match %q under i;unicode-casemap", s, tm.Text)
		}
	}
}

func TestFilterStructure(t *testing.T) {
	const ns = `xmlns:C="urn:ietf:params:xml:ns:caldav"`
	tr := `<C:time-range start="20060104T000000Z" end="20060105T000000Z"/>`
	// in wraps comp-filters in the filter and the VCALENDAR comp-filter.
	in := func(inner string) string {
		return `<C:filter ` + ns + `><C:comp-filter name="VCALENDAR">` + inner + `</C:comp-filter></C:filter>`
	}
	comp := func(name, inner string) string {
		return `<C:comp-filter name="` + name + `">` + inner + `</C:comp-filter>`
	}
	prop := func(name, inner string) string {
		return `<C:prop-filter name="` + name + `">` + inner + `</C:prop-filter>`
	}
	cases := []struct {
		name, doc string
		valid     bool
	}{
		{"VEVENT time-range", in(comp("VEVENT", tr)), true},
		{"VTODO, VJOURNAL, VFREEBUSY time-range", in(comp("VTODO", tr) + comp("VJOURNAL", tr) + comp("VFREEBUSY", tr)), true},
		{"VALARM time-range in VEVENT", in(comp("VEVENT", comp("VALARM", tr))), true},
		{"VALARM in VTODO", in(comp("VTODO", comp("VALARM", ""))), true},
		{"STANDARD in VTIMEZONE", in(comp("VTIMEZONE", comp("STANDARD", "")+comp("daylight", ""))), true},
		{"X- component anywhere", in(comp("X-THING", comp("X-SUB", "")) + comp("VEVENT", comp("X-SUB", ""))), true},
		{"DTSTART time-range", in(comp("VEVENT", prop("DTSTART", tr))), true},
		{"the date and date-time properties", in(comp("VTODO", prop("DUE", tr)+prop("COMPLETED", tr)+prop("CREATED", tr)+prop("DTSTAMP", tr)+prop("LAST-MODIFIED", tr)+prop("RECURRENCE-ID", tr)+prop("EXDATE", tr)+prop("RDATE", tr)+prop("DTEND", tr))), true},
		{"TRIGGER time-range in VALARM", in(comp("VEVENT", comp("VALARM", prop("TRIGGER", tr)))), true},
		{"X- property time-range", in(comp("VEVENT", prop("X-DUE", tr))), true},
		{"SUMMARY text-match", in(comp("VEVENT", prop("SUMMARY", `<C:text-match>x</C:text-match>`))), true},

		{"time-range on SUMMARY", in(comp("VEVENT", prop("SUMMARY", tr))), false},
		{"time-range on UID", in(comp("VTODO", prop("uid", tr))), false},
		{"VEVENT in VEVENT", in(comp("VEVENT", comp("VEVENT", ""))), false},
		{"VEVENT in VALARM", in(comp("VEVENT", comp("VALARM", comp("VEVENT", "")))), false},
		{"VALARM in VCALENDAR", in(comp("VALARM", "")), false},
		{"VALARM in VJOURNAL", in(comp("VJOURNAL", comp("VALARM", ""))), false},
		{"STANDARD in VCALENDAR", in(comp("STANDARD", "")), false},
		{"VCALENDAR in VCALENDAR", in(comp("VCALENDAR", "")), false},
		{"time-range on VCALENDAR", `<C:filter ` + ns + `><C:comp-filter name="VCALENDAR">` + tr + `</C:comp-filter></C:filter>`, false},
		{"time-range on VTIMEZONE", in(comp("VTIMEZONE", tr)), false},
		{"time-range on STANDARD", in(comp("VTIMEZONE", comp("STANDARD", tr))), false},
		{"time-range on an X- component", in(comp("X-THING", tr)), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseFilter([]byte(tc.doc))
			var e *Error
			switch {
			case tc.valid && err != nil:
				t.Errorf("refused: %v", err)
			case !tc.valid && (!errors.As(err, &e) || e.Condition != CondValidFilter):
				t.Errorf("got %v, want %s", err, CondValidFilter)
			}
		})
	}
}
