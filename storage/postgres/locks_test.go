package postgres_test

import (
	"context"
	"os"
	"testing"

	"github.com/coffer-dav/coffer/storage"
	"github.com/coffer-dav/coffer/storage/postgres"
	"github.com/coffer-dav/coffer/storage/storagetest"
)

// TestLocksContract runs the named locks' contract with two engines, each
// with its own pool, on one database, as two instances hold them.
func TestLocksContract(t *testing.T) {
	if os.Getenv(storagetest.PostgresEnv) == "" {
		storagetest.Postgres(t) // skips, or fails under CI
	}
	storagetest.Locks(t, func(t *testing.T) (storage.Locks, storage.Locks) {
		dsn := storagetest.Postgres(t)
		var dbs [2]*postgres.DB
		for i := range dbs {
			db, err := postgres.Open(context.Background(), dsn, postgres.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			dbs[i] = db
		}
		return dbs[0], dbs[1]
	})
}
