package main

import (
	"context"
	"errors"
	"github.com/coffer-dav/coffer/storage"
	"github.com/coffer-dav/coffer/web"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coffer-dav/coffer/account"
)

// signupMailer keeps the mails it is given.
type signupMailer struct {
	mu   sync.Mutex
	sent []signupMail
	fail bool // refuse every mail, as a mail server that is down
}

// signupMail is one mail a signupMailer got.
type signupMail struct{ to, body string }

func (m *signupMailer) Send(_ context.Context, to string, msg account.Message) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail {
		return errors.New("smtp: 451 4.3.0 <" + to + ">: try again later")
	}
	m.sent = append(m.sent, signupMail{to, msg.Body})
	return nil
}

// to returns the mails sent to an address.
func (m *signupMailer) to(addr string) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for _, s := range m.sent {
		if s.to == addr {
			out = append(out, s.body)
		}
	}
	return out
}

// count returns how many mails went out.
func (m *signupMailer) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.sent)
}

// signupRig is the dashboard rig with sign-up and the lifecycle on.
var signupRig = dashRigOptions{Signup: true}

// post sends a form from path's page: its token and cookies come first.
func (d *dashRig) post(page, path string, form url.Values, cookies []*http.Cookie) (*http.Response, string) {
	d.t.Helper()
	token, cookies := d.form(page, cookies)
	form.Set("csrf", token)
	return d.do("POST", path, form, cookies)
}

// state returns an account's lifecycle state, or purged when there is none.
func (d *dashRig) state(username string) account.State {
	d.t.Helper()
	id, err := d.a.life.Lookup(context.Background(), username)
	if err != nil {
		return account.StatePurged
	}
	st, err := d.a.life.State(context.Background(), id)
	if err != nil {
		d.t.Fatal(err)
	}
	return st
}

// signup posts the sign-up form.
func (d *dashRig) signup(user, name, email, pw, pw2 string) (*http.Response, string) {
	d.t.Helper()
	return d.post("/signup", "/signup", url.Values{"username": {user}, "display_name": {name}, "email": {email}, "password": {pw}, "password2": {pw2}}, nil)
}

var confirmLink = regexp.MustCompile(`http://dav\.example\.org(/confirm\?u=[^&\s]+&t=(\S+))`)

// TestDashboardSignupOff: without --signup on, the sign-up page is a 404
// and its form creates nothing.
func TestDashboardSignupOff(t *testing.T) {
	d := newDashRig(t, dashRigOptions{})
	if resp, _ := d.do("GET", "/signup", nil, nil); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("GET /signup: %d, want 404", resp.StatusCode)
	}
	resp, _ := d.post("/signin", "/signup", url.Values{"username": {"bob"}, "email": {"bob@example.org"}, "password": {"marzipan-lighthouse"}, "password2": {"marzipan-lighthouse"}}, nil)
	if resp.StatusCode != http.StatusNotFound || d.state("bob") != account.StatePurged {
		t.Fatalf("POST /signup: %d, bob %s; want 404 and no account", resp.StatusCode, d.state("bob"))
	}
}

// TestDashboardSignup: each field error shows the form again with what was
// typed (never the passwords) and creates nothing; a right form creates a
// pending account and mails it a link to the confirmation page. An address
// that another account has gets the same answer as any other.
func TestDashboardSignup(t *testing.T) {
	d := newDashRig(t, signupRig)
	m := d.mail
	resp, body := d.do("GET", "/signup", nil, nil)
	for _, want := range []string{`id="username"`, `id="display_name"`, `id="email"`, `id="password"`, `id="password2"`, `id="signup-submit"`, "lower-case letters, digits and . _ @ &#43; -"} {
		if resp.StatusCode != 200 || !strings.Contains(body, want) {
			t.Fatalf("GET /signup: %d, no %q", resp.StatusCode, want)
		}
	}
	for _, tt := range []struct {
		name, user, email, pw, pw2 string
		status                     int
		want                       string
	}{
		{"bad username", "Bob Smith!", "bob@example.org", "marzipan-lighthouse", "marzipan-lighthouse", 400, "That username is not possible"},
		{"taken username", "alice", "bob@example.org", "marzipan-lighthouse", "marzipan-lighthouse", 409, "That username is taken"},
		{"bad address", "bob", "bob at example", "marzipan-lighthouse", "marzipan-lighthouse", 400, "plain e-mail address"},
		{"address with a name", "bob", "Bob <bob@example.org>", "marzipan-lighthouse", "marzipan-lighthouse", 400, "plain e-mail address"},
		{"short password", "bob", "bob@example.org", "marzi", "marzi", 400, "at least 8 characters"},
		{"passwords differ", "bob", "bob@example.org", "marzipan-lighthouse", "marzipan-lighthous", 400, "not the same"},
		{"common password", "bob", "bob@example.org", "password123", "password123", 400, "too common"},
		{"password from the address", "bob", "zorba.quint@example.org", "zorbaquint17", "zorbaquint17", 400, "too common"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := d.signup(tt.user, "Bob Builder", tt.email, tt.pw, tt.pw2)
			if resp.StatusCode != tt.status || !strings.Contains(body, tt.want) {
				t.Fatalf("%d, want %d with %q:\n%s", resp.StatusCode, tt.status, tt.want, body)
			}
			if !strings.Contains(body, `value="Bob Builder"`) || !strings.Contains(body, `value="`+attr(tt.email)+`"`) {
				t.Errorf("the typed values are not kept:\n%s", body)
			}
			if strings.Contains(body, tt.pw) {
				t.Errorf("the page shows the password")
			}
		})
	}
	if d.state("bob") != account.StatePurged || m.count() != 0 {
		t.Fatalf("after refused forms: bob %s, %d mails", d.state("bob"), m.count())
	}
	for _, tt := range []struct{ user, email string }{{"bob", "bob@example.org"}, {"mallory", "alice@example.org"}} {
		resp, _ := d.signup(tt.user, "", tt.email, "marzipan-lighthouse", "marzipan-lighthouse")
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/signup?sent=1" {
			t.Fatalf("%s: %d to %q", tt.user, resp.StatusCode, resp.Header.Get("Location"))
		}
		if st := d.state(tt.user); st != account.StatePending {
			t.Fatalf("%s: %s, want pending", tt.user, st)
		}
	}
	if _, body := d.do("GET", "/signup?sent=1", nil, nil); !strings.Contains(body, "Check your mail") {
		t.Fatalf("the sent page:\n%s", body)
	}
	mails := m.to("bob@example.org")
	if len(mails) != 1 || !confirmLink.MatchString(mails[0]) || !strings.Contains(mails[0], "/confirm?u=bob&t=") {
		t.Fatalf("bob's mails: %q", mails)
	}
}

// attr escapes a value as html/template writes it in an attribute.
func attr(s string) string {
	return strings.NewReplacer("<", "&lt;", ">", "&gt;", `"`, "&#34;").Replace(s)
}

// TestDashboardConfirm: the link's page confirms nothing by itself (a mail
// scanner fetches it); its button moves the account from pending to its
// trial; a wrong, foreign or used token gets a 4xx page and changes nothing.
func TestDashboardConfirm(t *testing.T) {
	d := newDashRig(t, signupRig)
	m := d.mail
	for _, u := range []string{"bob", "carol"} {
		if resp, _ := d.signup(u, "", u+"@example.org", "marzipan-lighthouse", "marzipan-lighthouse"); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("sign-up %s: %d", u, resp.StatusCode)
		}
	}
	link := confirmLink.FindStringSubmatch(m.to("bob@example.org")[0])
	carol := confirmLink.FindStringSubmatch(m.to("carol@example.org")[0])
	if link == nil || carol == nil {
		t.Fatal("no links mailed")
	}
	// A pending account cannot sign in yet.
	if resp, _ := d.post("/signin", "/signin", url.Values{"username": {"bob"}, "password": {"marzipan-lighthouse"}}, nil); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("pending sign-in: %d, want 403", resp.StatusCode)
	}
	resp, body := d.do("GET", link[1], nil, nil)
	if resp.StatusCode != 200 || !strings.Contains(body, `id="confirm-submit"`) || d.state("bob") != account.StatePending {
		t.Fatalf("GET the link: %d, bob %s:\n%s", resp.StatusCode, d.state("bob"), body)
	}
	if resp, _ := d.do("GET", "/confirm?u=bob", nil, nil); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("GET without a token: %d, want 400", resp.StatusCode)
	}
	for _, tt := range []struct {
		name, user, token string
	}{
		{"wrong token", "bob", "aaaaaaaaaaaaaaaaaaaaaaaa"},
		{"carol's token", "bob", carol[2]},
		{"unknown user", "nobody", link[2]},
		{"empty", "", ""},
	} {
		resp, body := d.post(link[1], "/confirm", url.Values{"u": {tt.user}, "t": {tt.token}}, nil)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "not valid") || d.state("bob") != account.StatePending {
			t.Errorf("%s: %d, bob %s; want 400 and pending", tt.name, resp.StatusCode, d.state("bob"))
		}
	}
	resp, _ = d.post(link[1], "/confirm", url.Values{"u": {"bob"}, "t": {link[2]}}, nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/signin?done=notice.confirmed" || d.state("bob") != account.StateTrial {
		t.Fatalf("confirm: %d to %q, bob %s; want the trial", resp.StatusCode, resp.Header.Get("Location"), d.state("bob"))
	}
	if _, body := d.do("GET", "/signin?done=notice.confirmed", nil, nil); !strings.Contains(body, "Your e-mail address is confirmed") {
		t.Fatal("no notice on the sign-in page")
	}
	resp, body = d.post(link[1], "/confirm", url.Values{"u": {"bob"}, "t": {link[2]}}, nil)
	if resp.StatusCode != http.StatusConflict || !strings.Contains(body, "used already") {
		t.Fatalf("used link: %d, want 409", resp.StatusCode)
	}
	// A wrong token for a confirmed account says no more than for a pending one.
	if resp, _ := d.post(link[1], "/confirm", url.Values{"u": {"alice"}, "t": {link[2]}}, nil); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("wrong token for alice: %d, want 400", resp.StatusCode)
	}
	if resp, _ := d.post("/signin", "/signin", url.Values{"username": {"bob"}, "password": {"marzipan-lighthouse"}}, nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in after confirmation: %d", resp.StatusCode)
	}
}

// TestDashboardResend: the answer is the same for a pending account, a
// confirmed one, an unknown name or address, and a throttled request; only
// a pending account gets a mail, with the link, at most once in 10 minutes.
func TestDashboardResend(t *testing.T) {
	d := newDashRig(t, signupRig)
	m := d.mail
	if resp, _ := d.signup("carol", "", "carol@example.org", "marzipan-lighthouse", "marzipan-lighthouse"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-up: %d", resp.StatusCode)
	}
	if _, body := d.do("GET", "/resend", nil, nil); !strings.Contains(body, `id="login"`) || !strings.Contains(body, `id="resend-submit"`) {
		t.Fatalf("the resend form:\n%s", body)
	}
	var first string
	for i, tt := range []struct {
		advance time.Duration
		login   string
		mails   int // carol's so far
	}{
		{0, "carol", 1}, // within 10 minutes of the sign-up
		{11 * time.Minute, "carol@example.org", 2},
		{time.Minute, "CAROL", 2},
		{11 * time.Minute, "Carol@Example.org", 3},
		{11 * time.Minute, "alice", 3},
		{0, "alice@example.org", 3},
		{0, "nobody", 3},
		{0, "nobody@example.org", 3},
	} {
		d.clock.Advance(tt.advance)
		resp, body := d.post("/resend", "/resend", url.Values{"login": {tt.login}}, nil)
		d.dash.Wait() // the resend runs after its answer
		answer := resp.Status + " " + resp.Header.Get("Location") + " " + body
		if first == "" {
			first = answer
		}
		if answer != first || resp.StatusCode != http.StatusSeeOther {
			t.Errorf("%d %s: answer %q, want %q", i, tt.login, answer, first)
		}
		if got := m.to("carol@example.org"); len(got) != tt.mails || !confirmLink.MatchString(got[len(got)-1]) {
			t.Fatalf("%d %s: carol has %d mails, want %d", i, tt.login, len(got), tt.mails)
		}
	}
	if n := len(m.to("alice@example.org")); n != 0 {
		t.Fatalf("alice got %d mails", n)
	}
	if _, body := d.do("GET", "/resend?done=notice.resent", nil, nil); !strings.Contains(body, "If an account with that name or address waits") {
		t.Fatal("no notice after resending")
	}
}

var emailChangeLink = regexp.MustCompile(`http://dav\.example\.org(/email/confirm\?t=(\S+))`)

// TestDashboardEmailChange: the settings page asks for a new address and
// mails it a link; the address changes only through that link's button; a
// forged, replayed or expired token gets a 4xx page and changes nothing.
func TestDashboardEmailChange(t *testing.T) {
	d := newDashRig(t, signupRig)
	m := d.mail
	s := d.signIn()
	emailOf := func() string {
		id, _ := d.a.life.Lookup(context.Background(), "alice")
		v, err := d.a.life.View(context.Background(), id, false)
		if err != nil {
			t.Fatal(err)
		}
		return v.Email
	}
	resp, body := d.do("GET", "/settings", nil, []*http.Cookie{s})
	for _, want := range []string{"alice@example.org", `id="email"`, `id="email-submit"`, `id="display_name"`, `id="name-submit"`,
		`id="current_password"`, `id="new_password"`, `id="new_password2"`, `id="password-submit"`, `id="recovery_password"`, `id="recovery-submit"`} {
		if resp.StatusCode != 200 || !strings.Contains(body, want) {
			t.Fatalf("GET /settings: %d, no %q", resp.StatusCode, want)
		}
	}
	for _, tt := range []struct {
		email  string
		status int
		want   string
	}{
		{"not an address", 400, "plain e-mail address"},
		{"alice@example.org", 400, "your address already"},
	} {
		resp, body := d.post("/settings", "/settings/email", url.Values{"email": {tt.email}}, []*http.Cookie{s})
		if resp.StatusCode != tt.status || !strings.Contains(body, tt.want) {
			t.Errorf("%q: %d, want %d with %q", tt.email, resp.StatusCode, tt.status, tt.want)
		}
	}
	resp, _ = d.post("/settings", "/settings/email", url.Values{"email": {"alice@new.example"}}, []*http.Cookie{s})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/settings?done=notice.email.sent" || emailOf() != "alice@example.org" {
		t.Fatalf("request: %d to %q, address %s", resp.StatusCode, resp.Header.Get("Location"), emailOf())
	}
	mails := m.to("alice@new.example")
	if len(mails) != 1 || emailChangeLink.FindStringSubmatch(mails[0]) == nil {
		t.Fatalf("mails to the new address: %q", mails)
	}
	link := emailChangeLink.FindStringSubmatch(mails[0])
	// The old address hears of the request, without the new address.
	if old := m.to("alice@example.org"); len(old) != 1 || strings.Contains(old[0], "new.example") {
		t.Fatalf("mails to the old address: %q", old)
	}
	resp, body = d.do("GET", link[1], nil, nil)
	if resp.StatusCode != 200 || !strings.Contains(body, `id="email-confirm-submit"`) || emailOf() != "alice@example.org" {
		t.Fatalf("GET the link: %d, address %s", resp.StatusCode, emailOf())
	}
	forged := []byte(link[2])
	forged[len(forged)-2] ^= 1
	for _, tt := range []struct{ name, token string }{{"forged", string(forged)}, {"empty", ""}, {"garbage", "%%%"}} {
		resp, _ := d.post(link[1], "/email/confirm", url.Values{"t": {tt.token}}, nil)
		if resp.StatusCode != http.StatusBadRequest || emailOf() != "alice@example.org" {
			t.Errorf("%s: %d, address %s; want 400 and no change", tt.name, resp.StatusCode, emailOf())
		}
	}
	resp, _ = d.post(link[1], "/email/confirm", url.Values{"t": {link[2]}}, nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/signin?done=notice.email.changed" || emailOf() != "alice@new.example" {
		t.Fatalf("confirm: %d to %q, address %s", resp.StatusCode, resp.Header.Get("Location"), emailOf())
	}
	if resp, _ := d.post(link[1], "/email/confirm", url.Values{"t": {link[2]}}, nil); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("replay: %d, want 400", resp.StatusCode)
	}
	d.clock.Advance(2 * time.Minute)
	if resp, _ := d.post("/settings", "/settings/email", url.Values{"email": {"alice@third.example"}}, []*http.Cookie{s}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("second request: %d", resp.StatusCode)
	}
	late := emailChangeLink.FindStringSubmatch(m.to("alice@third.example")[0])
	d.clock.Advance(25 * time.Hour)
	if resp, _ := d.post(late[1], "/email/confirm", url.Values{"t": {late[2]}}, []*http.Cookie{s}); resp.StatusCode != http.StatusGone || emailOf() != "alice@new.example" {
		t.Fatalf("expired: %d, address %s; want 410", resp.StatusCode, emailOf())
	}
}

// TestDashboardPasswordChange: a wrong current password, an app password,
// a repetition that differs and a common new password change nothing; a
// right change ends the account's other sessions, gives this browser a new
// one, and only the new password signs in.
func TestDashboardPasswordChange(t *testing.T) {
	d := newDashRig(t, signupRig)
	ctx := context.Background()
	here, other := d.signIn(), d.signIn()
	id, app := newAppPassword(t, d.a, "alice", "correct horse battery", "phone")
	for _, tt := range []struct {
		name, current, pw, pw2 string
		status                 int
		want                   string
	}{
		{"wrong current", "wrong horse battery", "marzipan-lighthouse", "marzipan-lighthouse", 403, "not your account"},
		{"app password as current", app, "marzipan-lighthouse", "marzipan-lighthouse", 403, "not your account"},
		{"no current", "", "marzipan-lighthouse", "marzipan-lighthouse", 400, "not your account"},
		{"differ", "correct horse battery", "marzipan-lighthouse", "marzipan-lightship", 400, "not the same"},
		{"common", "correct horse battery", "iloveyou123", "iloveyou123", 400, "too common"},
	} {
		resp, body := d.post("/settings", "/settings/password", url.Values{"current_password": {tt.current}, "new_password": {tt.pw}, "new_password2": {tt.pw2}}, []*http.Cookie{here})
		if resp.StatusCode != tt.status || !strings.Contains(body, tt.want) {
			t.Errorf("%s: %d, want %d with %q", tt.name, resp.StatusCode, tt.status, tt.want)
		}
		if _, err := d.a.auth.Login(ctx, "alice", "correct horse battery"); err != nil {
			t.Fatalf("%s: the old password stopped working: %v", tt.name, err)
		}
	}
	resp, _ := d.post("/settings", "/settings/password", url.Values{"current_password": {"correct horse battery"}, "new_password": {"marzipan-lighthouse"}, "new_password2": {"marzipan-lighthouse"}}, []*http.Cookie{here})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/settings?done=notice.password.changed" {
		t.Fatalf("change: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	var fresh *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "coffer_session" && c.MaxAge > 0 {
			fresh = c
		}
	}
	if fresh == nil || fresh.Value == here.Value {
		t.Fatal("no new session for this browser")
	}
	for _, tt := range []struct {
		name string
		c    *http.Cookie
		want int
	}{{"this browser's new session", fresh, 200}, {"this browser's old session", here, 303}, {"another browser", other, 303}} {
		if resp, _ := d.do("GET", "/settings", nil, []*http.Cookie{tt.c}); resp.StatusCode != tt.want {
			t.Errorf("%s: %d, want %d", tt.name, resp.StatusCode, tt.want)
		}
	}
	if _, err := d.a.auth.Login(ctx, "alice", "correct horse battery"); err == nil {
		t.Error("the old password still works")
	}
	if _, err := d.a.auth.Login(ctx, "alice", "marzipan-lighthouse"); err != nil {
		t.Errorf("the new password: %v", err)
	}
	if _, err := d.a.auth.Login(ctx, "alice", app); err != nil {
		t.Errorf("the app password stopped working: %v", err)
	}
	h, _ := d.a.life.History(ctx, id.AccountID)
	if h[len(h)-1].Kind != account.EventPasswordChanged {
		t.Errorf("history ends with %s, want %s", h[len(h)-1].Kind, account.EventPasswordChanged)
	}
}

// TestDashboardRecoveryCode: a wrong password gets no code; the right one
// shows a new code once, and that code opens the account.
func TestDashboardRecoveryCode(t *testing.T) {
	d := newDashRig(t, signupRig)
	s := d.signIn()
	secret := regexp.MustCompile(`<p class="secret" id="new-secret">([A-Z0-9-]+)</p>`)
	for _, pw := range []string{"", "wrong horse battery"} {
		resp, body := d.post("/settings", "/settings/recovery", url.Values{"recovery_password": {pw}}, []*http.Cookie{s})
		if resp.StatusCode < 400 || secret.MatchString(body) {
			t.Errorf("password %q: %d, code shown %v", pw, resp.StatusCode, secret.MatchString(body))
		}
	}
	resp, body := d.post("/settings", "/settings/recovery", url.Values{"recovery_password": {"correct horse battery"}}, []*http.Cookie{s})
	m := secret.FindStringSubmatch(body)
	if resp.StatusCode != 200 || m == nil || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("new code: %d, %q", resp.StatusCode, resp.Header.Get("Cache-Control"))
	}
	if _, err := d.a.auth.Unlock(context.Background(), "alice", m[1]); err != nil {
		t.Fatalf("the new code does not open the account: %v", err)
	}
	if _, body := d.do("GET", "/settings", nil, []*http.Cookie{s}); secret.MatchString(body) {
		t.Fatal("the code is shown again")
	}
}

// TestDashboardEmailChangeMailFails: when the mail to the new address
// cannot be sent, the page says so and the address stays.
func TestDashboardEmailChangeMailFails(t *testing.T) {
	d := newDashRig(t, signupRig)
	m := d.mail
	s := d.signIn()
	m.mu.Lock()
	m.fail = true
	m.mu.Unlock()
	resp, body := d.post("/settings", "/settings/email", url.Values{"email": {"alice@new.example"}}, []*http.Cookie{s})
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "could not be sent") {
		t.Fatalf("%d, want 503 with the reason:\n%s", resp.StatusCode, body)
	}
	id, _ := d.a.life.Lookup(context.Background(), "alice")
	if v, _ := d.a.life.View(context.Background(), id, false); v.Email != "alice@example.org" {
		t.Fatalf("address %s", v.Email)
	}
}

// blockingStore holds every lookup by e-mail address until release closes.
type blockingStore struct {
	dashboardStore
	release <-chan struct{}
}

// AccountByEmail waits for release, then looks the address up.
func (s blockingStore) AccountByEmail(ctx context.Context, email string) (*storage.Account, error) {
	<-s.release
	return s.dashboardStore.AccountByEmail(ctx, email)
}

// TestDashboardResendAnswersFirst: a resend is answered before the account
// is looked up, so not even the answer's timing tells whether a pending
// account has that address; the lookup runs after the answer.
func TestDashboardResendAnswersFirst(t *testing.T) {
	a, _ := testApp(t)
	release := make(chan struct{})
	base, _ := url.Parse("http://dav.example.org/")
	h, err := web.New(web.Options{Auth: a.auth, Life: a.life, BaseURL: base, Logger: quietLog,
		Store: blockingStore{dashboardStore{a.db, erasingStore{Database: a.db, life: a.life}}, release}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(srv.URL + "/resend")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	token := csrfField.FindStringSubmatch(string(page))
	if token == nil {
		t.Fatal("no form token on /resend")
	}
	req, _ := http.NewRequest("POST", srv.URL+"/resend", strings.NewReader(url.Values{"csrf": {token[1]}, "login": {"someone@example.org"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, ck := range resp.Cookies() {
		req.AddCookie(ck)
	}
	answered := make(chan int, 1)
	go func() {
		resp, err := c.Do(req)
		if err != nil {
			answered <- 0
			return
		}
		resp.Body.Close()
		answered <- resp.StatusCode
	}()
	select {
	case status := <-answered:
		if status != http.StatusSeeOther {
			t.Errorf("resend: %d, want 303", status)
		}
	case <-time.After(5 * time.Second):
		t.Error("no answer while the lookup waits: the resend looks the account up before it answers")
	}
	close(release)
	h.Wait()
}
