package selfservice

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/coffer-dav/coffer/auth"
)

// propfindHome is a cheap DAV request that needs a login.
const propfindHome = `<propfind xmlns="DAV:"><prop><resourcetype/></prop></propfind>`

// createApp creates an app password through the endpoint and returns its id and secret.
func createApp(e *env, user, pw, label string) (string, string) {
	e.t.Helper()
	a := e.must(201, user, pw, "POST", "/account/app-passwords", `{"label": `+jsonString(label)+`}`)
	var got struct {
		ID, Label, Password string
	}
	if err := json.Unmarshal([]byte(a.body), &got); err != nil || got.ID == "" || got.Label != label || len(auth.NormalizeSecret(got.Password)) != 32 {
		e.t.Fatalf("created app password: %s (%v)", a.body, err)
	}
	return got.ID, got.Password
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func TestAppPasswordsOverHTTP(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice", "alice-password")
	e.addUser("bob", "bob-password")
	phoneID, phone := createApp(e, "alice", "alice-password", "Pixel 9")
	_, tablet := createApp(e, "alice", "alice-password", "Tablet")

	// App password logins work for DAV and never run Argon2.
	runs := e.auth.Argon2Runs()
	for _, secret := range []string{phone, tablet, strings.ToLower(strings.ReplaceAll(phone, "-", ""))} {
		e.must(207, "alice", secret, "PROPFIND", "/dav/calendars/alice/", propfindHome, "Depth", "1")
		e.must(201, "alice", secret, "PUT", "/dav/calendars/alice/calendar/"+secret[:5]+".ics", strings.ReplaceAll(eventCRLF, "ev-1@example.org", secret[:5]), "Content-Type", "text/calendar")
	}
	if got := e.auth.Argon2Runs(); got != runs {
		t.Fatalf("app password logins ran Argon2 %d times", got-runs)
	}

	// The list shows labels, dates and last use, never a secret.
	list := e.must(200, "alice", "alice-password", "GET", "/account/app-passwords", "")
	for _, s := range []string{phone, tablet, auth.NormalizeSecret(phone), auth.NormalizeSecret(tablet)} {
		if strings.Contains(list.body, s) {
			t.Fatalf("the list shows a secret: %s", list.body)
		}
	}
	var listed struct {
		AppPasswords []auth.AppPasswordInfo `json:"app_passwords"`
	}
	if err := json.Unmarshal([]byte(list.body), &listed); err != nil || len(listed.AppPasswords) != 2 ||
		listed.AppPasswords[0].Label != "Pixel 9" || listed.AppPasswords[0].LastUsed.IsZero() || listed.AppPasswords[0].Created.IsZero() {
		t.Fatalf("list = %s (%v)", list.body, err)
	}
	// Bob sees none of alice's.
	if b := e.must(200, "bob", "bob-password", "GET", "/account/app-passwords", "").body; strings.Contains(b, "Pixel") {
		t.Fatalf("bob's list = %s", b)
	}

	tests := []struct {
		name, user, password string
		want                 int
	}{
		{"wrong app password", "alice", flip(phone), 401},
		{"alice's app password as bob", "bob", phone, 401},
		{"unknown user", "carol", phone, 401},
	}
	for _, tt := range tests {
		if a := e.do(tt.user, tt.password, "PROPFIND", "/dav/calendars/"+tt.user+"/", propfindHome, "Depth", "0"); a.status != tt.want {
			t.Errorf("%s: %d, want %d", tt.name, a.status, tt.want)
		}
	}

	// An app password cannot manage the account.
	for _, r := range []struct{ method, path, body string }{
		{"GET", "/account/app-passwords", ""},
		{"POST", "/account/app-passwords", `{"label": "another"}`},
		{"DELETE", "/account/app-passwords/" + phoneID, ""},
		{"POST", "/account/password", `{"current": "alice-password", "new": "taken-over-1"}`},
		{"POST", "/account/erase", `{"password": "alice-password"}`},
	} {
		if a := e.do("alice", tablet, r.method, r.path, r.body); a.status != 403 || !strings.Contains(a.body, "account password") {
			t.Errorf("%s %s with an app password: %d %s", r.method, r.path, a.status, a.body)
		}
	}

	// Revoking one stops it at once (it was in the login cache), while the other still works.
	e.must(200, "alice", "alice-password", "DELETE", "/account/app-passwords/"+phoneID, "")
	e.must(401, "alice", phone, "PROPFIND", "/dav/calendars/alice/", propfindHome, "Depth", "0")
	e.must(207, "alice", tablet, "PROPFIND", "/dav/calendars/alice/", propfindHome, "Depth", "0")
	e.must(404, "alice", "alice-password", "DELETE", "/account/app-passwords/"+phoneID, "")
	if got, want := e.events.list(), []string{"app_password_created:", "app_password_created:", "app_password_revoked:"}; !slices.Equal(got, want) {
		t.Fatalf("events = %v, want %v", got, want)
	}
}

func TestChangePasswordOverHTTP(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice", "alice-password")
	_, app := createApp(e, "alice", "alice-password", "phone")
	e.must(201, "alice", "alice-password", "PUT", "/dav/calendars/alice/calendar/x.ics", eventCRLF, "Content-Type", "text/calendar")
	e.must(200, "alice", "alice-password", "POST", "/account/password", `{"current": "alice-password", "new": "a-new-password"}`)
	// The old password was in the login cache; it stops at once.
	e.must(401, "alice", "alice-password", "GET", "/dav/calendars/alice/calendar/x.ics", "")
	e.must(401, "alice", "alice-password", "GET", "/account/app-passwords", "")
	if got := e.must(200, "alice", "a-new-password", "GET", "/dav/calendars/alice/calendar/x.ics", "").body; got != eventCRLF {
		t.Fatalf("data after the change: %q", got)
	}
	// App passwords have their own key slots and keep working.
	e.must(200, "alice", app, "GET", "/dav/calendars/alice/calendar/x.ics", "")
	if got := e.events.list(); !slices.Equal(got, []string{"app_password_created:", "password_changed:"}) {
		t.Fatalf("events = %v", got)
	}
}

func TestEraseOverHTTP(t *testing.T) {
	e := newEnv(t)
	alice := e.addUser("alice", "alice-password")
	e.addUser("bob", "bob-password")
	fillAccount(e, "alice", "alice-password")
	_, app := createApp(e, "alice", "alice-password", "phone")
	e.must(207, "alice", app, "PROPFIND", "/dav/calendars/alice/", propfindHome, "Depth", "1")
	// Markers of alice that are in the files: her e-mail, and her key slots.
	markers := [][]byte{[]byte("alice@example.org")}
	apps, err := e.db.AppPasswords(context.Background(), alice.ID)
	if err != nil || len(apps) != 1 {
		t.Fatal(apps, err)
	}
	markers = append(markers, apps[0].Slot.Wrapped, apps[0].Verifier)
	for _, kind := range []string{"password", "recovery"} {
		s, err := e.db.Slot(context.Background(), alice.ID, kind)
		if err != nil {
			t.Fatal(err)
		}
		markers = append(markers, s.Wrapped)
	}
	assertMarkers(t, e.dir, markers, true)

	e.must(400, "alice", "alice-password", "POST", "/account/erase", `{}`)
	e.must(403, "alice", "alice-password", "POST", "/account/erase", `{"password": "bob-password"}`)
	e.must(403, "alice", "alice-password", "POST", "/account/erase", `{"password": "`+app+`"}`)
	e.must(200, "alice", "alice-password", "POST", "/account/erase", `{"password": "alice-password"}`)

	e.must(401, "alice", "alice-password", "PROPFIND", "/dav/calendars/alice/", propfindHome, "Depth", "0")
	e.must(401, "alice", app, "PROPFIND", "/dav/calendars/alice/", propfindHome, "Depth", "0")
	e.must(401, "alice", "alice-password", "GET", "/account/export", "")
	assertMarkers(t, e.dir, markers, false)
	// Bob is untouched.
	e.must(207, "bob", "bob-password", "PROPFIND", "/dav/calendars/bob/", propfindHome, "Depth", "1")
}

// assertMarkers checks whether each marker is in the database file or its WAL.
func assertMarkers(t *testing.T, dir string, markers [][]byte, want bool) {
	t.Helper()
	var all []byte
	for _, name := range []string{"coffer.db", "coffer.db-wal"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	for i, m := range markers {
		if got := bytes.Contains(all, m); got != want {
			t.Fatalf("marker %d in the database files: %v, want %v", i, got, want)
		}
	}
}

// TestBadRequests: every bad request gets a 4xx with a JSON error, naming
// the field where there is one, and changes nothing.
func TestBadRequests(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice", "alice-password")
	const pw = "alice-password"
	tests := []struct {
		name, user, password, method, path, body string
		status                                   int
		field                                    string
	}{
		{"no credentials", "", "", "GET", "/account/export", "", 401, ""},
		{"wrong password", "alice", "wrong-password", "GET", "/account/export", "", 401, ""},
		{"unknown user", "mallory", pw, "GET", "/account/app-passwords", "", 401, ""},
		{"unknown endpoint", "alice", pw, "GET", "/account/nothing", "", 404, ""},
		{"the prefix alone", "alice", pw, "GET", "/account/", "", 404, ""},
		{"wrong method", "alice", pw, "GET", "/account/password", "", 405, ""},
		{"PUT on export", "alice", pw, "PUT", "/account/export", "x", 405, ""},
		{"not JSON", "alice", pw, "POST", "/account/password", "current=x", 400, ""},
		{"a JSON list", "alice", pw, "POST", "/account/password", `["a"]`, 400, ""},
		{"two objects", "alice", pw, "POST", "/account/password", `{"current": "x", "new": "yyyyyyyy"} {}`, 400, ""},
		{"a number for a string", "alice", pw, "POST", "/account/password", `{"current": 5, "new": "long enough"}`, 400, "current"},
		{"unknown field", "alice", pw, "POST", "/account/password", `{"current": "alice-password", "neu": "long enough"}`, 400, "neu"},
		{"new too short", "alice", pw, "POST", "/account/password", `{"current": "alice-password", "new": "short"}`, 400, "new"},
		{"current missing", "alice", pw, "POST", "/account/password", `{"new": "long enough"}`, 400, "current"},
		{"current wrong", "alice", pw, "POST", "/account/password", `{"current": "not-it-at-all", "new": "long enough"}`, 403, "current"},
		{"too large", "alice", pw, "POST", "/account/password", `{"current": "` + strings.Repeat("a", 70<<10) + `"}`, 413, ""},
		{"empty label", "alice", pw, "POST", "/account/app-passwords", `{"label": ""}`, 400, "label"},
		{"blank label", "alice", pw, "POST", "/account/app-passwords", `{"label": "   "}`, 400, "label"},
		{"control in label", "alice", pw, "POST", "/account/app-passwords", `{"label": "a\u0000b"}`, 400, "label"},
		{"long label", "alice", pw, "POST", "/account/app-passwords", `{"label": "` + strings.Repeat("x", 101) + `"}`, 400, "label"},
		{"null body", "alice", pw, "POST", "/account/app-passwords", `null`, 400, "label"},
		{"unknown app password", "alice", pw, "DELETE", "/account/app-passwords/abcdefabcdefabcd", "", 404, ""},
		{"nested path", "alice", pw, "DELETE", "/account/app-passwords/a/b", "", 404, ""},
		{"empty id", "alice", pw, "DELETE", "/account/app-passwords/", "", 404, ""},
		{"erase without password", "alice", pw, "POST", "/account/erase", `{"password": ""}`, 400, "password"},
		{"erase with a wrong one", "alice", pw, "POST", "/account/erase", `{"password": "wrong-password"}`, 403, "password"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := e.do(tt.user, tt.password, tt.method, tt.path, tt.body)
			var body errorBody
			if err := json.Unmarshal([]byte(a.body), &body); err != nil || body.Error == "" {
				t.Fatalf("%d, body %q is not a JSON error", a.status, a.body)
			}
			if a.status != tt.status || body.Field != tt.field {
				t.Fatalf("%d field %q (%s), want %d field %q", a.status, body.Field, body.Error, tt.status, tt.field)
			}
			if a.status == 401 && a.header.Get("WWW-Authenticate") == "" {
				t.Fatal("401 without WWW-Authenticate")
			}
			if a.status == 405 && a.header.Get("Allow") == "" {
				t.Fatal("405 without Allow")
			}
			if a.header.Get("Cache-Control") != "no-store" {
				t.Fatal("an account answer may be cached")
			}
		})
	}
	// Nothing changed: the password still works and no app password exists.
	if b := e.must(200, "alice", pw, "GET", "/account/app-passwords", "").body; !strings.Contains(b, `"app_passwords": []`) {
		t.Fatalf("list after bad requests: %s", b)
	}
}

// flip changes the last letter of a secret to another valid one.
func flip(s string) string {
	last := s[len(s)-1]
	repl := byte('A')
	if last == 'A' || last == 'a' {
		repl = 'B'
	}
	return s[:len(s)-1] + string(repl)
}

// TestCrossSiteRefused: with the browser's cached Basic credentials, a page
// of another site cannot act on the account: bodies must be application/json
// (which a browser sends cross-site only after a preflight nothing answers),
// and an Origin or Sec-Fetch-Site naming another site is refused before any
// login. Programs, which send neither header, and same-origin pages work.
func TestCrossSiteRefused(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice", "alice-password")
	const pw, label = "alice-password", `{"label": "CSRF"}`
	tests := []struct {
		name, method, path, body string
		headers                  []string
		status                   int
	}{
		{"text/plain from evil.example (the attack)", "POST", "/account/app-passwords", label, []string{"Content-Type", "text/plain", "Origin", "https://evil.example"}, 403},
		{"text/plain, no Origin", "POST", "/account/app-passwords", label, []string{"Content-Type", "text/plain;charset=UTF-8"}, 415},
		{"a form", "POST", "/account/app-passwords", "label=CSRF", []string{"Content-Type", "application/x-www-form-urlencoded"}, 415},
		{"multipart", "POST", "/account/erase", "--b\r\n\r\n" + pw + "\r\n--b--", []string{"Content-Type", "multipart/form-data; boundary=b"}, 415},
		{"no type", "POST", "/account/password", `{"current": "alice-password", "new": "new-password-1"}`, []string{"Content-Type", ""}, 415},
		{"JSON from evil.example", "POST", "/account/app-passwords", label, []string{"Origin", "https://evil.example"}, 403},
		{"JSON, Sec-Fetch-Site cross-site", "POST", "/account/app-passwords", label, []string{"Sec-Fetch-Site", "cross-site"}, 403},
		{"JSON, Sec-Fetch-Site same-site", "POST", "/account/app-passwords", label, []string{"Sec-Fetch-Site", "same-site"}, 403},
		{"JSON from a sandboxed page", "POST", "/account/app-passwords", label, []string{"Origin", "null"}, 403},
		{"same host, other port", "POST", "/account/app-passwords", label, []string{"Origin", "http://127.0.0.1:1"}, 403},
		{"erase from evil.example", "POST", "/account/erase", `{"password": "alice-password"}`, []string{"Origin", "https://evil.example"}, 403},
		{"revoke from evil.example", "DELETE", "/account/app-passwords/abcdefabcdefabcd", "", []string{"Origin", "https://evil.example"}, 403},
		{"export for evil.example", "GET", "/account/export", "", []string{"Sec-Fetch-Site", "cross-site"}, 403},
		{"JSON, no Origin (curl)", "POST", "/account/app-passwords", `{"label": "curl"}`, nil, 201},
		{"JSON, same origin", "POST", "/account/app-passwords", `{"label": "same origin"}`, []string{"Origin", e.srv.URL, "Sec-Fetch-Site", "same-origin"}, 201},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := e.do("alice", pw, tt.method, tt.path, tt.body, tt.headers...)
			if a.status != tt.status {
				t.Fatalf("%d, want %d: %s", a.status, tt.status, a.body)
			}
		})
	}
	// Only the two allowed requests created anything; the password holds.
	b := e.must(200, "alice", pw, "GET", "/account/app-passwords", "").body
	if strings.Count(b, `"label"`) != 2 || strings.Contains(b, "CSRF") {
		t.Fatalf("app passwords after the cross-site requests: %s", b)
	}
}
