package integration_test

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// icalendarCount is a Python script that opens each .ics with Debian's
// python3-icalendar as one calendar (it refuses a file of several
// VCALENDARs: "Found multiple components where only one is allowed") and
// prints its name, the number of components other than time zones, and
// the number of time zones.
const icalendarCount = `
import sys, icalendar
for path in sys.argv[1:]:
    with open(path, "rb") as f:
        cal = icalendar.Calendar.from_ical(f.read())
    subs = cal.subcomponents
    print(path.rsplit("/", 1)[-1], len([c for c in subs if c.name != "VTIMEZONE"]), len([c for c in subs if c.name == "VTIMEZONE"]))
`

// TestExportOpensInPythonICalendar: each calendar of an export is one
// VCALENDAR that python3-icalendar reads, with every component of the
// calendar's objects and each time zone they use once. Before, it was the
// objects one after the other, which the library refuses.
func TestExportOpensInPythonICalendar(t *testing.T) {
	python := requireTool(t, systemPython, func() error {
		out, err := exec.Command(systemPython, "-c", "import icalendar").CombinedOutput()
		if err != nil {
			return fmt.Errorf("import icalendar: %v: %s; apt-get install python3-icalendar", err, strings.TrimSpace(string(out)))
		}
		return nil
	})
	s := startServer(t, "")
	addUser(t, s.data, "hal", "hal-password")
	c := s.client(t, "hal", "hal-password")
	series := strings.Replace(event("hal-3", "Weekly"), "X-MOZ-GENERATION:1\r\n", "RRULE:FREQ=WEEKLY;COUNT=4\r\n", 1)
	override := event("hal-3", "Moved")
	override = override[strings.Index(override, "BEGIN:VEVENT"):strings.Index(override, "END:VCALENDAR")]
	override = strings.Replace(override, "DTSTART;", "RECURRENCE-ID;TZID=Europe/Vienna:20261127T090000\r\nDTSTART;", 1)
	series = strings.Replace(series, "END:VCALENDAR", override+"END:VCALENDAR", 1)
	for path, body := range map[string]string{
		"/dav/calendars/hal/calendar/hal-1.ics": event("hal-1", "One"),
		"/dav/calendars/hal/calendar/hal-2.ics": event("hal-2", "Two"),
		"/dav/calendars/hal/calendar/hal-3.ics": series,
		"/dav/calendars/hal/tasks/hal-4.ics":    task("hal-4", "Four"),
		"/dav/calendars/hal/tasks/hal-5.ics":    task("hal-5", "Five"),
	} {
		c.must(201, "PUT", path, body, "Content-Type", "text/calendar; charset=utf-8")
	}
	exp := c.must(200, "GET", "/account/export", "")
	zr, err := zip.NewReader(bytes.NewReader([]byte(exp.Body)), int64(len(exp.Body)))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var paths []string
	for _, f := range zr.File {
		if strings.Contains(f.Name, "/") || !strings.HasSuffix(f.Name, ".ics") {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		paths = append(paths, filepath.Join(dir, f.Name))
		if err := os.WriteFile(paths[len(paths)-1], b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	out, err := exec.Command(python, append([]string{"-c", icalendarCount}, paths...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("python3-icalendar could not read the export's calendars: %v\n%s", err, out)
	}
	// The calendar: two events and a series of two components, in one
	// time zone; the task list: two tasks, no time zone.
	if got, want := string(out), "calendar.ics 4 1\ntasks.ics 2 0\n"; got != want {
		t.Fatalf("python3-icalendar counts\n%s\nwant\n%s", got, want)
	}
}
