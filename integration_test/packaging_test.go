package integration_test

import (
	"bufio"
	"debug/elf"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// staticBuild is the README's static build (and contrib/Dockerfile's).
var staticBuild = []string{"build", "-trimpath", "-tags", "osusergo,netgo,sqlite_omit_load_extension", "-ldflags", "-s -w -extldflags -static"}

// TestStaticBinaryAndUnit builds the static binary as the README and the
// Dockerfile do, checks that it needs no dynamic loader, starts it, and has
// systemd-analyze verify contrib/coffer.service with it.
func TestStaticBinaryAndUnit(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "coffer")
	build := exec.Command("go", append(staticBuild, "-o", bin, "../cmd/coffer")...)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("static build: %v\n%s", err, out)
	}
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("the static binary has a %v program header: it is linked dynamically", p.Type)
		}
	}
	f.Close()

	data := filepath.Join(t.TempDir(), "data")
	cmd := exec.Command(bin, append([]string{"serve", "--data", data, "--listen", "127.0.0.1:0"}, argon2Flags...)...)
	cmd.Env = append(os.Environ(), "COFFER_DATA=", "COFFER_LISTEN=")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	url := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := passwordLine.FindStringSubmatch(sc.Text()); m != nil {
				secrets.add(m[1])
			}
			if m := servingLine.FindStringSubmatch(sc.Text()); m != nil {
				url <- m[1]
			}
		}
	}()
	select {
	case u := <-url:
		resp, err := http.Get(u + "healthz")
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("the static binary's /healthz: %v %v", resp, err)
		}
		resp.Body.Close()
	case <-time.After(30 * time.Second):
		t.Fatal("the static binary did not serve within 30s")
	}

	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("systemd-analyze is missing; .ci/run installs systemd")
		}
		t.Skip("systemd-analyze is missing; skipping the unit check")
	}
	unit, err := os.ReadFile("../contrib/coffer.service")
	if err != nil {
		t.Fatal(err)
	}
	local := filepath.Join(t.TempDir(), "coffer.service")
	if err := os.WriteFile(local, []byte(strings.ReplaceAll(string(unit), "/usr/local/bin/coffer", bin)), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(analyze, "verify", local).CombinedOutput(); err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
}
