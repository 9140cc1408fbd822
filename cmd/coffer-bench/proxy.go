package main

import (
	"context"
	"errors"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
	"time"
)

// roundRobin is a reverse proxy on loopback in front of several instances
// of one service: it sends request i to instance i mod n, whoever sent it,
// so that consecutive requests of one client land on different instances.
type roundRobin struct {
	url     *url.URL
	srv     *http.Server
	targets []*url.URL
	next    atomic.Uint64
	served  []atomic.Int64 // requests sent to each instance
	done    chan struct{}  // closed once Serve returned
	log     *tailBuffer    // the proxy's own errors (a forward that failed)
}

// startRoundRobin starts a roundRobin on a free loopback port, keeping up
// to conns idle connections to each target. It keeps the client's Host
// header, as the reverse proxy of a service does.
func startRoundRobin(targets []*url.URL, conns int) (*roundRobin, error) {
	if len(targets) == 0 {
		return nil, errors.New("a proxy needs at least one instance")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &roundRobin{targets: targets, served: make([]atomic.Int64, len(targets)), done: make(chan struct{}), log: &tailBuffer{}}
	p.url = &url.URL{Scheme: "http", Host: ln.Addr().String()}
	d := &net.Dialer{Timeout: 10 * time.Second, Control: loopbackOnly}
	tr := &http.Transport{
		DialContext:         d.DialContext,
		MaxIdleConns:        conns * len(targets),
		MaxIdleConnsPerHost: conns,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	proxy := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			i := p.pick()
			r.SetURL(p.targets[i])
			r.Out.Host = r.In.Host
		},
		Transport: tr,
		// A failed forward is a 502 or a cut answer, which the scenarios
		// count as unexpected; the log says which instance failed how.
		ErrorLog: log.New(p.log, "proxy: ", 0),
	}
	// Without full duplex, the proxy's server drains and closes a request
	// body once the instance's answer starts to go back, and the
	// transport, still checking that body's end, then closes its
	// connection under the answer: the client gets a cut body
	// (golang/go#40747).
	duplex := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := http.NewResponseController(w).EnableFullDuplex(); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		proxy.ServeHTTP(w, r)
	})
	p.srv = &http.Server{Handler: duplex, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		defer close(p.done)
		p.srv.Serve(ln)
	}()
	return p, nil
}

// pick returns the instance of the next request and counts it.
func (p *roundRobin) pick() int {
	i := int((p.next.Add(1) - 1) % uint64(len(p.targets)))
	p.served[i].Add(1)
	return i
}

// counts returns how many requests each instance was sent so far.
func (p *roundRobin) counts() []int64 {
	out := make([]int64, len(p.served))
	for i := range p.served {
		out[i] = p.served[i].Load()
	}
	return out
}

// close stops the proxy, waiting up to 5 s for requests under way.
func (p *roundRobin) close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := p.srv.Shutdown(ctx)
	<-p.done
	return err
}
