package postgres

import (
	"context"
	"sync"
)

// gates lets one Update of an account at a time, of this process, go to
// the database. The account's row lock orders the writes of all instances
// anyway; the gate makes the writers of one instance wait in memory
// instead of in the database, each holding a pooled connection and a
// backend that the reads of other requests could use.
type gates struct {
	mu sync.Mutex
	m  map[int64]*gate
}

// gate is one account's: a slot, and how many Updates want it.
type gate struct {
	slot  chan struct{}
	users int
}

// enter waits for the account's slot, in the order the Updates came
// (or until ctx ends), and returns the function that gives it back.
func (g *gates) enter(ctx context.Context, account int64) (func(), error) {
	g.mu.Lock()
	if g.m == nil {
		g.m = map[int64]*gate{}
	}
	gt := g.m[account]
	if gt == nil {
		gt = &gate{slot: make(chan struct{}, 1)}
		g.m[account] = gt
	}
	gt.users++
	g.mu.Unlock()
	select {
	case gt.slot <- struct{}{}:
	case <-ctx.Done():
		g.leave(account, gt)
		return nil, ctx.Err()
	}
	return func() {
		<-gt.slot
		g.leave(account, gt)
	}, nil
}

// leave forgets one user of the account's gate, and the gate with its last.
func (g *gates) leave(account int64, gt *gate) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if gt.users--; gt.users == 0 {
		delete(g.m, account)
	}
}
