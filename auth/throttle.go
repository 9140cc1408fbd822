package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"sync"
	"time"
)

// ThrottleOptions configures a Throttle.
type ThrottleOptions struct {
	Free     int           // failures allowed without delay; 0 means 5
	Base     time.Duration // the first delay; 0 means 1 second
	Max      time.Duration // the longest delay; 0 means 15 minutes
	Forget   time.Duration // a key with no failure for this long is dropped; 0 means 1 hour
	MaxKeys  int           // bound on the keys kept; 0 means 100,000
	UserFree int           // failures of one username, from all addresses, before its addresses back off; 0 means 50
}

// Throttle slows down repeated failed logins with exponential backoff, per
// address, per username and address, and per username for the addresses
// that have failed for it. A username under attack from elsewhere stays
// reachable from an address that has not failed, so nobody can lock its
// owner out, and its devices with a cached login are never throttled.
type Throttle struct {
	o    ThrottleOptions
	mac  []byte // keys the hashes that name the records
	mu   sync.Mutex
	keys map[throttleID]*throttleKey
}

// throttleID names a record by a keyed hash of what it counts, so that a
// record costs the same whatever the length of the name it counts.
type throttleID [16]byte

// throttleKey is the failure record of one address, username or pair.
type throttleKey struct {
	failures int
	last     time.Time
	until    time.Time
}

// NewThrottle returns a Throttle.
func NewThrottle(o ThrottleOptions) *Throttle {
	if o.Free <= 0 {
		o.Free = 5
	}
	if o.Base <= 0 {
		o.Base = time.Second
	}
	if o.Max <= 0 {
		o.Max = 15 * time.Minute
	}
	if o.Forget <= 0 {
		o.Forget = time.Hour
	}
	if o.MaxKeys <= 0 {
		o.MaxKeys = 100_000
	}
	if o.UserFree <= 0 {
		o.UserFree = 50
	}
	mac := make([]byte, 32)
	rand.Read(mac) // never fails (crypto/rand)
	return &Throttle{o: o, mac: mac, keys: map[throttleID]*throttleKey{}}
}

// Check returns a *Throttled error when a login of username from addr must wait.
func (t *Throttle) Check(username, addr string, now time.Time) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	wait := time.Duration(0)
	for _, k := range []throttleID{t.id('a', addr, ""), t.id('p', username, addr)} {
		if e := t.keys[k]; e != nil && now.Before(e.until) && e.until.Sub(now) > wait {
			wait = e.until.Sub(now)
		}
	}
	// The username's own backoff binds only addresses that failed for it.
	if e := t.keys[t.id('u', username, "")]; e != nil && now.Before(e.until) && t.keys[t.id('p', username, addr)] != nil && e.until.Sub(now) > wait {
		wait = e.until.Sub(now)
	}
	if wait > 0 {
		return &Throttled{RetryAfter: wait.Round(time.Second) + time.Second}
	}
	return nil
}

// Fail records a failed login of username from addr.
func (t *Throttle) Fail(username, addr string, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.bump(t.id('a', addr, ""), t.o.Free, now)
	t.bump(t.id('p', username, addr), t.o.Free, now)
	t.bump(t.id('u', username, ""), t.o.UserFree, now)
	if len(t.keys) > t.o.MaxKeys {
		t.prune(now)
	}
}

// Succeed clears the pair record after a good login from addr.
func (t *Throttle) Succeed(username, addr string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.keys, t.id('p', username, addr))
}

// bump counts a failure on key and sets its backoff once past free.
func (t *Throttle) bump(key throttleID, free int, now time.Time) {
	e := t.keys[key]
	if e == nil || now.Sub(e.last) > t.o.Forget {
		e = &throttleKey{}
		t.keys[key] = e
	}
	e.failures++
	e.last = now
	// Once free failures are used up, every attempt waits, twice as long each time.
	if over := e.failures - free + 1; over > 0 {
		d := t.o.Base
		for i := 1; i < over && d < t.o.Max; i++ {
			d *= 2
		}
		e.until = now.Add(min(d, t.o.Max))
	}
}

// id names the record of a kind ('a' address, 'u' username, 'p' pair) of a and b.
func (t *Throttle) id(kind byte, a, b string) throttleID {
	m := hmac.New(sha256.New, t.mac)
	m.Write([]byte{kind})
	m.Write([]byte(a))
	m.Write([]byte{0})
	m.Write([]byte(b))
	var id throttleID
	copy(id[:], m.Sum(nil))
	return id
}

// prune drops forgotten keys, then, if still over the bound, the oldest half.
func (t *Throttle) prune(now time.Time) {
	for k, e := range t.keys {
		if now.Sub(e.last) > t.o.Forget && now.After(e.until) {
			delete(t.keys, k)
		}
	}
	if len(t.keys) <= t.o.MaxKeys {
		return
	}
	var cut time.Time
	n := 0
	for _, e := range t.keys {
		if n == 0 || e.last.Before(cut) {
			cut = e.last
		}
		n++
	}
	// Drop everything not seen since the median of (oldest, now).
	mid := cut.Add(now.Sub(cut) / 2)
	for k, e := range t.keys {
		if e.last.Before(mid) {
			delete(t.keys, k)
		}
	}
}
