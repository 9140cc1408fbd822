package storage

import (
	"context"
	"errors"
	"sync"
)

// LoginCheck is what a request that a cached login serves still owes:
// the check that the login's password slot is still its account's (and
// the account still there), since another instance or the CLI may have
// changed it. The login owes it (Owe); an engine that can may make it
// with the request's first read of a collection, in the same statement
// (Owed, Found); and the request settles it (Settle) before it reads or
// writes anything for the client, with a read of its own when no
// statement made it. One request, one check: the zero value owes nothing.
type LoginCheck struct {
	mu      sync.Mutex
	owed    bool
	account int64
	stamp   string // the slot the login was verified against; empty: any slot
	read    func(ctx context.Context) (string, error)
	stale   func()
	err     error // the outcome, once made
	made    bool
}

// ErrStaleLogin is the outcome of a LoginCheck whose account's password
// slot changed, or whose account is gone, since the login was cached.
var ErrStaleLogin = errors.New("storage: the login's password or account changed")

// loginCheckKey carries a request's *LoginCheck in its context.
type loginCheckKey struct{}

// WithLoginCheck returns ctx carrying a new LoginCheck, and the check.
func WithLoginCheck(ctx context.Context) (context.Context, *LoginCheck) {
	c := &LoginCheck{}
	return context.WithValue(ctx, loginCheckKey{}, c), c
}

// LoginCheckOf returns the LoginCheck that ctx carries, or nil.
func LoginCheckOf(ctx context.Context) *LoginCheck {
	c, _ := ctx.Value(loginCheckKey{}).(*LoginCheck)
	return c
}

// Owe makes the check owed: the account's password slot must still be
// stamp (any, when stamp is empty: an app password's login). read reads
// the current stamp (ErrNotFound: no account), and stale is called once
// if the check fails.
func (c *LoginCheck) Owe(account int64, stamp string, read func(ctx context.Context) (string, error), stale func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.owed, c.made, c.err = true, false, nil
	c.account, c.stamp, c.read, c.stale = account, stamp, read, stale
}

// Owed reports whether the check is owed for account and not yet made.
func (c *LoginCheck) Owed(account int64) bool {
	if c == nil {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.owed && !c.made && c.account == account
}

// Found makes the check with the account's current stamp, as an engine
// read it; found is false when the account is gone.
func (c *LoginCheck) Found(stamp string, found bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.owed || c.made {
		return
	}
	c.made = true
	if !found || (c.stamp != "" && stamp != c.stamp) {
		c.err = ErrStaleLogin
		if c.stale != nil {
			c.stale()
		}
	}
}

// Settle makes the check if it is owed and no statement made it, and
// returns its outcome: nil, ErrStaleLogin, or the failure of the read.
func (c *LoginCheck) Settle(ctx context.Context) error {
	c.mu.Lock()
	if !c.owed || c.made {
		defer c.mu.Unlock()
		return c.err
	}
	read := c.read
	c.mu.Unlock()
	stamp, err := read(ctx)
	switch {
	case errors.Is(err, ErrNotFound):
		c.Found("", false)
	case err != nil:
		return err
	default:
		c.Found(stamp, true)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}
