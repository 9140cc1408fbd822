package postgres

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestGates: the Updates of one account take turns, those of different
// accounts do not wait for each other, a wait ends with its context, and
// a gate nobody wants is forgotten.
func TestGates(t *testing.T) {
	tests := []struct {
		name     string
		accounts []int64 // one goroutine each, entering at once
		most     int32   // the most inside at once
	}{
		{"one account", []int64{1, 1, 1, 1, 1, 1}, 1},
		{"an account each", []int64{1, 2, 3}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var g gates
			var inside, most atomic.Int32
			var wg sync.WaitGroup
			start := make(chan struct{})
			for _, a := range tt.accounts {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					leave, err := g.enter(context.Background(), a)
					if err != nil {
						t.Error(err)
						return
					}
					n := inside.Add(1)
					for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
					}
					time.Sleep(20 * time.Millisecond)
					inside.Add(-1)
					leave()
				}()
			}
			close(start)
			wg.Wait()
			if most.Load() != tt.most {
				t.Errorf("%d inside at once, want %d", most.Load(), tt.most)
			}
			if len(g.m) != 0 {
				t.Errorf("%d gates left", len(g.m))
			}
		})
	}
	t.Run("a wait ends with its context", func(t *testing.T) {
		var g gates
		leave, err := g.enter(context.Background(), 7)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		if _, err := g.enter(ctx, 7); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("enter while another is inside: %v", err)
		}
		leave()
		if len(g.m) != 0 {
			t.Fatalf("%d gates left", len(g.m))
		}
	})
}
