package dav

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coffer-dav/coffer/push"
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

// pushSub is one stored subscription, as the tests look at it.
type pushSub = storage.Subscription

// allSubs returns every push subscription of a space: on the principal,
// the homes and each collection.
func allSubs(t *testing.T, space storage.Space) []pushSub {
	t.Helper()
	ctx := context.Background()
	targets := []storage.PushTarget{{Scope: storage.ScopePrincipal}, {Scope: storage.ScopeCalendars}, {Scope: storage.ScopeAddressBooks}}
	for _, h := range []storage.Home{storage.HomeCalendars, storage.HomeAddressBooks} {
		cs, err := space.Collections(ctx, h)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cs {
			targets = append(targets, storage.PushTarget{Collection: c.ID})
		}
	}
	var out []pushSub
	for _, tg := range targets {
		subs, err := space.Subscriptions(ctx, tg)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, subs...)
	}
	return out
}

// AddSubscription fails with pushFail when set.
func (s *testSpace) AddSubscription(ctx context.Context, t storage.PushTarget, n storage.NewSubscription) (*storage.Subscription, bool, error) {
	if s.pushFail != nil {
		return nil, false, s.pushFail
	}
	return s.Space.AddSubscription(ctx, t, n)
}

// Topic fails with pushFail when set.
func (s *testSpace) Topic(ctx context.Context, t storage.PushTarget) (string, error) {
	if s.pushFail != nil {
		return "", s.pushFail
	}
	return s.Space.Topic(ctx, t)
}

// newPushServer is a test server with push on and the fake clock.
func newPushServer(t *testing.T, opts ...func(*PushOptions)) *testServer {
	ts := newTestServer(t, func(o *Options) {
		o.Push = PushOptions{Enabled: true, VAPIDPublicKey: pushTestVAPID,
			Now: func() time.Time { return pushTestNow }}
		for _, f := range opts {
			f(&o.Push)
		}
	})
	return ts
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
		path  string
		scope storage.Scope // the scope, or "" for a collection
	}{
		{"/dav/calendars/alice/calendar/", ""},
		{"/dav/calendars/alice/tasks/", ""},
		{"/dav/addressbooks/alice/contacts/", ""},
		{"/dav/calendars/alice/", storage.ScopeCalendars},
		{"/dav/addressbooks/alice/", storage.ScopeAddressBooks},
		{"/dav/principals/alice/", storage.ScopePrincipal},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			ts := newPushServer(t)
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
			subs := allSubs(t, ts.alice)
			if len(subs) != 1 {
				t.Fatalf("%d subscriptions", len(subs))
			}
			s := subs[0]
			if s.Target.Scope != tc.scope || (tc.scope == "") != (s.Target.Collection != 0) || regPath != "/dav/push/"+s.ID {
				t.Errorf("target %+v, id %q, path %q", s.Target, s.ID, regPath)
			}
			key, _ := base64.RawURLEncoding.DecodeString(pushTestKey)
			secret, _ := base64.RawURLEncoding.DecodeString(pushTestSecret)
			if s.PushResource != pushTestURL || !bytes.Equal(s.PublicKey, key) || !bytes.Equal(s.AuthSecret, secret) {
				t.Errorf("subscription %+v", s)
			}
			// No trigger in DAVx5's body: everything the target supports.
			home := tc.scope == storage.ScopeCalendars || tc.scope == storage.ScopeAddressBooks
			wantContent, wantProperty := tc.scope != storage.ScopePrincipal, !home
			if s.Trigger.Content != wantContent || s.Trigger.Property != wantProperty {
				t.Errorf("triggers %+v", s.Trigger)
			}
			if !s.Expires.Equal(pushTestNow.Add(72 * time.Hour)) {
				t.Errorf("stored expiry %v", s.Expires)
			}

			// DAVx5 renews daily with the same push resource: 204, same URL.
			rec = ts.do(t, "alice", "POST", tc.path, bodyDAVx5PushRegister)
			if rec.Code != http.StatusNoContent || rec.Header().Get("Location") != loc || rec.Header().Get("Expires") == "" {
				t.Fatalf("renewal: %d %v", rec.Code, rec.Header())
			}
			if n := len(allSubs(t, ts.alice)); n != 1 {
				t.Fatalf("%d subscriptions after renewal", n)
			}

			// Only the owner can end it; another user's DELETE sees no such URL.
			if rec := ts.do(t, "bob", "DELETE", regPath, ""); rec.Code != http.StatusNotFound {
				t.Fatalf("bob's DELETE: %d", rec.Code)
			}
			if rec := ts.do(t, "alice", "DELETE", regPath, ""); rec.Code != http.StatusNoContent {
				t.Fatalf("DELETE: %d %s", rec.Code, rec.Body)
			}
			if n := len(allSubs(t, ts.alice)); n != 0 {
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
			ts := newPushServer(t, func(o *PushOptions) { o.MaxExpiry = tc.cap })
			rec := ts.do(t, "alice", "POST", "/dav/calendars/alice/calendar/", tc.body)
			if rec.Code != http.StatusCreated {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			if got := rec.Header().Get("Expires"); got != tc.want {
				t.Errorf("Expires %q, want %q", got, tc.want)
			}
			if subs := allSubs(t, ts.alice); len(subs) != 1 || subs[0].Expires.Format(http.TimeFormat) != tc.want {
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
			ts := newPushServer(t)
			rec := ts.do(t, "alice", "POST", tc.path, tc.body)
			checkStatusCond(t, rec.Code, rec.Body.String(), tc.status, tc.cond)
			subs := allSubs(t, ts.alice)
			if tc.status != 201 {
				if len(subs) != 0 {
					t.Fatalf("refused request stored %+v", subs)
				}
				return
			}
			if len(subs) != 1 || subs[0].Trigger.Content != tc.wantContent || subs[0].Trigger.Property != tc.wantPr {
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
		{"fragment", "alice", "/dav/calendars/alice/calendar/", sub(pushTestURL, "https://ntfy.sh/upX#f"), false, 403, "invalid-subscription"},
		{"private address", "alice", "/dav/calendars/alice/calendar/", sub(pushTestURL, "https://10.0.0.7/upX"), false, 403, "invalid-subscription"},
		{"IPv6 link-local", "alice", "/dav/calendars/alice/calendar/", sub(pushTestURL, "https://[fe80::1]/upX"), false, 403, "invalid-subscription"},
		{"loopback flag: other host still needs https", "alice", "/dav/calendars/alice/calendar/", sub(pushTestURL, "http://ntfy.sh/upX"), true, 403, "invalid-subscription"},
		{"loopback flag: private address still refused", "alice", "/dav/calendars/alice/calendar/", sub(pushTestURL, "http://192.168.1.2:8080/upX"), true, 403, "invalid-subscription"},
		{"overlong push resource", "alice", "/dav/calendars/alice/calendar/", sub(pushTestURL, "https://ntfy.sh/"+strings.Repeat("a", push.MaxEndpoint)), false, 403, "invalid-subscription"},
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
			ts := newPushServer(t, func(o *PushOptions) { o.AllowLoopback = tc.loopback })
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
			if n := len(allSubs(t, ts.alice)) + len(allSubs(t, ts.bob)); n != 0 {
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
			ts := newPushServer(t, func(o *PushOptions) { o.AllowLoopback = tc.loopback })
			body := strings.Replace(bodyDAVx5PushRegister, pushTestURL, tc.url, 1)
			rec := ts.do(t, "alice", "POST", "/dav/calendars/alice/calendar/", body)
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.status, rec.Body)
			}
			if subs := allSubs(t, ts.alice); tc.status == 201 && (len(subs) != 1 || subs[0].PushResource != tc.url) {
				t.Fatalf("stored %+v", subs)
			}
		})
	}
}

func TestPushOff(t *testing.T) {
	for _, name := range []string{"default options", "a VAPID key but not enabled"} {
		t.Run(name, func(t *testing.T) {
			ts := newTestServer(t, func(o *Options) {
				if name != "default options" {
					o.Push = PushOptions{VAPIDPublicKey: pushTestVAPID}
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
	ts := newPushServer(t)
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
	ts := newPushServer(t)
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
		target   storage.PushTarget
		triggers string
	}{
		{"/dav/calendars/alice/calendar/", storage.PushTarget{Collection: cal.ID}, both},
		{"/dav/calendars/alice/", storage.PushTarget{Scope: storage.ScopeCalendars}, content},
		{"/dav/addressbooks/alice/", storage.PushTarget{Scope: storage.ScopeAddressBooks}, content},
		{"/dav/principals/alice/", storage.PushTarget{Scope: storage.ScopePrincipal}, property},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			rec := ts.do(t, "alice", "PROPFIND", tc.path, bodyPushProps, "Depth: 0")
			r := parseMS(t, rec).resp(t, tc.path)
			body := r.ok(t)
			topic, err := ts.alice.Topic(context.Background(), tc.target)
			if err != nil || topic == "" {
				t.Fatalf("topic %q: %v", topic, err)
			}
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
	ts2 := newPushServer(t, func(o *PushOptions) { o.VAPIDPublicKey = "" })
	ts2.alice.pushFail = fmt.Errorf("store down")
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
	ts := newPushServer(t)
	body := `<D:propertyupdate xmlns:D="DAV:" xmlns:P="https://bitfire.at/webdav-push"><D:set><D:prop><P:topic>mine</P:topic></D:prop></D:set></D:propertyupdate>`
	rec := ts.do(t, "alice", "PROPPATCH", "/dav/calendars/alice/calendar/", body)
	if rec.Code != http.StatusMultiStatus || !strings.Contains(rec.Body.String(), "cannot-modify-protected-property") {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
}

func TestPushRegistrationURL(t *testing.T) {
	ts := newPushServer(t)
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
			if len(allSubs(t, ts.alice)) != 1 {
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
		o.Push = PushOptions{Enabled: true}
	})
	rec = ts2.do(t, "alice", "POST", "/dav/calendars/alice/calendar/", bodyDAVx5PushRegister)
	if loc := rec.Header().Get("Location"); rec.Code != 201 || !strings.HasPrefix(loc, "https://dav.example.com/dav/push/") {
		t.Fatalf("%d Location %q", rec.Code, loc)
	}
}

func TestPushRegistryFailure(t *testing.T) {
	ts := newPushServer(t)
	ts.alice.pushFail = fmt.Errorf("disk on fire")
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
		for _, pol := range []bool{false, true} {
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
			if !strings.HasPrefix(reg.resource, "https://") && !pol {
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

// TestPushRegisterLimit: beyond MaxSubscriptions a new push resource is
// refused with push-not-available and nothing stored, while a renewal of
// one registered already still goes.
func TestPushRegisterLimit(t *testing.T) {
	ts := newPushServer(t, func(o *PushOptions) { o.MaxSubscriptions = 2 })
	const cal = "/dav/calendars/alice/calendar/"
	body := func(i int) string {
		return strings.Replace(bodyDAVx5PushRegister, pushTestURL, fmt.Sprintf("https://push.example.net/%d", i), 1)
	}
	tests := []struct {
		name   string
		body   string
		status int
		cond   string
	}{
		{"first", body(1), 201, ""},
		{"second", body(2), 201, ""},
		{"third: beyond the limit", body(3), 403, "push-not-available"},
		{"renewal of the first", body(1), 204, ""},
	}
	for _, tc := range tests {
		rec := ts.do(t, "alice", "POST", cal, tc.body)
		checkStatusCond(t, rec.Code, rec.Body.String(), tc.status, tc.cond)
	}
	if n := len(allSubs(t, ts.alice)); n != 2 {
		t.Fatalf("%d subscriptions stored, want 2", n)
	}
}
