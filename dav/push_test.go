package dav

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coffer-dav/coffer/storage"
)

// Literal WebDAV-Push bodies. The register body is the one DAVx5's
// PushRegistrationManager (davx5-ose) writes with dav4jvm's element names
// through the Android XML serializer: generated prefix n0, no trigger,
// expires three days ahead. The key and secret are RFC 8291 Appendix A's.
const (
	pushTestKey    = "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4"
	pushTestSecret = "BTBZMqHH6r4Tts7J_aSIgg"
	pushTestURL    = "https://ntfy.sh/upTm9wZkXaQxIt?up=1"

	bodyDAVx5PushRegister = `<?xml version='1.0' encoding='UTF-8' standalone='yes' ?><n0:push-register xmlns:n0="https://bitfire.at/webdav-push"><n0:subscription><n0:web-push-subscription><n0:push-resource>` + pushTestURL + `</n0:push-resource><n0:subscription-public-key type="p256dh">` + pushTestKey + `</n0:subscription-public-key><n0:auth-secret>` + pushTestSecret + `</n0:auth-secret></n0:web-push-subscription></n0:subscription><n0:expires>Mon, 07 Dec 2026 18:00:00 GMT</n0:expires></n0:push-register>`

	// bodyPushRegisterDraft is the draft's own example (section 3.1, file
	// xml/sample-push-register.xml in bitfireAT/webdav-push), with a
	// trigger, the older key name and a far expiry.
	bodyPushRegisterDraft = `<push-register xmlns="https://bitfire.at/webdav-push" xmlns:D="DAV:">
  <subscription>
    <web-push-subscription>
      <push-resource>https://up.example.net/yohd4yai5Phiz1wi</push-resource>
      <content-encoding>aes128gcm</content-encoding>
      <client-public-key type="p256dh">` + pushTestKey + `</client-public-key>
      <auth-secret>` + pushTestSecret + `</auth-secret>
    </web-push-subscription>
  </subscription>
  <trigger>
    <content-update>
      <D:sync-level>infinite</D:sync-level>
    </content-update>
    <property-update>
      <D:depth>0</D:depth>
      <D:prop>
        <D:displayname/>
        <D:owner/>
      </D:prop>
    </property-update>
  </trigger>
  <expires>Wed, 20 Dec 2028 10:03:31 GMT</expires>
</push-register>`

	// bodyPushProps asks for the three discovery properties (draft
	// section 2.1 example).
	bodyPushProps = `<?xml version="1.0" encoding="utf-8" ?><propfind xmlns="DAV:" xmlns:P="https://bitfire.at/webdav-push"><prop><P:transports/><P:topic/><P:supported-triggers/></prop></propfind>`

	pushTestVAPID = "BDd3_hVL9fZi9Ybo2UUzA284WG5FZR30_95YeZJsiApwXKpNcF1rRPF3foIiBHXRdJI2Qhumhf6_LFTeZaNndIo"
)

// pushTestNow is the fake clock: the Friday DAVx5's body was written.
var pushTestNow = time.Date(2026, 12, 4, 18, 0, 0, 0, time.UTC)

// memPush is an in-memory PushTopics and PushRegistry, one table per space.
type memPush struct {
	mu   sync.Mutex
	subs map[storage.Space]map[string]memSub
	fail error // returned by every call when set
}

type memSub struct {
	target PushTarget
	sub    PushSubscription
}

func newMemPush() *memPush { return &memPush{subs: map[storage.Space]map[string]memSub{}} }

func (m *memPush) Topic(ctx context.Context, space storage.Space, t PushTarget) (string, error) {
	if m.fail != nil {
		return "", m.fail
	}
	return fmt.Sprintf("topic-%p-%d-%s-%d", space, t.Kind, t.Home, t.Collection), nil
}

func (m *memPush) Register(ctx context.Context, space storage.Space, t PushTarget, s PushSubscription) (string, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return "", false, m.fail
	}
	tab := m.subs[space]
	if tab == nil {
		tab = map[string]memSub{}
		m.subs[space] = tab
	}
	for id, e := range tab {
		if e.target == t && e.sub.PushResource == s.PushResource {
			s.ID = id
			tab[id] = memSub{t, s}
			return id, true, nil
		}
	}
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	s.ID = base64.RawURLEncoding.EncodeToString(b)
	tab[s.ID] = memSub{t, s}
	return s.ID, false, nil
}

func (m *memPush) Unregister(ctx context.Context, space storage.Space, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.subs[space][id]; !ok {
		return storage.ErrNotFound
	}
	delete(m.subs[space], id)
	return nil
}

func (m *memPush) List(ctx context.Context, space storage.Space, t PushTarget) ([]PushSubscription, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []PushSubscription
	for _, e := range m.subs[space] {
		if e.target == t {
			out = append(out, e.sub)
		}
	}
	return out, nil
}

// all returns every subscription of a space.
func (m *memPush) all(space storage.Space) []memSub {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []memSub
	for _, e := range m.subs[space] {
		out = append(out, e)
	}
	return out
}

// newPushServer is a test server with push on, the fake registry and the
// fake clock.
func newPushServer(t *testing.T, opts ...func(*PushOptions)) (*testServer, *memPush) {
	m := newMemPush()
	ts := newTestServer(t, func(o *Options) {
		o.Push = PushOptions{Enabled: true, VAPIDPublicKey: pushTestVAPID, Topics: m, Registry: m,
			Now: func() time.Time { return pushTestNow }}
		for _, f := range opts {
			f(&o.Push)
		}
	})
	return ts, m
}

// registrationPath returns the path of an absolute registration URL.
func registrationPath(t *testing.T, location string) string {
	t.Helper()
	p, ok := strings.CutPrefix(location, "http://dav.example.org:8443")
	if !ok || !strings.HasPrefix(p, "/dav/push/") {
		t.Fatalf("Location %q is not an absolute registration URL", location)
	}
	return p
}

func TestPushRegisterDAVx5(t *testing.T) {
	tests := []struct {
		path string
		kind PushTargetKind
	}{
		{"/dav/calendars/alice/calendar/", PushCollection},
		{"/dav/calendars/alice/tasks/", PushCollection},
		{"/dav/addressbooks/alice/contacts/", PushCollection},
		{"/dav/calendars/alice/", PushHome},
		{"/dav/addressbooks/alice/", PushHome},
		{"/dav/principals/alice/", PushPrincipal},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			ts, m := newPushServer(t)
			rec := ts.do(t, "alice", "POST", tc.path, bodyDAVx5PushRegister,
				"Content-Type: application/xml; charset=utf-8", "User-Agent: DAVx5/4.5.9-ose (at.bitfire.davdroid)")
			if rec.Code != http.StatusCreated {
				t.Fatalf("status %d, want 201: %s", rec.Code, rec.Body)
			}
			loc := rec.Header().Get("Location")
			regPath := registrationPath(t, loc)
			// DAVx5 asked for exactly three days, the draft's minimum.
			if got := rec.Header().Get("Expires"); got != "Mon, 07 Dec 2026 18:00:00 GMT" {
				t.Errorf("Expires %q", got)
			}
			subs := m.all(ts.alice)
			if len(subs) != 1 {
				t.Fatalf("%d subscriptions", len(subs))
			}
			s := subs[0]
			if s.target.Kind != tc.kind || regPath != "/dav/push/"+s.sub.ID {
				t.Errorf("target %+v, id %q, path %q", s.target, s.sub.ID, regPath)
			}
			key, _ := base64.RawURLEncoding.DecodeString(pushTestKey)
			secret, _ := base64.RawURLEncoding.DecodeString(pushTestSecret)
			if s.sub.PushResource != pushTestURL || !bytes.Equal(s.sub.PublicKey, key) || !bytes.Equal(s.sub.AuthSecret, secret) {
				t.Errorf("subscription %+v", s.sub)
			}
			// No trigger in DAVx5's body: everything the target supports.
			wantContent, wantProperty := tc.kind != PushPrincipal, tc.kind != PushHome
			if s.sub.ContentUpdate != wantContent || s.sub.PropertyUpdate != wantProperty {
				t.Errorf("triggers content=%v property=%v", s.sub.ContentUpdate, s.sub.PropertyUpdate)
			}
			if !s.sub.Expires.Equal(pushTestNow.Add(72 * time.Hour)) {
				t.Errorf("stored expiry %v", s.sub.Expires)
			}

			// DAVx5 renews daily with the same push resource: 204, same URL.
			rec = ts.do(t, "alice", "POST", tc.path, bodyDAVx5PushRegister)
			if rec.Code != http.StatusNoContent || rec.Header().Get("Location") != loc || rec.Header().Get("Expires") == "" {
				t.Fatalf("renewal: %d %v", rec.Code, rec.Header())
			}
			if n := len(m.all(ts.alice)); n != 1 {
				t.Fatalf("%d subscriptions after renewal", n)
			}

			// Only the owner can end it; another user's DELETE sees no such URL.
			if rec := ts.do(t, "bob", "DELETE", regPath, ""); rec.Code != http.StatusNotFound {
				t.Fatalf("bob's DELETE: %d", rec.Code)
			}
			if rec := ts.do(t, "alice", "DELETE", regPath, ""); rec.Code != http.StatusNoContent {
				t.Fatalf("DELETE: %d %s", rec.Code, rec.Body)
			}
			if n := len(m.all(ts.alice)); n != 0 {
				t.Fatalf("%d subscriptions after DELETE", n)
			}
			if rec := ts.do(t, "alice", "DELETE", regPath, ""); rec.Code != http.StatusNotFound {
				t.Fatalf("second DELETE: %d", rec.Code)
			}
		})
	}
}

func TestPushRegisterExpiry(t *testing.T) {
	reg := func(expires string) string {
		return strings.Replace(bodyDAVx5PushRegister, "Mon, 07 Dec 2026 18:00:00 GMT", expires, 1)
	}
	tests := []struct {
		name, body string
		cap        time.Duration
		want       string
	}{
		{"asked three days", bodyDAVx5PushRegister, 0, "Mon, 07 Dec 2026 18:00:00 GMT"},
		{"asked one hour: the minimum", reg("Fri, 04 Dec 2026 19:00:00 GMT"), 0, "Mon, 07 Dec 2026 18:00:00 GMT"},
		{"asked a past date: the minimum", reg("Sun, 06 Nov 1994 08:49:37 GMT"), 0, "Mon, 07 Dec 2026 18:00:00 GMT"},
		{"asked five days", reg("Wed, 09 Dec 2026 18:00:00 GMT"), 0, "Wed, 09 Dec 2026 18:00:00 GMT"},
		{"asked a year: the default cap", reg("Sat, 04 Dec 2027 18:00:00 GMT"), 0, "Fri, 11 Dec 2026 18:00:00 GMT"},
		{"asked a year, cap 30 days", reg("Sat, 04 Dec 2027 18:00:00 GMT"), 30 * 24 * time.Hour, "Sun, 03 Jan 2027 18:00:00 GMT"},
		{"cap below the minimum is raised", reg("Sat, 04 Dec 2027 18:00:00 GMT"), time.Hour, "Mon, 07 Dec 2026 18:00:00 GMT"},
		{"RFC 850 date", reg("Wednesday, 09-Dec-26 18:00:00 GMT"), 0, "Wed, 09 Dec 2026 18:00:00 GMT"},
		{"unreadable date: the cap", reg("next tuesday"), 0, "Fri, 11 Dec 2026 18:00:00 GMT"},
		{"no expires: the cap", strings.Replace(bodyDAVx5PushRegister, "<n0:expires>Mon, 07 Dec 2026 18:00:00 GMT</n0:expires>", "", 1), 0, "Fri, 11 Dec 2026 18:00:00 GMT"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts, m := newPushServer(t, func(o *PushOptions) { o.MaxExpiry = tc.cap })
			rec := ts.do(t, "alice", "POST", "/dav/calendars/alice/calendar/", tc.body)
			if rec.Code != http.StatusCreated {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			if got := rec.Header().Get("Expires"); got != tc.want {
				t.Errorf("Expires %q, want %q", got, tc.want)
			}
			if subs := m.all(ts.alice); len(subs) != 1 || subs[0].sub.Expires.Format(http.TimeFormat) != tc.want {
				t.Errorf("stored %+v", subs)
			}
		})
	}
}

func TestPushRegisterDraftBodyTriggers(t *testing.T) {
	withTrigger := func(inner string) string {
		return strings.Replace(bodyDAVx5PushRegister, "<n0:expires>", "<n0:trigger>"+inner+"</n0:trigger><n0:expires>", 1)
	}
	content := `<n0:content-update><D:sync-level xmlns:D="DAV:">1</D:sync-level></n0:content-update>`
	property := `<n0:property-update><D:depth xmlns:D="DAV:">0</D:depth></n0:property-update>`
	tests := []struct {
		name, path, body    string
		status              int
		cond                string
		wantContent, wantPr bool
	}{
		{"draft sample on a calendar", "/dav/calendars/alice/calendar/", bodyPushRegisterDraft, 201, "", true, true},
		{"draft sample on a home: property trigger dropped", "/dav/calendars/alice/", bodyPushRegisterDraft, 201, "", true, false},
		{"content only", "/dav/addressbooks/alice/contacts/", withTrigger(content), 201, "", true, false},
		{"property only", "/dav/calendars/alice/tasks/", withTrigger(property), 201, "", false, true},
		{"property on a home", "/dav/calendars/alice/", withTrigger(property), 403, "no-supported-trigger", false, false},
		{"content on the principal", "/dav/principals/alice/", withTrigger(content), 403, "no-supported-trigger", false, false},
		{"empty trigger", "/dav/calendars/alice/calendar/", withTrigger(""), 403, "no-supported-trigger", false, false},
		{"unknown trigger", "/dav/calendars/alice/calendar/", withTrigger("<n0:moon-phase/>"), 403, "no-supported-trigger", false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts, m := newPushServer(t)
			rec := ts.do(t, "alice", "POST", tc.path, tc.body)
			checkStatusCond(t, rec.Code, rec.Body.String(), tc.status, tc.cond)
			subs := m.all(ts.alice)
			if tc.status != 201 {
				if len(subs) != 0 {
					t.Fatalf("refused request stored %+v", subs)
				}
				return
			}
			if len(subs) != 1 || subs[0].sub.ContentUpdate != tc.wantContent || subs[0].sub.PropertyUpdate != tc.wantPr {
				t.Fatalf("subscriptions %+v", subs)
			}
		})
	}
}

// checkStatusCond checks a status and, for errors, the condition element
// in the XML body.
func checkStatusCond(t *testing.T, code int, body string, status int, cond string) {
	t.Helper()
	if code != status {
		t.Fatalf("status %d, want %d: %s", code, status, body)
	}
	if cond != "" && !strings.Contains(body, "<"+cond+` xmlns="https://bitfire.at/webdav-push"/>`) {
		t.Fatalf("body lacks %s: %s", cond, body)
	}
}

func TestPushRegisterRefused(t *testing.T) {
	sub := func(old, new string) string { return strings.Replace(bodyDAVx5PushRegister, old, new, 1) }
	key, _ := base64.RawURLEncoding.DecodeString(pushTestKey)
	offCurve := append([]byte{}, key...)
	offCurve[64] ^= 1
	compressed := append([]byte{0x02}, key[1:33]...)
	tests := []struct {
		name, user, path, body string
		loopback               bool
		status                 int
		cond                   string
	}{
		{"broken XML", "alice", "/dav/calendars/alice/calendar/", bodyDAVx5PushRegister[:200], false, 400, ""},
		{"another root", "alice", "/dav/calendars/alice/calendar/", `<propfind xmlns="DAV:"><allprop/></propfind>`, false, 400, ""},
		{"empty body", "alice", "/dav/calendars/alice/calendar/", "", false, 400, ""},
		{"no subscription", "alice", "/dav/calendars/alice/calendar/", `<push-register xmlns="https://bitfire.at/webdav-push"/>`, false, 403, "invalid-subscription"},
		{"two subscriptions", "alice", "/dav/calendars/alice/calendar/", sub("</n0:subscription>", "</n0:subscription><n0:subscription/>"), false, 403, "invalid-subscription"},
		{"other transport", "alice", "/dav/calendars/alice/calendar/", sub("<n0:web-push-subscription>", "<n0:apns-subscription/><n0:web-push-subscription>"), false, 403, "invalid-subscription"},
		{"no push resource", "alice", "/dav/calendars/alice/calendar/", sub("<n0:push-resource>"+pushTestURL+"</n0:push-resource>", ""), false, 403, "invalid-subscription"},
		{"http push resource", "alice", "/dav/calendars/alice/calendar/", sub(pushTestURL, "http://ntfy.sh/upX"), false, 403, "invalid-subscription"},
		{"relative push resource", "alice", "/dav/calendars/alice/calendar/", sub(pushTestURL, "/upX"), false, 403, "invalid-subscription"},
		{"other port", "alice", "/dav/calendars/alice/calendar/", sub(pushTestURL, "https://ntfy.sh:22/upX"), false, 403, "invalid-subscription"},
		{"credentials in URL", "alice", "/dav/calendars/alice/calendar/", sub(pushTestURL, "https://u:p@ntfy.sh/upX"), false, 403, "invalid-subscription"},
		{"loopback without the flag", "alice", "/dav/calendars/alice/calendar/", sub(pushTestURL, "https://127.0.0.1/upX"), false, 403, "invalid-subscription"},
		{"localhost without the flag", "alice", "/dav/calendars/alice/calendar/", sub(pushTestURL, "https://localhost/upX"), false, 403, "invalid-subscription"},
		{"private address", "alice", "/dav/calendars/alice/calendar/", sub(pushTestURL, "https://10.0.0.7/upX"), false, 403, "invalid-subscription"},
		{"IPv6 link-local", "alice", "/dav/calendars/alice/calendar/", sub(pushTestURL, "https://[fe80::1]/upX"), false, 403, "invalid-subscription"},
		{"loopback flag: other host still needs https", "alice", "/dav/calendars/alice/calendar/", sub(pushTestURL, "http://ntfy.sh/upX"), true, 403, "invalid-subscription"},
		{"loopback flag: private address still refused", "alice", "/dav/calendars/alice/calendar/", sub(pushTestURL, "http://192.168.1.2:8080/upX"), true, 403, "invalid-subscription"},
		{"overlong push resource", "alice", "/dav/calendars/alice/calendar/", sub(pushTestURL, "https://ntfy.sh/"+strings.Repeat("a", maxPushResource)), false, 403, "invalid-subscription"},
		{"no public key", "alice", "/dav/calendars/alice/calendar/", sub(`<n0:subscription-public-key type="p256dh">`+pushTestKey+`</n0:subscription-public-key>`, ""), false, 403, "invalid-subscription"},
		{"key type", "alice", "/dav/calendars/alice/calendar/", sub(`type="p256dh"`, `type="x25519"`), false, 403, "invalid-subscription"},
		{"key not base64url", "alice", "/dav/calendars/alice/calendar/", sub(pushTestKey, strings.Repeat("*", 87)), false, 403, "invalid-subscription"},
		{"key too short", "alice", "/dav/calendars/alice/calendar/", sub(pushTestKey, pushTestKey[:80]), false, 403, "invalid-subscription"},
		{"key compressed", "alice", "/dav/calendars/alice/calendar/", sub(pushTestKey, base64.RawURLEncoding.EncodeToString(compressed)), false, 403, "invalid-subscription"},
		{"key off the curve", "alice", "/dav/calendars/alice/calendar/", sub(pushTestKey, base64.RawURLEncoding.EncodeToString(offCurve)), false, 403, "invalid-subscription"},
		{"two keys", "alice", "/dav/calendars/alice/calendar/", sub("<n0:auth-secret>", `<n0:subscription-public-key type="p256dh">`+pushTestKey+`</n0:subscription-public-key><n0:auth-secret>`), false, 403, "invalid-subscription"},
		{"no auth secret", "alice", "/dav/calendars/alice/calendar/", sub("<n0:auth-secret>"+pushTestSecret+"</n0:auth-secret>", ""), false, 403, "invalid-subscription"},
		{"auth secret 15 bytes", "alice", "/dav/calendars/alice/calendar/", sub(pushTestSecret, base64.RawURLEncoding.EncodeToString(make([]byte, 15))), false, 403, "invalid-subscription"},
		{"other content encoding", "alice", "/dav/calendars/alice/calendar/", sub("<n0:push-resource>", "<n0:content-encoding>aesgcm</n0:content-encoding><n0:push-resource>"), false, 403, "invalid-subscription"},
		{"plain collection", "alice", "/dav/calendars/alice/plain/", bodyDAVx5PushRegister, false, 403, "push-not-available"},
		{"object", "alice", "/dav/calendars/alice/calendar/e.ics", bodyDAVx5PushRegister, false, 403, "push-not-available"},
		{"missing collection", "alice", "/dav/calendars/alice/nothing/", bodyDAVx5PushRegister, false, 404, ""},
		{"another user's collection", "bob", "/dav/calendars/alice/calendar/", bodyDAVx5PushRegister, false, 403, ""},
		{"too large", "alice", "/dav/calendars/alice/calendar/", sub("<n0:expires>", "<n0:x>"+strings.Repeat("a", maxPushBody)+"</n0:x><n0:expires>"), false, 413, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts, m := newPushServer(t, func(o *PushOptions) { o.AllowLoopback = tc.loopback })
			if rec := ts.do(t, "alice", "MKCOL", "/dav/calendars/alice/plain/", ""); rec.Code != http.StatusCreated {
				t.Fatalf("MKCOL: %d", rec.Code)
			}
			if rec := ts.do(t, "alice", "PUT", "/dav/calendars/alice/calendar/e.ics", benchEvent(1, "Push")); rec.Code != http.StatusCreated {
				t.Fatalf("PUT: %d %s", rec.Code, rec.Body)
			}
			rec := ts.do(t, tc.user, "POST", tc.path, tc.body)
			checkStatusCond(t, rec.Code, rec.Body.String(), tc.status, tc.cond)
			if ct := rec.Header().Get("Content-Type"); ct != "application/xml; charset=utf-8" {
				t.Errorf("Content-Type %q", ct)
			}
			if rec.Header().Get("Location") != "" {
				t.Errorf("Location on a refusal")
			}
			if n := len(m.all(ts.alice)) + len(m.all(ts.bob)); n != 0 {
				t.Fatalf("a refused request stored %d subscriptions", n)
			}
		})
	}
}

func TestPushRegisterLoopbackFlag(t *testing.T) {
	tests := []struct {
		url      string
		loopback bool
		status   int
	}{
		{"http://127.0.0.1:39123/push/a", true, 201},
		{"https://127.0.0.5:8443/push/a", true, 201},
		{"http://[::1]:39123/push/a", true, 201},
		{"https://push.example.net:8443/a", false, 201},
		{"https://push.example.net:443/a", false, 201},
		{"https://93.184.216.34/a", false, 201},
		{"http://127.0.0.1:39123/push/a", false, 403},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint(tc.url, tc.loopback), func(t *testing.T) {
			ts, m := newPushServer(t, func(o *PushOptions) { o.AllowLoopback = tc.loopback })
			body := strings.Replace(bodyDAVx5PushRegister, pushTestURL, tc.url, 1)
			rec := ts.do(t, "alice", "POST", "/dav/calendars/alice/calendar/", body)
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.status, rec.Body)
			}
			if subs := m.all(ts.alice); tc.status == 201 && (len(subs) != 1 || subs[0].sub.PushResource != tc.url) {
				t.Fatalf("stored %+v", subs)
			}
		})
	}
}

func TestPushOff(t *testing.T) {
	for _, name := range []string{"default options", "enabled without a registry"} {
		t.Run(name, func(t *testing.T) {
			ts := newTestServer(t, func(o *Options) {
				if name != "default options" {
					o.Push = PushOptions{Enabled: true, VAPIDPublicKey: pushTestVAPID}
				}
			})
			rec := ts.do(t, "alice", "POST", "/dav/calendars/alice/calendar/", bodyDAVx5PushRegister)
			checkStatusCond(t, rec.Code, rec.Body.String(), 403, "push-not-available")
			if rec := ts.do(t, "alice", "POST", "/dav/calendars/alice/calendar/", "a=b"); rec.Code != http.StatusMethodNotAllowed {
				t.Fatalf("form POST: %d", rec.Code)
			}
			rec = ts.do(t, "alice", "OPTIONS", "/dav/calendars/alice/calendar/", "")
			if dav := rec.Header().Get("DAV"); dav != davHeader || strings.Contains(rec.Header().Get("Allow"), "POST") {
				t.Fatalf("DAV %q Allow %q", dav, rec.Header().Get("Allow"))
			}
			rec = ts.do(t, "alice", "PROPFIND", "/dav/calendars/alice/calendar/", bodyPushProps, "Depth: 0")
			if r := parseMS(t, rec).Responses[0]; len(r.Propstats) != 1 || r.Propstats[0].Status != "HTTP/1.1 404 Not Found" {
				t.Fatalf("push properties with push off: %+v", r.Propstats)
			}
			if rec := ts.do(t, "alice", "DELETE", "/dav/push/abc", ""); rec.Code != http.StatusNotFound {
				t.Fatalf("DELETE of a registration URL: %d", rec.Code)
			}
		})
	}
}

func TestPushOptionsHeader(t *testing.T) {
	ts, _ := newPushServer(t)
	if rec := ts.do(t, "alice", "PUT", "/dav/calendars/alice/calendar/e.ics", benchEvent(1, "Push")); rec.Code != http.StatusCreated {
		t.Fatalf("PUT: %d", rec.Code)
	}
	tests := []struct {
		path string
		push bool
	}{
		{"/dav/calendars/alice/calendar/", true},
		{"/dav/calendars/alice/tasks/", true},
		{"/dav/addressbooks/alice/contacts/", true},
		{"/dav/calendars/alice/", true},
		{"/dav/addressbooks/alice/", true},
		{"/dav/principals/alice/", true},
		{"/dav/calendars/alice/calendar/e.ics", false},
		{"/dav/", false},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			rec := ts.do(t, "alice", "OPTIONS", tc.path, "")
			dav, allow := rec.Header().Get("DAV"), rec.Header().Get("Allow")
			if rec.Code != http.StatusOK || !strings.HasPrefix(dav, "1, ") {
				t.Fatalf("%d DAV %q", rec.Code, dav)
			}
			if got := strings.HasSuffix(dav, ", webdav-push"); got != tc.push {
				t.Errorf("DAV %q", dav)
			}
			if got := strings.HasSuffix(allow, ", POST"); got != tc.push {
				t.Errorf("Allow %q", allow)
			}
		})
	}
}

func TestPushPropfind(t *testing.T) {
	ts, m := newPushServer(t)
	transports := `<transports xmlns="https://bitfire.at/webdav-push"><web-push><vapid-public-key type="p256ecdsa">` + pushTestVAPID + `</vapid-public-key></web-push></transports>`
	both := `<supported-triggers xmlns="https://bitfire.at/webdav-push"><content-update><D:sync-level>1</D:sync-level></content-update><property-update><D:depth>0</D:depth></property-update></supported-triggers>`
	content := `<supported-triggers xmlns="https://bitfire.at/webdav-push"><content-update><D:sync-level>1</D:sync-level></content-update></supported-triggers>`
	property := `<supported-triggers xmlns="https://bitfire.at/webdav-push"><property-update><D:depth>0</D:depth></property-update></supported-triggers>`
	cal, err := ts.alice.Collection(context.Background(), storage.HomeCalendars, "calendar")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path     string
		target   PushTarget
		triggers string
	}{
		{"/dav/calendars/alice/calendar/", PushTarget{Kind: PushCollection, Home: storage.HomeCalendars, Collection: cal.ID}, both},
		{"/dav/calendars/alice/", PushTarget{Kind: PushHome, Home: storage.HomeCalendars}, content},
		{"/dav/addressbooks/alice/", PushTarget{Kind: PushHome, Home: storage.HomeAddressBooks}, content},
		{"/dav/principals/alice/", PushTarget{Kind: PushPrincipal}, property},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			rec := ts.do(t, "alice", "PROPFIND", tc.path, bodyPushProps, "Depth: 0")
			r := parseMS(t, rec).resp(t, tc.path)
			body := r.ok(t)
			topic, _ := m.Topic(context.Background(), ts.alice, tc.target)
			for _, w := range []string{transports, tc.triggers, `<topic xmlns="https://bitfire.at/webdav-push">` + topic + `</topic>`} {
				if !strings.Contains(body, w) {
					t.Errorf("lacks %s:\n%s", w, body)
				}
			}
			if len(r.Propstats) != 1 {
				t.Errorf("propstats %+v", r.Propstats)
			}
		})
	}

	// DAVx5's Depth 1 home listing (bodyDAVx5HomeList) gets transports and
	// topic on the home and on each calendar, each with its own topic.
	rec := ts.do(t, "alice", "PROPFIND", "/dav/calendars/alice/", bodyDAVx5HomeList, "Depth: 1", "User-Agent: DAVx5/4.5.9-ose (at.bitfire.davdroid)")
	d := parseMS(t, rec)
	topics := map[string]bool{}
	for _, href := range []string{"/dav/calendars/alice/", "/dav/calendars/alice/calendar/", "/dav/calendars/alice/tasks/"} {
		body := d.resp(t, href).ok(t)
		if !strings.Contains(body, transports) {
			t.Errorf("%s lacks transports:\n%s", href, body)
		}
		i := strings.Index(body, `<topic xmlns="https://bitfire.at/webdav-push">`)
		if i < 0 {
			t.Fatalf("%s lacks topic:\n%s", href, body)
		}
		topics[body[i:i+strings.Index(body[i:], "</topic>")]] = true
	}
	if len(topics) != 3 {
		t.Errorf("topics are not distinct: %v", topics)
	}

	// Without a VAPID key web-push stands alone; a failing topic store
	// leaves the topic out and the rest stands.
	ts2, m2 := newPushServer(t, func(o *PushOptions) { o.VAPIDPublicKey = "" })
	m2.fail = fmt.Errorf("store down")
	rec = ts2.do(t, "alice", "PROPFIND", "/dav/addressbooks/alice/contacts/", bodyPushProps, "Depth: 0")
	r := parseMS(t, rec).Responses[0]
	if body := r.ok(t); !strings.Contains(body, `<transports xmlns="https://bitfire.at/webdav-push"><web-push/></transports>`) || !strings.Contains(body, both) {
		t.Errorf("without VAPID key:\n%s", body)
	}
	if !strings.Contains(r.missing(), `<topic xmlns="https://bitfire.at/webdav-push"/>`) {
		t.Errorf("topic not 404 on a failing store: %s", r.missing())
	}
}

func TestPushPropsAreProtected(t *testing.T) {
	ts, _ := newPushServer(t)
	body := `<D:propertyupdate xmlns:D="DAV:" xmlns:P="https://bitfire.at/webdav-push"><D:set><D:prop><P:topic>mine</P:topic></D:prop></D:set></D:propertyupdate>`
	rec := ts.do(t, "alice", "PROPPATCH", "/dav/calendars/alice/calendar/", body)
	if rec.Code != http.StatusMultiStatus || !strings.Contains(rec.Body.String(), "cannot-modify-protected-property") {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
}

func TestPushRegistrationURL(t *testing.T) {
	ts, m := newPushServer(t)
	rec := ts.do(t, "alice", "POST", "/dav/calendars/alice/calendar/", bodyDAVx5PushRegister)
	regPath := registrationPath(t, rec.Header().Get("Location"))
	tests := []struct {
		name, method, path string
		status             int
	}{
		{"GET", "GET", regPath, 405},
		{"PROPFIND", "PROPFIND", regPath, 405},
		{"unknown id", "DELETE", "/dav/push/AAAAAAAAAAAAAAAAAAAAAA", 404},
		{"bad id", "DELETE", "/dav/push/a%2Fb", 404},
		{"nested", "DELETE", regPath + "/x", 404},
		{"empty id", "DELETE", "/dav/push/", 404},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if rec := ts.do(t, "alice", tc.method, tc.path, ""); rec.Code != tc.status {
				t.Fatalf("%d, want %d", rec.Code, tc.status)
			}
			if len(m.all(ts.alice)) != 1 {
				t.Fatalf("the registration is gone")
			}
		})
	}
	if rec := ts.do(t, "", "DELETE", regPath, ""); rec.Code != http.StatusUnauthorized {
		t.Fatalf("anonymous DELETE: %d", rec.Code)
	}

	// Behind --public-url the Location is under the public address.
	ts2 := newTestServer(t, func(o *Options) {
		o.PublicURL = "https://dav.example.com/"
		o.Push = PushOptions{Enabled: true, Topics: m, Registry: m}
	})
	rec = ts2.do(t, "alice", "POST", "/dav/calendars/alice/calendar/", bodyDAVx5PushRegister)
	if loc := rec.Header().Get("Location"); rec.Code != 201 || !strings.HasPrefix(loc, "https://dav.example.com/dav/push/") {
		t.Fatalf("%d Location %q", rec.Code, loc)
	}
}

func TestPushRegistryFailure(t *testing.T) {
	ts, m := newPushServer(t)
	m.fail = fmt.Errorf("disk on fire")
	rec := ts.do(t, "alice", "POST", "/dav/calendars/alice/calendar/", bodyDAVx5PushRegister)
	if rec.Code != http.StatusInternalServerError || strings.Contains(rec.Body.String(), "fire") || rec.Header().Get("Location") != "" {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
}

func FuzzPushRegister(f *testing.F) {
	for _, s := range []string{bodyDAVx5PushRegister, bodyPushRegisterDraft,
		strings.Replace(bodyDAVx5PushRegister, pushTestURL, "http://[::1]:1/x", 1)} {
		f.Add([]byte(s))
	}
	addXMLSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		n, err := parseXML(bytes.NewReader(b))
		if err != nil {
			return
		}
		for _, pol := range []pushPolicy{{}, {allowLoopback: true}} {
			reg, err := parsePushRegister(n, pol)
			if err != nil {
				checkRefusal(t, err, b)
				continue
			}
			if len(reg.publicKey) != p256PublicKeySize || len(reg.authSecret) != authSecretSize {
				t.Fatalf("accepted keys of %d and %d bytes: %q", len(reg.publicKey), len(reg.authSecret), b)
			}
			if _, err := checkPushResource(reg.resource, pol); err != nil {
				t.Fatalf("accepted a push resource it refuses again: %q", reg.resource)
			}
			if !strings.HasPrefix(reg.resource, "https://") && !pol.allowLoopback {
				t.Fatalf("accepted a non-https push resource: %q", reg.resource)
			}
		}
	})
}

func TestPushDontNotify(t *testing.T) {
	tests := []struct {
		name    string
		headers []string
		ids     []string
		all     bool
	}{
		{"none", nil, nil, false},
		{"DAVx5: one quoted absolute URL", []string{`"https://dav.example.org/dav/push/Ab-_9"`}, []string{"Ab-_9"}, false},
		{"bare URL", []string{`https://dav.example.org/dav/push/Ab`}, []string{"Ab"}, false},
		{"behind a path prefix", []string{`"https://example.org/coffer/dav/push/Ab"`}, []string{"Ab"}, false},
		{"list in one header", []string{`"https://h/dav/push/a", "https://h/dav/push/b"`}, []string{"a", "b"}, false},
		{"two headers", []string{`"https://h/dav/push/a"`, `"https://h/dav/push/b"`}, []string{"a", "b"}, false},
		{"star", []string{`"https://h/dav/push/a", *`}, nil, true},
		{"not a registration URL", []string{`"https://h/dav/calendars/alice/calendar/"`, `"https://h/dav/push/a/b"`, `"https://h/dav/push/"`, "%zz"}, nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			for _, v := range tc.headers {
				h.Add("Push-Dont-Notify", v)
			}
			ids, all := PushDontNotify(h)
			if fmt.Sprint(ids) != fmt.Sprint(tc.ids) || all != tc.all {
				t.Fatalf("got %q %v, want %q %v", ids, all, tc.ids, tc.all)
			}
		})
	}
}

func FuzzPushDontNotify(f *testing.F) {
	for _, s := range []string{`"https://dav.example.org/dav/push/Ab-_9"`, `"https://h/dav/push/a", *`, `https://h/dav/push/a,https://h/dav/push/b`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		ids, all := PushDontNotify(http.Header{"Push-Dont-Notify": {v}})
		if all && ids != nil {
			t.Fatalf("all with ids %q", ids)
		}
		for _, id := range ids {
			if !validPushID(id) || !strings.Contains(v, id) {
				t.Fatalf("id %q from %q", id, v)
			}
		}
	})
}
