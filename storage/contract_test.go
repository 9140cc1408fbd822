package storage_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/coffer-dav/coffer/storage"
	"github.com/coffer-dav/coffer/storage/storagetest"
)

// TestRolesContract runs the account-side roles' contract against the
// SQLite engine, whose behaviour the contract states.
func TestRolesContract(t *testing.T) {
	storagetest.Roles(t, func(t *testing.T) storagetest.Engine {
		db, err := storage.Open(context.Background(), filepath.Join(t.TempDir(), "coffer.db"), storage.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return db
	})
}

// TestInstancesContract runs the several-instances part of the contract
// with two SQLite engines on one file: SQLite serves one process, but
// nothing that these roles answer may come from a copy one engine keeps.
func TestInstancesContract(t *testing.T) {
	storagetest.Instances(t, func(t *testing.T) (storagetest.Engine, storagetest.Engine) { return openSQLitePair(t) })
}

// TestLocksContract runs the named locks' contract with two SQLite
// engines on one file, as one process holds them.
func TestLocksContract(t *testing.T) {
	storagetest.Locks(t, func(t *testing.T) (storage.Locks, storage.Locks) {
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
		return dbs[0], dbs[1]
	})
}
