package postgres_test

import (
	"context"
	"os"
	"testing"

	"github.com/coffer-dav/coffer/storage/postgres"
	"github.com/coffer-dav/coffer/storage/storagetest"
)

// openPostgresPair opens two engines, each with its own pool, on one
// fresh database of the test cluster.
func openPostgresPair(t *testing.T) (*postgres.DB, *postgres.DB) {
	t.Helper()
	dsn := storagetest.Postgres(t)
	var dbs [2]*postgres.DB
	for i := range dbs {
		db, err := postgres.Open(context.Background(), dsn, postgres.Options{})
		if err != nil {
			t.Fatal(err)
		}
		dbs[i] = db
	}
	return dbs[0], dbs[1]
}

// TestPushContract runs the push subscriptions' contract, which the
// SQLite engine states, with two engines on one database.
func TestPushContract(t *testing.T) {
	if os.Getenv(storagetest.PostgresEnv) == "" {
		storagetest.Postgres(t) // skips, or fails under CI
	}
	storagetest.Push(t, func(t *testing.T) (storagetest.PushDB, storagetest.PushDB) { return openPostgresPair(t) })
}
