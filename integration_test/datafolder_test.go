package integration_test

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestOneServerPerDataFolder: serve holds the data folder's lock. A second
// serve, and a restore onto the folder, are refused with a message naming
// the running server; once it stops, the restore goes through. Before, both
// started without a word, and a restore under a running server lost the
// writes acknowledged after it.
func TestOneServerPerDataFolder(t *testing.T) {
	s := startServer(t, "")
	pid := "pid " + strconv.Itoa(s.cmd.Process.Pid)
	abs, _ := filepath.Abs(s.data)
	if !strings.Contains(s.output(), "data folder "+abs) {
		t.Errorf("serve does not print the absolute data folder %s:\n%s", abs, s.output())
	}
	tests := []struct {
		name string
		args []string
	}{
		{"second serve", []string{"serve", "--data", s.data, "--listen", "127.0.0.1:0"}},
	}
	backup := filepath.Join(t.TempDir(), "backup")
	if !onPostgres() { // PostgreSQL: backups are pg_dump's job
		if out, err := coffer(t, "", "backup", backup, "--data", s.data); err != nil {
			t.Fatalf("backup beside a running server: %v\n%s", err, out)
		}
		tests = append(tests, struct {
			name string
			args []string
		}{"restore", []string{"restore", backup, "--data", s.data, "--force"}})
	}
	for _, tt := range tests {
		out, err := coffer(t, "", tt.args...)
		if err == nil || !strings.Contains(out, "in use") || !strings.Contains(out, pid) {
			t.Errorf("%s beside a running server: %v\n%s\nwant a refusal naming %s", tt.name, err, out, pid)
		}
	}
	c := s.client(t, s.User, s.Password)
	c.must(201, "PUT", "/dav/calendars/"+s.User+"/calendar/after.ics", event("after-backup", "Kept"), "Content-Type", "text/calendar")
	s.Stop()
	if onPostgres() {
		return
	}
	if out, err := coffer(t, "", "restore", backup, "--data", s.data, "--force"); err != nil {
		t.Fatalf("restore onto a stopped server's folder: %v\n%s", err, out)
	}
}

// TestOnlyServeCreatesAFolder: a mistyped --data makes no new database. Every
// command but serve and restore refuses a folder without one, naming the
// absolute path it looked at, and leaves nothing behind; a serve that
// cannot listen leaves no folder either.
func TestOnlyServeCreatesAFolder(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "typo")
	// On PostgreSQL the folder holds only the server secret.
	abs, _ := filepath.Abs(filepath.Join(missing, "coffer.db"))
	if onPostgres() {
		abs, _ = filepath.Abs(filepath.Join(missing, "server.key"))
	}
	ics := filepath.Join(t.TempDir(), "one.ics")
	if err := os.WriteFile(ics, []byte(event("typo-1", "One")), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"user", "list"},
		{"user", "add", "tom", "--password-stdin"},
		{"user", "delete", "tom"},
		{"account", "show", "tom"},
		{"import", "tom", ics, "--password-stdin"},
		{"backup", filepath.Join(t.TempDir(), "b")},
	} {
		out, err := coffer(t, "tom's long password\n", append(args, "--data", missing)...)
		want := abs
		if onPostgres() && args[0] == "backup" {
			want = "pg_dump"
		}
		if err == nil || !strings.Contains(out, want) {
			t.Errorf("%v on a missing folder: %v\n%s\nwant a refusal naming %s", args, err, out, want)
		}
		if _, err := os.Stat(missing); !os.IsNotExist(err) {
			t.Fatalf("%v created %s", args, missing)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if out, err := coffer(t, "", "serve", "--data", missing, "--listen", ln.Addr().String()); err == nil {
		t.Fatalf("serve on a port in use succeeded:\n%s", out)
	}
	if _, err := os.Stat(missing); !os.IsNotExist(err) {
		t.Fatalf("a serve that could not listen left %s behind", missing)
	}
}
