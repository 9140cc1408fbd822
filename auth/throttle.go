package auth

import (
	"errors"
	"sync"
	"time"

	"github.com/coffer-dav/coffer/encryption"
)

// ThrottleOptions configures a Throttle.
type ThrottleOptions struct {
	Free     int           // failures allowed without delay; 0 means 5
	Base     time.Duration // the first delay; 0 means 1 second
	Max      time.Duration // the longest delay; 0 means 15 minutes
	Forget   time.Duration // a key with no failure for this long is dropped; 0 means 1 hour
	MaxKeys  int           // bound on the keys kept; 0 means 100,000
	UserFree int           // failures of one username, from all addresses, before every attempt on it backs off; 0 means 50
	KnownFor time.Duration // how long a username stays known after a good login; 0 means 30 days
}

// Throttle slows down repeated failed logins with exponential backoff, per
// address and per username. Past UserFree failures of a username from any
// addresses, every attempt on it waits, so guesses spread over many
// addresses are slowed too; the owner's devices are not, since a cached
// login and an app password are answered before the throttle.
type Throttle struct {
	o     ThrottleOptions
	mac   encryption.MACKey // keys the hashes that name the records
	mu    sync.Mutex
	keys  map[throttleID]*throttleKey
	known map[throttleID]time.Time // usernames by their last good login, for the Argon2 queue's lane
}

// throttleID names a record by a keyed hash of what it counts, so that a
// record costs the same whatever the length of the name it counts.
type throttleID [16]byte

// throttleKey is the failure record of one address or username.
type throttleKey struct {
	failures int
	inflight int // attempts admitted and not yet settled; they count as failures
	last     time.Time
	until    time.Time
}

// Attempt is a login admitted by Begin. Until End settles it, it counts as
// a failure, so that parallel guesses cannot all pass one check before the
// first of them fails.
type Attempt struct {
	t   *Throttle
	ids [2]throttleID // address, username
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
	if o.KnownFor <= 0 {
		o.KnownFor = 30 * 24 * time.Hour
	}
	return &Throttle{o: o, mac: encryption.RandomMACKey(), keys: map[throttleID]*throttleKey{}, known: map[throttleID]time.Time{}}
}

// Begin admits a login of username from addr, or returns a *Throttled
// error when it must wait. The admitted attempt counts as a failure until
// its End.
func (t *Throttle) Begin(username, addr string, now time.Time) (*Attempt, error) {
	a := &Attempt{t: t, ids: [2]throttleID{t.id('a', addr), t.id('u', username)}}
	t.mu.Lock()
	defer t.mu.Unlock()
	if wait := max(t.wait(a.ids[0], t.o.Free, now), t.wait(a.ids[1], t.o.UserFree, now)); wait > 0 {
		return nil, &Throttled{RetryAfter: wait.Round(time.Second) + time.Second}
	}
	for _, id := range a.ids {
		t.record(id, now).inflight++
	}
	if len(t.keys) > t.o.MaxKeys {
		t.prune(now)
	}
	return a, nil
}

// End settles an attempt with the login's outcome: bad credentials count
// as a failure; a success makes the username known; any other error (a
// cancelled request, a full queue) leaves no trace. A success clears no
// earlier failure, so that a guesser who owns one account cannot reset an
// address's count with it.
func (a *Attempt) End(err error, now time.Time) {
	t := a.t
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, id := range a.ids {
		if e := t.keys[id]; e != nil && e.inflight > 0 {
			e.inflight--
		}
	}
	switch {
	case errors.Is(err, ErrBadCredentials):
		t.bump(a.ids[0], t.o.Free, now)
		t.bump(a.ids[1], t.o.UserFree, now)
	case err == nil:
		t.recognise(a.ids[1], now)
	}
	for _, id := range a.ids {
		if e := t.keys[id]; e != nil && e.failures == 0 && e.inflight == 0 {
			delete(t.keys, id)
		}
	}
}

// Recognise records a good login of username that did not pass Begin (an
// app password).
func (t *Throttle) Recognise(username string, now time.Time) {
	id := t.id('u', username)
	t.mu.Lock()
	defer t.mu.Unlock()
	t.recognise(id, now)
}

// Known reports whether username logged in well within KnownFor.
func (t *Throttle) Known(username string, now time.Time) bool {
	id := t.id('u', username)
	t.mu.Lock()
	defer t.mu.Unlock()
	last, ok := t.known[id]
	return ok && now.Sub(last) < t.o.KnownFor
}

// recognise records a good login of the username id; when MaxKeys are
// known, the stale ones go, and a new one waits until there is room.
func (t *Throttle) recognise(id throttleID, now time.Time) {
	if _, ok := t.known[id]; !ok && len(t.known) >= t.o.MaxKeys {
		for k, last := range t.known {
			if now.Sub(last) >= t.o.KnownFor {
				delete(t.known, k)
			}
		}
		if len(t.known) >= t.o.MaxKeys {
			return
		}
	}
	t.known[id] = now
}

// wait is how long an attempt on record id must wait: until its backoff
// ends, and, once free failures are used up, until the one attempt in
// flight is settled.
func (t *Throttle) wait(id throttleID, free int, now time.Time) time.Duration {
	e := t.keys[id]
	switch {
	case e == nil:
		return 0
	case now.Before(e.until):
		return e.until.Sub(now)
	case e.inflight > 0 && e.failures+e.inflight >= free:
		return t.o.Base
	}
	return 0
}

// record returns the record id, a fresh one when it has none or forgot it.
func (t *Throttle) record(id throttleID, now time.Time) *throttleKey {
	e := t.keys[id]
	if e == nil || (e.inflight == 0 && now.Sub(e.last) > t.o.Forget) {
		e = &throttleKey{last: now}
		t.keys[id] = e
	}
	return e
}

// bump counts a failure on key and sets its backoff once past free.
func (t *Throttle) bump(key throttleID, free int, now time.Time) {
	e := t.record(key, now)
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

// id names the record of a kind ('a' address, 'u' username) of name.
func (t *Throttle) id(kind byte, name string) throttleID {
	m := t.mac.NewHash()
	m.Write([]byte{kind})
	m.Write([]byte(name))
	var id throttleID
	copy(id[:], m.Sum(nil))
	return id
}

// prune drops forgotten keys, then, if still over the bound, the oldest half.
func (t *Throttle) prune(now time.Time) {
	for k, e := range t.keys {
		if e.inflight == 0 && now.Sub(e.last) > t.o.Forget && now.After(e.until) {
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
