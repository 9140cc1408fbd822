package integration_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// styleSample is a page with every class the dashboard's pages use, at
// their worst: a long service name, a secret, URLs and code without a place
// to break, a table wider than a phone, and many collections. It follows
// the layout of web/templates/layout.html.
const styleSample = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>Sample</title><link rel="stylesheet" href="/static/style.css"></head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header><div class="bar"><p class="brand"><a href="/">Calendars-and-contacts-of-the-Example-Cooperative</a></p>
<form method="post" action="/signout" class="inline"><input type="hidden" name="csrf" value="x"><button type="submit">Sign out</button></form></div>
<nav aria-label="Account"><ul>
<li><a href="/" aria-current="page">Overview</a></li>
<li><a href="/devices">Connect a device</a></li>
<li><a href="/app-passwords">App passwords</a></li>
<li><a href="/notifications">Notifications</a></li>
<li><a href="/settings">Settings</a></li>
<li><a href="/data">Your data</a></li>
</ul></nav></header>
<main id="main">
<p role="alert" class="error">That username and password do not match. <a href="/resend">Send the link again</a></p>
<p role="status" class="notice">Your new address takes effect once you follow the link we sent to averyveryveryverylongaddressthatdoesnotbreak@subdomain.example-cooperative.org.</p>
<h1>Your account, Maximilian-Alexander-Wolfeschlegelsteinhausenberger</h1>
<p>Your trial ends on 14 January 2027. <a href="https://shop.example/buy?plan=basic&amp;account=maximilianalexanderwolfeschlegelsteinhausenberger">Buy a subscription</a></p>
<p class="hint">To sync, enter this URL: <code>https://dav.example-cooperative.org/dav/principals/maximilianalexanderwolfeschlegelsteinhausenberger/</code></p>
<p>Your new app password, shown only once:</p>
<p class="secret" id="new-secret">abcd-efgh-ijkl-mnop-qrst-uvwx-yz01-2345-6789-abcd-efgh</p>
<pre><code>BEGIN:VCALENDAR;VERSION:2.0;PRODID:-//Example//Coffer//EN;BEGIN:VEVENT;UID:0123456789abcdef0123456789abcdef@example.org</code></pre>
<ul class="cards">
<li class="collection"><h2><svg class="swatch" viewBox="0 0 1 1" aria-hidden="true"><rect width="1" height="1" fill="#3a87ad"></rect></svg> Calendar</h2><p>12 events</p></li>
<li class="collection"><h2><svg class="swatch" viewBox="0 0 1 1" aria-hidden="true"><rect width="1" height="1" fill="#d1b200"></rect></svg> Tasks-of-the-whole-long-named-family-and-friends</h2><p>3 tasks</p></li>
<li class="collection"><h2><span class="swatch"><svg viewBox="0 0 1 1" aria-hidden="true"><rect width="1" height="1" fill="#6b3"></rect></svg></span> Contacts</h2><p>250 contacts</p></li>
</ul>
<div class="table"><table><caption>App passwords</caption>
<thead><tr><th scope="col">Label</th><th scope="col">Created</th><th scope="col">Last used</th><th scope="col">From</th><th scope="col">Revoke</th></tr></thead>
<tbody><tr><td>Phone of Maximilian</td><td>14 January 2027</td><td>15 January 2027</td><td>DAVx5/4.4.3-ose (2024/10/07; dav4jvm; okhttp/4.12.0) Android/14</td>
<td><form method="post" action="/app-passwords/revoke" class="inline"><input type="hidden" name="csrf" value="x"><button type="submit" class="danger">Revoke</button></form></td></tr></tbody>
</table></div>
<ul class="events"><li class="event"><strong>14 January 2027</strong> Trial started</li><li class="event"><strong>15 January 2027</strong> E-mail address changed</li></ul>
<form method="post" action="/settings/email">
<input type="hidden" name="csrf" value="x">
<p><label for="email">E-mail address</label><input id="email" name="email" type="email" value="averyveryveryverylongaddressthatdoesnotbreak@subdomain.example-cooperative.org"></p>
<p class="hint" id="email-hint">We send a link to the new address.</p>
<p><label for="client">Client</label><select id="client" name="client"><option>DAVx5</option><option>iOS and macOS</option></select></p>
<p><label><input type="checkbox" name="sure"> I understand</label></p>
<p><button type="submit">Change the address</button> <button type="submit" class="danger">Erase my account and all its data</button></p>
</form>
</main>
<footer><p>Signed in as maximilianalexanderwolfeschlegelsteinhausenberger. Help: <a href="mailto:support@example-cooperative.org">support@example-cooperative.org</a></p>
<p><a href="https://example.org/terms">Terms of service</a> <a href="https://example.org/privacy">Privacy notice</a></p></footer>
</body></html>`

// TestDashboardStylesheet lays a page with every class of the dashboard out
// under the stylesheet the real binary serves, in the light and the dark
// scheme: nothing wider than a 360px phone, no serious accessibility
// finding (contrast among them), and a visible focus ring.
func TestDashboardStylesheet(t *testing.T) {
	ctx := newBrowser(t)
	s := startServer(t, "")
	css := s.client(t, "", "").must(200, "GET", "/static/style.css", "")
	if ct := css.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/css") {
		t.Fatalf("/static/style.css: Content-Type %q", ct)
	}
	for _, banned := range []string{"@import", "url(", "@font-face", "http:", "https:"} {
		if strings.Contains(css.Body, banned) {
			t.Errorf("the stylesheet holds %q: it must load nothing, from this host or another", banned)
		}
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", toolkitCSP)
		switch r.URL.Path {
		case "/static/style.css":
			w.Header().Set("Content-Type", "text/css; charset=utf-8")
			w.Write([]byte(css.Body))
		case "/sample":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write([]byte(styleSample))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	page := srv.URL + "/sample"
	for _, scheme := range []string{"light", "dark"} {
		t.Run(scheme, func(t *testing.T) {
			if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}}); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{})
			})
			checkNoOverflow(t, ctx, page)
			runAxe(t, ctx, page)
			// The scheme took effect: the page's background follows it.
			bg, err := chromedp.Run(ctx, chromedp.Evaluate[string](`getComputedStyle(document.body).backgroundColor`))
			if err != nil {
				t.Fatal(err)
			}
			if dark := bg == "rgb(21, 23, 26)"; dark != (scheme == "dark") {
				t.Errorf("in the %s scheme the background is %s", scheme, bg)
			}
			// Keyboard focus shows a ring: Tab reaches the skip link, then the brand.
			for _, sel := range []string{".skip", ".brand a"} {
				if err := chromedp.Do(ctx, chromedp.KeyEvent(kb.Tab)); err != nil {
					t.Fatal(err)
				}
				ring, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => {
					const el = document.activeElement;
					const st = getComputedStyle(el);
					return (el.matches(`+"`"+sel+"`"+`) ? '' : 'focus on ' + el.outerHTML.slice(0, 60) + ': ') + st.outlineStyle + ' ' + st.outlineWidth;
				})()`))
				if err != nil {
					t.Fatal(err)
				}
				if ring != "solid 3px" {
					t.Errorf("%s scheme: %s focused by Tab shows outline %q, want a solid 3px ring", scheme, sel, ring)
				}
			}
			// Touch targets: every link in the navigation and every button is at least 44px high.
			small, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('nav a, button, input:not([type=hidden]):not([type=checkbox]), select'))
				.filter(el => el.getBoundingClientRect().height < 43.5)
				.map(el => el.tagName.toLowerCase() + ' ' + el.textContent.trim() + ' ' + el.getBoundingClientRect().height + 'px')`))
			if err != nil {
				t.Fatal(err)
			}
			if len(small) > 0 {
				t.Errorf("%s scheme: touch targets under 44px: %q", scheme, small)
			}
			if _, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](`document.activeElement.blur()`)); err != nil {
				t.Fatal(err)
			}
			screenshot(t, ctx, "style-"+scheme)
			if err := chromedp.Do(ctx, chromedp.EmulateViewport(360, 640)); err != nil {
				t.Fatal(err)
			}
			screenshot(t, ctx, "style-"+scheme+"-phone")
			if _, err := chromedp.Call(ctx, emulation.ClearDeviceMetricsOverride, cdp.Empty{}); err != nil {
				t.Fatal(err)
			}
		})
	}
}
