package ical

import (
	"bytes"
	"encoding/xml"
	"strings"
	"testing"
)

func TestRenderExpand(t *testing.T) {
	obj := mustParse(t, withZone(customZone, calendar(
		"BEGIN:VEVENT", "UID:x", "DTSTAMP:20060101T000000Z", "DTSTART;TZID=Custom/Zone:20241025T090000", "DTEND;TZID=Custom/Zone:20241025T100000",
		"RRULE:FREQ=DAILY;COUNT=5", "EXDATE;TZID=Custom/Zone:20241026T090000", "SUMMARY:standup", "END:VEVENT",
		"BEGIN:VEVENT", "UID:x", "DTSTAMP:20060101T000000Z", "RECURRENCE-ID;TZID=Custom/Zone:20241028T090000", "DTSTART;TZID=Custom/Zone:20241028T140000",
		"DTEND;TZID=Custom/Zone:20241028T150000", "SUMMARY:moved", "END:VEVENT")))
	out, err := Render(obj, &CalendarData{Expand: &TimeRange{Start: utc("20241026T000000Z"), End: utc("20241029T000000Z")}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	for _, want := range []string{
		"DTSTART:20241027T080000Z\r\nDTEND:20241027T090000Z\r\n",
		"RECURRENCE-ID:20241027T080000Z\r\n",
		"RECURRENCE-ID:20241028T080000Z\r\n",
		"DTSTART:20241028T130000Z\r\n",
		"SUMMARY:moved\r\n",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("missing %q in\n%s", want, s)
		}
	}
	for _, bad := range []string{"RRULE", "EXDATE", "VTIMEZONE", "TZID", "20241025T", "20241026T"} {
		if strings.Contains(s, bad) {
			t.Errorf("unexpected %q in\n%s", bad, s)
		}
	}
	if n := strings.Count(s, "BEGIN:VEVENT"); n != 2 {
		t.Errorf("%d instances, want 2", n)
	}
}

func TestRenderLimitRecurrenceSet(t *testing.T) {
	obj := mustParse(t, calendar(
		"BEGIN:VEVENT", "UID:x", "DTSTAMP:20060101T000000Z", "DTSTART:20060102T100000Z", "DURATION:PT1H", "RRULE:FREQ=DAILY;COUNT=10", "END:VEVENT",
		"BEGIN:VEVENT", "UID:x", "DTSTAMP:20060101T000000Z", "RECURRENCE-ID:20060103T100000Z", "DTSTART:20060103T120000Z", "DURATION:PT1H", "SUMMARY:early", "END:VEVENT",
		"BEGIN:VEVENT", "UID:x", "DTSTAMP:20060101T000000Z", "RECURRENCE-ID:20060108T100000Z", "DTSTART:20060108T120000Z", "DURATION:PT1H", "SUMMARY:late", "END:VEVENT"))
	out, err := Render(obj, &CalendarData{LimitRecurrenceSet: &TimeRange{Start: utc("20060107T000000Z"), End: utc("20060109T000000Z")}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	if !strings.Contains(s, "RRULE:FREQ=DAILY;COUNT=10") || !strings.Contains(s, "SUMMARY:late") || strings.Contains(s, "SUMMARY:early") {
		t.Errorf("limit-recurrence-set output:\n%s", s)
	}
}

func TestRenderCompSelection(t *testing.T) {
	const doc = `<C:calendar-data xmlns:C="urn:ietf:params:xml:ns:caldav" content-type="text/calendar" version="2.0">
  <C:comp name="VCALENDAR"><C:prop name="VERSION"/>
    <C:comp name="VEVENT"><C:prop name="SUMMARY"/><C:prop name="UID"/><C:prop name="DESCRIPTION" novalue="yes"/></C:comp>
    <C:comp name="VTIMEZONE"/>
  </C:comp></C:calendar-data>`
	d := xml.NewDecoder(strings.NewReader(doc))
	tok, _ := d.Token()
	cd, err := DecodeCalendarData(d, tok.(xml.StartElement))
	if err != nil {
		t.Fatal(err)
	}
	obj := mustParse(t, withZone(customZone, calendar(attendeeEvent)))
	out, err := Render(obj, cd, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	for _, want := range []string{"VERSION:2.0\r\n", "UID:f1\r\n", "DESCRIPTION:\r\n", "SUMMARY:Caf\u00e9 Meeting\\, Room 5\r\n", "TZOFFSETFROM:+0100"} {
		if !strings.Contains(s, want) {
			t.Errorf("missing %q in\n%s", want, s)
		}
	}
	for _, bad := range []string{"PRODID", "ATTENDEE", "DTSTART:2006", "VALARM"} {
		if strings.Contains(s, bad) {
			t.Errorf("unexpected %q in\n%s", bad, s)
		}
	}
	if _, err := Parse(out); err != nil {
		t.Errorf("output does not parse: %v", err)
	}
}

func TestDecodeCalendarDataErrors(t *testing.T) {
	for _, doc := range []string{
		`<C:calendar-data xmlns:C="urn:ietf:params:xml:ns:caldav" content-type="application/json"/>`,
		`<C:calendar-data xmlns:C="urn:ietf:params:xml:ns:caldav"><C:expand start="20060101T000000Z"/></C:calendar-data>`,
	} {
		d := xml.NewDecoder(strings.NewReader(doc))
		tok, _ := d.Token()
		if _, err := DecodeCalendarData(d, tok.(xml.StartElement)); err == nil {
			t.Errorf("accepted %s", doc)
		}
	}
}

func TestLineFolding(t *testing.T) {
	long := strings.Repeat("\u00e9", 100)
	obj := mustParse(t, event("DTSTART:20060104T100000Z", "SUMMARY:"+long))
	out, err := Render(obj, &CalendarData{Comp: &CompSelect{Name: "VCALENDAR", AllProps: true, AllComps: true}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range bytes.Split(out, []byte("\r\n")) {
		if len(l) > 75 {
			t.Errorf("line of %d octets", len(l))
		}
	}
	back := mustParse(t, string(out))
	if got := back.root.Children[0].Props.Get("SUMMARY").Value; got != long {
		t.Errorf("folded value changed: %q", got)
	}
}
