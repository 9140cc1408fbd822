package ical

import (
	"strings"
	"testing"
)

func TestFreeBusy(t *testing.T) {
	objs := []*Object{
		mustParse(t, event("DTSTART:20060104T100000Z", "DTEND:20060104T110000Z")),
		mustParse(t, strings.Replace(event("DTSTART:20060104T103000Z", "DTEND:20060104T120000Z"), "UID:r", "UID:r2", 1)),
		mustParse(t, event("DTSTART:20060104T130000Z", "DTEND:20060104T140000Z", "STATUS:TENTATIVE")),
		mustParse(t, event("DTSTART:20060104T150000Z", "DTEND:20060104T160000Z", "STATUS:CANCELLED")),
		mustParse(t, event("DTSTART:20060104T170000Z", "DTEND:20060104T180000Z", "TRANSP:TRANSPARENT")),
		mustParse(t, event("DTSTART:20060103T220000Z", "DTEND:20060104T010000Z", "RRULE:FREQ=DAILY;COUNT=2")),
		mustParse(t, calendar("BEGIN:VFREEBUSY", "UID:fb", "DTSTAMP:20060101T000000Z",
			"FREEBUSY;FBTYPE=BUSY-UNAVAILABLE:20060104T190000Z/PT1H", "FREEBUSY;FBTYPE=FREE:20060104T200000Z/PT1H", "END:VFREEBUSY")),
	}
	tr := TimeRange{Start: utc("20060104T000000Z"), End: utc("20060105T000000Z")}
	ps, err := FreeBusy(objs, tr, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range ps {
		got = append(got, formatUTC(p.Start)+"/"+formatUTC(p.End)+" "+p.Type)
	}
	want := []string{
		"20060104T000000Z/20060104T010000Z BUSY",
		"20060104T100000Z/20060104T120000Z BUSY",
		"20060104T130000Z/20060104T140000Z BUSY-TENTATIVE",
		"20060104T190000Z/20060104T200000Z BUSY-UNAVAILABLE",
		"20060104T220000Z/20060105T000000Z BUSY",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	out := string(EncodeFreeBusy(tr, ps, utc("20060101T000000Z")))
	for _, w := range []string{"BEGIN:VFREEBUSY", "DTSTART:20060104T000000Z", "FREEBUSY:20060104T100000Z/20060104T120000Z", "FREEBUSY;FBTYPE=BUSY-TENTATIVE:"} {
		if !strings.Contains(out, w) {
			t.Errorf("missing %q in\n%s", w, out)
		}
	}
	if _, err := FreeBusy(objs, TimeRange{Start: tr.Start}, Options{}); err == nil {
		t.Error("open-ended free-busy accepted")
	}
}
