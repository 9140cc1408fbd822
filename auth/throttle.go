package auth

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/coffer-dav/coffer/encryption"
	"github.com/coffer-dav/coffer/storage"
	"github.com/coffer-dav/coffer/storage/memory"
)

// ThrottleOptions configures a Throttle.
type ThrottleOptions struct {
	Free     int           // failures allowed without delay; 0 means 5
	Base     time.Duration // the first delay; 0 means 1 second
	Max      time.Duration // the longest delay; 0 means 15 minutes
	Forget   time.Duration // a key with no failure for this long is dropped; 0 means 1 hour
	MaxKeys  int           // bound on the keys kept in memory; 0 means 100,000
	UserFree int           // failures of one username, from all addresses, before every attempt on it backs off; 0 means 50
	KnownFor time.Duration // how long a username stays known after a good login; 0 means 30 days
	// Store holds the failure records. Instances that share one (the
	// PostgreSQL database) throttle as one. Nil means a store in this
	// process's memory, bounded by MaxKeys.
	Store storage.LoginFailures
	// IDKey keys the hashes that name the records in the store; the zero
	// key means a random one, which no other process shares. New sets it
	// from the server secret (encryption.ThrottleID) when Store is set.
	IDKey encryption.MACKey
	// Logger gets the store's failures; nil means slog.Default().
	Logger *slog.Logger
}

// Throttle slows down repeated failed logins with exponential backoff, per
// address and per username. Past UserFree failures of a username from any
// addresses, every attempt on it waits, so guesses spread over many
// addresses are slowed too; the owner's devices are not, since a cached
// login and an app password are answered before the throttle. The failure
// records live in a store, shared by the instances that share it, and so
// does the claim of the one attempt in flight past the allowance; the
// count of attempts in flight within it, and which usernames are known,
// stay in this process.
type Throttle struct {
	o        ThrottleOptions
	store    storage.LoginFailures
	mac      encryption.MACKey // keys the hashes that name the records
	mu       sync.Mutex
	inflight map[throttleID]int       // attempts of this process admitted and not yet settled, by record
	settled  uint64                   // raised by each End, so that a Begin notices one between its read and its decision
	known    map[throttleID]time.Time // usernames by their last good login, for the Argon2 queue's lane
	forgetAt time.Time                // when End next asks the store to drop old records
}

// throttleID names a record by a keyed hash of what it counts, so that a
// record costs the same whatever the length of the name it counts.
type throttleID [16]byte

// Attempt is a login admitted by Begin. Until End settles it, it counts as
// a failure, so that parallel guesses cannot all pass one check before the
// first of them fails.
type Attempt struct {
	t       *Throttle
	ids     [2]throttleID // address, username
	claimed [][]byte      // the ids on which it claimed the attempt past the allowance
	until   time.Time     // the claim's end
}

// storeRetry is the Retry-After of a login refused because the store of
// failures could not be read: the throttle fails closed.
const storeRetry = 5 * time.Second

// claimLease bounds the claim of an attempt past the allowance, should
// its instance die before settling it.
const claimLease = time.Minute

// storeTimeout bounds End's write of a failure, which outlives the request.
const storeTimeout = 5 * time.Second

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
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	store := o.Store
	if store == nil {
		store = memory.NewLoginFailures(o.MaxKeys)
	}
	mac := o.IDKey
	if mac.IsZero() {
		mac = encryption.RandomMACKey()
	}
	return &Throttle{o: o, store: store, mac: mac, inflight: map[throttleID]int{}, known: map[throttleID]time.Time{}}
}

// Begin admits a login of username from addr, or returns a *Throttled
// error when it must wait. The admitted attempt counts as a failure until
// its End.
func (t *Throttle) Begin(username, addr string, now time.Time) (*Attempt, error) {
	return t.begin(context.Background(), username, addr, now)
}

// begin is Begin within ctx. When the store cannot be read, it fails
// closed: the login is refused as throttled, and the error logged; unless
// ctx ended, whose error it returns.
func (t *Throttle) begin(ctx context.Context, username, addr string, now time.Time) (*Attempt, error) {
	a := &Attempt{t: t, ids: [2]throttleID{t.id('a', addr), t.id('u', username)}}
	ids := [][]byte{a.ids[0][:], a.ids[1][:]}
	// The store is read outside the lock, so that a shared store's round
	// trip holds up no other login; an End between the read and the
	// decision (its failure perhaps unread, its attempt no longer in
	// flight) makes the read start again, and the third read is made
	// under the lock.
	for try := 0; ; try++ {
		t.mu.Lock()
		seen, locked := t.settled, try >= 2
		if !locked {
			t.mu.Unlock()
		}
		rs, err := t.store.LoginFailures(ctx, ids)
		if !locked {
			t.mu.Lock()
		}
		if err != nil {
			t.mu.Unlock()
			if ctx.Err() != nil {
				return nil, ctx.Err() // the client is gone: nothing to refuse or log
			}
			t.o.Logger.Error("auth: the failed-login throttle's store cannot be read: the login is refused", "err", err)
			return nil, &Throttled{RetryAfter: storeRetry}
		}
		if t.settled != seen && !locked {
			t.mu.Unlock()
			continue
		}
		free := [2]int{t.o.Free, t.o.UserFree}
		wait := max(t.wait(rs[0], t.inflight[a.ids[0]], free[0], now), t.wait(rs[1], t.inflight[a.ids[1]], free[1], now))
		if wait <= 0 {
			for i, id := range a.ids {
				// The attempt that uses up the free failures, or comes past
				// them, must be the only one in flight on any instance.
				if t.count(rs[i], now)+t.inflight[id]+1 >= free[i] {
					a.claimed = append(a.claimed, id[:])
				}
				t.inflight[id]++
			}
		}
		t.mu.Unlock()
		if wait > 0 {
			return nil, &Throttled{RetryAfter: wait.Round(time.Second) + time.Second}
		}
		if len(a.claimed) == 0 {
			return a, nil
		}
		a.until = now.Add(claimLease)
		rs, ok, err := t.store.ClaimLoginAttempt(ctx, a.claimed, now, a.until)
		if err == nil && ok {
			// The records as the claim found them: another instance's
			// failure that came after the read above may have begun a
			// backoff.
			var wait time.Duration
			for i, r := range rs {
				f := t.o.Free
				if string(a.claimed[i]) == string(a.ids[1][:]) {
					f = t.o.UserFree
				}
				if until := t.until(r, f); now.Before(until) {
					wait = max(wait, until.Sub(now))
				}
			}
			if wait <= 0 {
				return a, nil
			}
			a.release(ctx)
			a.claimed = nil
			a.settle()
			return nil, &Throttled{RetryAfter: wait.Round(time.Second) + time.Second}
		}
		a.claimed = nil
		a.settle()
		switch {
		case err != nil && ctx.Err() != nil:
			return nil, ctx.Err()
		case err != nil:
			t.o.Logger.Error("auth: the failed-login throttle's store cannot claim an attempt: the login is refused", "err", err)
			return nil, &Throttled{RetryAfter: storeRetry}
		}
		// Another instance has the one attempt in flight.
		return nil, &Throttled{RetryAfter: t.o.Base.Round(time.Second) + time.Second}
	}
}

// release ends the attempt's claim, if it made one.
func (a *Attempt) release(ctx context.Context) {
	if a.claimed == nil {
		return
	}
	t := a.t
	ctx, cancel := t.storeContext(ctx)
	defer cancel()
	if err := t.store.ReleaseLoginAttempt(ctx, a.claimed, a.until); err != nil {
		t.o.Logger.Error("auth: the failed-login throttle's store cannot release an attempt", "err", err)
	}
}

// settle takes the attempt out of those in flight.
func (a *Attempt) settle() {
	t := a.t
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, id := range a.ids {
		if n := t.inflight[id]; n > 1 {
			t.inflight[id] = n - 1
		} else {
			delete(t.inflight, id)
		}
	}
}

// End settles an attempt with the login's outcome: bad credentials count
// as a failure; a success makes the username known; any other error (a
// cancelled request, a full queue) leaves no trace. A success clears no
// earlier failure, so that a guesser who owns one account cannot reset an
// address's count with it.
func (a *Attempt) End(err error, now time.Time) {
	a.end(context.Background(), err, now)
}

// end is End within ctx, whose cancellation it ignores: a failure is
// counted even when its request is gone. When the store cannot count it,
// the error is logged and the failure is lost.
func (a *Attempt) end(ctx context.Context, err error, now time.Time) {
	t := a.t
	if errors.Is(err, ErrBadCredentials) {
		ctx, cancel := t.storeContext(ctx)
		_, err := t.store.AddLoginFailures(ctx, [][]byte{a.ids[0][:], a.ids[1][:]}, now, now.Add(-t.o.Forget))
		cancel()
		if err != nil {
			t.o.Logger.Error("auth: the failed-login throttle's store cannot count a failure", "err", err)
		}
	}
	// After the failure is counted, so that the next claim sees it.
	a.release(ctx)
	t.mu.Lock()
	for _, id := range a.ids {
		if n := t.inflight[id]; n > 1 {
			t.inflight[id] = n - 1
		} else {
			delete(t.inflight, id)
		}
	}
	t.settled++
	if err == nil {
		t.recognise(a.ids[1], now)
	}
	forget := !now.Before(t.forgetAt)
	if forget {
		t.forgetAt = now.Add(t.o.Forget / 4)
	}
	t.mu.Unlock()
	if forget {
		// A record older than both Forget and Max has no backoff left and
		// would start afresh: it can go.
		ctx, cancel := t.storeContext(ctx)
		defer cancel()
		if err := t.store.ForgetLoginFailures(ctx, now.Add(-max(t.o.Forget, t.o.Max))); err != nil {
			t.o.Logger.Error("auth: the failed-login throttle's store cannot forget old failures", "err", err)
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

// storeContext returns the context of a write that End makes: ctx
// without its cancellation, bounded by storeTimeout; as it is for the
// in-memory store, which ignores it.
func (t *Throttle) storeContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := t.store.(*memory.LoginFailures); ok {
		return ctx, func() {}
	}
	return context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
}

// count is the failures of record r that still count at now: none once
// it has had no failure for Forget.
func (t *Throttle) count(r storage.LoginFailure, now time.Time) int {
	if now.Sub(r.Last) > t.o.Forget {
		return 0
	}
	return r.Failures
}

// wait is how long an attempt on record r, with inflight attempts of this
// process on it, must wait: until its backoff ends, and, once free
// failures are used up, until the one attempt in flight is settled. A
// record with no failure for Forget counts nothing more.
func (t *Throttle) wait(r storage.LoginFailure, inflight, free int, now time.Time) time.Duration {
	if until := t.until(r, free); now.Before(until) {
		return until.Sub(now)
	}
	if inflight > 0 && t.count(r, now)+inflight >= free {
		return t.o.Base
	}
	return 0
}

// until is when the backoff of record r ends: once free failures are used
// up, every attempt waits after the latest failure, twice as long each time.
func (t *Throttle) until(r storage.LoginFailure, free int) time.Time {
	over := r.Failures - free + 1
	if over <= 0 {
		return time.Time{}
	}
	d := t.o.Base
	for i := 1; i < over && d < t.o.Max; i++ {
		d *= 2
	}
	return r.Last.Add(min(d, t.o.Max))
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
