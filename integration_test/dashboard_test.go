package integration_test

import (
	"archive/zip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/coffer-dav/coffer/encryption/webpush"
	"github.com/coffer-dav/coffer/push/pushtest"
)

// dashFlow is one person's visit to the dashboard of a real server, in
// headless Chromium, with the mailbox that receives the server's mail.
type dashFlow struct {
	ctx context.Context
	s   *server
	box *mailbox
}

// stepTimeout bounds one browser action: a missing element fails the step
// after this long, naming the element and the page.
const stepTimeout = 20 * time.Second

// The links the server mails, and a number in a page's text.
var (
	confirmLink      = regexp.MustCompile(`https?://[^\s<>"]+/confirm\?u=[^\s<>"]+&t=[^\s<>"]+`)
	emailConfirmLink = regexp.MustCompile(`https?://[^\s<>"]+/email/confirm\?t=[^\s<>"]+`)
	number           = regexp.MustCompile(`\d+`)
)

// smallTargets lists the controls of the page lower than 44px, the
// smallest target a finger hits reliably (WCAG 2.5.5).
const smallTargets = `Array.from(document.querySelectorAll('nav a, button, input:not([type=hidden]):not([type=checkbox]):not([type=radio]), select'))
	.filter(el => el.getClientRects().length > 0 && el.getBoundingClientRect().height < 43.5)
	.map(el => (el.id ? '#' + el.id : el.tagName.toLowerCase()) + ' ' + Math.round(el.getBoundingClientRect().height) + 'px')
	.join(', ')`

// TestDashboardInABrowser signs in to the real binary's dashboard in
// headless Chromium as a person would, checks the sign-in page and the
// account page for content wider than a phone or a laptop screen and for
// serious accessibility findings, and signs out again.
func TestDashboardInABrowser(t *testing.T) {
	ctx := newBrowser(t)
	s := startServer(t, "")
	location := func(after ...chromedp.Action[chromedp.Void]) string {
		t.Helper()
		if err := chromedp.Do(ctx, after...); err != nil {
			t.Fatal(err)
		}
		url, err := chromedp.Run(ctx, chromedp.Location())
		if err != nil {
			t.Fatal(err)
		}
		return url
	}
	if url := location(chromedp.Navigate(s.URL), chromedp.WaitVisible(`#username`)); url != s.URL+"signin" {
		t.Fatalf("a signed-out browser at / is at %s, want the sign-in page", url)
	}
	checkNoOverflow(t, ctx, s.URL+"signin")
	runAxe(t, ctx, s.URL+"signin")
	screenshot(t, ctx, "signin")

	if err := chromedp.Do(ctx,
		chromedp.Navigate(s.URL+"signin"),
		chromedp.SendKeys(`#username`, s.User),
		chromedp.SendKeys(`#password`, s.Password),
		chromedp.Click(`form[action="/signin"] button[type=submit]`),
		chromedp.WaitVisible(`form[action="/signout"]`),
	); err != nil {
		t.Fatal(err)
	}
	text, err := chromedp.Run(ctx, chromedp.Text(`body`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text, "Signed in as "+s.User) {
		t.Fatalf("the account page says %q", text)
	}
	checkNoOverflow(t, ctx, s.URL)
	runAxe(t, ctx, s.URL)
	screenshot(t, ctx, "account")

	url := location(
		chromedp.Navigate(s.URL),
		chromedp.Click(`form[action="/signout"] button`),
		chromedp.WaitVisible(`#username`),
		chromedp.Navigate(s.URL),
		chromedp.WaitVisible(`#username`),
	)
	if url != s.URL+"signin" {
		t.Fatalf("after signing out, / is at %s, want the sign-in page", url)
	}
}

// TestDashboardAcceptance is issue 14's acceptance 1 and 2 on the real
// binary, in headless Chromium, as a person would do it: sign up, follow the
// link in the confirmation mail, sign in, make an app password and sync with
// it over DAV, see the event counted on the overview, read the
// notifications, download the export and check its contents, change the
// e-mail address and confirm it, change the password and sign in with the
// new one, connect DAVx5 with a QR code, see a device's push subscription
// on the overview (its push service's host only) and remove it, read a page
// in German, erase the account, and fail to sign in afterwards. Every page it visits is checked at
// 360×640 and 1280×800 for content wider than the screen, and by axe-core
// for serious or critical findings, and is saved as a screenshot. Each step
// is a subtest; a failed step stops the steps that depend on it.
func TestDashboardAcceptance(t *testing.T) {
	ctx := newBrowser(t)
	box := startMailbox(t)
	s := startServerWith(t, "",
		"--signup", "on", "--lifecycle", "on",
		"--smtp-addr", box.addr, "--smtp-tls", "none", "--smtp-from", "calendars@example.org",
		"--service-name", "Example Calendars", "--support-email", "help@example.org",
		"--terms-url", "https://example.org/terms", "--privacy-url", "https://example.org/privacy",
		"--shop-url", "https://shop.example/",
		"--access-log", filepath.Join(t.TempDir(), "access"),
		"--push", "on", "--push-allow-loopback")
	f := &dashFlow{ctx: ctx, s: s, box: box}

	const (
		user     = "erika"
		name     = "Erika Mustermann"
		email    = "erika@example.org"
		newEmail = "erika.mustermann@example.net"
		password = "a long and quiet river at dusk"
		newPass  = "seven green parrots on a fence"
	)
	for _, v := range []string{name, email, newEmail, password, newPass} {
		secrets.add(v)
	}
	var appPassword, counted string
	var events int // the entries /notifications shows
	calendar := "/dav/calendars/" + user + "/calendar/"
	ev := event("dashboard-acceptance-1", "Dentist at nine")

	step := func(name string, fn func(t *testing.T)) {
		t.Helper()
		skipped := false
		if !t.Run(name, func(t *testing.T) {
			defer func() { skipped = t.Skipped() }()
			fn(t)
		}) {
			t.Fatalf("step %q failed; the steps after it depend on it", name)
		}
		if skipped {
			t.Skipf("step %q skipped; the steps after it depend on it", name)
		}
	}

	step("signup", func(t *testing.T) {
		f.open(t, "/signup")
		f.check(t, "signup")
		f.fill(t, "#username", user)
		f.fill(t, "#display_name", name)
		f.fill(t, "#email", email)
		f.fill(t, "#password", password)
		f.fill(t, "#password2", password)
		f.press(t, "#signup-submit")
		f.check(t, "signup-sent")
	})
	step("confirm", func(t *testing.T) {
		link := f.mail(t, email, confirmLink)
		f.openURL(t, link)
		f.check(t, "confirm")
		f.press(t, "#confirm-submit")
		f.check(t, "confirmed")
	})
	step("signin", func(t *testing.T) {
		f.signIn(t, user, password, true)
		if got := f.location(t); got != s.URL {
			t.Fatalf("after signing in the browser is at %s, want the overview %s", got, s.URL)
		}
	})
	step("overview-before", func(t *testing.T) {
		f.open(t, "/")
		counted = f.text(t, ".cards")
		if n := f.count(t, ".collection"); n < 3 {
			t.Errorf("the overview shows %d .collection cards, want the calendar, the task list and the address book", n)
		}
		if n := f.count(t, `a[href^="https://shop.example/"]`); n == 0 {
			t.Errorf("the overview has no link to the shop (--shop-url https://shop.example/)")
		}
	})
	step("app-password", func(t *testing.T) {
		f.open(t, "/app-passwords")
		f.check(t, "app-passwords")
		f.fill(t, "#label", "Laptop")
		f.press(t, "#apppassword-create")
		appPassword = strings.TrimSpace(f.text(t, "#new-secret"))
		if len(appPassword) < 16 {
			t.Fatalf("#new-secret holds %q, want an app password", appPassword)
		}
		secrets.add(appPassword)
		f.check(t, "app-password-new")
	})
	step("dav-sync", func(t *testing.T) {
		c := s.client(t, user, appPassword)
		assertMultistatus(t, c.must(207, "PROPFIND", "/dav/calendars/"+user+"/", `<propfind xmlns="DAV:"><prop><resourcetype/><displayname/></prop></propfind>`, "Depth", "1"))
		sync := func(token string) (string, []xresponse) {
			t.Helper()
			rs := c.must(207, "REPORT", calendar, fmt.Sprintf(davx5SyncCollection, token), "Depth", "1", "Content-Type", "application/xml; charset=utf-8")
			root := parseXNode(t, rs.Body)
			tok := root.child(nsD, "sync-token")
			if tok == nil || tok.trimmed() == "" {
				t.Fatalf("sync-collection on %s answered no sync-token:\n%s", calendar, rs.Body)
			}
			return tok.trimmed(), xresponses(t, rs.Body)
		}
		token, _ := sync("")
		c.must(201, "PUT", calendar+"dentist.ics", ev, "Content-Type", "text/calendar; charset=utf-8")
		next, rs := sync(token)
		if next == token {
			t.Errorf("the sync token stayed %s after a PUT", token)
		}
		mustHref(t, rs, calendar+"dentist.ics")
	})
	step("overview", func(t *testing.T) {
		f.open(t, "/")
		f.check(t, "overview")
		after := f.text(t, ".cards")
		if !oneMore(counted, after) {
			t.Errorf("the overview's cards do not count the event: before the PUT %q, after %q; want one number one higher", counted, after)
		}
	})
	step("notifications", func(t *testing.T) {
		f.open(t, "/notifications")
		f.check(t, "notifications")
		if events = f.count(t, ".event"); events < 2 {
			t.Errorf("/notifications shows %d .event entries, want at least the confirmed address and the trial's start", events)
		}
	})
	step("export", func(t *testing.T) {
		f.open(t, "/data")
		f.check(t, "data")
		zr := f.download(t, "#export-download")
		files := map[string]string{}
		for _, zf := range zr.File {
			rc, err := zf.Open()
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(rc)
			rc.Close()
			if err != nil {
				t.Fatalf("reading %s in the export: %v", zf.Name, err)
			}
			files[zf.Name] = string(b)
		}
		var manifest struct {
			Format      string `json:"format"`
			Collections []struct {
				Home, Name, Kind string
				Objects          []struct{ Name string }
			} `json:"collections"`
		}
		if err := json.Unmarshal([]byte(files["collections.json"]), &manifest); err != nil || manifest.Format != "coffer-export" {
			t.Fatalf("the export's collections.json is not a coffer-export manifest (%v): %.300q", err, files["collections.json"])
		}
		var listed bool
		for _, c := range manifest.Collections {
			for _, o := range c.Objects {
				listed = listed || (c.Name == "calendar" && o.Name == "dentist.ics")
			}
		}
		if !listed {
			t.Errorf("the manifest does not list calendar/dentist.ics: %+v", manifest.Collections)
		}
		var found bool
		for _, body := range files {
			found = found || strings.Contains(body, ev)
		}
		if !found {
			t.Errorf("no file of the export holds the event as it was PUT; files: %v", slices.Sorted(maps.Keys(files)))
		}
		var history []json.RawMessage
		if err := json.Unmarshal([]byte(files["notifications.json"]), &history); err != nil || len(history) != events {
			t.Errorf("the export's notifications.json holds %d entries (%v), /notifications showed %d", len(history), err, events)
		}
		var acct struct{ Username, Email string }
		if err := json.Unmarshal([]byte(files["account.json"]), &acct); err != nil || acct.Username != user || acct.Email != email {
			t.Errorf("the export's account.json: %v %+v, want %s <%s>", err, acct, user, email)
		}
	})
	step("email-change", func(t *testing.T) {
		f.open(t, "/settings")
		f.check(t, "settings")
		f.fill(t, "#email", newEmail)
		f.press(t, "#email-submit")
		f.check(t, "email-sent")
		link := f.mail(t, newEmail, emailConfirmLink)
		f.openURL(t, link)
		f.check(t, "email-confirm")
		f.press(t, "#email-confirm-submit")
		f.check(t, "email-confirmed")
		f.open(t, "/settings")
		if main := f.text(t, "main"); !strings.Contains(main, newEmail) || strings.Contains(main, email) {
			t.Errorf("after the confirmation /settings should name %s and no longer %s; it says %q", newEmail, email, main)
		}
	})
	step("password-change", func(t *testing.T) {
		f.open(t, "/settings")
		f.fill(t, "#current_password", password)
		f.fill(t, "#new_password", newPass)
		f.fill(t, "#new_password2", newPass)
		f.press(t, "#password-submit")
		f.check(t, "password-changed")
		if f.count(t, `form[action="/signout"]`) > 0 { // a change may also end this session
			f.signOut(t)
		}
		f.signIn(t, user, password, false) // the old one no longer works
		f.signIn(t, user, newPass, true)
	})
	step("devices", func(t *testing.T) {
		f.open(t, "/devices")
		f.check(t, "devices")
		f.fill(t, "#client", "davx5")
		f.fill(t, "#label", "Phone")
		f.press(t, "#device-create")
		if n := f.count(t, "#davx5-qr svg"); n != 1 {
			t.Errorf("after connecting DAVx5, #davx5-qr holds %d svg elements, want the QR code", n)
		}
		f.check(t, "devices-davx5")
	})
	step("push", func(t *testing.T) {
		key, err := webpush.LoadVAPIDKey(filepath.Join(s.data, "vapid.key"))
		noErr(t, err)
		svc := pushtest.New(key.PublicKey())
		t.Cleanup(svc.Close)
		sub := svc.Subscribe()
		secrets.add(sub.Endpoint)
		c := s.client(t, user, appPassword)
		res := c.must(201, "POST", calendar, pushRegisterBody(sub), davx5("Content-Type", "application/xml; charset=utf-8")...)
		loc := res.Header.Get("Location")
		f.open(t, "/")
		if row := f.text(t, "tr.push"); !strings.Contains(row, "127.0.0.1") {
			t.Errorf("the overview's push row reads %q, want the push service's host 127.0.0.1", row)
		}
		if page := f.evaluate(t, `document.documentElement.outerHTML`); strings.Contains(page, sub.Endpoint[strings.LastIndex(sub.Endpoint, "/"):]) {
			t.Errorf("the overview shows the push resource %s", sub.Endpoint)
		}
		f.check(t, "overview-push")
		f.press(t, `tr.push button[type="submit"]`)
		f.check(t, "push-removed")
		if n := f.count(t, "tr.push"); n != 0 {
			t.Errorf("after removing the one push subscription the overview lists %d", n)
		}
		c.must(404, "DELETE", loc[strings.Index(loc, "/dav/push/"):], "", davx5()...)
	})
	step("german", func(t *testing.T) {
		f.language(t, "de")
		defer f.language(t, "")
		f.open(t, "/")
		if lang := f.evaluate(t, `document.documentElement.lang`); lang != "de" {
			t.Errorf("with Accept-Language de the overview's <html lang> is %q", lang)
		}
		if text := f.text(t, "nav"); !strings.Contains(text, "Übersicht") || !strings.Contains(text, "Deine Daten") {
			t.Errorf("with Accept-Language de the navigation reads %q, want Übersicht and Deine Daten", text)
		}
		f.check(t, "overview-de")
	})
	step("erase", func(t *testing.T) {
		f.open(t, "/data")
		f.fill(t, "#erase_username", user)
		f.fill(t, "#erase_password", newPass)
		f.press(t, "#erase-submit")
		f.check(t, "erased")
		f.signIn(t, user, newPass, false)
		s.client(t, user, appPassword).must(401, "PROPFIND", "/dav/calendars/"+user+"/", "", "Depth", "0")
	})
}

// within runs actions with the step's timeout, and names the step's page when they fail.
func (f *dashFlow) within(t *testing.T, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(f.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("not done within %v (is the element missing?)", stepTimeout)
		}
		t.Fatalf("on %s: %s: %v", f.location(t), what, err)
	}
}

// location is the address the browser shows.
func (f *dashFlow) location(t *testing.T) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(f.ctx, stepTimeout)
	defer cancel()
	u, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		return "(unknown page: " + err.Error() + ")"
	}
	return u
}

// open loads a path of the dashboard and fails unless it answers 200.
func (f *dashFlow) open(t *testing.T, path string) {
	t.Helper()
	f.openURL(t, f.s.URL+strings.TrimPrefix(path, "/"))
}

// openURL loads a URL, following redirects, and fails unless the page it ends on answered 200.
func (f *dashFlow) openURL(t *testing.T, u string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(f.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(u)); err != nil {
		t.Fatalf("loading %s: %v", u, err)
	}
	f.answered(t, "GET "+u)
}

// answered fails the step when the page the browser shows answered other
// than 200, or shows an error box, with the page's address and its text.
func (f *dashFlow) answered(t *testing.T, what string) {
	t.Helper()
	status := f.evaluate(t, `String(performance.getEntriesByType('navigation')[0]?.responseStatus ?? 0)`)
	errText := f.evaluate(t, `document.querySelector('.error')?.innerText ?? ''`)
	if status != "200" || errText != "" {
		main := f.evaluate(t, `(document.querySelector('main') ?? document.body)?.innerText ?? ''`)
		t.Fatalf("%s: the browser is at %s, answered %s, error %q; the page says %.300q", what, f.location(t), status, errText, main)
	}
}

// fill sets a form field: types into an input, or picks a select's option by value.
func (f *dashFlow) fill(t *testing.T, sel, value string) {
	t.Helper()
	f.within(t, "finding "+sel, chromedp.WaitVisible(chromedp.CSS(sel)))
	q := `document.querySelector(` + strconv.Quote(sel) + `)`
	if f.evaluate(t, q+`.tagName`) == "SELECT" {
		f.evaluate(t, `(() => { const s = `+q+`; s.value = `+strconv.Quote(value)+`; s.dispatchEvent(new Event('change', {bubbles: true})); return ''; })()`)
		if got := f.value(t, sel); got != value {
			t.Fatalf("on %s: %s has no option %q", f.location(t), sel, value)
		}
		return
	}
	f.evaluate(t, q+`.value = ''; ''`)
	f.within(t, "typing into "+sel, chromedp.SendKeys(chromedp.CSS(sel), value))
	if got := f.value(t, sel); got != value {
		t.Fatalf("on %s: %s holds %q after typing, want %q", f.location(t), sel, got, value)
	}
}

// press clicks a button that submits a form, waits for the answer to load,
// and fails unless it answered 200 without an error box.
func (f *dashFlow) press(t *testing.T, sel string) {
	t.Helper()
	before := f.location(t)
	f.evaluate(t, `window.cofferBefore = true; ''`)
	f.within(t, "pressing "+sel, chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.Click(chromedp.CSS(sel)))
	f.waitLoaded(t, "pressing "+sel+" on "+before)
	f.answered(t, "pressing "+sel+" on "+before)
}

// waitLoaded waits until the browser shows a new document, completely loaded.
func (f *dashFlow) waitLoaded(t *testing.T, what string) {
	t.Helper()
	deadline := time.Now().Add(stepTimeout)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(f.ctx, 2*time.Second)
		done, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`!window.cofferBefore && document.readyState === 'complete'`))
		cancel()
		if err == nil && done {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s: no new page loaded within %v; the browser is at %s", what, stepTimeout, f.location(t))
}

// evaluate runs a script that returns a string, on the page the browser shows.
func (f *dashFlow) evaluate(t *testing.T, script string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(f.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[string](script))
	if err != nil {
		t.Fatalf("on %s: running %.60q: %v", f.location(t), script, err)
	}
	return v
}

// text is the visible text of the first element sel matches; it fails when there is none.
func (f *dashFlow) text(t *testing.T, sel string) string {
	t.Helper()
	if f.count(t, sel) == 0 {
		t.Fatalf("on %s: no element %s", f.location(t), sel)
	}
	return f.evaluate(t, `document.querySelector(`+strconv.Quote(sel)+`).innerText`)
}

// value is the value of the form field sel.
func (f *dashFlow) value(t *testing.T, sel string) string {
	t.Helper()
	if f.count(t, sel) == 0 {
		t.Fatalf("on %s: no form field %s", f.location(t), sel)
	}
	return f.evaluate(t, `document.querySelector(`+strconv.Quote(sel)+`).value`)
}

// count is how many elements sel matches.
func (f *dashFlow) count(t *testing.T, sel string) int {
	t.Helper()
	n, err := strconv.Atoi(f.evaluate(t, `String(document.querySelectorAll(`+strconv.Quote(sel)+`).length)`))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// check runs acceptance 2 on the page the browser shows, as it is (the
// answer to a form too): a screenshot, no content wider than 360×640 or
// 1280×800, no serious or critical axe finding, in the light and the dark
// colour scheme.
func (f *dashFlow) check(t *testing.T, name string) {
	t.Helper()
	screenshot(t, f.ctx, name)
	checkNoOverflow(t, f.ctx, "")
	if small := f.evaluate(t, smallTargets); small != "" {
		t.Errorf("on %s: touch targets under 44px high: %s", f.location(t), small)
	}
	runAxe(t, f.ctx, "")
	f.scheme(t, "dark")
	defer f.scheme(t, "")
	runAxe(t, f.ctx, "")
}

// scheme makes the browser prefer a colour scheme ("" for its own).
func (f *dashFlow) scheme(t *testing.T, s string) {
	t.Helper()
	var features []*emulation.MediaFeature
	if s != "" {
		features = []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: s}}
	}
	if _, err := chromedp.Call(f.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Features: features}); err != nil {
		t.Fatalf("emulating the %q colour scheme: %v", s, err)
	}
}

// signIn signs in on /signin; with ok it expects the overview, else a refusal.
func (f *dashFlow) signIn(t *testing.T, user, password string, ok bool) {
	t.Helper()
	f.open(t, "/signin")
	f.check(t, "signin")
	f.fill(t, "#username", user)
	f.fill(t, "#password", password)
	f.evaluate(t, `window.cofferBefore = true; ''`)
	f.within(t, "pressing the sign-in button", chromedp.Click(chromedp.CSS(`form[action="/signin"] button[type=submit]`)))
	f.waitLoaded(t, "signing in as "+user)
	signedIn := f.count(t, `form[action="/signout"]`) > 0
	switch {
	case ok && !signedIn:
		t.Fatalf("signing in as %s failed: the browser is at %s, which says %.300q", user, f.location(t), f.text(t, "main"))
	case !ok && signedIn:
		t.Fatalf("signing in as %s worked; it should have been refused", user)
	case !ok && f.count(t, ".error") == 0:
		t.Errorf("a refused sign-in as %s shows no .error box: %.300q", user, f.text(t, "main"))
	}
}

// signOut presses the navigation's sign-out button.
func (f *dashFlow) signOut(t *testing.T) {
	t.Helper()
	f.evaluate(t, `window.cofferBefore = true; ''`)
	f.within(t, "pressing sign-out", chromedp.Click(chromedp.CSS(`form[action="/signout"] button`)))
	f.waitLoaded(t, "signing out")
	if f.count(t, `#username`) == 0 {
		t.Fatalf("after signing out the browser is at %s, not the sign-in form", f.location(t))
	}
}

// mail waits for a mail to an address with a link that re matches, and returns the link.
func (f *dashFlow) mail(t *testing.T, to string, re *regexp.Regexp) string {
	t.Helper()
	var seen []string
	for deadline := time.Now().Add(stepTimeout); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		f.box.mu.Lock()
		got := slices.Clone(f.box.got)
		f.box.mu.Unlock()
		seen = seen[:0]
		for _, m := range got {
			seen = append(seen, m.to+": "+m.subject)
			if m.to != to {
				continue
			}
			if link := re.FindString(m.body); link != "" {
				if u, err := url.Parse(link); err == nil {
					for _, vs := range u.Query() {
						for _, v := range vs {
							secrets.add(v) // the token
						}
					}
				}
				return link
			}
		}
	}
	t.Fatalf("no mail to %s with a link like %s arrived within %v; mails: %q", to, re, stepTimeout, seen)
	return ""
}

// download presses a button whose answer is a file, waits for the file and opens it as a zip.
func (f *dashFlow) download(t *testing.T, sel string) *zip.Reader {
	t.Helper()
	dir := t.TempDir()
	events := true
	if _, err := chromedp.CallBrowser(f.ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dir, EventsEnabled: &events,
	}); err != nil {
		t.Fatalf("allowing downloads: %v", err)
	}
	page := f.location(t)
	f.within(t, "pressing "+sel, chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.Click(chromedp.CSS(sel)))
	var file string
	for deadline := time.Now().Add(stepTimeout); file == "" && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		names, _ := filepath.Glob(filepath.Join(dir, "*"))
		for _, n := range names {
			if !strings.HasSuffix(n, ".crdownload") {
				file = n
			}
		}
	}
	if file == "" {
		t.Fatalf("pressing %s on %s downloaded no file within %v", sel, page, stepTimeout)
	}
	if !strings.HasSuffix(file, ".zip") {
		t.Errorf("the export downloaded as %s, want a .zip name", filepath.Base(file))
	}
	zf, err := zip.OpenReader(file)
	if err != nil {
		b, _ := os.ReadFile(file)
		t.Fatalf("the download %s is no zip: %v; it starts %.200q", filepath.Base(file), err, b)
	}
	t.Cleanup(func() { zf.Close() })
	return &zf.Reader
}

// language makes the browser ask for pages in a language ("" for its own).
func (f *dashFlow) language(t *testing.T, tag string) {
	t.Helper()
	h := network.Headers{}
	if tag != "" {
		h["Accept-Language"] = tag
	}
	if _, err := chromedp.Call(f.ctx, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: h}); err != nil {
		t.Fatalf("setting Accept-Language %q: %v", tag, err)
	}
}

// oneMore reports whether after holds as many numbers as before, one of
// them one higher (a count; a size in bytes beside it may change too).
func oneMore(before, after string) bool {
	b, a := number.FindAllString(before, -1), number.FindAllString(after, -1)
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, _ := strconv.Atoi(b[i])
		y, _ := strconv.Atoi(a[i])
		if y == x+1 {
			return true
		}
	}
	return false
}
