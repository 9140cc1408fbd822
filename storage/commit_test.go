package storage

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
)

// TestGroupCommitIsolatesFailures runs many concurrent writes, a third of
// which are refused (UID conflicts, stale If-Match). Writes that succeed
// are all there; refused ones changed nothing, even when they shared a
// commit with the others.
func TestGroupCommitIsolatesFailures(t *testing.T) {
	_, s, _ := testSpace(t)
	ctx := context.Background()
	c := mustCollection(t, s, "c")
	if _, err := s.PutObject(ctx, c.ID, PutOptions{Name: "taken.ics", UID: "taken", Body: []byte("original")}); err != nil {
		t.Fatal(err)
	}
	const n = 300
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			p := PutOptions{Name: fmt.Sprintf("o%d.ics", i), UID: fmt.Sprintf("u%d", i), Body: []byte(fmt.Sprint("body ", i))}
			switch i % 3 {
			case 1:
				p.UID = "taken" // conflicts with taken.ics
			case 2:
				p.Name, p.IfMatch = "taken.ics", "stale" // precondition fails
			}
			_, errs[i] = s.PutObject(ctx, c.ID, p)
		}(i)
	}
	wg.Wait()
	for i, err := range errs {
		var conflict *UIDConflict
		switch i % 3 {
		case 0:
			if err != nil {
				t.Fatalf("write %d: %v", i, err)
			}
			o, err := s.Object(ctx, c.ID, fmt.Sprintf("o%d.ics", i), ReadOptions{Body: true})
			if err != nil || string(o.Body) != fmt.Sprint("body ", i) {
				t.Fatalf("write %d did not land: %v", i, err)
			}
		case 1:
			if !errors.As(err, &conflict) {
				t.Fatalf("write %d: %v, want a UID conflict", i, err)
			}
			if _, err := s.Object(ctx, c.ID, fmt.Sprintf("o%d.ics", i), ReadOptions{}); !errors.Is(err, ErrNotFound) {
				t.Fatalf("refused write %d left an object: %v", i, err)
			}
		case 2:
			if !errors.Is(err, ErrPrecondition) {
				t.Fatalf("write %d: %v, want ErrPrecondition", i, err)
			}
		}
	}
	o, _ := s.Object(ctx, c.ID, "taken.ics", ReadOptions{Body: true})
	if string(o.Body) != "original" {
		t.Fatalf("taken.ics changed: %q", o.Body)
	}
	changes, _, _ := s.Changes(ctx, c.ID, 0)
	if len(changes) != n/3+1 {
		t.Fatalf("the change log has %d entries, want %d", len(changes), n/3+1)
	}
}

// BenchmarkPutConcurrent measures durable object writes with 8 writers
// (synchronous=FULL, sealing included).
func BenchmarkPutConcurrent(b *testing.B) {
	db, err := Open(context.Background(), b.TempDir()+"/c.db", Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	s := newUserSpace(b, db, "alice")
	c, err := s.CreateCollection(context.Background(), NewCollection{Home: HomeCalendars, Name: "c", Kind: KindCalendar})
	if err != nil {
		b.Fatal(err)
	}
	body := make([]byte, 1200)
	var next sync.Mutex
	i := 0
	b.SetParallelism(4) // 4 × GOMAXPROCS(2) = 8 writers
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			next.Lock()
			i++
			name := fmt.Sprint(i)
			next.Unlock()
			if _, err := s.PutObject(context.Background(), c.ID, PutOptions{Name: name, UID: name, Body: body}); err != nil {
				b.Error(err)
			}
		}
	})
}
