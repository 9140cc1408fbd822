package auth

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/coffer-dav/coffer/encryption"
)

// slotStore adds SetCredentials to memStore.
type slotStore struct{ *memStore }

func (s slotStore) SetCredentials(ctx context.Context, account int64, slots map[string]encryption.Slot) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.creds {
		if c.AccountID != account {
			continue
		}
		for kind, slot := range slots {
			switch kind {
			case "password":
				c.PasswordSlot = slot
			case "recovery":
				c.RecoverySlot = slot
			case "escrow":
				c.EscrowSlot = slot
			default:
				return errors.New("unexpected slot kind " + kind)
			}
		}
		return nil
	}
	return errors.New("no such account")
}

// newRecoveryService returns a service over st with alice enrolled (account
// 1, password "alice-password"), and alice's recovery code.
func newRecoveryService(t *testing.T, st Store, escrow *encryption.EscrowPublicKey) (*Service, string) {
	t.Helper()
	s := serviceOver(t, st, escrow)
	e, err := s.Enroll("alice-password")
	if err != nil {
		t.Fatal(err)
	}
	slots, err := e.Slots(1)
	if err != nil {
		t.Fatal(err)
	}
	ms := st.(interface{ mem() *memStore }).mem()
	ms.creds["alice"] = &Credentials{AccountID: 1, Username: "alice",
		PasswordSlot: slots["password"], RecoverySlot: slots["recovery"], EscrowSlot: slots["escrow"]}
	return s, e.RecoveryCode
}

// serviceOver returns a fresh service (an empty login cache) over st.
func serviceOver(t *testing.T, st Store, escrow *encryption.EscrowPublicKey) *Service {
	t.Helper()
	s, err := New(st, Options{KDF: testKDF, ServerSecret: make([]byte, 32), Escrow: escrow})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (m *memStore) mem() *memStore { return m }

// TestRecover: the recovery code and a new password give access back; the
// old password and the old code stop working at once, the new code works,
// and the user key, so the data, is the same.
func TestRecover(t *testing.T) {
	ctx := context.Background()
	st := slotStore{&memStore{creds: map[string]*Credentials{}}}
	s, code := newRecoveryService(t, st, nil)
	before, err := s.Login(ctx, "alice", "alice-password") // cached from now on
	if err != nil {
		t.Fatal(err)
	}
	refused := []struct {
		name, user, code, password string
		want                       error
	}{
		{"wrong code", "alice", "AAAAA-AAAAA-AAAAA-AAAAA-AAAAA-A", "new-alice-password", ErrBadCredentials},
		{"password as code", "alice", "alice-password", "new-alice-password", ErrBadCredentials},
		{"unknown user", "bob", code, "new-alice-password", ErrBadCredentials},
		{"short new password", "alice", code, "short", nil},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			_, got, err := s.Recover(ctx, tt.user, tt.code, tt.password)
			if err == nil || got != "" || (tt.want != nil && !errors.Is(err, tt.want)) {
				t.Fatalf("Recover = %q, %v; want %v", got, err, tt.want)
			}
		})
	}
	id, newCode, err := s.Recover(ctx, "alice", code, "new-alice-password")
	if err != nil {
		t.Fatal(err)
	}
	if newCode == "" || NormalizeSecret(newCode) == NormalizeSecret(code) {
		t.Fatalf("new recovery code %q", newCode)
	}
	if !bytes.Equal(id.Keys.UserKey(), before.Keys.UserKey()) {
		t.Fatal("recovery changed the user key")
	}
	checks := []struct {
		name, secret string
		unlock       bool // Unlock (password or recovery code) rather than Login
		ok           bool
	}{
		{"old password, cached before", "alice-password", false, false},
		{"new password", "new-alice-password", false, true},
		{"old code", code, true, false},
		{"new code", newCode, true, true},
		{"new code, typed loosely", " " + newCode[:6] + " " + newCode[6:], true, true},
	}
	for _, svc := range []struct {
		name string
		s    *Service
	}{{"same service", s}, {"after a restart", serviceOver(t, st, nil)}} {
		for _, tt := range checks {
			t.Run(svc.name+"/"+tt.name, func(t *testing.T) {
				var got *Identity
				var err error
				if tt.unlock {
					got, err = svc.s.Unlock(ctx, "alice", tt.secret)
				} else {
					got, err = svc.s.Login(ctx, "alice", tt.secret)
				}
				if tt.ok && (err != nil || !bytes.Equal(got.Keys.UserKey(), before.Keys.UserKey())) {
					t.Fatalf("= %v, want the same user key", err)
				}
				if !tt.ok && !errors.Is(err, ErrBadCredentials) {
					t.Fatalf("= %v, want ErrBadCredentials", err)
				}
			})
		}
	}
	if _, _, err := s.Recover(ctx, "alice", code, "third-alice-password"); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("Recover with the used code = %v", err)
	}
}

// TestRecoverNeedsSlotStore: a store that cannot write several slots at
// once refuses recovery rather than changing half of it.
func TestRecoverNeedsSlotStore(t *testing.T) {
	ctx := context.Background()
	s, code := newRecoveryService(t, &memStore{creds: map[string]*Credentials{}}, nil)
	if _, _, err := s.Recover(ctx, "alice", code, "new-alice-password"); !errors.Is(err, ErrRecoveryOff) {
		t.Fatalf("Recover = %v, want ErrRecoveryOff", err)
	}
	if _, err := s.Login(ctx, "alice", "alice-password"); err != nil {
		t.Fatalf("the password stopped working: %v", err)
	}
}

// TestEscrowSlot: with an escrow key configured, new accounts get an escrow
// slot at once, existing ones at their next login (and again when the key
// changes), and the offline private key restores access.
func TestEscrowSlot(t *testing.T) {
	ctx := context.Background()
	priv, err := encryption.GenerateEscrowKey()
	if err != nil {
		t.Fatal(err)
	}
	ad := encryption.SlotAD(1, "escrow")
	secret := make([]byte, 32)

	// At enrollment.
	st := slotStore{&memStore{creds: map[string]*Credentials{}}}
	s, _ := newRecoveryService(t, st, priv.Public())
	id, err := s.Login(ctx, "alice", "alice-password")
	if err != nil {
		t.Fatal(err)
	}
	if k, err := encryption.OpenEscrow(st.creds["alice"].EscrowSlot, priv, secret, ad); err != nil || !bytes.Equal(k, id.Keys.UserKey()) {
		t.Fatalf("escrow slot at enrollment: %v", err)
	}

	// At the next login, for an account enrolled without escrow, by each kind of login.
	logins := []struct {
		name  string
		login func(s *Service, code string) error
	}{
		{"password", func(s *Service, _ string) error { _, err := s.Login(ctx, "alice", "alice-password"); return err }},
		{"recovery code", func(s *Service, code string) error { _, err := s.Unlock(ctx, "alice", code); return err }},
	}
	for _, tt := range logins {
		t.Run(tt.name, func(t *testing.T) {
			st := slotStore{&memStore{creds: map[string]*Credentials{}}}
			_, code := newRecoveryService(t, st, nil)
			if st.creds["alice"].EscrowSlot.Wrapped != nil {
				t.Fatal("an escrow slot without an escrow key")
			}
			s := serviceOver(t, st, priv.Public())
			if _, _, err := s.RecoverWithEscrow(ctx, "alice", priv, "new-alice-password"); !errors.Is(err, ErrNoEscrowSlot) {
				t.Fatalf("RecoverWithEscrow before the slot exists = %v", err)
			}
			if err := tt.login(s, code); err != nil {
				t.Fatal(err)
			}
			if !priv.Public().SealedTo(st.creds["alice"].EscrowSlot) {
				t.Fatal("no escrow slot after the login")
			}
			// A new escrow key: the slot is resealed at the next login.
			priv2, _ := encryption.GenerateEscrowKey()
			s2 := serviceOver(t, st, priv2.Public())
			if err := tt.login(s2, code); err != nil {
				t.Fatal(err)
			}
			if !priv2.Public().SealedTo(st.creds["alice"].EscrowSlot) {
				t.Fatal("the escrow slot was not resealed to the new key")
			}
			if _, _, err := s2.RecoverWithEscrow(ctx, "alice", priv, "new-alice-password"); !errors.Is(err, encryption.ErrEscrowKey) {
				t.Fatalf("RecoverWithEscrow with the retired key = %v", err)
			}
		})
	}

	// Recovery with the private key.
	before := id.Keys.UserKey()
	oldRecovery := st.creds["alice"].RecoverySlot
	other, _ := encryption.GenerateEscrowKey()
	if _, _, err := s.RecoverWithEscrow(ctx, "alice", other, "new-alice-password"); !errors.Is(err, encryption.ErrEscrowKey) {
		t.Fatalf("RecoverWithEscrow with another key = %v", err)
	}
	if _, _, err := s.RecoverWithEscrow(ctx, "bob", priv, "new-alice-password"); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("RecoverWithEscrow of an unknown user = %v", err)
	}
	got, code, err := s.RecoverWithEscrow(ctx, "alice", priv, "new-alice-password")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Keys.UserKey(), before) || bytes.Equal(st.creds["alice"].RecoverySlot.Wrapped, oldRecovery.Wrapped) {
		t.Fatal("escrow recovery changed the user key or kept the recovery slot")
	}
	if _, err := s.Login(ctx, "alice", "alice-password"); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("old password after escrow recovery = %v", err)
	}
	if _, err := s.Login(ctx, "alice", "new-alice-password"); err != nil {
		t.Fatalf("new password after escrow recovery: %v", err)
	}
	if _, err := s.Unlock(ctx, "alice", code); err != nil {
		t.Fatalf("new recovery code after escrow recovery: %v", err)
	}
}
