package storagetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/coffer-dav/coffer/encryption"
	"github.com/coffer-dav/coffer/storage"
)

// Engine is a storage engine that plays every account-side role: what
// Roles tests.
type Engine interface {
	storage.Accounts
	storage.Credentials
	storage.AppPasswords
	storage.Sessions
	storage.Lifecycle
	storage.Outbox
	storage.Settings
	// Close closes the engine.
	Close() error
}

// roleCase is one behaviour of the account-side roles.
type roleCase struct {
	name string
	run  func(t *testing.T, e Engine)
}

// roleCases are the behaviours Roles checks, each on a fresh engine.
var roleCases = []roleCase{
	{"accounts/create", testCreateAccount},
	{"accounts/create fails whole", testCreateAccountAtomic},
	{"accounts/taken username", testUsernameTaken},
	{"accounts/by username", testAccountByUsername},
	{"accounts/by e-mail", testAccountByEmail},
	{"accounts/list and count", testListAccounts},
	{"accounts/delete takes everything", testDeleteAccount},
	{"accounts/ids never come back", testIDsNotReused},
	{"credentials/slots", testSlots},
	{"credentials/set together", testSetCredentials},
	{"credentials/set all or nothing", testSetCredentialsAtomic},
	{"app passwords", testAppPasswords},
	{"sessions/read and touch", testSessions},
	{"sessions/end with their slots", testSessionEnds},
	{"lifecycle/defaults", testLifecycleDefaults},
	{"lifecycle/start and save", testLifecycleStart},
	{"lifecycle/rollback", testLifecycleRollback},
	{"lifecycle/once-keys", testOnceKeys},
	{"lifecycle/payments", testPayments},
	{"lifecycle/vouchers", testVouchers},
	{"lifecycle/records", testLifecycleRecords},
	{"outbox/mails follow their events", testOutboxMail},
	{"outbox/claims, retries and lease", testOutboxClaims},
	{"outbox/a finish of a lost claim", testOutboxLostClaim},
	{"outbox/goes with its account", testOutboxDelete},
	{"outbox/collapse keys", testOutboxCollapse},
	{"settings", testSettings},
}

// Roles runs the contract of the account-side roles (Accounts,
// Credentials, AppPasswords, Sessions, Lifecycle, Outbox, Settings)
// against the engines open makes: one fresh, empty engine for each case;
// the cases of Instances run on it too, with the engine as both instances.
// It states the behaviour of the SQLite engine, which every other engine
// must match.
func Roles(t *testing.T, open func(t *testing.T) Engine) {
	for _, c := range roleCases {
		t.Run(c.name, func(t *testing.T) {
			e := open(t)
			t.Cleanup(func() {
				if err := e.Close(); err != nil {
					t.Errorf("close: %v", err)
				}
			})
			c.run(t, e)
		})
	}
	for _, c := range instanceCases {
		t.Run(c.name, func(t *testing.T) {
			e := open(t)
			t.Cleanup(func() {
				if err := e.Close(); err != nil {
					t.Errorf("close: %v", err)
				}
			})
			c.run(t, e, e)
		})
	}
}

// t0 is the suite's clock: whole seconds, as the engines keep times.
var t0 = time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)

func slot(s string) encryption.Slot { return encryption.Slot{KDF: s, Wrapped: []byte("wrapped " + s)} }

// slots returns a NewAccount.Slots that gives these slots and records the id it was called with.
func slots(id *int64, ss map[string]encryption.Slot) func(int64) (map[string]encryption.Slot, error) {
	return func(got int64) (map[string]encryption.Slot, error) {
		if id != nil {
			*id = got
		}
		return ss, nil
	}
}

func mustAccount(t *testing.T, e Engine, username, email string) *storage.Account {
	t.Helper()
	a, err := e.CreateAccount(context.Background(), storage.NewAccount{Username: username, Email: email,
		Slots: slots(nil, map[string]encryption.Slot{"password": slot("pw-" + username)})})
	if err != nil {
		t.Fatalf("create %s: %v", username, err)
	}
	return a
}

func sameSlot(a, b encryption.Slot) bool { return a.KDF == b.KDF && bytes.Equal(a.Wrapped, b.Wrapped) }

func testCreateAccount(t *testing.T, e Engine) {
	ctx := context.Background()
	before := time.Now().Truncate(time.Second)
	var called int64 = -1
	a, err := e.CreateAccount(ctx, storage.NewAccount{Username: "alice", Email: "alice@example.org", DisplayName: "Alice A.",
		Slots: slots(&called, map[string]encryption.Slot{"password": slot("p"), "recovery": slot("r")})})
	if err != nil {
		t.Fatal(err)
	}
	after := time.Now()
	if a.ID <= 0 || a.ID != called || a.Username != "alice" || a.Email != "alice@example.org" || a.DisplayName != "Alice A." {
		t.Fatalf("CreateAccount = %+v (Slots called with %d)", a, called)
	}
	if a.Created.Location() != time.UTC || a.Created.Nanosecond() != 0 || a.Created.Before(before) || a.Created.After(after) {
		t.Fatalf("Created = %v, want the whole second of the call in UTC", a.Created)
	}
	got, err := e.AccountByUsername(ctx, "alice")
	if err != nil || *got != *a {
		t.Fatalf("AccountByUsername = %+v, %v; want %+v", got, err, a)
	}
	for kind, want := range map[string]encryption.Slot{"password": slot("p"), "recovery": slot("r")} {
		if s, err := e.Slot(ctx, a.ID, kind); err != nil || !sameSlot(s, want) {
			t.Errorf("slot %s = %+v, %v", kind, s, err)
		}
	}
	b := mustAccount(t, e, "bob", "")
	if b.ID == a.ID {
		t.Fatalf("two accounts with id %d", a.ID)
	}
}

func testCreateAccountAtomic(t *testing.T, e Engine) {
	ctx := context.Background()
	boom := errors.New("no slots today")
	_, err := e.CreateAccount(ctx, storage.NewAccount{Username: "alice",
		Slots: func(int64) (map[string]encryption.Slot, error) { return nil, boom }})
	if !errors.Is(err, boom) {
		t.Fatalf("CreateAccount with failing slots = %v, want %v", err, boom)
	}
	if _, err := e.AccountByUsername(ctx, "alice"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("the failed account exists: %v", err)
	}
	if n, err := e.CountAccounts(ctx); err != nil || n != 0 {
		t.Fatalf("CountAccounts = %d, %v", n, err)
	}
	// The name is free afterwards.
	mustAccount(t, e, "alice", "")
}

func testUsernameTaken(t *testing.T, e Engine) {
	ctx := context.Background()
	first := mustAccount(t, e, "alice", "a@example.org")
	_, err := e.CreateAccount(ctx, storage.NewAccount{Username: "alice", Email: "other@example.org",
		Slots: slots(nil, map[string]encryption.Slot{"password": slot("other")})})
	if !errors.Is(err, storage.ErrExists) {
		t.Fatalf("a taken username = %v, want ErrExists", err)
	}
	if s, err := e.Slot(ctx, first.ID, "password"); err != nil || !sameSlot(s, slot("pw-alice")) {
		t.Fatalf("the first account's slot changed: %+v, %v", s, err)
	}
	if n, _ := e.CountAccounts(ctx); n != 1 {
		t.Fatalf("%d accounts", n)
	}
	// Usernames are compared byte for byte: another case is another name.
	if _, err := e.CreateAccount(ctx, storage.NewAccount{Username: "Alice", Slots: slots(nil, nil)}); err != nil {
		t.Fatalf("Alice beside alice: %v", err)
	}
}

func testAccountByUsername(t *testing.T, e Engine) {
	ctx := context.Background()
	a := mustAccount(t, e, "alice", "")
	for _, tt := range []struct {
		name string
		want *storage.Account
	}{
		{"alice", a},
		{"ALICE", nil},
		{"alice ", nil},
		{"", nil},
		{"al%", nil},
	} {
		got, err := e.AccountByUsername(ctx, tt.name)
		switch {
		case tt.want == nil && !errors.Is(err, storage.ErrNotFound):
			t.Errorf("%q: %+v, %v; want ErrNotFound", tt.name, got, err)
		case tt.want != nil && (err != nil || *got != *tt.want):
			t.Errorf("%q: %+v, %v; want %+v", tt.name, got, err, tt.want)
		}
	}
}

func testAccountByEmail(t *testing.T, e Engine) {
	ctx := context.Background()
	for _, a := range []struct{ user, email string }{
		{"alice", "Alice@Example.org"},
		{"bob", "bob@example.org"},
		{"carol", "shared@example.org"},
		{"dave", "SHARED@example.org"},
		{"erin", ""},
		{"frank", ""},
		{"gina", "Ärger@example.org"},
	} {
		mustAccount(t, e, a.user, a.email)
	}
	for _, tt := range []struct {
		email, want string // want: the username, or "" for ErrNotFound
	}{
		{"Alice@Example.org", "alice"},
		{"alice@example.org", "alice"},
		{"ALICE@EXAMPLE.ORG", "alice"},
		{"bob@example.org", "bob"},
		{"bob@example.org ", ""},
		{"bob@example", ""},
		{"nobody@example.org", ""},
		{"shared@example.org", ""},
		{"", ""},
		{"%@example.org", ""},
		{"_ob@example.org", ""},
		{"Ärger@EXAMPLE.org", "gina"},
		// SQLite's lower() folds ASCII letters only.
		{"ärger@example.org", ""},
	} {
		a, err := e.AccountByEmail(ctx, tt.email)
		switch {
		case tt.want == "" && !errors.Is(err, storage.ErrNotFound):
			t.Errorf("%q: %+v, %v; want ErrNotFound", tt.email, a, err)
		case tt.want != "" && (err != nil || a.Username != tt.want):
			t.Errorf("%q: %+v, %v; want %s", tt.email, a, err, tt.want)
		}
	}
}

func testListAccounts(t *testing.T, e Engine) {
	ctx := context.Background()
	if as, err := e.Accounts(ctx); err != nil || len(as) != 0 {
		t.Fatalf("Accounts of an empty engine = %+v, %v", as, err)
	}
	if n, err := e.CountAccounts(ctx); err != nil || n != 0 {
		t.Fatalf("CountAccounts = %d, %v", n, err)
	}
	// Created out of order; listed by username, byte for byte (upper case first).
	names := []string{"zoe", "alice_b", "Bob", "alice", "alice.b", "émile", "Zed", "alice-b"}
	want := map[string]storage.Account{}
	for _, n := range names {
		want[n] = *mustAccount(t, e, n, n+"@example.org")
	}
	sorted := append([]string(nil), names...)
	sort.Strings(sorted)
	as, err := e.Accounts(ctx)
	if err != nil || len(as) != len(names) {
		t.Fatalf("Accounts = %+v, %v", as, err)
	}
	for i, a := range as {
		if a != want[sorted[i]] {
			t.Errorf("Accounts[%d] = %+v, want %+v", i, a, want[sorted[i]])
		}
	}
	if n, err := e.CountAccounts(ctx); err != nil || n != len(names) {
		t.Fatalf("CountAccounts = %d, %v", n, err)
	}
	if err := e.DeleteAccount(ctx, want["Bob"].ID); err != nil {
		t.Fatal(err)
	}
	if n, err := e.CountAccounts(ctx); err != nil || n != len(names)-1 {
		t.Fatalf("CountAccounts after a delete = %d, %v", n, err)
	}
}

func testDeleteAccount(t *testing.T, e Engine) {
	ctx := context.Background()
	a, err := e.CreateAccount(ctx, storage.NewAccount{Username: "alice", Email: "alice@example.org",
		Slots: slots(nil, map[string]encryption.Slot{"password": slot("p"), "recovery": slot("r")}),
		Lifecycle: &storage.LifecycleStart{
			Record: storage.LifecycleRecord{Registered: t0, TrialEnd: t0.Add(24 * time.Hour)},
			Events: []storage.NewEvent{{Kind: "registered", At: t0, OnceKey: "registered", Mail: true}},
		}})
	if err != nil {
		t.Fatal(err)
	}
	bob := mustAccount(t, e, "bob", "bob@example.org")
	mac := bytes.Repeat([]byte{1}, 32)
	if err := e.CreateSession(ctx, storage.Session{IDMAC: mac, Account: a.ID, Slot: slot("s"), Created: t0, Seen: t0, Expires: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := e.CreateAppPassword(ctx, a.ID, storage.AppPassword{ID: "phone", LabelSealed: []byte("l"), Verifier: []byte("v"), Slot: slot("a")}); err != nil {
		t.Fatal(err)
	}
	if err := e.CreateVouchers(ctx, []storage.Voucher{{CodeHash: []byte("code"), Plan: "pro", Days: 30}}, t0); err != nil {
		t.Fatal(err)
	}
	err = e.UpdateLifecycle(ctx, a.ID, func(tx storage.LifecycleTx, r *storage.LifecycleRecord) error {
		if _, err := tx.AddEvent(storage.NewEvent{Kind: "trial-ending", At: t0, OnceKey: "trial-ending:1"}); err != nil {
			return err
		}
		if _, _, err := tx.RedeemVoucher([]byte("code"), t0); err != nil {
			return err
		}
		_, _, err := tx.AddPayment("tx-1", "pro", t0.Add(48*time.Hour), t0)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}

	if err := e.DeleteAccount(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.AccountByUsername(ctx, "alice"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("AccountByUsername after the delete: %v", err)
	}
	if _, err := e.AccountByEmail(ctx, "alice@example.org"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("AccountByEmail after the delete: %v", err)
	}
	for _, kind := range []string{"password", "recovery", "app:phone", storage.SessionSlotKind(mac)} {
		if _, err := e.Slot(ctx, a.ID, kind); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("slot %s after the delete: %v", kind, err)
		}
	}
	if _, err := e.PasswordStamp(ctx, a.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("PasswordStamp after the delete: %v", err)
	}
	if _, err := e.SessionByMAC(ctx, mac); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("session after the delete: %v", err)
	}
	if ps, err := e.AppPasswords(ctx, a.ID); err != nil || len(ps) != 0 {
		t.Errorf("app passwords after the delete: %+v, %v", ps, err)
	}
	if _, err := e.LifecycleRecord(ctx, a.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("lifecycle record after the delete: %v", err)
	}
	if _, err := e.LifecycleRecordByUsername(ctx, "alice"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("lifecycle record by username after the delete: %v", err)
	}
	if evs, err := e.Events(ctx, a.ID); err != nil || len(evs) != 0 {
		t.Errorf("events after the delete: %+v, %v", evs, err)
	}
	if keys, err := e.OnceKeys(ctx); err != nil || keys[a.ID] != nil {
		t.Errorf("once-keys after the delete: %v, %v", keys, err)
	}
	if due := claimAll(t, e, storage.JobMail, t0.Add(time.Hour)); len(due) != 0 {
		t.Errorf("mails due after the delete: %+v", due)
	}
	if rs, err := e.LifecycleRecords(ctx); err != nil || len(rs) != 1 || rs[0].AccountID != bob.ID {
		t.Errorf("lifecycle records after the delete: %+v, %v", rs, err)
	}
	// The payment went with the account, so its transaction id applies
	// afresh; the voucher stays redeemed.
	err = e.UpdateLifecycle(ctx, bob.ID, func(tx storage.LifecycleTx, r *storage.LifecycleRecord) error {
		applied, owner, err := tx.AddPayment("tx-1", "pro", t0, t0)
		if err != nil || !applied || owner != bob.ID {
			t.Errorf("the deleted account's transaction id = %v, %d, %v; want applied to bob", applied, owner, err)
		}
		if _, _, err := tx.RedeemVoucher([]byte("code"), t0); !errors.Is(err, storage.ErrVoucherUsed) {
			t.Errorf("the deleted account's voucher = %v, want ErrVoucherUsed", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.DeleteAccount(ctx, a.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("a second delete = %v, want ErrNotFound", err)
	}
	if s, err := e.Slot(ctx, bob.ID, "password"); err != nil || !sameSlot(s, slot("pw-bob")) {
		t.Errorf("bob's slot after alice's delete: %+v, %v", s, err)
	}
}

func testIDsNotReused(t *testing.T, e Engine) {
	ctx := context.Background()
	mustAccount(t, e, "alice", "")
	b := mustAccount(t, e, "bob", "")
	if err := e.DeleteAccount(ctx, b.ID); err != nil {
		t.Fatal(err)
	}
	again := mustAccount(t, e, "bob", "")
	if again.ID <= b.ID {
		t.Fatalf("bob again has id %d, the deleted bob had %d", again.ID, b.ID)
	}
}

func testSlots(t *testing.T, e Engine) {
	ctx := context.Background()
	a := mustAccount(t, e, "alice", "")
	empty, err := e.CreateAccount(ctx, storage.NewAccount{Username: "bob", Slots: slots(nil, nil)})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		account int64
		kind    string
		want    *encryption.Slot
	}{
		{a.ID, "password", &encryption.Slot{KDF: "pw-alice", Wrapped: []byte("wrapped pw-alice")}},
		{a.ID, "recovery", nil},
		{a.ID, "PASSWORD", nil},
		{empty.ID, "password", nil},
		{a.ID + empty.ID + 100, "password", nil},
	} {
		got, err := e.Slot(ctx, tt.account, tt.kind)
		switch {
		case tt.want == nil && !errors.Is(err, storage.ErrNotFound):
			t.Errorf("Slot(%d, %s) = %+v, %v; want ErrNotFound", tt.account, tt.kind, got, err)
		case tt.want != nil && (err != nil || !sameSlot(got, *tt.want)):
			t.Errorf("Slot(%d, %s) = %+v, %v; want %+v", tt.account, tt.kind, got, err, *tt.want)
		}
	}
	// The stamp is the password slot's KDF description; empty without one.
	if s, err := e.PasswordStamp(ctx, a.ID); err != nil || s != "pw-alice" {
		t.Errorf("PasswordStamp = %q, %v", s, err)
	}
	if s, err := e.PasswordStamp(ctx, empty.ID); err != nil || s != "" {
		t.Errorf("PasswordStamp without a password slot = %q, %v", s, err)
	}
	if _, err := e.PasswordStamp(ctx, a.ID+empty.ID+100); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("PasswordStamp of a missing account = %v", err)
	}
	if err := e.SetPassword(ctx, a.ID, slot("p2")); err != nil {
		t.Fatal(err)
	}
	if s, err := e.PasswordStamp(ctx, a.ID); err != nil || s != "p2" {
		t.Errorf("PasswordStamp after SetPassword = %q, %v", s, err)
	}
	if got, err := e.Slot(ctx, a.ID, "password"); err != nil || !sameSlot(got, slot("p2")) {
		t.Errorf("password slot after SetPassword = %+v, %v", got, err)
	}
	if err := e.SetPassword(ctx, empty.ID, slot("first")); err != nil {
		t.Fatal(err)
	}
	if s, err := e.PasswordStamp(ctx, empty.ID); err != nil || s != "first" {
		t.Errorf("PasswordStamp after a first SetPassword = %q, %v", s, err)
	}
	if err := e.SetPassword(ctx, a.ID+empty.ID+100, slot("x")); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("SetPassword of a missing account = %v, want ErrNotFound", err)
	}
}

func testSetCredentials(t *testing.T, e Engine) {
	ctx := context.Background()
	a := mustAccount(t, e, "alice", "")
	b := mustAccount(t, e, "bob", "")
	if err := e.SetCredentials(ctx, a.ID, map[string]encryption.Slot{"password": slot("p1"), "recovery": slot("r1")}); err != nil {
		t.Fatal(err)
	}
	if err := e.SetCredentials(ctx, a.ID, map[string]encryption.Slot{"escrow": slot("e1"), "recovery": slot("r2")}); err != nil {
		t.Fatal(err)
	}
	if err := e.SetCredentials(ctx, a.ID, nil); err != nil {
		t.Fatalf("no slots: %v", err)
	}
	for kind, want := range map[string]string{"password": "p1", "recovery": "r2", "escrow": "e1"} {
		if got, err := e.Slot(ctx, a.ID, kind); err != nil || !sameSlot(got, slot(want)) {
			t.Errorf("slot %s = %+v, %v; want %s", kind, got, err, want)
		}
	}
	if got, err := e.Slot(ctx, b.ID, "password"); err != nil || !sameSlot(got, slot("pw-bob")) {
		t.Errorf("bob's slot = %+v, %v", got, err)
	}
	missing := a.ID + b.ID + 100
	if err := e.SetCredentials(ctx, missing, map[string]encryption.Slot{"escrow": slot("x")}); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("SetCredentials of a missing account = %v, want ErrNotFound", err)
	}
	if _, err := e.Slot(ctx, missing, "escrow"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("a missing account got a slot: %v", err)
	}
}

func testSetCredentialsAtomic(t *testing.T, e Engine) {
	ctx := context.Background()
	a := mustAccount(t, e, "alice", "")
	// A slot without its wrapped key cannot be stored (NOT NULL), and
	// then neither is the other one.
	err := e.SetCredentials(ctx, a.ID, map[string]encryption.Slot{"password": slot("p2"), "recovery": {KDF: "r"}})
	if err == nil {
		t.Fatal("a slot without a wrapped key was stored")
	}
	if got, err := e.Slot(ctx, a.ID, "password"); err != nil || !sameSlot(got, slot("pw-alice")) {
		t.Errorf("password slot after a failed SetCredentials = %+v, %v", got, err)
	}
	if _, err := e.Slot(ctx, a.ID, "recovery"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("recovery slot after a failed SetCredentials: %v", err)
	}
	if s, err := e.PasswordStamp(ctx, a.ID); err != nil || s != "pw-alice" {
		t.Errorf("PasswordStamp after a failed SetCredentials = %q, %v", s, err)
	}
}

func testAppPasswords(t *testing.T, e Engine) {
	ctx := context.Background()
	a := mustAccount(t, e, "alice", "")
	b := mustAccount(t, e, "bob", "")
	before := time.Now().Truncate(time.Second)
	ps := []storage.AppPassword{
		{ID: "zz", LabelSealed: []byte("l1"), Verifier: []byte("v1"), Slot: slot("a1"), Created: t0},
		{ID: "aa", LabelSealed: []byte("l2"), Verifier: []byte("v2"), Slot: slot("a2"), Created: t0.Add(time.Second)},
		{ID: "mm", LabelSealed: []byte("l3"), Verifier: []byte("v3"), Slot: slot("a3")}, // Created zero: now
	}
	for _, p := range ps {
		if err := e.CreateAppPassword(ctx, a.ID, p); err != nil {
			t.Fatal(err)
		}
	}
	if ls, err := e.AppPasswords(ctx, b.ID); err != nil || len(ls) != 0 {
		t.Fatalf("bob's app passwords = %+v, %v", ls, err)
	}
	if err := e.CreateAppPassword(ctx, a.ID, ps[0]); !errors.Is(err, storage.ErrExists) {
		t.Fatalf("a taken id = %v, want ErrExists", err)
	}
	// Ids are per account.
	if err := e.CreateAppPassword(ctx, b.ID, ps[0]); err != nil {
		t.Fatalf("bob's app password with alice's id: %v", err)
	}
	if err := e.TouchAppPassword(ctx, a.ID, "aa", t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		account int64
		id      string
	}{{a.ID, "nope"}, {a.ID + b.ID + 100, "zz"}} {
		if err := e.TouchAppPassword(ctx, tt.account, tt.id, t0); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("TouchAppPassword(%d, %s) = %v, want ErrNotFound", tt.account, tt.id, err)
		}
	}
	got, err := e.AppPasswords(ctx, a.ID)
	if err != nil || len(got) != 3 {
		t.Fatalf("AppPasswords = %+v, %v", got, err)
	}
	// As created, not by id; with their slots.
	for i, p := range ps {
		g := got[i]
		if g.ID != p.ID || !bytes.Equal(g.LabelSealed, p.LabelSealed) || !bytes.Equal(g.Verifier, p.Verifier) || !sameSlot(g.Slot, p.Slot) {
			t.Errorf("AppPasswords[%d] = %+v, want %+v", i, g, p)
		}
		if s, err := e.Slot(ctx, a.ID, "app:"+p.ID); err != nil || !sameSlot(s, p.Slot) {
			t.Errorf("slot app:%s = %+v, %v", p.ID, s, err)
		}
	}
	if !got[0].Created.Equal(t0) || got[0].Created.Location() != time.UTC || !got[0].LastUsed.IsZero() {
		t.Errorf("AppPasswords[0] times: %v, %v", got[0].Created, got[0].LastUsed)
	}
	if !got[1].LastUsed.Equal(t0.Add(time.Hour)) || got[1].LastUsed.Location() != time.UTC {
		t.Errorf("AppPasswords[1].LastUsed = %v", got[1].LastUsed)
	}
	if got[2].Created.Before(before) || got[2].Created.After(time.Now()) {
		t.Errorf("AppPasswords[2].Created = %v, want now", got[2].Created)
	}

	for _, tt := range []struct {
		account int64
		id      string
		want    error
	}{
		{a.ID, "zz", nil},
		{a.ID, "zz", storage.ErrNotFound},
		{a.ID + b.ID + 100, "aa", storage.ErrNotFound},
		{a.ID, "", storage.ErrNotFound},
	} {
		if err := e.DeleteAppPassword(ctx, tt.account, tt.id); !errors.Is(err, tt.want) {
			t.Errorf("DeleteAppPassword(%d, %q) = %v, want %v", tt.account, tt.id, err, tt.want)
		}
	}
	if _, err := e.Slot(ctx, a.ID, "app:zz"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("the revoked slot is still there: %v", err)
	}
	if s, err := e.Slot(ctx, b.ID, "app:zz"); err != nil || !sameSlot(s, ps[0].Slot) {
		t.Errorf("bob's app:zz after alice revoked hers: %+v, %v", s, err)
	}
	if err := e.TouchAppPassword(ctx, a.ID, "zz", t0); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("touch of a revoked app password = %v", err)
	}
	if got, err := e.AppPasswords(ctx, a.ID); err != nil || len(got) != 2 || got[0].ID != "aa" || got[1].ID != "mm" {
		t.Errorf("AppPasswords after a revocation = %+v, %v", got, err)
	}
	if err := e.CreateAppPassword(ctx, a.ID+b.ID+100, storage.AppPassword{ID: "x", LabelSealed: []byte("l"), Verifier: []byte("v"), Slot: slot("x")}); err == nil {
		t.Errorf("an app password for a missing account was stored")
	}
}

func session(n byte, account int64, seen, expires time.Time) storage.Session {
	return storage.Session{IDMAC: bytes.Repeat([]byte{n}, 32), Account: account, Created: t0, Seen: seen, Expires: expires,
		Slot: encryption.Slot{KDF: "secret$c2FsdA", Wrapped: bytes.Repeat([]byte{'W', n}, 24)}}
}

func testSessions(t *testing.T, e Engine) {
	ctx := context.Background()
	a := mustAccount(t, e, "alice", "")
	s := session(1, a.ID, t0.Add(time.Minute), t0.Add(time.Hour))
	if err := e.CreateSession(ctx, s); err != nil {
		t.Fatal(err)
	}
	got, err := e.SessionByMAC(ctx, s.IDMAC)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.IDMAC, s.IDMAC) || got.Account != a.ID || got.Username != "alice" || !sameSlot(got.Slot, s.Slot) ||
		!got.Created.Equal(s.Created) || !got.Seen.Equal(s.Seen) || !got.Expires.Equal(s.Expires) || got.Expires.Location() != time.UTC {
		t.Fatalf("SessionByMAC = %+v, want %+v", got, s)
	}
	if sl, err := e.Slot(ctx, a.ID, storage.SessionSlotKind(s.IDMAC)); err != nil || !sameSlot(sl, s.Slot) {
		t.Fatalf("the session's slot = %+v, %v", sl, err)
	}
	if err := e.CreateSession(ctx, s); !errors.Is(err, storage.ErrExists) {
		t.Fatalf("a second session under one id: %v", err)
	}
	if _, err := e.SessionByMAC(ctx, bytes.Repeat([]byte{2}, 32)); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("an unknown session: %v", err)
	}
	if _, err := e.SessionByMAC(ctx, s.IDMAC[:31]); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("a prefix of a session's MAC: %v", err)
	}
	if err := e.TouchSession(ctx, s.IDMAC, t0.Add(10*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got, err := e.SessionByMAC(ctx, s.IDMAC); err != nil || !got.Seen.Equal(t0.Add(10*time.Minute)) || !got.Created.Equal(t0) {
		t.Fatalf("after TouchSession: %+v, %v", got, err)
	}
	if err := e.TouchSession(ctx, bytes.Repeat([]byte{3}, 32), t0); err != nil {
		t.Fatalf("touch of an unknown session = %v, want nil", err)
	}
	if err := e.CreateSession(ctx, session(4, a.ID+100, t0, t0.Add(time.Hour))); err == nil {
		t.Fatal("a session of a missing account was stored")
	}
}

func testSessionEnds(t *testing.T, e Engine) {
	ctx := context.Background()
	a := mustAccount(t, e, "alice", "")
	b := mustAccount(t, e, "bob", "")
	now := t0
	add := func(n byte, account int64, seen, expires time.Time) storage.Session {
		t.Helper()
		s := session(n, account, seen, expires)
		if err := e.CreateSession(ctx, s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	live := add(1, a.ID, now, now.Add(time.Hour))
	idle := add(2, a.ID, now.Add(-time.Hour), now.Add(time.Hour))
	over := add(3, a.ID, now, now)                                       // expires_at <= now
	edge := add(4, a.ID, now.Add(-30*time.Minute), now.Add(time.Second)) // seen exactly at idleSince: stays
	other := add(5, a.ID, now, now.Add(time.Hour))
	bobs := add(6, b.ID, now.Add(-time.Hour), now.Add(time.Hour))
	bobs2 := add(7, b.ID, now, now.Add(time.Hour))
	var gone []storage.Session
	for _, tt := range []struct {
		name  string
		end   func() error
		ended []storage.Session
	}{
		{"expired and idle", func() error { return e.DeleteExpiredSessions(ctx, now, now.Add(-30*time.Minute)) }, []storage.Session{idle, over, bobs}},
		{"signed out", func() error { return e.DeleteSession(ctx, live.IDMAC) }, []storage.Session{live}},
		{"signed out again", func() error { return e.DeleteSession(ctx, live.IDMAC) }, nil},
		{"nothing expired", func() error { return e.DeleteExpiredSessions(ctx, now, now.Add(-time.Hour)) }, nil},
		{"every browser of alice", func() error { return e.DeleteSessions(ctx, a.ID) }, []storage.Session{edge, other}},
		{"every browser of nobody", func() error { return e.DeleteSessions(ctx, a.ID+b.ID+100) }, nil},
		{"account erased", func() error { return e.DeleteAccount(ctx, b.ID) }, []storage.Session{bobs2}},
	} {
		if err := tt.end(); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		gone = append(gone, tt.ended...)
		for _, s := range gone {
			if _, err := e.SessionByMAC(ctx, s.IDMAC); !errors.Is(err, storage.ErrNotFound) {
				t.Fatalf("%s: session %d still there (%v)", tt.name, s.IDMAC[0], err)
			}
			if _, err := e.Slot(ctx, s.Account, storage.SessionSlotKind(s.IDMAC)); !errors.Is(err, storage.ErrNotFound) {
				t.Fatalf("%s: session %d left its key slot (%v)", tt.name, s.IDMAC[0], err)
			}
		}
		ended := map[byte]bool{}
		for _, s := range gone {
			ended[s.IDMAC[0]] = true
		}
		for _, s := range []storage.Session{live, idle, over, edge, other, bobs, bobs2} {
			if ended[s.IDMAC[0]] {
				continue
			}
			if _, err := e.SessionByMAC(ctx, s.IDMAC); err != nil {
				t.Fatalf("%s: session %d ended too (%v)", tt.name, s.IDMAC[0], err)
			}
		}
	}
	if s, err := e.Slot(ctx, a.ID, "password"); err != nil || !sameSlot(s, slot("pw-alice")) {
		t.Fatalf("alice's password slot after her sessions ended: %+v, %v", s, err)
	}
}

func testLifecycleDefaults(t *testing.T, e Engine) {
	ctx := context.Background()
	a := mustAccount(t, e, "alice", "alice@example.org")
	// An account created without a lifecycle reads as permanent and confirmed at its creation.
	want := storage.LifecycleRecord{AccountID: a.ID, Username: "alice", Email: "alice@example.org", Permanent: true, Registered: a.Created, Confirmed: a.Created}
	for name, get := range map[string]func() (*storage.LifecycleRecord, error){
		"LifecycleRecord":           func() (*storage.LifecycleRecord, error) { return e.LifecycleRecord(ctx, a.ID) },
		"LifecycleRecordByUsername": func() (*storage.LifecycleRecord, error) { return e.LifecycleRecordByUsername(ctx, "alice") },
	} {
		r, err := get()
		if err != nil || *r != want {
			t.Errorf("%s = %+v, %v; want %+v", name, r, err, want)
		}
	}
	if _, err := e.LifecycleRecord(ctx, a.ID+1); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("LifecycleRecord of a missing account = %v", err)
	}
	if _, err := e.LifecycleRecordByUsername(ctx, "bob"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("LifecycleRecordByUsername of a missing account = %v", err)
	}
	called := false
	err := e.UpdateLifecycle(ctx, a.ID+1, func(storage.LifecycleTx, *storage.LifecycleRecord) error { called = true; return nil })
	if !errors.Is(err, storage.ErrNotFound) || called {
		t.Errorf("UpdateLifecycle of a missing account = %v (fn called: %v)", err, called)
	}
	// Saving the defaults writes them.
	err = e.UpdateLifecycle(ctx, a.ID, func(tx storage.LifecycleTx, r *storage.LifecycleRecord) error {
		r.Permanent = false
		r.TrialEnd = t0
		return tx.Save(r)
	})
	if err != nil {
		t.Fatal(err)
	}
	want.Permanent, want.TrialEnd = false, t0
	if r, err := e.LifecycleRecord(ctx, a.ID); err != nil || *r != want {
		t.Errorf("after Save = %+v, %v; want %+v", r, err, want)
	}
}

func testLifecycleStart(t *testing.T, e Engine) {
	ctx := context.Background()
	start := storage.LifecycleRecord{Registered: t0, TrialEnd: t0.Add(14 * 24 * time.Hour), Plan: "trial"}
	a, err := e.CreateAccount(ctx, storage.NewAccount{Username: "alice", Email: "alice@example.org", DisplayName: "Alice",
		Slots: slots(nil, nil),
		Lifecycle: &storage.LifecycleStart{Record: start, Events: []storage.NewEvent{
			{Kind: "registered", Detail: "web", At: t0, OnceKey: "registered", Mail: true},
			{Kind: "trial-started", At: t0.Add(time.Second)},
			{Kind: "registered", At: t0, OnceKey: "registered", Mail: true}, // once: dropped
		}}})
	if err != nil {
		t.Fatal(err)
	}
	want := start
	want.AccountID, want.Username, want.Email, want.DisplayName = a.ID, "alice", "alice@example.org", "Alice"
	r, err := e.LifecycleRecord(ctx, a.ID)
	if err != nil || *r != want {
		t.Fatalf("LifecycleRecord = %+v, %v; want %+v", r, err, want)
	}
	evs, err := e.Events(ctx, a.ID)
	if err != nil || len(evs) != 2 {
		t.Fatalf("Events = %+v, %v", evs, err)
	}
	if evs[0].Kind != "registered" || evs[0].Detail != "web" || !evs[0].At.Equal(t0) || evs[0].At.Location() != time.UTC || evs[0].Mail != "queued" || evs[0].AccountID != a.ID ||
		evs[1].Kind != "trial-started" || evs[1].Detail != "" || evs[1].Mail != "none" || evs[1].ID <= evs[0].ID {
		t.Fatalf("Events = %+v", evs)
	}
	// Every field saved, and back to NULL.
	full := storage.LifecycleRecord{Permanent: true, Registered: t0.Add(-time.Hour), Confirmed: t0.Add(time.Minute), TrialEnd: t0.Add(time.Hour),
		PaidThrough: t0.Add(1000 * time.Hour), Plan: "pro", Purging: t0.Add(2000 * time.Hour)}
	for _, saved := range []storage.LifecycleRecord{full, {Registered: t0}} {
		err = e.UpdateLifecycle(ctx, a.ID, func(tx storage.LifecycleTx, r *storage.LifecycleRecord) error {
			s := saved
			s.AccountID, s.Username, s.Email, s.DisplayName = r.AccountID, r.Username, r.Email, r.DisplayName
			return tx.Save(&s)
		})
		if err != nil {
			t.Fatal(err)
		}
		want := saved
		want.AccountID, want.Username, want.Email, want.DisplayName = a.ID, "alice", "alice@example.org", "Alice"
		if r, err := e.LifecycleRecord(ctx, a.ID); err != nil || *r != want {
			t.Fatalf("after Save = %+v, %v; want %+v", r, err, want)
		}
	}
	// The address and display name change through the transaction too.
	err = e.UpdateLifecycle(ctx, a.ID, func(tx storage.LifecycleTx, r *storage.LifecycleRecord) error {
		if err := tx.SetEmail("new@example.org"); err != nil {
			return err
		}
		return tx.SetDisplayName("Alice B.")
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := e.AccountByUsername(ctx, "alice"); err != nil || got.Email != "new@example.org" || got.DisplayName != "Alice B." {
		t.Fatalf("after SetEmail and SetDisplayName: %+v, %v", got, err)
	}
	if got, err := e.AccountByEmail(ctx, "NEW@example.org"); err != nil || got.ID != a.ID {
		t.Fatalf("AccountByEmail of the new address: %+v, %v", got, err)
	}
	if _, err := e.AccountByEmail(ctx, "alice@example.org"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("AccountByEmail of the old address: %v", err)
	}
	if r, err := e.LifecycleRecordByUsername(ctx, "alice"); err != nil || r.Email != "new@example.org" || r.DisplayName != "Alice B." {
		t.Fatalf("LifecycleRecordByUsername after SetEmail: %+v, %v", r, err)
	}
}

func testLifecycleRollback(t *testing.T, e Engine) {
	ctx := context.Background()
	a := mustAccount(t, e, "alice", "alice@example.org")
	if err := e.CreateVouchers(ctx, []storage.Voucher{{CodeHash: []byte("code"), Plan: "pro", Days: 30}}, t0); err != nil {
		t.Fatal(err)
	}
	before, err := e.LifecycleRecord(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("changed my mind")
	err = e.UpdateLifecycle(ctx, a.ID, func(tx storage.LifecycleTx, r *storage.LifecycleRecord) error {
		r.Permanent, r.PaidThrough, r.Plan = false, t0.Add(time.Hour), "pro"
		if err := tx.Save(r); err != nil {
			return err
		}
		if ok, err := tx.AddEvent(storage.NewEvent{Kind: "paid", At: t0, OnceKey: "paid:1", Mail: true}); err != nil || !ok {
			return fmt.Errorf("AddEvent = %v, %v", ok, err)
		}
		if ok, _, err := tx.AddPayment("tx-1", "pro", t0.Add(time.Hour), t0); err != nil || !ok {
			return fmt.Errorf("AddPayment = %v, %v", ok, err)
		}
		if _, _, err := tx.RedeemVoucher([]byte("code"), t0); err != nil {
			return err
		}
		if err := tx.SetEmail("new@example.org"); err != nil {
			return err
		}
		if err := tx.SetDisplayName("New"); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("UpdateLifecycle = %v, want fn's error", err)
	}
	if r, err := e.LifecycleRecord(ctx, a.ID); err != nil || *r != *before {
		t.Errorf("record after a rollback = %+v, %v; want %+v", r, err, before)
	}
	if evs, err := e.Events(ctx, a.ID); err != nil || len(evs) != 0 {
		t.Errorf("events after a rollback = %+v, %v", evs, err)
	}
	if keys, err := e.OnceKeys(ctx); err != nil || len(keys) != 0 {
		t.Errorf("once-keys after a rollback = %v, %v", keys, err)
	}
	if due := claimAll(t, e, storage.JobMail, t0); len(due) != 0 {
		t.Errorf("mails due after a rollback = %+v", due)
	}
	if got, err := e.AccountByUsername(ctx, "alice"); err != nil || got.Email != "alice@example.org" || got.DisplayName != "" {
		t.Errorf("account after a rollback = %+v, %v", got, err)
	}
	// Everything the rolled-back transaction did can be done again.
	err = e.UpdateLifecycle(ctx, a.ID, func(tx storage.LifecycleTx, r *storage.LifecycleRecord) error {
		if ok, err := tx.AddEvent(storage.NewEvent{Kind: "paid", At: t0, OnceKey: "paid:1"}); err != nil || !ok {
			t.Errorf("AddEvent after a rollback = %v, %v", ok, err)
		}
		if ok, owner, err := tx.AddPayment("tx-1", "pro", t0, t0); err != nil || !ok || owner != a.ID {
			t.Errorf("AddPayment after a rollback = %v, %d, %v", ok, owner, err)
		}
		if plan, days, err := tx.RedeemVoucher([]byte("code"), t0); err != nil || plan != "pro" || days != 30 {
			t.Errorf("RedeemVoucher after a rollback = %s, %d, %v", plan, days, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func testOnceKeys(t *testing.T, e Engine) {
	ctx := context.Background()
	a := mustAccount(t, e, "alice", "")
	b := mustAccount(t, e, "bob", "")
	add := func(account int64, ev storage.NewEvent) bool {
		t.Helper()
		var added bool
		err := e.UpdateLifecycle(ctx, account, func(tx storage.LifecycleTx, r *storage.LifecycleRecord) error {
			var err error
			added, err = tx.AddEvent(ev)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return added
	}
	for i, tt := range []struct {
		account int64
		ev      storage.NewEvent
		want    bool
	}{
		{a.ID, storage.NewEvent{Kind: "expiring", At: t0, OnceKey: "expiring:1"}, true},
		{a.ID, storage.NewEvent{Kind: "expiring", At: t0.Add(time.Hour), OnceKey: "expiring:1"}, false},
		{a.ID, storage.NewEvent{Kind: "expiring", At: t0, OnceKey: "expiring:2"}, true},
		{b.ID, storage.NewEvent{Kind: "expiring", At: t0, OnceKey: "expiring:1"}, true}, // once per account
		{a.ID, storage.NewEvent{Kind: "settings", At: t0}, true},                        // no key: every time
		{a.ID, storage.NewEvent{Kind: "settings", At: t0}, true},
	} {
		if got := add(tt.account, tt.ev); got != tt.want {
			t.Errorf("event %d: added %v, want %v", i, got, tt.want)
		}
	}
	// Two in one transaction: the second is dropped.
	err := e.UpdateLifecycle(ctx, b.ID, func(tx storage.LifecycleTx, r *storage.LifecycleRecord) error {
		for i, want := range []bool{true, false} {
			if ok, err := tx.AddEvent(storage.NewEvent{Kind: "k", At: t0, OnceKey: "same"}); err != nil || ok != want {
				t.Errorf("AddEvent %d in one transaction = %v, %v; want %v", i, ok, err, want)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	keys, err := e.OnceKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[int64]map[string]bool{a.ID: {"expiring:1": true, "expiring:2": true}, b.ID: {"expiring:1": true, "same": true}}
	if fmt.Sprint(keys) != fmt.Sprint(want) {
		t.Errorf("OnceKeys = %v, want %v", keys, want)
	}
	evs, err := e.Events(ctx, a.ID)
	if err != nil || len(evs) != 4 {
		t.Fatalf("alice's events = %+v, %v", evs, err)
	}
	// Oldest first: in the order recorded, whatever their dates.
	for i, want := range []string{"expiring", "expiring", "settings", "settings"} {
		if evs[i].Kind != want || (i > 0 && evs[i].ID <= evs[i-1].ID) || (i == 1 && !evs[i].At.Equal(t0)) {
			t.Errorf("alice's events = %+v", evs)
		}
	}
	if evs, err := e.Events(ctx, a.ID+b.ID+100); err != nil || len(evs) != 0 {
		t.Errorf("events of a missing account = %+v, %v", evs, err)
	}
}

func testPayments(t *testing.T, e Engine) {
	ctx := context.Background()
	a := mustAccount(t, e, "alice", "")
	b := mustAccount(t, e, "bob", "")
	pay := func(account int64, txid string) (bool, int64) {
		t.Helper()
		var applied bool
		var owner int64
		err := e.UpdateLifecycle(ctx, account, func(tx storage.LifecycleTx, r *storage.LifecycleRecord) error {
			var err error
			applied, owner, err = tx.AddPayment(txid, "pro", t0.Add(30*24*time.Hour), t0)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return applied, owner
	}
	for i, tt := range []struct {
		account int64
		txid    string
		applied bool
		owner   int64
	}{
		{a.ID, "tx-1", true, a.ID},
		{a.ID, "tx-1", false, a.ID},
		{b.ID, "tx-1", false, a.ID}, // another account: reported as alice's
		{b.ID, "tx-2", true, b.ID},
		{a.ID, "TX-1", true, a.ID}, // ids are compared byte for byte
	} {
		if applied, owner := pay(tt.account, tt.txid); applied != tt.applied || owner != tt.owner {
			t.Errorf("payment %d (%s by %d) = %v, %d; want %v, %d", i, tt.txid, tt.account, applied, owner, tt.applied, tt.owner)
		}
	}
}

func testVouchers(t *testing.T, e Engine) {
	ctx := context.Background()
	a := mustAccount(t, e, "alice", "")
	b := mustAccount(t, e, "bob", "")
	if err := e.CreateVouchers(ctx, []storage.Voucher{{CodeHash: []byte("h1"), Plan: "pro", Days: 10}, {CodeHash: []byte("h2"), Plan: "family", Days: 365}}, t0); err != nil {
		t.Fatal(err)
	}
	if err := e.CreateVouchers(ctx, nil, t0); err != nil {
		t.Fatalf("no vouchers: %v", err)
	}
	// A taken code fails the whole batch.
	if err := e.CreateVouchers(ctx, []storage.Voucher{{CodeHash: []byte("h3"), Plan: "pro", Days: 1}, {CodeHash: []byte("h1"), Plan: "pro", Days: 1}}, t0); !errors.Is(err, storage.ErrExists) {
		t.Fatalf("a taken code = %v, want ErrExists", err)
	}
	// redeem runs one redemption in a transaction of its own; the
	// transaction's own failure is reported as the redemption's.
	redeem := func(account int64, code string) (string, int, error) {
		var plan string
		var days int
		var rerr error
		err := e.UpdateLifecycle(ctx, account, func(tx storage.LifecycleTx, r *storage.LifecycleRecord) error {
			plan, days, rerr = tx.RedeemVoucher([]byte(code), t0)
			return nil
		})
		if err != nil {
			return "", 0, fmt.Errorf("UpdateLifecycle: %w", err)
		}
		return plan, days, rerr
	}
	for i, tt := range []struct {
		account int64
		code    string
		plan    string
		days    int
		err     error
	}{
		{a.ID, "h1", "pro", 10, nil},
		{a.ID, "h1", "", 0, storage.ErrVoucherUsed},
		{b.ID, "h1", "", 0, storage.ErrVoucherUsed},
		{b.ID, "h3", "", 0, storage.ErrNotFound}, // the failed batch stored nothing
		{b.ID, "H2", "", 0, storage.ErrNotFound},
		{b.ID, "", "", 0, storage.ErrNotFound},
		{b.ID, "h2", "family", 365, nil},
	} {
		plan, days, err := redeem(tt.account, tt.code)
		if plan != tt.plan || days != tt.days || !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) {
			t.Errorf("redemption %d (%s by %d) = %q, %d, %v; want %q, %d, %v", i, tt.code, tt.account, plan, days, err, tt.plan, tt.days, tt.err)
		}
	}
}

func testLifecycleRecords(t *testing.T, e Engine) {
	ctx := context.Background()
	if rs, err := e.LifecycleRecords(ctx); err != nil || len(rs) != 0 {
		t.Fatalf("LifecycleRecords of an empty engine = %+v, %v", rs, err)
	}
	z := mustAccount(t, e, "zoe", "z@example.org")
	start := storage.LifecycleRecord{Registered: t0, TrialEnd: t0.Add(time.Hour)}
	a, err := e.CreateAccount(ctx, storage.NewAccount{Username: "alice", Slots: slots(nil, nil), Lifecycle: &storage.LifecycleStart{Record: start}})
	if err != nil {
		t.Fatal(err)
	}
	rs, err := e.LifecycleRecords(ctx)
	if err != nil || len(rs) != 2 {
		t.Fatalf("LifecycleRecords = %+v, %v", rs, err)
	}
	// By account id, that is as created.
	want0 := storage.LifecycleRecord{AccountID: z.ID, Username: "zoe", Email: "z@example.org", Permanent: true, Registered: z.Created, Confirmed: z.Created}
	want1 := start
	want1.AccountID, want1.Username = a.ID, "alice"
	if rs[0] != want0 || rs[1] != want1 {
		t.Fatalf("LifecycleRecords = %+v; want %+v, %+v", rs, want0, want1)
	}
}

func addEvents(t *testing.T, e Engine, account int64, evs ...storage.NewEvent) {
	t.Helper()
	err := e.UpdateLifecycle(context.Background(), account, func(tx storage.LifecycleTx, r *storage.LifecycleRecord) error {
		for _, ev := range evs {
			if _, err := tx.AddEvent(ev); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func eventIDs(t *testing.T, e Engine, account int64) []int64 {
	t.Helper()
	evs, err := e.Events(context.Background(), account)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, ev := range evs {
		ids = append(ids, ev.ID)
	}
	return ids
}

func testSettings(t *testing.T, e Engine) {
	ctx := context.Background()
	if v, ok, err := e.Setting(ctx, "k"); err != nil || ok || v != "" {
		t.Fatalf("an unset setting = %q, %v, %v", v, ok, err)
	}
	for _, tt := range []struct{ key, value string }{{"k", "v1"}, {"k", "v2"}, {"other", ""}, {"K", "upper"}} {
		if err := e.PutSetting(ctx, tt.key, tt.value); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct {
		key, value string
		ok         bool
	}{{"k", "v2", true}, {"other", "", true}, {"K", "upper", true}, {"missing", "", false}} {
		if v, ok, err := e.Setting(ctx, tt.key); err != nil || ok != tt.ok || v != tt.value {
			t.Errorf("Setting(%q) = %q, %v, %v; want %q, %v", tt.key, v, ok, err, tt.value, tt.ok)
		}
	}
}
