package storage

import (
	"context"
	"errors"
	"testing"

	"github.com/coffer-dav/coffer/encryption"
)

// TestSetCredentials: the slots change together, other slots stay, the
// password stamp follows the password slot, and a missing account is
// ErrNotFound.
func TestSetCredentials(t *testing.T) {
	ctx := context.Background()
	db, _, _ := testSpace(t)
	acct, err := db.AccountByUsername(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	slot := func(s string) encryption.Slot { return encryption.Slot{KDF: s, Wrapped: []byte(s)} }
	if err := db.SetCredentials(ctx, acct.ID, map[string]encryption.Slot{"password": slot("p1"), "recovery": slot("r1")}); err != nil {
		t.Fatal(err)
	}
	if err := db.SetCredentials(ctx, acct.ID, map[string]encryption.Slot{"escrow": slot("e1"), "recovery": slot("r2")}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		kind, want string
	}{
		{"password", "p1"},
		{"recovery", "r2"},
		{"escrow", "e1"},
	}
	for _, tt := range tests {
		got, err := db.Slot(ctx, acct.ID, tt.kind)
		if err != nil || got.KDF != tt.want || string(got.Wrapped) != tt.want {
			t.Errorf("slot %s = %+v, %v; want %s", tt.kind, got, err, tt.want)
		}
	}
	if stamp, err := db.PasswordStamp(ctx, acct.ID); err != nil || stamp != "p1" {
		t.Errorf("password stamp = %q, %v; want p1", stamp, err)
	}
	if err := db.SetPassword(ctx, acct.ID, slot("p2")); err != nil {
		t.Fatal(err)
	}
	if stamp, err := db.PasswordStamp(ctx, acct.ID); err != nil || stamp != "p2" {
		t.Errorf("password stamp after SetPassword = %q, %v; want p2", stamp, err)
	}
	if got, err := db.Slot(ctx, acct.ID, "recovery"); err != nil || got.KDF != "r2" {
		t.Errorf("SetPassword changed the recovery slot: %+v, %v", got, err)
	}
	if err := db.SetCredentials(ctx, acct.ID+100, map[string]encryption.Slot{"escrow": slot("x")}); !errors.Is(err, ErrNotFound) {
		t.Errorf("SetCredentials of a missing account = %v, want ErrNotFound", err)
	}
	if err := db.SetPassword(ctx, acct.ID+100, slot("x")); !errors.Is(err, ErrNotFound) {
		t.Errorf("SetPassword of a missing account = %v, want ErrNotFound", err)
	}
	if _, err := db.PasswordStamp(ctx, acct.ID+100); !errors.Is(err, ErrNotFound) {
		t.Errorf("PasswordStamp of a missing account = %v, want ErrNotFound", err)
	}
}
