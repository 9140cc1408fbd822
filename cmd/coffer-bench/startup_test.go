package main

import (
	"bufio"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// testToken is the operator token of the servers the tests start.
const testToken = "bench-test-operator-token-0123456789"

// TestServingURL finds the URL in coffer serve's "serving on" line only.
func TestServingURL(t *testing.T) {
	tests := []struct {
		line, want string
		ok         bool
	}{
		{"coffer: serving on http://127.0.0.1:41234/", "http://127.0.0.1:41234/", true},
		{"coffer: serving on http://127.0.0.1:41234/\r", "http://127.0.0.1:41234/", true},
		{"coffer: serving on https://localhost:8443/\n", "https://localhost:8443/", true},
		{"coffer: serving on http://[::1]:8008/", "http://[::1]:8008/", true},
		{"coffer: operator API on http://127.0.0.1:41235/", "", false},
		{"  URL:           http://127.0.0.1:41234/", "", false},
		{"coffer: serving on ", "", false},
		{"coffer: serving on 127.0.0.1:8008", "", false},
		{"coffer: serving on ftp://127.0.0.1/", "", false},
		{"time=2025-01-01 level=INFO msg=serving addr=127.0.0.1:41234", "", false},
		{" coffer: serving on http://127.0.0.1:1/", "", false},
	}
	for _, tt := range tests {
		got, ok := servingURL(tt.line)
		if got != tt.want || ok != tt.ok {
			t.Errorf("servingURL(%q) = %q, %v; want %q, %v", tt.line, got, ok, tt.want, tt.ok)
		}
	}
}

// TestLineWatcher finds the lines however the output is split, reports the
// first "serving on" line once, and keeps no line.
func TestLineWatcher(t *testing.T) {
	out := "Coffer created the first account. Its credentials are shown only this once:\n" +
		"  username:      admin\n  password:      s3cret-s3cret\n" +
		"coffer: serving on http://127.0.0.1:41234/\ncoffer: serving on http://127.0.0.1:9/\n"
	tests := []struct {
		name  string
		chunk int // bytes per Write
	}{
		{"whole", len(out)}, {"byte by byte", 1}, {"seven at a time", 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := &lineWatcher{serving: make(chan serving, 1)}
			for i := 0; i < len(out); i += tt.chunk {
				if n, err := w.Write([]byte(out[i:min(i+tt.chunk, len(out))])); err != nil || n != min(tt.chunk, len(out)-i) {
					t.Fatalf("Write = %d, %v", n, err)
				}
			}
			select {
			case sv := <-w.serving:
				if sv.url != "http://127.0.0.1:41234/" || sv.at.IsZero() {
					t.Fatalf("serving %+v", sv)
				}
			default:
				t.Fatal("no serving line reported")
			}
			if len(w.serving) != 0 {
				t.Fatal("a second serving line was reported")
			}
			if !w.createdFirstAccount() {
				t.Fatal("the first account's announcement was missed")
			}
			if len(w.partial) != 0 {
				t.Fatalf("kept %q", w.partial)
			}
		})
	}
}

// TestTailBuffer keeps the end of a long log.
func TestTailBuffer(t *testing.T) {
	var b tailBuffer
	for i := 0; i < 1000; i++ {
		b.Write([]byte("level=INFO msg=line" + strconv.Itoa(i) + "\n"))
	}
	if len(b.b) > tailMax || b.lastLine() != "level=INFO msg=line999" {
		t.Fatalf("%d bytes, last line %q", len(b.b), b.lastLine())
	}
}

// TestTailProblems keeps the warnings and errors of a tail, and the
// proxy's lines.
func TestTailProblems(t *testing.T) {
	tests := []struct {
		name, log string
		want      []string
	}{
		{"quiet", "level=INFO msg=serving\nlevel=DEBUG msg=x\n", nil},
		{"warn and error", "level=INFO msg=a\ntime=1 level=WARN msg=slow\nlevel=ERROR msg=broken err=x\n",
			[]string{"time=1 level=WARN msg=slow", "level=ERROR msg=broken err=x"}},
		{"proxy", "proxy: httputil: ReverseProxy read error during body copy: unexpected EOF\nproxy: http: proxy error: context canceled\n",
			[]string{"proxy: httputil: ReverseProxy read error during body copy: unexpected EOF"}},
	}
	for _, tt := range tests {
		var b tailBuffer
		b.Write([]byte(tt.log))
		if got := b.problems(); strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}

// TestOffsetRates gives the rates of the first and the last tenth.
func TestOffsetRates(t *testing.T) {
	var off []time.Duration
	for i := 100; i >= 1; i-- { // 100 completions, one every 10 ms, in reverse order
		off = append(off, time.Duration(i)*10*time.Millisecond)
	}
	first, last := offsetRates(off)
	if first < 99.9 || first > 100.1 || last < 99.9 || last > 100.1 {
		t.Fatalf("rates %v, %v; want 100 and 100", first, last)
	}
	if f, l := offsetRates(off[:9]); f != 0 || l != 0 {
		t.Fatalf("fewer than 10 completions: %v, %v", f, l)
	}
}

// TestAgainstServer builds coffer, fills a data folder through a server it
// starts, then measures start-ups of that folder.
func TestAgainstServer(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts coffer")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	dir := t.TempDir()
	bin, data := filepath.Join(dir, "coffer"), filepath.Join(dir, "data")
	build := exec.Command(goBin, "build", "-o", bin, "github.com/coffer-dav/coffer/cmd/coffer")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	t.Run("fill", func(t *testing.T) {
		srv, davURL, opURL := startTestServer(t, bin, data)
		c, err := parseConfig([]string{"--scenario", "fill", "--users", "3", "--n", "10", "--c", "4", "--photo-share", "0",
			"--url", davURL, "--operator-url", opURL, "--operator-token", testToken,
			"--server-pid", strconv.Itoa(srv.Process.Pid), "--data", data}, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		results := runScenario(ctx, t, c)
		stopTestServer(t, srv)
		if len(results) != 1 {
			t.Fatalf("%d results", len(results))
		}
		r := results[0]
		if r.Extra["objects"] != 30.0 || r.Extra["errors"] != 0.0 || r.Extra["users"] != 3.0 {
			t.Fatalf("figures %v", r.Extra)
		}
		if r.Server == nil || r.Server.PeakRSSMiB <= 0 || r.Server.DiskMiB <= 0 {
			t.Fatalf("server figures %+v", r.Server)
		}
		for _, s := range r.Ops {
			if s.Errors > 0 || s.Op == "login" && s.Count != 3 || s.Op == "put" && s.Count != 30 {
				t.Fatalf("operation %+v (%q)", s, r.Samples)
			}
		}
	})

	t.Run("startup", func(t *testing.T) {
		c, err := parseConfig([]string{"--scenario", "startup", "--coffer-bin", bin, "--data", data, "--runs", "2"}, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		results := runScenario(ctx, t, c)
		if len(results) != 2 {
			t.Fatalf("%d results", len(results))
		}
		for _, r := range results {
			s, _ := r.Extra["startup_s"].(float64)
			line, _ := r.Extra["serving_line_s"].(float64)
			if s <= 0 || line <= 0 || line > s {
				t.Fatalf("run %d: startup_s %v, serving_line_s %v", r.Run, r.Extra["startup_s"], r.Extra["serving_line_s"])
			}
			if _, ok := r.Extra["shutdown_s"]; !ok {
				t.Fatalf("run %d: no shutdown_s: %v %q", r.Run, r.Extra, r.Samples)
			}
			for _, op := range r.Ops {
				if op.Errors > 0 {
					t.Fatalf("run %d: %+v: %q", r.Run, op, r.Samples)
				}
			}
		}
		if m := medians(results); m["startup_s"] <= 0 {
			t.Fatalf("medians %v", m)
		}
	})
}

// runScenario runs c's scenario and fails the test on an error.
func runScenario(ctx context.Context, t *testing.T, c *config) []*result {
	t.Helper()
	e, err := newEnv(c)
	if err != nil {
		t.Fatal(err)
	}
	e.progress = io.Discard
	results, err := e.scenario(ctx, func(*result) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	return results
}

// startTestServer starts bin serve on data with an operator listener, both
// on free loopback ports and with light Argon2, and returns the process
// and the two URLs it printed.
func startTestServer(t *testing.T, bin, data string) (cmd *exec.Cmd, davURL, opURL string) {
	t.Helper()
	cmd = exec.Command(bin, "serve", "--data", data, "--listen", "127.0.0.1:0", "--operator-listen", "127.0.0.1:0",
		"--argon2-memory", "19456", "--argon2-time", "2", "--argon2-threads", "1")
	cmd.Env = append(os.Environ(), "COFFER_OPERATOR_TOKEN="+testToken)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	lines := make(chan string, 100) // coffer serve prints a few lines only
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default: // nobody reads them any more
			}
		}
	}()
	timeout := time.After(20 * time.Second)
	for davURL == "" || opURL == "" {
		select {
		case l := <-lines:
			if u, ok := servingURL(l); ok {
				davURL = u
			}
			if u, ok := strings.CutPrefix(l, "coffer: operator API on "); ok {
				opURL = u
			}
		case <-timeout:
			t.Fatal("the server printed no URLs within 20 s")
		}
	}
	return cmd, davURL, opURL
}

// stopTestServer sends SIGTERM and expects exit status 0.
func stopTestServer(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("server exit: %v", err)
	}
}

// TestStartupFailures: a server that does not come up counts as an error
// of the "start" operation, and the tool goes on.
func TestStartupFailures(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh")
	}
	tests := []struct {
		name, script, want string
	}{
		{"exits at once", "echo 'database is locked' >&2; exit 3", "exit status 3: database is locked"},
		{"nothing listens", "echo 'coffer: serving on http://127.0.0.1:1/'; sleep 0.2; exit 0", "exited while the tool waited"},
		{"not loopback", "echo 'coffer: serving on http://192.0.2.1:8008/'; exec sleep 30", "only loopback"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bin := filepath.Join(t.TempDir(), "coffer")
			if err := os.WriteFile(bin, []byte("#!/bin/sh\n"+tt.script+"\n"), 0o755); err != nil {
				t.Fatal(err)
			}
			c, err := parseConfig([]string{"--scenario", "startup", "--coffer-bin", bin, "--data", t.TempDir()}, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			results := runScenario(context.Background(), t, c)
			if len(results) != 1 || len(results[0].Ops) != 1 || results[0].Ops[0].Op != "start" || results[0].Ops[0].Errors != 1 {
				t.Fatalf("results %+v", results)
			}
			if s := strings.Join(results[0].Samples, "; "); !strings.Contains(s, tt.want) {
				t.Fatalf("error samples %q, want one about %q", s, tt.want)
			}
			if _, ok := results[0].Extra["startup_s"]; ok {
				t.Fatal("a failed start has a startup_s")
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Fatalf("took %s", d)
			}
		})
	}
}
