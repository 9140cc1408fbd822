package main

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coffer-dav/coffer/account"
	"github.com/coffer-dav/coffer/encryption"
)

// fakeClock is a clock a test moves by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// lifecycleOn switches the app's lifecycle on (30-day trial, 180 days of
// retention) on a clock the test drives from start, its mails going to m
// (nil: none) with links to links, and returns the clock.
func lifecycleOn(tb testing.TB, a *app, start time.Time, m account.Mailer, links *url.URL) *fakeClock {
	tb.Helper()
	clock := &fakeClock{t: start}
	a.now = clock.Now
	var err error
	if a.life, err = newLinkedLifecycle(a, account.DefaultSettings(), m, mailIdentity{links: links}, quietLog); err != nil {
		tb.Fatal(err)
	}
	return clock
}

// lifeRig is the real DAV handler and operator API over one data folder,
// on a clock the test drives.
type lifeRig struct {
	t        *testing.T
	a        *app
	dir      string // the data folder
	clock    *fakeClock
	dav, api *httptest.Server
}

const rigToken = "operator-token-for-the-rig"

func newLifeRig(t *testing.T) *lifeRig {
	t.Helper()
	a, dir := testApp(t)
	r := &lifeRig{t: t, a: a, dir: dir, clock: lifecycleOn(t, a, time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC), nil, nil)}
	h, err := a.life.Handler(account.APIOptions{Token: rigToken, Creator: creator{a}, Logger: quietLog})
	if err != nil {
		t.Fatal(err)
	}
	// Mounted as serve mounts it: DAV, and the users' own /account/ endpoints.
	r.dav = httptest.NewServer(mounted(a, nil))
	r.api = httptest.NewServer(h)
	t.Cleanup(r.dav.Close)
	t.Cleanup(r.api.Close)
	return r
}

// op calls the operator API and decodes its JSON answer.
func (r *lifeRig) op(want int, method, path, body string) map[string]any {
	r.t.Helper()
	req, _ := http.NewRequest(method, r.api.URL+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+rigToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	if resp.StatusCode != want {
		r.t.Fatalf("%s %s: %d, want %d: %v", method, path, resp.StatusCode, want, out)
	}
	return out
}

// do sends a DAV request as user and returns the status and body.
func (r *lifeRig) do(user, password, method, path, body string, headers ...string) (int, string) {
	r.t.Helper()
	req, _ := http.NewRequest(method, r.dav.URL+path, strings.NewReader(body))
	req.SetBasicAuth(user, password)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// until advances the clock to t in steps of six hours, sweeping at each.
func (r *lifeRig) until(t time.Time) {
	r.t.Helper()
	for r.clock.Now().Before(t) {
		step := min(6*time.Hour, t.Sub(r.clock.Now()))
		r.clock.Advance(step)
		if _, err := r.a.life.Sweep(context.Background()); err != nil {
			r.t.Fatal(err)
		}
	}
}

const (
	lifeUser     = "zq-marker-user"
	lifePassword = "zq marker password"
	lifeEvent    = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:zq-marker-uid\r\nDTSTAMP:20260301T100000Z\r\nDTSTART:20260320T090000Z\r\nSUMMARY:ZQ-MARKER-SUMMARY board meeting\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
	lifeCard     = "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:zq-marker-card\r\nFN:ZQ-MARKER-CONTACT Hopper\r\nN:Hopper;Grace;;;\r\nEND:VCARD\r\n"
)

// TestLifecycleWholeLife drives one account through its whole life on the
// real DAV handler and operator API: create, confirm, trial, payment, the
// same payment again, expiry, retention (403 everywhere, never 404),
// renewal with all data intact, expiry again, purge. After the purge no
// marker of the account is in the database file or its WAL, and it cannot
// log in.
func TestLifecycleWholeLife(t *testing.T) {
	r := newLifeRig(t)
	cal := "/dav/calendars/" + lifeUser + "/calendar/"
	book := "/dav/addressbooks/" + lifeUser + "/contacts/"
	paths := []string{"/dav/principals/" + lifeUser + "/", "/dav/calendars/" + lifeUser + "/", cal, cal + "e.ics", "/dav/addressbooks/" + lifeUser + "/", book, book + "c.vcf", cal + "missing.ics"}
	blocked := func(when string) {
		t.Helper()
		for _, p := range paths {
			for _, m := range []string{"PROPFIND", "GET", "REPORT"} {
				status, body := r.do(lifeUser, lifePassword, m, p, "", "Depth", "1")
				if status != http.StatusForbidden {
					t.Fatalf("%s: %s %s answered %d, want 403:\n%s", when, m, p, status, body)
				}
			}
		}
	}

	// Create (pending: no DAV), confirm (trial).
	out := r.op(201, "POST", "/v1/accounts", `{"username":"`+lifeUser+`","email":"zq-marker-mail@example.org","display_name":"ZQ-MARKER-NAME","password":"`+lifePassword+`"}`)
	if out["state"] != "pending" || out["password"] != nil {
		t.Fatalf("create: %v", out)
	}
	if status, body := r.do(lifeUser, lifePassword, "PROPFIND", cal, "", "Depth", "0"); status != 403 || !strings.Contains(body, "not confirmed") {
		t.Fatalf("pending account: %d %s", status, body)
	}
	r.until(r.clock.Now().Add(time.Hour))
	r.op(200, "POST", "/v1/accounts/"+lifeUser+"/confirm", `{"token":"`+out["confirmation_token"].(string)+`"}`)
	if status, _ := r.do(lifeUser, lifePassword, "PUT", cal+"e.ics", lifeEvent, "Content-Type", "text/calendar"); status != 201 {
		t.Fatalf("PUT event in trial: %d", status)
	}
	if status, _ := r.do(lifeUser, lifePassword, "PUT", book+"c.vcf", lifeCard, "Content-Type", "text/vcard"); status != 201 {
		t.Fatalf("PUT contact in trial: %d", status)
	}
	if status, _ := r.do(lifeUser, lifePassword, "PROPPATCH", cal, `<propertyupdate xmlns="DAV:"><set><prop><displayname>ZQ-MARKER-CALNAME</displayname></prop></set></propertyupdate>`); status != 207 {
		t.Fatalf("PROPPATCH: %d", status)
	}

	// Payment, and the same payment again.
	r.until(r.clock.Now().Add(10 * account.Day))
	pay := `{"transaction_id":"ZQ-MARKER-TX-1","plan":"zqmarkerplan","days":30}`
	first := r.op(200, "POST", "/v1/accounts/"+lifeUser+"/payments", pay)
	again := r.op(200, "POST", "/v1/accounts/"+lifeUser+"/payments", pay)
	acct := first["account"].(map[string]any)
	if first["applied"] != true || again["applied"] != false || acct["state"] != "active" ||
		again["account"].(map[string]any)["paid_through"] != acct["paid_through"] {
		t.Fatalf("payments:\n%v\n%v", first, again)
	}
	paidThrough, _ := time.Parse(time.RFC3339, acct["paid_through"].(string))

	// Expiry: retention blocks DAV with 403 and a reason naming the deletion date.
	r.until(paidThrough.Add(time.Hour))
	view := r.op(200, "GET", "/v1/accounts/"+lifeUser, "")
	if view["state"] != "retention" {
		t.Fatalf("after expiry: %v", view)
	}
	deleteAt, _ := time.Parse(time.RFC3339, view["delete_at"].(string))
	blocked("retention")
	if _, body := r.do(lifeUser, lifePassword, "PROPFIND", cal, "", "Depth", "0"); !strings.Contains(body, deleteAt.Format("2006-01-02")) {
		t.Fatalf("the 403 does not give the deletion date %s:\n%s", deleteAt.Format("2006-01-02"), body)
	}
	if status, _ := r.do(lifeUser, lifePassword, "PUT", cal+"new.ics", lifeEvent, "Content-Type", "text/calendar"); status != 403 {
		t.Fatalf("PUT in retention: %d", status)
	}
	// Export still works in retention: the user can take everything away.
	status, export := r.do(lifeUser, lifePassword, "GET", "/account/export", "")
	if status != 200 {
		t.Fatalf("export in retention: %d %s", status, export)
	}
	zr, err := zip.NewReader(strings.NewReader(export), int64(len(export)))
	if err != nil {
		t.Fatalf("export in retention is not a zip: %v", err)
	}
	exported := false
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		exported = exported || strings.Contains(string(b), lifeEvent)
	}
	if !exported {
		t.Fatal("the export in retention lacks the event, byte for byte")
	}

	// Renewal: back to active, everything intact.
	r.until(r.clock.Now().Add(20 * account.Day))
	renew := r.op(200, "POST", "/v1/accounts/"+lifeUser+"/payments", `{"transaction_id":"ZQ-MARKER-TX-2","plan":"zqmarkerplan","days":30}`)
	if renew["account"].(map[string]any)["state"] != "active" {
		t.Fatalf("renewal: %v", renew)
	}
	if status, body := r.do(lifeUser, lifePassword, "GET", cal+"e.ics", ""); status != 200 || body != lifeEvent {
		t.Fatalf("event after renewal: %d %q", status, body)
	}
	if status, body := r.do(lifeUser, lifePassword, "GET", book+"c.vcf", ""); status != 200 || body != lifeCard {
		t.Fatalf("contact after renewal: %d %q", status, body)
	}
	if status, body := r.do(lifeUser, lifePassword, "PROPFIND", cal, "", "Depth", "0"); status != 207 || !strings.Contains(body, "ZQ-MARKER-CALNAME") {
		t.Fatalf("calendar after renewal: %d %s", status, body)
	}

	// Expiry again, then the purge at the end of retention.
	renewed, _ := time.Parse(time.RFC3339, renew["account"].(map[string]any)["paid_through"].(string))
	r.until(renewed.Add(time.Hour))
	blocked("second retention")
	view = r.op(200, "GET", "/v1/accounts/"+lifeUser, "")
	deleteAt, _ = time.Parse(time.RFC3339, view["delete_at"].(string))
	var kinds []string
	for _, e := range view["history"].([]any) {
		kinds = append(kinds, e.(map[string]any)["kind"].(string))
	}
	want := "registered email_confirmed trial_started subscription_purchased subscription_expiring subscription_expiring retention_started subscription_purchased subscription_expiring subscription_expiring retention_started"
	if strings.Join(kinds, " ") != want {
		t.Fatalf("history:\n got %s\nwant %s", strings.Join(kinds, " "), want)
	}
	r.until(deleteAt.Add(-time.Minute))
	blocked("the last minute of retention")
	// The scan sees what the account record keeps readable, so its silence later means something.
	if found := r.findMarkers([]string{lifeUser, "zq-marker-mail", "ZQ-MARKER-NAME"}); len(found) < 3 {
		t.Fatalf("before the purge the scan found only %v", found)
	}
	r.until(deleteAt)
	r.op(404, "GET", "/v1/accounts/"+lifeUser, "")
	if status, _ := r.do(lifeUser, lifePassword, "PROPFIND", cal, "", "Depth", "0"); status != http.StatusUnauthorized {
		t.Fatalf("purged account logs in: %d", status)
	}
	markers := []string{lifeUser, "zq-marker-mail", "ZQ-MARKER-NAME", "ZQ-MARKER-SUMMARY", "ZQ-MARKER-CONTACT", "ZQ-MARKER-CALNAME", "ZQ-MARKER-TX", "zqmarkerplan", "zq-marker-uid"}
	for _, f := range r.findMarkers(markers) {
		t.Errorf("after the purge: %s", f)
	}
}

// findMarkers lists "file holds marker" for each marker in the database
// file or its WAL.
func (r *lifeRig) findMarkers(markers []string) []string {
	r.t.Helper()
	files, _ := filepath.Glob(filepath.Join(r.dir, "coffer.db*"))
	if len(files) == 0 {
		r.t.Fatal("no database files found")
	}
	var found []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			r.t.Fatal(err)
		}
		for _, m := range markers {
			if bytes.Contains(b, []byte(m)) {
				found = append(found, filepath.Base(f)+" holds "+m)
			}
		}
	}
	return found
}

// TestLifecycleModes: until the lifecycle is configured it is off, so the
// first account and later ones never expire; "--lifecycle on", stored once,
// gives later accounts a trial and leaves the permanent ones permanent.
func TestLifecycleModes(t *testing.T) {
	ctx := context.Background()
	dir := privateDir(t)
	c := &config{data: dir, kdf: encryption.MinKDF}
	// flagsFor parses args as a command would; newFlags resets c, so the
	// data folder is given again.
	flagsFor := func(args []string) *lifecycleFlags {
		t.Helper()
		fs := newFlags("test", c)
		lf := addLifecycleFlags(fs)
		if _, err := parse(fs, c, append([]string{"--data", dir, "--argon2-memory", "19456", "--argon2-time", "2", "--argon2-threads", "1"}, args...)); err != nil {
			t.Fatal(err)
		}
		return lf
	}
	step := func(args []string, username string) account.Status {
		t.Helper()
		a, err := openApp(ctx, c, openOptions{create: true})
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		if _, err := a.configureLifecycle(ctx, flagsFor(args), quietLog); err != nil {
			t.Fatal(err)
		}
		u, err := a.createUser(ctx, newUser{username: username, password: "long enough password"})
		if err != nil {
			t.Fatal(err)
		}
		st, err := a.life.Status(ctx, u.account.ID)
		if err != nil {
			t.Fatal(err)
		}
		first, _ := a.db.AccountByUsername(ctx, "first")
		if st0, _ := a.life.Status(ctx, first.ID); st0.State != account.StateActive || !st0.Permanent {
			t.Fatalf("the first account became %+v", st0)
		}
		return st
	}
	if st := step(nil, "first"); st.State != account.StateActive || !st.Permanent {
		t.Fatalf("unconfigured: %+v", st)
	}
	if st := step([]string{"--lifecycle", "on", "--trial-length", "14d"}, "second"); st.State != account.StateTrial || time.Until(st.Expires) > 14*account.Day {
		t.Fatalf("lifecycle on: %+v", st)
	}
	if st := step(nil, "third"); st.State != account.StateTrial {
		t.Fatalf("the stored policy was not kept: %+v", st)
	}
	if st := step([]string{"--lifecycle", "off"}, "fourth"); st.State != account.StateActive || !st.Permanent {
		t.Fatalf("lifecycle off: %+v", st)
	}
	a, err := openApp(ctx, c, openOptions{create: true})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if _, err := a.configureLifecycle(ctx, flagsFor([]string{"--lifecycle", "maybe"}), quietLog); err == nil {
		t.Fatal("--lifecycle maybe was accepted")
	}
}
