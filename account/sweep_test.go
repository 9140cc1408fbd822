package account

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/coffer-dav/coffer/encryption"
	"github.com/coffer-dav/coffer/storage"
)

// twoSweepers opens the same database twice, as two processes would, with
// a lifecycle and a mailer on each and one clock.
func twoSweepers(t *testing.T) (c *clock, ls [2]*Lifecycle, ms [2]*fakeMailer, dbs [2]*storage.DB) {
	t.Helper()
	db, path := openDB(t)
	db2, err := storage.Open(context.Background(), path, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db2.Close() })
	c = newClock()
	dbs = [2]*storage.DB{db, db2}
	for i := range ls {
		ms[i] = &fakeMailer{}
		ls[i] = newLife(t, dbs[i], c, ms[i])
	}
	return c, ls, ms, dbs
}

// sweepTogether starts both sweepers at the same moment and waits for them.
func sweepTogether(t *testing.T, ls [2]*Lifecycle) {
	t.Helper()
	start := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for _, l := range ls {
		wg.Go(func() {
			<-start
			_, err := l.Sweep(context.Background())
			errs <- err
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

func mailsSent(ms [2]*fakeMailer) int { return len(ms[0].Sent()) + len(ms[1].Sent()) }

// TestTwoSweepersNeverDoubleSend: two sweepers started together record each
// reminder once and send each e-mail once.
func TestTwoSweepersNeverDoubleSend(t *testing.T) {
	c, ls, ms, dbs := twoSweepers(t)
	const n = 25
	var ids []int64
	for i := range n {
		ids = append(ids, mustCreate(t, ls[0], dbs[0], fmt.Sprintf("user%d", i), StartDefault))
	}
	base := mailsSent(ms) // registration and trial start, sent at creation
	if base != 2*n {
		t.Fatalf("%d mails at creation", base)
	}
	steps := []struct {
		advance    float64 // days
		wantEvents int     // new events per account
	}{
		{23, 1}, // 7 days before the trial ends
		{0, 0},  // again at the same moment: nothing
		{6, 1},  // 1 day before
		{1, 2},  // trial ended, retention started
		{173, 1},
		{6, 1},
	}
	total := 2
	for _, s := range steps {
		c.Advance(dayF(s.advance))
		sweepTogether(t, ls)
		total += s.wantEvents
		for _, id := range ids {
			if got := len(kinds(t, ls[0], id)); got != total {
				t.Fatalf("after %v days: account %d has %d events, want %d: %v", s.advance, id, got, total, kinds(t, ls[0], id))
			}
		}
		if got := mailsSent(ms); got != n*total {
			t.Fatalf("after %v days: %d mails for %d events", s.advance, got, n*total)
		}
	}
}

// TestSweepNeverPurgesARenewedAccount: an account renewed after the
// sweeper's scan but before its step is not purged.
func TestSweepNeverPurgesARenewedAccount(t *testing.T) {
	c, ls, _, dbs := twoSweepers(t)
	ctx := context.Background()
	id := mustCreate(t, ls[0], dbs[0], "renewed", StartDefault)
	c.Advance(210 * Day) // trial ended at day 30; retention ends at day 210
	ls[0].testHookBeforeStep = func(account int64) {
		// The other process renews it between the scan and the step.
		if _, _, err := ls[1].ApplyPayment(ctx, account, Payment{TransactionID: "late", Plan: "basic", Days: 30}); err != nil {
			t.Errorf("renewal: %v", err)
		}
	}
	rep, err := ls[0].Sweep(ctx)
	if err != nil || rep.Purged != 0 {
		t.Fatalf("sweep: %+v, %v", rep, err)
	}
	if st, _ := ls[0].State(ctx, id); st != StateActive {
		t.Fatalf("renewed account is %s", st)
	}
}

// TestSweepersRaceRenewals: two sweepers and a renewal of every account,
// all started at the deletion moment. Every account ends either renewed and
// kept, or purged with its renewal refused; never renewed and purged.
func TestSweepersRaceRenewals(t *testing.T) {
	c, ls, _, dbs := twoSweepers(t)
	ctx := context.Background()
	const n = 30
	ids := make([]int64, n)
	for i := range ids {
		ids[i] = mustCreate(t, ls[0], dbs[0], fmt.Sprintf("r%d", i), StartDefault)
	}
	c.Advance(210 * Day)
	renewed := make([]bool, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for _, l := range ls {
		wg.Go(func() {
			<-start
			if _, err := l.Sweep(ctx); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Go(func() {
		<-start
		for i, id := range ids {
			_, _, err := ls[i%2].ApplyPayment(ctx, id, Payment{TransactionID: fmt.Sprint("race-", i), Plan: "basic", Days: 30})
			switch {
			case err == nil:
				renewed[i] = true
			case errors.Is(err, ErrPurging), errors.Is(err, ErrNotFound):
			default:
				t.Error(err)
			}
		}
	})
	close(start)
	wg.Wait()
	kept := 0
	for i, id := range ids {
		st, err := ls[0].State(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case renewed[i] && st != StateActive:
			t.Errorf("account %d was renewed but is %s", i, st)
		case !renewed[i] && st != StatePurged:
			t.Errorf("account %d was not renewed but is %s", i, st)
		}
		if st == StateActive {
			kept++
		}
	}
	t.Logf("%d of %d accounts renewed in time", kept, n)
}

// dayF is days as a duration, fractions allowed.
func dayF(d float64) time.Duration { return time.Duration(d * float64(Day)) }

// TestSweepTakesTheLock: with Locks, a sweep runs only while it holds the
// sweeper's lock; while another instance holds it, a round does nothing,
// and once it is released the next round sweeps.
func TestSweepTakesTheLock(t *testing.T) {
	db, _ := openDB(t)
	c := newClock()
	l := newLife(t, db, c, nil)
	l.o.Locks = db
	id := mustCreate(t, l, db, "ines", StartDefault)
	c.Advance(dayF(23)) // 7 days before the trial ends: one event is due
	release, ok, err := db.TryLock(context.Background(), sweepLock)
	if err != nil || !ok {
		t.Fatalf("take the lock: %v %v", ok, err)
	}
	before := len(kinds(t, l, id))
	rounds := []struct {
		name       string
		held       bool
		wantEvents int
	}{
		{"another instance sweeps", true, 0},
		{"the lock is free", false, 1},
	}
	for _, r := range rounds {
		if !r.held {
			release()
		}
		rep, err := l.sweepOnce(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if rep.Events != r.wantEvents || len(kinds(t, l, id))-before != r.wantEvents {
			t.Fatalf("%s: %d events reported, %d recorded, want %d", r.name, rep.Events, len(kinds(t, l, id))-before, r.wantEvents)
		}
	}
	again, ok, err := db.TryLock(context.Background(), sweepLock)
	if err != nil || !ok {
		t.Fatalf("the sweep kept the lock: %v %v", ok, err)
	}
	again()
}

// TestSweepDropsExpiredPushSubscriptions: the sweep removes a push
// subscription once its expiry has passed, without the user's key, and
// leaves one that still runs.
func TestSweepDropsExpiredPushSubscriptions(t *testing.T) {
	db, _ := openDB(t)
	c := newClock()
	l := newLife(t, db, c, nil)
	id := mustCreate(t, l, db, "jo", StartDefault)
	key, err := encryption.NewUserKey()
	if err != nil {
		t.Fatal(err)
	}
	keys, err := encryption.NewKeyring(key)
	if err != nil {
		t.Fatal(err)
	}
	sp := db.Space(id, keys)
	principal := storage.PushTarget{Scope: storage.ScopePrincipal}
	for i, lasts := range []time.Duration{dayF(1), dayF(5)} {
		if _, _, err := sp.AddSubscription(context.Background(), principal, storage.NewSubscription{
			PushResource: fmt.Sprintf("https://push.example.net/%d", i), PublicKey: []byte{4, 1}, AuthSecret: []byte{1},
			Trigger: storage.PushTrigger{Property: true}, Expires: c.Now().Add(lasts)}); err != nil {
			t.Fatal(err)
		}
	}
	c.Advance(dayF(2))
	rep, err := l.Sweep(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	subs, err := sp.Subscriptions(context.Background(), principal)
	if err != nil {
		t.Fatal(err)
	}
	if rep.PushExpired != 1 || len(subs) != 1 || subs[0].PushResource != "https://push.example.net/1" {
		t.Fatalf("report %+v, left %+v", rep, subs)
	}
}
