package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// env is what every scenario uses.
type env struct {
	c     *config
	http  *http.Client
	users *userMaker
	kinds []kind
	gen   *generator
	// progress gets the progress lines of long scenarios (fill).
	progress io.Writer
	// instances are the servers behind --url when it is a proxy of
	// several: each caches logins of its own, so each is logged in to.
	instances []*url.URL
	// backend names what the server runs on, with --backends.
	backend string
	// devices are the mixed load's devices, once prepared.
	devices []*device
	// cpu, when set, returns the CPU time the servers used so far: the
	// runs report it per request.
	cpu func() (time.Duration, error)
}

// newEnv prepares the HTTP client, the user maker and the data generator.
func newEnv(c *config) (*env, error) {
	kinds, err := parseKinds(c.kinds)
	if err != nil {
		return nil, err
	}
	conns := max(c.conc, c.users*c.devices, 16)
	hc := newHTTPClient(conns, 5*time.Minute)
	g, err := newGenerator(c.prefix, c.seed, c.photoShare)
	if err != nil {
		return nil, err
	}
	return &env{c: c, http: hc, kinds: kinds, gen: g, progress: os.Stderr,
		users: &userMaker{opURL: c.operator, opToken: c.opToken, bin: c.bin, data: c.data, http: hc, parallel: c.setupConc}}, nil
}

// client returns a DAV client for cr.
func (e *env) client(cr creds) *davClient {
	return &davClient{http: e.http, base: e.c.base, user: cr.user, password: cr.password}
}

// scenario runs the configured scenario, emitting each run's result.
func (e *env) scenario(ctx context.Context, emit func(*result) error) ([]*result, error) {
	setup, fn, err := e.prepare(ctx)
	if err != nil {
		return nil, err
	}
	return e.runs(ctx, emit, setup, fn)
}

// prepare does the configured scenario's setup, whose figures the runs
// carry, and returns its measured run.
func (e *env) prepare(ctx context.Context) (*result, runFunc, error) {
	switch e.c.scenario {
	case "put":
		// One fresh user per run, created and logged in before the
		// measurements, so that no Argon2 run falls into them.
		users, err := e.users.make(ctx, e.c.prefix, e.c.runs)
		if err != nil {
			return nil, nil, err
		}
		for _, u := range users {
			if err := e.warm(ctx, e.client(u), e.kinds[0]); err != nil {
				return nil, nil, err
			}
		}
		return nil, func(ctx context.Context, run int, rec *recorder, res *result) error {
			return e.putRun(ctx, e.client(users[run-1]), rec, res)
		}, nil
	case "initial-sync":
		return e.withUser(ctx, e.initialSyncRun)
	case "sync":
		return e.withUser(ctx, e.syncRun)
	case "query":
		return e.withUser(ctx, e.queryRun)
	case "mixed", "mixed-rate":
		setup, devices, err := e.mixedSetup(ctx)
		if err != nil {
			return nil, nil, err
		}
		e.devices = devices
		return setup, e.mixedRun(devices), nil
	case "fill":
		return e.fillSetup(ctx)
	case "startup":
		return nil, e.startupRun, nil
	}
	return nil, nil, fmt.Errorf("unknown scenario %q", e.c.scenario)
}

// runFunc measures one run into res.
type runFunc func(ctx context.Context, run int, rec *recorder, res *result) error

// runs calls fn for each run, measuring the server around it.
func (e *env) runs(ctx context.Context, emit func(*result) error, setup *result, fn runFunc) ([]*result, error) {
	var out []*result
	for run := 1; run <= e.c.runs; run++ {
		res, err := e.runOne(ctx, run, setup, fn)
		out = append(out, res)
		if eerr := emit(res); eerr != nil {
			return out, eerr
		}
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

// runOne measures run number run of fn, and the server around it; the
// result carries the figures of setup.
func (e *env) runOne(ctx context.Context, run int, setup *result, fn runFunc) (*result, error) {
	rec := newRecorder()
	res := &result{Backend: e.backend, Scenario: e.c.scenario, Run: run, Extra: map[string]any{}}
	if setup != nil {
		for k, v := range setup.Extra {
			res.Extra[k] = v
		}
	}
	s := startSampler(e.c.pid, e.c.data)
	var cpu0 time.Duration
	var cpuErr error
	if e.cpu != nil {
		cpu0, cpuErr = e.cpu()
	}
	start := time.Now()
	err := fn(ctx, run, rec, res)
	elapsed := time.Since(start)
	if e.cpu != nil && cpuErr == nil {
		var cpu1 time.Duration
		if cpu1, cpuErr = e.cpu(); cpuErr == nil {
			if n := requests(rec); n > 0 {
				res.Extra["cpu_ms_per_request"] = round(float64(cpu1-cpu0) / float64(time.Millisecond) / float64(n))
			}
		}
	}
	if cpuErr != nil {
		res.Samples = append(res.Samples, "server CPU time: "+cpuErr.Error())
	}
	if res.Elapsed == 0 {
		res.Elapsed = elapsed.Seconds()
	}
	var serr error
	res.Server, serr = s.stop()
	if serr != nil {
		res.Samples = append(res.Samples, serr.Error())
	}
	if res.Server != nil && res.Server.PeakRSSMiB > 0 {
		res.Extra["server_peak_rss_mib"] = res.Server.PeakRSSMiB
	}
	res.Ops = rec.summaries(time.Duration(res.Elapsed * float64(time.Second)))
	rec.mu.Lock()
	res.Samples = append(res.Samples, rec.samples...)
	rec.mu.Unlock()
	return res, err
}

// requests is the number of requests rec recorded.
func requests(rec *recorder) int {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	n := 0
	for _, s := range rec.ops {
		n += len(s.lat)
	}
	return n
}

// withUser creates one user and stores what the scenario needs.
func (e *env) withUser(ctx context.Context, fn func(cl *davClient) (*result, runFunc, error)) (*result, runFunc, error) {
	users, err := e.users.make(ctx, e.c.prefix, 1)
	if err != nil {
		return nil, nil, err
	}
	return fn(e.client(users[0]))
}

// warm logs in once on the server, or on each of e.instances, so that the
// measured requests find the login cached.
func (e *env) warm(ctx context.Context, cl *davClient, k kind) error {
	bases := e.instances
	if len(bases) == 0 {
		bases = []*url.URL{cl.base}
	}
	for _, b := range bases {
		one := *cl
		one.base = b
		a, err := one.do(ctx, "PROPFIND", k.collection(cl.user), []byte(bodyPoll), "Depth", "0", "Content-Type", "application/xml; charset=utf-8")
		if err != nil {
			return err
		}
		if a.status != http.StatusMultiStatus {
			return fmt.Errorf("first PROPFIND as %s: %d", cl.user, a.status)
		}
	}
	return nil
}

// store fills the user's collections with n objects before a measurement.
func (e *env) store(ctx context.Context, cl *davClient, kinds []kind, n int, setup *result) (map[kind]*population, error) {
	if err := e.warm(ctx, cl, kinds[0]); err != nil {
		return nil, err
	}
	rec := newRecorder()
	start := time.Now()
	pops, _, err := populate(ctx, cl, rec, "setup-put", e.gen, kinds, n, e.c.conc)
	if err != nil {
		return nil, err
	}
	if n := rec.errorCount(); n > 0 {
		return nil, fmt.Errorf("setup: %d PUTs failed: %s", n, strings.Join(rec.samples, "; "))
	}
	took := time.Since(start)
	setup.Extra["setup_objects"] = float64(n)
	setup.Extra["setup_put_per_s"] = round(float64(n) / took.Seconds())
	return pops, nil
}

// round keeps three decimals.
func round(f float64) float64 { return float64(int64(f*1000+0.5)) / 1000 }

// putRun stores N new objects with C at a time into a fresh user's
// collections and reports the rate over the first and the last tenth.
func (e *env) putRun(ctx context.Context, cl *davClient, rec *recorder, res *result) error {
	start := time.Now()
	_, done, err := populate(ctx, cl, rec, "put", e.gen, e.kinds, e.c.n, e.c.conc)
	elapsed := time.Since(start)
	res.Elapsed = elapsed.Seconds()
	first, last := rateWindows(start, done)
	res.Extra["objects"] = float64(e.c.n)
	res.Extra["objects_per_s"] = round(float64(e.c.n) / elapsed.Seconds())
	res.Extra["first_tenth_per_s"] = round(first)
	res.Extra["last_tenth_per_s"] = round(last)
	if first > 0 {
		res.Extra["last_over_first"] = round(last / first)
	}
	res.Extra["kinds"] = e.c.kinds
	return err
}

// initialSyncRun stores N objects, then lists and downloads them as DAVx5
// does on a first sync: PROPFIND Depth 1 with getetag and resourcetype,
// then multigets in batches.
func (e *env) initialSyncRun(cl *davClient) (*result, runFunc, error) {
	setup := &result{Extra: map[string]any{}}
	ctx := context.Background()
	k := e.kinds[0]
	pops, err := e.store(ctx, cl, []kind{k}, e.c.n, setup)
	if err != nil {
		return nil, nil, err
	}
	p := pops[k]
	index := map[string]int{}
	for i := range p.names {
		index[p.href(i)] = i
	}
	return setup, func(ctx context.Context, run int, rec *recorder, res *result) error {
		start := time.Now()
		a, err := cl.do(ctx, "PROPFIND", p.coll, []byte(bodyListing), "Depth", "1", "Content-Type", "application/xml; charset=utf-8")
		if !expect(ctx, rec, "propfind-depth1", a, err, http.StatusMultiStatus) {
			return nil
		}
		m, err := parseMultistatus(a.body)
		if err != nil {
			rec.fail("propfind-depth1", a.took, a.status, err.Error())
			return nil
		}
		listed := a.took
		var hrefs []string
		for _, r := range m.Responses {
			if r.Href == p.coll {
				continue
			}
			ps, ok := r.ok()
			i, known := index[r.Href]
			if !ok || !known || ps.Prop.ETag != p.etags[i] || ps.Prop.ResourceType == nil {
				rec.fail("propfind-depth1", a.took, a.status, "listing entry is wrong: "+r.Href)
				continue
			}
			hrefs = append(hrefs, r.Href)
		}
		if len(hrefs) != len(p.names) {
			rec.fail("propfind-depth1", a.took, a.status, fmt.Sprintf("listing has %d of %d objects", len(hrefs), len(p.names)))
		} else {
			rec.ok("propfind-depth1", listed)
		}
		got, waited := 0, a.took
		for lo := 0; lo < len(hrefs) && ctx.Err() == nil; lo += e.c.batch {
			batch := hrefs[lo:min(lo+e.c.batch, len(hrefs))]
			n, took := e.multiget(ctx, cl, rec, "multiget", p, batch, index, true)
			got, waited = got+n, waited+took
		}
		res.Elapsed = time.Since(start).Seconds()
		// The requests go one after the other, as DAVx5 sends them: their
		// latencies add up to the time the server took. The wall time
		// also holds this tool's XML parsing and byte-by-byte checks.
		res.Extra["initial_sync_s"] = round(waited.Seconds())
		res.Extra["initial_sync_wall_s"] = round(res.Elapsed)
		res.Extra["objects_downloaded"] = float64(got)
		if waited > 0 {
			res.Extra["objects_per_s"] = round(float64(got) / waited.Seconds())
		}
		res.Extra["batch"] = float64(e.c.batch)
		return ctx.Err()
	}, nil
}

// expect records whether an answer came with the wanted status.
func expect(ctx context.Context, rec *recorder, op string, a *answer, err error, want int) bool {
	switch {
	case err != nil && ctx.Err() != nil:
		return false // stopped by the deadline: no answer of the server's
	case err != nil:
		rec.fail(op, a.took, a.status, err.Error())
		return false
	case a.status != want:
		rec.fail(op, a.took, a.status, "unexpected status")
		return false
	}
	return true
}

// multiget downloads hrefs in one REPORT and checks each answer: a 200
// with the ETag of the listing and, when verify is set, exactly the
// bytes stored. It returns how many came back right, and the request's
// latency.
func (e *env) multiget(ctx context.Context, cl *davClient, rec *recorder, op string, p *population, hrefs []string, index map[string]int, verify bool) (int, time.Duration) {
	hdr := []string{"Content-Type", "application/xml; charset=utf-8"}
	if p.kind == kindContact {
		hdr = append(hdr, "Depth", "0")
	}
	a, err := cl.do(ctx, "REPORT", p.coll, multigetBody(p.kind, hrefs), hdr...)
	if !expect(ctx, rec, op, a, err, http.StatusMultiStatus) {
		return 0, a.took
	}
	m, err := parseMultistatus(a.body)
	if err != nil {
		rec.fail(op, a.took, a.status, err.Error())
		return 0, a.took
	}
	good := 0
	for _, r := range m.Responses {
		ps, ok := r.ok()
		i, known := index[r.Href]
		if !ok || !known {
			continue
		}
		data, has := ps.data()
		if !has || ps.Prop.ETag == "" {
			continue
		}
		if verify && (ps.Prop.ETag != p.etags[i] || data != string(e.gen.object(p.kind, i, p.revs[i]))) {
			continue
		}
		good++
	}
	if good != len(hrefs) || len(m.Responses) != len(hrefs) {
		rec.fail(op, a.took, a.status, fmt.Sprintf("multiget returned %d right of %d asked (%d responses)", good, len(hrefs), len(m.Responses)))
		return good, a.took
	}
	rec.ok(op, a.took)
	return good, a.took
}

// syncRun stores N objects; each iteration takes the sync-token, changes
// K objects, then measures the sync-collection REPORT and checks that it
// lists exactly those changes.
func (e *env) syncRun(cl *davClient) (*result, runFunc, error) {
	setup := &result{Extra: map[string]any{}}
	k := e.kinds[0]
	pops, err := e.store(context.Background(), cl, []kind{k}, e.c.n, setup)
	if err != nil {
		return nil, nil, err
	}
	p := pops[k]
	next := 0
	return setup, func(ctx context.Context, run int, rec *recorder, res *result) error {
		hdr := []string{"Depth", "0", "Content-Type", "application/xml; charset=utf-8"}
		for it := 0; it < e.c.iterations && ctx.Err() == nil; it++ {
			a, err := cl.do(ctx, "PROPFIND", p.coll, []byte(bodyPoll), hdr...)
			if !expect(ctx, rec, "poll", a, err, http.StatusMultiStatus) {
				continue
			}
			token, err := pollToken(a.body)
			if err != nil {
				rec.fail("poll", a.took, a.status, err.Error())
				continue
			}
			rec.ok("poll", a.took)
			changed := map[string]string{}
			for j := 0; j < e.c.k; j++ {
				i := next % len(p.names)
				next++
				p.revs[i]++
				if tag := putOne(ctx, cl, rec, "put-change", e.gen, k, i, p.revs[i], p.etags[i]); tag != "" {
					p.etags[i] = tag
					changed[p.href(i)] = tag
				}
			}
			a, err = cl.do(ctx, "REPORT", p.coll, []byte(fmt.Sprintf(bodySync, token)), hdr...)
			if !expect(ctx, rec, "sync-collection", a, err, http.StatusMultiStatus) {
				continue
			}
			if msg := checkSync(a.body, token, changed); msg != "" {
				rec.fail("sync-collection", a.took, a.status, msg)
				continue
			}
			rec.ok("sync-collection", a.took)
		}
		res.Extra["collection_size"] = float64(len(p.names))
		res.Extra["changes"] = float64(e.c.k)
		if s := rec.summaries(0); len(s) > 0 {
			for _, line := range s {
				if line.Op == "sync-collection" {
					res.Extra["sync_p50_ms"] = line.P50MS
					res.Extra["sync_p99_ms"] = line.P99MS
				}
			}
		}
		return ctx.Err()
	}, nil
}

// checkSync checks that a sync-collection answer lists exactly the changed
// hrefs with their new ETags and a new token; it describes a mismatch.
func checkSync(body []byte, old string, changed map[string]string) string {
	m, err := parseMultistatus(body)
	if err != nil {
		return err.Error()
	}
	if m.SyncToken == "" || m.SyncToken == old {
		return "no new sync-token"
	}
	if len(m.Responses) != len(changed) {
		return fmt.Sprintf("%d responses for %d changes", len(m.Responses), len(changed))
	}
	for _, r := range m.Responses {
		ps, ok := r.ok()
		if !ok || changed[r.Href] == "" || ps.Prop.ETag != changed[r.Href] {
			return "wrong entry " + r.Href
		}
	}
	return ""
}

// queryRun stores N events, then runs one-month calendar-queries over the
// two years they span and checks each answer against what was stored.
func (e *env) queryRun(cl *davClient) (*result, runFunc, error) {
	setup := &result{Extra: map[string]any{}}
	pops, err := e.store(context.Background(), cl, []kind{kindEvent}, e.c.n, setup)
	if err != nil {
		return nil, nil, err
	}
	p := pops[kindEvent]
	const months = 24
	want := make([]map[string]bool, months)
	for m := range want {
		from, to := spanStart.AddDate(0, m, 0), spanStart.AddDate(0, m+1, 0)
		want[m] = map[string]bool{}
		for i := range p.names {
			if e.gen.eventSpec(i).overlaps(from, to) {
				want[m][p.href(i)] = true
			}
		}
	}
	return setup, func(ctx context.Context, run int, rec *recorder, res *result) error {
		matches, wrong := 0, 0
		for it := 0; it < e.c.iterations && ctx.Err() == nil; it++ {
			m := it % months
			from, to := spanStart.AddDate(0, m, 0), spanStart.AddDate(0, m+1, 0)
			body := fmt.Sprintf(bodyQuery, from.Format("20060102T150405Z"), to.Format("20060102T150405Z"))
			a, err := cl.do(ctx, "REPORT", p.coll, []byte(body), "Depth", "1", "Content-Type", "application/xml; charset=utf-8")
			if !expect(ctx, rec, "calendar-query", a, err, http.StatusMultiStatus) {
				continue
			}
			if msg := checkQuery(a.body, want[m]); msg != "" {
				wrong++
				rec.fail("calendar-query", a.took, a.status, fmt.Sprintf("%s: %s", from.Format("2006-01"), msg))
				continue
			}
			matches += len(want[m])
			rec.ok("calendar-query", a.took)
		}
		res.Extra["collection_size"] = float64(len(p.names))
		res.Extra["mean_matches"] = round(float64(matches) / float64(max(e.c.iterations-wrong, 1)))
		res.Extra["results_correct"] = wrong == 0
		for _, line := range rec.summaries(0) {
			if line.Op == "calendar-query" {
				res.Extra["query_p50_ms"] = line.P50MS
				res.Extra["query_p99_ms"] = line.P99MS
			}
		}
		return ctx.Err()
	}, nil
}

// checkQuery compares a calendar-query answer with the expected hrefs.
func checkQuery(body []byte, want map[string]bool) string {
	m, err := parseMultistatus(body)
	if err != nil {
		return err.Error()
	}
	got := map[string]bool{}
	for _, r := range m.Responses {
		if ps, ok := r.ok(); !ok || ps.Prop.ETag == "" {
			return "entry without 200 getetag: " + r.Href
		}
		got[r.Href] = true
	}
	var missing, extra int
	for h := range want {
		if !got[h] {
			missing++
		}
	}
	for h := range got {
		if !want[h] {
			extra++
		}
	}
	if missing+extra > 0 {
		return fmt.Sprintf("%d expected events missing, %d unexpected (%d returned, %d expected)", missing, extra, len(got), len(want))
	}
	return ""
}

// device is one phone of a user in the mixed load.
type device struct {
	cl     *davClient
	index  int // among its user's devices: it writes only the objects i with i%devices == index
	pops   []*population
	tokens []string
	hrefs  []map[string]int // href to index, per population
	rng    *rand.Rand
	stale  [][2]int // population and object of writes cut by a deadline: the server may have taken them
}

// mixedSetup creates the users of the mixed load, stores their objects
// and prepares their devices.
func (e *env) mixedSetup(ctx context.Context) (*result, []*device, error) {
	users, err := e.users.make(ctx, e.c.prefix, e.c.users)
	if err != nil {
		return nil, nil, err
	}
	setup := &result{Extra: map[string]any{}}
	var devices []*device
	var mu sync.Mutex
	var firstErr error
	var wg sync.WaitGroup
	sem := make(chan struct{}, max(e.c.conc/2, 1))
	start := time.Now()
	for u, cr := range users {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			devs, err := e.mixedUser(ctx, u, cr)
			mu.Lock()
			defer mu.Unlock()
			if err != nil && firstErr == nil {
				firstErr = err
			}
			devices = append(devices, devs...)
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return nil, nil, firstErr
	}
	setup.Extra["setup_s"] = round(time.Since(start).Seconds())
	setup.Extra["users"] = float64(e.c.users)
	setup.Extra["devices"] = float64(len(devices))
	setup.Extra["objects_per_user"] = float64(e.c.n)
	return setup, devices, nil
}

// mixedRun is one run of the mixed load of devices for --duration: as
// fast as answers come, or at --rate requests a second over all devices.
func (e *env) mixedRun(devices []*device) runFunc {
	return func(outer context.Context, run int, rec *recorder, res *result) error {
		ctx, cancel := context.WithTimeout(outer, e.c.duration)
		defer cancel()
		var stopped sync.WaitGroup
		var left atomic.Int64
		left.Store(int64(e.c.maxOps))
		var interval time.Duration
		if e.c.rate > 0 {
			interval = time.Duration(float64(len(devices)) / e.c.rate * float64(time.Second))
		}
		t0 := time.Now()
		for _, d := range devices {
			stopped.Add(1)
			go func() {
				defer stopped.Done()
				start := t0
				if interval > 0 {
					// The devices' schedules are spread over one interval.
					start = start.Add(time.Duration(d.rng.Int64N(int64(interval))))
				}
				d.loop(ctx, outer, e, rec, &left, newPacer(interval, start))
			}()
		}
		stopped.Wait()
		res.Elapsed = time.Since(t0).Seconds()
		for _, d := range devices {
			if err := d.refresh(outer); err != nil {
				return err
			}
		}
		all := rec.summaries(time.Since(t0))
		for _, line := range all {
			if line.Op == "all" || len(all) == 1 {
				res.Extra["requests_per_s"] = round(line.PerSecond)
				res.Extra["p50_ms"] = line.P50MS
				res.Extra["p95_ms"] = line.P95MS
				res.Extra["p99_ms"] = line.P99MS
				res.Extra["errors"] = float64(line.Errors)
			}
		}
		if e.c.rate > 0 {
			res.Extra["target_rate"] = e.c.rate
		}
		return nil
	}
}

// mixedUser stores one user's objects and prepares its devices: each logs
// in (with its own app password) and takes its first sync-tokens.
func (e *env) mixedUser(ctx context.Context, u int, cr creds) ([]*device, error) {
	owner := e.client(cr)
	if err := e.warm(ctx, owner, e.kinds[0]); err != nil {
		return nil, err
	}
	rec := newRecorder()
	pops, _, err := populate(ctx, owner, rec, "setup-put", e.gen, e.kinds, e.c.n, 2)
	if err != nil {
		return nil, err
	}
	if rec.errorCount() > 0 {
		return nil, fmt.Errorf("setup of %s: %s", cr.user, strings.Join(rec.samples, "; "))
	}
	var devs []*device
	for d := 0; d < e.c.devices; d++ {
		cl := owner
		if e.c.appPasswords {
			pw, err := appPassword(ctx, owner, fmt.Sprintf("bench device %d", d))
			if err != nil {
				return nil, fmt.Errorf("%s: %w", cr.user, err)
			}
			cl = e.client(creds{user: cr.user, password: pw})
		}
		dev := &device{cl: cl, index: d, rng: rand.New(rand.NewPCG(e.c.seed, uint64(u*1000+d)))}
		for _, k := range e.kinds {
			p := pops[k]
			own := &population{kind: k, coll: p.coll, names: p.names, etags: append([]string(nil), p.etags...), revs: append([]int(nil), p.revs...)}
			idx := map[string]int{}
			for i := range p.names {
				idx[p.href(i)] = i
			}
			a, err := cl.do(ctx, "PROPFIND", p.coll, []byte(bodyPoll), "Depth", "0", "Content-Type", "application/xml; charset=utf-8")
			if err != nil || a.status != http.StatusMultiStatus {
				return nil, fmt.Errorf("%s: first poll failed (%d %v)", cr.user, a.status, err)
			}
			tok, err := pollToken(a.body)
			if err != nil {
				return nil, err
			}
			dev.pops = append(dev.pops, own)
			dev.tokens = append(dev.tokens, tok)
			dev.hrefs = append(dev.hrefs, idx)
		}
		devs = append(devs, dev)
	}
	return devs, nil
}

// refresh reads the current ETag of each object whose write was cut (by
// --timeout or a signal), after the measured part, so that the next run's
// If-Match holds.
func (d *device) refresh(ctx context.Context) error {
	for _, s := range d.stale {
		p := d.pops[s[0]]
		a, err := d.cl.do(ctx, "PROPFIND", p.href(s[1]), []byte(bodyETag), "Depth", "0", "Content-Type", "application/xml; charset=utf-8")
		if err != nil || a.status != http.StatusMultiStatus {
			return fmt.Errorf("reading the ETag of %s after a cut write: %d %v", p.href(s[1]), a.status, err)
		}
		m, err := parseMultistatus(a.body)
		if err != nil {
			return err
		}
		if len(m.Responses) != 1 {
			return fmt.Errorf("no ETag for %s after a cut write", p.href(s[1]))
		}
		ps, ok := m.Responses[0].ok()
		if !ok || ps.Prop.ETag == "" {
			return fmt.Errorf("no ETag for %s after a cut write", p.href(s[1]))
		}
		p.etags[s[1]] = ps.Prop.ETag
	}
	d.stale = d.stale[:0]
	return nil
}

// loop runs one device until the deadline or the request budget, one
// request at each time pace gives: 70% polls (a Depth 0 PROPFIND; when the
// token moved, the device's next request is the sync-collection REPORT),
// 20% downloads (a multiget of --batch), 10% writes (PUT with If-Match of
// an object this device owns).
//
// No request starts once ctx ends (--duration); those under way then
// finish under outer, so that a write the deadline would have cut cannot
// land after the run, behind the ETag the device knows.
func (d *device) loop(ctx, outer context.Context, e *env, rec *recorder, left *atomic.Int64, pace *pacer) {
	pending := -1 // the collection whose token moved, to sync next
	for ctx.Err() == nil && left.Add(-1) >= 0 {
		due, ok := pace.wait(ctx)
		if !ok {
			return
		}
		rctx := outer
		if pace.interval > 0 {
			rctx = atSchedule(outer, due)
		}
		if pending >= 0 {
			d.sync(rctx, rec, pending)
			pending = -1
			continue
		}
		c := d.rng.IntN(len(d.pops))
		p := d.pops[c]
		switch r := d.rng.Float64(); {
		case r < 0.70:
			if d.poll(rctx, rec, c) {
				pending = c
			}
		case r < 0.90:
			hrefs := make([]string, 0, e.c.batch)
			for _, i := range d.rng.Perm(len(p.names))[:min(e.c.batch, len(p.names))] {
				hrefs = append(hrefs, p.href(i))
			}
			e.multiget(rctx, d.cl, rec, "download", p, hrefs, d.hrefs[c], false)
		default:
			mine := (len(p.names) - d.index + e.c.devices - 1) / e.c.devices
			if mine <= 0 {
				if d.poll(rctx, rec, c) {
					pending = c
				}
				continue
			}
			i := d.index + e.c.devices*d.rng.IntN(mine)
			p.revs[i]++
			switch tag := putOne(rctx, d.cl, rec, "write", e.gen, p.kind, i, p.revs[i], p.etags[i]); {
			case tag != "":
				p.etags[i] = tag
			case rctx.Err() != nil:
				d.stale = append(d.stale, [2]int{c, i})
			}
		}
	}
}

// poll checks collection c for changes: it reports whether its token moved.
func (d *device) poll(ctx context.Context, rec *recorder, c int) bool {
	p := d.pops[c]
	a, err := d.cl.do(ctx, "PROPFIND", p.coll, []byte(bodyPoll), "Depth", "0", "Content-Type", "application/xml; charset=utf-8")
	if !expect(ctx, rec, "poll", a, err, http.StatusMultiStatus) {
		return false
	}
	tok, err := pollToken(a.body)
	if err != nil {
		rec.fail("poll", a.took, a.status, err.Error())
		return false
	}
	rec.ok("poll", a.took)
	return tok != d.tokens[c]
}

// sync sends sync-collection for collection c from the device's token and
// takes the new ETags and token.
func (d *device) sync(ctx context.Context, rec *recorder, c int) {
	p := d.pops[c]
	a, err := d.cl.do(ctx, "REPORT", p.coll, []byte(fmt.Sprintf(bodySync, d.tokens[c])), "Depth", "0", "Content-Type", "application/xml; charset=utf-8")
	if !expect(ctx, rec, "poll-sync", a, err, http.StatusMultiStatus) {
		return
	}
	m, err := parseMultistatus(a.body)
	if err != nil || m.SyncToken == "" {
		rec.fail("poll-sync", a.took, a.status, "no sync-token in the answer")
		return
	}
	rec.ok("poll-sync", a.took)
	d.tokens[c] = m.SyncToken
	for _, r := range m.Responses {
		if ps, ok := r.ok(); ok {
			if i, known := d.hrefs[c][r.Href]; known {
				p.etags[i] = ps.Prop.ETag
			}
		}
	}
}

// writeMediansJSON writes the medians as one JSON line.
func writeMediansJSON(w io.Writer, scenario string, runs int, med map[string]float64) error {
	return json.NewEncoder(w).Encode(map[string]any{"type": "median", "scenario": scenario, "runs": runs, "figures": med})
}
