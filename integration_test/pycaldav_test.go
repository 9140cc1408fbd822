package integration_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// systemPython is Debian's interpreter, the one python3-caldav installs
// into. The python3 on PATH may be another one (pyenv) without it.
const systemPython = "/usr/bin/python3"

// requireTool returns the path of the command name, looked up on PATH
// (or taken as is when name holds a "/"), after check (when not nil)
// accepts it. When the command is missing or check fails, the test is
// skipped with the apt-get command that installs it, except under CI (the
// environment variable CI is not empty), where it fails: CI installs every
// tool (.ci/run), so a missing one is a broken CI, not a reason to skip.
// Errors from check should name the Debian package to install.
//
//	litmus := requireTool(t, "litmus", nil)
func requireTool(t *testing.T, name string, check func() error) string {
	t.Helper()
	path, err := exec.LookPath(name)
	var msg string
	switch {
	case err != nil:
		msg = fmt.Sprintf("%s not installed; apt-get install %s", filepath.Base(name), filepath.Base(name))
	case check != nil:
		if err = check(); err != nil {
			msg = fmt.Sprintf("%s is not usable: %v", name, err)
		}
	}
	if msg == "" {
		return path
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s (CI must run this test; .ci/run installs it)", msg)
	}
	t.Skip(msg)
	return ""
}

// requirePythonCaldav returns Debian's python3 once it can import caldav.
func requirePythonCaldav(t *testing.T) string {
	t.Helper()
	return requireTool(t, systemPython, func() error {
		out, err := exec.Command(systemPython, "-c", "import caldav").CombinedOutput()
		if err != nil {
			return fmt.Errorf("import caldav: %v: %s; apt-get install python3-caldav", err, strings.TrimSpace(string(out)))
		}
		return nil
	})
}

// externalEnv is the environment for an external client: the test's own,
// without proxy settings (the server is on loopback) or Python variables
// that would point the system interpreter elsewhere, and with HOME set to
// home so that no user configuration (.netrc, vdirsyncer config) leaks in.
func externalEnv(home string) []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch upper := strings.ToUpper(name); {
		case strings.HasSuffix(upper, "_PROXY"), strings.HasPrefix(upper, "PYTHON"),
			upper == "HOME", upper == "XDG_CONFIG_HOME", upper == "NETRC":
			continue
		}
		env = append(env, kv)
	}
	return append(env, "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"),
		"NO_PROXY=127.0.0.1,localhost", "PYTHONDONTWRITEBYTECODE=1", "PYTHONUNBUFFERED=1")
}

// runExternal runs an external client with a time limit and returns its
// combined output and error.
func runExternal(t *testing.T, limit time.Duration, stdin string, name string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = externalEnv(t.TempDir())
	cmd.Stdin = strings.NewReader(stdin)
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		err = fmt.Errorf("no result within %v: %w", limit, err)
	}
	return string(out), err
}

// TestPyCaldav drives the server with python-caldav, an independent CalDAV
// client, through testdata/caldav_scenario.py: discovery from the bare URL,
// MKCALENDAR of a calendar and a task list, events with a VTIMEZONE and with
// an RRULE plus a RECURRENCE-ID override, todos with a subtask, byte-exact
// and semantic read-back, calendar-query by time range (open and closed)
// and with expand, todo listing, sync-collection (initial, incremental with
// a deletion, and unchanged), If-Match updates and deletes (412 when
// stale), and deletion of objects and of a collection. The script stops
// at the first failed step; its output is the failure message.
func TestPyCaldav(t *testing.T) {
	python := requirePythonCaldav(t)
	script, err := filepath.Abs(filepath.Join("testdata", "caldav_scenario.py"))
	if err != nil {
		t.Fatal(err)
	}
	s := startServer(t, "")
	const user, password = "pyuser", "python-caldav-password"
	addUser(t, s.data, user, password)

	out, err := runExternal(t, 2*time.Minute, "", python, script, s.URL, user, password)
	if err != nil {
		t.Fatalf("python-caldav scenario failed (%v):\n%s\n--- server output ---\n%s", err, out, lastLines(s.output(), 40))
	}
	if !strings.Contains(out, "OK: every step passed") {
		t.Fatalf("python-caldav scenario did not finish:\n%s", out)
	}
}

// lastLines returns the last n lines of text.
func lastLines(text string, n int) string {
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
