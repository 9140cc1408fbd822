package integration_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestNothingReadableAtRest writes events, tasks, contacts and a collection
// name that carry markers, then searches every file of the data folder for
// them: while the server runs (the WAL holds the newest pages) and after it
// stopped. On PostgreSQL it searches every row of the database instead,
// bytea columns as hex too.
func TestNothingReadableAtRest(t *testing.T) {
	t.Setenv("COFFER_OPERATOR_LISTEN", "127.0.0.1:0")
	t.Setenv("COFFER_OPERATOR_TOKEN", operatorToken)
	t.Setenv("COFFER_LIFECYCLE", "on")
	secrets.add(operatorToken)
	s := startServerWith(t, "", "--rebuild-quiet", "100ms")
	m := operatorLine.FindStringSubmatch(s.output())
	if m == nil {
		t.Fatalf("no operator API address in the output:\n%s", s.output())
	}
	api := strings.TrimSuffix(m[1], "/")
	c := s.client(t, s.User, s.Password)
	home := "/dav/calendars/" + s.User + "/"
	book := "/dav/addressbooks/" + s.User + "/contacts/"
	const marker = "ZQX-MARKER-7731"
	c.must(201, "PUT", home+"calendar/"+marker+".ics", event(marker+"-uid", "Meeting with the "+marker+" board"), "Content-Type", "text/calendar")
	c.must(201, "PUT", home+"tasks/"+marker+".ics", task(marker+"-task", marker+" errand"), "Content-Type", "text/calendar")
	c.must(201, "PUT", book+marker+".vcf", contact4(marker+"-card", "Grace Hopperton"), "Content-Type", "text/vcard")
	c.must(207, "PROPPATCH", home+"calendar/", `<propertyupdate xmlns="DAV:"><set><prop><displayname>`+marker+` calendar</displayname></prop></set></propertyupdate>`)
	if !strings.Contains(c.must(200, "GET", book+marker+".vcf", "").Body, "Grace Hopperton") {
		t.Fatal("the contact does not read back")
	}
	needles := map[string][]byte{
		"marker":          []byte(marker),
		"contact name":    []byte("Grace Hopperton"),
		"event summary":   []byte("Meeting with the"),
		"photo bytes":     photoBytes,
		"photo in base64": []byte(base64.StdEncoding.EncodeToString(photoBytes)[:24]),
	}
	scan := func(when string) {
		if onPostgres() {
			for table, rows := range postgresRows(t, databaseFor(t, s.data)) {
				for what, n := range needles {
					if strings.Contains(rows, string(n)) || strings.Contains(rows, hex.EncodeToString(n)) {
						t.Errorf("%s: table %s holds the %s in plaintext", when, table, what)
					}
				}
			}
			return
		}
		files := 0
		filepath.WalkDir(s.data, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			files++
			for what, n := range needles {
				if bytes.Contains(b, n) {
					t.Errorf("%s: %s holds the %s in plaintext", when, filepath.Base(path), what)
				}
			}
			return nil
		})
		if files < 2 {
			t.Fatalf("%s: only %d files in the data folder", when, files)
		}
	}
	scan("while serving")

	// An app password with a marked label, and the notification its
	// creation records: the label is sealed, and the event names no device.
	const label = "ZQX-LABEL-3309 iPhone"
	needles["app-password label"] = []byte("ZQX-LABEL-3309")
	c.must(201, "POST", "/account/app-passwords", `{"label": "`+label+`"}`, "Content-Type", "application/json")
	if !strings.Contains(c.must(200, "GET", "/account/app-passwords", "").Body, label) {
		t.Fatal("the app password's label does not read back")
	}
	if exp := c.must(200, "GET", "/account/export", "").Body; !strings.Contains(exp, "notifications.json") {
		t.Fatal("the export has no notifications")
	}
	scan("after an app password and its notification")

	// A display-name change through the operator API: the display name is
	// readable to the operator (README), the rest stays sealed.
	const name = "ZQX-NAME-5512"
	if status, _ := operator(t, api, operatorToken, "PATCH", "/v1/accounts/"+s.User, `{"display_name": "`+name+`"}`); status != 200 {
		t.Fatalf("display-name change: %d", status)
	}
	scan("after a display-name change")

	// The purge: after the erase and the rebuild it schedules, nothing of
	// the account is left, its display name included.
	c.must(200, "POST", "/account/erase", `{"password": "`+s.Password+`"}`, "Content-Type", "application/json")
	deadline := time.Now().Add(30 * time.Second)
	for !onPostgres() && !strings.Contains(s.output(), `msg="database rebuilt"`) { // PostgreSQL rebuilds nothing
		if time.Now().After(deadline) {
			t.Fatalf("no rebuild within 30s after the erase:\n%s", s.output())
		}
		time.Sleep(50 * time.Millisecond)
	}
	needles["display name"] = []byte(name)
	scan("after the purge")
	s.Stop()
	scan("after shutdown")
}

// TestAcknowledgedWriteSurvivesKill: a PUT answered 201 is there, with the
// same ETag, after the server is killed with SIGKILL and started again.
func TestAcknowledgedWriteSurvivesKill(t *testing.T) {
	s := startServer(t, "")
	user, password, data := s.User, s.Password, s.data
	c := s.client(t, user, password)
	cal := "/dav/calendars/" + user + "/calendar/"
	etags := map[string]string{}
	for i := 0; i < 10; i++ {
		p := fmt.Sprintf("%skill-%d.ics", cal, i)
		etags[p] = c.must(201, "PUT", p, event(fmt.Sprintf("kill-%d", i), "Survivor"), "Content-Type", "text/calendar").Header.Get("ETag")
	}
	s.Kill()
	s2 := startServer(t, data)
	c2 := s2.client(t, user, password)
	for p, etag := range etags {
		r := c2.must(200, "GET", p, "")
		if r.Header.Get("ETag") != etag {
			t.Errorf("%s: ETag %s after restart, %s before", p, r.Header.Get("ETag"), etag)
		}
	}
	if strings.Contains(s2.output(), "password:") {
		t.Fatal("a restart with an existing account printed new credentials")
	}
}
