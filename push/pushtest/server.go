// Package pushtest is a push service for tests: an HTTP server on loopback
// that hands out subscriptions as a browser would (a P-256 key pair and an
// authentication secret each), checks the VAPID token and signature of
// every message against the server's public key, decrypts the message
// with the subscription's private key, and records it, so that a test can
// assert what a device received. Each subscription can be told to answer
// an error or never to answer at all.
package pushtest

import (
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coffer-dav/coffer/encryption/webpush"
	"github.com/coffer-dav/coffer/push"
)

// maxBody is the largest message body a push service must take (RFC 8030 §7.2).
const maxBody = 4096

// Answer is how the push service answers a subscription's messages.
type Answer struct {
	Status     int    // the status to answer instead of taking the message; 0 takes it (201)
	RetryAfter string // a Retry-After header to send with Status
	Hang       bool   // a black hole: read nothing, answer nothing, until the sender gives up or the server closes
}

// Answers a test commonly gives.
var (
	Take      = Answer{}
	Gone      = Answer{Status: http.StatusGone}
	NotFound  = Answer{Status: http.StatusNotFound}
	TooMany   = Answer{Status: http.StatusTooManyRequests, RetryAfter: "30"}
	Failing   = Answer{Status: http.StatusInternalServerError}
	BlackHole = Answer{Hang: true}
)

// Message is a push message the service took, as the device receives it.
type Message struct {
	Endpoint string    // the subscription's push resource
	Payload  []byte    // the decrypted message
	TTL      int       // the TTL header, in seconds
	Urgency  string    // the Urgency header, if any
	Topic    string    // the Topic header, if any
	Subject  string    // the VAPID token's contact
	Received time.Time // when the service took it
}

// Server is a running test push service.
type Server struct {
	// URL is the service's base URL, http://127.0.0.1:port.
	URL string

	srv     *httptest.Server
	vapid   []byte
	hang    chan struct{} // closed by Close: black holes let go
	closing sync.Once

	mu       sync.Mutex
	subs     map[string]*subscription // by push resource URL
	errs     []error
	arrivals chan struct{} // closed and replaced whenever something is recorded
}

// subscription is the device's side of one subscription.
type subscription struct {
	priv     *ecdh.PrivateKey
	auth     []byte
	answer   Answer
	attempts int
	messages []Message
}

// New starts a push service on loopback that takes messages signed by the
// VAPID public key vapidPublicKey (an uncompressed P-256 point). Close
// stops it.
func New(vapidPublicKey []byte) *Server {
	s := &Server{
		vapid:    vapidPublicKey,
		hang:     make(chan struct{}),
		subs:     map[string]*subscription{},
		arrivals: make(chan struct{}),
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	return s
}

// Close releases black-holed requests and stops the service.
func (s *Server) Close() {
	s.closing.Do(func() { close(s.hang) })
	s.srv.Close()
}

// Subscribe makes a new subscription as a browser does and returns what
// the application server gets of it.
func (s *Server) Subscribe() push.Subscription {
	priv, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		panic(err) // crypto/rand does not fail
	}
	auth := make([]byte, webpush.AuthSize)
	rand.Read(auth)
	id := make([]byte, 12)
	rand.Read(id)
	endpoint := s.URL + "/push/" + base64.RawURLEncoding.EncodeToString(id)
	s.mu.Lock()
	s.subs[endpoint] = &subscription{priv: priv, auth: auth}
	s.mu.Unlock()
	return push.Subscription{Endpoint: endpoint, P256dh: priv.PublicKey().Bytes(), Auth: auth}
}

// SetAnswer sets how the service answers messages to endpoint from now on.
func (s *Server) SetAnswer(endpoint string, a Answer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sub := s.subs[endpoint]; sub != nil {
		sub.answer = a
	}
}

// Messages returns the messages the service took for endpoint so far.
func (s *Server) Messages(endpoint string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sub := s.subs[endpoint]; sub != nil {
		return append([]Message(nil), sub.messages...)
	}
	return nil
}

// Attempts returns how many requests reached endpoint, whatever the answer.
func (s *Server) Attempts(endpoint string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sub := s.subs[endpoint]; sub != nil {
		return sub.attempts
	}
	return 0
}

// Errors returns what the service refused so far: bad tokens, signatures,
// headers or bodies. A test of a correct sender expects none.
func (s *Server) Errors() []error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]error(nil), s.errs...)
}

// Wait returns the first n messages taken for endpoint as soon as there
// are n, or what there is and ctx's error when ctx ends first.
func (s *Server) Wait(ctx context.Context, endpoint string, n int) ([]Message, error) {
	for {
		s.mu.Lock()
		var got []Message
		if sub := s.subs[endpoint]; sub != nil {
			got = append(got, sub.messages...)
		}
		arrivals := s.arrivals
		s.mu.Unlock()
		if len(got) >= n {
			return got[:n], nil
		}
		select {
		case <-arrivals:
		case <-ctx.Done():
			return got, fmt.Errorf("pushtest: %d of %d messages for %s: %w", len(got), n, endpoint, ctx.Err())
		}
	}
}

// serve is the push service's one handler: POST to a push resource.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	endpoint := s.URL + r.URL.Path
	s.mu.Lock()
	sub := s.subs[endpoint]
	var a Answer
	if sub != nil {
		sub.attempts++
		a = sub.answer
	}
	s.mu.Unlock()
	switch {
	case sub == nil:
		http.NotFound(w, r)
		return
	case a.Hang:
		select {
		case <-s.hang:
		case <-r.Context().Done():
		}
		panic(http.ErrAbortHandler) // drop the connection: no answer ever
	case a.Status != 0:
		if a.RetryAfter != "" {
			w.Header().Set("Retry-After", a.RetryAfter)
		}
		w.WriteHeader(a.Status)
		return
	}
	m, status, err := s.take(r, sub)
	if err != nil {
		s.record(func() { s.errs = append(s.errs, fmt.Errorf("%s: %w", endpoint, err)) })
		http.Error(w, err.Error(), status)
		return
	}
	s.record(func() { sub.messages = append(sub.messages, m) })
	w.Header().Set("Location", s.URL+"/message/"+strconv.Itoa(len(m.Payload)))
	w.WriteHeader(http.StatusCreated)
}

// take checks and decrypts one message as a push service and the device
// together would (RFC 8030 §5, RFC 8291, RFC 8292 §4), or says which
// status refuses it and why.
func (s *Server) take(r *http.Request, sub *subscription) (Message, int, error) {
	if r.Method != http.MethodPost {
		return Message{}, http.StatusMethodNotAllowed, fmt.Errorf("method %s", r.Method)
	}
	tok, key, err := webpush.ParseAuthorization(r.Header.Get("Authorization"))
	if err != nil {
		return Message{}, http.StatusUnauthorized, fmt.Errorf("authorization %q: %w", r.Header.Get("Authorization"), err)
	}
	if string(key) != string(s.vapid) {
		return Message{}, http.StatusForbidden, errors.New("the token is signed by another key than the subscription's")
	}
	claims, err := webpush.VerifyToken(tok, key, time.Now())
	if err != nil {
		return Message{}, http.StatusUnauthorized, err
	}
	if claims.Audience != s.URL {
		return Message{}, http.StatusUnauthorized, fmt.Errorf("token audience %q, want %q", claims.Audience, s.URL)
	}
	if err := webpush.CheckContact(claims.Subject); err != nil {
		return Message{}, http.StatusUnauthorized, err
	}
	ttl, err := strconv.Atoi(r.Header.Get("TTL"))
	if err != nil || ttl < 0 {
		return Message{}, http.StatusBadRequest, fmt.Errorf("TTL %q", r.Header.Get("TTL"))
	}
	urgency := r.Header.Get("Urgency")
	if !push.Urgency(urgency).Valid() {
		return Message{}, http.StatusBadRequest, fmt.Errorf("urgency %q", urgency)
	}
	topic := r.Header.Get("Topic")
	if topic != "" && !push.ValidTopic(topic) {
		return Message{}, http.StatusBadRequest, fmt.Errorf("topic %q", topic)
	}
	if ce := r.Header.Values("Content-Encoding"); len(ce) != 1 || strings.TrimSpace(ce[0]) != "aes128gcm" {
		return Message{}, http.StatusUnsupportedMediaType, fmt.Errorf("content encoding %q", ce)
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return Message{}, http.StatusBadRequest, err
	}
	if len(body) > maxBody {
		return Message{}, http.StatusRequestEntityTooLarge, errors.New("body longer than 4096 bytes")
	}
	payload, err := webpush.Decrypt(body, sub.priv, sub.auth)
	if err != nil {
		return Message{}, http.StatusBadRequest, err
	}
	return Message{
		Endpoint: s.URL + r.URL.Path, Payload: payload, TTL: ttl, Urgency: urgency, Topic: topic,
		Subject: claims.Subject, Received: time.Now(),
	}, 0, nil
}

// record changes the service's records under its lock and wakes waiters.
func (s *Server) record(f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f()
	close(s.arrivals)
	s.arrivals = make(chan struct{})
}
