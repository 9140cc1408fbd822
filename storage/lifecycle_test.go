package storage

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestLifecycleRecordDefaults: an account without a lifecycle row (one
// created before lifecycles) reads as permanent and confirmed.
func TestLifecycleRecordDefaults(t *testing.T) {
	db, _, _ := testSpace(t)
	r, err := db.LifecycleRecordByUsername(context.Background(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	if !r.Permanent || r.Confirmed.IsZero() || !r.TrialEnd.IsZero() || !r.Purging.IsZero() {
		t.Fatalf("%+v", r)
	}
}

// TestLifecycleRows: events with a once-key happen once, a transaction id
// applies once, a voucher redeems once, a mail is claimed by one sender,
// and everything goes with the account.
func TestLifecycleRows(t *testing.T) {
	db, _, _ := testSpace(t)
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	r, err := db.LifecycleRecordByUsername(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	id := r.AccountID
	if err := db.CreateVouchers(ctx, []Voucher{{CodeHash: []byte("h1"), Plan: "pro", Days: 10}}, now); err != nil {
		t.Fatal(err)
	}
	var added [2]bool
	var applied [2]bool
	for i := range 2 {
		err := db.UpdateLifecycle(ctx, id, func(tx LifecycleTx, r *LifecycleRecord) error {
			r.PaidThrough = now.Add(time.Hour)
			if err := tx.Save(r); err != nil {
				return err
			}
			var err error
			if added[i], err = tx.AddEvent(NewEvent{Kind: "k", At: now, OnceKey: "k:1", Mail: true}); err != nil {
				return err
			}
			applied[i], _, err = tx.AddPayment("tx", "pro", now, now)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if added != [2]bool{true, false} || applied != [2]bool{true, false} {
		t.Fatalf("added %v, applied %v", added, applied)
	}
	err = db.UpdateLifecycle(ctx, id, func(tx LifecycleTx, r *LifecycleRecord) error {
		if _, _, err := tx.RedeemVoucher([]byte("h1"), now); err != nil {
			return err
		}
		if _, _, err := tx.RedeemVoucher([]byte("h1"), now); !errors.Is(err, ErrVoucherUsed) {
			t.Errorf("second redemption: %v", err)
		}
		if _, _, err := tx.RedeemVoucher([]byte("h2"), now); !errors.Is(err, ErrNotFound) {
			t.Errorf("unknown voucher: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	claim := func(now time.Time) []Job {
		t.Helper()
		jobs, err := db.ClaimJobs(ctx, ClaimOptions{Kind: JobMail, Now: now, Until: now.Add(time.Minute)})
		if err != nil {
			t.Fatal(err)
		}
		return jobs
	}
	jobs := claim(now)
	if len(jobs) != 1 || jobs[0].Account != id {
		t.Fatalf("claim: %+v", jobs)
	}
	if again := claim(now); len(again) != 0 {
		t.Fatalf("a second claim: %+v", again)
	}
	// A claim whose lease ran out is taken over (its sender died).
	late := claim(now.Add(time.Hour))
	if len(late) != 1 || late[0].ID != jobs[0].ID {
		t.Fatalf("stale claim: %+v", late)
	}
	if err := db.FinishJob(ctx, &late[0], JobOutcome{Done: true}); err != nil {
		t.Fatal(err)
	}
	if evs, _ := db.Events(ctx, id); len(evs) != 1 || evs[0].Mail != "sent" {
		t.Fatalf("events: %+v", evs)
	}
	if err := db.DeleteAccount(ctx, id); err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"account_lifecycle", "account_events", "outbox", "payments"} {
		var n int
		if err := db.read.QueryRow("SELECT count(*) FROM " + table).Scan(&n); err != nil || n != 0 {
			t.Errorf("%s has %d rows after the delete (%v)", table, n, err)
		}
	}
	var redeemedBy *int64
	if err := db.read.QueryRow("SELECT redeemed_by FROM vouchers").Scan(&redeemedBy); err != nil || redeemedBy != nil {
		t.Errorf("voucher still names the account: %v %v", redeemedBy, err)
	}
}
