package selfservice

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coffer-dav/coffer/dav/ical"
	"github.com/coffer-dav/coffer/storage"
	goical "github.com/emersion/go-ical"
)

// berlin is a VTIMEZONE as Thunderbird writes it.
const berlin = "BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\nBEGIN:DAYLIGHT\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nTZNAME:CEST\r\nDTSTART:19700329T020000\r\nRRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3\r\nEND:DAYLIGHT\r\nBEGIN:STANDARD\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nTZNAME:CET\r\nDTSTART:19701025T030000\r\nRRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n"

// newYork is a VTIMEZONE as Google writes it.
const newYork = "BEGIN:VTIMEZONE\r\nTZID:America/New_York\r\nX-LIC-LOCATION:America/New_York\r\nBEGIN:DAYLIGHT\r\nTZOFFSETFROM:-0500\r\nTZOFFSETTO:-0400\r\nTZNAME:EDT\r\nDTSTART:19700308T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU\r\nEND:DAYLIGHT\r\nBEGIN:STANDARD\r\nTZOFFSETFROM:-0400\r\nTZOFFSETTO:-0500\r\nTZNAME:EST\r\nDTSTART:19701101T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n"

// TestSplitCalendar: a VCALENDAR with several UIDs becomes one object per
// UID, with its overrides, the time zones it uses and the calendar's
// properties, every component byte for byte; one UID stays as it was.
func TestSplitCalendar(t *testing.T) {
	head := "BEGIN:VCALENDAR\r\nPRODID:-//Google Inc//Google Calendar 70.9054//EN\r\nVERSION:2.0\r\nX-WR-CALNAME:Work\r\n"
	master := "BEGIN:VEVENT\r\nUID:series@google.com\r\nDTSTAMP:20260101T000000Z\r\nDTSTART;TZID=Europe/Berlin:20260302T090000\r\nDURATION:PT30M\r\nRRULE:FREQ=WEEKLY;COUNT=4\r\nBEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:-PT5M\r\nEND:VALARM\r\nEND:VEVENT\r\n"
	override := "BEGIN:VEVENT\r\nUID:series@google.com\r\nDTSTAMP:20260101T000000Z\r\nRECURRENCE-ID;TZID=Europe/Berlin:20260309T090000\r\nDTSTART;TZID=\"Europe/Berlin\":20260309T100000\r\nDURATION:PT30M\r\nEND:VEVENT\r\n"
	single := "BEGIN:VEVENT\r\nUID:single@google.com\r\nDTSTAMP:20260101T000000Z\r\nDTSTART;TZID=America/New_York:20260305T120000\r\nDTEND;TZID=America/New_York:20260305T130000\r\nEND:VEVENT\r\n"
	utc := "BEGIN:VTODO\r\nUID:task-1\r\nDTSTAMP:20260101T000000Z\r\nSUMMARY:floating\r\n  folded\r\nEND:VTODO\r\n"
	lf := func(s string) string { return strings.ReplaceAll(s, "\r\n", "\n") }
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"one UID stays verbatim", head + berlin + newYork + master + override + "END:VCALENDAR\r\n", []string{head + berlin + newYork + master + override + "END:VCALENDAR\r\n"}},
		{"an object per UID, each with its time zones",
			head + newYork + berlin + master + single + utc + override + "END:VCALENDAR\r\n",
			[]string{
				head + berlin + master + override + "END:VCALENDAR\r\n",
				head + newYork + single + "END:VCALENDAR\r\n",
				head + utc + "END:VCALENDAR\r\n",
			}},
		{"bare line feeds", lf(head + berlin + master + single + "END:VCALENDAR\n"),
			[]string{lf(head + berlin + master + "END:VCALENDAR\n"), lf(head + single + "END:VCALENDAR\n")}},
		{"calendar properties after the components", "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n" + utc + single + "METHOD:PUBLISH\r\nEND:VCALENDAR\r\n",
			[]string{"BEGIN:VCALENDAR\r\nVERSION:2.0\r\n" + utc + "END:VCALENDAR\r\n", "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n" + single + "END:VCALENDAR\r\n"}},
		// RFC 4791 section 4.1: a stored object has no METHOD; an export
		// or an invitation does. Only the calendar's own line goes.
		{"METHOD of an export goes", head + "METHOD:PUBLISH\r\n" + single + "END:VCALENDAR\r\n", []string{head + single + "END:VCALENDAR\r\n"}},
		{"a folded METHOD goes", head + "METHOD:REQ\r\n UEST\r\n" + single + "X-A:METHOD:x\r\nEND:VCALENDAR\r\n", []string{head + single + "X-A:METHOD:x\r\nEND:VCALENDAR\r\n"}},
		{"METHOD in a component stays", head + strings.Replace(single, "DTSTAMP", "METHOD:x\r\nDTSTAMP", 1) + "END:VCALENDAR\r\n", []string{head + strings.Replace(single, "DTSTAMP", "METHOD:x\r\nDTSTAMP", 1) + "END:VCALENDAR\r\n"}},
		{"an END without its BEGIN leaves the calendar whole", head + single + utc + "END:VEVENT\r\nEND:VCALENDAR\r\n", []string{head + single + utc + "END:VEVENT\r\nEND:VCALENDAR\r\n"}},
		{"a BEGIN without its END leaves the calendar whole", head + single + utc + "BEGIN:VALARM\r\nEND:VCALENDAR\r\n", []string{head + single + utc + "BEGIN:VALARM\r\nEND:VCALENDAR\r\n"}},
		{"components without a UID each on their own", "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n" + "BEGIN:VEVENT\r\nSUMMARY:a\r\nEND:VEVENT\r\n" + "BEGIN:VEVENT\r\nSUMMARY:b\r\nEND:VEVENT\r\n" + "END:VCALENDAR\r\n",
			[]string{"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nSUMMARY:a\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n", "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nSUMMARY:b\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, c := range splitCalendar(chunk{body: []byte(tt.in), line: 1}) {
				got = append(got, string(c.body))
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("got\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

// bigCalendar writes one VCALENDAR with n events as a calendar app
// exports it: time zones first, every third event a weekly series (every
// ninth with an override that moves its second instance), the others
// single events, in three time zones and UTC.
func bigCalendar(n int) string {
	var b strings.Builder
	b.WriteString("BEGIN:VCALENDAR\r\nPRODID:-//Mozilla.org/NONSGML Mozilla Calendar V1.1//EN\r\nVERSION:2.0\r\n" + berlin + newYork)
	zones := []string{"Europe/Berlin", "America/New_York", ""}
	for i := range n {
		uid := fmt.Sprintf("ev-%04d@example.org", i)
		start := time.Date(2026, 3, 1+i%28, i%24, (i*7)%60, 0, 0, time.UTC).Format("20060102T150405")
		dt := ";TZID=" + zones[i%3] + ":" + start
		if zones[i%3] == "" {
			dt = ":" + start + "Z"
		}
		fmt.Fprintf(&b, "BEGIN:VEVENT\r\nUID:%s\r\nDTSTAMP:20260101T000000Z\r\nDTSTART%s\r\nDURATION:PT%dM\r\nSUMMARY:Event %d\r\n", uid, dt, 10+i%50, i)
		if i%3 == 0 {
			b.WriteString("RRULE:FREQ=WEEKLY;COUNT=5\r\n")
		}
		b.WriteString("END:VEVENT\r\n")
		if i%9 == 0 {
			second := time.Date(2026, 3, 8+i%28, i%24, (i*7)%60, 0, 0, time.UTC).Format("20060102T150405")
			rid := strings.Replace(dt, start, second, 1)
			moved := strings.Replace(dt, start, second[:9]+"23"+second[11:], 1)
			fmt.Fprintf(&b, "BEGIN:VEVENT\r\nUID:%s\r\nDTSTAMP:20260101T000000Z\r\nRECURRENCE-ID%s\r\nDTSTART%s\r\nDURATION:PT5M\r\nSUMMARY:Moved %d\r\nEND:VEVENT\r\n", uid, rid, moved, i)
		}
	}
	b.WriteString("END:VCALENDAR\r\n")
	return b.String()
}

// TestImportBigCalendar: a 2,000-event single-VCALENDAR export imports as
// 2,000 objects, and every instance in March 2026 of the imported objects
// is one of the source file's, and the other way round; exporting the
// account again gives one VCALENDAR with the same instances.
func TestImportBigCalendar(t *testing.T) {
	e := newEnv(t)
	acct := e.addUser("alice", "alice-password")
	id, err := e.auth.Login(context.Background(), "alice", "alice-password")
	if err != nil {
		t.Fatal(err)
	}
	space := e.db.Space(acct.ID, id.Keys)
	calls := 0
	target := Target{AccountID: acct.ID, Username: "alice", Space: space, Progress: func(int, int) { calls++ }}
	src := bigCalendar(2000)
	res, err := Import(context.Background(), target, strings.NewReader(src), int64(len(src)))
	if err != nil {
		t.Fatal(err)
	}
	if res.Objects != 2000 || res.Total != 2000 || res.Written["calendar"] != 2000 || len(res.Refused)+len(res.Skipped) != 0 || calls != 2000 {
		t.Fatalf("imported %d of %d (%v), refused %q, progress called %d times", res.Objects, res.Total, res.Written, res.Refused, calls)
	}
	march := ical.TimeRange{Start: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)}
	opts := ical.Options{MaxInstances: 100000, MaxSteps: 10000000}
	whole, err := ical.Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	coll, err := space.Collection(context.Background(), "calendars", "calendar")
	if err != nil {
		t.Fatal(err)
	}
	listed, err := space.Objects(context.Background(), coll.ID)
	if err != nil {
		t.Fatal(err)
	}
	instances := func(objs []*ical.Object) map[ical.BusyPeriod]int {
		out := map[ical.BusyPeriod]int{}
		for _, o := range objs {
			// One object at a time, so that overlapping events stay apart.
			ps, err := ical.FreeBusy([]*ical.Object{o}, march, opts)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range ps {
				out[p]++
			}
		}
		return out
	}
	var imported []*ical.Object
	for _, l := range listed {
		o, err := space.Object(context.Background(), coll.ID, l.Name, storage.ReadOptions{Body: true})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(src, string(o.Body[strings.Index(string(o.Body), "BEGIN:VEVENT"):strings.LastIndex(string(o.Body), "END:VEVENT")])) {
			t.Fatalf("%s: its events are not the source's bytes:\n%s", l.Name, o.Body)
		}
		p, err := ical.Parse(o.Body)
		if err != nil {
			t.Fatal(err)
		}
		imported = append(imported, p)
	}
	source := seriesApart(t, whole)
	if len(source) != 2000 {
		t.Fatalf("the source has %d UIDs", len(source))
	}
	want := instances(source)
	total := sameInstances(t, "the import", want, instances(imported))
	if total < 3000 {
		t.Fatalf("only %d instances in March 2026 after the import", total)
	}
	t.Logf("%d instances in March 2026 compared", total)

	// The export's calendar.ics is one VCALENDAR with the same instances.
	var zipped bytes.Buffer
	if err := Export(context.Background(), &zipped, space, acct, nil, time.Now()); err != nil {
		t.Fatal(err)
	}
	exported, err := ical.Parse([]byte(unzip(t, zipped.Bytes())["calendar.ics"]))
	if err != nil {
		t.Fatal(err)
	}
	if out := seriesApart(t, exported); len(out) != 2000 {
		t.Fatalf("the exported calendar has %d UIDs", len(out))
	} else {
		sameInstances(t, "the export", want, instances(out))
	}
}

// seriesApart cuts a calendar with many UIDs into an object per UID (each
// with every time zone of the calendar), with go-ical's own parser and
// encoder, independently of the import's cut.
func seriesApart(t *testing.T, whole *ical.Object) []*ical.Object {
	t.Helper()
	root := whole.Calendar()
	var order []string
	byUID := map[string]*goical.Component{}
	for _, ch := range root.Children {
		if ch.Name == goical.CompTimezone {
			continue
		}
		uid := ch.Props.Get(goical.PropUID).Value
		if byUID[uid] == nil {
			order = append(order, uid)
			byUID[uid] = &goical.Component{Name: goical.CompCalendar, Props: root.Props}
			for _, tz := range root.Children {
				if tz.Name == goical.CompTimezone {
					byUID[uid].Children = append(byUID[uid].Children, tz)
				}
			}
		}
		byUID[uid].Children = append(byUID[uid].Children, ch)
	}
	var out []*ical.Object
	for _, uid := range order {
		var buf bytes.Buffer
		if err := goical.NewEncoder(&buf).Encode(&goical.Calendar{Component: byUID[uid]}); err != nil {
			t.Fatal(err)
		}
		o, err := ical.Parse(buf.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, o)
	}
	return out
}

// sameInstances reports every instance that is in one of want and got
// and not as often in the other, and returns how many got holds.
func sameInstances(t *testing.T, what string, want, got map[ical.BusyPeriod]int) int {
	t.Helper()
	total := 0
	for p, n := range got {
		total += n
		if want[p] != n {
			t.Errorf("instance %v–%v of %s is not in the source", p.Start, p.End, what)
		}
	}
	for p, n := range want {
		if got[p] != n {
			t.Errorf("instance %v–%v of the source is not in %s", p.Start, p.End, what)
		}
	}
	return total
}
