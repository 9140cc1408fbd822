package integration_test

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestNothingReadableAtRest writes events, tasks, contacts and a collection
// name that carry markers, then searches every file of the data folder for
// them: while the server runs (the WAL holds the newest pages) and after it stopped.
func TestNothingReadableAtRest(t *testing.T) {
	s := startServer(t, "")
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
