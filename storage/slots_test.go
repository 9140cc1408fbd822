package storage

import (
	"context"
	"errors"
	"testing"

	"github.com/coffer-dav/coffer/encryption"
)

// TestSetCredentials: the password hash and the slots change together,
// other slots stay, and a missing account is ErrNotFound.
func TestSetCredentials(t *testing.T) {
	ctx := context.Background()
	db, _, _ := testSpace(t)
	acct, err := db.AccountByUsername(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	slot := func(s string) encryption.Slot { return encryption.Slot{KDF: s, Wrapped: []byte(s)} }
	if err := db.SetCredentials(ctx, acct.ID, "phc-1", map[string]encryption.Slot{"password": slot("p1"), "recovery": slot("r1")}); err != nil {
		t.Fatal(err)
	}
	if err := db.SetCredentials(ctx, acct.ID, "", map[string]encryption.Slot{"escrow": slot("e1"), "recovery": slot("r2")}); err != nil {
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
	if a, _ := db.AccountByUsername(ctx, "alice"); a.PasswordPHC != "phc-1" {
		t.Errorf("password hash = %q, want phc-1 (an empty phc keeps it)", a.PasswordPHC)
	}
	if err := db.SetCredentials(ctx, acct.ID+100, "phc", map[string]encryption.Slot{"escrow": slot("x")}); !errors.Is(err, ErrNotFound) {
		t.Errorf("SetCredentials of a missing account = %v, want ErrNotFound", err)
	}
}
