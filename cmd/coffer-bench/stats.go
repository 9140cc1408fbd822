package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"
	"time"
)

// recorder collects the latencies and errors of one scenario's operations.
type recorder struct {
	mu      sync.Mutex
	ops     map[string]*opStats
	order   []string
	samples []string // the first few unexpected answers, for the report
}

// opStats are the samples of one kind of operation.
type opStats struct {
	lat    []time.Duration
	errors int
	status map[int]int // unexpected statuses (0: transport error)
}

// maxSamples bounds the error descriptions kept.
const maxSamples = 5

// newRecorder returns an empty recorder.
func newRecorder() *recorder { return &recorder{ops: map[string]*opStats{}} }

// op returns the stats of name, creating them.
func (r *recorder) op(name string) *opStats {
	s, ok := r.ops[name]
	if !ok {
		s = &opStats{status: map[int]int{}}
		r.ops[name] = s
		r.order = append(r.order, name)
	}
	return s
}

// ok records a successful operation's latency.
func (r *recorder) ok(name string, d time.Duration) {
	r.mu.Lock()
	r.op(name).lat = append(r.op(name).lat, d)
	r.mu.Unlock()
}

// fail records an unexpected answer (status 0: no answer) with a short
// description that holds no body and no credential.
func (r *recorder) fail(name string, d time.Duration, status int, what string) {
	r.mu.Lock()
	s := r.op(name)
	s.lat = append(s.lat, d)
	s.errors++
	s.status[status]++
	if len(r.samples) < maxSamples {
		r.samples = append(r.samples, fmt.Sprintf("%s: %d %s", name, status, what))
	}
	r.mu.Unlock()
}

// errorCount is the number of unexpected answers over all operations.
func (r *recorder) errorCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, s := range r.ops {
		n += s.errors
	}
	return n
}

// count returns how many operations of name were recorded, and how many of
// them failed.
func (r *recorder) count(name string) (n, errors int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if s, ok := r.ops[name]; ok {
		return len(s.lat), s.errors
	}
	return 0, 0
}

// summary is the report line of one operation.
type summary struct {
	Op        string         `json:"op"`
	Count     int            `json:"count"`
	Errors    int            `json:"errors"`
	PerSecond float64        `json:"ops_per_s"`
	MeanMS    float64        `json:"mean_ms"`
	P50MS     float64        `json:"p50_ms"`
	P95MS     float64        `json:"p95_ms"`
	P99MS     float64        `json:"p99_ms"`
	MaxMS     float64        `json:"max_ms"`
	Statuses  map[string]int `json:"unexpected_statuses,omitempty"`
}

// percentile returns the q-quantile (0..1) of sorted by the nearest-rank
// method: the smallest value with at least q of the samples at or below it.
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(q * float64(len(sorted))))
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

// summarize computes the report line of samples taken over elapsed.
func summarize(op string, lat []time.Duration, errors int, elapsed time.Duration) summary {
	s := summary{Op: op, Count: len(lat), Errors: errors}
	if len(lat) == 0 {
		return s
	}
	sorted := slices.Clone(lat)
	slices.Sort(sorted)
	var sum time.Duration
	for _, d := range sorted {
		sum += d
	}
	if elapsed > 0 {
		s.PerSecond = float64(len(lat)) / elapsed.Seconds()
	}
	s.MeanMS = ms(sum / time.Duration(len(sorted)))
	s.P50MS = ms(percentile(sorted, 0.50))
	s.P95MS = ms(percentile(sorted, 0.95))
	s.P99MS = ms(percentile(sorted, 0.99))
	s.MaxMS = ms(sorted[len(sorted)-1])
	return s
}

// ms is d in milliseconds, rounded to microseconds.
func ms(d time.Duration) float64 { return math.Round(float64(d)/1e3) / 1e3 }

// summaries returns one line per operation, in the order first seen, and a
// line "all" over every operation when there are several.
func (r *recorder) summaries(elapsed time.Duration) []summary {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []summary
	var all []time.Duration
	allErrors := 0
	for _, name := range r.order {
		s := r.ops[name]
		line := summarize(name, s.lat, s.errors, elapsed)
		line.Statuses = statusMap(s.status)
		out = append(out, line)
		all = append(all, s.lat...)
		allErrors += s.errors
	}
	if len(r.order) > 1 {
		out = append(out, summarize("all", all, allErrors, elapsed))
	}
	return out
}

// statusMap renders unexpected statuses as JSON-friendly keys.
func statusMap(m map[int]int) map[string]int {
	if len(m) == 0 {
		return nil
	}
	out := map[string]int{}
	for k, v := range m {
		key := fmt.Sprint(k)
		if k == 0 {
			key = "no-answer"
		}
		out[key] = v
	}
	return out
}

// rateWindows returns the rate of the first and of the last tenth of the
// completions (sorted completion times, measured from start): objects per
// second over the time it took to complete each tenth.
func rateWindows(start time.Time, done []time.Time) (first, last float64) {
	offsets := make([]time.Duration, len(done))
	for i, t := range done {
		offsets[i] = t.Sub(start)
	}
	return offsetRates(offsets)
}

// offsetRates is rateWindows over completion times given as offsets from
// the start, in any order; it sorts offsets in place.
func offsetRates(offsets []time.Duration) (first, last float64) {
	n := len(offsets)
	tenth := n / 10
	if tenth == 0 {
		return 0, 0
	}
	slices.Sort(offsets)
	if d := offsets[tenth-1]; d > 0 {
		first = float64(tenth) / d.Seconds()
	}
	if d := offsets[n-1] - offsets[n-tenth-1]; d > 0 {
		last = float64(tenth) / d.Seconds()
	}
	return first, last
}

// result is everything one scenario run reports.
type result struct {
	Backend  string         `json:"backend,omitempty"` // with --backends: the backend measured
	Scenario string         `json:"scenario"`
	Run      int            `json:"run"`
	Elapsed  float64        `json:"elapsed_s"`
	Ops      []summary      `json:"ops"`
	Extra    map[string]any `json:"extra,omitempty"`
	Server   *serverStats   `json:"server,omitempty"`
	Samples  []string       `json:"error_samples,omitempty"`
}

// writeJSON writes the result as JSON lines: one per operation, then one
// for the scenario.
func (res *result) writeJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	for _, s := range res.Ops {
		line := struct {
			Backend  string `json:"backend,omitempty"`
			Scenario string `json:"scenario"`
			Run      int    `json:"run"`
			summary
		}{res.Backend, res.Scenario, res.Run, s}
		if err := enc.Encode(line); err != nil {
			return err
		}
	}
	type whole struct {
		Type string `json:"type"`
		*result
	}
	return enc.Encode(whole{"scenario", res})
}

// writeTable writes the result as a table.
func (res *result) writeTable(w io.Writer) {
	on := ""
	if res.Backend != "" {
		on = " on " + res.Backend
	}
	fmt.Fprintf(w, "\nscenario %s%s, run %d: %.3f s\n", res.Scenario, on, res.Run, res.Elapsed)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "op\tcount\terrors\tops/s\tmean ms\tp50 ms\tp95 ms\tp99 ms\tmax ms\t")
	for _, s := range res.Ops {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.1f\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t\n", s.Op, s.Count, s.Errors, s.PerSecond, s.MeanMS, s.P50MS, s.P95MS, s.P99MS, s.MaxMS)
	}
	tw.Flush()
	keys := make([]string, 0, len(res.Extra))
	for k := range res.Extra {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "  %s: %v\n", k, res.Extra[k])
	}
	if s := res.Server; s != nil {
		var parts []string
		if s.PeakRSSMiB > 0 || s.HWMMiB > 0 {
			parts = append(parts, fmt.Sprintf("peak RSS %.1f MiB during the run (VmHWM %.1f MiB over the server's life)", s.PeakRSSMiB, s.HWMMiB))
		}
		if s.DiskMiB > 0 {
			parts = append(parts, fmt.Sprintf("disk %.1f MiB", s.DiskMiB))
		}
		if len(parts) > 0 {
			fmt.Fprintf(w, "  server: %s\n", strings.Join(parts, ", "))
		}
	}
	for _, e := range res.Samples {
		fmt.Fprintf(w, "  error: %s\n", e)
	}
}
