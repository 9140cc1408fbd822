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
)

// binary is the coffer executable built once for all tests.
var binary string

// argon2Flags keep logins fast in tests: the OWASP floor, which the server still enforces.
var argon2Flags = []string{"--argon2-memory", "19456", "--argon2-time", "2", "--argon2-threads", "1"}

func TestMain(m *testing.M) {
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
	if i := slices.Index(flags, "--access-log"); i >= 0 && i+1 < len(flags) {
		t.Cleanup(func() { s.readAccessLog(flags[i+1]) }) // runs after Stop, before DIR goes
	}
	s.cmd = exec.Command(binary, args...)
	s.cmd.Env = append(os.Environ(), "COFFER_DATA=", "COFFER_LISTEN=")
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
