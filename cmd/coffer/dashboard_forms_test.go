package main

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/coffer-dav/coffer/web"
)

// formTag finds every form of a page, with what lies up to its end.
var formTag = regexp.MustCompile(`(?s)<form\b([^>]*)>(.*?)</form>`)

// TestDashboardEveryFormCarriesItsToken: every form on every page, signed
// in and signed out, posts to this site and carries the browser's form
// token (the session's when signed in).
func TestDashboardEveryFormCarriesItsToken(t *testing.T) {
	d := newDashRig(t, dashRigOptions{})
	session := d.signIn()
	_, home := d.do("GET", "/", nil, []*http.Cookie{session})
	own := csrfField.FindStringSubmatch(home)
	if own == nil {
		t.Fatal("the overview has no form token")
	}
	forms := 0
	for _, path := range web.Paths {
		for _, signedIn := range []bool{true, false} {
			var cookies []*http.Cookie
			if signedIn {
				cookies = []*http.Cookie{session}
			}
			resp, body := d.do("GET", path+"?u=alice&t=x", nil, cookies)
			if resp.StatusCode >= 500 {
				t.Errorf("GET %s (signed in %v): %d", path, signedIn, resp.StatusCode)
			}
			for _, f := range formTag.FindAllStringSubmatch(body, -1) {
				forms++
				if !strings.Contains(f[1], `method="post"`) {
					t.Errorf("GET %s: a form that does not post: <form%s>", path, f[1])
				}
				if a := regexp.MustCompile(`action="([^"]*)"`).FindStringSubmatch(f[1]); a == nil || !strings.HasPrefix(a[1], "/") || strings.HasPrefix(a[1], "//") {
					t.Errorf("GET %s: a form posting elsewhere: <form%s>", path, f[1])
				}
				tok := csrfField.FindStringSubmatch(f[2])
				switch {
				case tok == nil:
					t.Errorf("GET %s (signed in %v): a form without its token: <form%s>", path, signedIn, f[1])
				case signedIn && tok[1] != own[1]:
					t.Errorf("GET %s: a form with a token that is not the session's", path)
				}
			}
		}
	}
	if forms < 15 {
		t.Fatalf("only %d forms found on the pages: the pattern no longer matches them", forms)
	}
}

// TestDashboardCrossSitePostsChangeNothing: every form the dashboard
// takes, sent from another site with a valid token and session, gets 403
// and changes nothing; the same form sent from the site itself works, so
// the refusal is the origin's doing.
func TestDashboardCrossSitePostsChangeNothing(t *testing.T) {
	d := newDashRig(t, dashRigOptions{})
	session := d.signIn()
	_, home := d.do("GET", "/", nil, []*http.Cookie{session})
	csrf := csrfField.FindStringSubmatch(home)[1]
	forms := map[string]url.Values{
		"/signout":              {},
		"/signout-all":          {},
		"/devices":              {"client": {"davx5"}, "label": {"Phone"}},
		"/app-passwords":        {"label": {"Laptop"}},
		"/app-passwords/revoke": {"id": {"x"}},
		"/settings/name":        {"display_name": {"Mallory"}},
		"/settings/email":       {"email": {"mallory@example.net"}},
		"/settings/password":    {"current_password": {"correct horse battery"}, "new_password": {"mallory's own 2 words"}, "new_password2": {"mallory's own 2 words"}},
		"/settings/recovery":    {"recovery_password": {"correct horse battery"}},
		"/data/export":          {},
		"/data/erase":           {"erase_username": {"alice"}, "erase_password": {"correct horse battery"}},
		"/push/remove":          {"id": {"x"}},
	}
	before := d.snapshot()
	for _, site := range [][]string{
		{"Origin", "https://evil.example"},
		{"Sec-Fetch-Site", "cross-site"},
		{"Origin", "null", "Sec-Fetch-Site", "same-site"},
	} {
		for path, form := range forms {
			form.Set("csrf", csrf)
			resp, body := d.do("POST", path, form, []*http.Cookie{session}, site...)
			if resp.StatusCode != http.StatusForbidden || strings.Contains(resp.Header.Get("Content-Type"), "zip") {
				t.Errorf("POST %s with %v: %d %s, want 403", path, site, resp.StatusCode, resp.Header.Get("Content-Type"))
			}
			if strings.Contains(body, "new-secret") {
				t.Errorf("POST %s with %v showed a secret", path, site)
			}
		}
	}
	if after := d.snapshot(); after != before {
		t.Fatalf("cross-site posts changed the account:\n before %+v\n after  %+v", before, after)
	}
	// The same name change, from the site itself, is taken.
	resp, _ := d.do("POST", "/settings/name", url.Values{"csrf": {csrf}, "display_name": {"Alice A."}}, []*http.Cookie{session}, "Origin", d.srv.URL, "Sec-Fetch-Site", "same-origin")
	if resp.StatusCode != http.StatusSeeOther || d.snapshot().name != "Alice A." {
		t.Fatalf("a same-site name change: %d, name %q", resp.StatusCode, d.snapshot().name)
	}
}

// TestDashboardSharesTheDAVThrottle: wrong passwords sent to DAV slow down
// the dashboard's sign-in from the same address, and the other way round,
// so a guesser gains nothing by switching doors.
func TestDashboardSharesTheDAVThrottle(t *testing.T) {
	for _, first := range []string{"dav", "dashboard"} {
		t.Run(first, func(t *testing.T) {
			d := newDashRig(t, dashRigOptions{})
			throttled := func(door string, password string) (int, string) {
				switch door {
				case "dav":
					req, _ := http.NewRequest("PROPFIND", d.srv.URL+"/dav/", nil)
					req.SetBasicAuth("alice", password)
					req.Header.Set("Depth", "0")
					resp, err := d.c.Do(req)
					if err != nil {
						t.Fatal(err)
					}
					resp.Body.Close()
					return resp.StatusCode, resp.Header.Get("Retry-After")
				default:
					token, cookies := d.form("/signin", nil)
					resp, _ := d.do("POST", "/signin", url.Values{"csrf": {token}, "username": {"alice"}, "password": {password}}, cookies)
					return resp.StatusCode, resp.Header.Get("Retry-After")
				}
			}
			other := map[string]string{"dav": "dashboard", "dashboard": "dav"}[first]
			var status int
			for i := 0; i < 20; i++ {
				if status, _ = throttled(first, "wrong horse battery"); status == http.StatusServiceUnavailable || status == http.StatusTooManyRequests {
					break
				}
			}
			if status != http.StatusServiceUnavailable && status != http.StatusTooManyRequests {
				t.Fatalf("20 wrong passwords on %s: still %d", first, status)
			}
			// The right password, through the other door, waits too.
			status, retry := throttled(other, "correct horse battery")
			if (status != http.StatusServiceUnavailable && status != http.StatusTooManyRequests) || retry == "" {
				t.Fatalf("the right password on %s after guesses on %s: %d, Retry-After %q", other, first, status, retry)
			}
		})
	}
}

// accountState is what a test compares to see that nothing changed.
type accountState struct {
	accounts, sessions, slots, apps int
	name, email                     string
}

// snapshot reads alice's account, sessions, key slots and app passwords.
func (d *dashRig) snapshot() accountState {
	d.t.Helper()
	var s accountState
	s.sessions, s.slots = d.sessions()
	ctx := context.Background()
	n, err := d.a.db.CountAccounts(ctx)
	if err != nil {
		d.t.Fatal(err)
	}
	s.accounts = n
	if a, err := d.a.db.AccountByUsername(ctx, "alice"); err == nil {
		s.name, s.email = a.DisplayName, a.Email
		apps, err := d.a.db.AppPasswords(ctx, a.ID)
		if err != nil {
			d.t.Fatal(err)
		}
		s.apps = len(apps)
	}
	return s
}
