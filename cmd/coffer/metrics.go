package main

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/http/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/coffer-dav/coffer/auth"
	"github.com/coffer-dav/coffer/dav"
	"github.com/coffer-dav/coffer/storage"
)

// metricsFlags configure the metrics of the operator listener.
type metricsFlags struct {
	public bool
}

// addMetricsFlags registers the metrics flags on fs.
func addMetricsFlags(fs *flag.FlagSet) *metricsFlags {
	f := &metricsFlags{}
	fs.BoolVar(&f.public, "metrics-public", false, "serve /metrics on the operator listener without the bearer token")
	return f
}

// setup prepares the metrics when the operator listener is on, and mounts
// /metrics and /healthz there; without it there are none (nil).
func (f *metricsFlags) setup(a *app, op *operatorFlags) *metrics {
	if op.listen == "" {
		return nil
	}
	m := newMetrics(a.auth.Argon2Runs)
	if db, ok := a.db.(*storage.DB); ok {
		m.reg.MustRegister(durabilityCollector{db})
	}
	op.wrap = m.operatorRoutes(op.token, f.public)
	return m
}

// durabilityCollector reports SQLite's effective durability settings, read
// from the live write connection at each scrape, so that a build or a
// setting that weakened them shows (and the tests notice).
type durabilityCollector struct{ db *storage.DB }

// durabilityDesc describes coffer_sqlite_durability_info.
var durabilityDesc = prometheus.NewDesc("coffer_sqlite_durability_info",
	"SQLite's effective settings on the write connection: journal mode, synchronous level (2: FULL), fullfsync and secure_delete.",
	[]string{"journal_mode", "synchronous", "fullfsync", "secure_delete"}, nil)

// Describe sends the one descriptor.
func (c durabilityCollector) Describe(ch chan<- *prometheus.Desc) { ch <- durabilityDesc }

// Collect reads the settings; on a read error it reports nothing.
func (c durabilityCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	d, err := c.db.Durability(ctx)
	if err != nil {
		return
	}
	ch <- prometheus.MustNewConstMetric(durabilityDesc, prometheus.GaugeValue, 1,
		d.JournalMode, strconv.Itoa(d.Synchronous), strconv.FormatBool(d.FullFsync), strconv.FormatBool(d.SecureDelete))
}

// metrics are the server's Prometheus collectors. Labels carry the method
// and the status class only, never a username or a path.
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	inFlight prometheus.Gauge
	logins   *prometheus.CounterVec
	loginDur prometheus.Histogram
	storage  *prometheus.HistogramVec
}

// newMetrics registers the collectors; argon2Runs reads the login
// service's counter (nil: not reported).
func newMetrics(argon2Runs func() uint64) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "coffer_http_requests_total", Help: "HTTP requests to the DAV listener, by method and status class.",
		}, []string{"method", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "coffer_http_request_duration_seconds", Help: "Time from a request's arrival to its handler's return, by method.",
			Buckets: []float64{.0005, .001, .002, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"method"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "coffer_http_requests_in_flight", Help: "DAV requests being served.",
		}),
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "coffer_dav_logins_total", Help: "DAV logins (one per request), by result.",
		}, []string{"result"}),
		loginDur: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "coffer_dav_login_duration_seconds", Help: "Time to check a DAV login: cached logins take microseconds, Argon2 tens of milliseconds or more.",
			Buckets: []float64{.00001, .00005, .0001, .0005, .001, .005, .01, .05, .1, .25, .5, 1, 2.5},
		}),
		storage: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "coffer_storage_duration_seconds", Help: "Time in storage calls of DAV requests (SQLite, sealing and opening records, waiting for the writer), by call.",
			Buckets: []float64{.00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 5},
		}, []string{"op"}),
	}
	m.reg.MustRegister(m.requests, m.latency, m.inFlight, m.logins, m.loginDur, m.storage,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if argon2Runs != nil {
		m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "coffer_argon2_runs_total", Help: "Argon2 password verifications started (logins that missed the verified-login cache).",
		}, func() float64 { return float64(argon2Runs()) }))
	}
	return m
}

// knownMethods bounds the method label: anything else counts as "other".
var knownMethods = map[string]bool{
	"OPTIONS": true, "GET": true, "HEAD": true, "PUT": true, "DELETE": true, "POST": true, "PROPFIND": true,
	"PROPPATCH": true, "REPORT": true, "MKCOL": true, "MKCALENDAR": true, "MOVE": true, "COPY": true, "PATCH": true,
}

// methodLabel is the request's method, or "other" for a method no client of ours sends.
func methodLabel(method string) string {
	if knownMethods[method] {
		return method
	}
	return "other"
}

// codeClass is the status class: "2xx" for 207, and so on.
func codeClass(code int) string {
	if code < 100 || code > 599 {
		return "other"
	}
	return fmt.Sprintf("%dxx", code/100)
}

// wrap counts and times every request of next; nil metrics wrap nothing.
func (m *metrics) wrap(next http.Handler) http.Handler {
	if m == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		m.inFlight.Inc()
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			m.inFlight.Dec()
			class := codeClass(sw.Status())
			if clientGone(r) {
				class = "client_gone" // not a failure of the server's
			}
			method := methodLabel(r.Method)
			m.requests.WithLabelValues(method, class).Inc()
			m.latency.WithLabelValues(method).Observe(time.Since(start).Seconds())
		}()
		next.ServeHTTP(sw, r)
	})
}

// operatorRoutes adds /metrics, /debug/pprof/ and /healthz to the operator
// API. /metrics needs the operator's bearer token unless public is set;
// the profiles always need it; /healthz never does, and tells nothing but
// that the server runs.
func (m *metrics) operatorRoutes(token string, public bool) func(http.Handler) http.Handler {
	want := sha256.Sum256([]byte(token))
	authorized := func(r *http.Request) bool {
		given, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		sum := sha256.Sum256([]byte(given))
		return ok && subtle.ConstantTimeCompare(sum[:], want[:]) == 1
	}
	metricsHandler := promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
	return func(api http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			get := r.Method == http.MethodGet || r.Method == http.MethodHead
			profile := strings.HasPrefix(r.URL.Path, "/debug/pprof/")
			switch {
			case r.URL.Path == "/healthz" && get:
				w.Header().Set("Content-Type", "text/plain; charset=utf-8")
				fmt.Fprintln(w, "ok")
			case (r.URL.Path == "/metrics" || profile) && get:
				if !authorized(r) && (profile || !public) {
					w.Header().Set("WWW-Authenticate", `Bearer realm="coffer-operator"`)
					http.Error(w, "a valid bearer token is required", http.StatusUnauthorized)
					return
				}
				w.Header().Set("Cache-Control", "no-store")
				if profile {
					serveProfile(w, r)
					return
				}
				metricsHandler.ServeHTTP(w, r)
			default:
				api.ServeHTTP(w, r)
			}
		})
	}
}

// serveProfile answers the runtime profiles of net/http/pprof: a CPU
// profile (?seconds=N), a trace, or a named profile such as heap.
func serveProfile(w http.ResponseWriter, r *http.Request) {
	switch name := strings.TrimPrefix(r.URL.Path, "/debug/pprof/"); name {
	case "":
		pprof.Index(w, r)
	case "profile":
		pprof.Profile(w, r)
	case "trace":
		pprof.Trace(w, r)
	default:
		pprof.Handler(name).ServeHTTP(w, r)
	}
}

// authenticator counts and times the logins of next, and times the storage
// calls of the accounts it returns; nil metrics change nothing.
func (m *metrics) authenticator(next dav.Authenticator) dav.Authenticator {
	if m == nil {
		return next
	}
	return meteredLogins{next: next, m: m}
}

// meteredLogins is a dav.Authenticator with metrics.
type meteredLogins struct {
	next dav.Authenticator
	m    *metrics
}

func (l meteredLogins) Login(ctx context.Context, username, password, remoteAddr string) (*dav.Account, error) {
	start := time.Now()
	acct, err := l.next.Login(ctx, username, password, remoteAddr)
	l.m.loginDur.Observe(time.Since(start).Seconds())
	l.m.logins.WithLabelValues(loginResult(err)).Inc()
	if err != nil {
		return nil, err
	}
	timed := *acct
	timed.Space = timedSpace{Space: acct.Space, h: l.m.storage}
	return &timed, nil
}

// loginResult names the outcome of a login for the result label.
func loginResult(err error) string {
	var blocked *auth.Blocked
	var throttled *auth.Throttled
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, auth.ErrNotAUsername):
		return "refused"
	case errors.Is(err, auth.ErrBadCredentials):
		return "bad_credentials"
	case errors.As(err, &blocked):
		return "blocked"
	case errors.As(err, &throttled):
		return "throttled"
	}
	return "error"
}

// timedSpace times the storage calls that DAV requests make most; the
// others pass through untimed.
type timedSpace struct {
	storage.Space
	h *prometheus.HistogramVec
}

// since records the time since start under op.
func (s timedSpace) since(op string, start time.Time) {
	s.h.WithLabelValues(op).Observe(time.Since(start).Seconds())
}

func (s timedSpace) Collections(ctx context.Context, home storage.Home) ([]storage.Collection, error) {
	defer s.since("collections", time.Now())
	return s.Space.Collections(ctx, home)
}

func (s timedSpace) Collection(ctx context.Context, home storage.Home, name string) (*storage.Collection, error) {
	defer s.since("collection", time.Now())
	return s.Space.Collection(ctx, home, name)
}

func (s timedSpace) CreateCollection(ctx context.Context, c storage.NewCollection) (*storage.Collection, error) {
	defer s.since("create_collection", time.Now())
	return s.Space.CreateCollection(ctx, c)
}

func (s timedSpace) PatchCollection(ctx context.Context, id int64, o storage.PatchOptions) error {
	defer s.since("patch_collection", time.Now())
	return s.Space.PatchCollection(ctx, id, o)
}

func (s timedSpace) DeleteCollection(ctx context.Context, id int64) error {
	defer s.since("delete_collection", time.Now())
	return s.Space.DeleteCollection(ctx, id)
}

func (s timedSpace) Objects(ctx context.Context, collection int64) ([]storage.Object, error) {
	defer s.since("objects", time.Now())
	return s.Space.Objects(ctx, collection)
}

func (s timedSpace) Object(ctx context.Context, collection int64, name string, o storage.ReadOptions) (*storage.Object, error) {
	defer s.since("object", time.Now())
	return s.Space.Object(ctx, collection, name, o)
}

func (s timedSpace) ObjectsNamed(ctx context.Context, collection int64, names []string, o storage.ReadOptions) ([]*storage.Object, error) {
	defer s.since("objects_named", time.Now())
	return s.Space.ObjectsNamed(ctx, collection, names, o)
}

func (s timedSpace) PutObject(ctx context.Context, collection int64, o storage.PutOptions) (*storage.PutResult, error) {
	defer s.since("put_object", time.Now())
	return s.Space.PutObject(ctx, collection, o)
}

func (s timedSpace) DeleteObject(ctx context.Context, collection int64, name string, o storage.DeleteOptions) error {
	defer s.since("delete_object", time.Now())
	return s.Space.DeleteObject(ctx, collection, name, o)
}

func (s timedSpace) PatchObject(ctx context.Context, collection int64, name string, o storage.PatchOptions) error {
	defer s.since("patch_object", time.Now())
	return s.Space.PatchObject(ctx, collection, name, o)
}

func (s timedSpace) Index(ctx context.Context, collection int64) ([]storage.IndexEntry, int64, error) {
	defer s.since("index", time.Now())
	return s.Space.Index(ctx, collection)
}

func (s timedSpace) Changes(ctx context.Context, collection int64, since int64) ([]storage.Change, int64, error) {
	defer s.since("changes", time.Now())
	return s.Space.Changes(ctx, collection, since)
}

func (s timedSpace) Props(ctx context.Context, scope storage.Scope) (storage.Props, error) {
	defer s.since("props", time.Now())
	return s.Space.Props(ctx, scope)
}

func (s timedSpace) Usage(ctx context.Context) (int64, error) {
	defer s.since("usage", time.Now())
	return s.Space.Usage(ctx)
}

func (s timedSpace) Counts(ctx context.Context, collection int64) (storage.Counts, error) {
	defer s.since("counts", time.Now())
	return s.Space.Counts(ctx, collection)
}

// pushStats registers the Notifier's counts: pushes sent, failed and
// dropped, and changes not pushed because the queue was full. Nil-safe on
// both sides: without metrics or without push there is nothing to count.
func (m *metrics) pushStats(n *dav.Notifier) {
	if m == nil || n == nil {
		return
	}
	for _, c := range []struct {
		name, help string
		get        func(dav.NotifyStats) uint64
	}{
		{"coffer_push_sent_total", "WebDAV-Push messages a push service took, retries included.", func(s dav.NotifyStats) uint64 { return s.Sent }},
		{"coffer_push_failed_total", "WebDAV-Push sends that failed (retried later from the outbox, or given up).", func(s dav.NotifyStats) uint64 { return s.Failed }},
		{"coffer_push_dropped_total", "Push subscriptions dropped because their push service answered 404 or 410.", func(s dav.NotifyStats) uint64 { return s.Dropped }},
		{"coffer_push_queue_dropped_total", "Changes or messages not pushed because the push queue was full.", func(s dav.NotifyStats) uint64 { return s.QueueDrops }},
	} {
		get := c.get
		m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: c.name, Help: c.help},
			func() float64 { return float64(get(n.Stats())) }))
	}
}
