package integration_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// The browser toolkit: a headless Chromium for the web dashboard's tests,
// with checks for horizontal overflow on small and large screens, for
// accessibility with axe-core, and full-page screenshots.

// checkReporter is the part of testing.TB the checks report through, so the self-test can catch it.
type checkReporter interface {
	Helper()
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
	Skipf(format string, args ...any)
}

// checkTimeout bounds one check (navigation and scripts) in the browser.
const checkTimeout = 2 * time.Minute

// overflowViewports are the screens checkNoOverflow lays the page out on: a small phone and a laptop.
var overflowViewports = []struct{ width, height int64 }{{360, 640}, {1280, 800}}

// needBrowserTool skips a test that lacks an external tool, and fails it under CI.
func needBrowserTool(r checkReporter, msg string) {
	r.Helper()
	if os.Getenv("CI") != "" {
		r.Fatalf("%s (CI must run this test; .ci/run installs it)", msg)
	}
	r.Skipf("%s", msg)
}

// newBrowser starts headless chromium, 1280×800 unless opts hold chromedp.WindowSize, for the test's lifetime.
func newBrowser(t *testing.T, opts ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		needBrowserTool(t, "chromium not installed; apt-get install chromium")
	}
	var out lockedBuffer
	all := append([]chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless, // also hides scrollbars, so innerWidth is the viewport's width
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()), // fresh profile, removed after the browser exits
		chromedp.WindowSize(1280, 800),
		chromedp.CombinedOutput(&out),
	}, opts...)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), all...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() {
		// A graceful close, so chromium removes its files in /tmp; then the process is waited for.
		cctx, ccancel := context.WithTimeout(ctx, 10*time.Second)
		defer ccancel()
		if err := chromedp.Cancel(cctx); err != nil && !errors.Is(err, context.Canceled) {
			t.Logf("closing chromium: %v", err)
		}
		cancel()
		cancelAlloc()
	})
	// Start the browser now, on a context without a deadline (one would end the browser).
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting chromium: %v\n%s", err, out.String())
	}
	return ctx
}

// lockedBuffer collects the browser's output, written by another goroutine.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p.
func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything written so far.
func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// overflowScript measures the document against the viewport and names what reaches past its right edge.
const overflowScript = `(() => {
	const vw = window.innerWidth;
	const clipped = el => {
		for (let p = el.parentElement; p && p !== document.body && p !== document.documentElement; p = p.parentElement) {
			if (getComputedStyle(p).overflowX !== 'visible') return true;
		}
		return false;
	};
	const describe = el => {
		let s = el.tagName.toLowerCase();
		if (el.id) s += '#' + el.id;
		for (const c of Array.from(el.classList).slice(0, 3)) s += '.' + c;
		return s;
	};
	const found = [];
	for (const el of document.querySelectorAll('body *')) {
		const r = el.getBoundingClientRect();
		const width = Math.max(r.width, getComputedStyle(el).overflowX === 'visible' ? el.scrollWidth : 0);
		const right = r.left + window.scrollX + width;
		if (right > vw + 0.5 && !clipped(el)) found.push({el, right});
	}
	// An ancestor that reaches only as far as one of its offenders is not itself the cause.
	const causes = found.filter(a => !found.some(b => b !== a && a.el.contains(b.el) && b.right >= a.right - 0.5));
	const offenders = causes.map(({el, right}) => ({
		element: describe(el),
		width: Math.round(Math.max(el.getBoundingClientRect().width, el.scrollWidth)),
		right: Math.round(right),
	}));
	offenders.sort((a, b) => b.width - a.width);
	return {innerWidth: vw, scrollWidth: document.documentElement.scrollWidth, offenders: offenders.slice(0, 5)};
})()`

// overflowReport is what overflowScript returns.
type overflowReport struct {
	InnerWidth  int `json:"innerWidth"`
	ScrollWidth int `json:"scrollWidth"`
	Offenders   []struct {
		Element string `json:"element"`
		Width   int    `json:"width"`
		Right   int    `json:"right"`
	} `json:"offenders"`
}

// checkNoOverflow loads page at 360×640 and 1280×800 and reports each layout
// wider than the viewport. With page "", it lays out the document the browser
// shows (say, the answer to a form) at both sizes without loading it again.
func checkNoOverflow(r checkReporter, ctx context.Context, page string) {
	r.Helper()
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	defer chromedp.Call(ctx, emulation.ClearDeviceMetricsOverride, cdp.Empty{})
	load := []chromedp.Action[chromedp.Void]{chromedp.Navigate(page)}
	if page == "" {
		page, load = currentPage(ctx), nil
	}
	for _, vp := range overflowViewports {
		if err := chromedp.Do(ctx, append([]chromedp.Action[chromedp.Void]{chromedp.EmulateViewport(vp.width, vp.height)}, load...)...); err != nil {
			r.Fatalf("loading %s at %d×%d: %v", page, vp.width, vp.height, err)
		}
		rep, err := chromedp.Run(ctx, chromedp.Evaluate[overflowReport](overflowScript))
		if err != nil {
			r.Fatalf("measuring %s at %d×%d: %v", page, vp.width, vp.height, err)
		}
		if rep.ScrollWidth <= rep.InnerWidth {
			continue
		}
		var names []string
		for _, o := range rep.Offenders {
			names = append(names, fmt.Sprintf("%s %dpx wide, right edge at %dpx", o.Element, o.Width, o.Right))
		}
		if len(names) == 0 {
			names = append(names, "no single element found")
		}
		r.Errorf("%s at %d×%d overflows: the document is %dpx wide in a %dpx viewport; widest: %s",
			page, vp.width, vp.height, rep.ScrollWidth, rep.InnerWidth, strings.Join(names, "; "))
	}
}

// axeFile is where runAxe reads axe.min.js: $COFFER_AXE, else the copy .ci/run installs.
func axeFile() string {
	if p := os.Getenv("COFFER_AXE"); p != "" {
		return p
	}
	p, err := filepath.Abs(filepath.Join("..", ".ci", "node_modules", "axe-core", "axe.min.js")) // tests run in integration_test/
	if err != nil {
		return filepath.Join("..", ".ci", "node_modules", "axe-core", "axe.min.js")
	}
	return p
}

// axeScript runs axe on the document and returns its violations, shortened.
const axeScript = `axe.run(document, {resultTypes: ['violations']}).then(res => res.violations.map(v => ({
	id: v.id,
	impact: v.impact || '',
	help: v.help,
	nodes: v.nodes.length,
	targets: v.nodes.slice(0, 3).map(n => n.target.map(s => Array.isArray(s) ? s.join(' >>> ') : s).join(' | ')),
})))`

// axeViolation is one violated rule, as axeScript returns it.
type axeViolation struct {
	ID      string   `json:"id"`
	Impact  string   `json:"impact"`
	Help    string   `json:"help"`
	Nodes   int      `json:"nodes"`
	Targets []string `json:"targets"`
}

// currentPage names the document the browser shows, for the checks' reports.
func currentPage(ctx context.Context) string {
	u, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		return "the current page"
	}
	return u + " (as shown)"
}

// runAxe loads page (with "", takes the document the browser shows), injects
// the local axe-core and reports every serious or critical violation.
func runAxe(r checkReporter, ctx context.Context, page string) {
	r.Helper()
	path := axeFile()
	src, err := os.ReadFile(path)
	if err != nil {
		needBrowserTool(r, fmt.Sprintf("axe-core not found at %s (%v); run npm install --prefix .ci axe-core@4 at the repo root, or set COFFER_AXE to an axe.min.js", path, err))
		return
	}
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	if page == "" {
		page = currentPage(ctx)
	} else if err := chromedp.Do(ctx, chromedp.Navigate(page)); err != nil {
		r.Fatalf("loading %s: %v", page, err)
	}
	// Runtime.evaluate is not subject to the page's Content-Security-Policy,
	// so the page keeps its real CSP (no Page.setBypassCSP, which would also
	// let inline styles apply and change what is checked).
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](string(src)+"\n;void 0")); err != nil {
		r.Fatalf("injecting %s into %s: %v", path, page, err)
	}
	vs, err := chromedp.Run(ctx, chromedp.Evaluate[[]axeViolation](axeScript, chromedp.EvalAwaitPromise))
	if err != nil {
		r.Fatalf("running axe on %s: %v", page, err)
	}
	var bad []string
	for _, v := range vs {
		if v.Impact == "serious" || v.Impact == "critical" {
			bad = append(bad, fmt.Sprintf("%s (%s, %d elements): %s; at %s", v.ID, v.Impact, v.Nodes, v.Help, strings.Join(v.Targets, ", ")))
		}
	}
	if len(bad) > 0 {
		r.Errorf("axe on %s: %d serious or critical violations:\n  %s", page, len(bad), strings.Join(bad, "\n  "))
	}
}

// unsafeFileChars are the characters a screenshot's file name does not keep.
var unsafeFileChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// screenshot saves the current page whole as TEST_name.png (TEST: the
// top-level test's name) in t.TempDir(), or in $COFFER_SCREENSHOTS, so that
// the README's screenshots can be made again: a relative folder there is
// taken from the repository's root, as in
// COFFER_SCREENSHOTS=docs/screenshots go test ./integration_test -run TestDashboardAcceptance.
func screenshot(t *testing.T, ctx context.Context, name string) string {
	t.Helper()
	dir := os.Getenv("COFFER_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	} else {
		if !filepath.IsAbs(dir) {
			dir = filepath.Join("..", dir) // tests run in integration_test/
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	img, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // quality 100 means PNG
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	test, _, _ := strings.Cut(t.Name(), "/")
	path := filepath.Join(dir, unsafeFileChars.ReplaceAllString(test+"_"+strings.TrimSuffix(name, ".png"), "_")+".png")
	if err := os.WriteFile(path, img, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// fakeReporter records what a check reports instead of failing the test.
type fakeReporter struct {
	mu      sync.Mutex
	errors  []string
	fatal   string
	skipped string
}

// Helper does nothing.
func (f *fakeReporter) Helper() {}

// Errorf records an error.
func (f *fakeReporter) Errorf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errors = append(f.errors, fmt.Sprintf(format, args...))
}

// Fatalf records the error and ends the check's goroutine, as testing.T does.
func (f *fakeReporter) Fatalf(format string, args ...any) {
	f.mu.Lock()
	f.fatal = fmt.Sprintf(format, args...)
	f.mu.Unlock()
	runtime.Goexit()
}

// Skipf records the skip and ends the check's goroutine, as testing.T does.
func (f *fakeReporter) Skipf(format string, args ...any) {
	f.mu.Lock()
	f.skipped = fmt.Sprintf(format, args...)
	f.mu.Unlock()
	runtime.Goexit()
}

// captureCheck runs check against a fakeReporter in its own goroutine and returns what it reported.
func captureCheck(check func(r checkReporter)) *fakeReporter {
	f := &fakeReporter{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		check(f)
	}()
	<-done
	return f
}

// toolkitCSP is the header the dashboard sends; the self-test's pages send it too.
const toolkitCSP = "default-src 'self'"

// toolkitPages is the self-test's page set, served with toolkitCSP.
var toolkitPages = map[string]string{
	"/style.css": `body { margin: 0 auto; max-width: 40em; padding: 0 1em; font-family: sans-serif; }
.wide { width: 2000px; height: 2em; background: #c33; }
input { max-width: 100%; }`,
	// probe.js records what the CSP blocked, so the self-test can see the policy at work.
	"/probe.js": `window.cspViolations = [];
document.addEventListener('securitypolicyviolation', e => window.cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));`,
	"/clean": toolkitPage("Clean", `<h1>Calendars</h1>
<p>Two calendars and one address book are shared with this account.</p>
<form action="/clean"><label for="name">Calendar name</label> <input id="name" name="name" type="text"> <button type="submit">Create</button></form>`),
	"/wide":      toolkitPage("Wide", `<h1>Wide</h1><div id="banner" class="wide">banner</div>`),
	"/longline":  toolkitPage("Long line", `<h1>Long line</h1><pre id="log">`+strings.Repeat("BEGIN:VCALENDAR;", 20)+`</pre>`),
	"/unlabeled": toolkitPage("Unlabeled", `<h1>Unlabeled</h1><img src="/pixel.png"><input id="q" type="text">`),
	// An inline script and an inline style, both of which the CSP must block.
	"/inline": toolkitPage("Inline", `<h1 style="color: red">Inline</h1><script>document.title = 'inline ran'</script>`),
}

// toolkitPage is a whole HTML document around body, with the stylesheet and the CSP probe.
func toolkitPage(title, body string) string {
	return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>` + title + `</title><link rel="stylesheet" href="/style.css"><script src="/probe.js"></script></head>
<body><main>` + body + `</main></body></html>`
}

// toolkitPixel is a 1×1 PNG for the image without alt text.
func toolkitPixel() []byte {
	img := image.NewRGBA(image.Rect(0, 0, 1, 1))
	img.Set(0, 0, color.Black)
	var b bytes.Buffer
	png.Encode(&b, img)
	return b.Bytes()
}

// serveToolkitPages serves toolkitPages with the dashboard's CSP.
func serveToolkitPages(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set("Content-Security-Policy", toolkitCSP)
		if req.URL.Path == "/pixel.png" {
			w.Header().Set("Content-Type", "image/png")
			w.Write(toolkitPixel())
			return
		}
		body, ok := toolkitPages[req.URL.Path]
		if !ok {
			http.NotFound(w, req)
			return
		}
		switch filepath.Ext(req.URL.Path) {
		case ".css":
			w.Header().Set("Content-Type", "text/css")
		case ".js":
			w.Header().Set("Content-Type", "text/javascript")
		default:
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
		}
		w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestBrowserToolkit checks that the checks pass a clean page and report pages with known faults.
func TestBrowserToolkit(t *testing.T) {
	start := time.Now()
	ctx := newBrowser(t)
	base := serveToolkitPages(t)
	size, err := chromedp.Run(ctx, chromedp.Evaluate[[]int](`[window.innerWidth, window.innerHeight, window.outerWidth, window.outerHeight]`))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("browser started in %v; inner and outer window size %v", time.Since(start).Round(time.Millisecond), size)

	t.Run("csp", func(t *testing.T) {
		// The policy is in force: the inline script did not run, the probe saw it blocked.
		if err := chromedp.Do(ctx, chromedp.Navigate(base+"/inline")); err != nil {
			t.Fatal(err)
		}
		title, err := chromedp.Run(ctx, chromedp.Title())
		if err != nil {
			t.Fatal(err)
		}
		if title != "Inline" {
			t.Errorf("title %q: the CSP did not block the inline script", title)
		}
		blocked, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`window.cspViolations`))
		if err != nil {
			t.Fatal(err)
		}
		if len(blocked) == 0 {
			t.Errorf("the probe saw no CSP violation on /inline")
		}
		// Logged, not asserted: whether the policy's ban on eval reaches script that Runtime.evaluate runs.
		evalResult, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => { try { eval('1'); return 'allowed' } catch (e) { return e.name } })()`))
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("CSP blocked %q; eval from Runtime.evaluate: %s", blocked, evalResult)
	})

	t.Run("clean", func(t *testing.T) {
		t0 := time.Now()
		checkNoOverflow(t, ctx, base+"/clean")
		t.Logf("overflow check: %v", time.Since(t0).Round(time.Millisecond))
		checkScreenshotPNG(t, screenshot(t, ctx, "clean"), 1280)
		t0 = time.Now()
		runAxe(t, ctx, base+"/clean")
		t.Logf("axe: %v", time.Since(t0).Round(time.Millisecond))
		// axe ran under the page's CSP without the policy blocking anything.
		blocked, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`window.cspViolations`))
		if err != nil {
			t.Fatal(err)
		}
		if len(blocked) > 0 {
			t.Errorf("the CSP blocked something while axe ran on /clean: %q", blocked)
		}
	})

	t.Run("overflow", func(t *testing.T) {
		for _, tt := range []struct{ page, want string }{
			{"/wide", "div#banner.wide 2000px wide"}, // an element's box
			{"/longline", "pre#log"},                 // an element's text
		} {
			f := captureCheck(func(r checkReporter) { checkNoOverflow(r, ctx, base+tt.page) })
			if f.fatal != "" || f.skipped != "" {
				t.Fatalf("checkNoOverflow stopped on %s: %s%s", tt.page, f.fatal, f.skipped)
			}
			if len(f.errors) != len(overflowViewports) {
				t.Fatalf("checkNoOverflow reported %d errors on %s, want one for each of %d viewports: %q", len(f.errors), tt.page, len(overflowViewports), f.errors)
			}
			for _, e := range f.errors {
				if !strings.Contains(e, tt.want) {
					t.Errorf("the report does not name %s: %s", tt.want, e)
				}
			}
			t.Logf("reported: %s", f.errors[0])
		}
		if err := chromedp.Do(ctx, chromedp.Navigate(base+"/wide")); err != nil {
			t.Fatal(err)
		}
		// The full-page screenshot takes in the whole width.
		checkScreenshotPNG(t, screenshot(t, ctx, "wide"), 2000)
	})

	t.Run("axe", func(t *testing.T) {
		f := captureCheck(func(r checkReporter) { runAxe(r, ctx, base+"/unlabeled") })
		if f.skipped != "" {
			t.Skip(f.skipped) // runAxe on the clean page has already skipped or failed the same way
		}
		if f.fatal != "" {
			t.Fatalf("runAxe stopped: %s", f.fatal)
		}
		if len(f.errors) != 1 {
			t.Fatalf("runAxe reported %d errors on a page with an unlabeled input and an image without alt, want 1: %q", len(f.errors), f.errors)
		}
		for _, want := range []string{"image-alt (critical", "label (critical", "img", "#q"} {
			if !strings.Contains(f.errors[0], want) {
				t.Errorf("the report lacks %q:\n%s", want, f.errors[0])
			}
		}
		t.Logf("reported: %s", f.errors[0])
	})

	t.Run("axe-missing", func(t *testing.T) {
		t.Setenv("COFFER_AXE", filepath.Join(t.TempDir(), "axe.min.js"))
		t.Setenv("CI", "")
		f := captureCheck(func(r checkReporter) { runAxe(r, ctx, base+"/clean") })
		if !strings.Contains(f.skipped, "npm install --prefix .ci axe-core@4") {
			t.Errorf("runAxe without axe-core: skipped %q, fatal %q, want a skip saying how to install it", f.skipped, f.fatal)
		}
		t.Setenv("CI", "true")
		if f := captureCheck(func(r checkReporter) { runAxe(r, ctx, base+"/clean") }); f.fatal == "" {
			t.Errorf("runAxe without axe-core under CI did not fail (skipped %q)", f.skipped)
		}
	})
	t.Logf("self-test took %v", time.Since(start).Round(time.Millisecond))
}

// checkScreenshotPNG fails unless path is a PNG at least minWidth pixels wide.
func checkScreenshotPNG(t *testing.T, path string, minWidth int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg, err := png.DecodeConfig(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if cfg.Width < minWidth {
		t.Errorf("%s is %d×%d, want at least %d pixels wide", path, cfg.Width, cfg.Height, minWidth)
	}
}
