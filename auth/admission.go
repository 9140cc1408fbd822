package auth

import (
	"context"
	"net"
	"sync"
	"time"
)

// admission hands out the Argon2 places: at most a few runs at once, and
// the logins that wait for one are served source by source in turn, those
// of known usernames before all others. So a flood from many addresses
// fills only its own lane, and a user who logged in before keeps a share
// that anonymous guesses cannot take.
type admission struct {
	mu        sync.Mutex
	free      int      // places not taken
	maxWait   int      // logins that may wait in one lane
	perSource int      // logins that may wait from one source in one lane
	lanes     [2]*lane // lanes[0]: known usernames; lanes[1]: the rest
}

// lane is one class of waiting logins, kept per source.
type lane struct {
	waiting int
	order   []string             // sources with waiting logins, in turn
	queues  map[string][]*waiter // waiting logins by source, oldest first
}

// waiter is a login waiting for a place.
type waiter struct {
	ready   chan struct{} // closed when the place is handed over
	granted bool          // under admission.mu
}

// Admission bounds.
const (
	waitingPerSource = 4               // an address (or IPv6 /64) waits with this many logins at most
	queueRetry       = 5 * time.Second // Retry-After when a lane is full
)

// newAdmission returns an admission of places runs at once, with up to
// maxWait logins waiting in each lane.
func newAdmission(places, maxWait int) *admission {
	return &admission{free: places, maxWait: maxWait, perSource: waitingPerSource,
		lanes: [2]*lane{{queues: map[string][]*waiter{}}, {queues: map[string][]*waiter{}}}}
}

// acquire takes a place for a login from source, in the known users' lane
// when known, waiting its turn; it throttles when the lane or the source's
// share of it is full.
func (a *admission) acquire(ctx context.Context, source string, known bool) (func(), error) {
	l := a.lanes[1]
	if known {
		l = a.lanes[0]
	}
	a.mu.Lock()
	if a.free > 0 && a.lanes[0].waiting == 0 && a.lanes[1].waiting == 0 {
		a.free--
		a.mu.Unlock()
		return a.release, nil
	}
	if l.waiting >= a.maxWait || len(l.queues[source]) >= a.perSource {
		a.mu.Unlock()
		return nil, &Throttled{RetryAfter: queueRetry}
	}
	w := &waiter{ready: make(chan struct{})}
	if len(l.queues[source]) == 0 {
		l.order = append(l.order, source)
	}
	l.queues[source] = append(l.queues[source], w)
	l.waiting++
	a.mu.Unlock()
	select {
	case <-w.ready:
		return a.release, nil
	case <-ctx.Done():
	}
	a.mu.Lock()
	if w.granted {
		a.mu.Unlock()
		a.release()
		return nil, ctx.Err()
	}
	l.remove(source, w)
	a.mu.Unlock()
	return nil, ctx.Err()
}

// release hands the place to the next waiting login, or frees it.
func (a *admission) release() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, l := range a.lanes {
		if w := l.next(); w != nil {
			w.granted = true
			close(w.ready)
			return
		}
	}
	a.free++
}

// next takes the oldest login of the source whose turn it is, and puts the
// source at the end of the turn; nil when none waits.
func (l *lane) next() *waiter {
	if l.waiting == 0 {
		return nil
	}
	src := l.order[0]
	l.order = l.order[1:]
	q := l.queues[src]
	w := q[0]
	if len(q) > 1 {
		l.queues[src] = q[1:]
		l.order = append(l.order, src)
	} else {
		delete(l.queues, src)
	}
	l.waiting--
	return w
}

// remove drops a login that stopped waiting.
func (l *lane) remove(src string, w *waiter) {
	q := l.queues[src]
	for i := range q {
		if q[i] == w {
			q = append(q[:i:i], q[i+1:]...)
			l.waiting--
			break
		}
	}
	if len(q) > 0 {
		l.queues[src] = q
		return
	}
	delete(l.queues, src)
	for i, s := range l.order {
		if s == src {
			l.order = append(l.order[:i:i], l.order[i+1:]...)
			break
		}
	}
}

// sourceOf is what admission and the throttle count a client by: its IPv4
// address, or the /64 of its IPv6 address (one subscriber's usual share),
// from "host:port" or a bare host.
func sourceOf(addr string) string {
	if host, _, err := net.SplitHostPort(addr); err == nil {
		addr = host
	}
	ip := net.ParseIP(addr)
	if ip == nil || ip.To4() != nil {
		return addr
	}
	return (&net.IPNet{IP: ip.Mask(net.CIDRMask(64, 128)), Mask: net.CIDRMask(64, 128)}).String()
}
