package main

import (
	"os"
	"testing"
	"time"
)

// TestParseCPU reads utime and stime after the command name, whatever the
// name holds.
func TestParseCPU(t *testing.T) {
	tests := []struct {
		name, stat string
		want       time.Duration
		ok         bool
	}{
		{"plain", "4242 (coffer) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 31 0 0 20 0 9 0 100 0 0", 2810 * time.Millisecond, true},
		{"name with spaces and parens", "7 (postgres: a (b) c) R 1 7 7 0 -1 0 0 0 0 0 3 4 0 0 20 0 1 0 5 0 0", 70 * time.Millisecond, true},
		{"no name", "7 coffer S 1", 0, false},
		{"too short", "7 (coffer) S 1 2 3", 0, false},
		{"not a number", "7 (coffer) S 1 7 7 0 -1 0 0 0 0 0 x 4 0", 0, false},
	}
	for _, tt := range tests {
		got, err := parseCPU([]byte(tt.stat))
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("%s: %v, %v; want %v, ok %v", tt.name, got, err, tt.want, tt.ok)
		}
	}
	// This process's own line parses, and its CPU time does not fall.
	a, err := processCPU(os.Getpid())
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	for i := 0; i < 2e7; i++ {
		_ = i * i
	}
	if b, err := processCPU(os.Getpid()); err != nil || b < a {
		t.Errorf("CPU time %v, then %v (%v)", a, b, err)
	}
}

// TestIsBackendOf matches the command lines PostgreSQL gives its backends.
func TestIsBackendOf(t *testing.T) {
	tests := []struct {
		cmdline string
		want    bool
	}{
		{"postgres: postgres coffer_bench_1a_postgres [local] idle", true},
		{"postgres: postgres coffer_bench_1a_postgres [local] UPDATE waiting\x00\x00", true},
		{"postgres: postgres coffer_bench_1a_postgres_2 [local] idle", false},
		{"postgres: checkpointer ", false},
		{"/usr/lib/postgresql/17/bin/postgres\x00-D\x00coffer_bench_1a_postgres", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := isBackendOf([]byte(tt.cmdline), "coffer_bench_1a_postgres"); got != tt.want {
			t.Errorf("isBackendOf(%q) = %v, want %v", tt.cmdline, got, tt.want)
		}
	}
}
