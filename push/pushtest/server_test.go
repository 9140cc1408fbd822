package pushtest

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coffer-dav/coffer/encryption/webpush"
)

// request is one message to the test service, built by hand so that each
// part can be wrong.
type request struct {
	method   string
	body     []byte
	header   map[string]string
	endpoint string
}

// TestServerChecksRequests: the service takes a correct message and
// refuses, with RFC 8030's and RFC 8292's statuses, one whose token,
// key, headers or body are wrong, recording nothing but the error.
func TestServerChecksRequests(t *testing.T) {
	k, err := webpush.GenerateVAPIDKey()
	if err != nil {
		t.Fatal(err)
	}
	other, err := webpush.GenerateVAPIDKey()
	if err != nil {
		t.Fatal(err)
	}
	srv := New(k.PublicKey())
	defer srv.Close()
	sub := srv.Subscribe()
	body, err := webpush.Encrypt([]byte("hello"), sub.P256dh, sub.Auth)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	auth := func(key *webpush.VAPIDKey, aud string, exp time.Time) string {
		tok, err := key.Token(webpush.Claims{Audience: aud, Subject: "mailto:ops@coffer.example", Expires: exp})
		if err != nil {
			t.Fatal(err)
		}
		return "vapid t=" + tok + ", k=" + key.PublicKeyString()
	}
	good := map[string]string{
		"Authorization":    auth(k, srv.URL, now.Add(time.Hour)),
		"TTL":              "60",
		"Content-Encoding": "aes128gcm",
	}
	with := func(name, value string) map[string]string {
		h := map[string]string{}
		for k, v := range good {
			h[k] = v
		}
		if value == "" {
			delete(h, name)
		} else {
			h[name] = value
		}
		return h
	}
	tampered := bytes.Clone(body)
	tampered[len(tampered)-1] ^= 1
	for _, c := range []struct {
		name   string
		req    request
		status int
	}{
		{"correct", request{body: body, header: good}, 201},
		{"correct, with urgency", request{body: body, header: with("Urgency", "high")}, 201},
		{"unknown push resource", request{body: body, header: good, endpoint: srv.URL + "/push/unknown"}, 404},
		{"GET", request{method: "GET", header: good}, 405},
		{"no Authorization", request{body: body, header: with("Authorization", "")}, 401},
		{"WebPush scheme", request{body: body, header: with("Authorization", "WebPush abc")}, 401},
		{"signed by another key", request{body: body, header: with("Authorization", auth(other, srv.URL, now.Add(time.Hour)))}, 403},
		{"another audience", request{body: body, header: with("Authorization", auth(k, "https://push.example.net", now.Add(time.Hour)))}, 401},
		{"expired", request{body: body, header: with("Authorization", auth(k, srv.URL, now.Add(-time.Minute)))}, 401},
		{"valid for two days", request{body: body, header: with("Authorization", auth(k, srv.URL, now.Add(48*time.Hour)))}, 401},
		{"no TTL", request{body: body, header: with("TTL", "")}, 400},
		{"negative TTL", request{body: body, header: with("TTL", "-1")}, 400},
		{"bad urgency", request{body: body, header: with("Urgency", "urgent")}, 400},
		{"topic too long", request{body: body, header: with("Topic", strings.Repeat("a", 33))}, 400},
		{"aesgcm", request{body: body, header: with("Content-Encoding", "aesgcm")}, 415},
		{"no Content-Encoding", request{body: body, header: with("Content-Encoding", "")}, 415},
		{"body too long", request{body: make([]byte, 4097), header: good}, 413},
		{"tampered body", request{body: tampered, header: good}, 400},
		{"no body", request{header: good}, 400},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := len(srv.Messages(sub.Endpoint))
			errsBefore := len(srv.Errors())
			endpoint := c.req.endpoint
			if endpoint == "" {
				endpoint = sub.Endpoint
			}
			method := c.req.method
			if method == "" {
				method = "POST"
			}
			req, err := http.NewRequest(method, endpoint, bytes.NewReader(c.req.body))
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range c.req.header {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != c.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, c.status)
			}
			got := srv.Messages(sub.Endpoint)
			switch {
			case c.status == 201 && (len(got) != before+1 || string(got[before].Payload) != "hello" || got[before].TTL != 60):
				t.Fatalf("messages %+v", got)
			case c.status != 201 && len(got) != before:
				t.Fatalf("recorded a refused message")
			case c.status != 201 && c.status != 404 && len(srv.Errors()) != errsBefore+1:
				t.Fatalf("errors %v", srv.Errors())
			}
		})
	}
}

// TestServerAnswers: a subscription told to answer an error answers it
// and records nothing; a black hole answers nothing until the sender
// gives up, and lets go when the service closes.
func TestServerAnswers(t *testing.T) {
	k, err := webpush.GenerateVAPIDKey()
	if err != nil {
		t.Fatal(err)
	}
	srv := New(k.PublicKey())
	defer srv.Close()
	for _, c := range []struct {
		answer     Answer
		status     int
		retryAfter string
	}{
		{Gone, 410, ""},
		{NotFound, 404, ""},
		{TooMany, 429, "30"},
		{Failing, 500, ""},
	} {
		sub := srv.Subscribe()
		srv.SetAnswer(sub.Endpoint, c.answer)
		resp, err := http.Post(sub.Endpoint, "application/octet-stream", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.status || resp.Header.Get("Retry-After") != c.retryAfter || srv.Attempts(sub.Endpoint) != 1 {
			t.Errorf("%+v: %d, Retry-After %q, %d attempts", c.answer, resp.StatusCode, resp.Header.Get("Retry-After"), srv.Attempts(sub.Endpoint))
		}
	}

	hole := srv.Subscribe()
	srv.SetAnswer(hole.Endpoint, BlackHole)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "POST", hole.Endpoint, nil)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("the black hole answered %d", resp.StatusCode)
	}
	// A request still hanging when the service closes gets no answer.
	closed := New(k.PublicKey())
	sub := closed.Subscribe()
	closed.SetAnswer(sub.Endpoint, BlackHole)
	done := make(chan error, 1)
	go func() {
		resp, err := http.Post(sub.Endpoint, "application/octet-stream", nil)
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	for closed.Attempts(sub.Endpoint) == 0 {
		time.Sleep(time.Millisecond)
	}
	closed.Close()
	if err := <-done; err == nil {
		t.Fatal("the closed black hole answered")
	}
}
