// Package memory holds in-memory implementations of storage roles, for a
// single process: the default where nothing is shared between instances
// (the SQLite server) and in tests.
package memory

import (
	"context"
	"sync"
	"time"

	"github.com/coffer-dav/coffer/storage"
)

// LoginFailures is the storage.LoginFailures role in memory, bounded in
// the records it keeps. It serves one process, or several Services of one
// process that share it.
type LoginFailures struct {
	max     int
	mu      sync.Mutex
	records map[string]*storage.LoginFailure
}

// The in-memory store plays the throttle's role.
var _ storage.LoginFailures = (*LoginFailures)(nil)

// NewLoginFailures returns an empty store that keeps at most about max
// records (0 means 100,000): past it, the records older than an Add's
// since go, then, if still too many, the oldest half.
func NewLoginFailures(max int) *LoginFailures {
	if max <= 0 {
		max = 100_000
	}
	return &LoginFailures{max: max, records: map[string]*storage.LoginFailure{}}
}

// AddLoginFailures counts one failure at now on each id and returns the
// records after the count.
func (f *LoginFailures) AddLoginFailures(_ context.Context, ids [][]byte, now, since time.Time) ([]storage.LoginFailure, error) {
	out := make([]storage.LoginFailure, len(ids))
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, id := range ids {
		r := f.records[string(id)]
		switch {
		case r == nil:
			r = &storage.LoginFailure{}
			f.records[string(id)] = r
		case r.Last.Before(since):
			r.Failures = 0
		}
		r.Failures++
		if now.After(r.Last) {
			r.Last = now
		}
		out[i] = *r
	}
	if len(f.records) > f.max {
		f.prune(since, now)
	}
	return out, nil
}

// LoginFailures returns the records of ids.
func (f *LoginFailures) LoginFailures(_ context.Context, ids [][]byte) ([]storage.LoginFailure, error) {
	out := make([]storage.LoginFailure, len(ids))
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, id := range ids {
		if r := f.records[string(id)]; r != nil {
			out[i] = *r
		}
	}
	return out, nil
}

// ForgetLoginFailures drops the records last failed before before, but
// for a claim that runs past it.
func (f *LoginFailures) ForgetLoginFailures(_ context.Context, before time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for k, r := range f.records {
		if r.Last.Before(before) && !r.Claimed.After(before) {
			delete(f.records, k)
		}
	}
	return nil
}

// ClaimLoginAttempt claims the attempt past the allowance on every id.
func (f *LoginFailures) ClaimLoginAttempt(_ context.Context, ids [][]byte, now, until time.Time) ([]storage.LoginFailure, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, id := range ids {
		if r := f.records[string(id)]; r != nil && r.Claimed.After(now) {
			return nil, false, nil
		}
	}
	out := make([]storage.LoginFailure, len(ids))
	for i, id := range ids {
		r := f.records[string(id)]
		if r == nil {
			r = &storage.LoginFailure{}
			f.records[string(id)] = r
		}
		r.Claimed = until
		out[i] = *r
	}
	return out, true, nil
}

// ReleaseLoginAttempt ends the claim made with until.
func (f *LoginFailures) ReleaseLoginAttempt(_ context.Context, ids [][]byte, until time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, id := range ids {
		if r := f.records[string(id)]; r != nil && r.Claimed.Equal(until) {
			r.Claimed = time.Time{}
			if r.Failures == 0 {
				delete(f.records, string(id))
			}
		}
	}
	return nil
}

// Len returns how many records the store keeps.
func (f *LoginFailures) Len() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.records)
}

// prune drops the records last failed before since, then, if still over
// the bound, everything not seen since the midpoint of the oldest and now,
// and then, if still over it, any records down to half the bound.
func (f *LoginFailures) prune(since, now time.Time) {
	var oldest time.Time
	for k, r := range f.records {
		if r.Last.Before(since) {
			delete(f.records, k)
		} else if oldest.IsZero() || r.Last.Before(oldest) {
			oldest = r.Last
		}
	}
	if len(f.records) <= f.max {
		return
	}
	mid := oldest.Add(now.Sub(oldest) / 2)
	for k, r := range f.records {
		if r.Last.Before(mid) {
			delete(f.records, k)
		}
	}
	// Records all of one moment: any half goes.
	for k := range f.records {
		if len(f.records) <= f.max/2 {
			break
		}
		delete(f.records, k)
	}
}
