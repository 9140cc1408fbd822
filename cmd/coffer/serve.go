package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/coffer-dav/coffer/auth"
	"github.com/coffer-dav/coffer/dav"
	"github.com/coffer-dav/coffer/storage"
	"github.com/coffer-dav/coffer/web"
)

// serveFlags are serve's settings beyond the shared ones.
type serveFlags struct {
	listen, certFile, keyFile, accessDir, publicURL, trusted *string
	accessKeep, rebuildQuiet                                 *time.Duration
	lf                                                       *lifecycleFlags
	op                                                       *operatorFlags
	limits                                                   *limitFlags
	mf                                                       *metricsFlags
	dash                                                     *dashboardFlags
	push                                                     *pushFlags
	logs                                                     logFlags
}

// newServeFlags registers every serve flag on a new flag set; the config
// file's example lists them.
func newServeFlags(c *config) (*flag.FlagSet, *serveFlags) {
	fs := newFlags("serve", c)
	f := &serveFlags{
		listen:       fs.String("listen", "127.0.0.1:8008", "address to listen on"),
		certFile:     fs.String("tls-cert", "", "TLS certificate file (PEM); serves HTTPS with --tls-key"),
		keyFile:      fs.String("tls-key", "", "TLS private key file (PEM)"),
		accessDir:    fs.String("access-log", "", "folder for the access log (hourly JSON files); empty: off"),
		accessKeep:   fs.Duration("access-log-keep", 48*time.Hour, "how long access-log files are kept"),
		rebuildQuiet: fs.Duration("rebuild-quiet", time.Minute, "after an erase, rebuild the database file once no write has come for this long (at the latest after 24h)"),
		publicURL:    fs.String("public-url", "", "the URL clients reach this server at, e.g. https://dav.example.org/ behind a proxy; used in the first-run message, the dashboard and the .well-known redirects; empty: the listen address"),
		trusted:      fs.String("trusted-proxy", "", "comma-separated networks of reverse proxies (e.g. 127.0.0.1/32) whose Forwarded or X-Forwarded-For header gives the client's address; empty: the headers are ignored"),
		lf:           addLifecycleFlags(fs),
		op:           addOperatorFlags(fs),
		limits:       addLimitFlags(fs),
		mf:           addMetricsFlags(fs),
		dash:         addDashboardFlags(fs),
		push:         addPushFlags(fs),
		logs: logFlags{
			format: fs.String("log-format", "text", "log lines as text or json"),
			level:  fs.String("log-level", "info", "the least important log lines kept: debug, info (one line per request), warn or error"),
		},
	}
	return fs, f
}

// serve runs the DAV server until SIGINT or SIGTERM.
func serve(args []string) error {
	var c config
	fs, sf := newServeFlags(&c)
	listen, certFile, keyFile, accessDir, accessKeep := sf.listen, sf.certFile, sf.keyFile, sf.accessDir, sf.accessKeep
	publicURL, trusted, lf, op, limits, mf := sf.publicURL, sf.trusted, sf.lf, sf.op, sf.limits, sf.mf
	rebuildQuiet := sf.rebuildQuiet
	if _, err := parse(fs, &c, args); err != nil {
		return err
	}
	if _, err := sf.push.enabled(""); err != nil {
		return err
	}
	if err := limits.check(); err != nil {
		return err
	}
	if err := sf.dash.check(lf); err != nil {
		return err
	}
	limits.applyMemoryLimit()
	if *accessKeep <= 0 || *rebuildQuiet <= 0 {
		return errors.New("--access-log-keep and --rebuild-quiet must be positive")
	}
	proxies, err := parseTrustedProxies(*trusted)
	if err != nil {
		return err
	}
	public, err := parsePublicURL(*publicURL)
	if err != nil {
		return err
	}
	if (*certFile == "") != (*keyFile == "") {
		return errors.New("--tls-cert and --tls-key go together")
	}
	log, err := sf.logs.newLogger(os.Stderr)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	// Take the port before touching the data folder: a server that cannot
	// listen leaves no folder behind.
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	defer ln.Close()
	_, statErr := os.Stat(c.data)
	created := errors.Is(statErr, os.ErrNotExist)
	a, err := openApp(ctx, &c, openOptions{create: true, lock: true})
	if err != nil {
		if created && !errors.Is(err, errFolderBusy) {
			os.RemoveAll(c.data)
		}
		return err
	}
	defer a.Close()
	fmt.Printf("coffer: data folder %s\n", absPath(c.data))
	go a.auth.Sweep(ctx, time.Minute) // cached logins and dashboard sessions
	if db, ok := a.db.(*storage.DB); ok {
		// SQLite's file keeps what a purge removed until it is rebuilt.
		go db.RebuildWhenQuiet(ctx, storage.RebuildOptions{Quiet: *rebuildQuiet, Report: func(took time.Duration, err error) {
			if err != nil {
				log.Error("database rebuild failed", "err", err)
				return
			}
			log.Info("database rebuilt", "took", took)
		}})
	}
	scheme := "http"
	if *certFile != "" {
		scheme = "https"
	}
	base := fmt.Sprintf("%s://%s/", scheme, displayAddr(ln.Addr()))
	clients := base
	if public != "" {
		clients = public
	}
	// The confirmation mails link to the dashboard, at the clients' URL.
	lf.mail.service = *sf.dash.serviceName
	if lf.mail.links, err = url.Parse(clients); err != nil {
		return err
	}
	if _, err := a.configureLifecycle(ctx, lf, log); err != nil {
		return err
	}
	m := mf.setup(a, op) // nil without an operator listener
	stopOperator, err := op.serve(ctx, a, log)
	if err != nil {
		if created {
			// Nothing was served yet: do not leave a fresh folder behind.
			a.Close()
			os.RemoveAll(c.data)
		}
		return err
	}
	defer stopOperator()

	if err := firstAccount(ctx, a, clients); err != nil {
		ln.Close()
		return err
	}

	ps, err := a.setupPush(ctx, sf.push, c.data, public, clients, log)
	if err != nil {
		ln.Close()
		return err
	}
	m.pushStats(ps.notifier)
	go ps.run(ctx)
	davOpts := dav.Options{Auth: m.authenticator(davLogins{a}), Logger: log, PublicURL: public, Push: ps.opts}
	limits.apply(&davOpts)
	dashboard, err := sf.dash.dashboard(a, clients, *certFile != "" || strings.HasPrefix(public, "https://"), davOpts.QuotaBytes, log)
	if err != nil {
		ln.Close()
		return err
	}
	handler := a.withSelfService(log, routes(dav.NewHandler(davOpts), dashboard))
	if *accessDir != "" {
		al, err := newAccessLog(*accessDir, *accessKeep, log)
		if err != nil {
			ln.Close()
			return err
		}
		defer al.Close()
		go al.Run(ctx, 10*time.Minute)
		handler = al.Wrap(handler)
	}
	handler = proxies.wrap(m.wrap(logRequests(log, *accessDir != "", handler)))
	srv := &http.Server{Handler: handler, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	limits.timeouts(srv)
	done := make(chan error, 1)
	go func() {
		if *certFile != "" {
			done <- srv.ServeTLS(ln, *certFile, *keyFile)
		} else {
			done <- srv.Serve(ln)
		}
	}()
	if public != "" {
		fmt.Printf("coffer: clients reach it at %s\n", public)
	}
	fmt.Printf("coffer: dashboard at %s\n", clients)
	fmt.Printf("coffer: serving on %s\n", base) // last: the line that says it is ready
	log.Info("serving", "addr", ln.Addr().String(), "tls", *certFile != "")

	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdown, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		return err
	}
	return nil
}

// routes serves /healthz and the dashboard's pages (web.Paths; with no
// dashboard, those go to DAV too), and hands everything else to the DAV
// handler. It does not use http.ServeMux, which would clean ".." out of
// paths with a redirect: the DAV layer sees raw paths and refuses such
// tricks itself.
func routes(davHandler, dashboard http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		get := r.Method == http.MethodGet || r.Method == http.MethodHead
		switch {
		case get && r.URL.Path == "/healthz":
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			fmt.Fprintln(w, "ok")
		case dashboard != nil && (get || r.Method == http.MethodPost) && slices.Contains(web.Paths, r.URL.Path):
			// A browser gets the dashboard, never a bare 401 that pops up a login box.
			dashboard.ServeHTTP(w, r)
		default:
			davHandler.ServeHTTP(w, r)
		}
	})
}

// parsePublicURL checks --public-url: an http or https URL of the server's
// root, with no path, query or credentials; empty stays empty.
func parsePublicURL(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") ||
		u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", fmt.Errorf("--public-url %q: want the server's root as clients reach it, such as https://dav.example.org/ (no path: Coffer's tree lives at /dav/)", s)
	}
	return u.Scheme + "://" + u.Host + "/", nil
}

// firstAccount creates an account when the database has none, and prints
// its credentials once.
func firstAccount(ctx context.Context, a *app, base string) error {
	n, err := a.db.CountAccounts(ctx)
	if err != nil || n > 0 {
		return err
	}
	password, err := auth.NewSecret(15)
	if err != nil {
		return err
	}
	u, err := a.createUser(ctx, newUser{username: "admin", password: password, displayName: "Administrator"})
	if err != nil {
		return err
	}
	fmt.Printf(`Coffer created the first account. Its credentials are shown only this once:
  username:      %s
  password:      %s
  recovery code: %s
Enter this URL in DAVx5, Thunderbird or iOS, with the username and password above:
  URL:           %s
`, u.account.Username, password, u.recoveryCode, base)
	return nil
}

// displayAddr is the address to print for clients: an unspecified IP becomes localhost.
func displayAddr(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok || !tcp.IP.IsUnspecified() {
		return a.String()
	}
	return fmt.Sprintf("localhost:%d", tcp.Port)
}
