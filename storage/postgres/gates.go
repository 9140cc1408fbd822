package postgres

import (
	"context"
	"errors"
	"sync"

	"github.com/coffer-dav/coffer/storage"
)

// gates gathers the Updates of an account in this process that wait at
// the same time into batches, one batch of an account at a time. The
// account's row lock orders the writes of all instances anyway; the gate
// makes the writers of one instance wait in memory instead of in the
// database, and lets one transaction, one lock and one COMMIT serve all
// that came while the one before ran (as SQLite's group commit does).
type gates struct {
	mu sync.Mutex
	m  map[int64]*gate
}

// gate is one account's: whether a batch of it runs, and the Updates
// that wait for the next, in the order they came.
type gate struct {
	busy    bool
	waiting []*update
}

// update is one Update that waits to run in a batch.
type update struct {
	ctx  context.Context
	fn   func(storage.RowWriter) error
	done chan error // its outcome, or errLead: it leads the next batch
}

// maxBatch is the most Updates one batch holds. Each runs in a savepoint
// of its own, a subtransaction: PostgreSQL keeps 64 of a transaction's in
// the memory other sessions' snapshots read, and past that every snapshot
// of the server slows down.
const maxBatch = 32

// errLead tells a waiting Update that it leads the next batch.
var errLead = errors.New("postgres: lead the next batch")

// do runs u in a batch of the account's Updates, through run, and returns
// its outcome. When a batch of the account runs, u waits for the next (or
// until its context ends before that batch takes it); the first that
// waited leads the next batch: it takes the ones waiting then, runs them,
// hands each its outcome and wakes the next leader. run gets u first.
func (g *gates) do(account int64, u *update, run func([]*update) []error) error {
	g.mu.Lock()
	if g.m == nil {
		g.m = map[int64]*gate{}
	}
	gt := g.m[account]
	if gt == nil {
		gt = &gate{}
		g.m[account] = gt
	}
	if gt.busy {
		gt.waiting = append(gt.waiting, u)
		g.mu.Unlock()
		if err := g.wait(gt, u); err != errLead {
			return err
		}
		g.mu.Lock()
	}
	gt.busy = true
	n := min(len(gt.waiting), maxBatch-1)
	batch := append([]*update{u}, gt.waiting[:n]...)
	gt.waiting = append([]*update(nil), gt.waiting[n:]...)
	g.mu.Unlock()

	var results []error
	defer func() {
		// Even when run panics, the others of the batch get an outcome
		// and the next waiting Update leads.
		for i, w := range batch[1:] {
			if results == nil {
				w.done <- errors.New("postgres: a write of the same batch failed")
			} else {
				w.done <- results[i+1]
			}
		}
		g.mu.Lock()
		if len(gt.waiting) > 0 {
			next := gt.waiting[0]
			gt.waiting = gt.waiting[1:]
			next.done <- errLead
		} else {
			gt.busy = false
			delete(g.m, account)
		}
		g.mu.Unlock()
	}()
	results = run(batch)
	return results[0]
}

// wait waits for u's outcome, or for its turn to lead. When u's context
// ends while it still waits for a batch, it leaves the queue; once taken
// (into a batch, or to lead one), its outcome comes as for any other.
func (g *gates) wait(gt *gate, u *update) error {
	select {
	case err := <-u.done:
		return err
	case <-u.ctx.Done():
	}
	g.mu.Lock()
	for i, w := range gt.waiting {
		if w == u {
			gt.waiting = append(gt.waiting[:i:i], gt.waiting[i+1:]...)
			g.mu.Unlock()
			return u.ctx.Err()
		}
	}
	g.mu.Unlock()
	return <-u.done
}
