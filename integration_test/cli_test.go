package integration_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// cliTimeout bounds one CLI run: a command that should have been refused
// but serves instead then fails its test rather than hanging it.
const cliTimeout = 60 * time.Second

// coffer runs the CLI against a data folder and returns its output. Under
// COFFER_TEST_BACKEND=postgres a --data folder in args also gets its
// database (databaseFor) as COFFER_DATABASE.
func coffer(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	return cofferEnv(t, nil, stdin, args...)
}

// cofferEnv runs the CLI like coffer, with env added to the environment.
func cofferEnv(t *testing.T, env []string, stdin string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cliTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, append(args, argon2Flags...)...)
	// The test's own env comes last: it wins over the backend's.
	cmd.Env = append(append(os.Environ(), databaseEnv(t, args)...), env...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		return string(out), fmt.Errorf("still running after %v (killed): %w", cliTimeout, ctx.Err())
	}
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

// TestHelp: --help and help exit 0 on every command and subcommand and show
// --flags with sizes in binary units; a wrong flag gives one error line and
// a pointer to --help, not the whole usage.
func TestHelp(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"help"}, "coffer serve"},
		{[]string{"--help"}, "coffer serve"},
		{[]string{"serve", "--help"}, "--max-body-size SIZE  (default 25MiB)"},
		{[]string{"serve", "-h"}, "--idle-timeout DURATION  (default 2m)"},
		{[]string{"user", "--help"}, "coffer user delete USERNAME"},
		{[]string{"user", "help"}, "coffer user add USERNAME"},
		{[]string{"user", "add", "--help"}, "Usage: coffer user add USERNAME [flags]"},
		{[]string{"user", "delete", "--help"}, "--yes"},
		{[]string{"account", "--help"}, "coffer account create USERNAME"},
		{[]string{"account", "pay", "--help"}, "--paid-through"},
		{[]string{"import", "--help"}, "Usage: coffer import USERNAME FILE [flags]"},
		{[]string{"backup", "--help"}, "Usage: coffer backup DEST [flags]"},
		{[]string{"backup", "--help"}, "May run beside a running serve."},
		{[]string{"import", "--help"}, "May run beside a running serve."},
		{[]string{"user", "list", "--help"}, "May run beside a running serve."},
		{[]string{"account", "show", "--help"}, "May run beside a running serve."},
		{[]string{"restore", "--help"}, "--force"},
		{[]string{"escrow", "--help"}, "coffer escrow keygen PRIVATE-FILE PUBLIC-FILE"},
		{[]string{"escrow", "keygen", "--help"}, "coffer escrow keygen PRIVATE-FILE PUBLIC-FILE"},
	} {
		out, err := exec.Command(binary, tt.args...).CombinedOutput()
		if err != nil || !strings.Contains(string(out), tt.want) {
			t.Errorf("coffer %v: %v\n%s\nwant %q in it", tt.args, err, out, tt.want)
		}
	}
	for _, args := range [][]string{{"serve", "--bogus"}, {"user", "list", "--nope"}, {"frobnicate"}, {"user", "frobnicate"}} {
		out, err := exec.Command(binary, args...).CombinedOutput()
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		if err == nil || len(lines) > 2 || !strings.Contains(string(out), "help") {
			t.Errorf("coffer %v: %v, %d lines:\n%s\nwant an error and a pointer to the help", args, err, len(lines), out)
		}
	}
}

// TestReadOnlyDataFolder: a data folder the server cannot write to is named
// as read-only, not as a missing file.
func TestReadOnlyDataFolder(t *testing.T) {
	data := filepath.Join(t.TempDir(), "ro")
	if err := os.Mkdir(data, 0o700); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		// Root writes through file modes; a read-only mount stops it.
		if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=16m,mode=0700", "tmpfs", data).CombinedOutput(); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("mount a tmpfs: %v\n%s", err, out)
			}
			t.Skipf("cannot mount a tmpfs as root here: %v %s", err, out)
		}
		t.Cleanup(func() { exec.Command("umount", data).Run() })
	}
	s := startServer(t, data)
	s.Stop()
	if os.Geteuid() == 0 {
		if out, err := exec.Command("mount", "-o", "remount,ro", data).CombinedOutput(); err != nil {
			t.Fatalf("remount read-only: %v\n%s", err, out)
		}
	} else if err := os.Chmod(data, 0o500); err != nil {
		t.Fatal(err)
	} else {
		t.Cleanup(func() { os.Chmod(data, 0o700) })
	}
	for _, args := range [][]string{{"user", "list"}, {"serve", "--listen", "127.0.0.1:0"}} {
		out, err := coffer(t, "", append(args, "--data", data)...)
		if err == nil || !strings.Contains(out, "read-only") {
			t.Errorf("coffer %v on a read-only folder: %v\n%s", args, err, out)
		}
	}
}

// TestServeReadsConfigFile: serve takes its settings from --config, and the
// command line wins over the file.
func TestServeReadsConfigFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "coffer.toml")
	example, err := exec.Command(binary, "config", "example").Output()
	if err != nil || !strings.Contains(string(example), "# public-url = ") {
		t.Fatalf("config example: %v\n%s", err, example)
	}
	body := strings.Replace(string(example), `# public-url = ""`, `public-url = "https://cal.example.net/"`, 1)
	body = strings.Replace(body, `# listen = "127.0.0.1:8008"`, `listen = "127.0.0.1:1"`, 1) // the flag below wins
	if err := os.WriteFile(file, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	s := startServerWith(t, "", "--config", file)
	if !strings.Contains(s.output(), "clients reach it at https://cal.example.net/") {
		t.Fatalf("serve did not take public-url from the file:\n%s", s.output())
	}
}
