package main

import (
	"bufio"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// newTestAccessLog opens an access log in a temporary folder on clock c.
func newTestAccessLog(t *testing.T, c *fakeClock) *accessLog {
	t.Helper()
	l, err := newAccessLog(filepath.Join(t.TempDir(), "access"), 48*time.Hour, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	l.now = c.Now
	t.Cleanup(func() { l.Close() })
	return l
}

// readEntries reads every line of one access-log file as a generic map.
func readEntries(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []map[string]any
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("not a JSON line: %q", sc.Text())
		}
		out = append(out, m)
	}
	return out
}

// TestAccessLogEntries: one line per request with exactly the six fields,
// in the file of the request's hour; no query, header, body or credential.
func TestAccessLogEntries(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 3, 1, 9, 59, 59, 0, time.UTC)}
	l := newTestAccessLog(t, clock)
	h := l.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		clock.Advance(1500 * time.Microsecond)
		switch r.Method {
		case "PUT":
			w.WriteHeader(http.StatusCreated)
		case "PROPFIND":
			w.WriteHeader(http.StatusMultiStatus)
			io.WriteString(w, "<multistatus>BODY-MARKER-OUT</multistatus>")
		default:
			io.WriteString(w, "ok") // an implicit 200
		}
	}))
	requests := []struct {
		method, target, body string
		hourLater            bool
		want                 map[string]any
	}{
		{"PUT", "/dav/calendars/alice/calendar/a%40b.ics?password=QUERY-SECRET", "BEGIN:VCALENDAR\r\nSUMMARY:BODY-MARKER-IN\r\n", false,
			map[string]any{"time": "2026-03-01T09:59:59.000Z", "method": "PUT", "path": "/dav/calendars/alice/calendar/a%40b.ics", "status": 201.0, "duration_ms": 1.5, "user_agent": "DAVx5/4.4 (okhttp)"}},
		{"PROPFIND", "/dav/calendars/alice/", `<propfind xmlns="DAV:"><prop><displayname>BODY-MARKER-IN</displayname></prop></propfind>`, false,
			map[string]any{"method": "PROPFIND", "path": "/dav/calendars/alice/", "status": 207.0}},
		{"GET", "/healthz", "", true,
			map[string]any{"time": "2026-03-01T10:59:59.003Z", "method": "GET", "path": "/healthz", "status": 200.0}},
	}
	for _, rq := range requests {
		if rq.hourLater {
			clock.Advance(time.Hour)
		}
		req := httptest.NewRequest(rq.method, "http://dav.example.org"+rq.target, strings.NewReader(rq.body))
		req.SetBasicAuth("alice", "PASSWORD-SECRET")
		req.Header.Set("User-Agent", "DAVx5/4.4 (okhttp)")
		req.Header.Set("Cookie", "session=COOKIE-SECRET")
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
	files, _ := filepath.Glob(filepath.Join(l.dir, "*"))
	want := []string{filepath.Join(l.dir, "access-2026030109.jsonl"), filepath.Join(l.dir, "access-2026030110.jsonl")}
	if !slices.Equal(files, want) {
		t.Fatalf("files %v, want %v", files, want)
	}
	entries := append(readEntries(t, want[0]), readEntries(t, want[1])...)
	if len(entries) != len(requests) {
		t.Fatalf("%d entries, want %d", len(entries), len(requests))
	}
	fields := []string{"duration_ms", "method", "path", "status", "time", "user_agent"}
	for i, e := range entries {
		keys := make([]string, 0, len(e))
		for k := range e {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		if !slices.Equal(keys, fields) {
			t.Errorf("entry %d has fields %v, want %v", i, keys, fields)
		}
		for k, v := range requests[i].want {
			if e[k] != v {
				t.Errorf("entry %d: %s = %v, want %v", i, k, e[k], v)
			}
		}
	}
	for _, f := range want {
		b, _ := os.ReadFile(f)
		for _, secret := range []string{"QUERY-SECRET", "PASSWORD-SECRET", "YWxpY2U6", "COOKIE-SECRET", "BODY-MARKER", "alice:"} {
			if strings.Contains(string(b), secret) {
				t.Errorf("%s holds %q:\n%s", f, secret, b)
			}
		}
	}
}

// TestAccessLogPrune: files whose hour ended more than keep ago go; newer
// files and files that are not the log's stay.
func TestAccessLogPrune(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 3, 3, 12, 30, 0, 0, time.UTC)}
	l := newTestAccessLog(t, clock)
	files := []struct {
		name string
		kept bool
	}{
		{"access-2026030111.jsonl", false}, // ended 49.5 hours ago
		{"access-2026030112.jsonl", true},  // ended 47.5 hours ago: still within 48 hours
		{"access-2026030312.jsonl", true},  // the current hour
		{"access-2025123123.jsonl", false},
		{"access-garbage.jsonl", true},
		{"notes.txt", true},
	}
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(l.dir, f.name), []byte("{}\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	l.Prune()
	for _, f := range files {
		_, err := os.Stat(filepath.Join(l.dir, f.name))
		if kept := err == nil; kept != f.kept {
			t.Errorf("%s: kept %v, want %v", f.name, kept, f.kept)
		}
	}
	// An hour later, the next file is due.
	clock.Advance(time.Hour)
	l.Prune()
	if _, err := os.Stat(filepath.Join(l.dir, "access-2026030112.jsonl")); !os.IsNotExist(err) {
		t.Errorf("access-2026030112.jsonl survived past its 48 hours: %v", err)
	}
}
