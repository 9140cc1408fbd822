package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coffer-dav/coffer/storage/storagetest"
)

// TestParseCompareConfig checks the rules of --backends.
func TestParseCompareConfig(t *testing.T) {
	t.Setenv(postgresEnv, "")
	pg := []string{"--coffer-bin", "/bin/coffer", "--postgres", "host=/tmp/pg user=postgres"}
	tests := []struct {
		name     string
		args     []string
		err      string   // a part of the error; "" for none
		backends []string // in the order they run
		rate     float64
	}{
		{"all three", append([]string{"--backends", "postgres-2,sqlite,postgres"}, pg...), "", []string{"sqlite", "postgres", "postgres-2"}, 2000},
		{"sqlite needs no cluster", []string{"--backends", "sqlite", "--coffer-bin", "/bin/coffer"}, "", []string{"sqlite"}, 2000},
		{"rate given", append([]string{"--backends", "sqlite", "--rate", "500"}, pg...), "", []string{"sqlite"}, 500},
		{"postgres without cluster", []string{"--backends", "sqlite,postgres", "--coffer-bin", "/bin/coffer"}, "needs --postgres", nil, 0},
		{"unknown backend", append([]string{"--backends", "sqlite,mysql"}, pg...), "mysql", nil, 0},
		{"backend twice", append([]string{"--backends", "sqlite,sqlite"}, pg...), "twice", nil, 0},
		{"no binary", []string{"--backends", "sqlite"}, "--coffer-bin", nil, 0},
		{"with a scenario", append([]string{"--backends", "sqlite", "--scenario", "put"}, pg...), "drop --scenario", nil, 0},
		{"with a url", append([]string{"--backends", "sqlite", "--url", "http://127.0.0.1:8008/"}, pg...), "drop --url", nil, 0},
		{"with a data folder", append([]string{"--backends", "sqlite", "--data", "/tmp/d"}, pg...), "drop --data", nil, 0},
		{"with a server pid", append([]string{"--backends", "sqlite", "--server-pid", "42"}, pg...), "drop --server-pid", nil, 0},
		{"unknown scenario", append([]string{"--backends", "sqlite", "--scenarios", "put,fill"}, pg...), "fill", nil, 0},
		{"scenario twice", append([]string{"--backends", "sqlite", "--scenarios", "put,put"}, pg...), "twice", nil, 0},
		{"k beyond n", append([]string{"--backends", "sqlite", "--scenarios", "sync", "--n", "5", "--k", "6"}, pg...), "--k", nil, 0},
		{"zero mixed-n", append([]string{"--backends", "sqlite", "--mixed-n", "0"}, pg...), "--mixed-n", nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseConfig(tt.args, io.Discard)
			switch {
			case tt.err == "" && err != nil:
				t.Fatalf("unexpected error %v", err)
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Fatalf("error %v, want one about %q", err, tt.err)
			case err != nil:
				return
			}
			bs, _ := c.backendList()
			var names []string
			for _, b := range bs {
				names = append(names, b.name)
			}
			if strings.Join(names, ",") != strings.Join(tt.backends, ",") || c.rate != tt.rate {
				t.Fatalf("backends %v, rate %v; want %v, %v", names, c.rate, tt.backends, tt.rate)
			}
		})
	}
}

// runsOf makes n runs of scenario whose figure key takes the values vals,
// and whose operation op has the p99s p99s.
func runsOf(scenario string, key string, vals []float64, op string, p99s []float64) []*result {
	var out []*result
	for i := range vals {
		r := &result{Scenario: scenario, Run: i + 1, Extra: map[string]any{key: vals[i]}}
		if op != "" {
			r.Ops = []summary{{Op: op, Count: 10, MeanMS: 2, P50MS: 1, P99MS: p99s[i]}}
		}
		out = append(out, r)
	}
	return out
}

// TestComparisonTable: medians over the runs, ratios over SQLite, "-" for
// what was not measured, and the targets checked on each PostgreSQL backend.
func TestComparisonTable(t *testing.T) {
	all := measured{
		"sqlite": {
			"put":        runsOf("put", "objects_per_s", []float64{900, 1000, 1100}, "put", []float64{9, 30, 10}),
			"mixed":      runsOf("mixed", "requests_per_s", []float64{3000, 2000, 2500}, "", nil),
			"mixed-rate": runsOf("mixed-rate", "p99_ms", []float64{10, 12, 11}, "", nil),
		},
		"postgres": {
			"put":        runsOf("put", "objects_per_s", []float64{400, 600, 500}, "put", []float64{20, 20, 20}),
			"mixed":      runsOf("mixed", "requests_per_s", []float64{1500, 1600, 1700}, "", nil),
			"mixed-rate": runsOf("mixed-rate", "p99_ms", []float64{40, 60, 45}, "", nil),
		},
		"postgres-2": {
			"put":        runsOf("put", "objects_per_s", []float64{450, 450, 450}, "put", []float64{25, 25, 25}),
			"mixed-rate": runsOf("mixed-rate", "p99_ms", []float64{70, 80, 90}, "", nil),
		},
	}
	// The achieved rates of mixed-rate: reached on sqlite and postgres,
	// not on postgres-2.
	for b, got := range map[string]float64{"sqlite": 2000, "postgres": 1990, "postgres-2": 1500} {
		for _, r := range all[b]["mixed-rate"] {
			r.Extra["requests_per_s"] = got
		}
	}
	tests := []struct {
		name     string
		backends []string
		want     []string // lines, or parts of lines, of the output
		absent   []string
	}{
		{"three backends", []string{"sqlite", "postgres", "postgres-2"}, []string{
			"comparison: medians of 3 runs; ratios over sqlite",
			"scenario  figure  sqlite  postgres  postgres-2  postgres/sqlite  postgres-2/sqlite",
			"put  objects/s  1000.0  500.0  450.0  0.50  0.45",
			"put  PUT p99 ms  10.0  20.0  25.0  2.00  2.50",
			"mixed  requests/s  2500.0  1600.0  -  0.64  -",
			"mixed-rate  p99 ms  11.0  45.0  80.0  4.09  7.27",
			"postgres: put objects/s ≥ 0.50 × sqlite: 0.50, met",
			"postgres: mixed requests/s ≥ 0.70 × sqlite: 0.64, MISSED",
			"postgres: mixed-rate p99 ≤ 50 ms at 2000 requests/s: 45.00, met",
			"postgres-2: put objects/s ≥ 0.50 × sqlite: 0.45, MISSED",
			"postgres-2: mixed-rate p99 ≤ 50 ms at 2000 requests/s: 80.00, MISSED (reached 1500 requests/s only)",
		}, []string{"initial-sync", "postgres-2: mixed requests/s"}},
		{"sqlite alone", []string{"sqlite"}, []string{
			"scenario  figure  sqlite",
			"put  objects/s  1000.0",
		}, []string{"targets:", "/sqlite"}},
		{"postgres alone: no ratios, no targets", []string{"postgres"}, []string{
			"put  objects/s  500.0",
		}, []string{"targets:", "/postgres"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			comparison(all, tt.backends, 3, 2000).writeTable(&b)
			// Columns are aligned with runs of spaces: compare with one
			// space between words.
			norm := func(s string) string { return strings.Join(strings.Fields(s), " ") }
			var lines []string
			for _, l := range strings.Split(b.String(), "\n") {
				lines = append(lines, norm(l))
			}
			out := strings.Join(lines, "\n")
			for _, w := range tt.want {
				if !strings.Contains(out, norm(w)) {
					t.Errorf("no %q in\n%s", w, out)
				}
			}
			for _, a := range tt.absent {
				if strings.Contains(out, a) {
					t.Errorf("%q in\n%s", a, out)
				}
			}
		})
	}
}

// TestRoundRobin: consecutive requests, even of one client on one
// connection, go to the instances in turn, with the client's Host header.
func TestRoundRobin(t *testing.T) {
	var targets []*url.URL
	for i := range 3 {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "%d %s %s", i, r.Host, r.URL.Path)
		}))
		t.Cleanup(srv.Close)
		u, _ := url.Parse(srv.URL)
		targets = append(targets, u)
	}
	p, err := startRoundRobin(targets, 4)
	if err != nil {
		t.Fatal(err)
	}
	defer p.close()
	hc := newHTTPClient(1, 5*time.Second)
	tests := []struct{ path, want string }{
		{"/a", "0 %s /a"}, {"/b", "1 %s /b"}, {"/c", "2 %s /c"}, {"/d", "0 %s /d"}, {"/e", "1 %s /e"},
	}
	for _, tt := range tests {
		resp, err := hc.Get(p.url.String() + tt.path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if want := fmt.Sprintf(tt.want, p.url.Host); string(b) != want {
			t.Errorf("GET %s: %q, want %q", tt.path, b, want)
		}
	}
	if got := p.counts(); got[0] != 2 || got[1] != 2 || got[2] != 1 {
		t.Errorf("counts %v, want [2 2 1]", got)
	}
}

// TestPacer: due times follow the schedule whatever the answers took; a
// device behind it sends at once; no interval means now.
func TestPacer(t *testing.T) {
	const iv = 5 * time.Millisecond
	tests := []struct {
		name  string
		delay []time.Duration // how long the "answer" after each due time takes
	}{
		{"answers in time", []time.Duration{0, 0, 0, 0}},
		{"one slow answer", []time.Duration{0, 4 * iv, 0, 0, 0, 0}},
		{"all slow", []time.Duration{2 * iv, 2 * iv, 2 * iv}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now().Add(iv)
			p := newPacer(iv, start)
			for i, d := range tt.delay {
				due, ok := p.wait(context.Background())
				if !ok {
					t.Fatal("wait refused")
				}
				if want := start.Add(time.Duration(i) * iv); !due.Equal(want) {
					t.Fatalf("request %d due %v after the start, want %v", i, due.Sub(start), want.Sub(start))
				}
				if time.Now().Before(due) {
					t.Fatalf("request %d sent before it was due", i)
				}
				time.Sleep(d)
			}
		})
	}
	t.Run("no interval", func(t *testing.T) {
		p := newPacer(0, time.Now().Add(time.Hour))
		before := time.Now()
		due, ok := p.wait(context.Background())
		if !ok || due.Before(before) || time.Since(before) > time.Second {
			t.Fatalf("due %v, ok %v", due, ok)
		}
	})
	t.Run("ended context", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, ok := newPacer(time.Hour, time.Now().Add(time.Hour)).wait(ctx); ok {
			t.Fatal("wait went on after the context ended")
		}
		if _, ok := newPacer(0, time.Now()).wait(ctx); ok {
			t.Fatal("wait without interval went on after the context ended")
		}
	})
}

// TestScheduledLatency: a request's latency runs from its due time when
// that has passed, so that the time it waited behind a slow answer counts.
func TestScheduledLatency(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	cl := &davClient{http: newHTTPClient(1, 5*time.Second), base: u, user: "u", password: "p"}
	tests := []struct {
		name     string
		due      time.Duration // from now; 0: no due time
		min, max time.Duration
	}{
		{"no schedule", 0, 0, 200 * time.Millisecond},
		{"due 300 ms ago", -300 * time.Millisecond, 300 * time.Millisecond, 500 * time.Millisecond},
		{"due later (not waited for)", time.Hour, 0, 200 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			if tt.due != 0 {
				ctx = atSchedule(ctx, time.Now().Add(tt.due))
			}
			a, err := cl.do(ctx, "GET", "/", nil)
			if err != nil {
				t.Fatal(err)
			}
			if a.took < tt.min || a.took > tt.max {
				t.Fatalf("took %v, want %v to %v", a.took, tt.min, tt.max)
			}
		})
	}
}

// TestCompareOnPostgres runs a tiny comparison of all three backends on
// the test cluster: every figure is measured on each, nothing fails, and
// the proxy sent every other request to each instance.
func TestCompareOnPostgres(t *testing.T) {
	if os.Getenv(storagetest.PostgresEnv) == "" {
		storagetest.Postgres(t) // skips, or fails under CI
	}
	if testing.Short() {
		t.Skip("builds and starts coffer")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "coffer")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/coffer-dav/coffer/cmd/coffer").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	c, err := parseConfig([]string{"--backends", "sqlite,postgres,postgres-2", "--coffer-bin", bin,
		"--postgres", os.Getenv(storagetest.PostgresEnv), "--n", "30", "--iterations", "4", "--users", "3",
		"--mixed-n", "6", "--duration", "1s", "--rate", "50", "--runs", "1", "--photo-share", "0"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var table, js bytes.Buffer
	errs, err := compare(ctx, c, &table, &js)
	if err != nil || errs != 0 {
		t.Fatalf("compare: %v, %d unexpected answers\n%s", err, errs, table.String())
	}
	var cmp comparisonTable
	for _, line := range strings.Split(strings.TrimSpace(js.String()), "\n") {
		if strings.HasPrefix(line, `{"type":"comparison"`) {
			if err := json.Unmarshal([]byte(line), &cmp); err != nil {
				t.Fatal(err)
			}
		}
	}
	if len(cmp.Rows) != len(figures) {
		t.Fatalf("%d rows of %d figures:\n%s", len(cmp.Rows), len(figures), table.String())
	}
	for _, r := range cmp.Rows {
		for _, b := range []string{"sqlite", "postgres", "postgres-2"} {
			// The CPU time comes in 10 ms ticks: a tiny run may see none.
			v, ok := r.Values[b]
			if !ok || v < 0 || v == 0 && !strings.Contains(r.Figure, "CPU") {
				t.Errorf("%s %s on %s: %v", r.Scenario, r.Figure, b, v)
			}
		}
	}
	if len(cmp.Targets) != 6 {
		t.Errorf("%d targets checked, want 3 on each PostgreSQL backend", len(cmp.Targets))
	}
	if !strings.Contains(table.String(), "scenario put on postgres-2, run 1") {
		t.Errorf("no table of the runs on postgres-2:\n%s", table.String())
	}
	var one, two int
	if _, err := fmt.Sscanf(table.String()[strings.Index(table.String(), "postgres-2: the proxy sent"):],
		"postgres-2: the proxy sent %d requests to instance 1, %d to instance 2", &one, &two); err != nil || one == 0 || two == 0 || one-two > 1 || two-one > 1 {
		t.Errorf("the proxy's spread: %d and %d (%v)", one, two, err)
	}
}
