package storage_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/coffer-dav/coffer/encryption"
	"github.com/coffer-dav/coffer/storage"
	"github.com/coffer-dav/coffer/storage/storagetest"
)

// TestSpaceContract runs the Space role's contract against the SQLite
// engine, whose behaviour the contract states.
func TestSpaceContract(t *testing.T) {
	storagetest.Space(t, sqliteSpaces)
}

// sqliteSpaces opens a fresh SQLite database, as TestLimitsContract does,
// and returns what makes a new user's space on it.
func sqliteSpaces(t *testing.T) func(t *testing.T, username string) storage.Space {
	db, err := storage.Open(context.Background(), filepath.Join(t.TempDir(), "coffer.db"), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return func(t *testing.T, username string) storage.Space {
		t.Helper()
		keys, err := encryption.NewKeyring(make([]byte, encryption.KeySize))
		if err != nil {
			t.Fatal(err)
		}
		acct, err := db.CreateAccount(context.Background(), storage.NewAccount{Username: username,
			Slots: func(int64) (map[string]encryption.Slot, error) { return nil, nil }})
		if err != nil {
			t.Fatal(err)
		}
		return db.Space(acct.ID, keys)
	}
}
