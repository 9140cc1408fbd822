package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coffer-dav/coffer/encryption"
)

// TestImportProgress: an import that takes longer than progressEvery says
// how far it is, and its summary comes after the progress lines.
func TestImportProgress(t *testing.T) {
	ctx := context.Background()
	dir := privateDir(t)
	c := &config{data: dir, kdf: encryption.MinKDF}
	openAndClose(t, dir, newUser{username: "pia", password: "pia-password"})
	var ics strings.Builder
	ics.WriteString("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//T//EN\r\n")
	for _, uid := range []string{"p1", "p2", "p3"} {
		ics.WriteString("BEGIN:VEVENT\r\nUID:" + uid + "\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260301T100000Z\r\nEND:VEVENT\r\n")
	}
	ics.WriteString("END:VCALENDAR\r\n")
	file := filepath.Join(dir, "in.ics")
	if err := os.WriteFile(file, []byte(ics.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	old := progressEvery
	progressEvery = 0
	defer func() { progressEvery = old }()
	var out bytes.Buffer
	lim := addLimitFlags(flag.NewFlagSet("import", flag.ContinueOnError))
	if err := importFile(ctx, c, lim, "pia", file, strings.NewReader("pia-password\n"), &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if want := "  1 of 3 objects\n  2 of 3 objects\nimported 3 of 3 objects for pia (calendar: 3)\n"; out.String() != want {
		t.Fatalf("the import said\n%q\nwant\n%q", out.String(), want)
	}
}
