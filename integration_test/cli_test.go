package integration_test

import (
	"encoding/json"
	"os/exec"
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

// TestDeletedUserIsRefusedAtOnce is issue 11 point 13: after "coffer user
// delete" while the server runs, the user's cached logins, app password
// and account password alike, answer 401 at once, on DAV and on
// /account/, and never 500.
func TestDeletedUserIsRefusedAtOnce(t *testing.T) {
	s := startServer(t, "")
	addUser(t, s.data, "dora", "dora-password")
	dora := s.client(t, "dora", "dora-password")
	created := dora.must(201, "POST", "/account/app-passwords", `{"label": "phone"}`, "Content-Type", "application/json")
	var app struct{ Password string }
	if err := json.Unmarshal([]byte(created.Body), &app); err != nil || app.Password == "" {
		t.Fatalf("app password: %v %s", err, created.Body)
	}
	phone := s.client(t, "dora", app.Password)
	for _, c := range []*client{dora, phone} {
		c.must(207, "PROPFIND", "/dav/calendars/dora/", "", "Depth", "1")
		c.must(200, "GET", "/account/export", "")
	}
	if out, err := coffer(t, "", "user", "delete", "dora", "--data", s.data); err != nil {
		t.Fatalf("user delete: %v\n%s", err, out)
	}
	for _, tt := range []struct {
		name         string
		c            *client
		method, path string
	}{
		{"app password, DAV", phone, "PROPFIND", "/dav/calendars/dora/"},
		{"app password, export", phone, "GET", "/account/export"},
		{"password, DAV", dora, "PROPFIND", "/dav/calendars/dora/"},
		{"password, export", dora, "GET", "/account/export"},
	} {
		if r := tt.c.do(tt.method, tt.path, "", "Depth", "1"); r.Status != 401 {
			t.Errorf("%s after the account was deleted: %d, want 401\n%.300s", tt.name, r.Status, r.Body)
		}
	}
}
