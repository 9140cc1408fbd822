package integration_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

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
		chromedp.Click(`button[type=submit]`),
		chromedp.WaitVisible(`form[action="/signout"]`),
	); err != nil {
		t.Fatal(err)
	}
	text, err := chromedp.Run(ctx, chromedp.Text(`main`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text, "signed in as "+s.User) {
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
