package storage

import (
	"context"
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
