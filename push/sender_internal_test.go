package push

import (
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coffer-dav/coffer/encryption/webpush"
)

// countedConn counts itself out before its slot is freed, so that the
// count never runs ahead of the connections the Sender holds.
type countedConn struct {
	net.Conn
	open *atomic.Int32
	once sync.Once
}

func (c *countedConn) Close() error {
	c.once.Do(func() { c.open.Add(-1) })
	return c.Conn.Close()
}

// twoServices starts two push services with handler, on two loopback
// addresses, and returns a push resource of each.
func twoServices(t *testing.T, handler http.Handler) []string {
	t.Helper()
	var endpoints []string
	for _, addr := range []string{"127.0.0.1:0", "127.0.0.2:0"} {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			t.Skipf("listen on %s: %v", addr, err)
		}
		hs := httptest.NewUnstartedServer(handler)
		hs.Listener.Close()
		hs.Listener = l
		hs.Start()
		t.Cleanup(hs.Close)
		endpoints = append(endpoints, hs.URL+"/push/x")
	}
	return endpoints
}

// testSender returns a loopback Sender with at most maxConns connections,
// and a subscription with valid keys and no push resource yet.
func testSender(t *testing.T, maxConns int) (*Sender, Subscription) {
	t.Helper()
	key, err := webpush.GenerateVAPIDKey()
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Options{Key: key, Contact: "mailto:ops@coffer.example", AllowLoopback: true, MaxConns: maxConns, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	ua, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	auth := make([]byte, webpush.AuthSize)
	rand.Read(auth)
	return s, Subscription{P256dh: ua.PublicKey().Bytes(), Auth: auth}
}

// TestSendMaxConns: however many sends run at once, to however many push
// services, no more than MaxConns connections are open at any moment, and
// every message still arrives.
func TestSendMaxConns(t *testing.T) {
	const maxConns, sends = 2, 12
	var served atomic.Int32
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(20 * time.Millisecond)
		served.Add(1)
		w.WriteHeader(http.StatusCreated)
	})
	endpoints := twoServices(t, handler)
	s, sub := testSender(t, maxConns)
	var open, peak atomic.Int32
	s.tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := s.dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		n := open.Add(1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		return &countedConn{Conn: c, open: &open}, nil
	}
	var wg sync.WaitGroup
	results := make(chan Result, sends)
	for i := range sends {
		sub := sub
		sub.Endpoint = endpoints[i%len(endpoints)]
		wg.Go(func() { results <- s.Send(context.Background(), sub, Message{Payload: []byte("x"), TTL: time.Minute}) })
	}
	wg.Wait()
	close(results)
	for r := range results {
		if r.Outcome != Delivered {
			t.Errorf("Send = %v, %v", r.Outcome, r.Err)
		}
	}
	if p := peak.Load(); p > maxConns || p == 0 {
		t.Fatalf("peak of %d connections open at once, want at most %d", p, maxConns)
	}
	if n := served.Load(); n != sends {
		t.Fatalf("served %d of %d", n, sends)
	}
}

// TestSendIdleConnectionFreesSlot: a send waiting for a connection slot
// gets the one that a connection to another push service holds as soon as
// that connection turns idle, long before the send's timeout.
func TestSendIdleConnectionFreesSlot(t *testing.T) {
	var first atomic.Bool
	entered, release := make(chan struct{}), make(chan struct{})
	endpoints := twoServices(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if first.CompareAndSwap(false, true) {
			close(entered)
			<-release // the first request holds the only connection a while
		}
		w.WriteHeader(http.StatusCreated)
	}))
	s, sub := testSender(t, 1)
	m := Message{Payload: []byte("x"), TTL: time.Minute}
	a, b := sub, sub
	a.Endpoint, b.Endpoint = endpoints[0], endpoints[1]
	ra := make(chan Result, 1)
	go func() { ra <- s.Send(context.Background(), a, m) }()
	<-entered
	rb := make(chan Result, 1)
	go func() { rb <- s.Send(context.Background(), b, m) }()
	time.Sleep(50 * time.Millisecond) // b now waits for the slot a's connection holds
	close(release)
	if r := <-ra; r.Outcome != Delivered {
		t.Fatalf("first send = %v, %v", r.Outcome, r.Err)
	}
	// a's connection is idle now; b must not wait out its 5 s timeout.
	select {
	case r := <-rb:
		if r.Outcome != Delivered {
			t.Fatalf("second send = %v, %v", r.Outcome, r.Err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("the second send still waits for a slot held by an idle connection")
	}
}
