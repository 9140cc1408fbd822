package main

import (
	"context"
	"flag"
	"github.com/coffer-dav/coffer/web"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coffer-dav/coffer/auth"
)

// dashRig is the dashboard mounted as serve mounts it, over a real database
// with one account, alice.
type dashRig struct {
	t     *testing.T
	a     *app
	dir   string
	h     http.Handler // what srv serves
	dash  *web.Handler // the dashboard in h
	srv   *httptest.Server
	c     *http.Client  // follows no redirect
	clock *fakeClock    // the lifecycle's; nil while it is off
	mail  *signupMailer // the lifecycle's mails, with Signup
}

// dashRigOptions say how the dashboard rig is set up; the zero value is
// the folder's stored policy (the lifecycle off) and the default flags.
type dashRigOptions struct {
	Secure bool // cookies as behind TLS
	// Start switches the lifecycle on (30-day trial, 180 days of
	// retention) on a clock the test drives from Start, before alice is
	// created: her trial starts then.
	Start time.Time
	// Signup turns sign-up on and, after alice is created (she stays
	// permanent), the lifecycle on a clock from now, its mails kept in
	// the rig's mail with links to the clients' URL.
	Signup     bool
	QuotaBytes int64
	ShopURL    string
}

func newDashRig(t *testing.T, o dashRigOptions) *dashRig {
	t.Helper()
	ctx := context.Background()
	a, dir := testApp(t)
	d := &dashRig{t: t, a: a, dir: dir}
	if !o.Start.IsZero() {
		d.clock = lifecycleOn(t, a, o.Start, nil, nil)
	}
	if _, err := a.createUser(ctx, newUser{username: "alice", email: "alice@example.org", password: "correct horse battery"}); err != nil {
		t.Fatal(err)
	}
	var args []string
	if o.Signup {
		d.mail = &signupMailer{}
		base, _ := url.Parse("http://dav.example.org/")
		d.clock = lifecycleOn(t, a, time.Now().UTC(), d.mail, base)
		args = append(args, "--signup", "on")
	}
	if o.ShopURL != "" {
		args = append(args, "--shop-url", o.ShopURL)
	}
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	f := addDashboardFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	dash, err := f.dashboard(a, "http://dav.example.org/", o.Secure, o.QuotaBytes, quietLog)
	if err != nil {
		t.Fatal(err)
	}
	d.dash = dash.(*web.Handler)
	d.h = mounted(a, dash)
	d.srv = httptest.NewServer(d.h)
	t.Cleanup(d.srv.Close)
	d.c = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return d
}

// do sends a request with the given cookies and headers, and returns the
// response with its body read.
func (d *dashRig) do(method, path string, form url.Values, cookies []*http.Cookie, hdr ...string) (*http.Response, string) {
	d.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, d.srv.URL+path, body)
	if err != nil {
		d.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	for _, c := range cookies {
		req.AddCookie(c)
	}
	resp, err := d.c.Do(req)
	if err != nil {
		d.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// form reads the sign-in form: its token and the cookie that goes with it.
func (d *dashRig) form(path string, cookies []*http.Cookie) (string, []*http.Cookie) {
	d.t.Helper()
	resp, body := d.do("GET", path, nil, cookies)
	m := csrfField.FindStringSubmatch(body)
	if resp.StatusCode != 200 || m == nil {
		d.t.Fatalf("GET %s: %d, no form token", path, resp.StatusCode)
	}
	return m[1], append(cookies, resp.Cookies()...)
}

// signIn signs alice in and returns the session cookie.
func (d *dashRig) signIn() *http.Cookie {
	d.t.Helper()
	token, cookies := d.form("/signin", nil)
	resp, _ := d.do("POST", "/signin", url.Values{"csrf": {token}, "username": {"alice"}, "password": {"correct horse battery"}}, cookies)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		d.t.Fatalf("sign-in: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	for _, c := range resp.Cookies() {
		if strings.HasSuffix(c.Name, "coffer_session") && c.MaxAge > 0 {
			return c
		}
	}
	d.t.Fatal("sign-in set no session cookie")
	return nil
}

// sessions counts the stored sessions and their key slots.
func (d *dashRig) sessions() (rows, slots int) {
	d.t.Helper()
	return d.count(`SELECT count(*) FROM sessions`), d.count(`SELECT count(*) FROM key_slots WHERE kind LIKE 'session:%'`)
}

// count runs a counting query on the database file.
func (d *dashRig) count(query string) int {
	d.t.Helper()
	db := readOnlyDB(d.t, d.dir)
	defer db.Close()
	var n int
	if err := db.QueryRow(query).Scan(&n); err != nil {
		d.t.Fatal(err)
	}
	return n
}

// TestDashboardSignIn: the sign-in form refuses a post from another site,
// one without its token, and a wrong password, and starts no session for
// them; a right one gets a new session id each time, in a cookie scripts
// cannot read and other sites do not send; sign-out ends the session on
// the server, and "every browser" ends them all.
func TestDashboardSignIn(t *testing.T) {
	d := newDashRig(t, dashRigOptions{})
	resp, _ := d.do("GET", "/", nil, nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/signin" {
		t.Fatalf("signed-out home: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, _ = d.do("GET", "/signin", nil, nil)
	for h, want := range map[string]string{
		"Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'",
		"Referrer-Policy":         "no-referrer",
		"Cache-Control":           "no-store",
	} {
		if got := resp.Header.Get(h); !strings.HasPrefix(got, want) {
			t.Errorf("%s: %q, want %q", h, got, want)
		}
	}

	token, cookies := d.form("/signin", nil)
	good := url.Values{"csrf": {token}, "username": {"alice"}, "password": {"correct horse battery"}}
	bad := []struct {
		name    string
		form    url.Values
		cookies []*http.Cookie
		hdr     []string
		status  int
	}{
		{"from another site", good, cookies, []string{"Origin", "https://evil.example"}, http.StatusForbidden},
		{"cross-site fetch", good, cookies, []string{"Sec-Fetch-Site", "cross-site"}, http.StatusForbidden},
		{"no form cookie", good, nil, nil, http.StatusForbidden},
		{"another token", url.Values{"csrf": {"x" + token}, "username": {"alice"}, "password": {"correct horse battery"}}, cookies, nil, http.StatusForbidden},
		{"wrong password", url.Values{"csrf": {token}, "username": {"alice"}, "password": {"wrong horse battery"}}, cookies, nil, http.StatusUnauthorized},
	}
	for _, tt := range bad {
		resp, _ := d.do("POST", "/signin", tt.form, tt.cookies, tt.hdr...)
		if resp.StatusCode != tt.status {
			t.Errorf("%s: %d, want %d", tt.name, resp.StatusCode, tt.status)
		}
		if rows, _ := d.sessions(); rows != 0 {
			t.Fatalf("%s started a session", tt.name)
		}
	}

	a, b := d.signIn(), d.signIn()
	if a.Value == b.Value {
		t.Fatal("two sign-ins got one session id")
	}
	if !a.HttpOnly || a.SameSite != http.SameSiteStrictMode || a.Path != "/" {
		t.Fatalf("session cookie %+v: want HttpOnly, SameSite=Strict, Path=/", a)
	}
	if rows, slots := d.sessions(); rows != 2 || slots != 2 {
		t.Fatalf("%d sessions and %d slots after two sign-ins", rows, slots)
	}
	resp, body := d.do("GET", "/", nil, []*http.Cookie{a})
	csrf := csrfField.FindStringSubmatch(body)
	if resp.StatusCode != 200 || !strings.Contains(body, "alice") || csrf == nil {
		t.Fatalf("signed-in home: %d %q", resp.StatusCode, body)
	}
	// Sign-out needs this session's form token, and a same-site post.
	for _, tt := range []struct {
		name string
		form url.Values
		hdr  []string
	}{
		{"without the token", url.Values{}, nil},
		{"with the other session's token", url.Values{"csrf": {csrfField.FindStringSubmatch(mustBody(d, b))[1]}}, nil},
		{"from another site", url.Values{"csrf": {csrf[1]}}, []string{"Origin", "https://evil.example"}},
	} {
		if resp, _ := d.do("POST", "/signout", tt.form, []*http.Cookie{a}, tt.hdr...); resp.StatusCode != http.StatusForbidden {
			t.Errorf("sign-out %s: %d, want 403", tt.name, resp.StatusCode)
		}
	}
	if rows, _ := d.sessions(); rows != 2 {
		t.Fatalf("a refused sign-out ended a session: %d left", rows)
	}
	resp, _ = d.do("POST", "/signout", url.Values{"csrf": {csrf[1]}}, []*http.Cookie{a})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-out: %d", resp.StatusCode)
	}
	if rows, slots := d.sessions(); rows != 1 || slots != 1 {
		t.Fatalf("after sign-out: %d sessions, %d slots", rows, slots)
	}
	if resp, _ := d.do("GET", "/", nil, []*http.Cookie{a}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the signed-out cookie still works: %d", resp.StatusCode)
	}
	// Every browser: b ends, and a third one signed in meanwhile too.
	c := d.signIn()
	resp, _ = d.do("POST", "/signout-all", url.Values{"csrf": {csrfField.FindStringSubmatch(mustBody(d, b))[1]}}, []*http.Cookie{b})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-out everywhere: %d", resp.StatusCode)
	}
	if rows, slots := d.sessions(); rows != 0 || slots != 0 {
		t.Fatalf("after signing out everywhere: %d sessions, %d slots", rows, slots)
	}
	if resp, _ := d.do("GET", "/", nil, []*http.Cookie{c}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("another browser's cookie still works: %d", resp.StatusCode)
	}
	// DAV is where it was: a PROPFIND of / is DAV's, not the dashboard's.
	if resp, _ := d.do("PROPFIND", "/", nil, nil); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("PROPFIND /: %d, want DAV's 401", resp.StatusCode)
	}
}

// TestDashboardCookieUnderTLS: behind TLS the cookies are Secure and
// __Host- prefixed, so no other host or path can set or read them.
func TestDashboardCookieUnderTLS(t *testing.T) {
	d := newDashRig(t, dashRigOptions{Secure: true})
	resp, _ := d.do("GET", "/signin", nil, nil)
	cs := resp.Cookies()
	if len(cs) != 1 || cs[0].Name != "__Host-coffer_form" || !cs[0].Secure || !cs[0].HttpOnly || cs[0].SameSite != http.SameSiteStrictMode || cs[0].Path != "/" || cs[0].Domain != "" {
		t.Fatalf("form cookie under TLS: %+v", cs)
	}
	s := d.signIn()
	if s.Name != "__Host-coffer_session" || !s.Secure {
		t.Fatalf("session cookie under TLS: %+v", s)
	}
}

// newAppPassword signs username in with password and makes an app password
// labelled label; it returns the sign-in and the app password's secret.
func newAppPassword(t *testing.T, a *app, username, password, label string) (*auth.Identity, string) {
	t.Helper()
	id, err := a.auth.Login(context.Background(), username, password)
	if err != nil {
		t.Fatal(err)
	}
	_, secret, err := a.auth.CreateAppPassword(context.Background(), id, label)
	if err != nil {
		t.Fatal(err)
	}
	return id, secret
}

// mustBody returns the signed-in home page of a session cookie.
func mustBody(d *dashRig, c *http.Cookie) string {
	d.t.Helper()
	resp, body := d.do("GET", "/", nil, []*http.Cookie{c})
	if resp.StatusCode != 200 {
		d.t.Fatalf("home: %d", resp.StatusCode)
	}
	return body
}
