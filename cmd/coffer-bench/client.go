package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// checkLoopback refuses a URL whose host is not this machine: load tests
// run only against 127.0.0.0/8, ::1 or localhost.
func checkLoopback(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%q: %w", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("%q: want an http:// or https:// URL", raw)
	}
	if u.User != nil {
		return nil, fmt.Errorf("%q: put no credentials in the URL", raw)
	}
	if !loopbackHost(u.Hostname()) {
		return nil, fmt.Errorf("%q: only loopback targets are allowed (127.0.0.0/8, ::1, localhost)", raw)
	}
	return u, nil
}

// loopbackHost reports whether host is localhost or a loopback address.
// No name other than localhost is resolved: a name could point anywhere.
func loopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || ip.Zone() != "" {
		return false
	}
	return ip.Unmap().IsLoopback()
}

// loopbackOnly is a dialer hook that refuses any connection to an address
// that is not loopback, whatever a name resolved to.
func loopbackOnly(network, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || !ip.Unmap().IsLoopback() {
		return fmt.Errorf("refusing to connect to %s: not a loopback address", address)
	}
	return nil
}

// newHTTPClient returns a client that keeps up to conns connections open,
// connects only to loopback addresses and follows redirects only there.
func newHTTPClient(conns int, timeout time.Duration) *http.Client {
	d := &net.Dialer{Timeout: 10 * time.Second, Control: loopbackOnly}
	tr := &http.Transport{
		DialContext:         d.DialContext,
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		IdleConnTimeout:     90 * time.Second,
		ForceAttemptHTTP2:   false,
		DisableCompression:  true,
	}
	return &http.Client{
		Transport: tr,
		Timeout:   timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 5 {
				return errors.New("too many redirects")
			}
			if !loopbackHost(req.URL.Hostname()) {
				return fmt.Errorf("refusing a redirect to %s", req.URL.Host)
			}
			return nil
		},
	}
}

// davClient sends DAV requests as one user.
type davClient struct {
	http     *http.Client
	base     *url.URL
	user     string
	password string
}

// maxPresized is the largest announced Content-Length read into a buffer
// of that size at once.
const maxPresized = 64 << 20

// answer is a response read in full.
type answer struct {
	status int
	header http.Header
	body   []byte
	took   time.Duration
}

// do sends one request and reads the whole answer; took covers both, and
// runs from the request's scheduled send time when ctx carries one that has
// passed (see atSchedule). Headers are given as name, value pairs.
func (c *davClient) do(ctx context.Context, method, path string, body []byte, headers ...string) (*answer, error) {
	u := *c.base
	u.Path = path
	u.RawPath = ""
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return &answer{}, err
	}
	req.SetBasicAuth(c.user, c.password)
	req.Header.Set("User-Agent", "coffer-bench/1 (DAVx5-like)")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	start := time.Now()
	if at, ok := ctx.Value(scheduleKey{}).(time.Time); ok && at.Before(start) {
		start = at
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return &answer{took: time.Since(start)}, err
	}
	defer resp.Body.Close()
	var b []byte
	if n := resp.ContentLength; n > 0 && n <= maxPresized {
		// One buffer of the announced size, as a client parsing the
		// stream would need; io.ReadAll would grow and copy it.
		b = make([]byte, n)
		_, err = io.ReadFull(resp.Body, b)
	} else {
		b, err = io.ReadAll(resp.Body)
	}
	a := &answer{status: resp.StatusCode, header: resp.Header, body: b, took: time.Since(start)}
	return a, err
}

// scheduleKey is the context key of a request's scheduled send time.
type scheduleKey struct{}

// atSchedule returns ctx carrying at, the time a fixed-rate load meant to
// send its next request: that request's latency then runs from at, not
// from when it could be sent, so that a slow answer, which delays the
// requests behind it, counts against each of them (no coordinated
// omission).
func atSchedule(ctx context.Context, at time.Time) context.Context {
	return context.WithValue(ctx, scheduleKey{}, at)
}
