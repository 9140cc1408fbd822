package push

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/coffer-dav/coffer/encryption/webpush"
)

// Defaults of Options.
const (
	// DefaultTimeout is the Timeout of one send when Options name none.
	DefaultTimeout = 10 * time.Second
	// DefaultMaxConns is the MaxConns when Options name none.
	DefaultMaxConns = 8
)

// Options configure a Sender.
type Options struct {
	// Key signs the VAPID tokens; required.
	Key *webpush.VAPIDKey
	// Contact is the operator's mailto: or https: URI that push services
	// see in every token (RFC 8292 §2.1); required.
	Contact string
	// Timeout bounds one send, from waiting for a free connection to the
	// answer's status; DefaultTimeout when zero.
	Timeout time.Duration
	// MaxConns is the most connections open at once, to every push
	// service together; DefaultMaxConns when zero.
	MaxConns int
	// AllowLoopback lets push resources be http or https on loopback
	// addresses, and nothing else. For tests only.
	AllowLoopback bool
}

// Sender sends push messages. It is safe for concurrent use.
type Sender struct {
	o      Options
	client *http.Client
	tr     *http.Transport
	dialer net.Dialer
	slots  chan struct{} // one per open connection
}

// New returns a Sender with the options o.
func New(o Options) (*Sender, error) {
	if o.Key == nil {
		return nil, errors.New("push: a Sender needs a VAPID key")
	}
	if err := webpush.CheckContact(o.Contact); err != nil {
		return nil, err
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.MaxConns <= 0 {
		o.MaxConns = DefaultMaxConns
	}
	s := &Sender{
		o:      o,
		dialer: net.Dialer{Timeout: min(o.Timeout, 5*time.Second), Control: dialControl(o.AllowLoopback)},
		slots:  make(chan struct{}, o.MaxConns),
	}
	s.tr = &http.Transport{
		Proxy:                  nil, // never the environment's proxy: the dial check must see the push service
		DialContext:            s.dial,
		TLSClientConfig:        &tls.Config{MinVersion: tls.VersionTLS12},
		ForceAttemptHTTP2:      true,
		TLSHandshakeTimeout:    min(o.Timeout, 5*time.Second),
		ResponseHeaderTimeout:  o.Timeout,
		MaxIdleConns:           o.MaxConns,
		MaxIdleConnsPerHost:    o.MaxConns,
		MaxConnsPerHost:        o.MaxConns,
		IdleConnTimeout:        60 * time.Second,
		MaxResponseHeaderBytes: 16 << 10,
		DisableCompression:     true,
	}
	s.client = &http.Client{
		Transport: s.tr,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse // a push resource that redirects is refused
		},
	}
	return s, nil
}

// Close closes the Sender's idle connections.
func (s *Sender) Close() { s.tr.CloseIdleConnections() }

// Send encrypts m to sub and sends it to sub's push resource (RFC 8030
// §5), within the Sender's timeout or ctx's, whichever ends first.
func (s *Sender) Send(ctx context.Context, sub Subscription, m Message) Result {
	if err := m.check(); err != nil {
		return Result{Outcome: Refused, Err: err}
	}
	if err := CheckEndpoint(sub.Endpoint, s.o.AllowLoopback); err != nil {
		return Result{Outcome: Refused, Err: err}
	}
	body, err := webpush.Encrypt(m.Payload, sub.P256dh, sub.Auth)
	if err != nil {
		return Result{Outcome: Refused, Err: err}
	}
	now := time.Now()
	auth, err := s.o.Key.Authorization(sub.Endpoint, s.o.Contact, now)
	if err != nil {
		return Result{Outcome: Refused, Err: err}
	}
	ctx, cancel := context.WithTimeout(ctx, s.o.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, sub.Endpoint, bytes.NewReader(body))
	if err != nil {
		return Result{Outcome: Refused, Err: fmt.Errorf("%w: %v", ErrEndpoint, err)}
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set("Content-Encoding", "aes128gcm")
	req.Header.Set("TTL", strconv.FormatInt(int64(m.TTL/time.Second), 10))
	req.Header.Set("Authorization", auth)
	if m.Urgency != "" {
		req.Header.Set("Urgency", string(m.Urgency))
	}
	if m.Topic != "" {
		req.Header.Set("Topic", m.Topic)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		// The push resource URL is user data, and a capability: keep it
		// out of the error, which may reach a log.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		if errors.Is(err, ErrEndpoint) {
			return Result{Outcome: Refused, Err: err}
		}
		return Result{Outcome: Retry, Err: fmt.Errorf("push: %w", err)}
	}
	// Read a little of the answer so the connection can serve the next one.
	io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	resp.Body.Close()
	r := Result{Outcome: outcomeOf(resp.StatusCode), Status: resp.StatusCode}
	switch r.Outcome {
	case Delivered:
		return r
	case Retry:
		r.RetryAfter = retryAfter(resp.Header.Get("Retry-After"), now)
	}
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		r.Err = fmt.Errorf("push: the push service answered %s; redirects are not followed", resp.Status)
	} else {
		r.Err = fmt.Errorf("push: the push service answered %s", resp.Status)
	}
	return r
}

// slotPoll is how often a dial waiting for a free slot closes the idle
// connections that hold slots: connections turn idle without telling.
const slotPoll = 20 * time.Millisecond

// dial opens a connection once one of the Sender's MaxConns slots is free;
// the slot is freed when the connection closes.
func (s *Sender) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	if err := s.acquire(ctx); err != nil {
		return nil, err
	}
	c, err := s.dialer.DialContext(ctx, network, addr)
	if err != nil {
		<-s.slots
		return nil, err
	}
	return &slotConn{Conn: c, free: sync.OnceFunc(func() { <-s.slots })}, nil
}

// acquire takes a connection slot. While every slot is held, it closes
// idle connections, which may hold slots, until one is free. The wait has
// its own bound: net/http dials on a context without the request's
// deadline (so that a dial outlives a cancelled request, for the next
// one), and CloseIdleConnections cancels only those dials that no request
// waits for any more.
func (s *Sender) acquire(ctx context.Context) error {
	select {
	case s.slots <- struct{}{}:
		return nil
	default:
	}
	wait := time.NewTimer(s.o.Timeout)
	defer wait.Stop()
	poll := time.NewTicker(slotPoll)
	defer poll.Stop()
	for {
		s.tr.CloseIdleConnections()
		select {
		case s.slots <- struct{}{}:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		case <-wait.C:
			return fmt.Errorf("push: no connection free within %v", s.o.Timeout)
		case <-poll.C:
		}
	}
}

// slotConn is a connection that frees its Sender slot when it closes.
type slotConn struct {
	net.Conn
	free func()
}

// Close closes the connection and frees its slot.
func (c *slotConn) Close() error {
	err := c.Conn.Close()
	c.free()
	return err
}
