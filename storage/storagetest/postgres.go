// Package storagetest holds what the storage engines' tests share: the
// contract of the account-side roles (Roles, and Instances for several
// engines on one database), which the SQLite engine states and every other
// engine runs, the LoginFailures role's contract (LoginFailures, and
// LoginFailuresInstances for two stores on one database), the Space
// role's contract (Space: collections, objects and their preconditions and
// UIDs, the change log and its tokens, also under concurrent writers,
// properties and usage, transfers and the index; SpaceInstances for two
// engines on one database; and Limits: the counts and limits its writes
// check), which every engine runs through storage.Space alone, and
// throwaway PostgreSQL databases on the cluster that .ci/run starts.
package storagetest

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"testing"

	"github.com/coffer-dav/coffer/encryption"
	"github.com/jackc/pgx/v5"
)

// PostgresEnv names the environment variable with the connection string
// of a PostgreSQL cluster the tests may create databases on; .ci/run sets it.
const PostgresEnv = "COFFER_TEST_POSTGRES"

// Postgres returns the connection string of a new, empty database on the
// test cluster, dropped when the test ends. Without a cluster the test
// skips, or fails when CI is set: CI must run the PostgreSQL tests.
func Postgres(tb testing.TB) string {
	tb.Helper()
	admin := os.Getenv(PostgresEnv)
	if admin == "" {
		if os.Getenv("CI") != "" {
			tb.Fatalf("%s is not set: under CI the PostgreSQL tests must run (.ci/run starts a cluster)", PostgresEnv)
		}
		tb.Skipf("no PostgreSQL cluster: set %s to a connection string (e.g. host=/tmp/pg user=postgres) to run this test", PostgresEnv)
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		tb.Fatalf("connect to the test cluster (%s): %v", PostgresEnv, err)
	}
	defer conn.Close(ctx)
	suffix, err := encryption.RandomBytes(6)
	if err != nil {
		tb.Fatal(err)
	}
	name := fmt.Sprintf("coffer_test_%x", suffix)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		tb.Fatalf("create a test database: %v", err)
	}
	tb.Cleanup(func() {
		conn, err := pgx.Connect(ctx, admin)
		if err != nil {
			tb.Errorf("connect to drop %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE "+name+" WITH (FORCE)"); err != nil {
			tb.Errorf("drop %s: %v", name, err)
		}
	})
	return withDatabase(admin, name)
}

// withDatabase returns a connection string that names another database: a
// URL gets it as its path, a keyword/value string one more keyword (the
// last one counts).
func withDatabase(conn, name string) string {
	if u, err := url.Parse(conn); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		u.Path = "/" + name
		return u.String()
	}
	return conn + " dbname=" + name
}
