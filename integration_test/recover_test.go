package integration_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var (
	recoveryCodeLine    = regexp.MustCompile(`(?m)^\s*recovery code:\s+(\S+)`)
	newRecoveryCodeLine = regexp.MustCompile(`(?m)^\s*new recovery code:\s+(\S+)`)
)

// match returns the first group of re in out, or fails the test.
func match(t *testing.T, re *regexp.Regexp, out string) string {
	t.Helper()
	m := re.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no %s in:\n%s", re, out)
	}
	secrets.add(m[1])
	return m[1]
}

// recoverUser runs "coffer user recover" and returns the new recovery code.
func recoverUser(t *testing.T, data, stdin string, args ...string) string {
	t.Helper()
	out, err := coffer(t, stdin, append([]string{"user", "recover", "--data", data}, args...)...)
	if err != nil {
		t.Fatalf("user recover %v: %v\n%s", args, err, out)
	}
	return match(t, newRecoveryCodeLine, out)
}

// TestRecoverWithCode: a user forgets the password; the recovery code and a
// new password give access back to the same data, the old password and the
// old code stop working, and the new code is the one that works.
func TestRecoverWithCode(t *testing.T) {
	s := startServer(t, "")
	secrets.add("frank-password")
	out, err := coffer(t, "frank-password\n", "user", "add", "frank", "--password-stdin", "--email", "frank@example.org", "--data", s.data)
	if err != nil {
		t.Fatalf("user add: %v\n%s", err, out)
	}
	code := match(t, recoveryCodeLine, out)
	body := event("frank-1", "Dentist")
	s.client(t, "frank", "frank-password").must(201, "PUT", "/dav/calendars/frank/calendar/1.ics", body, "Content-Type", "text/calendar")
	s.Stop()

	// Refused: a wrong code, the password in place of the code, a short
	// new password, an unknown user, and missing input.
	secrets.add("new-frank-password")
	for _, tt := range []struct{ name, user, stdin string }{
		{"wrong code", "frank", "AAAAA-AAAAA-AAAAA-AAAAA-AAAAA-A\nnew-frank-password\n"},
		{"password as code", "frank", "frank-password\nnew-frank-password\n"},
		{"short new password", "frank", code + "\nshort\n"},
		{"unknown user", "nobody", code + "\nnew-frank-password\n"},
		{"no new password", "frank", code + "\n"},
	} {
		if out, err := coffer(t, tt.stdin, "user", "recover", tt.user, "--data", s.data); err == nil {
			t.Fatalf("%s: recover succeeded:\n%s", tt.name, out)
		}
	}
	newCode := recoverUser(t, s.data, code+"\nnew-frank-password\n", "frank")
	if strings.EqualFold(newCode, code) {
		t.Fatal("recover issued the same code")
	}
	if out, err := coffer(t, code+"\nthird-frank-password\n", "user", "recover", "frank", "--data", s.data); err == nil {
		t.Fatalf("the old recovery code still works:\n%s", out)
	}
	if out, err := coffer(t, "", "account", "show", "frank", "--data", s.data); err != nil || !strings.Contains(out, "password_changed") {
		t.Fatalf("no password_changed event: %v\n%s", err, out)
	}

	s = startServer(t, s.data)
	s.client(t, "frank", "frank-password").must(401, "PROPFIND", "/dav/calendars/frank/", "", "Depth", "0")
	frank := s.client(t, "frank", "new-frank-password")
	if got := frank.must(200, "GET", "/dav/calendars/frank/calendar/1.ics", "").Body; got != body {
		t.Fatalf("data after recovery: %q", got)
	}
	s.Stop()
	// The new code works, once more, while the server is stopped.
	recoverUser(t, s.data, newCode+"\nfourth-frank-password\n", "frank")
}

// TestRecoverWithEscrow: with an escrow public key configured, accounts that
// serve or "user add" create, and existing accounts at their next login,
// get an escrow slot; the offline private key then restores access.
func TestRecoverWithEscrow(t *testing.T) {
	keys := t.TempDir()
	priv, pub := filepath.Join(keys, "escrow.key"), filepath.Join(keys, "escrow.pub")
	if out, err := exec.Command(binary, "escrow", "keygen", priv, pub).CombinedOutput(); err != nil {
		t.Fatalf("escrow keygen: %v\n%s", err, out)
	}
	if fi, err := os.Stat(priv); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("private key file: %v %v", fi.Mode(), err)
	}
	if out, err := exec.Command(binary, "escrow", "keygen", priv, filepath.Join(keys, "other.pub")).CombinedOutput(); err == nil {
		t.Fatalf("keygen overwrote a private key:\n%s", out)
	}
	other := filepath.Join(keys, "other.key")
	if out, err := exec.Command(binary, "escrow", "keygen", other, filepath.Join(keys, "other2.pub")).CombinedOutput(); err != nil {
		t.Fatalf("escrow keygen: %v\n%s", err, out)
	}

	// serve creates the first account with the escrow slot (from the environment).
	t.Setenv("COFFER_ESCROW_PUBLIC_KEY", pub)
	s := startServer(t, "")
	adminName, oldPasswords := s.User, map[string]string{s.User: s.Password, "erin": "erin-password", "dave": "dave-password"}
	adminBody := event("admin-1", "Board meeting")
	s.client(t, adminName, s.Password).must(201, "PUT", "/dav/calendars/"+adminName+"/calendar/1.ics", adminBody, "Content-Type", "text/calendar")

	// erin: created with the flag. dave: created without escrow.
	noEnv := []string{"COFFER_ESCROW_PUBLIC_KEY="}
	for _, u := range []struct {
		name string
		args []string
	}{{"erin", []string{"--escrow-public-key", pub}}, {"dave", nil}} {
		secrets.add(u.name + "-password")
		args := append([]string{"user", "add", u.name, "--password-stdin", "--data", s.data}, u.args...)
		if out, err := cofferEnv(t, noEnv, u.name+"-password\n", args...); err != nil {
			t.Fatalf("user add %s: %v\n%s", u.name, err, out)
		}
	}
	if out, err := coffer(t, "new-dave-password\n", "user", "recover", "dave", "--escrow-key", priv, "--data", s.data); err == nil || !strings.Contains(out, "no escrow slot") {
		t.Fatalf("escrow recovery before dave's slot exists: %v\n%s", err, out)
	}
	bodies := map[string]string{adminName: adminBody}
	for _, name := range []string{"erin", "dave"} {
		bodies[name] = event(name+"-1", "Lunch with "+name)
		// dave's first login to a server with the escrow key adds his slot.
		s.client(t, name, name+"-password").must(201, "PUT", "/dav/calendars/"+name+"/calendar/1.ics", bodies[name], "Content-Type", "text/calendar")
	}
	s.Stop()

	if out, err := coffer(t, "new-dave-password\n", "user", "recover", "dave", "--escrow-key", other, "--data", s.data); err == nil {
		t.Fatalf("another escrow key recovered dave:\n%s", out)
	}
	if out, err := coffer(t, "new-dave-password\n", "user", "recover", "dave", "--escrow-key", pub, "--data", s.data); err == nil {
		t.Fatalf("the public key recovered dave:\n%s", out)
	}
	codes := map[string]string{}
	for name := range bodies {
		secrets.add("new-" + name + "-password")
		codes[name] = recoverUser(t, s.data, "new-"+name+"-password\n", name, "--escrow-key", priv)
	}

	s = startServer(t, s.data)
	for name, body := range bodies {
		s.client(t, name, oldPasswords[name]).must(401, "PROPFIND", "/dav/calendars/"+name+"/", "", "Depth", "0")
		if got := s.client(t, name, "new-"+name+"-password").must(200, "GET", "/dav/calendars/"+name+"/calendar/1.ics", "").Body; got != body {
			t.Fatalf("%s's data after escrow recovery: %q", name, got)
		}
	}
	s.Stop()
	// The code that the escrow recovery issued is a working recovery code.
	recoverUser(t, s.data, codes["dave"]+"\nfinal-dave-password\n", "dave")
}
