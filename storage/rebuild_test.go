package storage

import (
	"context"
	"database/sql"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// TestRebuildWhenQuiet: an erase leaves the rebuild pending, with the freed
// pages still in the file; the loop rebuilds once writes are quiet and
// clears the mark.
func TestRebuildWhenQuiet(t *testing.T) {
	db, s, _ := testSpace(t)
	ctx := context.Background()
	c := mustCollection(t, s, "work")
	for _, name := range []string{"a.ics", "b.ics", "c.ics"} {
		if _, err := s.PutObject(ctx, c.ID, PutOptions{Name: name, Body: make([]byte, 64<<10)}); err != nil {
			t.Fatal(err)
		}
	}
	acct, err := db.AccountByUsername(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteAccount(ctx, acct.ID); err != nil {
		t.Fatal(err)
	}
	freelist := func() (n int) {
		if err := db.read.QueryRow("PRAGMA freelist_count").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if pending, err := db.RebuildPending(ctx); err != nil || !pending {
		t.Fatalf("after the erase: pending %v (%v), want true", pending, err)
	}
	if n := freelist(); n == 0 {
		t.Fatal("the erase rebuilt the file in place: no free pages left")
	}
	reports := make(chan error, 1)
	loop, stop := context.WithCancel(ctx)
	defer stop()
	go db.RebuildWhenQuiet(loop, RebuildOptions{Quiet: 20 * time.Millisecond, Report: func(_ time.Duration, err error) { reports <- err }})
	select {
	case err := <-reports:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no rebuild within 10s")
	}
	if pending, err := db.RebuildPending(ctx); err != nil || pending {
		t.Fatalf("after the rebuild: pending %v (%v), want false", pending, err)
	}
	if n := freelist(); n != 0 {
		t.Fatalf("%d free pages after the rebuild", n)
	}
}

// TestRebuildFailureWaits: a rebuild that fails (here the file is locked by
// another writer; on a full disk, a VACUUM has no room for its copy) is not
// tried again at every tick, each time making the writers wait, but an hour
// later.
func TestRebuildFailureWaits(t *testing.T) {
	db, _, dir := testSpace(t)
	ctx := context.Background()
	acct, err := db.AccountByUsername(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteAccount(ctx, acct.ID); err != nil {
		t.Fatal(err)
	}
	other, err := sql.Open("sqlite3", "file:"+filepath.Join(dir, "coffer.db")+"?_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	lock, err := other.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Rollback()
	if _, err := db.write.ExecContext(ctx, "PRAGMA busy_timeout = 20"); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var failures int
	loop, stop := context.WithCancel(ctx)
	defer stop()
	go db.RebuildWhenQuiet(loop, RebuildOptions{Quiet: 10 * time.Millisecond, Report: func(_ time.Duration, err error) {
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			failures++
		}
	}})
	time.Sleep(500 * time.Millisecond) // some twenty ticks
	mu.Lock()
	defer mu.Unlock()
	if failures != 1 {
		t.Fatalf("%d failed rebuilds in half a second, want 1", failures)
	}
	if pending, err := db.RebuildPending(ctx); err != nil || !pending {
		t.Fatalf("after the failure: pending %v (%v), want true", pending, err)
	}
}
