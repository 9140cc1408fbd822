package storage

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/coffer-dav/coffer/encryption"
)

func TestAppPasswordRecords(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := Open(ctx, filepath.Join(dir, "coffer.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	acct, err := db.CreateAccount(ctx, NewAccount{Username: "alice",
		Slots: func(int64) (map[string]encryption.Slot, error) { return nil, nil }})
	if err != nil {
		t.Fatal(err)
	}
	marker := []byte("MARKER-APP-SLOT-0123456789")
	created := time.Unix(1_700_000_000, 0).UTC()
	ps := []AppPassword{
		{ID: "one", LabelSealed: []byte("l1"), Verifier: []byte("v1"), Slot: encryption.Slot{KDF: "secret$AAAA", Wrapped: marker}, Created: created},
		{ID: "two", LabelSealed: []byte("l2"), Verifier: []byte("v2"), Slot: encryption.Slot{KDF: "secret$BBBB", Wrapped: []byte("w2")}, Created: created.Add(time.Second)},
	}
	for _, p := range ps {
		if err := db.CreateAppPassword(ctx, acct.ID, p); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.CreateAppPassword(ctx, acct.ID, ps[0]); !errors.Is(err, ErrExists) {
		t.Fatalf("duplicate id = %v, want ErrExists", err)
	}
	if err := db.TouchAppPassword(ctx, acct.ID, "two", created.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	got, err := db.AppPasswords(ctx, acct.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID != "one" || got[1].ID != "two" || !got[0].LastUsed.IsZero() ||
		!got[1].LastUsed.Equal(created.Add(time.Hour)) || !got[0].Created.Equal(created) ||
		!bytes.Equal(got[0].Slot.Wrapped, marker) || got[1].Slot.KDF != "secret$BBBB" || string(got[1].Verifier) != "v2" {
		t.Fatalf("AppPasswords = %+v", got)
	}
	if _, err := db.Slot(ctx, acct.ID, "app:one"); err != nil {
		t.Fatalf("slot app:one: %v", err)
	}

	tests := []struct {
		account int64
		id      string
		want    error
	}{
		{acct.ID, "one", nil},
		{acct.ID, "one", ErrNotFound},
		{acct.ID + 1, "two", ErrNotFound}, // another account cannot revoke it
		{acct.ID, "", ErrNotFound},
	}
	for _, tt := range tests {
		if err := db.DeleteAppPassword(ctx, tt.account, tt.id); !errors.Is(err, tt.want) {
			t.Errorf("DeleteAppPassword(%d, %q) = %v, want %v", tt.account, tt.id, err, tt.want)
		}
	}
	if _, err := db.Slot(ctx, acct.ID, "app:one"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("the revoked slot is still there: %v", err)
	}
	if err := db.TouchAppPassword(ctx, acct.ID, "one", created); !errors.Is(err, ErrNotFound) {
		t.Fatalf("touch of a revoked app password = %v", err)
	}
	// The revoked slot's bytes are gone from the file and the WAL.
	for _, name := range []string{"coffer.db", "coffer.db-wal"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		if bytes.Contains(b, marker) {
			t.Fatalf("%s still holds the revoked slot", name)
		}
	}
	// Deleting the account takes the remaining app passwords with it.
	if err := db.DeleteAccount(ctx, acct.ID); err != nil {
		t.Fatal(err)
	}
	if got, err := db.AppPasswords(ctx, acct.ID); err != nil || len(got) != 0 {
		t.Fatalf("after DeleteAccount: %+v, %v", got, err)
	}
}
