package storage

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
)

// TestRecreatedAccountRefusesOldTokens: an account erased and created again
// under its name counts from a fresh random start, so a device still
// holding a token of the old account's collection gets ErrBadRevision
// (valid-sync-token), never a silent gap, however much the new one changed.
func TestRecreatedAccountRefusesOldTokens(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "coffer.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var token int64
	for round := range 2 {
		s := newUserSpace(t, db, "alice")
		c := mustCollection(t, s, "work")
		for i := range 3 + round {
			o, err := s.PutObject(ctx, c.ID, PutOptions{Name: fmt.Sprintf("%d.ics", i), Body: []byte("x")})
			if err != nil {
				t.Fatal(err)
			}
			if round == 0 && i == 1 {
				token = o.Object.Revision
			}
		}
		if round == 1 {
			if changes, _, err := s.Changes(ctx, c.ID, token); !errors.Is(err, ErrBadRevision) {
				t.Fatalf("the old account's token %d on the new one: %d changes, %v; want ErrBadRevision", token, len(changes), err)
			}
			break
		}
		if err := db.DeleteAccount(ctx, s.(*sealedSpace).user); err != nil {
			t.Fatal(err)
		}
	}
}
