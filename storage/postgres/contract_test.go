package postgres_test

import (
	"context"
	"os"
	"testing"

	"github.com/coffer-dav/coffer/storage/postgres"
	"github.com/coffer-dav/coffer/storage/storagetest"
)

// TestRolesContract runs the account-side roles' contract, which the
// SQLite engine states, against PostgreSQL: a fresh database for each case.
func TestRolesContract(t *testing.T) {
	if os.Getenv(storagetest.PostgresEnv) == "" {
		storagetest.Postgres(t) // skips, or fails under CI
	}
	storagetest.Roles(t, func(t *testing.T) storagetest.Engine {
		db, err := postgres.Open(context.Background(), storagetest.Postgres(t), postgres.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return db
	})
}
