package integration_test

import (
	"os/exec"
	"runtime"
	"strings"
	"testing"
)

// coffer runs the CLI against a data folder and returns its output.
func coffer(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(binary, append(args, argon2Flags...)...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestUserCommands drives user add, list, passwd and delete while the
// server runs, and checks each through a DAV login.
func TestUserCommands(t *testing.T) {
	s := startServer(t, "")
	addUser(t, s.data, "carol", "carol-password")
	carol := s.client(t, "carol", "carol-password")
	carol.must(201, "PUT", "/dav/calendars/carol/calendar/x.ics", event("carol-x", "Kept"), "Content-Type", "text/calendar")

	out, err := coffer(t, "", "user", "list", "--data", s.data)
	if err != nil || !strings.Contains(out, "carol") || !strings.Contains(out, "carol@example.org") || !strings.Contains(out, s.User) {
		t.Fatalf("user list: %v\n%s", err, out)
	}
	if out, err := coffer(t, "carol-password\n", "user", "add", "carol", "--password-stdin", "--data", s.data); err == nil {
		t.Fatalf("a second carol was added:\n%s", out)
	}
	// passwd needs the current password: the data is sealed under it.
	if out, err := coffer(t, "not-carols-password\nnew-carol-password\n", "user", "passwd", "carol", "--password-stdin", "--data", s.data); err == nil {
		t.Fatalf("passwd with a wrong current password succeeded:\n%s", out)
	}
	if out, err := coffer(t, "carol-password\nnew-carol-password\n", "user", "passwd", "carol", "--password-stdin", "--data", s.data); err != nil {
		t.Fatalf("user passwd: %v\n%s", err, out)
	}
	// The running server had carol's old login cached: it notices the change at once.
	s.client(t, "carol", "carol-password").must(401, "PROPFIND", "/dav/calendars/carol/", "", "Depth", "0")
	fresh := s.client(t, "carol", "new-carol-password")
	if got := fresh.must(200, "GET", "/dav/calendars/carol/calendar/x.ics", "").Body; got != event("carol-x", "Kept") {
		t.Fatalf("data after a password change: %q", got)
	}
	if out, err := coffer(t, "", "user", "delete", "carol", "--data", s.data); err != nil {
		t.Fatalf("user delete: %v\n%s", err, out)
	}
	s.Stop()
	s = startServer(t, s.data)
	s.client(t, "carol", "new-carol-password").must(401, "PROPFIND", "/dav/calendars/carol/", "", "Depth", "0")
	if out, _ := coffer(t, "", "user", "list", "--data", s.data); strings.Contains(out, "carol") {
		t.Fatalf("carol is still listed:\n%s", out)
	}
}

// TestVersion: "coffer version" and "coffer --version" print the module
// version and the Go version (and the VCS revision when the build has one).
func TestVersion(t *testing.T) {
	for _, arg := range []string{"version", "--version"} {
		out, err := exec.Command(binary, arg).CombinedOutput()
		if err != nil || !strings.HasPrefix(string(out), "coffer ") || !strings.Contains(string(out), runtime.Version()) {
			t.Errorf("coffer %s: %v\n%s", arg, err, out)
		}
	}
}
