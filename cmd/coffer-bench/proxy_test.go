package main

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"
)

// TestRoundRobinWholeAnswers: an instance that answers before it has read
// the request's body (as a 401 does) gets its whole answer to the client,
// even when that body is still on its way (golang/go#40747 cut such
// answers short).
func TestRoundRobinWholeAnswers(t *testing.T) {
	answer := bytes.Repeat([]byte("x"), 512<<10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.NewResponseController(w).EnableFullDuplex()
		w.Write(answer)
		io.Copy(io.Discard, r.Body)
	}))
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	p, err := startRoundRobin([]*url.URL{u, u}, 4)
	if err != nil {
		t.Fatal(err)
	}
	defer p.close()
	hc := newHTTPClient(1, 10*time.Second)
	const body = "<propfind/>"
	for i := range 50 {
		slow, sender := io.Pipe()
		go func() {
			time.Sleep(20 * time.Millisecond)
			io.WriteString(sender, body)
			sender.Close()
		}()
		req, _ := http.NewRequest("PROPFIND", p.url.String()+"/", slow)
		req.ContentLength = int64(len(body))
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || len(b) != len(answer) {
			t.Fatalf("request %d: %d of %d bytes, %v", i, len(b), len(answer), err)
		}
	}
}
