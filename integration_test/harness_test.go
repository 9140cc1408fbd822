// Package integration_test builds the real coffer binary, starts it on a
// free loopback port and drives it with real clients.
package integration_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coffer-dav/coffer/storage/storagetest"
)

// binary is the coffer executable built once for all tests.
var binary string

// argon2Flags keep logins fast in tests: the OWASP floor, which the server still enforces.
var argon2Flags = []string{"--argon2-memory", "19456", "--argon2-time", "2", "--argon2-threads", "1"}

func TestMain(m *testing.M) {
	switch os.Getenv(backendEnv) {
	case "", "sqlite", "postgres":
	default:
		fmt.Fprintf(os.Stderr, "%s=%q: want sqlite (the default) or postgres\n", backendEnv, os.Getenv(backendEnv))
		os.Exit(2)
	}
	dir, err := os.MkdirTemp("", "coffer-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "coffer")
	build := exec.Command("go", "build", "-o", binary, "../cmd/coffer")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building coffer:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	if code == 0 {
		code = checkLogHygiene()
	}
	os.Exit(code)
}

// backendEnv names the variable that picks the storage backend every
// server and CLI run of the suite uses: "sqlite" (the default, also when
// empty) or "postgres", a fresh database on the test cluster of
// storagetest.Postgres for each data folder.
const backendEnv = "COFFER_TEST_BACKEND"

// onPostgres reports whether the suite runs against PostgreSQL.
func onPostgres() bool { return os.Getenv(backendEnv) == "postgres" }

// sqliteOnly skips a test that is about the SQLite file itself when the
// suite runs against PostgreSQL; why says what stands in for it there.
func sqliteOnly(t *testing.T, why string) {
	t.Helper()
	if onPostgres() {
		t.Skipf("SQLite only; PostgreSQL: %s", why)
	}
}

// databases maps a data folder (absolute) to its PostgreSQL database, so
// that every server and CLI run on one folder, restarts included, uses
// the same database.
var databases struct {
	mu     sync.Mutex
	byData map[string]string
}

// databaseFor returns the --database for the data folder: "" on SQLite;
// on PostgreSQL the folder's database, a fresh one the first time (dropped
// when t ends). Without a cluster it skips t, or fails it under CI.
func databaseFor(t *testing.T, data string) string {
	t.Helper()
	if !onPostgres() {
		return ""
	}
	key, err := filepath.Abs(data)
	if err != nil {
		t.Fatal(err)
	}
	databases.mu.Lock() // held while creating: one database per folder
	defer databases.mu.Unlock()
	if dsn, ok := databases.byData[key]; ok {
		return dsn
	}
	dsn := storagetest.Postgres(t)
	if databases.byData == nil {
		databases.byData = map[string]string{}
	}
	databases.byData[key] = dsn
	t.Cleanup(func() { // runs before the database is dropped
		databases.mu.Lock()
		defer databases.mu.Unlock()
		delete(databases.byData, key)
	})
	return dsn
}

// shareDatabase makes the data folder other use the database of data (on
// PostgreSQL; on SQLite the database is the folder's own file): a second
// folder over one database, as another instance or an attacker's copy has.
func shareDatabase(t *testing.T, data, other string) {
	t.Helper()
	dsn := databaseFor(t, data)
	if dsn == "" {
		return
	}
	key, err := filepath.Abs(other)
	if err != nil {
		t.Fatal(err)
	}
	databases.mu.Lock()
	defer databases.mu.Unlock()
	if _, ok := databases.byData[key]; ok {
		t.Fatalf("%s has a database already", other)
	}
	databases.byData[key] = dsn
	t.Cleanup(func() {
		databases.mu.Lock()
		defer databases.mu.Unlock()
		delete(databases.byData, key)
	})
}

// databaseEnv returns the environment that points a CLI run with args at
// the backend: COFFER_DATABASE of the --data folder args name, and no
// inherited COFFER_DATABASE otherwise.
func databaseEnv(t *testing.T, args []string) []string {
	t.Helper()
	for i, a := range args {
		var data string
		switch {
		case a == "--data" && i+1 < len(args):
			data = args[i+1]
		case strings.HasPrefix(a, "--data="):
			data = strings.TrimPrefix(a, "--data=")
		default:
			continue
		}
		return []string{"COFFER_DATABASE=" + databaseFor(t, data)}
	}
	return []string{"COFFER_DATABASE="}
}

// server is one running coffer process.
type server struct {
	t        *testing.T
	data     string
	URL      string // base URL, ending in "/"
	User     string // first account, when this start created it
	Password string
	cmd      *exec.Cmd
	mu       sync.Mutex
	out      bytes.Buffer // everything the process printed
	access   bytes.Buffer // its access log, when it kept one, read when it stopped
	exited   chan struct{}
}

var (
	servingLine  = regexp.MustCompile(`coffer: serving on (\S+)`)
	usernameLine = regexp.MustCompile(`username:\s+(\S+)`)
	passwordLine = regexp.MustCompile(`password:\s+(\S+)`)
)

// startServer starts coffer on data (a new temporary folder when empty) and
// waits until it serves.
func startServer(t *testing.T, data string) *server {
	t.Helper()
	return startServerWith(t, data)
}

// startServerWith is startServer with extra serve flags. With
// --access-log DIR, the files in DIR join the log-hygiene check.
func startServerWith(t *testing.T, data string, flags ...string) *server {
	t.Helper()
	if data == "" {
		data = filepath.Join(t.TempDir(), "data") // serve creates it, private
	}
	s := &server{t: t, data: data, exited: make(chan struct{})}
	args := append(append([]string{"serve", "--data", data, "--listen", "127.0.0.1:0"}, argon2Flags...), flags...)
	if dsn := databaseFor(t, data); dsn != "" {
		args = append(args, "--database", dsn)
	}
	if i := slices.Index(flags, "--access-log"); i >= 0 && i+1 < len(flags) {
		t.Cleanup(func() { s.readAccessLog(flags[i+1]) }) // runs after Stop, before DIR goes
	}
	s.cmd = exec.Command(binary, args...)
	s.cmd.Env = append(os.Environ(), "COFFER_DATA=", "COFFER_LISTEN=", "COFFER_DATABASE=")
	stdout, err := s.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	s.cmd.Stderr = &lockedWriter{s: s}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	logs.add(s)
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			s.mu.Lock()
			s.out.WriteString(line + "\n")
			s.mu.Unlock()
			if m := usernameLine.FindStringSubmatch(line); m != nil {
				s.User = m[1]
			}
			if m := passwordLine.FindStringSubmatch(line); m != nil {
				s.Password = m[1]
				secrets.add(m[1])
			}
			if m := servingLine.FindStringSubmatch(line); m != nil {
				ready <- m[1]
			}
		}
		s.cmd.Wait()
		close(s.exited)
	}()
	select {
	case u := <-ready:
		s.URL = u
	case <-s.exited:
		t.Fatalf("coffer exited before serving:\n%s", s.output())
	case <-time.After(60 * time.Second):
		s.cmd.Process.Kill()
		t.Fatalf("coffer did not serve within 60s:\n%s", s.output())
	}
	t.Cleanup(s.Stop)
	return s
}

// Stop ends the server gracefully with SIGTERM.
func (s *server) Stop() {
	select {
	case <-s.exited:
		return
	default:
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(20 * time.Second):
		s.cmd.Process.Kill()
		<-s.exited
		s.t.Errorf("coffer did not stop on SIGTERM within 20s")
	}
}

// Kill ends the server with SIGKILL, as a crash would.
func (s *server) Kill() {
	s.cmd.Process.Kill()
	<-s.exited
}

func (s *server) output() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.out.String()
}

// readAccessLog appends the access-log files in dir to the access buffer.
func (s *server) readAccessLog(dir string) {
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range files {
		if b, err := os.ReadFile(f); err == nil {
			s.access.Write(b)
		}
	}
}

type lockedWriter struct{ s *server }

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.s.mu.Lock()
	defer w.s.mu.Unlock()
	return w.s.out.Write(p)
}

// addUser creates a user with the CLI, giving the password on standard input.
func addUser(t *testing.T, data, username, password string) {
	t.Helper()
	args := append([]string{"user", "add", username, "--password-stdin", "--data", data, "--email", username + "@example.org"}, argon2Flags...)
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), databaseEnv(t, args)...)
	cmd.Stdin = strings.NewReader(password + "\n")
	secrets.add(password)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("user add %s: %v\n%s", username, err, out)
	}
	if !strings.Contains(string(out), "recovery code:") {
		t.Fatalf("user add printed no recovery code:\n%s", out)
	}
}

// client sends requests as one user.
type client struct {
	t              *testing.T
	base           string
	user, password string
}

func (s *server) client(t *testing.T, user, password string) *client {
	return &client{t: t, base: strings.TrimSuffix(s.URL, "/"), user: user, password: password}
}

// response is a finished HTTP exchange.
type response struct {
	Status int
	Header http.Header
	Body   string
}

// do sends one request; headers alternate name and value.
func (c *client) do(method, path, body string, headers ...string) response {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	if c.user != "" {
		req.SetBasicAuth(c.user, c.password)
		secrets.add(c.password)
		secrets.add(strings.TrimPrefix(req.Header.Get("Authorization"), "Basic "))
	}
	secrets.addBody(body)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }, Timeout: 60 * time.Second}
	resp, err := noRedirect.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return response{Status: resp.StatusCode, Header: resp.Header, Body: string(b)}
}

// must sends a request and fails the test unless the status is want.
func (c *client) must(want int, method, path, body string, headers ...string) response {
	c.t.Helper()
	r := c.do(method, path, body, headers...)
	if r.Status != want {
		c.t.Fatalf("%s %s: status %d, want %d\n%s", method, path, r.Status, want, r.Body)
	}
	return r
}
