package integration_test

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSelfService drives the /account/ endpoints of the real binary: app
// passwords for DAV, export, "coffer import" of the export into a new
// account while the server runs, a password change, and erasure.
func TestSelfService(t *testing.T) {
	s := startServer(t, "")
	addUser(t, s.data, "dora", "dora-password")
	addUser(t, s.data, "emil", "emil-password")
	dora := s.client(t, "dora", "dora-password")
	cal := "/dav/calendars/dora/"
	mk := `<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns:A="http://apple.com/ns/ical/"><D:set><D:prop><D:displayname>Garden club</D:displayname><A:calendar-color>#00FF00FF</A:calendar-color><C:calendar-description>Meetings &amp; chores</C:calendar-description></D:prop></D:set></C:mkcalendar>`
	dora.must(201, "MKCALENDAR", cal+"garden/", mk)
	objects := map[string]string{
		cal + "garden/meet.ics":                     event("dora-meet", "Seed swap"),
		cal + "tasks/dig.ics":                       task("dora-dig", "Dig the beds"),
		"/dav/addressbooks/dora/contacts/ann.vcf":   contact3("dora-ann", "Ann Gardener"),
		"/dav/addressbooks/dora/contacts/bo.vcf":    contact4("dora-bo", "Bo Planter"),
		"/dav/calendars/dora/calendar/birthday.ics": event("dora-bday", "Birthday"),
	}
	for path, body := range objects {
		ct := "text/calendar"
		if strings.HasSuffix(path, ".vcf") {
			ct = "text/vcard"
		}
		dora.must(201, "PUT", path, body, "Content-Type", ct)
	}

	// An app password works for DAV; the list never shows it.
	r := dora.must(201, "POST", "/account/app-passwords", `{"label": "Dora's phone"}`, "Content-Type", "application/json")
	var created struct{ ID, Password string }
	if err := json.Unmarshal([]byte(r.Body), &created); err != nil || created.Password == "" {
		t.Fatalf("create app password: %s", r.Body)
	}
	secrets.add(created.Password)
	phone := s.client(t, "dora", created.Password)
	phone.must(207, "PROPFIND", cal, "", "Depth", "1")
	if list := dora.must(200, "GET", "/account/app-passwords", "").Body; strings.Contains(list, created.Password) || !strings.Contains(list, "Dora's phone") {
		t.Fatalf("app password list: %s", list)
	}

	// Export, then restore into emil with the CLI while the server runs.
	exp := dora.must(200, "GET", "/account/export", "")
	zr, err := zip.NewReader(strings.NewReader(exp.Body), int64(len(exp.Body)))
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, f := range zr.File {
		names[f.Name] = true
	}
	for _, want := range []string{"garden.ics", "calendar.ics", "tasks.ics", "contacts.vcf", "collections.json", "account.json", "notifications.json"} {
		if !names[want] {
			t.Fatalf("the export lacks %s: %v", want, names)
		}
	}
	if !strings.Contains(readZip(t, zr, "notifications.json"), "app_password_created") {
		t.Errorf("notifications.json does not hold the app password's creation")
	}
	zipFile := filepath.Join(t.TempDir(), "dora.zip")
	if err := os.WriteFile(zipFile, []byte(exp.Body), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := coffer(t, "wrong-password\n", "import", "emil", zipFile, "--password-stdin", "--data", s.data); err == nil {
		t.Fatalf("import with a wrong password succeeded:\n%s", out)
	}
	if out, err := coffer(t, "emil-password\n", "import", "emil", zipFile, "--password-stdin", "--data", s.data); err != nil || !strings.Contains(out, "imported 5 of 5 objects") {
		t.Fatalf("import: %v\n%s", err, out)
	}
	emil := s.client(t, "emil", "emil-password")
	for path, body := range objects {
		if got := emil.must(200, "GET", strings.Replace(path, "/dora/", "/emil/", 1), "").Body; got != body {
			t.Errorf("%s after import: %q, want %q", path, got, body)
		}
	}
	props := `<D:propfind xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns:A="http://apple.com/ns/ical/"><D:prop><D:displayname/><A:calendar-color/><C:calendar-description/><C:supported-calendar-component-set/></D:prop></D:propfind>`
	a := dora.must(207, "PROPFIND", cal+"garden/", props, "Depth", "0").Body
	b := emil.must(207, "PROPFIND", "/dav/calendars/emil/garden/", props, "Depth", "0").Body
	if strings.ReplaceAll(a, "/dora/", "/emil/") != b {
		t.Fatalf("collection properties differ:\n%s\n%s", a, b)
	}

	// Revoking the app password ends it at once.
	dora.must(200, "DELETE", "/account/app-passwords/"+created.ID, "")
	phone.must(401, "PROPFIND", cal, "", "Depth", "0")

	// A password change: the old one stops at once, the data stays readable.
	dora.must(200, "POST", "/account/password", `{"current": "dora-password", "new": "dora-new-password"}`, "Content-Type", "application/json")
	secrets.add("dora-new-password")
	dora.must(401, "PROPFIND", cal, "", "Depth", "0")
	dora = s.client(t, "dora", "dora-new-password")
	if got := dora.must(200, "GET", cal+"garden/meet.ics", "").Body; got != objects[cal+"garden/meet.ics"] {
		t.Fatalf("data after the password change: %q", got)
	}

	// Erasure needs the password again, then leaves nothing behind.
	dora.must(403, "POST", "/account/erase", `{"password": "dora-password"}`, "Content-Type", "application/json")
	dora.must(200, "POST", "/account/erase", `{"password": "dora-new-password"}`, "Content-Type", "application/json")
	dora.must(401, "PROPFIND", cal, "", "Depth", "0")
	for _, name := range []string{"coffer.db", "coffer.db-wal"} {
		content, err := os.ReadFile(filepath.Join(s.data, name))
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		if bytes.Contains(content, []byte("dora@example.org")) {
			t.Errorf("%s still holds dora's e-mail address", name)
		}
	}
	emil.must(200, "GET", "/dav/calendars/emil/garden/meet.ics", "")
}

// readZip returns one file of a zip.
func readZip(t *testing.T, zr *zip.Reader, name string) string {
	t.Helper()
	f, err := zr.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestCrossSiteRequests replays, against the binary, the request a page on
// another site makes with the browser's cached Basic credentials: a
// text/plain POST that created an app password. It and its variants are
// refused, DAV writes from another site too, and nothing changes; the same
// requests without those headers, as programs and DAV clients send them,
// work.
func TestCrossSiteRequests(t *testing.T) {
	s := startServer(t, "")
	addUser(t, s.data, "fritz", "fritz-password")
	fritz := s.client(t, "fritz", "fritz-password")
	fritz.must(200, "GET", "/account/app-passwords", "") // the credentials are now cached
	const label = `{"label": "evil"}`
	ev := "/dav/calendars/fritz/calendar/x.ics"
	for _, rq := range []struct {
		name, method, path, body string
		headers                  []string
		status                   int
	}{
		{"text/plain from evil.example", "POST", "/account/app-passwords", label, []string{"Content-Type", "text/plain", "Origin", "https://evil.example"}, 403},
		{"text/plain without Origin", "POST", "/account/app-passwords", label, []string{"Content-Type", "text/plain"}, 415},
		{"JSON, Sec-Fetch-Site cross-site", "POST", "/account/app-passwords", label, []string{"Content-Type", "application/json", "Sec-Fetch-Site", "cross-site"}, 403},
		{"DAV PUT from evil.example", "PUT", ev, event("evil", "Evil"), []string{"Content-Type", "text/calendar", "Origin", "https://evil.example"}, 403},
		{"DAV MKCALENDAR from evil.example", "MKCALENDAR", "/dav/calendars/fritz/evil/", "", []string{"Origin", "https://evil.example"}, 403},
	} {
		if r := fritz.do(rq.method, rq.path, rq.body, rq.headers...); r.Status != rq.status {
			t.Errorf("%s: status %d, want %d\n%s", rq.name, r.Status, rq.status, r.Body)
		}
	}
	if list := fritz.must(200, "GET", "/account/app-passwords", "").Body; strings.Contains(list, "evil") {
		t.Fatalf("a cross-site request created an app password: %s", list)
	}
	fritz.must(404, "GET", ev, "")
	fritz.must(404, "PROPFIND", "/dav/calendars/fritz/evil/", "", "Depth", "0")
	fritz.must(201, "POST", "/account/app-passwords", `{"label": "laptop"}`, "Content-Type", "application/json")
	fritz.must(201, "PUT", ev, event("own", "Own"), "Content-Type", "text/calendar")
}
