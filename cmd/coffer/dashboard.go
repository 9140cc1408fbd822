package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/coffer-dav/coffer/storage"
	"github.com/coffer-dav/coffer/web"
)

// dashboardFlags are the dashboard's settings: sign-up and what the
// operator tells the people who use the service.
type dashboardFlags struct {
	signup, serviceName, support, terms, privacy, shop *string
}

// addDashboardFlags registers the dashboard's flags on fs.
func addDashboardFlags(fs *flag.FlagSet) *dashboardFlags {
	return &dashboardFlags{
		signup:      fs.String("signup", "off", "on: people may sign up on the dashboard (needs --smtp-addr, for the confirmation link); off: only the operator creates accounts"),
		serviceName: fs.String("service-name", "Coffer", "the service's name on the dashboard, in mails and in device profiles"),
		support:     fs.String("support-email", "", "support address shown on the dashboard; empty: none"),
		terms:       fs.String("terms-url", "", "link to the terms of service, shown on the dashboard; empty: none"),
		privacy:     fs.String("privacy-url", "", "link to the privacy notice, shown on the dashboard; empty: none"),
		shop:        fs.String("shop-url", "", "where people buy or extend a subscription, linked from the dashboard's overview; empty: none"),
	}
}

// check refuses settings that cannot work together.
func (f *dashboardFlags) check(lf *lifecycleFlags) error {
	switch *f.signup {
	case "off":
	case "on":
		if lf.smtpAddr == "" {
			return errors.New("--signup on needs --smtp-addr: a new account is confirmed by a link sent by e-mail")
		}
	default:
		return fmt.Errorf("--signup %q: want on or off", *f.signup)
	}
	for name, v := range map[string]string{"--terms-url": *f.terms, "--privacy-url": *f.privacy, "--shop-url": *f.shop} {
		if v == "" {
			continue
		}
		if u, err := url.Parse(v); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return fmt.Errorf("%s %q: want an http or https URL", name, v)
		}
	}
	if *f.support != "" && !strings.Contains(*f.support, "@") {
		return fmt.Errorf("--support-email %q: want an e-mail address", *f.support)
	}
	return nil
}

// dashboard builds the dashboard's handler over the app, for the clients'
// base URL (which ends in "/").
func (f *dashboardFlags) dashboard(a *app, base string, secure bool, quota int64, log *slog.Logger) (http.Handler, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, err
	}
	return web.New(web.Options{
		Auth: a.auth, Life: a.life, Store: dashboardStore{a.db, erasingStore{Database: a.db, life: a.life}}, Creator: creator{a},
		Signup: *f.signup == "on", Secure: secure, BaseURL: u, QuotaBytes: quota, Logger: log,
		Operator: web.Operator{ServiceName: *f.serviceName, Support: *f.support, TermsURL: *f.terms, PrivacyURL: *f.privacy, ShopURL: *f.shop},
	})
}

// dashboardStore is the database as the dashboard uses it; erasure goes
// through the lifecycle.
type dashboardStore struct {
	storage.Database
	erase erasingStore
}

// DeleteAccount erases an account through the lifecycle.
func (s dashboardStore) DeleteAccount(ctx context.Context, account int64) error {
	return s.erase.DeleteAccount(ctx, account)
}
