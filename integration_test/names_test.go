package integration_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// folderSize returns the bytes of the files in dir, the database, its WAL
// and everything else the server keeps there.
func folderSize(t *testing.T, dir string) int64 {
	t.Helper()
	var n int64
	err := filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			n += fi.Size()
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestNamesAreCapped: a path segment longer than 255 bytes or a path
// longer than 4 KiB is refused with 414 and a message, for every method,
// and 60 create-and-delete cycles of 400 KB names leave nothing behind,
// not even tombstones in the change log.
func TestNamesAreCapped(t *testing.T) {
	s := startServer(t, "")
	addUser(t, s.data, "nm", "names-password")
	c := s.client(t, "nm", "names-password")
	const book, p = "/dav/addressbooks/nm/contacts/", "/dav/addressbooks/nm/p/"
	c.must(201, "MKCOL", p, "")
	name := func(n int) string { return strings.Repeat("n", n) }
	// 21 + 16 × 251 + 60 bytes: each segment fits, the path does not.
	deep := "/dav/addressbooks/nm/" + strings.Repeat(name(250)+"/", 16) + name(60)
	steps := []struct {
		name, method, path, body string
		headers                  []string
		status                   int
		want                     string // in the body
	}{
		{"a 255-byte name", "PUT", book + name(251) + ".vcf", contact4("n255", "Two Five Five"), []string{"Content-Type", "text/vcard"}, 201, ""},
		{"a 256-byte name", "PUT", book + name(252) + ".vcf", contact4("n256", "Two Five Six"), []string{"Content-Type", "text/vcard"}, 414, "255 bytes"},
		{"a 256-byte name, escaped", "PUT", p + strings.Repeat("%C3%A9", 128), "x", nil, 414, "255 bytes"},
		{"a 256-byte collection", "MKCOL", p + name(256) + "/", "", nil, 414, "255 bytes"},
		{"a 4 KiB path", "PUT", deep, "x", nil, 414, "4096 bytes"},
		{"a 256-byte destination", "COPY", book + name(251) + ".vcf", "", []string{"Destination", p + name(256)}, 403, "255 bytes"},
		{"a 300 KB name", "PUT", p + name(300000), "x", nil, 414, "4096 bytes"},
		{"a 300 KB name is not there", "GET", p + name(300000), "", nil, 414, ""},
	}
	for _, st := range steps {
		r := c.do(st.method, st.path, st.body, st.headers...)
		if r.Status != st.status || !strings.Contains(r.Body, st.want) {
			t.Errorf("%s: %s: status %d, want %d with %q\n%.600s", st.name, st.method, r.Status, st.status, st.want, r.Body)
		}
	}

	// The attack of issue 11: 60 create-and-delete cycles of 400 KB names.
	before := folderSize(t, s.data)
	for i := range 60 {
		path := p + strings.Repeat(string(rune('a'+i%26)), 400000-1) + string(rune('a'+i/26))
		c.do("PUT", path, "x")
		c.do("DELETE", path, "")
	}
	s.Stop()
	after := folderSize(t, s.data)
	t.Logf("data folder: %d bytes before the cycles, %d after", before, after)
	if grown := after - before; grown > 1<<20 {
		t.Errorf("60 create-and-delete cycles of 400 KB names grew the data folder by %d bytes", grown)
	}
	if strings.Contains(s.output(), "status=500") {
		t.Errorf("a long name led to a 500:\n%s", s.output())
	}
}
