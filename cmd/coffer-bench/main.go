// Command coffer-bench drives a running Coffer server over HTTP the way
// DAVx5 and iOS do, and reports throughput, latency percentiles, errors
// and the server's memory and disk use. It talks to loopback servers only.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"sort"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"
)

const usage = `coffer-bench: load scenarios against a Coffer server on this machine

  coffer-bench --scenario put|initial-sync|sync|query|mixed|fill [flags]
  coffer-bench --scenario startup --coffer-bin PATH --data DIR [--runs N]
  coffer-bench --backends sqlite,postgres,postgres-2 --coffer-bin PATH [--postgres DSN]
               [--scenarios put,initial-sync,sync,query,mixed,mixed-rate] [--runs N]

Users are created through the operator API (--operator-url, --operator-token
or COFFER_OPERATOR_TOKEN) or else with "coffer user add" (--coffer-bin,
--data). The startup scenario starts the server itself, on 127.0.0.1:0, from
the data folder of a server that is not running. Only loopback URLs are
accepted. With --backends the tool starts the servers itself, one backend
after the other (PostgreSQL on a new database of the --postgres cluster,
postgres-2 as two instances behind a round-robin proxy of its own), runs
every scenario of --scenarios on each and prints a comparison of the
medians. See README "Measuring performance".

`

// config is the command line.
type config struct {
	url, scenario           string
	cpuProfile              string
	n, conc, k, iterations  int
	users, devices, batch   int
	runs, maxOps, setupConc int
	duration, timeout       time.Duration
	rate, photoShare        float64
	kinds                   string
	opURL, opToken, bin     string
	data                    string
	pid                     int
	json, appPasswords      bool
	seed                    uint64
	prefix                  string
	base, operator          *url.URL
	backends, postgres      string
	scenarioList            string
	mixedN                  int
	set                     map[string]bool // the flags given on the command line
}

// scenarios are the scenario names.
var scenarios = []string{"put", "initial-sync", "sync", "query", "mixed", "fill", "startup"}

// maxFillObjects bounds --users times --n for the fill scenario: the tool
// keeps a latency and a completion time (16 bytes) per object.
const maxFillObjects = 10_000_000

// parseConfig reads and checks the command line.
func parseConfig(args []string, stderr io.Writer) (*config, error) {
	c := &config{}
	fs := flag.NewFlagSet("coffer-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage); fs.PrintDefaults() }
	fs.StringVar(&c.url, "url", "http://127.0.0.1:8008/", "the server's DAV URL (loopback only)")
	fs.StringVar(&c.scenario, "scenario", "", "put, initial-sync, sync, query, mixed, fill or startup")
	fs.IntVar(&c.n, "n", 1000, "objects: stored by put, in the collection for initial-sync, sync and query, per user for mixed and fill")
	fs.IntVar(&c.conc, "c", 8, "concurrent requests for PUTs (put, fill, and setup of the other scenarios)")
	fs.IntVar(&c.k, "k", 1, "sync: changes between the token and the sync-collection REPORT")
	fs.IntVar(&c.iterations, "iterations", 50, "sync and query: measured REPORTs per run")
	fs.IntVar(&c.users, "users", 0, "mixed and fill: users (default 200)")
	fs.IntVar(&c.devices, "devices", 2, "mixed: devices per user")
	fs.IntVar(&c.batch, "batch", 10, "hrefs per multiget (DAVx5: 10, iOS: 50)")
	fs.IntVar(&c.runs, "runs", 1, "measured runs; the medians of their headline figures are reported (fill runs once)")
	fs.IntVar(&c.maxOps, "max-ops", 5_000_000, "mixed: stop after this many requests even before --duration")
	fs.IntVar(&c.setupConc, "setup-c", 2, "users created at once (each costs Argon2 on the server)")
	fs.DurationVar(&c.duration, "duration", 30*time.Second, "mixed: how long each run lasts")
	fs.DurationVar(&c.timeout, "timeout", 30*time.Minute, "deadline for the whole command, setup included")
	fs.Float64Var(&c.rate, "rate", 0, "mixed: target requests per second over all devices; 0: each device sends as fast as answers come")
	fs.Float64Var(&c.photoShare, "photo-share", 0.1, "share of contacts with a 30-100 KB photo")
	fs.StringVar(&c.kinds, "kinds", "", "object kinds: contacts,events,tasks (default: all for put and fill, contacts for initial-sync and sync, contacts,events for mixed)")
	fs.StringVar(&c.opURL, "operator-url", "", "operator API URL, e.g. http://127.0.0.1:8009/ (loopback only)")
	fs.StringVar(&c.opToken, "operator-token", "", "operator API token (better from COFFER_OPERATOR_TOKEN)")
	fs.StringVar(&c.bin, "coffer-bin", "", "the coffer binary: startup starts it; the other scenarios create users with \"coffer user add\" when there is no operator API")
	fs.StringVar(&c.data, "data", "", "the server's data folder: for \"coffer user add\", to report disk use, and the folder startup serves (no server may be running on it)")
	fs.IntVar(&c.pid, "server-pid", 0, "the server's process id, to report its peak RSS (not with startup, which starts its own)")
	fs.StringVar(&c.cpuProfile, "cpuprofile", "", "write this tool's own CPU profile to the file (to see what the load generator costs)")
	fs.BoolVar(&c.json, "json", false, "write JSON lines on standard output (the table goes to standard error)")
	fs.Uint64Var(&c.seed, "seed", 1, "seed of the generated data")
	fs.StringVar(&c.prefix, "user-prefix", "", "prefix of the created user names (default bench-<random>)")
	fs.BoolVar(&c.appPasswords, "app-passwords", true, "mixed: each device logs in with its own app password, as recommended to users")
	fs.StringVar(&c.backends, "backends", "", "compare backends: sqlite, postgres (one instance), postgres-2 (two behind a round-robin proxy); the tool starts the servers")
	fs.StringVar(&c.postgres, "postgres", os.Getenv(postgresEnv), "with --backends: connection string of a PostgreSQL cluster the tool may create databases on (default $"+postgresEnv+")")
	fs.StringVar(&c.scenarioList, "scenarios", strings.Join(compareScenarios, ","), "with --backends: the scenarios to run; mixed-rate is mixed at --rate (default 2000)")
	fs.IntVar(&c.mixedN, "mixed-n", 40, "with --backends: objects per user for mixed and mixed-rate (--n is for the others)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	c.set = map[string]bool{}
	fs.Visit(func(f *flag.Flag) { c.set[f.Name] = true })
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if c.opToken == "" {
		c.opToken = os.Getenv("COFFER_OPERATOR_TOKEN")
	}
	return c, c.check()
}

// check validates the configuration.
func (c *config) check() error {
	var err error
	if c.backends != "" {
		if err := c.checkCompare(); err != nil {
			return err
		}
	} else if !slices.Contains(scenarios, c.scenario) {
		return fmt.Errorf("--scenario %q: want one of %s", c.scenario, strings.Join(scenarios, ", "))
	}
	if c.base, err = checkLoopback(c.url); err != nil {
		return fmt.Errorf("--url %w", err)
	}
	c.base.Path, c.base.RawQuery, c.base.Fragment = "", "", ""
	switch {
	case c.backends != "":
		// The tool starts the servers and creates users through their
		// operator API.
	case c.opURL != "":
		if c.operator, err = checkLoopback(c.opURL); err != nil {
			return fmt.Errorf("--operator-url %w", err)
		}
		if len(c.opToken) < 16 {
			return errors.New("--operator-url needs --operator-token (or COFFER_OPERATOR_TOKEN)")
		}
	case c.bin != "":
		if c.data == "" {
			return errors.New("--coffer-bin needs --data, the server's data folder")
		}
	case c.scenario != "startup":
		return errors.New("give --operator-url and --operator-token, or --coffer-bin and --data, to create users")
	}
	if c.scenario == "startup" {
		if c.bin == "" || c.data == "" {
			return errors.New("--scenario startup needs --coffer-bin and --data, the data folder of a server that is not running")
		}
		if c.pid != 0 {
			return errors.New("--scenario startup starts its own server: drop --server-pid")
		}
	}
	for _, v := range []struct {
		name   string
		val    int
		lo, hi int
	}{
		{"n", c.n, 1, 10_000_000}, {"c", c.conc, 1, 1024}, {"k", c.k, 1, 100_000}, {"iterations", c.iterations, 1, 1_000_000},
		{"users", c.users, 0, 100_000}, {"devices", c.devices, 1, 100}, {"batch", c.batch, 1, 1000}, {"runs", c.runs, 1, 100},
		{"max-ops", c.maxOps, 1, 1 << 40}, {"setup-c", c.setupConc, 1, 64}, {"mixed-n", c.mixedN, 1, 10_000_000},
	} {
		if v.val < v.lo || v.val > v.hi {
			return fmt.Errorf("--%s %d: want %d to %d", v.name, v.val, v.lo, v.hi)
		}
	}
	if c.duration <= 0 || c.duration > 24*time.Hour || c.timeout <= 0 {
		return errors.New("--duration and --timeout must be positive, --duration at most 24h")
	}
	if c.rate < 0 || c.photoShare < 0 || c.photoShare > 1 {
		return errors.New("--rate must not be negative, --photo-share must lie in 0..1")
	}
	if c.scenario == "sync" && c.k > c.n {
		return fmt.Errorf("--k %d: at most --n %d changes", c.k, c.n)
	}
	if c.users == 0 {
		c.users = 200
	}
	if c.scenario == "fill" {
		if c.runs != 1 {
			return fmt.Errorf("--runs %d: fill runs once (each run would store everything again)", c.runs)
		}
		if c.users*c.n > maxFillObjects {
			return fmt.Errorf("--users %d times --n %d: at most %d objects in one fill", c.users, c.n, maxFillObjects)
		}
	}
	if c.kinds == "" && c.backends == "" {
		c.kinds = defaultKinds(c.scenario)
	}
	if c.kinds != "" {
		if _, err := parseKinds(c.kinds); err != nil {
			return err
		}
	}
	if c.prefix == "" {
		c.prefix = "bench-" + runID()
	}
	if !usernameOK(c.prefix + "-999999") {
		return fmt.Errorf("--user-prefix %q: use lower-case letters, digits and . _ @ + -", c.prefix)
	}
	return nil
}

// defaultKinds are the object kinds a scenario stores unless --kinds says.
func defaultKinds(scenario string) string {
	switch scenario {
	case "put", "fill":
		return "contacts,events,tasks"
	case "mixed", "mixed-rate":
		return "contacts,events"
	case "query":
		return "events"
	}
	return "contacts"
}

// usernameOK mirrors the server's username rule.
func usernameOK(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i, r := range s {
		ok := r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || i > 0 && strings.ContainsRune("._@+-", r)
		if !ok {
			return false
		}
	}
	return true
}

// main parses the command line, runs the scenario under --timeout and
// exits 2 on a bad command line, 1 on a failure and 3 on unexpected answers.
func main() {
	c, err := parseConfig(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "coffer-bench:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	table, jsonOut := io.Writer(os.Stdout), io.Writer(nil)
	if c.json {
		table, jsonOut = os.Stderr, os.Stdout
	}
	// The tool shares the machine with the server: it collects its
	// garbage (mostly parsed answers) less often, so that its collector
	// takes less CPU from the server during the measured requests.
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(400)
	}
	if c.cpuProfile != "" {
		f, err := os.Create(c.cpuProfile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "coffer-bench: --cpuprofile:", err)
			os.Exit(2)
		}
		defer f.Close()
	}
	errs, err := run(ctx, c, table, jsonOut)
	pprof.StopCPUProfile()
	if err != nil {
		fmt.Fprintln(os.Stderr, "coffer-bench:", err)
		os.Exit(1)
	}
	if errs > 0 {
		fmt.Fprintf(os.Stderr, "coffer-bench: %d unexpected answers\n", errs)
		os.Exit(3)
	}
}

// run runs the scenario c.runs times and reports each run and the medians.
// It returns the number of unexpected answers.
func run(ctx context.Context, c *config, table, jsonOut io.Writer) (int, error) {
	if c.backends != "" {
		return compare(ctx, c, table, jsonOut)
	}
	e, err := newEnv(c)
	if err != nil {
		return 0, err
	}
	results, err := e.scenario(ctx, func(res *result) error {
		res.writeTable(table)
		if jsonOut != nil {
			return res.writeJSON(jsonOut)
		}
		return nil
	})
	errs := unexpected(results)
	if len(results) > 1 {
		med := medians(results)
		writeMedians(table, c.scenario, len(results), med)
		if jsonOut != nil {
			if err := writeMediansJSON(jsonOut, c.scenario, len(results), med); err != nil {
				return errs, err
			}
		}
	}
	return errs, err
}

// unexpected counts the unexpected answers of results.
func unexpected(results []*result) int {
	n := 0
	for _, r := range results {
		for _, s := range r.Ops {
			if s.Op != "all" {
				n += s.Errors
			}
		}
	}
	return n
}

// headlineKeys are the figures whose medians are reported over runs.
func headlineKeys(results []*result) []string {
	seen := map[string]bool{}
	for _, r := range results {
		for k, v := range r.Extra {
			if _, ok := v.(float64); ok {
				seen[k] = true
			}
		}
	}
	keys := make([]string, 0, len(seen))
	for k := range seen {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// medians returns, for each numeric figure of the runs, its median.
func medians(results []*result) map[string]float64 {
	out := map[string]float64{}
	for _, k := range headlineKeys(results) {
		var vals []float64
		for _, r := range results {
			if v, ok := r.Extra[k].(float64); ok {
				vals = append(vals, v)
			}
		}
		out[k] = median(vals)
	}
	return out
}

// median is the middle value (the mean of the two middle ones for an even count).
func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// writeMedians writes the medians as a table.
func writeMedians(w io.Writer, scenario string, runs int, med map[string]float64) {
	fmt.Fprintf(w, "\nscenario %s: medians of %d runs\n", scenario, runs)
	keys := make([]string, 0, len(med))
	for k := range med {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, k := range keys {
		fmt.Fprintf(tw, "  %s\t%.3f\n", k, med[k])
	}
	tw.Flush()
}
