package push_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coffer-dav/coffer/encryption/webpush"
	"github.com/coffer-dav/coffer/push"
	"github.com/coffer-dav/coffer/push/pushtest"
)

const contact = "mailto:ops@coffer.example"

func vapidKey(t testing.TB) *webpush.VAPIDKey {
	t.Helper()
	k, err := webpush.GenerateVAPIDKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newSender(t testing.TB, o push.Options) *push.Sender {
	t.Helper()
	if o.Key == nil {
		o.Key = vapidKey(t)
	}
	if o.Contact == "" {
		o.Contact = contact
	}
	s, err := push.New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// service starts a test push service for the sender's key.
func service(t testing.TB, k *webpush.VAPIDKey) *pushtest.Server {
	t.Helper()
	srv := pushtest.New(k.PublicKey())
	t.Cleanup(srv.Close)
	return srv
}

// loopbackSetup returns a test push service and a Sender allowed to reach it.
func loopbackSetup(t testing.TB, o push.Options) (*pushtest.Server, *push.Sender) {
	t.Helper()
	o.Key, o.AllowLoopback = vapidKey(t), true
	return service(t, o.Key), newSender(t, o)
}

var msg = push.Message{
	Payload: []byte(`<push-message xmlns="https://bitfire.at/webdav-push"/>`),
	TTL:     time.Hour,
	Urgency: push.UrgencyNormal,
	Topic:   push.CollapseKey("a collection's topic"),
}

// TestSendOutcomes: each answer of the push service maps to its outcome,
// and a message taken arrives decrypted with its headers and contact.
func TestSendOutcomes(t *testing.T) {
	srv, s := loopbackSetup(t, push.Options{Timeout: 300 * time.Millisecond})
	date := time.Now().Add(2 * time.Minute).UTC().Format(http.TimeFormat)
	for _, c := range []struct {
		name       string
		answer     pushtest.Answer
		want       push.Outcome
		status     int
		retryAfter time.Duration // at least
	}{
		{"taken", pushtest.Take, push.Delivered, 201, 0},
		{"gone", pushtest.Gone, push.Drop, 410, 0},
		{"not found", pushtest.NotFound, push.Drop, 404, 0},
		{"too many, Retry-After seconds", pushtest.TooMany, push.Retry, 429, 30 * time.Second},
		{"too many, no Retry-After", pushtest.Answer{Status: 429}, push.Retry, 429, 0},
		{"server error", pushtest.Failing, push.Retry, 500, 0},
		{"unavailable, Retry-After date", pushtest.Answer{Status: 503, RetryAfter: date}, push.Retry, 503, time.Minute},
		{"bad request", pushtest.Answer{Status: 400}, push.Refused, 400, 0},
		{"unauthorized", pushtest.Answer{Status: 401}, push.Refused, 401, 0},
		{"forbidden", pushtest.Answer{Status: 403}, push.Refused, 403, 0},
		{"too large", pushtest.Answer{Status: 413}, push.Refused, 413, 0},
		{"black hole", pushtest.BlackHole, push.Retry, 0, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			sub := srv.Subscribe()
			srv.SetAnswer(sub.Endpoint, c.answer)
			r := s.Send(context.Background(), sub, msg)
			if r.Outcome != c.want || r.Status != c.status {
				t.Fatalf("Send = %v %d (%v), want %v %d", r.Outcome, r.Status, r.Err, c.want, c.status)
			}
			if (r.Err == nil) != (c.want == push.Delivered) {
				t.Fatalf("Err = %v", r.Err)
			}
			if r.Err != nil && strings.Contains(r.Err.Error(), "/push/") {
				t.Fatalf("Err holds the push resource: %v", r.Err)
			}
			if r.RetryAfter < c.retryAfter || (c.retryAfter == 0 && r.RetryAfter != 0) || r.RetryAfter > 2*time.Minute {
				t.Fatalf("RetryAfter = %v, want %v", r.RetryAfter, c.retryAfter)
			}
			if n := srv.Attempts(sub.Endpoint); n != 1 {
				t.Fatalf("%d attempts at the push service", n)
			}
			got := srv.Messages(sub.Endpoint)
			if c.want != push.Delivered {
				if len(got) != 0 {
					t.Fatalf("recorded %d messages", len(got))
				}
				return
			}
			if len(got) != 1 {
				t.Fatalf("recorded %d messages", len(got))
			}
			m := got[0]
			if string(m.Payload) != string(msg.Payload) || m.TTL != 3600 || m.Urgency != "normal" || m.Topic != msg.Topic || m.Subject != contact {
				t.Fatalf("received %+v", m)
			}
		})
	}
	if errs := srv.Errors(); len(errs) != 0 {
		t.Fatalf("the push service refused: %v", errs)
	}
}

// TestSendWaitsForMessage: a test waiting for a device's message gets it
// as soon as it is sent, and an error when none comes in time.
func TestSendWaitsForMessage(t *testing.T) {
	srv, s := loopbackSetup(t, push.Options{})
	sub := srv.Subscribe()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	done := make(chan push.Result, 1)
	go func() { done <- s.Send(context.Background(), sub, msg) }()
	got, err := srv.Wait(ctx, sub.Endpoint, 1)
	if err != nil || len(got) != 1 {
		t.Fatalf("Wait = %d messages, %v", len(got), err)
	}
	if r := <-done; r.Outcome != push.Delivered {
		t.Fatalf("Send = %v, %v", r.Outcome, r.Err)
	}
	short, cancel2 := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel2()
	if got, err := srv.Wait(short, sub.Endpoint, 2); !errors.Is(err, context.DeadlineExceeded) || len(got) != 1 {
		t.Fatalf("Wait for a second message = %d, %v", len(got), err)
	}
}

// TestSendRefusesEndpoints: push resources that are not https on 443 or
// 8443 of a public address are refused without a connection, also when a
// host name resolves to a loopback address (the dial-time check); with
// AllowLoopback, everything but loopback is.
func TestSendRefusesEndpoints(t *testing.T) {
	k := vapidKey(t)
	srv := service(t, k)
	good := srv.Subscribe()
	public := newSender(t, push.Options{Key: k})
	loopback := newSender(t, push.Options{Key: k, AllowLoopback: true})
	for _, c := range []struct {
		name     string
		s        *push.Sender
		endpoint string
	}{
		{"private address", public, "https://10.0.0.1/push/x"},
		{"port 80", public, "https://push.example.net:80/push/x"},
		{"port 8080", public, "https://push.example.net:8080/push/x"},
		{"http", public, "http://push.example.net/push/x"},
		{"http on 443", public, "http://push.example.net:443/push/x"},
		{"loopback without AllowLoopback", public, good.Endpoint},
		{"loopback by name, seen at dial time", public, "https://localhost/push/x"},
		{"loopback IPv6", public, "https://[::1]/push/x"},
		{"metadata service", public, "https://169.254.169.254/latest"},
		{"private on 8443", public, "https://192.168.1.1:8443/push/x"},
		{"shared address space", public, "https://100.64.0.1/push/x"},
		{"IPv4-mapped private", public, "https://[::ffff:10.0.0.1]/push/x"},
		{"NAT64 of a private address", public, "https://[64:ff9b::a00:1]/push/x"},
		{"unique local IPv6", public, "https://[fd00::1]/push/x"},
		{"unspecified", public, "https://0.0.0.0/push/x"},
		{"credentials", public, "https://user:pw@push.example.net/push/x"},
		{"relative", public, "/push/x"},
		{"no host", public, "https:///push/x"},
		{"loopback allowed, private address", loopback, "http://10.0.0.1:8080/push/x"},
		{"loopback allowed, public address", loopback, "https://8.8.8.8/push/x"},
		{"loopback allowed, a name", loopback, "https://push.example.net/push/x"},
		{"loopback allowed, ftp", loopback, "ftp://127.0.0.1/push/x"},
	} {
		t.Run(c.name, func(t *testing.T) {
			sub := good
			sub.Endpoint = c.endpoint
			r := c.s.Send(context.Background(), sub, msg)
			if r.Outcome != push.Refused || r.Status != 0 || !errors.Is(r.Err, push.ErrEndpoint) {
				t.Fatalf("Send = %v %d, %v; want Refused, ErrEndpoint", r.Outcome, r.Status, r.Err)
			}
			if strings.Contains(r.Err.Error(), "/push/x") {
				t.Fatalf("Err holds the push resource: %v", r.Err)
			}
		})
	}
	if n := srv.Attempts(good.Endpoint); n != 0 {
		t.Fatalf("the loopback push service saw %d requests", n)
	}
	// The name passes the URL check, so the dial-time check refused it.
	if err := push.CheckEndpoint("https://localhost/push/x", false); err != nil {
		t.Fatalf("CheckEndpoint(localhost) = %v", err)
	}
}

// TestSendRefusesRedirect: a push resource that redirects is refused, and
// the redirect's target is never asked.
func TestSendRefusesRedirect(t *testing.T) {
	k := vapidKey(t)
	srv := service(t, k)
	target := srv.Subscribe()
	for _, status := range []int{301, 302, 307, 308} {
		redirect := httptest.NewServer(http.RedirectHandler(target.Endpoint, status))
		sub := target
		sub.Endpoint = redirect.URL + "/push/x"
		r := newSender(t, push.Options{Key: k, AllowLoopback: true}).Send(context.Background(), sub, msg)
		redirect.Close()
		if r.Outcome != push.Refused || r.Status != status || r.Err == nil {
			t.Errorf("%d: Send = %v %d, %v; want Refused", status, r.Outcome, r.Status, r.Err)
		}
	}
	if n := srv.Attempts(target.Endpoint); n != 0 {
		t.Fatalf("the redirect target saw %d requests", n)
	}
}

// TestSendRefusesMessages: a message Coffer should never build, or keys no
// message can be encrypted to, are refused before any request.
func TestSendRefusesMessages(t *testing.T) {
	srv, s := loopbackSetup(t, push.Options{})
	sub := srv.Subscribe()
	badKey := sub
	badKey.P256dh = sub.P256dh[:33]
	badAuth := sub
	badAuth.Auth = sub.Auth[:8]
	for _, c := range []struct {
		name string
		sub  push.Subscription
		m    push.Message
	}{
		{"topic too long", sub, push.Message{Topic: strings.Repeat("a", 33)}},
		{"topic not base64url", sub, push.Message{Topic: "a topic"}},
		{"unknown urgency", sub, push.Message{Urgency: "urgent"}},
		{"negative TTL", sub, push.Message{TTL: -time.Second}},
		{"payload too long", sub, push.Message{Payload: make([]byte, webpush.MaxPlaintext+1)}},
		{"bad public key", badKey, msg},
		{"bad auth secret", badAuth, msg},
	} {
		t.Run(c.name, func(t *testing.T) {
			if r := s.Send(context.Background(), c.sub, c.m); r.Outcome != push.Refused || r.Err == nil {
				t.Fatalf("Send = %v, %v", r.Outcome, r.Err)
			}
		})
	}
	if n := srv.Attempts(sub.Endpoint); n != 0 {
		t.Fatalf("the push service saw %d requests", n)
	}
}

// TestSendServiceRefusesForeignKey: a sender whose VAPID key is not the
// one the push service expects is refused (403), and the service says why.
func TestSendServiceRefusesForeignKey(t *testing.T) {
	srv := service(t, vapidKey(t))
	sub := srv.Subscribe()
	r := newSender(t, push.Options{AllowLoopback: true}).Send(context.Background(), sub, msg)
	if r.Outcome != push.Refused || r.Status != 403 {
		t.Fatalf("Send = %v %d, %v", r.Outcome, r.Status, r.Err)
	}
	if errs := srv.Errors(); len(errs) != 1 || len(srv.Messages(sub.Endpoint)) != 0 {
		t.Fatalf("errors %v", errs)
	}
}

// TestNewRefusesOptions: no Sender without a key or a valid contact.
func TestNewRefusesOptions(t *testing.T) {
	k := vapidKey(t)
	for _, o := range []push.Options{
		{Contact: contact},
		{Key: k},
		{Key: k, Contact: "ops@coffer.example"},
		{Key: k, Contact: "http://coffer.example"},
	} {
		if _, err := push.New(o); err == nil {
			t.Errorf("New(%+v) accepted", o)
		}
	}
}

// TestCollapseKey: a collapse key is a valid Topic header, the same for the
// same topic and different for different ones.
func TestCollapseKey(t *testing.T) {
	seen := map[string]string{}
	for _, topic := range []string{"", "a", "0f1e2d3c-aaaa-bbbb", strings.Repeat("ü", 100)} {
		key := push.CollapseKey(topic)
		if !push.ValidTopic(key) || len(key) != 32 || key != push.CollapseKey(topic) {
			t.Errorf("CollapseKey(%q) = %q", topic, key)
		}
		if other, ok := seen[key]; ok {
			t.Errorf("%q and %q collapse alike", topic, other)
		}
		seen[key] = topic
	}
}

// BenchmarkSend: one message through the Sender to the loopback test push
// service, which verifies and decrypts it, over a kept-alive connection.
func BenchmarkSend(b *testing.B) {
	srv, s := loopbackSetup(b, push.Options{})
	sub := srv.Subscribe()
	for b.Loop() {
		if r := s.Send(context.Background(), sub, msg); r.Outcome != push.Delivered {
			b.Fatal(r.Err)
		}
	}
}
