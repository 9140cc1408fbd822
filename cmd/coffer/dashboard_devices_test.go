package main

import (
	"context"
	"encoding/xml"
	"html"
	"image"
	"image/color"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/coffer-dav/coffer/account"
	"github.com/makiuchi-d/gozxing"
	gozxingqr "github.com/makiuchi-d/gozxing/qrcode"
)

// Patterns that read the device and app password pages.
var (
	newSecretPattern = regexp.MustCompile(`id="new-secret" class="secret">([^<]+)<`)
	seenPattern      = regexp.MustCompile(`name="seen" value="([^"]+)"`)
	revokeIDPattern  = regexp.MustCompile(`name="id" value="([^"]+)"`)
	qrDivPattern     = regexp.MustCompile(`(?s)<div id="davx5-qr"[^>]*>(<svg.*?</svg>)</div>`)
	linkPattern      = regexp.MustCompile(`<a href="((?:davx5|caldav)://[^"]+)"`)
)

// devicesForm reads a signed-in page's form token and its mark of the app
// passwords ("" when the page has none).
func (d *dashRig) devicesForm(path string, s *http.Cookie) (csrf, seen string) {
	d.t.Helper()
	resp, body := d.do("GET", path, nil, []*http.Cookie{s})
	m := csrfField.FindStringSubmatch(body)
	if resp.StatusCode != 200 || m == nil {
		d.t.Fatalf("GET %s: %d, no form token", path, resp.StatusCode)
	}
	if n := seenPattern.FindStringSubmatch(body); n != nil {
		seen = n[1]
	}
	return m[1], seen
}

// appPasswordCount counts alice's stored app passwords.
func (d *dashRig) appPasswordCount() int {
	d.t.Helper()
	acct, err := d.a.db.AccountByUsername(context.Background(), "alice")
	if err != nil {
		d.t.Fatal(err)
	}
	list, err := d.a.db.AppPasswords(context.Background(), acct.ID)
	if err != nil {
		d.t.Fatal(err)
	}
	return len(list)
}

// events lists the kinds of alice's recorded events.
func (d *dashRig) events() []account.EventKind {
	d.t.Helper()
	acct, err := d.a.db.AccountByUsername(context.Background(), "alice")
	if err != nil {
		d.t.Fatal(err)
	}
	evs, err := d.a.life.History(context.Background(), acct.ID)
	if err != nil {
		d.t.Fatal(err)
	}
	var kinds []account.EventKind
	for _, e := range evs {
		kinds = append(kinds, e.Kind)
	}
	return kinds
}

// countKind counts the events of one kind.
func countKind(kinds []account.EventKind, k account.EventKind) int {
	n := 0
	for _, e := range kinds {
		if e == k {
			n++
		}
	}
	return n
}

// davStatus sends a Depth 0 PROPFIND of alice's principal with Basic
// credentials and returns the status.
func (d *dashRig) davStatus(path, user, pass string) int {
	d.t.Helper()
	req, err := http.NewRequest("PROPFIND", d.srv.URL+path, strings.NewReader(`<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:"><D:prop><D:current-user-principal/></D:prop></D:propfind>`))
	if err != nil {
		d.t.Fatal(err)
	}
	req.Header.Set("Depth", "0")
	req.Header.Set("Content-Type", "application/xml; charset=utf-8")
	req.SetBasicAuth(user, pass)
	resp, err := d.c.Do(req)
	if err != nil {
		d.t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// plistStrings reads a property list's <key>/<value> pairs, of every
// dictionary at any depth (the CalDAV and CardDAV payloads' keys carry
// their prefix, so they do not collide); integers and booleans come back
// as their text ("80", "true").
func plistStrings(t *testing.T, b []byte) map[string]string {
	t.Helper()
	dec := xml.NewDecoder(strings.NewReader(string(b)))
	out := map[string]string{}
	var key, text string
	var inKey bool
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("profile is not XML: %v", err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			text = ""
			inKey = tok.Name.Local == "key"
			if key != "" && (tok.Name.Local == "true" || tok.Name.Local == "false") {
				out[key], key = tok.Name.Local, ""
			}
		case xml.CharData:
			text += string(tok)
		case xml.EndElement:
			switch {
			case inKey:
				key, inKey = text, false
			case key != "" && (tok.Name.Local == "string" || tok.Name.Local == "integer"):
				out[key], key = text, ""
			case tok.Name.Local == "dict" || tok.Name.Local == "array":
				key = ""
			}
		}
	}
}

// TestDashboardDeviceAppleProfile: connecting an Apple device makes an app
// password, shows it once, and the profile form gives a .mobileconfig
// whose CalDAV and CardDAV payloads carry alice and that password, which
// really logs in to DAV. The profile form refuses, with 403 and no
// profile, a forged password, the account password, another account's app
// password, a revoked one, and a post from another site.
func TestDashboardDeviceAppleProfile(t *testing.T) {
	d := newDashRig(t, dashRigOptions{})
	s := d.signIn()
	resp, body := d.do("GET", "/devices", nil, []*http.Cookie{s})
	for _, want := range []string{`id="device-create"`, `<select id="client" name="client">`, `value="davx5"`, `value="apple"`, `value="thunderbird"`, `value="evolution"`, `id="label" name="label"`, "http://dav.example.org/", "http://dav.example.org/dav/principals/alice/"} {
		if resp.StatusCode != 200 || !strings.Contains(body, want) {
			t.Fatalf("GET /devices: %d, lacks %q", resp.StatusCode, want)
		}
	}
	resp, body = d.do("GET", "/devices", nil, []*http.Cookie{s}, "Accept-Language", "de-DE")
	if resp.StatusCode != 200 || !strings.Contains(body, "<h1>Gerät verbinden</h1>") || !strings.Contains(body, `id="device-create"`) {
		t.Fatalf("GET /devices in German: %d", resp.StatusCode)
	}
	csrf, seen := d.devicesForm("/devices", s)
	resp, body = d.do("POST", "/devices", url.Values{"csrf": {csrf}, "seen": {seen}, "client": {"apple"}, "label": {"Alice's iPhone"}}, []*http.Cookie{s})
	m := newSecretPattern.FindStringSubmatch(body)
	if resp.StatusCode != 200 || m == nil || !strings.Contains(body, `id="profile-download"`) || strings.Contains(body, `id="davx5-qr"`) {
		t.Fatalf("POST /devices apple: %d\n%s", resp.StatusCode, body)
	}
	secret := m[1]
	if !strings.Contains(body, "plain HTTP") {
		t.Error("the Apple page does not warn that the server's URL is http")
	}
	if resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("the page with the secret has Cache-Control %q", resp.Header.Get("Cache-Control"))
	}
	if !strings.Contains(body, `name="secret" value="`+secret+`"`) {
		t.Fatal("the profile form does not carry the new app password")
	}
	if n := d.appPasswordCount(); n != 1 {
		t.Fatalf("%d app passwords after connecting one device", n)
	}
	if countKind(d.events(), account.EventAppPasswordCreated) != 1 {
		t.Fatalf("events %v: want one %s", d.events(), account.EventAppPasswordCreated)
	}

	resp, body = d.do("POST", "/devices/profile", url.Values{"csrf": {csrf}, "secret": {secret}}, []*http.Cookie{s})
	if resp.StatusCode != 200 {
		t.Fatalf("POST /devices/profile: %d\n%s", resp.StatusCode, body)
	}
	for h, want := range map[string]string{
		"Content-Type":        "application/x-apple-aspen-config",
		"Content-Disposition": `attachment; filename="Coffer.mobileconfig"`,
		"Cache-Control":       "no-store",
	} {
		if got := resp.Header.Get(h); got != want {
			t.Errorf("profile %s: %q, want %q", h, got, want)
		}
	}
	p := plistStrings(t, []byte(body))
	for k, want := range map[string]string{
		"CalDAVUsername":      "alice",
		"CalDAVPassword":      secret,
		"CalDAVHostName":      "dav.example.org",
		"CalDAVPort":          "80",
		"CalDAVUseSSL":        "false",
		"CalDAVPrincipalURL":  "http://dav.example.org/dav/principals/alice/",
		"CardDAVUsername":     "alice",
		"CardDAVPassword":     secret,
		"CardDAVHostName":     "dav.example.org",
		"CardDAVPrincipalURL": "http://dav.example.org/dav/principals/alice/",
		"PayloadType":         "Configuration",
	} {
		if p[k] != want {
			t.Errorf("profile %s = %q, want %q", k, p[k], want)
		}
	}
	// The password and principal in the profile work against the server.
	pu, err := url.Parse(p["CalDAVPrincipalURL"])
	if err != nil {
		t.Fatal(err)
	}
	if st := d.davStatus(pu.Path, p["CalDAVUsername"], p["CalDAVPassword"]); st != http.StatusMultiStatus {
		t.Fatalf("PROPFIND with the profile's credentials: %d, want 207", st)
	}

	// Another account's live app password.
	if _, err := d.a.createUser(context.Background(), newUser{username: "bob", email: "bob@example.org", password: "staple battery horse"}); err != nil {
		t.Fatal(err)
	}
	_, bobSecret := newAppPassword(t, d.a, "bob", "staple battery horse", "bob's phone")
	forged := []byte(secret)
	if forged[0] == 'A' {
		forged[0] = 'B'
	} else {
		forged[0] = 'A'
	}
	for _, tt := range []struct {
		name   string
		form   url.Values
		hdr    []string
		status int
	}{
		{"forged", url.Values{"csrf": {csrf}, "secret": {string(forged)}}, nil, http.StatusForbidden},
		{"account password", url.Values{"csrf": {csrf}, "secret": {"correct horse battery"}}, nil, http.StatusForbidden},
		{"bob's app password", url.Values{"csrf": {csrf}, "secret": {bobSecret}}, nil, http.StatusForbidden},
		{"none", url.Values{"csrf": {csrf}}, nil, http.StatusForbidden},
		{"no form token", url.Values{"secret": {secret}}, nil, http.StatusForbidden},
		{"from another site", url.Values{"csrf": {csrf}, "secret": {secret}}, []string{"Origin", "https://evil.example"}, http.StatusForbidden},
	} {
		resp, body := d.do("POST", "/devices/profile", tt.form, []*http.Cookie{s}, tt.hdr...)
		if resp.StatusCode != tt.status || strings.Contains(body, "<plist") || resp.Header.Get("Content-Disposition") != "" {
			t.Errorf("profile, %s: %d, want %d and no profile", tt.name, resp.StatusCode, tt.status)
		}
	}
	if resp, _ := d.do("POST", "/devices/profile", url.Values{"csrf": {csrf}, "secret": {secret}}, nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("profile signed out: %d, want 403", resp.StatusCode)
	}

	// Revoked: the profile form refuses it, and DAV too.
	csrf, _ = d.devicesForm("/app-passwords", s)
	_, body = d.do("GET", "/app-passwords", nil, []*http.Cookie{s})
	id := revokeIDPattern.FindStringSubmatch(body)
	if id == nil {
		t.Fatal("no revoke form on the app passwords page")
	}
	if resp, _ := d.do("POST", "/app-passwords/revoke", url.Values{"csrf": {csrf}, "id": {id[1]}}, []*http.Cookie{s}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoke: %d", resp.StatusCode)
	}
	resp, body = d.do("POST", "/devices/profile", url.Values{"csrf": {csrf}, "secret": {secret}}, []*http.Cookie{s})
	if resp.StatusCode != http.StatusForbidden || strings.Contains(body, "<plist") {
		t.Errorf("profile of a revoked app password: %d, want 403 and no profile", resp.StatusCode)
	}
	if st := d.davStatus("/dav/principals/alice/", "alice", secret); st != http.StatusUnauthorized {
		t.Errorf("PROPFIND with the revoked app password: %d, want 401", st)
	}
}

// TestDashboardDeviceDAVx5QR: connecting DAVx5 shows a QR code that
// decodes to the caldav:// login link (the rig's URL is http) holding
// alice and the new app password, the same link as a link, and the
// password logs in to DAV. Bad choices and labels are refused with 400 and
// make nothing; a reload of the answered form makes no second password.
func TestDashboardDeviceDAVx5QR(t *testing.T) {
	d := newDashRig(t, dashRigOptions{})
	s := d.signIn()
	csrf, seen := d.devicesForm("/devices", s)
	for _, tt := range []struct {
		name string
		form url.Values
	}{
		{"unknown client", url.Values{"csrf": {csrf}, "seen": {seen}, "client": {"outlook"}, "label": {"Phone"}}},
		{"no client", url.Values{"csrf": {csrf}, "seen": {seen}, "label": {"Phone"}}},
		{"empty label", url.Values{"csrf": {csrf}, "seen": {seen}, "client": {"davx5"}, "label": {"  "}}},
		{"label too long", url.Values{"csrf": {csrf}, "seen": {seen}, "client": {"davx5"}, "label": {strings.Repeat("x", 101)}}},
		{"control character", url.Values{"csrf": {csrf}, "seen": {seen}, "client": {"davx5"}, "label": {"a\x01b"}}},
	} {
		resp, body := d.do("POST", "/devices", tt.form, []*http.Cookie{s})
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `class="error"`) || newSecretPattern.MatchString(body) {
			t.Errorf("%s: %d, want 400 with a message and no secret", tt.name, resp.StatusCode)
		}
	}
	if n := d.appPasswordCount(); n != 0 {
		t.Fatalf("refused forms made %d app passwords", n)
	}

	form := url.Values{"csrf": {csrf}, "seen": {seen}, "client": {"davx5"}, "label": {"Pixel 9"}}
	resp, body := d.do("POST", "/devices", form, []*http.Cookie{s})
	m := newSecretPattern.FindStringSubmatch(body)
	if resp.StatusCode != 200 || m == nil {
		t.Fatalf("POST /devices davx5: %d\n%s", resp.StatusCode, body)
	}
	secret := m[1]
	want := "caldav://alice:" + secret + "@dav.example.org/"
	svg := qrDivPattern.FindStringSubmatch(body)
	if svg == nil {
		t.Fatalf("no <svg> inside #davx5-qr:\n%s", body)
	}
	if !strings.Contains(svg[1], `aria-label="QR code that sets up DAVx5"`) {
		t.Errorf("the QR code is not named in the page's language: %.200s", svg[1])
	}
	if got := decodeQRSVG(t, svg[1]); got != want {
		t.Errorf("QR code decodes to %q, want %q", got, want)
	}
	if l := linkPattern.FindStringSubmatch(body); l == nil || html.UnescapeString(l[1]) != want {
		t.Errorf("DAVx5 link %v, want %q", l, want)
	}
	if st := d.davStatus("/dav/principals/alice/", "alice", secret); st != http.StatusMultiStatus {
		t.Errorf("PROPFIND with the new app password: %d, want 207", st)
	}

	// A reload sends the same form again: refused, nothing made.
	resp, body = d.do("POST", "/devices", form, []*http.Cookie{s})
	if resp.StatusCode != http.StatusConflict || newSecretPattern.MatchString(body) {
		t.Errorf("reload: %d, want 409 and no secret", resp.StatusCode)
	}
	if n := d.appPasswordCount(); n != 1 {
		t.Errorf("%d app passwords after a reload, want 1", n)
	}
}

// TestDashboardAppPasswords: the page lists nothing at first; a label is
// required and checked; a made password is shown once, listed with its
// label, and logs in to DAV, which the list then shows as its last use; a
// reload of the answer makes no second one; revoking needs an existing id,
// stops the password at once and is recorded.
func TestDashboardAppPasswords(t *testing.T) {
	d := newDashRig(t, dashRigOptions{})
	s := d.signIn()
	resp, body := d.do("GET", "/app-passwords", nil, []*http.Cookie{s})
	if resp.StatusCode != 200 || !strings.Contains(body, "You have no app passwords yet.") || !strings.Contains(body, `id="apppassword-create"`) {
		t.Fatalf("GET /app-passwords: %d\n%s", resp.StatusCode, body)
	}
	csrf, seen := d.devicesForm("/app-passwords", s)
	for _, tt := range []struct {
		name  string
		label string
	}{
		{"empty", ""},
		{"spaces", "   "},
		{"too long", strings.Repeat("é", 101)},
		{"newline", "Pixel\n9"},
	} {
		resp, body := d.do("POST", "/app-passwords", url.Values{"csrf": {csrf}, "seen": {seen}, "label": {tt.label}}, []*http.Cookie{s})
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "Please give the device a name") || newSecretPattern.MatchString(body) {
			t.Errorf("label %s: %d, want 400 with the label message", tt.name, resp.StatusCode)
		}
	}
	if n := d.appPasswordCount(); n != 0 {
		t.Fatalf("refused labels made %d app passwords", n)
	}

	form := url.Values{"csrf": {csrf}, "seen": {seen}, "label": {"Pixel <9>"}}
	resp, body = d.do("POST", "/app-passwords", form, []*http.Cookie{s})
	m := newSecretPattern.FindStringSubmatch(body)
	if resp.StatusCode != 200 || m == nil || !strings.Contains(body, "<td>Pixel &lt;9&gt;</td>") {
		t.Fatalf("POST /app-passwords: %d\n%s", resp.StatusCode, body)
	}
	first := m[1]
	resp, body = d.do("POST", "/app-passwords", form, []*http.Cookie{s})
	if resp.StatusCode != http.StatusConflict || newSecretPattern.MatchString(body) || d.appPasswordCount() != 1 {
		t.Fatalf("reload: %d, %d app passwords; want 409 and 1", resp.StatusCode, d.appPasswordCount())
	}
	// A fresh form makes a second one, not shown on the list page again.
	csrf, seen = d.devicesForm("/app-passwords", s)
	resp, body = d.do("POST", "/app-passwords", url.Values{"csrf": {csrf}, "seen": {seen}, "label": {"Laptop"}}, []*http.Cookie{s})
	m = newSecretPattern.FindStringSubmatch(body)
	if resp.StatusCode != 200 || m == nil || m[1] == first {
		t.Fatalf("second app password: %d", resp.StatusCode)
	}
	second := m[1]
	if _, body := d.do("GET", "/app-passwords", nil, []*http.Cookie{s}); strings.Contains(body, first) || strings.Contains(body, second) || strings.Count(body, "<td>never</td>") != 2 {
		t.Fatalf("the list shows a secret, or not two unused passwords:\n%s", body)
	}
	if st := d.davStatus("/dav/principals/alice/", "alice", first); st != http.StatusMultiStatus {
		t.Fatalf("PROPFIND with the app password: %d", st)
	}
	_, body = d.do("GET", "/app-passwords", nil, []*http.Cookie{s})
	if strings.Count(body, "<td>never</td>") != 1 {
		t.Errorf("after one password's use, %d rows say never, want 1", strings.Count(body, "<td>never</td>"))
	}

	ids := revokeIDPattern.FindAllStringSubmatch(body, -1)
	if len(ids) != 2 {
		t.Fatalf("%d revoke forms, want 2", len(ids))
	}
	for _, tt := range []struct {
		name   string
		form   url.Values
		status int
	}{
		{"no id", url.Values{"csrf": {csrf}}, http.StatusNotFound},
		{"unknown id", url.Values{"csrf": {csrf}, "id": {"aaaaaaaaaaaaaaaa"}}, http.StatusNotFound},
		{"long id", url.Values{"csrf": {csrf}, "id": {strings.Repeat("a", 65)}}, http.StatusNotFound},
		{"no form token", url.Values{"id": {ids[0][1]}}, http.StatusForbidden},
	} {
		if resp, _ := d.do("POST", "/app-passwords/revoke", tt.form, []*http.Cookie{s}); resp.StatusCode != tt.status {
			t.Errorf("revoke, %s: %d, want %d", tt.name, resp.StatusCode, tt.status)
		}
	}
	if n := d.appPasswordCount(); n != 2 {
		t.Fatalf("refused revocations left %d app passwords, want 2", n)
	}
	resp, _ = d.do("POST", "/app-passwords/revoke", url.Values{"csrf": {csrf}, "id": {ids[0][1]}}, []*http.Cookie{s})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/app-passwords?done=notice.apppassword.revoked" {
		t.Fatalf("revoke: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if _, body := d.do("GET", "/app-passwords?done=notice.apppassword.revoked", nil, []*http.Cookie{s}); !strings.Contains(body, "The app password is revoked.") || strings.Contains(body, "Pixel &lt;9&gt;") {
		t.Errorf("after revoking: no notice, or the revoked one still listed")
	}
	if st := d.davStatus("/dav/principals/alice/", "alice", first); st != http.StatusUnauthorized {
		t.Errorf("PROPFIND with the revoked app password: %d, want 401", st)
	}
	if st := d.davStatus("/dav/principals/alice/", "alice", second); st != http.StatusMultiStatus {
		t.Errorf("PROPFIND with the other app password: %d, want 207", st)
	}
	kinds := d.events()
	if countKind(kinds, account.EventAppPasswordCreated) != 2 || countKind(kinds, account.EventAppPasswordRevoked) != 1 {
		t.Errorf("events %v: want 2 created, 1 revoked", kinds)
	}
}

// qrRunPattern is one horizontal run of dark modules in the QR code's
// path, as web.QRCodeSVG writes it: "M<x> <y>h<n>v1h-<n>z".
var qrRunPattern = regexp.MustCompile(`M(\d+) (\d+)h(\d+)v1h-(\d+)z`)

// decodeQRSVG draws the page's QR code from its markup (a white square of
// the viewBox and one path of dark runs) and decodes it with gozxing.
func decodeQRSVG(t *testing.T, svg string) string {
	t.Helper()
	vb := regexp.MustCompile(`viewBox="0 0 (\d+) (\d+)"`).FindStringSubmatch(svg)
	d := regexp.MustCompile(`<path fill="#000" d="([^"]*)"`).FindStringSubmatch(svg)
	if vb == nil || d == nil || vb[1] != vb[2] {
		t.Fatalf("unexpected QR code markup: %s", svg)
	}
	if rest := qrRunPattern.ReplaceAllString(d[1], ""); rest != "" {
		t.Fatalf("QR code path holds more than dark runs: %q", rest)
	}
	const scale = 4
	size, _ := strconv.Atoi(vb[1])
	img := image.NewGray(image.Rect(0, 0, size*scale, size*scale))
	for i := range img.Pix {
		img.Pix[i] = 0xff
	}
	for _, m := range qrRunPattern.FindAllStringSubmatch(d[1], -1) {
		x, _ := strconv.Atoi(m[1])
		y, _ := strconv.Atoi(m[2])
		n, _ := strconv.Atoi(m[3])
		for py := y * scale; py < (y+1)*scale; py++ {
			for px := x * scale; px < (x+n)*scale; px++ {
				img.SetGray(px, py, color.Gray{})
			}
		}
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := gozxingqr.NewQRCodeReader().Decode(bmp, nil)
	if err != nil {
		t.Fatalf("no QR code decoded from the page: %v", err)
	}
	return res.GetText()
}

// TestDashboardDeviceProfileThrottle: forged app passwords in the profile
// form count as failed logins, as on DAV, so guessing through the form is
// throttled (503 with Retry-After); the live app password is still
// answered, since app passwords are checked before the throttle.
func TestDashboardDeviceProfileThrottle(t *testing.T) {
	d := newDashRig(t, dashRigOptions{})
	s := d.signIn()
	csrf, seen := d.devicesForm("/devices", s)
	_, body := d.do("POST", "/devices", url.Values{"csrf": {csrf}, "seen": {seen}, "client": {"apple"}, "label": {"iPad"}}, []*http.Cookie{s})
	m := newSecretPattern.FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no app password made")
	}
	throttled := false
	for i := 0; i < 12 && !throttled; i++ {
		guess := "AAAAA-AAAAA-AAAAA-AAAAA-AAAAA-AAAAA-" + string(rune('A'+i)) + "A"
		resp, body := d.do("POST", "/devices/profile", url.Values{"csrf": {csrf}, "secret": {guess}}, []*http.Cookie{s})
		switch {
		case resp.StatusCode == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") != "":
			throttled = true
		case resp.StatusCode != http.StatusForbidden || strings.Contains(body, "<plist"):
			t.Fatalf("guess %d: %d, want 403 or 503", i, resp.StatusCode)
		}
	}
	if !throttled {
		t.Fatal("12 forged app passwords were never throttled")
	}
	resp, body := d.do("POST", "/devices/profile", url.Values{"csrf": {csrf}, "secret": {m[1]}}, []*http.Cookie{s})
	if resp.StatusCode != 200 || !strings.Contains(body, "<plist") {
		t.Fatalf("the live app password while throttled: %d, want the profile", resp.StatusCode)
	}
}
