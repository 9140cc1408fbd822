package storage

import (
	"bytes"
	"context"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/coffer-dav/coffer/encryption"
)

// TestPurgeUnderConcurrentReader: an account is erased while another
// user's sync holds read transactions open, one after another. A TRUNCATE
// checkpoint cannot pass such a reader; SQLite says so in its answer
// (busy=1), which the purge used to discard: it waited out the busy
// timeout with every writer blocked, then reported success with the key
// slot still in the WAL. Now the purge returns within its bounded wait,
// writers go on meanwhile, and the loop finishes the checkpoint once the
// readers pause: then no byte of the slot is in the file or the WAL.
func TestPurgeUnderConcurrentReader(t *testing.T) {
	db, bob, dir := testSpace(t)
	ctx := context.Background()
	wrapped := bytes.Repeat([]byte("SLOT-MARKER-"), 8)
	doomed, err := db.CreateAccount(ctx, NewAccount{Username: "carol",
		Slots: func(int64) (map[string]encryption.Slot, error) {
			return map[string]encryption.Slot{"password": {KDF: "secret$AAAA", Wrapped: wrapped}}, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	c := mustCollection(t, bob, "work")

	// bob's sync: read transactions back to back, until told to pause.
	var mu sync.Mutex // held while the sync may not read
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			mu.Lock()
			tx, err := db.read.BeginTx(ctx, nil)
			if err == nil {
				var n int
				tx.QueryRow(`SELECT count(*) FROM objects`).Scan(&n)
				time.Sleep(5 * time.Millisecond)
				tx.Rollback()
			}
			mu.Unlock()
		}
	}()
	// A reader that stays in its transaction through the purge.
	held, err := db.read.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := held.QueryRow(`SELECT count(*) FROM key_slots`).Scan(&n); err != nil {
		t.Fatal(err)
	}

	purged := make(chan error, 1)
	start := time.Now()
	go func() { purged <- db.DeleteAccount(ctx, doomed.ID) }()
	// A writer during the purge.
	var worst time.Duration
	for i := 0; i < 20; i++ {
		w := time.Now()
		if _, err := bob.PutObject(ctx, c.ID, PutOptions{Name: "e.ics", Body: []byte("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")}); err != nil {
			t.Fatal(err)
		}
		worst = max(worst, time.Since(w))
		time.Sleep(50 * time.Millisecond)
	}
	if err := <-purged; err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	t.Logf("purge answered in %v; the longest write meanwhile took %v", took, worst)
	if took > checkpointWait+3*time.Second {
		t.Errorf("the purge took %v: it waited for the reader", took)
	}
	if worst > time.Second {
		t.Errorf("a write waited %v during the purge", worst)
	}
	if pending, err := db.RebuildPending(ctx); err != nil || !pending {
		t.Fatalf("pending %v (%v): the unfinished purge is not recorded", pending, err)
	}

	// The readers pause; the loop finishes the purge.
	held.Rollback()
	mu.Lock()
	loop, cancel := context.WithCancel(ctx)
	defer cancel()
	reports := make(chan error, 1)
	go db.RebuildWhenQuiet(loop, RebuildOptions{Quiet: 20 * time.Millisecond, Report: func(_ time.Duration, err error) { reports <- err }})
	select {
	case err := <-reports:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("no rebuild within 15s")
	}
	deadline := time.Now().Add(10 * time.Second)
	for db.walDirty.Load() && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	close(stop)
	mu.Unlock()
	wg.Wait()
	cancel()
	for _, name := range []string{"coffer.db", "coffer.db-wal"} {
		b, err := os.ReadFile(dir + "/" + name)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		if bytes.Contains(b, wrapped[:24]) {
			t.Errorf("%s still holds the erased key slot", name)
		}
	}
}
