package dav

import (
	"context"
	"encoding/base64"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coffer-dav/coffer/encryption"
	"github.com/coffer-dav/coffer/encryption/webpush"
	"github.com/coffer-dav/coffer/push"
	"github.com/coffer-dav/coffer/push/pushtest"
	"github.com/coffer-dav/coffer/storage"
)

// notifyRig is a test server with push on, its storage hook feeding a
// running Notifier that sends to a loopback push service.
type notifyRig struct {
	*testServer
	svc *pushtest.Server
	key *webpush.VAPIDKey
	n   *Notifier
	now time.Time // the notifier's clock when set
}

// newNotifyRig starts the rig; opts adjust the Notifier's options.
func newNotifyRig(t testing.TB, opts ...func(*NotifyOptions)) *notifyRig {
	t.Helper()
	key, err := webpush.GenerateVAPIDKey()
	if err != nil {
		t.Fatal(err)
	}
	svc := pushtest.New(key.PublicKey())
	t.Cleanup(svc.Close)
	sender, err := push.New(push.Options{Key: key, Contact: "https://dav.example.org/", Timeout: 2 * time.Second, AllowLoopback: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sender.Close)
	ts := newTestServer(t, func(o *Options) {
		o.Push = PushOptions{Enabled: true, VAPIDPublicKey: key.PublicKeyString(), AllowLoopback: true}
	})
	rk, err := encryption.DeriveKeyring(make([]byte, encryption.KeySize), encryption.PushOutbox)
	if err != nil {
		t.Fatal(err)
	}
	rig := &notifyRig{testServer: ts, svc: svc, key: key}
	o := NotifyOptions{Sender: sender, Expiry: ts.db, Outbox: ts.db, RetryKey: rk, RetryPoll: time.Hour, Backoff: time.Millisecond,
		Now: func() time.Time {
			if !rig.now.IsZero() {
				return rig.now
			}
			return time.Now()
		}}
	for _, f := range opts {
		f(&o)
	}
	rig.n, err = NewNotifier(o)
	if err != nil {
		t.Fatal(err)
	}
	ts.db.OnChange(rig.n.Hook())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { rig.n.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done; ts.db.OnChange(nil) })
	return rig
}

// register registers a new device of the push service on path, with
// DAVx5's body, and returns its subscription and registration URL.
func (r *notifyRig) register(t *testing.T, path string) (push.Subscription, string) {
	t.Helper()
	return r.registerAt(t, r.svc, path)
}

// registerAt registers a new device of the push service svc on path.
func (r *notifyRig) registerAt(t *testing.T, svc *pushtest.Server, path string) (push.Subscription, string) {
	t.Helper()
	sub := svc.Subscribe()
	body := strings.NewReplacer(pushTestURL, sub.Endpoint,
		pushTestKey, base64.RawURLEncoding.EncodeToString(sub.P256dh),
		pushTestSecret, base64.RawURLEncoding.EncodeToString(sub.Auth),
		"Mon, 07 Dec 2026 18:00:00 GMT", time.Now().Add(72*time.Hour).UTC().Format(http.TimeFormat)).Replace(bodyDAVx5PushRegister)
	rec := r.do(t, "alice", "POST", path, body)
	if rec.Code != http.StatusCreated {
		t.Fatalf("register: %d %s", rec.Code, rec.Body)
	}
	return sub, rec.Header().Get("Location")
}

// prop returns the text of one property of path (Depth 0).
func (r *notifyRig) prop(t *testing.T, path, ns, local string) string {
	t.Helper()
	body := `<propfind xmlns="DAV:"><prop><x:` + local + ` xmlns:x="` + ns + `"/></prop></propfind>`
	rec := r.do(t, "alice", "PROPFIND", path, body, "Depth: 0")
	m := regexp.MustCompile(`<(?:\w+:)?` + local + `[^>]*>([^<]*)</(?:\w+:)?` + local + `>`).FindStringSubmatch(rec.Body.String())
	if m == nil {
		t.Fatalf("no %s on %s: %s", local, path, rec.Body)
	}
	return m[1]
}

// wait waits up to a second for n messages on endpoint.
func (r *notifyRig) wait(t *testing.T, endpoint string, n int) []pushtest.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	msgs, err := r.svc.Wait(ctx, endpoint, n)
	if err != nil {
		t.Fatalf("waited for %d messages, got %d: %v", n, len(msgs), err)
	}
	return msgs
}

// quiet checks that endpoint received nothing more than n messages
// within the coalescing window and a margin.
func (r *notifyRig) quiet(t *testing.T, endpoint string, n int) {
	t.Helper()
	time.Sleep(600 * time.Millisecond)
	if got := len(r.svc.Messages(endpoint)); got != n {
		t.Fatalf("%d messages, want %d", got, n)
	}
}

func TestNotifyChanges(t *testing.T) {
	const cal = "/dav/calendars/alice/calendar/"
	tests := []struct {
		name, path, method, target, body string
		headers                          []string
		content, property                bool
	}{
		{"PUT of an event", cal, "PUT", cal + "e.ics", benchEvent(1, "Push"), nil, true, false},
		{"PUT of a contact", "/dav/addressbooks/alice/contacts/", "PUT", "/dav/addressbooks/alice/contacts/c.vcf",
			"BEGIN:VCARD\r\nVERSION:3.0\r\nUID:c1\r\nFN:Ann\r\nN:;Ann;;;\r\nEND:VCARD\r\n", []string{"Content-Type: text/vcard"}, true, false},
		{"PROPPATCH of the display name", cal, "PROPPATCH", cal,
			`<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:displayname>Work</D:displayname></D:prop></D:set></D:propertyupdate>`, nil, false, true},
		{"new calendar: the home's content", "/dav/calendars/alice/", "MKCOL", "/dav/calendars/alice/new/", "", nil, true, false},
		{"principal property", "/dav/principals/alice/", "PROPPATCH", "/dav/principals/alice/",
			`<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><x:color xmlns:x="urn:x">red</x:color></D:prop></D:set></D:propertyupdate>`, nil, false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newNotifyRig(t)
			a, _ := r.register(t, tc.path)
			topic := r.prop(t, tc.path, nsPush, "topic")
			if rec := r.do(t, "alice", tc.method, tc.target, tc.body, tc.headers...); rec.Code >= 300 {
				t.Fatalf("%s: %d %s", tc.method, rec.Code, rec.Body)
			}
			msgs := r.wait(t, a.Endpoint, 1)
			got := string(msgs[0].Payload)
			if !strings.Contains(got, "<P:topic>"+topic+"</P:topic>") {
				t.Errorf("message lacks the topic %q: %s", topic, got)
			}
			if tc.content { // a home's token too, as PROPFIND renders it
				tok := r.prop(t, tc.path, nsDAV, "sync-token")
				if !strings.Contains(got, "<P:content-update><D:sync-token>"+tok+"</D:sync-token></P:content-update>") {
					t.Errorf("message lacks the sync-token %q: %s", tok, got)
				}
			}
			if strings.Contains(got, "<P:content-update") != tc.content || strings.Contains(got, "<P:property-update/>") != tc.property {
				t.Errorf("message %s", got)
			}
			if msgs[0].Topic != push.CollapseKey(topic) || msgs[0].TTL != int(defaultPushTTL/time.Second) || msgs[0].Urgency == "" {
				t.Errorf("headers: topic %q ttl %d urgency %q", msgs[0].Topic, msgs[0].TTL, msgs[0].Urgency)
			}
			r.quiet(t, a.Endpoint, 1)
			if s := r.n.Stats(); s.Sent != 1 || s.Failed != 0 {
				t.Errorf("stats %+v", s)
			}
		})
	}
}

// TestNotifyCoalesces: five PUTs within the window make one message with
// the last token; the trigger that the subscription lacks sends nothing.
func TestNotifyCoalesces(t *testing.T) {
	r := newNotifyRig(t)
	const cal = "/dav/calendars/alice/calendar/"
	a, _ := r.register(t, cal)
	home, _ := r.register(t, "/dav/calendars/alice/")
	for i := range 5 {
		if rec := r.do(t, "alice", "PUT", cal+"e"+string(rune('0'+i))+".ics", benchEvent(i, "Push")); rec.Code != http.StatusCreated {
			t.Fatalf("PUT: %d", rec.Code)
		}
	}
	tok := r.prop(t, cal, nsDAV, "sync-token")
	msgs := r.wait(t, a.Endpoint, 1)
	if !strings.Contains(string(msgs[0].Payload), tok) {
		t.Errorf("message lacks the last token %q: %s", tok, msgs[0].Payload)
	}
	r.quiet(t, a.Endpoint, 1)
	if n := len(r.svc.Messages(home.Endpoint)); n != 0 {
		t.Errorf("the home heard of %d member changes of a calendar", n)
	}
}

func TestNotifySkips(t *testing.T) {
	const cal = "/dav/calendars/alice/calendar/"
	t.Run("Push-Dont-Notify names the device", func(t *testing.T) {
		r := newNotifyRig(t)
		a, locA := r.register(t, cal)
		b, _ := r.register(t, cal)
		r.do(t, "alice", "PUT", cal+"e.ics", benchEvent(1, "Push"), `Push-Dont-Notify: "`+locA+`"`)
		r.wait(t, b.Endpoint, 1)
		r.quiet(t, a.Endpoint, 0)
	})
	t.Run("expired", func(t *testing.T) {
		r := newNotifyRig(t)
		a, _ := r.register(t, cal)
		r.now = time.Now().Add(30 * 24 * time.Hour)
		r.do(t, "alice", "PUT", cal+"e.ics", benchEvent(1, "Push"))
		r.quiet(t, a.Endpoint, 0)
	})
	t.Run("unregistered", func(t *testing.T) {
		r := newNotifyRig(t)
		a, loc := r.register(t, cal)
		if rec := r.do(t, "alice", "DELETE", strings.TrimPrefix(loc, "http://dav.example.org:8443"), ""); rec.Code != http.StatusNoContent {
			t.Fatalf("DELETE: %d", rec.Code)
		}
		r.do(t, "alice", "PUT", cal+"e.ics", benchEvent(1, "Push"))
		r.quiet(t, a.Endpoint, 0)
	})
}

// TestNotifyGone: a 410 drops the subscription, and it is not tried again.
func TestNotifyGone(t *testing.T) {
	for _, answer := range []pushtest.Answer{pushtest.Gone, pushtest.NotFound} {
		r := newNotifyRig(t)
		const cal = "/dav/calendars/alice/calendar/"
		a, _ := r.register(t, cal)
		r.svc.SetAnswer(a.Endpoint, answer)
		r.do(t, "alice", "PUT", cal+"e.ics", benchEvent(1, "Push"))
		deadline := time.Now().Add(time.Second)
		for r.n.Stats().Dropped == 0 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if n := len(allSubs(t, r.alice)); n != 0 {
			t.Fatalf("%d subscriptions after %d", n, answer.Status)
		}
		r.do(t, "alice", "PUT", cal+"e2.ics", benchEvent(2, "Push"))
		time.Sleep(500 * time.Millisecond)
		if n := r.n.RetryDue(context.Background()); n != 0 || r.svc.Attempts(a.Endpoint) != 1 {
			t.Fatalf("after %d: %d retries, %d attempts", answer.Status, n, r.svc.Attempts(a.Endpoint))
		}
	}
}

// TestNotifyRetries: a failing push service gets the message again from
// the outbox, sealed there, until it takes it; a message that keeps
// failing is given up after MaxAttempts sends.
func TestNotifyRetries(t *testing.T) {
	// Four sends at most: the test's own look at the jobs below is a claim
	// too, which counts as an attempt, so b is sent to three times.
	r := newNotifyRig(t, func(o *NotifyOptions) { o.MaxAttempts = 4 })
	const cal = "/dav/calendars/alice/calendar/"
	a, _ := r.register(t, cal)
	b, _ := r.register(t, cal)
	r.svc.SetAnswer(a.Endpoint, pushtest.Failing)
	r.svc.SetAnswer(b.Endpoint, pushtest.Failing)
	r.do(t, "alice", "PUT", cal+"e.ics", benchEvent(1, "Push"))
	deadline := time.Now().Add(time.Second)
	for r.svc.Attempts(a.Endpoint)+r.svc.Attempts(b.Endpoint) < 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // the retries are queued after the answers
	// The sealed payload holds neither the push resource nor the message.
	jobs, err := r.db.ClaimJobs(context.Background(), storage.ClaimOptions{Kind: storage.JobPush, Now: time.Now().Add(time.Hour), Until: time.Now().Add(time.Hour + time.Second)})
	if err != nil || len(jobs) != 2 {
		t.Fatalf("%d jobs, %v", len(jobs), err)
	}
	for _, j := range jobs {
		if strings.Contains(string(j.Payload), "push/") || strings.Contains(string(j.Payload), "topic") {
			t.Fatalf("a retry payload in the clear: %q", j.Payload)
		}
	}
	r.now = time.Now().Add(2 * time.Hour) // past the claim above
	r.svc.SetAnswer(a.Endpoint, pushtest.Take)
	if n := r.n.RetryDue(context.Background()); n != 2 {
		t.Fatalf("claimed %d retries", n)
	}
	if msgs := r.svc.Messages(a.Endpoint); len(msgs) != 1 || !strings.Contains(string(msgs[0].Payload), "<P:content-update>") {
		t.Fatalf("retried messages %+v", msgs)
	}
	r.now = r.now.Add(2 * time.Hour)
	if n := r.n.RetryDue(context.Background()); n != 1 {
		t.Fatalf("claimed %d retries, want b's third", n)
	}
	r.now = r.now.Add(2 * time.Hour)
	if n := r.n.RetryDue(context.Background()); n != 0 {
		t.Fatalf("claimed %d retries after MaxAttempts", n)
	}
	if got := r.svc.Attempts(b.Endpoint); got != 3 {
		t.Fatalf("b was tried %d times, want 3", got)
	}
	if s := r.n.Stats(); s.RetriesDone != 1 || s.Failed != 4 {
		t.Fatalf("stats %+v", s)
	}
}

// TestNotifyQueueFull: a change beyond the pending table is dropped and
// counted, and the write is not held up.
func TestNotifyQueueFull(t *testing.T) {
	r := newNotifyRig(t, func(o *NotifyOptions) { o.MaxPending = 1; o.Window = time.Hour })
	r.register(t, "/dav/calendars/alice/calendar/")
	r.do(t, "alice", "PUT", "/dav/calendars/alice/calendar/e.ics", benchEvent(1, "Push"))
	r.do(t, "alice", "PUT", "/dav/calendars/alice/tasks/t.ics", strings.ReplaceAll(benchEvent(2, "Push"), "VEVENT", "VTODO"))
	if s := r.n.Stats(); s.QueueDrops == 0 {
		t.Fatalf("stats %+v", s)
	}
}

func TestPushMessage(t *testing.T) {
	tests := []struct {
		name     string
		content  bool
		token    string
		property bool
		want     string
	}{
		{"collection content", true, syncToken(7), false, `<P:topic>t&lt;</P:topic><P:content-update><D:sync-token>` + syncToken(7) + `</D:sync-token></P:content-update></P:push-message>`},
		{"home content", true, homeTokenPrefix + "7/abc", false, `<P:topic>t&lt;</P:topic><P:content-update><D:sync-token>` + homeTokenPrefix + `7/abc</D:sync-token></P:content-update></P:push-message>`},
		{"no token", true, "", false, `<P:topic>t&lt;</P:topic><P:content-update/></P:push-message>`},
		{"property", false, syncToken(7), true, `<P:topic>t&lt;</P:topic><P:property-update/></P:push-message>`},
		{"both", true, syncToken(7), true, `<D:sync-token>` + syncToken(7) + `</D:sync-token></P:content-update><P:property-update/></P:push-message>`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := string(pushMessage("t<", tc.content, tc.token, tc.property))
			if !strings.HasSuffix(got, tc.want) || !strings.HasPrefix(got, `<?xml version="1.0" encoding="utf-8"?>`) {
				t.Fatalf("%s", got)
			}
			if _, err := parseXML(strings.NewReader(got)); err != nil {
				t.Fatalf("not XML: %v", err)
			}
		})
	}
}

// TestNotifyRetryCollapses: two failed messages to one subscription wait
// in the outbox as one retry, holding the later one.
func TestNotifyRetryCollapses(t *testing.T) {
	r := newNotifyRig(t)
	const cal = "/dav/calendars/alice/calendar/"
	a, _ := r.register(t, cal)
	r.svc.SetAnswer(a.Endpoint, pushtest.Failing)
	for i := range 2 {
		r.do(t, "alice", "PUT", cal+"e"+string(rune('0'+i))+".ics", benchEvent(i, "Push"))
		deadline := time.Now().Add(time.Second)
		for r.svc.Attempts(a.Endpoint) < i+1 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
	}
	time.Sleep(50 * time.Millisecond)
	tok := r.prop(t, cal, nsDAV, "sync-token")
	r.svc.SetAnswer(a.Endpoint, pushtest.Take)
	r.now = time.Now().Add(time.Hour)
	if n := r.n.RetryDue(context.Background()); n != 1 {
		t.Fatalf("%d retries waiting, want 1", n)
	}
	if msgs := r.svc.Messages(a.Endpoint); len(msgs) != 1 || !strings.Contains(string(msgs[0].Payload), tok) {
		t.Fatalf("retried %+v, want the token %s", msgs, tok)
	}
}

// TestNotifyBlackHoleSharesSenders: a push service that never answers
// holds at most half the senders; the messages beyond that wait, and
// another push service's message still goes within a second.
func TestNotifyBlackHoleSharesSenders(t *testing.T) {
	r := newNotifyRig(t, func(o *NotifyOptions) { o.Workers = 4 })
	const cal = "/dav/calendars/alice/calendar/"
	var holes []push.Subscription
	for range 5 { // registered first: listed, and sent to, first
		s, _ := r.register(t, cal)
		r.svc.SetAnswer(s.Endpoint, pushtest.BlackHole)
		holes = append(holes, s)
	}
	healthy := pushtest.New(r.key.PublicKey())
	t.Cleanup(healthy.Close)
	h, _ := r.registerAt(t, healthy, cal)
	r.do(t, "alice", "PUT", cal+"e.ics", benchEvent(1, "Push"))
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if _, err := healthy.Wait(ctx, h.Endpoint, 1); err != nil {
		t.Fatalf("the healthy push service waited behind the black hole: %v", err)
	}
	// The other senders take their messages meanwhile; then it stays so
	// until the black-holed sends time out (2 s).
	var reached int
	var st NotifyStats
	for deadline := time.Now().Add(time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		reached = 0
		for _, s := range holes {
			reached += r.svc.Attempts(s.Endpoint)
		}
		if st = r.n.Stats(); reached >= 2 && st.Deferred >= 3 {
			break
		}
	}
	if reached != 2 || st.Deferred != 3 {
		t.Fatalf("the black hole reached %d times, %d waited; want 2 and 3", reached, st.Deferred)
	}
	// When the first sends time out, the senders they held take the
	// messages that waited.
	for deadline := time.Now().Add(4 * time.Second); reached < 4 && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		reached = 0
		for _, s := range holes {
			reached += r.svc.Attempts(s.Endpoint)
		}
	}
	if reached < 4 {
		t.Fatalf("the waiting messages were not sent after the timeouts: %d reached", reached)
	}
}

// TestNotifyPendingMerges: the changes of a burst with the same
// Push-Dont-Notify stay one entry of the window; another header's stay apart.
func TestNotifyPendingMerges(t *testing.T) {
	n, err := NewNotifier(NotifyOptions{Sender: nil, Expiry: nil, Outbox: nil, RetryKey: nil})
	if err == nil || n != nil {
		t.Fatal("a Notifier without its parts")
	}
	r := newNotifyRig(t, func(o *NotifyOptions) { o.Window = time.Hour })
	ctx := context.Background()
	a := withDontNotify(ctx, []string{"a"}, false)
	for i, c := range []struct {
		ctx  context.Context
		kind storage.ChangeKind
	}{{ctx, storage.ContentChanged}, {ctx, storage.ContentChanged}, {a, storage.ContentChanged}, {a, storage.PropsChanged}, {ctx, storage.ContentChanged}} {
		r.n.noteChanges(c.ctx, r.alice, []storage.Changed{{Account: 1, Collection: 9, Kind: c.kind, Revision: int64(i + 1)}})
	}
	r.n.mu.Lock()
	p := r.n.pending[pendingKey{account: 1, target: storage.PushTarget{Collection: 9}}]
	r.n.mu.Unlock()
	if p == nil || len(p.changes) != 3 {
		t.Fatalf("pending %+v", p)
	}
	if c := p.changes[1]; !c.content || !c.property || c.revision != 4 || !c.dont.skips("a") {
		t.Fatalf("merged change %+v", c)
	}
	if c := p.changes[2]; c.revision != 5 || c.dont.skips("a") {
		t.Fatalf("last change %+v", c)
	}
}
