package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// batchLog records the batches a gates' run function was given.
type batchLog struct {
	mu       sync.Mutex
	batches  [][]*update
	inside   atomic.Int32
	most     atomic.Int32
	hold     chan struct{} // the first batch waits for it to close
	entered  chan struct{} // closed when the first batch runs
	once     sync.Once
	panicked bool
	holdAll  bool // every batch waits for hold, not only the first
}

// run is a gates' run function: it notes the batch, holds the first one
// (or each, with holdAll) until hold closes, and answers each update with an error naming it; or
// it panics, for a batch of more than one when panicked is set.
func (l *batchLog) run(batch []*update) []error {
	n := l.inside.Add(1)
	defer l.inside.Add(-1)
	for m := l.most.Load(); n > m && !l.most.CompareAndSwap(m, n); m = l.most.Load() {
	}
	l.mu.Lock()
	first := len(l.batches) == 0
	l.batches = append(l.batches, batch)
	l.mu.Unlock()
	if first {
		l.once.Do(func() { close(l.entered) })
	}
	if first || l.holdAll {
		<-l.hold
	}
	if l.panicked && len(batch) > 1 {
		panic("run failed")
	}
	out := make([]error, len(batch))
	for i, u := range batch {
		out[i] = u.ctx.Value(nameKey{}).(error)
	}
	return out
}

// nameKey carries the error an update's run answers, in its context.
type nameKey struct{}

// named returns an update whose outcome in batchLog.run is an error
// called name.
func named(ctx context.Context, name string) *update {
	return &update{ctx: context.WithValue(ctx, nameKey{}, errors.New(name)), done: make(chan error, 1)}
}

// waiting is how many updates wait at account's gate.
func (g *gates) waitingAt(account int64) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	if gt := g.m[account]; gt != nil {
		return len(gt.waiting)
	}
	return 0
}

// TestGates: the Updates of one account that come while a batch runs
// wait and run together in the next batch, in the order they came, at
// most maxBatch at a time; those of different accounts do not wait for
// each other; a wait ends with its context; a batch that panics still
// answers the others; and a gate nobody wants is forgotten.
func TestGates(t *testing.T) {
	tests := []struct {
		name     string
		accounts []int64 // the first enters alone, the others while it runs
		cancel   int     // the index of one that gives up while waiting, or -1
		panics   bool    // the first batch panics
		batches  []int   // the sizes of the batches, in order
		most     int32   // the most batches running at once
	}{
		{"one account", []int64{1, 1, 1, 1, 1, 1}, -1, false, []int{1, 5}, 1},
		{"past the most a batch holds", repeat(1, maxBatch+5), -1, false, []int{1, maxBatch, 4}, 1},
		{"an account each", []int64{1, 2, 3}, -1, false, []int{1, 1, 1}, 3},
		{"a wait ends with its context", []int64{1, 1, 1, 1}, 2, false, []int{1, 2}, 1},
		{"a batch panics", []int64{1, 1, 1, 1}, -1, true, []int{1, 3}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var g gates
			l := &batchLog{hold: make(chan struct{}), entered: make(chan struct{}), panicked: tt.panics, holdAll: tt.most > 1}
			outcomes := make([]error, len(tt.accounts))
			var wg sync.WaitGroup
			cancels := make([]context.CancelFunc, len(tt.accounts))
			enter := func(i int) {
				ctx, cancel := context.WithCancel(context.Background())
				cancels[i] = cancel
				u := named(ctx, fmt.Sprint(i))
				wg.Add(1)
				go func() {
					defer wg.Done()
					defer func() {
						if r := recover(); r != nil {
							outcomes[i] = fmt.Errorf("panic: %v", r)
						}
					}()
					outcomes[i] = g.do(tt.accounts[i], u, l.run)
				}()
			}
			enter(0)
			<-l.entered
			waiting := 0
			for i := 1; i < len(tt.accounts); i++ {
				enter(i)
				if tt.accounts[i] == tt.accounts[0] {
					waiting++
					// Each comes after the one before, so the order is known.
					for g.waitingAt(tt.accounts[0]) < waiting {
						time.Sleep(time.Millisecond)
					}
				}
			}
			if tt.cancel >= 0 {
				cancels[tt.cancel]()
				for g.waitingAt(tt.accounts[0]) == waiting {
					time.Sleep(time.Millisecond)
				}
			}
			if tt.most > 1 {
				// The other accounts' batches run while the first is held.
				for l.inside.Load() < tt.most {
					time.Sleep(time.Millisecond)
				}
			}
			close(l.hold)
			wg.Wait()
			for _, c := range cancels {
				c()
			}

			var sizes []int
			next := 0
			for _, b := range l.batches {
				sizes = append(sizes, len(b))
				if tt.accounts[0] != tt.accounts[len(tt.accounts)-1] {
					continue // the accounts' batches run in any order
				}
				for _, u := range b {
					if next == tt.cancel {
						next++
					}
					if got := u.ctx.Value(nameKey{}).(error).Error(); got != fmt.Sprint(next) {
						t.Errorf("batch member %s, want %d: not in the order they came", got, next)
					}
					next++
				}
			}
			if fmt.Sprint(sizes) != fmt.Sprint(tt.batches) {
				t.Errorf("batches of %v, want %v", sizes, tt.batches)
			}
			if l.most.Load() != tt.most {
				t.Errorf("%d batches at once, want %d", l.most.Load(), tt.most)
			}
			for i, err := range outcomes {
				switch {
				case i == tt.cancel:
					if !errors.Is(err, context.Canceled) {
						t.Errorf("update %d, given up: %v, want its context's end", i, err)
					}
				case tt.panics && i == 1:
					if err == nil || err.Error() != "panic: run failed" {
						t.Errorf("update %d, which led the batch that panicked: %v", i, err)
					}
				case tt.panics && i > 1:
					if err == nil || err.Error() != "postgres: a write of the same batch failed" {
						t.Errorf("update %d, in the batch that panicked: %v", i, err)
					}
				default:
					if err == nil || err.Error() != fmt.Sprint(i) {
						t.Errorf("update %d: outcome %v, want its own", i, err)
					}
				}
			}
			if len(g.m) != 0 {
				t.Errorf("%d gates left", len(g.m))
			}
		})
	}
}

// repeat returns n times account.
func repeat(account int64, n int) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = account
	}
	return out
}
