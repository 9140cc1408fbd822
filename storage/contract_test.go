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
