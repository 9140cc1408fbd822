package postgres_test

import (
	"context"
	"os"
	"testing"

	"github.com/coffer-dav/coffer/storage"
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

// TestInstancesContract runs the several-instances part of the contract
// with two engines, each with its own connection pool, on one database.
func TestInstancesContract(t *testing.T) {
	if os.Getenv(storagetest.PostgresEnv) == "" {
		storagetest.Postgres(t) // skips, or fails under CI
	}
	storagetest.Instances(t, func(t *testing.T) (storagetest.Engine, storagetest.Engine) { return openPostgresPair(t) })
}

// TestLoginFailuresContract runs the throttle role's contract on one
// engine, then on two engines, each with its own pool, on one database.
func TestLoginFailuresContract(t *testing.T) {
	if os.Getenv(storagetest.PostgresEnv) == "" {
		storagetest.Postgres(t) // skips, or fails under CI
	}
	open := func(t *testing.T, dsn string) *postgres.DB {
		db, err := postgres.Open(context.Background(), dsn, postgres.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	t.Run("one engine", func(t *testing.T) {
		storagetest.LoginFailures(t, func(t *testing.T) storage.LoginFailures { return open(t, storagetest.Postgres(t)) })
	})
	t.Run("two engines", func(t *testing.T) {
		storagetest.LoginFailuresInstances(t, func(t *testing.T) (storage.LoginFailures, storage.LoginFailures) {
			dsn := storagetest.Postgres(t)
			return open(t, dsn), open(t, dsn)
		})
	})
}

// TestLimitsContract runs the contract of the counts and the limits that
// writes check in their transactions against the sealed layer over
// PostgreSQL: a fresh database for each case.
func TestLimitsContract(t *testing.T) {
	if os.Getenv(storagetest.PostgresEnv) == "" {
		storagetest.Postgres(t) // skips, or fails under CI
	}
	storagetest.Limits(t, storagetest.SpacesOf(openPostgres))
}

// openPostgres opens a fresh PostgreSQL database of the test cluster.
func openPostgres(t *testing.T) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(context.Background(), storagetest.Postgres(t), postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// TestSpaceContract runs the Space role's contract, which the SQLite
// engine states, against PostgreSQL.
func TestSpaceContract(t *testing.T) {
	if os.Getenv(storagetest.PostgresEnv) == "" {
		storagetest.Postgres(t) // skips, or fails under CI
	}
	storagetest.Space(t, storagetest.SpacesOf(openPostgres))
}

// TestSpaceInstancesContract runs the several-instances part of the Space
// contract with two engines, each with its own pool, on one database.
func TestSpaceInstancesContract(t *testing.T) {
	if os.Getenv(storagetest.PostgresEnv) == "" {
		storagetest.Postgres(t) // skips, or fails under CI
	}
	storagetest.SpaceInstances(t, storagetest.SpacePairsOf(openPostgresPair))
}

// TestHooksContract runs the change hook's contract against PostgreSQL.
func TestHooksContract(t *testing.T) {
	if os.Getenv(storagetest.PostgresEnv) == "" {
		storagetest.Postgres(t) // skips, or fails under CI
	}
	storagetest.Hooks(t, openPostgres)
}
