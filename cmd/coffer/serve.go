package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/coffer-dav/coffer/auth"
	"github.com/coffer-dav/coffer/dav"
	"github.com/coffer-dav/coffer/storage"
)

// serve runs the DAV server until SIGINT or SIGTERM.
func serve(args []string) error {
	var c config
	fs := newFlags("serve", &c)
	listen := fs.String("listen", "127.0.0.1:8008", "address to listen on")
	certFile := fs.String("tls-cert", "", "TLS certificate file (PEM); serves HTTPS with --tls-key")
	keyFile := fs.String("tls-key", "", "TLS private key file (PEM)")
	accessDir := fs.String("access-log", "", "folder for the access log (hourly JSON files); empty: off")
	accessKeep := fs.Duration("access-log-keep", 48*time.Hour, "how long access-log files are kept")
	rebuildQuiet := fs.Duration("rebuild-quiet", time.Minute, "after an erase, rebuild the database file once no write has come for this long (at the latest after 24h)")
	lf := addLifecycleFlags(fs)
	op := addOperatorFlags(fs)
	limits := addLimitFlags(fs)
	mf := addMetricsFlags(fs)
	if _, err := parse(fs, &c, args); err != nil {
		return err
	}
	if err := limits.check(); err != nil {
		return err
	}
	limits.applyMemoryLimit()
	if *accessKeep <= 0 || *rebuildQuiet <= 0 {
		return errors.New("--access-log-keep and --rebuild-quiet must be positive")
	}
	if (*certFile == "") != (*keyFile == "") {
		return errors.New("--tls-cert and --tls-key go together")
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	a, err := openApp(ctx, &c)
	if err != nil {
		return err
	}
	defer a.Close()
	go a.db.RebuildWhenQuiet(ctx, storage.RebuildOptions{Quiet: *rebuildQuiet, Report: func(took time.Duration, err error) {
		if err != nil {
			log.Error("database rebuild failed", "err", err)
			return
		}
		log.Info("database rebuilt", "took", took)
	}})
	if _, err := a.configureLifecycle(ctx, lf, log); err != nil {
		return err
	}
	m := mf.setup(a, op) // nil without an operator listener
	stopOperator, err := op.serve(ctx, a, log)
	if err != nil {
		return err
	}
	defer stopOperator()

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	scheme := "http"
	if *certFile != "" {
		scheme = "https"
	}
	base := fmt.Sprintf("%s://%s/", scheme, displayAddr(ln.Addr()))
	if err := firstAccount(ctx, a, base); err != nil {
		ln.Close()
		return err
	}

	davOpts := dav.Options{Auth: m.authenticator(davLogins{a}), Logger: log}
	limits.apply(&davOpts)
	handler := a.withSelfService(log, routes(dav.NewHandler(davOpts)))
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
	handler = m.wrap(handler)
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
	fmt.Printf("coffer: serving on %s\n", base)
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

// routes serves /healthz and hands everything else to the DAV handler. It
// does not use http.ServeMux, which would clean ".." out of paths with a
// redirect: the DAV layer sees raw paths and refuses such tricks itself.
func routes(davHandler http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			fmt.Fprintln(w, "ok")
			return
		}
		davHandler.ServeHTTP(w, r)
	})
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
