package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// serving is the URL of the server's "serving on" line and when the tool
// read it.
type serving struct {
	url string
	at  time.Time
}

// lineWatcher is the started server's standard output. It looks for the
// "serving on" and "operator API on" lines and for the first account's
// announcement, and keeps no other line, so that the first account's
// credentials go nowhere.
type lineWatcher struct {
	mu           sync.Mutex
	partial      []byte
	serving      chan serving // gets the first "serving on" line; buffered
	sent         bool
	firstAccount bool
	operator     string // the operator API's URL, printed before "serving on"
}

// tailBuffer keeps the last tailMax bytes written to it: the end of the
// server's log, for error reports.
type tailBuffer struct {
	mu sync.Mutex
	b  []byte
}

// child is one started server process.
type child struct {
	cmd    *exec.Cmd
	out    *lineWatcher
	log    *tailBuffer
	exited chan struct{} // closed once Wait returned
	err    error         // Wait's result, set before exited is closed
}

// Bounds of one start-up measurement.
const (
	servingLimit = 2 * time.Minute       // from exec to the "serving on" line
	healthLimit  = 10 * time.Second      // from that line to the first 200 of /healthz
	healthEvery  = time.Millisecond      // between two /healthz requests
	stopLimit    = 20 * time.Second      // from SIGTERM to the exit; then SIGKILL
	tailMax      = 4096                  // bytes of the server's log kept
	lineMax      = 64 << 10              // longest standard-output line looked at
	servingLine  = "coffer: serving on " // what coffer serve prints once it listens
	operatorLine = "coffer: operator API on "
	firstAccount = "Coffer created the first account"
)

// startArgs is the command line of a measured start: the DAV listener on
// a free loopback port and no operator listener, whatever COFFER_* variables
// say (the command line wins over them).
func startArgs(data string) []string {
	return []string{"serve", "--data", data, "--listen", "127.0.0.1:0", "--operator-listen="}
}

// servingURL returns the URL of coffer serve's "serving on" line, or false
// for any other line.
func servingURL(line string) (string, bool) {
	rest, ok := strings.CutPrefix(strings.TrimRight(line, "\r\n"), servingLine)
	if !ok {
		return "", false
	}
	u, err := url.Parse(rest)
	if err != nil || u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return "", false
	}
	return rest, true
}

// Write looks at the complete lines in p and drops them.
func (w *lineWatcher) Write(p []byte) (int, error) {
	now := time.Now()
	w.mu.Lock()
	defer w.mu.Unlock()
	w.partial = append(w.partial, p...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			break
		}
		line := string(w.partial[:i])
		w.partial = w.partial[i+1:]
		if u, ok := servingURL(line); ok && !w.sent {
			w.sent = true
			w.serving <- serving{url: u, at: now}
		}
		if strings.HasPrefix(line, firstAccount) {
			w.firstAccount = true
		}
		if u, ok := strings.CutPrefix(strings.TrimRight(line, "\r"), operatorLine); ok && w.operator == "" {
			w.operator = u
		}
	}
	if len(w.partial) > lineMax {
		w.partial = w.partial[:0]
	}
	return len(p), nil
}

// createdFirstAccount reports whether the server announced that it created
// the first account, as it does on the first start of an empty data folder.
func (w *lineWatcher) createdFirstAccount() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.firstAccount
}

// operatorURL is the URL of the "operator API on" line, or "".
func (w *lineWatcher) operatorURL() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.operator
}

// Write appends p and keeps the last tailMax bytes.
func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > tailMax {
		t.b = append([]byte(nil), t.b[len(t.b)-tailMax:]...)
	}
	return len(p), nil
}

// problems are the lines of the tail that report a warning or an error:
// the server's slog lines at WARN or ERROR, and the proxy's, but for
// forwards the client canceled.
func (t *tailBuffer) problems() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []string
	for _, line := range strings.Split(string(t.b), "\n") {
		// A forward the client canceled is the tool's own doing: the
		// mixed load cuts its requests under way at --duration.
		proxied := strings.HasPrefix(line, "proxy: ") && !strings.HasSuffix(line, "context canceled")
		if strings.Contains(line, "level=WARN") || strings.Contains(line, "level=ERROR") || proxied {
			out = append(out, line)
		}
	}
	return out
}

// lastLine is the last line written.
func (t *tailBuffer) lastLine() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return lastLine(string(t.b))
}

// startChild starts bin with args and the environment env. It returns the
// time taken just before the exec.
func startChild(bin string, args, env []string) (*child, time.Time, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	ch := &child{cmd: cmd, out: &lineWatcher{serving: make(chan serving, 1)}, log: &tailBuffer{}, exited: make(chan struct{})}
	cmd.Stdin = nil
	cmd.Stdout, cmd.Stderr = ch.out, ch.log
	cmd.WaitDelay = 5 * time.Second // bounds the wait for the output pipes after the exit
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, start, err
	}
	go func() {
		ch.err = cmd.Wait()
		close(ch.exited)
	}()
	return ch, start, nil
}

// awaitServing waits up to servingLimit for the "serving on" line.
func (ch *child) awaitServing(ctx context.Context) (serving, error) {
	limit := time.NewTimer(servingLimit)
	defer limit.Stop()
	select {
	case sv := <-ch.out.serving:
		return sv, nil
	case <-ch.exited:
		return serving{}, errors.New("the server exited before serving: " + ch.why())
	case <-limit.C:
		return serving{}, fmt.Errorf("no %q line within %s", strings.TrimSpace(servingLine), servingLimit)
	case <-ctx.Done():
		return serving{}, ctx.Err()
	}
}

// why describes how the exited server ended: its exit status and the last
// line of its log.
func (ch *child) why() string {
	status := "exit status 0"
	if ch.err != nil {
		status = ch.err.Error()
	}
	if l := ch.log.lastLine(); l != "" {
		return status + ": " + l
	}
	return status
}

// stop sends SIGTERM and waits up to stopLimit for the exit, then kills the
// server. It returns the time from the signal to the exit, and an error
// unless the server exited with status 0 within the limit.
func (ch *child) stop() (time.Duration, error) {
	select {
	case <-ch.exited:
		return 0, fmt.Errorf("the server had exited already (%s)", ch.why())
	default:
	}
	t0 := time.Now()
	if err := ch.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		<-ch.exited
		return time.Since(t0), fmt.Errorf("SIGTERM: %w (%s)", err, ch.why())
	}
	timer := time.NewTimer(stopLimit)
	defer timer.Stop()
	select {
	case <-ch.exited:
		took := time.Since(t0)
		if ch.err != nil {
			return took, fmt.Errorf("exit after SIGTERM: %s", ch.why())
		}
		return took, nil
	case <-timer.C:
		ch.cmd.Process.Kill()
		<-ch.exited
		return time.Since(t0), fmt.Errorf("no exit within %s of SIGTERM: killed", stopLimit)
	}
}

// waitHealthy sends GET /healthz to base every healthEvery until it answers
// 200, for at most healthLimit or until the server exits. It returns the
// number of requests sent.
func waitHealthy(ctx context.Context, hc *http.Client, base *url.URL, exited <-chan struct{}) (int, error) {
	u := *base
	u.Path, u.RawQuery, u.Fragment = "/healthz", "", ""
	deadline := time.Now().Add(healthLimit)
	for polls := 1; ; polls++ {
		status, err := getStatus(ctx, hc, u.String())
		if err == nil && status == http.StatusOK {
			return polls, nil
		}
		last := fmt.Sprint(status)
		if err != nil {
			last = err.Error()
		}
		if time.Now().After(deadline) {
			return polls, fmt.Errorf("GET /healthz not 200 within %s (%d requests, last: %s)", healthLimit, polls, last)
		}
		select {
		case <-ctx.Done():
			return polls, ctx.Err()
		case <-exited:
			return polls, errors.New("the server exited while the tool waited for /healthz")
		case <-time.After(healthEvery):
		}
	}
}

// getStatus sends one GET and returns the status, the body read and dropped.
func getStatus(ctx context.Context, hc *http.Client, u string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("User-Agent", "coffer-bench/1")
	resp, err := hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	return resp.StatusCode, nil
}

// secs is d in seconds, rounded to microseconds.
func secs(d time.Duration) float64 { return math.Round(d.Seconds()*1e6) / 1e6 }

// startupRun starts the server on --data once: startup_s runs from just
// before the exec to the first 200 of GET /healthz on the URL the server
// printed. It then samples the server's memory, stops it with SIGTERM and
// checks that it exits with status 0. Failures are recorded under the
// operations "start" and "stop".
func (e *env) startupRun(ctx context.Context, run int, rec *recorder, res *result) error {
	ch, start, err := startChild(e.c.bin, startArgs(e.c.data), os.Environ())
	if err != nil {
		return fmt.Errorf("start %s: %w", e.c.bin, err)
	}
	stopped := false
	defer func() {
		if !stopped {
			ch.stop()
		}
	}()
	sv, err := ch.awaitServing(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		select {
		case <-ch.exited:
			stopped = true
		default:
		}
		rec.fail("start", time.Since(start), 0, err.Error())
		return nil
	}
	base, err := checkLoopback(sv.url)
	if err != nil {
		rec.fail("start", time.Since(start), 0, "the server serves on "+err.Error())
		return nil
	}
	hc := newHTTPClient(2, time.Second)
	polls, err := waitHealthy(ctx, hc, base, ch.exited)
	took := time.Since(start)
	hc.CloseIdleConnections()
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		rec.fail("start", took, 0, err.Error())
		return nil
	}
	rec.ok("start", took)
	res.Extra["startup_s"] = secs(took)
	res.Extra["serving_line_s"] = secs(sv.at.Sub(start))
	res.Extra["healthz_requests"] = float64(polls)
	if rss, hwm, err := procMemory(ch.cmd.Process.Pid); err == nil {
		res.Extra["rss_at_serving_mib"] = mib(rss * 1024)
		res.Extra["vm_hwm_at_serving_mib"] = mib(hwm * 1024)
	} else {
		res.Samples = append(res.Samples, "server memory: "+err.Error())
	}
	if ch.out.createdFirstAccount() {
		res.Extra["first_account_created"] = true
	}
	down, err := ch.stop()
	stopped = true
	if err != nil {
		rec.fail("stop", down, 0, err.Error())
		return nil
	}
	rec.ok("stop", down)
	res.Extra["shutdown_s"] = secs(down)
	return nil
}
