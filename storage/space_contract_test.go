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

// TestSpaceInstancesContract runs the several-instances part of the Space
// contract with two SQLite engines on one file: SQLite serves one
// process, but nothing either answers may come from what it keeps.
func TestSpaceInstancesContract(t *testing.T) {
	storagetest.SpaceInstances(t, func(t *testing.T) func(t *testing.T, username string) (storage.Space, storage.Space) {
		path := filepath.Join(t.TempDir(), "coffer.db")
		var dbs [2]*storage.DB
		for i := range dbs {
			db, err := storage.Open(context.Background(), path, storage.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			dbs[i] = db
		}
		return func(t *testing.T, username string) (storage.Space, storage.Space) {
			t.Helper()
			keys, err := encryption.NewKeyring(make([]byte, encryption.KeySize))
			if err != nil {
				t.Fatal(err)
			}
			acct, err := dbs[0].CreateAccount(context.Background(), storage.NewAccount{Username: username,
				Slots: func(int64) (map[string]encryption.Slot, error) { return nil, nil }})
			if err != nil {
				t.Fatal(err)
			}
			return dbs[0].Space(acct.ID, keys), dbs[1].Space(acct.ID, keys)
		}
	})
}
