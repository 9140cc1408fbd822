package integration_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// mountTmpfs mounts a tmpfs of size on a new folder, unmounted at the end.
// Without root it skips, except on CI, where the test must run.
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	need := func(msg string) {
		if os.Getenv("CI") != "" {
			t.Fatal(msg + " (CI must run this test)")
		}
		t.Skip(msg)
	}
	if os.Geteuid() != 0 {
		need("mounting a tmpfs needs root")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		need("cannot mount a tmpfs: " + strings.TrimSpace(string(out)))
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v %s", dir, err, out)
		}
	})
	return dir
}

// fillDisk writes a file into dir until the file system has no space left.
func fillDisk(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 64<<10)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("filling the disk: %v", err)
			}
			break
		}
	}
	for _, n := range []int{4096, 512, 1} { // the last partial pages too
		for {
			if _, err := f.Write(chunk[:n]); err != nil {
				break
			}
		}
	}
}

// TestDiskFull runs the server on a small tmpfs and fills it. Every method
// that writes then answers 507 sufficient-disk-space (RFC 4918 section
// 11.5, RFC 4331 section 6), never 500; reads keep working; and once space
// returns the same writes succeed, without a restart, with nothing lost and
// the database intact. /account/ answers 507 the same way.
func TestDiskFull(t *testing.T) {
	sqliteOnly(t, "the database is not in the data folder, so a full tmpfs there fills nothing; the cluster's disk is its own")
	dir := mountTmpfs(t, "24m")
	data := filepath.Join(dir, "data")
	s := startServer(t, data)
	addUser(t, data, "gus", "gus-password")
	gus := s.client(t, "gus", "gus-password")
	cal := "/dav/calendars/gus/calendar/"
	kept, doomed := event("gus-kept", "Kept"), event("gus-doomed", "Doomed")
	gus.must(201, "PUT", cal+"kept.ics", kept, "Content-Type", "text/calendar")
	gus.must(201, "PUT", cal+"doomed.ics", doomed, "Content-Type", "text/calendar")
	files := "/dav/calendars/gus/files/"
	gus.must(201, "MKCOL", files, "")
	gus.must(201, "PUT", files+"a.txt", "some notes", "Content-Type", "text/plain")

	filler := filepath.Join(dir, "filler")
	fillDisk(t, filler)
	writes := []struct {
		name, method, path, body string
		headers                  []string
		ok                       int
	}{
		{"PUT new", "PUT", cal + "new.ics", event("gus-new", "New"), []string{"Content-Type", "text/calendar"}, 201},
		{"PUT update", "PUT", cal + "kept.ics", event("gus-kept", "Kept, changed"), []string{"Content-Type", "text/calendar"}, 204},
		{"DELETE", "DELETE", cal + "doomed.ics", "", nil, 204},
		{"PROPPATCH", "PROPPATCH", cal, `<?xml version="1.0" encoding="utf-8"?><D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:displayname>Renamed</D:displayname></D:prop></D:set></D:propertyupdate>`, []string{"Content-Type", "application/xml"}, 207},
		{"MKCALENDAR", "MKCALENDAR", "/dav/calendars/gus/more/", "", nil, 201},
		{"MKCOL", "MKCOL", files + "sub/", "", nil, 201},
		{"COPY", "COPY", files + "a.txt", "", []string{"Destination", files + "b.txt"}, 201},
		{"MOVE", "MOVE", files + "a.txt", "", []string{"Destination", files + "c.txt"}, 201},
	}
	for _, w := range writes {
		r := gus.do(w.method, w.path, w.body, w.headers...)
		if r.Status != 507 || !strings.Contains(r.Body, "sufficient-disk-space") {
			t.Errorf("%s on a full disk: status %d, want 507 sufficient-disk-space\n%s", w.name, r.Status, r.Body)
		}
	}
	const newApp = `{"label": "on a full disk"}`
	if r := gus.do("POST", "/account/app-passwords", newApp, "Content-Type", "application/json"); r.Status != 507 {
		t.Errorf("creating an app password on a full disk: status %d, want 507\n%s", r.Status, r.Body)
	}
	// Reads go on, and show that nothing changed.
	if got := gus.must(200, "GET", cal+"kept.ics", "").Body; got != kept {
		t.Errorf("kept.ics on a full disk: %q", got)
	}
	if got := gus.must(200, "GET", cal+"doomed.ics", "").Body; got != doomed {
		t.Errorf("doomed.ics on a full disk: %q", got)
	}
	gus.must(404, "GET", cal+"new.ics", "")
	if list := gus.must(200, "GET", "/account/app-passwords", "").Body; strings.Contains(list, "full disk") {
		t.Errorf("an app password was created on a full disk: %s", list)
	}
	if r := gus.must(207, "PROPFIND", cal, "", "Depth", "1"); strings.Contains(r.Body, "Renamed") || !strings.Contains(r.Body, "kept.ics") {
		t.Errorf("PROPFIND on a full disk:\n%s", r.Body)
	}
	gus.must(404, "PROPFIND", "/dav/calendars/gus/more/", "", "Depth", "0")
	gus.must(200, "GET", files+"a.txt", "")
	for _, p := range []string{files + "sub/", files + "b.txt", files + "c.txt"} {
		gus.must(404, "PROPFIND", p, "", "Depth", "0")
	}

	// Space returns: the same writes work at once, on the same process.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	for _, w := range writes {
		gus.must(w.ok, w.method, w.path, w.body, w.headers...)
	}
	gus.must(404, "GET", cal+"doomed.ics", "")
	gus.must(201, "POST", "/account/app-passwords", newApp, "Content-Type", "application/json")
	gus.must(404, "GET", files+"a.txt", "")
	if got := gus.must(200, "GET", files+"c.txt", "").Body; got != "some notes" {
		t.Errorf("c.txt after the MOVE: %q", got)
	}
	if r := gus.must(207, "PROPFIND", cal, "", "Depth", "0"); !strings.Contains(r.Body, "Renamed") {
		t.Errorf("PROPPATCH after space returned did not hold:\n%s", r.Body)
	}
	s.Stop()
	checkIntegrity(t, data)
}
