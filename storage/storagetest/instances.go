package storagetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/coffer-dav/coffer/encryption"
	"github.com/coffer-dav/coffer/storage"
)

// instanceCase is one behaviour of two engines on one database.
type instanceCase struct {
	name string
	run  func(t *testing.T, a, b Engine)
}

// instanceCases are the behaviours Instances checks; Roles runs them with
// one engine in both places.
var instanceCases = []instanceCase{
	{"instances/writes are seen", testWritesSeen},
	{"instances/a deleted account is gone", testDeleteSeen},
	{"instances/one name, one account", testRacingCreates},
	{"instances/lifecycle updates in turn", testLifecycleInTurn},
	{"instances/a payment applies once", testRacingPayments},
	{"instances/a voucher redeems once", testRacingVouchers},
	{"instances/a job goes to one sender", testRacingClaims},
}

// Instances runs the part of the contract that concerns several
// processes on one database: what one engine commits, the other reads at
// its next call (no engine may answer from a copy it keeps), and their
// races end as they do within one engine. open returns two engines on one
// fresh, empty database.
func Instances(t *testing.T, open func(t *testing.T) (a, b Engine)) {
	for _, c := range instanceCases {
		t.Run(c.name, func(t *testing.T) {
			a, b := open(t)
			t.Cleanup(func() {
				for _, e := range []Engine{a, b} {
					if err := e.Close(); err != nil {
						t.Errorf("close: %v", err)
					}
				}
			})
			c.run(t, a, b)
		})
	}
}

// pick returns a for even i and b for odd i: work spread over both.
func pick(i int, a, b Engine) Engine {
	if i%2 == 0 {
		return a
	}
	return b
}

func testWritesSeen(t *testing.T, a, b Engine) {
	ctx := context.Background()
	acct := mustAccount(t, a, "alice", "alice@example.org")
	if got, err := b.AccountByEmail(ctx, "ALICE@example.org"); err != nil || got.ID != acct.ID {
		t.Fatalf("the other instance's account: %+v, %v", got, err)
	}
	// A password changed on one instance ends the stamp the other cached.
	stamp, err := b.PasswordStamp(ctx, acct.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.SetPassword(ctx, acct.ID, slot("changed")); err != nil {
		t.Fatal(err)
	}
	if now, err := b.PasswordStamp(ctx, acct.ID); err != nil || now == stamp || now != "changed" {
		t.Fatalf("stamp on the other instance = %q, %v; it was %q", now, err, stamp)
	}
	// A revoked app password and an ended session are gone for the other at once.
	if err := b.CreateAppPassword(ctx, acct.ID, storage.AppPassword{ID: "phone", LabelSealed: []byte("l"), Verifier: []byte("v"), Slot: slot("app")}); err != nil {
		t.Fatal(err)
	}
	mac := bytes.Repeat([]byte{9}, 32)
	if err := b.CreateSession(ctx, storage.Session{IDMAC: mac, Account: acct.ID, Slot: slot("s"), Created: t0, Seen: t0, Expires: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if ps, err := a.AppPasswords(ctx, acct.ID); err != nil || len(ps) != 1 {
		t.Fatalf("app passwords on the other instance = %+v, %v", ps, err)
	}
	if _, err := a.SessionByMAC(ctx, mac); err != nil {
		t.Fatalf("session on the other instance: %v", err)
	}
	if err := a.DeleteAppPassword(ctx, acct.ID, "phone"); err != nil {
		t.Fatal(err)
	}
	if err := a.DeleteSession(ctx, mac); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Slot(ctx, acct.ID, "app:phone"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("a revoked app password's slot on the other instance: %v", err)
	}
	if _, err := b.SessionByMAC(ctx, mac); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("an ended session on the other instance: %v", err)
	}
	if err := a.PutSetting(ctx, "k", "v"); err != nil {
		t.Fatal(err)
	}
	if v, ok, err := b.Setting(ctx, "k"); err != nil || !ok || v != "v" {
		t.Fatalf("setting on the other instance = %q, %v, %v", v, ok, err)
	}
	if err := a.UpdateLifecycle(ctx, acct.ID, func(tx storage.LifecycleTx, r *storage.LifecycleRecord) error {
		r.Permanent, r.PaidThrough = false, t0
		if _, err := tx.AddEvent(storage.NewEvent{Kind: "paid", At: t0, OnceKey: "paid:1", Mail: true}); err != nil {
			return err
		}
		return tx.Save(r)
	}); err != nil {
		t.Fatal(err)
	}
	if r, err := b.LifecycleRecord(ctx, acct.ID); err != nil || r.Permanent || !r.PaidThrough.Equal(t0) {
		t.Fatalf("lifecycle on the other instance = %+v, %v", r, err)
	}
	if keys, err := b.OnceKeys(ctx); err != nil || !keys[acct.ID]["paid:1"] {
		t.Fatalf("once-keys on the other instance = %v, %v", keys, err)
	}
	if jobs := claimAll(t, b, storage.JobMail, t0); len(jobs) != 1 || jobs[0].Account != acct.ID {
		t.Fatalf("mails due on the other instance = %+v", jobs)
	}
}

func testDeleteSeen(t *testing.T, a, b Engine) {
	ctx := context.Background()
	acct, err := a.CreateAccount(ctx, storage.NewAccount{Username: "alice",
		Slots: slots(nil, map[string]encryption.Slot{"password": slot("p")})})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Slot(ctx, acct.ID, "password"); err != nil {
		t.Fatal(err)
	}
	if err := b.DeleteAccount(ctx, acct.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Slot(ctx, acct.ID, "password"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("slot of a deleted account on the other instance: %v", err)
	}
	if _, err := a.PasswordStamp(ctx, acct.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("stamp of a deleted account on the other instance: %v", err)
	}
	if err := a.UpdateLifecycle(ctx, acct.ID, func(storage.LifecycleTx, *storage.LifecycleRecord) error { return nil }); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("UpdateLifecycle of a deleted account on the other instance: %v", err)
	}
	if err := a.SetPassword(ctx, acct.ID, slot("p2")); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("SetPassword of a deleted account on the other instance: %v", err)
	}
}

func testRacingCreates(t *testing.T, a, b Engine) {
	ctx := context.Background()
	// Creators of one name at once, on both instances: one wins, the
	// others get ErrExists.
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() {
			_, errs[i] = pick(i, a, b).CreateAccount(ctx, storage.NewAccount{Username: "carol", Slots: slots(nil, map[string]encryption.Slot{"password": slot(fmt.Sprint("p", i))})})
		})
	}
	wg.Wait()
	won := -1
	for i, err := range errs {
		switch {
		case err == nil && won >= 0:
			t.Fatalf("creators %d and %d both won", won, i)
		case err == nil:
			won = i
		case !errors.Is(err, storage.ErrExists):
			t.Errorf("creator %d: %v", i, err)
		}
	}
	if won < 0 {
		t.Fatal("no creator won")
	}
	acct, err := b.AccountByUsername(ctx, "carol")
	if err != nil {
		t.Fatal(err)
	}
	if s, err := a.Slot(ctx, acct.ID, "password"); err != nil || !sameSlot(s, slot(fmt.Sprint("p", won))) {
		t.Fatalf("carol's slot = %+v, %v; want the winner's", s, err)
	}
	if n, err := a.CountAccounts(ctx); err != nil || n != 1 {
		t.Fatalf("CountAccounts = %d, %v", n, err)
	}
}

func testLifecycleInTurn(t *testing.T, a, b Engine) {
	ctx := context.Background()
	acct := mustAccount(t, a, "alice", "")
	if err := a.UpdateLifecycle(ctx, acct.ID, func(tx storage.LifecycleTx, r *storage.LifecycleRecord) error {
		r.Permanent, r.PaidThrough = false, t0
		return tx.Save(r)
	}); err != nil {
		t.Fatal(err)
	}
	// Each update reads the record its predecessor wrote, whichever
	// instance wrote it: none is lost.
	const n = 16
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			errs[i] = pick(i, a, b).UpdateLifecycle(ctx, acct.ID, func(tx storage.LifecycleTx, r *storage.LifecycleRecord) error {
				r.PaidThrough = r.PaidThrough.Add(24 * time.Hour)
				if _, err := tx.AddEvent(storage.NewEvent{Kind: "extended", Detail: r.PaidThrough.Format(time.DateOnly), At: t0}); err != nil {
					return err
				}
				return tx.Save(r)
			})
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if r, err := b.LifecycleRecord(ctx, acct.ID); err != nil || !r.PaidThrough.Equal(t0.Add(n*24*time.Hour)) {
		t.Fatalf("after %d concurrent extensions by a day: %+v, %v", n, r, err)
	}
	// The history holds each step once, in order.
	evs, err := a.Events(ctx, acct.ID)
	if err != nil || len(evs) != n {
		t.Fatalf("events = %+v, %v", evs, err)
	}
	for i, e := range evs {
		if want := t0.Add(time.Duration(i+1) * 24 * time.Hour).Format(time.DateOnly); e.Detail != want {
			t.Fatalf("event %d = %+v, want detail %s", i, e, want)
		}
	}
}

func testRacingPayments(t *testing.T, a, b Engine) {
	ctx := context.Background()
	// One transaction id, sent for several accounts at once from both
	// instances: it applies once, and every other call names its owner.
	var accounts []int64
	for i := range 4 {
		accounts = append(accounts, mustAccount(t, a, fmt.Sprint("user", i), "").ID)
	}
	const n = 8
	applied := make([]bool, n)
	owners := make([]int64, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			err := pick(i, a, b).UpdateLifecycle(ctx, accounts[i%len(accounts)], func(tx storage.LifecycleTx, r *storage.LifecycleRecord) error {
				var err error
				applied[i], owners[i], err = tx.AddPayment("tx-race", "pro", t0, t0)
				return err
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	winner := -1
	for i := range n {
		if applied[i] {
			if winner >= 0 {
				t.Fatalf("calls %d and %d both applied", winner, i)
			}
			winner = i
		}
	}
	if winner < 0 {
		t.Fatal("the payment never applied")
	}
	for i := range n {
		if owners[i] != accounts[winner%len(accounts)] {
			t.Errorf("call %d reports owner %d, the payment went to %d", i, owners[i], accounts[winner%len(accounts)])
		}
	}
}

func testRacingVouchers(t *testing.T, a, b Engine) {
	ctx := context.Background()
	var accounts []int64
	for i := range 4 {
		accounts = append(accounts, mustAccount(t, a, fmt.Sprint("user", i), "").ID)
	}
	if err := b.CreateVouchers(ctx, []storage.Voucher{{CodeHash: []byte("h"), Plan: "pro", Days: 7}}, t0); err != nil {
		t.Fatal(err)
	}
	// One code, redeemed by several accounts at once on both instances.
	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			err := pick(i, a, b).UpdateLifecycle(ctx, accounts[i%len(accounts)], func(tx storage.LifecycleTx, r *storage.LifecycleRecord) error {
				plan, days, err := tx.RedeemVoucher([]byte("h"), t0)
				if err == nil && (plan != "pro" || days != 7) {
					err = fmt.Errorf("voucher grants %s for %d days", plan, days)
				}
				errs[i] = err
				return nil
			})
			if err != nil {
				errs[i] = err
			}
		})
	}
	wg.Wait()
	won := 0
	for i, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, storage.ErrVoucherUsed):
			t.Errorf("redemption %d: %v", i, err)
		}
	}
	if won != 1 {
		t.Fatalf("the voucher was redeemed %d times", won)
	}
}
