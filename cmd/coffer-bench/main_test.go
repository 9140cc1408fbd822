package main

import (
	"io"
	"strings"
	"testing"
	"time"
)

// TestCheckLoopback: only this machine is a target.
func TestCheckLoopback(t *testing.T) {
	tests := []struct {
		url string
		ok  bool
	}{
		{"http://127.0.0.1:8008/", true},
		{"http://127.1.2.3:8008/", true},
		{"https://localhost:8443/dav/", true},
		{"http://LOCALHOST:8008", true},
		{"http://[::1]:8008/", true},
		{"http://[::ffff:127.0.0.1]:8008/", true},
		{"http://10.0.0.1:8008/", false},
		{"http://0.0.0.0:8008/", false},
		{"http://[::]:8008/", false},
		{"http://192.168.1.10:8008/", false},
		{"http://example.org/", false},
		{"http://localhost.example.org/", false},
		{"http://127.0.0.1.nip.io/", false},
		{"http://[fe80::1%25lo]:8008/", false},
		{"ftp://127.0.0.1/", false},
		{"127.0.0.1:8008", false},
		{"http://user:pw@127.0.0.1:8008/", false},
		{"http://[::1", false},
	}
	for _, tt := range tests {
		_, err := checkLoopback(tt.url)
		if (err == nil) != tt.ok {
			t.Errorf("checkLoopback(%q) = %v, want ok %v", tt.url, err, tt.ok)
		}
	}
}

// TestLoopbackDialGuard: the dialer refuses resolved addresses off this machine.
func TestLoopbackDialGuard(t *testing.T) {
	tests := []struct {
		addr string
		ok   bool
	}{
		{"127.0.0.1:80", true}, {"[::1]:80", true}, {"10.1.2.3:80", false}, {"[2001:db8::1]:80", false}, {"nonsense", false},
	}
	for _, tt := range tests {
		if err := loopbackOnly("tcp", tt.addr, nil); (err == nil) != tt.ok {
			t.Errorf("loopbackOnly(%q) = %v, want ok %v", tt.addr, err, tt.ok)
		}
	}
}

// TestParseConfig checks the argument rules.
func TestParseConfig(t *testing.T) {
	t.Setenv("COFFER_OPERATOR_TOKEN", "")
	cli := []string{"--coffer-bin", "/bin/coffer", "--data", "/tmp/d"}
	tests := []struct {
		name string
		args []string
		err  string // a part of the error; "" for none
	}{
		{"put via CLI", append([]string{"--scenario", "put"}, cli...), ""},
		{"mixed via operator", []string{"--scenario", "mixed", "--operator-url", "http://127.0.0.1:8009/", "--operator-token", "0123456789abcdef"}, ""},
		{"no scenario", cli, "--scenario"},
		{"unknown scenario", append([]string{"--scenario", "stress"}, cli...), "--scenario"},
		{"remote url", append([]string{"--scenario", "put", "--url", "http://203.0.113.5:8008/"}, cli...), "loopback"},
		{"remote operator", []string{"--scenario", "put", "--operator-url", "http://203.0.113.5:8009/", "--operator-token", "0123456789abcdef"}, "loopback"},
		{"operator without token", []string{"--scenario", "put", "--operator-url", "http://127.0.0.1:8009/"}, "--operator-token"},
		{"no way to create users", []string{"--scenario", "put"}, "create users"},
		{"binary without data", []string{"--scenario", "put", "--coffer-bin", "/bin/coffer"}, "--data"},
		{"zero n", append([]string{"--scenario", "put", "--n", "0"}, cli...), "--n"},
		{"zero concurrency", append([]string{"--scenario", "put", "--c", "0"}, cli...), "--c"},
		{"k beyond n", append([]string{"--scenario", "sync", "--n", "5", "--k", "6"}, cli...), "--k"},
		{"unbounded duration", append([]string{"--scenario", "mixed", "--duration", "0s"}, cli...), "--duration"},
		{"negative rate", append([]string{"--scenario", "mixed", "--rate", "-1"}, cli...), "--rate"},
		{"bad kind", append([]string{"--scenario", "put", "--kinds", "contacts,notes"}, cli...), "notes"},
		{"bad prefix", append([]string{"--scenario", "put", "--user-prefix", "Bench"}, cli...), "--user-prefix"},
		{"stray argument", append([]string{"--scenario", "put", "extra"}, cli...), "unexpected"},
		{"fill via operator", []string{"--scenario", "fill", "--users", "1000", "--n", "1000", "--timeout", "6h", "--operator-url", "http://127.0.0.1:8009/", "--operator-token", "0123456789abcdef"}, ""},
		{"fill via CLI", append([]string{"--scenario", "fill", "--users", "3", "--n", "10"}, cli...), ""},
		{"fill twice", append([]string{"--scenario", "fill", "--runs", "2"}, cli...), "fill runs once"},
		{"fill too large", append([]string{"--scenario", "fill", "--users", "100000", "--n", "101"}, cli...), "at most"},
		{"fill without users", []string{"--scenario", "fill"}, "create users"},
		{"fill unbounded", append([]string{"--scenario", "fill", "--timeout", "0s"}, cli...), "--timeout"},
		{"startup", append([]string{"--scenario", "startup", "--runs", "5"}, cli...), ""},
		{"startup without binary", []string{"--scenario", "startup", "--data", "/tmp/d"}, "needs --coffer-bin and --data"},
		{"startup without data", []string{"--scenario", "startup", "--coffer-bin", "/bin/coffer"}, "--data"},
		{"startup with operator only", []string{"--scenario", "startup", "--operator-url", "http://127.0.0.1:8009/", "--operator-token", "0123456789abcdef"}, "needs --coffer-bin"},
		{"startup with server pid", append([]string{"--scenario", "startup", "--server-pid", "42"}, cli...), "--server-pid"},
		{"startup too many runs", append([]string{"--scenario", "startup", "--runs", "101"}, cli...), "--runs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseConfig(tt.args, io.Discard)
			switch {
			case tt.err == "" && err != nil:
				t.Fatalf("unexpected error %v", err)
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Fatalf("error %v, want one about %q", err, tt.err)
			case err == nil && (c.base.Path != "" || c.users == 0 || c.kinds == ""):
				t.Fatalf("defaults not applied: %+v", c)
			}
		})
	}
}

// TestPercentile checks the nearest-rank method.
func TestPercentile(t *testing.T) {
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = time.Duration(i+1) * time.Millisecond
	}
	tests := []struct {
		name   string
		sorted []time.Duration
		q      float64
		want   time.Duration
	}{
		{"empty", nil, 0.5, 0},
		{"one", []time.Duration{7}, 0.99, 7},
		{"p50 of 100", hundred, 0.50, 50 * time.Millisecond},
		{"p95 of 100", hundred, 0.95, 95 * time.Millisecond},
		{"p99 of 100", hundred, 0.99, 99 * time.Millisecond},
		{"p100 of 100", hundred, 1, 100 * time.Millisecond},
		{"p0 is the minimum", hundred, 0, time.Millisecond},
		{"p50 of 4", []time.Duration{1, 2, 3, 4}, 0.5, 2},
		{"p99 of 4", []time.Duration{1, 2, 3, 4}, 0.99, 4},
	}
	for _, tt := range tests {
		if got := percentile(tt.sorted, tt.q); got != tt.want {
			t.Errorf("%s: percentile(%v) = %v, want %v", tt.name, tt.q, got, tt.want)
		}
	}
}

// TestSummarize checks rate, mean, percentiles and that input order does not matter.
func TestSummarize(t *testing.T) {
	lat := []time.Duration{4 * time.Millisecond, time.Millisecond, 3 * time.Millisecond, 2 * time.Millisecond}
	s := summarize("poll", lat, 1, 2*time.Second)
	want := summary{Op: "poll", Count: 4, Errors: 1, PerSecond: 2, MeanMS: 2.5, P50MS: 2, P95MS: 4, P99MS: 4, MaxMS: 4}
	if s.Op != want.Op || s.Count != want.Count || s.Errors != want.Errors || s.PerSecond != want.PerSecond ||
		s.MeanMS != want.MeanMS || s.P50MS != want.P50MS || s.P95MS != want.P95MS || s.P99MS != want.P99MS || s.MaxMS != want.MaxMS {
		t.Fatalf("summarize = %+v, want %+v", s, want)
	}
	if lat[0] != 4*time.Millisecond {
		t.Fatal("summarize sorted its input in place")
	}
	if z := summarize("none", nil, 0, time.Second); z.Count != 0 || z.P99MS != 0 {
		t.Fatalf("empty summary %+v", z)
	}
}

// TestRecorderSummaries: an "all" line joins several operations.
func TestRecorderSummaries(t *testing.T) {
	r := newRecorder()
	r.ok("poll", time.Millisecond)
	r.ok("poll", 3*time.Millisecond)
	r.fail("write", 2*time.Millisecond, 412, "PUT")
	got := r.summaries(time.Second)
	if len(got) != 3 || got[0].Op != "poll" || got[1].Op != "write" || got[2].Op != "all" {
		t.Fatalf("summaries %+v", got)
	}
	if got[2].Count != 3 || got[2].Errors != 1 || got[1].Statuses["412"] != 1 || got[2].P50MS != 2 {
		t.Fatalf("all line %+v, write line %+v", got[2], got[1])
	}
	if r.errorCount() != 1 || len(r.samples) != 1 {
		t.Fatalf("errors %d, samples %q", r.errorCount(), r.samples)
	}
}

// TestRateWindows: the first and last tenth of completions give their own rates.
func TestRateWindows(t *testing.T) {
	start := time.Unix(1000, 0)
	var done []time.Time
	// 100 completions: the first 10 take 1 s (10/s), the rest come every 0.2 s (5/s).
	for i := 1; i <= 10; i++ {
		done = append(done, start.Add(time.Duration(i)*100*time.Millisecond))
	}
	for i := 1; i <= 90; i++ {
		done = append(done, start.Add(time.Second+time.Duration(i)*200*time.Millisecond))
	}
	// Completion order need not be sorted.
	done[3], done[97] = done[97], done[3]
	first, last := rateWindows(start, done)
	if first < 9.99 || first > 10.01 || last < 4.99 || last > 5.01 {
		t.Fatalf("rates %v, %v; want 10 and 5", first, last)
	}
	if f, l := rateWindows(start, done[:5]); f != 0 || l != 0 {
		t.Fatalf("fewer than 10 completions: %v, %v", f, l)
	}
}

// TestMedian covers odd, even and empty inputs.
func TestMedian(t *testing.T) {
	tests := []struct {
		in   []float64
		want float64
	}{
		{nil, 0}, {[]float64{3}, 3}, {[]float64{5, 1, 3}, 3}, {[]float64{4, 1, 3, 2}, 2.5},
	}
	for _, tt := range tests {
		if got := median(tt.in); got != tt.want {
			t.Errorf("median(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// TestParseStatus reads VmRSS and VmHWM from a /proc status file.
func TestParseStatus(t *testing.T) {
	in := "Name:\tcoffer\nVmPeak:\t  900000 kB\nVmHWM:\t  153600 kB\nVmRSS:\t   65536 kB\nThreads:\t9\n"
	rss, hwm, err := parseStatus([]byte(in))
	if err != nil || rss != 65536 || hwm != 153600 {
		t.Fatalf("parseStatus = %d, %d, %v", rss, hwm, err)
	}
	if _, _, err := parseStatus([]byte("Name:\tx\n")); err == nil {
		t.Fatal("a status file without memory lines was accepted")
	}
}

// TestOverlaps checks the expected results of the query scenario on
// single and recurring events, across a change to summer time.
func TestOverlaps(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip("no time zone data")
	}
	d := func(y int, m time.Month, day int) time.Time { return time.Date(y, m, day, 0, 0, 0, 0, time.UTC) }
	tests := []struct {
		name     string
		s        eventSpec
		from, to time.Time
		want     bool
	}{
		{"single inside", eventSpec{start: time.Date(2025, 3, 10, 9, 0, 0, 0, time.UTC), dur: time.Hour}, d(2025, 3, 1), d(2025, 4, 1), true},
		{"single before", eventSpec{start: time.Date(2025, 2, 10, 9, 0, 0, 0, time.UTC), dur: time.Hour}, d(2025, 3, 1), d(2025, 4, 1), false},
		{"ends at the range start", eventSpec{start: time.Date(2025, 2, 28, 23, 0, 0, 0, time.UTC), dur: time.Hour}, d(2025, 3, 1), d(2025, 4, 1), false},
		{"starts at the range end", eventSpec{start: d(2025, 4, 1), dur: time.Hour}, d(2025, 3, 1), d(2025, 4, 1), false},
		{"weekly for ever, years later", eventSpec{start: time.Date(2025, 1, 6, 9, 0, 0, 0, berlin), dur: time.Hour, rule: ruleWeeklyForever}, d(2026, 7, 1), d(2026, 8, 1), true},
		{"weekly count ended", eventSpec{start: time.Date(2025, 1, 6, 9, 0, 0, 0, berlin), dur: time.Hour, rule: ruleWeeklyCount, count: 4}, d(2025, 2, 1), d(2025, 3, 1), false},
		{"weekly count last one", eventSpec{start: time.Date(2025, 1, 6, 9, 0, 0, 0, berlin), dur: time.Hour, rule: ruleWeeklyCount, count: 4}, d(2025, 1, 27), d(2025, 1, 28), true},
		{"daily until passed", eventSpec{start: time.Date(2025, 1, 1, 9, 0, 0, 0, time.UTC), dur: time.Hour, rule: ruleDailyUntil, until: time.Date(2025, 1, 20, 23, 59, 59, 0, time.UTC)}, d(2025, 1, 21), d(2025, 2, 1), false},
		// 09:00 in Berlin is 08:00 UTC in winter and 07:00 UTC in summer.
		{"local time across DST", eventSpec{start: time.Date(2025, 3, 3, 9, 0, 0, 0, berlin), dur: time.Hour, rule: ruleWeeklyForever},
			time.Date(2025, 3, 31, 7, 0, 0, 0, time.UTC), time.Date(2025, 3, 31, 7, 30, 0, 0, time.UTC), true},
	}
	for _, tt := range tests {
		if got := tt.s.overlaps(tt.from, tt.to); got != tt.want {
			t.Errorf("%s: overlaps = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestFold keeps lines at 75 octets and unfolds to the original.
func TestFold(t *testing.T) {
	line := "PHOTO;ENCODING=b;TYPE=JPEG:" + strings.Repeat("A", 500)
	folded := fold(line)
	for _, l := range strings.Split(strings.TrimSuffix(folded, "\r\n"), "\r\n") {
		if len(l) > 75 {
			t.Fatalf("line of %d octets", len(l))
		}
	}
	if got := strings.ReplaceAll(strings.TrimSuffix(folded, "\r\n"), "\r\n ", ""); got != line {
		t.Fatal("unfolding does not give the line back")
	}
}
