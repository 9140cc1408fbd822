package integration_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestImportOneCalendar: "coffer import" of one VCALENDAR holding many
// components, as Google, Nextcloud, Thunderbird and Apple export a
// calendar, writes an object per UID (each with the time zone it uses)
// into the calendar or task list by component; a refused component makes
// it exit non-zero, and its summary, with the counts per collection,
// comes last. Before, the whole file was one object, refused because its
// components have different UIDs, and the import exited 0.
func TestImportOneCalendar(t *testing.T) {
	s := startServer(t, "")
	one, two := event("exp-1", "One"), event("exp-2", "Two")
	tz := one[strings.Index(one, "BEGIN:VTIMEZONE"):strings.Index(one, "BEGIN:VEVENT")]
	head := one[:strings.Index(one, "BEGIN:VTIMEZONE")]
	vevent := func(ev string) string {
		return ev[strings.Index(ev, "BEGIN:VEVENT"):strings.Index(ev, "END:VCALENDAR")]
	}
	todo := task("exp-3", "Three")
	vtodo := todo[strings.Index(todo, "BEGIN:VTODO"):strings.Index(todo, "END:VCALENDAR")]
	noUID := "BEGIN:VEVENT\r\nDTSTAMP:20261101T100000Z\r\nDTSTART:20261121T090000Z\r\nSUMMARY:no uid\r\nEND:VEVENT\r\n"
	ics := filepath.Join(t.TempDir(), "export.ics")
	if err := os.WriteFile(ics, []byte(head+tz+vevent(one)+vtodo+vevent(two)+noUID+"END:VCALENDAR\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	addUser(t, s.data, "gus", "gus-password")
	out, err := coffer(t, "gus-password\n", "import", "gus", ics, "--password-stdin", "--data", s.data)
	if err == nil {
		t.Fatalf("an import with a refused object exited 0:\n%s", out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	want := "imported 3 of 4 objects for gus (calendar: 2, tasks: 1); 1 refused: object 4 (line 53): refused (403): every component needs a UID"
	if last := lines[len(lines)-1]; !strings.HasSuffix(last, want) {
		t.Fatalf("the import ended with\n%q\nwant\n%q\n%s", last, want, out)
	}
	c := s.client(t, "gus", "gus-password")
	for path, body := range map[string]string{
		"/dav/calendars/gus/calendar/exp-1.ics": one,
		"/dav/calendars/gus/calendar/exp-2.ics": two,
		"/dav/calendars/gus/tasks/exp-3.ics":    head + vtodo + "END:VCALENDAR\r\n",
	} {
		if got := c.must(200, "GET", path, "").Body; got != body {
			t.Errorf("%s =\n%q\nwant\n%q", path, got, body)
		}
	}
}
