package storage_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/coffer-dav/coffer/storage"
	"github.com/coffer-dav/coffer/storage/storagetest"
)

// openSQLitePair opens two SQLite engines on one fresh file, as two
// processes would.
func openSQLitePair(t *testing.T) (*storage.DB, *storage.DB) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "coffer.db")
	var dbs [2]*storage.DB
	for i := range dbs {
		db, err := storage.Open(context.Background(), path, storage.Options{})
		if err != nil {
			t.Fatal(err)
		}
		dbs[i] = db
	}
	return dbs[0], dbs[1]
}

// TestPushContract runs the push subscriptions' contract with two SQLite
// engines on one file.
func TestPushContract(t *testing.T) {
	storagetest.Push(t, func(t *testing.T) (storagetest.PushDB, storagetest.PushDB) { return openSQLitePair(t) })
}
