package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"time"

	"github.com/coffer-dav/coffer/account"
	"github.com/coffer-dav/coffer/auth"
	"github.com/coffer-dav/coffer/encryption"
)

// lifecycleFlags are the lifecycle and SMTP settings of serve and the CLI.
type lifecycleFlags struct {
	fs                              *flag.FlagSet
	mode, trial, retention, pending string
	reminders                       string
	smtpAddr, smtpFrom, smtpUser    string
	smtpPassword, smtpTLS           string
	mail                            mailIdentity // set by serve; the CLI's mails carry no link
}

// mailIdentity is how the account mails name the service and link to it.
type mailIdentity struct {
	links   *url.URL // the dashboard's root for the mails' links; nil: the confirmation code alone
	service string   // the service's name; empty: Coffer
}

// lifecycleFlagNames are the flags that configure the lifecycle's policy;
// given once, the policy is stored in the database.
var lifecycleFlagNames = []string{"lifecycle", "trial-length", "retention-length", "pending-length", "reminders"}

// addLifecycleFlags registers the lifecycle and SMTP flags on fs.
func addLifecycleFlags(fs *flag.FlagSet) *lifecycleFlags {
	f := &lifecycleFlags{fs: fs}
	fs.StringVar(&f.mode, "lifecycle", "", "account lifecycle: on (trials, subscriptions, retention, purge) or off (accounts never expire); stored once given")
	fs.StringVar(&f.trial, "trial-length", "30d", "length of the free trial")
	fs.StringVar(&f.retention, "retention-length", "180d", "how long an ended account's data is kept, blocked, before it is deleted")
	fs.StringVar(&f.pending, "pending-length", "7d", "how long an account with an unconfirmed e-mail address is kept")
	fs.StringVar(&f.reminders, "reminders", "7d,1d", "reminders before expiry and before deletion")
	fs.StringVar(&f.smtpAddr, "smtp-addr", "", "SMTP server host:port for account notifications; empty: notifications are only recorded")
	fs.StringVar(&f.smtpFrom, "smtp-from", "", "sender address of account notifications")
	fs.StringVar(&f.smtpUser, "smtp-user", "", "SMTP user name")
	fs.StringVar(&f.smtpPassword, "smtp-password", "", "SMTP password (better from COFFER_SMTP_PASSWORD)")
	fs.StringVar(&f.smtpTLS, "smtp-tls", "starttls", "starttls, tls (implicit, port 465) or none (a relay on this host)")
	return f
}

// settings merges the stored policy with the flags given, and stores the
// result when any was given. configured says whether a policy was ever set.
func (f *lifecycleFlags) settings(ctx context.Context, a *app) (s account.Settings, configured bool, err error) {
	s, configured, err = account.LoadSettings(ctx, a.db)
	if err != nil {
		return s, false, err
	}
	given := map[string]bool{}
	f.fs.Visit(func(fl *flag.Flag) { given[fl.Name] = true })
	explicit := false
	for _, n := range lifecycleFlagNames {
		explicit = explicit || given[n]
	}
	if !explicit {
		return s, configured, nil
	}
	if given["lifecycle"] {
		switch f.mode {
		case "on":
			s.Off = false
		case "off":
			s.Off = true
		default:
			return s, false, fmt.Errorf("--lifecycle %q: want on or off", f.mode)
		}
	}
	for _, d := range []struct {
		name, src string
		dst       *time.Duration
	}{{"trial-length", f.trial, &s.Trial}, {"retention-length", f.retention, &s.Retention}, {"pending-length", f.pending, &s.Pending}} {
		if !given[d.name] {
			continue
		}
		if *d.dst, err = account.ParseDuration(d.src); err != nil {
			return s, false, fmt.Errorf("--%s: %w", d.name, err)
		}
	}
	if given["reminders"] {
		if s.Reminders, err = account.ParseOffsets(f.reminders); err != nil {
			return s, false, fmt.Errorf("--reminders: %w", err)
		}
	}
	return s, true, account.SaveSettings(ctx, a.db, s)
}

// mailer returns the SMTP mailer, or nil when SMTP is not configured.
func (f *lifecycleFlags) mailer() (account.Mailer, error) {
	if f.smtpAddr == "" {
		return nil, nil
	}
	return account.NewSMTPMailer(account.SMTPConfig{Addr: f.smtpAddr, From: f.smtpFrom, Username: f.smtpUser, Password: f.smtpPassword, TLS: f.smtpTLS})
}

// configureLifecycle sets up the app's lifecycle from the stored policy, the
// flags and SMTP. It reports whether a policy is configured.
func (a *app) configureLifecycle(ctx context.Context, f *lifecycleFlags, log *slog.Logger) (bool, error) {
	s, configured, err := f.settings(ctx, a)
	if err != nil {
		return false, err
	}
	m, err := f.mailer()
	if err != nil {
		return false, err
	}
	a.life, err = newLinkedLifecycle(a, s, m, f.mail, log)
	return configured, err
}

// newLifecycle builds the lifecycle over the app's database. Purges drop
// the account's cached logins.
func newLifecycle(a *app, s account.Settings, m account.Mailer, log *slog.Logger) (*account.Lifecycle, error) {
	return newLinkedLifecycle(a, s, m, mailIdentity{}, log)
}

// newLinkedLifecycle is newLifecycle whose mails name the service and link
// to its dashboard.
func newLinkedLifecycle(a *app, s account.Settings, m account.Mailer, id mailIdentity, log *slog.Logger) (*account.Lifecycle, error) {
	key, err := encryption.Derive(a.secret, encryption.AccountTokens)
	if err != nil {
		return nil, err
	}
	return account.New(a.db, account.Options{Settings: s, Mailer: m, TokenKey: key, LinkBase: id.links, ServiceName: id.service, Logger: log, Now: a.now, OnPurge: a.auth.Forget, Locks: a.db})
}

// creator lets the lifecycle create accounts through createUser, which owns
// the key hierarchy.
type creator struct{ a *app }

func (c creator) CreateAccount(ctx context.Context, n account.NewAccount) (*account.Created, error) {
	if err := auth.CheckUsername(n.Username); err != nil {
		return nil, &account.FieldError{Field: "username", Message: err.Error()}
	}
	u, err := c.a.createUser(ctx, newUser{username: n.Username, email: n.Email, displayName: n.DisplayName, password: n.Password, start: n.Start})
	if errors.Is(err, errUserExists) {
		return nil, account.ErrExists
	}
	if err != nil {
		return nil, err
	}
	return &account.Created{ID: u.account.ID, Username: u.account.Username, RecoveryCode: u.recoveryCode}, nil
}

const accountUsage = `coffer account: the account lifecycle, as the operator API offers it

  coffer account create USERNAME --email E [--display-name N] [--password-stdin]
  coffer account confirm USERNAME TOKEN
  coffer account show USERNAME
  coffer account pay USERNAME --transaction ID --plan P (--paid-through DATE | --days N)
  coffer account vouchers --plan P --days N [--count N]
  coffer account redeem USERNAME CODE
  coffer account set USERNAME [--display-name N] [--email E]
  coffer account delete USERNAME
  coffer account sweep

Each also takes --data, the lifecycle flags (--lifecycle, --trial-length,
--retention-length, --pending-length, --reminders) and the SMTP flags.`

// accountCmd runs the "coffer account" subcommands.
func accountCmd(args []string) error {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, accountUsage)
		return errors.New("account: want a subcommand")
	}
	ctx := context.Background()
	var c config
	fs := newFlags("account "+args[0], &c)
	lf := addLifecycleFlags(fs)
	var (
		email, name, txn, plan, through *string
		days, count                     *int
		stdin                           *bool
	)
	switch args[0] {
	case "create", "set":
		email = fs.String("email", "", "e-mail address")
		name = fs.String("display-name", "", "display name")
		stdin = fs.Bool("password-stdin", false, "read the password from standard input instead of generating one")
	case "pay":
		txn = fs.String("transaction", "", "the payment's unique transaction id")
		plan = fs.String("plan", "", "the plan paid for")
		through = fs.String("paid-through", "", "the date paid through (2026-03-01 or RFC 3339)")
		days = fs.Int("days", 0, "days to add after the running trial or subscription")
	case "vouchers":
		plan = fs.String("plan", "", "the plan the vouchers grant")
		days = fs.Int("days", 0, "days each voucher grants")
		count = fs.Int("count", 1, "how many vouchers")
	case "confirm", "show", "redeem", "delete", "sweep":
	case "help", "-h", "--help":
		return showHelp(accountUsage)
	default:
		return fmt.Errorf("account: unknown subcommand %q\nrun \"coffer account help\" for the subcommands", args[0])
	}
	pos, err := parse(fs, &c, args[1:])
	if err != nil {
		return err
	}
	want := map[string]int{"create": 1, "confirm": 2, "show": 1, "pay": 1, "vouchers": 0, "redeem": 2, "set": 1, "delete": 1, "sweep": 0}[args[0]]
	if len(pos) != want {
		return fmt.Errorf("account %s: want %d arguments, got %d", args[0], want, len(pos))
	}
	a, err := openApp(ctx, &c, openOptions{})
	if err != nil {
		return err
	}
	defer a.Close()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if _, err := a.configureLifecycle(ctx, lf, log); err != nil {
		return err
	}
	l := a.life
	lookup := func() (int64, error) {
		id, err := l.Lookup(ctx, pos[0])
		if errors.Is(err, account.ErrNotFound) {
			return 0, fmt.Errorf("no user %q", pos[0])
		}
		return id, err
	}
	switch args[0] {
	case "create":
		n := account.NewAccount{Username: pos[0], Email: *email, DisplayName: *name}
		if *stdin {
			lines, err := readLines(os.Stdin, 1)
			if err != nil {
				return err
			}
			n.Password = lines[0]
		}
		res, err := l.CreatePending(ctx, creator{a}, n)
		if err != nil {
			return err
		}
		return printJSON(res)
	case "sweep":
		rep, err := l.Sweep(ctx)
		if err != nil {
			return err
		}
		return printJSON(rep)
	case "vouchers":
		codes, err := l.CreateVouchers(ctx, *plan, *days, *count)
		if err != nil {
			return err
		}
		return printJSON(map[string]any{"codes": codes, "plan": *plan, "days": *days})
	}
	id, err := lookup()
	if err != nil {
		return err
	}
	switch args[0] {
	case "confirm":
		err = l.Confirm(ctx, id, pos[1])
	case "pay":
		p := account.Payment{TransactionID: *txn, Plan: *plan, Days: *days}
		if *through != "" {
			if p.PaidThrough, err = account.ParseDate(*through); err != nil {
				return fmt.Errorf("--paid-through %q: want 2026-03-01 or an RFC 3339 time", *through)
			}
		}
		var applied bool
		if applied, _, err = l.ApplyPayment(ctx, id, p); err == nil && !applied {
			fmt.Println("transaction " + strconv.Quote(*txn) + " was applied before; nothing changed")
		}
	case "redeem":
		_, err = l.RedeemVoucher(ctx, id, pos[1])
	case "set":
		given := map[string]bool{}
		fs.Visit(func(fl *flag.Flag) { given[fl.Name] = true })
		if !given["display-name"] && !given["email"] {
			return errors.New("account set: give --display-name or --email")
		}
		if given["email"] {
			if err = account.CheckEmail(*email); err != nil {
				return err
			}
		}
		if given["display-name"] {
			err = l.SetDisplayName(ctx, id, *name)
		}
		if err == nil && given["email"] {
			err = l.SetEmail(ctx, id, *email)
		}
	case "delete":
		if err = l.Delete(ctx, id); err == nil {
			fmt.Printf("deleted user %s and all of its data\n", pos[0])
			return nil
		}
	}
	if err != nil {
		return err
	}
	v, err := l.View(ctx, id, args[0] == "show")
	if err != nil {
		return err
	}
	return printJSON(v)
}

func printJSON(v any) error {
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// operatorFlags configure the operator API and the sweeper of serve.
type operatorFlags struct {
	listen, token, every string
	// wrap, when set, adds routes to the operator API (metrics.go: /metrics and /healthz).
	wrap func(http.Handler) http.Handler
}

func addOperatorFlags(fs *flag.FlagSet) *operatorFlags {
	o := &operatorFlags{}
	fs.StringVar(&o.listen, "operator-listen", "", "address of the operator API (e.g. 127.0.0.1:8009); empty: off")
	fs.StringVar(&o.token, "operator-token", "", "bearer token of the operator API (better from COFFER_OPERATOR_TOKEN)")
	fs.StringVar(&o.every, "sweep-every", "10m", "how often the lifecycle sweeper runs")
	return o
}

// serve starts the sweeper and, when configured, the operator API on its
// own listener. The returned function stops them.
func (o *operatorFlags) serve(ctx context.Context, a *app, log *slog.Logger) (func(), error) {
	every, err := account.ParseDuration(o.every)
	if err != nil || every <= 0 {
		return nil, fmt.Errorf("--sweep-every %q: want a positive duration such as 10m", o.every)
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		a.life.Run(ctx, every)
	}()
	stop := func() { cancel(); <-done }
	if o.listen == "" {
		return stop, nil
	}
	h, err := a.life.Handler(account.APIOptions{Token: o.token, Creator: creator{a}, Logger: log})
	if err != nil {
		stop()
		return nil, fmt.Errorf("--operator-listen needs --operator-token (or COFFER_OPERATOR_TOKEN) of 16 or more characters: %w", err)
	}
	if o.wrap != nil {
		h = o.wrap(h)
	}
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		stop()
		return nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute, WriteTimeout: 5 * time.Minute,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	go srv.Serve(ln)
	fmt.Printf("coffer: operator API on http://%s/\n", ln.Addr())
	log.Info("operator api", "addr", ln.Addr().String())
	return func() {
		shutdown, c := context.WithTimeout(context.Background(), 15*time.Second)
		defer c()
		srv.Shutdown(shutdown)
		stop()
	}, nil
}
