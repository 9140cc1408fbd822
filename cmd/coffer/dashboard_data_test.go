package main

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coffer-dav/coffer/account"
)

// lifeRigOptions is the dashboard rig with the lifecycle on from
// 15 December 2026, a 10 MB quota and a shop link.
var lifeRigOptions = dashRigOptions{Start: time.Date(2026, 12, 15, 12, 0, 0, 0, time.UTC), QuotaBytes: 10_000_000, ShopURL: "https://shop.example.org/coffer"}

// dav sends a DAV request as alice and fails the test on an unexpected status.
func (d *dashRig) dav(want int, method, path, body string, hdr ...string) {
	d.t.Helper()
	req, err := http.NewRequest(method, d.srv.URL+path, strings.NewReader(body))
	if err != nil {
		d.t.Fatal(err)
	}
	req.SetBasicAuth("alice", "correct horse battery")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := d.c.Do(req)
	if err != nil {
		d.t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != want {
		d.t.Fatalf("%s %s: %d, want %d: %s", method, path, resp.StatusCode, want, b)
	}
}

// page returns a signed-in page's body, failing unless it answers 200.
func (d *dashRig) page(path string, c *http.Cookie, hdr ...string) string {
	d.t.Helper()
	resp, body := d.do("GET", path, nil, []*http.Cookie{c}, hdr...)
	if resp.StatusCode != 200 {
		d.t.Fatalf("GET %s: %d", path, resp.StatusCode)
	}
	return body
}

var (
	stateText = regexp.MustCompile(`(?s)<p id="state">(.*?)</p>`)
	usageText = regexp.MustCompile(`(?s)<p id="usage">(.*?)</p>`)
	cardHTML  = regexp.MustCompile(`(?s)<li class="collection">(.*?)</li>`)
	eventRow  = regexp.MustCompile(`(?s)<li class="event">(.*?)</li>`)
	tagHTML   = regexp.MustCompile(`<[^>]*>`)
	spaces    = regexp.MustCompile(`\s+`)
)

// text returns the words of an HTML fragment.
func text(s string) string {
	return strings.TrimSpace(spaces.ReplaceAllString(html.UnescapeString(tagHTML.ReplaceAllString(s, " ")), " "))
}

// TestDashboardOverviewStates: the overview says the account's state and
// its dates in words, as the lifecycle computes them at its clock.
func TestDashboardOverviewStates(t *testing.T) {
	for _, tt := range []struct {
		name   string
		setup  func(d *dashRig) // nil: the lifecycle is off
		accept string
		state  string
		shop   string
	}{
		{"permanent", nil, "", "Your account never expires.", ""},
		{"trial", func(*dashRig) {}, "", "Your trial ends on 14 January 2027.", "Buy or extend a subscription"},
		{"trial in German", func(*dashRig) {}, "de-DE,de;q=0.9", "Dein Testzeitraum endet am 14. Januar 2027.", "Abo kaufen oder verlängern"},
		{"paid", func(d *dashRig) {
			pay(d, account.Payment{TransactionID: "tx-1", Plan: "yearly", PaidThrough: time.Date(2027, 6, 30, 12, 0, 0, 0, time.UTC)})
		}, "", "Your subscription runs until 30 June 2027.", "Buy or extend a subscription"},
		{"retention after the trial", func(d *dashRig) { d.clock.Advance(40 * 24 * time.Hour) }, "",
			"Your trial ended on 14 January 2027. Your data will be deleted on 13 July 2027.", "Renew your subscription"},
		{"retention after a subscription", func(d *dashRig) {
			pay(d, account.Payment{TransactionID: "tx-2", Plan: "monthly", PaidThrough: time.Date(2027, 3, 1, 12, 0, 0, 0, time.UTC)})
			d.clock.Advance(100 * 24 * time.Hour)
		}, "de", "Dein Abo ist am 1. März 2027 abgelaufen. Deine Daten werden am 28. August 2027 gelöscht.", "Abo erneuern"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			o := dashRigOptions{}
			if tt.setup != nil {
				o = lifeRigOptions
			}
			d := newDashRig(t, o)
			if tt.setup != nil {
				tt.setup(d)
			}
			body := d.page("/", d.signIn(), "Accept-Language", tt.accept)
			m := stateText.FindStringSubmatch(body)
			if m == nil || text(m[1]) != tt.state {
				t.Fatalf("state: %q, want %q", m, tt.state)
			}
			hasShop := strings.Contains(body, `href="https://shop.example.org/coffer"`)
			if hasShop != (tt.shop != "") || (tt.shop != "" && !strings.Contains(body, tt.shop)) {
				t.Fatalf("shop link %v, want %q", hasShop, tt.shop)
			}
			says := strings.Contains(body, "Your devices cannot sync until you renew") || strings.Contains(body, "Deine Geräte können erst wieder synchronisieren")
			if blocked := strings.Contains(tt.name, "retention"); says != blocked {
				t.Fatalf("in retention %v, but the page says what is blocked: %v", blocked, says)
			}
		})
	}
}

// pay applies a payment to alice's account.
func pay(d *dashRig, p account.Payment) {
	d.t.Helper()
	id, err := d.a.life.Lookup(context.Background(), "alice")
	if err == nil {
		_, _, err = d.a.life.ApplyPayment(context.Background(), id, p)
	}
	if err != nil {
		d.t.Fatal(err)
	}
}

const (
	testEvent = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:%s\r\nDTSTAMP:20270101T000000Z\r\nDTSTART:20270110T100000Z\r\nSUMMARY:Secret meeting\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
	testTodo  = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VTODO\r\nUID:todo-1\r\nDTSTAMP:20270101T000000Z\r\nSUMMARY:Buy milk\r\nEND:VTODO\r\nEND:VCALENDAR\r\n"
	testCard  = "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:card-1\r\nFN:Bob Example\r\nN:Example;Bob;;;\r\nEND:VCARD\r\n"
)

// colorPatch sets the task list's calendar-color to a value as XML text.
func colorPatch(v string) string {
	return `<?xml version="1.0" encoding="utf-8"?><D:propertyupdate xmlns:D="DAV:" xmlns:A="http://apple.com/ns/ical/"><D:set><D:prop><A:calendar-color>` + v + `</A:calendar-color></D:prop></D:set></D:propertyupdate>`
}

// TestDashboardOverviewCollections: every calendar, task list and address
// book is listed with its name, its colour as a swatch and its object
// count, with the storage used against the quota; a colour that is not
// #RRGGBB[AA] is not rendered.
func TestDashboardOverviewCollections(t *testing.T) {
	d := newDashRig(t, lifeRigOptions)
	d.dav(http.StatusCreated, "MKCALENDAR", "/dav/calendars/alice/office/", `<?xml version="1.0" encoding="utf-8"?>
<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns:A="http://apple.com/ns/ical/"><D:set><D:prop>
<D:displayname>Work &amp; &lt;b&gt;play&lt;/b&gt;</D:displayname><A:calendar-color>#AB12CD80</A:calendar-color>
<C:supported-calendar-component-set><C:comp name="VEVENT"/></C:supported-calendar-component-set></D:prop></D:set></C:mkcalendar>`)
	for _, p := range []struct{ path, body string }{
		{"/dav/calendars/alice/office/a.ics", strings.Replace(testEvent, "%s", "ev-a", 1)},
		{"/dav/calendars/alice/office/b.ics", strings.Replace(testEvent, "%s", "ev-b", 1)},
		{"/dav/calendars/alice/calendar/c.ics", strings.Replace(testEvent, "%s", "ev-c", 1)},
		{"/dav/calendars/alice/tasks/t.ics", testTodo},
	} {
		d.dav(http.StatusCreated, "PUT", p.path, p.body, "Content-Type", "text/calendar")
	}
	d.dav(http.StatusCreated, "PUT", "/dav/addressbooks/alice/contacts/bob.vcf", testCard, "Content-Type", "text/vcard")
	c := d.signIn()
	body := d.page("/", c)
	want := []string{
		`#2E7D32 | Calendar | 1 event`,
		`#AB12CD 0.50 | Work &amp; &lt;b&gt;play&lt;/b&gt; | 2 events`,
		`#1565C0 | Tasks | 1 task`,
		`| Contacts | 1 contact`,
	}
	cards := cardHTML.FindAllStringSubmatch(body, -1)
	if len(cards) != len(want) {
		t.Fatalf("%d collections listed, want %d: %s", len(cards), len(want), body)
	}
	for i, w := range want {
		if got := card(cards[i][1]); got != w {
			t.Errorf("collection %d: %q, want %q", i, got, w)
		}
	}
	if strings.Contains(body, "Secret meeting") || strings.Contains(body, "Buy milk") || strings.Contains(body, "Bob Example") {
		t.Fatal("the overview shows object contents")
	}
	m := usageText.FindStringSubmatch(body)
	if m == nil || !regexp.MustCompile(`^[0-9.]+ KB of 10\.0 MB used\.$`).MatchString(text(m[1])) {
		t.Fatalf("usage: %q", m)
	}
	if !strings.Contains(body, `<progress max="10000000" value="`) {
		t.Fatal("no progress bar for the quota")
	}

	// A colour that is not #RRGGBB[AA] gives the task list no swatch.
	for _, bad := range []string{"red", "#12345", "#1234567", "#GGGGGG", "url(#a)", `#123456&quot; onload=&quot;alert(1)`, "#123456 ; x", ""} {
		d.dav(http.StatusMultiStatus, "PROPPATCH", "/dav/calendars/alice/tasks/", colorPatch(bad))
		body := d.page("/", c)
		cards := cardHTML.FindAllStringSubmatch(body, -1)
		if len(cards) != 4 || card(cards[2][1]) != "| Tasks | 1 task" || strings.Contains(cards[2][1], "<svg") || strings.Contains(body, "onload") {
			t.Errorf("colour %q was rendered: %s", bad, cards[2][1])
		}
	}
	d.dav(http.StatusMultiStatus, "PROPPATCH", "/dav/calendars/alice/tasks/", colorPatch("#0a0B0c"))
	if cards := cardHTML.FindAllStringSubmatch(d.page("/", c), -1); card(cards[2][1]) != "#0A0B0C | Tasks | 1 task" {
		t.Errorf("a good colour set by a client is not shown: %s", cards[2][1])
	}
}

var (
	swatchFill = regexp.MustCompile(`^<h3><svg class="swatch"[^>]*><rect [^>]*fill="([^"]*)"(?: fill-opacity="([^"]*)")?/></svg>`)
	cardParts  = regexp.MustCompile(`<span>(.*?)</span></h3><p class="hint">(.*?)</p>$`)
)

// card writes a collection card as "fill opacity | name | count", the name
// as the page escapes it.
func card(s string) string {
	var fill string
	if m := swatchFill.FindStringSubmatch(s); m != nil {
		fill = strings.TrimSpace(m[1] + " " + m[2])
	}
	m := cardParts.FindStringSubmatch(s)
	if m == nil {
		return "unreadable: " + s
	}
	return strings.TrimSpace(fill + " | " + m[1] + " | " + m[2])
}

// TestDashboardNotifications: the history is listed newest first, each
// entry with its date, the event in words and whether a mail went out.
func TestDashboardNotifications(t *testing.T) {
	d := newDashRig(t, lifeRigOptions)
	ctx := context.Background()
	id, err := d.a.life.Lookup(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	d.clock.Advance(24 * time.Hour)
	if err := d.a.life.Record(ctx, id, account.EventPasswordChanged, "The password was changed."); err != nil {
		t.Fatal(err)
	}
	d.clock.Advance(24 * time.Hour)
	pay(d, account.Payment{TransactionID: "tx-3", Plan: "yearly", Days: 365})
	body := d.page("/notifications", d.signIn())
	var got []string
	for _, m := range eventRow.FindAllStringSubmatch(body, -1) {
		got = append(got, text(m[1]))
	}
	want := []string{
		"17 December 2026 : Subscription bought Plan yearly, paid through 2028-01-14. E-mail: not sent",
		"16 December 2026 : Password changed The password was changed. E-mail: not sent",
		"15 December 2026 : Trial started The free trial runs until 2027-01-14. E-mail: not sent",
		"15 December 2026 : Account created E-mail: not sent",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("entries:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestDashboardExport: the data page's button downloads the export zip,
// whose manifest lists the collections.
func TestDashboardExport(t *testing.T) {
	d := newDashRig(t, dashRigOptions{})
	c := d.signIn()
	body := d.page("/data", c)
	for _, id := range []string{`id="export-download"`, `id="erase_username" name="erase_username"`, `id="erase_password" name="erase_password"`, `id="erase-submit" class="danger"`} {
		if !strings.Contains(body, id) {
			t.Errorf("data page lacks %s", id)
		}
	}
	token := csrfField.FindStringSubmatch(body)[1]
	if resp, _ := d.do("POST", "/data/export", url.Values{}, []*http.Cookie{c}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("export without the form token: %d", resp.StatusCode)
	}
	resp, zipped := d.do("POST", "/data/export", url.Values{"csrf": {token}}, []*http.Cookie{c})
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/zip" {
		t.Fatalf("export: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	want := `attachment; filename="coffer-alice-` + time.Now().UTC().Format("2006-01-02") + `.zip"`
	if cd := resp.Header.Get("Content-Disposition"); cd != want {
		t.Fatalf("Content-Disposition %q, want %q", cd, want)
	}
	zr, err := zip.NewReader(bytes.NewReader([]byte(zipped)), int64(len(zipped)))
	if err != nil {
		t.Fatal(err)
	}
	f, err := zr.Open("collections.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var man struct {
		Collections []struct{ Home, Name, Kind string }
	}
	if err := json.NewDecoder(f).Decode(&man); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range man.Collections {
		got = append(got, c.Home+"/"+c.Name+" "+c.Kind)
	}
	if strings.Join(got, ", ") != "calendars/calendar calendar, calendars/tasks calendar, addressbooks/contacts addressbook" {
		t.Fatalf("manifest lists %q", got)
	}
	for _, name := range []string{"account.json", "notifications.json", "calendar.ics", "contacts.vcf"} {
		if _, err := zr.Open(name); err != nil {
			t.Errorf("export lacks %s: %v", name, err)
		}
	}
}

// TestDashboardErase: erasure refuses a wrong username, a wrong password
// and an app password, and changes nothing then; with the right ones the
// account, its sessions and their key slots are gone, and signing in fails.
func TestDashboardErase(t *testing.T) {
	d := newDashRig(t, dashRigOptions{})
	ctx := context.Background()
	c := d.signIn()
	_, appPassword := newAppPassword(t, d.a, "alice", "correct horse battery", "Phone")
	token := csrfField.FindStringSubmatch(d.page("/data", c))[1]
	for _, tt := range []struct {
		name, user, password string
		status               int
	}{
		{"no username", "", "correct horse battery", http.StatusBadRequest},
		{"another username", "bob", "correct horse battery", http.StatusBadRequest},
		{"the username in capitals", "ALICE", "correct horse battery", http.StatusBadRequest},
		{"no password", "alice", "", http.StatusBadRequest},
		{"a wrong password", "alice", "wrong horse battery", http.StatusForbidden},
		{"an app password", "alice", appPassword, http.StatusForbidden},
	} {
		resp, body := d.do("POST", "/data/erase", url.Values{"csrf": {token}, "erase_username": {tt.user}, "erase_password": {tt.password}}, []*http.Cookie{c})
		if resp.StatusCode != tt.status || !strings.Contains(body, "Nothing was erased.") {
			t.Errorf("%s: %d, want %d with a sentence", tt.name, resp.StatusCode, tt.status)
		}
		if _, err := d.a.db.AccountByUsername(ctx, "alice"); err != nil {
			t.Fatalf("%s: the account is gone: %v", tt.name, err)
		}
		if rows, slots := d.sessions(); rows != 1 || slots != 1 {
			t.Fatalf("%s: %d sessions, %d slots left", tt.name, rows, slots)
		}
	}
	d.page("/", c) // the session still works
	if n := d.count(`SELECT count(*) FROM key_slots`); n < 4 {
		t.Fatalf("%d key slots before the erasure: want password, recovery, app password and sessions", n)
	}
	other := d.signIn()
	resp, body := d.do("POST", "/data/erase", url.Values{"csrf": {token}, "erase_username": {" alice "}, "erase_password": {"correct horse battery"}}, []*http.Cookie{c})
	if resp.StatusCode != 200 || !strings.Contains(body, "Your account and all of its data are erased.") {
		t.Fatalf("erase: %d %s", resp.StatusCode, body)
	}
	cleared := false
	for _, k := range resp.Cookies() {
		cleared = cleared || (k.Name == "coffer_session" && k.MaxAge < 0)
	}
	if !cleared {
		t.Error("the session cookie was not cleared")
	}
	if _, err := d.a.db.AccountByUsername(ctx, "alice"); err == nil {
		t.Fatal("the account is still there")
	}
	if rows, slots := d.sessions(); rows != 0 || slots != 0 {
		t.Fatalf("after the erasure: %d sessions, %d session slots", rows, slots)
	}
	if n := d.count(`SELECT count(*) FROM key_slots`); n != 0 {
		t.Fatalf("after the erasure: %d key slots", n)
	}
	for _, k := range []*http.Cookie{c, other} {
		if resp, _ := d.do("GET", "/", nil, []*http.Cookie{k}); resp.StatusCode != http.StatusSeeOther {
			t.Errorf("a session of the erased account still opens: %d", resp.StatusCode)
		}
	}
	token, cookies := d.form("/signin", nil)
	if resp, _ := d.do("POST", "/signin", url.Values{"csrf": {token}, "username": {"alice"}, "password": {"correct horse battery"}}, cookies); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("sign-in after the erasure: %d, want 401", resp.StatusCode)
	}
	if _, err := d.a.auth.Login(ctx, "alice", appPassword); err == nil {
		t.Error("the app password still logs in")
	}
}

// TestDashboardEraseThrottled: wrong passwords on the erase form count
// with failed sign-ins, and past the free ones the form answers 503 with
// Retry-After, erasing nothing.
func TestDashboardEraseThrottled(t *testing.T) {
	d := newDashRig(t, dashRigOptions{})
	c := d.signIn()
	token := csrfField.FindStringSubmatch(d.page("/data", c))[1]
	wrong := url.Values{"csrf": {token}, "erase_username": {"alice"}, "erase_password": {"wrong horse battery"}}
	var resp *http.Response
	for i := 0; i < 10; i++ {
		if resp, _ = d.do("POST", "/data/erase", wrong, []*http.Cookie{c}); resp.StatusCode != http.StatusForbidden {
			break
		}
	}
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("ten wrong passwords: %d, Retry-After %q; want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if _, err := d.a.db.AccountByUsername(context.Background(), "alice"); err != nil {
		t.Fatalf("the account is gone: %v", err)
	}
}

// TestDashboardRetention: in retention, when DAV is blocked, the account
// can still be downloaded and erased from the dashboard.
func TestDashboardRetention(t *testing.T) {
	d := newDashRig(t, lifeRigOptions)
	d.clock.Advance(40 * 24 * time.Hour)
	d.dav(http.StatusForbidden, "PROPFIND", "/dav/calendars/alice/", "", "Depth", "1")
	c := d.signIn()
	token := csrfField.FindStringSubmatch(d.page("/data", c))[1]
	resp, zipped := d.do("POST", "/data/export", url.Values{"csrf": {token}}, []*http.Cookie{c})
	if resp.StatusCode != 200 || !strings.HasPrefix(zipped, "PK") {
		t.Fatalf("export in retention: %d", resp.StatusCode)
	}
	resp, _ = d.do("POST", "/data/erase", url.Values{"csrf": {token}, "erase_username": {"alice"}, "erase_password": {"correct horse battery"}}, []*http.Cookie{c})
	if resp.StatusCode != 200 {
		t.Fatalf("erase in retention: %d", resp.StatusCode)
	}
	if _, err := d.a.db.AccountByUsername(context.Background(), "alice"); err == nil {
		t.Fatal("the account is still there")
	}
}
