package integration_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestAccessLog: with --access-log, every request leaves one JSON line with
// time, method, path, status, duration and user agent, in an hourly file;
// no password, Authorization header, query value or body. Without the
// flag, no access log is written.
func TestAccessLog(t *testing.T) {
	dir := t.TempDir()
	s := startServerWith(t, "", "--access-log", dir)
	addUser(t, s.data, "logged", "logged-password-1")
	c := s.client(t, "logged", "logged-password-1")
	const cal = "/dav/calendars/logged/calendar/"
	c.must(201, "PUT", cal+"a.ics", event("access-log-uid", "ACCESS-LOG-SUMMARY"), "Content-Type", "text/calendar", "User-Agent", "DAVx5/4.5.9-ose (okhttp)")
	c.must(207, "PROPPATCH", cal, `<propertyupdate xmlns="DAV:"><set><prop><displayname>ACCESS-LOG-NAME</displayname></prop></set></propertyupdate>`)
	c.must(200, "GET", cal+"a.ics?token=ACCESS-LOG-QUERY", "")
	s.client(t, "logged", "wrong-password-99").must(401, "PROPFIND", cal, "", "Depth", "0")
	c.must(200, "GET", "/healthz", "")
	s.Stop()

	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(files) == 0 || len(files) > 2 { // two when the run crossed an hour
		t.Fatalf("access-log files: %v", files)
	}
	var lines []map[string]any
	for _, f := range files {
		if !regexp.MustCompile(`^access-\d{10}\.jsonl$`).MatchString(filepath.Base(f)) {
			t.Errorf("unexpected file %s", f)
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, secret := range []string{"logged-password-1", "wrong-password-99", "Basic ", "bG9nZ2Vk", "ACCESS-LOG-", "BEGIN:VCALENDAR", "access-log-uid"} {
			if strings.Contains(string(b), secret) {
				t.Errorf("%s holds %q", f, secret)
			}
		}
		for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			var m map[string]any
			if err := json.Unmarshal([]byte(l), &m); err != nil {
				t.Fatalf("not JSON: %q", l)
			}
			lines = append(lines, m)
		}
	}
	want := []struct {
		method, path string
		status       float64
	}{
		{"PUT", cal + "a.ics", 201}, {"PROPPATCH", cal, 207}, {"GET", cal + "a.ics", 200}, {"PROPFIND", cal, 401}, {"GET", "/healthz", 200},
	}
	if len(lines) != len(want) {
		t.Fatalf("%d lines, want %d: %v", len(lines), len(want), lines)
	}
	for i, w := range want {
		l := lines[i]
		keys := make([]string, 0, len(l))
		for k := range l {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		if !slices.Equal(keys, []string{"duration_ms", "method", "path", "status", "time", "user_agent"}) {
			t.Errorf("line %d has the fields %v", i, keys)
		}
		if l["method"] != w.method || l["path"] != w.path || l["status"] != w.status {
			t.Errorf("line %d: %v, want %s %s %v", i, l, w.method, w.path, w.status)
		}
	}
	if lines[0]["user_agent"] != "DAVx5/4.5.9-ose (okhttp)" {
		t.Errorf("user agent: %v", lines[0]["user_agent"])
	}
	entries, _ := os.ReadDir(s.data)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "access") {
			t.Errorf("an access log in the data folder: %s", e.Name())
		}
	}
}
