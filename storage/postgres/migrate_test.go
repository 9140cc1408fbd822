package postgres

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coffer-dav/coffer/encryption"
	"github.com/coffer-dav/coffer/storage"
	"github.com/coffer-dav/coffer/storage/storagetest"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// schemaVersions returns the versions coffer_schema records, in order.
func schemaVersions(t *testing.T, dsn string) []int {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT version FROM coffer_schema ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	vs, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		t.Fatal(err)
	}
	return vs
}

// wantVersions returns the embedded migrations' versions.
func wantVersions(t *testing.T) []int {
	t.Helper()
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	var vs []int
	for _, m := range ms {
		vs = append(vs, m.version)
	}
	return vs
}

// TestOpenConcurrently: instances that start at once on an empty database
// all open it, and each migration is applied once.
func TestOpenConcurrently(t *testing.T) {
	dsn := storagetest.Postgres(t)
	ctx := context.Background()
	const n = 6
	dbs := make([]*DB, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { dbs[i], errs[i] = Open(ctx, dsn, Options{MaxConns: 2}) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("instance %d: %v", i, err)
		}
		defer dbs[i].Close()
	}
	if got, want := fmt.Sprint(schemaVersions(t, dsn)), fmt.Sprint(wantVersions(t)); got != want {
		t.Fatalf("schema versions %s, want %s", got, want)
	}
	// Each instance sees the others' writes.
	if _, err := dbs[0].CreateAccount(ctx, newAccount("alice")); err != nil {
		t.Fatal(err)
	}
	if a, err := dbs[n-1].AccountByUsername(ctx, "alice"); err != nil || a.Username != "alice" {
		t.Fatalf("another instance: %+v, %v", a, err)
	}
}

// TestOpenAgain: opening a database that is up to date applies nothing
// and keeps its data.
func TestOpenAgain(t *testing.T) {
	dsn := storagetest.Postgres(t)
	ctx := context.Background()
	db, err := Open(ctx, dsn, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateAccount(ctx, newAccount("alice")); err != nil {
		t.Fatal(err)
	}
	db.Close()
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if n, err := migrate(ctx, pool); err != nil || n != 0 {
		t.Fatalf("migrate of an up-to-date database applied %d (%v)", n, err)
	}
	db, err = Open(ctx, dsn, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if n, err := db.CountAccounts(ctx); err != nil || n != 1 {
		t.Fatalf("accounts after a second Open: %d, %v", n, err)
	}
}

// TestNewerSchemaRefused: a database migrated by a newer Coffer is not
// touched by an older one.
func TestNewerSchemaRefused(t *testing.T) {
	dsn := storagetest.Postgres(t)
	ctx := context.Background()
	db, err := Open(ctx, dsn, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.pool.Exec(ctx, `INSERT INTO coffer_schema (version, name) VALUES (9999, '9999_future.sql')`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if db, err := Open(ctx, dsn, Options{}); err == nil || !strings.Contains(err.Error(), "newer") {
		if db != nil {
			db.Close()
		}
		t.Fatalf("Open of a newer schema = %v", err)
	}
}

// TestFailedMigrationChangesNothing: a migration that fails leaves the
// database as it was, the versions before it included.
func TestFailedMigrationChangesNothing(t *testing.T) {
	dsn := storagetest.Postgres(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	// A table in the way of the first migration's.
	if _, err := conn.Exec(ctx, `CREATE TABLE settings (x int)`); err != nil {
		t.Fatal(err)
	}
	if db, err := Open(ctx, dsn, Options{}); err == nil {
		db.Close()
		t.Fatal("Open migrated over a table in the way")
	}
	var tables int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_tables WHERE schemaname = 'public'`).Scan(&tables); err != nil || tables != 1 {
		t.Fatalf("%d tables after a failed migration (%v), want only the one in the way", tables, err)
	}
}

// TestAccountRowsCascade: every table that refers to accounts goes with
// its account (ON DELETE CASCADE), so that tables added later cannot keep
// rows of a deleted account; a redeemed voucher only forgets its redeemer.
func TestAccountRowsCascade(t *testing.T) {
	dsn := storagetest.Postgres(t)
	ctx := context.Background()
	db, err := Open(ctx, dsn, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.pool.Query(ctx, `SELECT conrelid::regclass::text, confdeltype::text FROM pg_constraint WHERE contype = 'f' AND confrelid = 'accounts'::regclass ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	type fk struct{ Table, Action string }
	fks, err := pgx.CollectRows(rows, pgx.RowToStructByPos[fk])
	if err != nil {
		t.Fatal(err)
	}
	if len(fks) == 0 {
		t.Fatal("no table refers to accounts")
	}
	for _, f := range fks {
		want := "c" // CASCADE
		if f.Table == "vouchers" {
			want = "n" // SET NULL
		}
		if f.Action != want {
			t.Errorf("%s refers to accounts with ON DELETE %q, want %q", f.Table, f.Action, want)
		}
	}
}

// TestComparedTextIsBytes: the text that is compared or ordered is
// COLLATE "C", so that ordering and lower() are SQLite's whatever the
// database's locale.
func TestComparedTextIsBytes(t *testing.T) {
	dsn := storagetest.Postgres(t)
	ctx := context.Background()
	db, err := Open(ctx, dsn, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, c := range [][2]string{
		{"accounts", "username"}, {"accounts", "email"}, {"key_slots", "kind"}, {"app_passwords", "id"},
		{"account_events", "once_key"}, {"payments", "transaction_id"}, {"settings", "key"},
		{"collections", "home"}, {"collections", "kind"}, {"scope_props", "scope"}, {"account_props", "scope"},
	} {
		var collation *string
		err := db.pool.QueryRow(ctx, `SELECT collation_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1 AND column_name = $2`, c[0], c[1]).Scan(&collation)
		if err != nil || collation == nil || *collation != "C" {
			t.Errorf("%s.%s: collation %v (%v), want C", c[0], c[1], collation, err)
		}
	}
}

// TestOpenHidesTheDSN: a connection string that cannot be read is not
// repeated in the error, since it may hold a password.
func TestOpenHidesTheDSN(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := Open(ctx, "postgres://coffer:s3cret-pw@[::1/coffer?sslmode=x", Options{})
	if err == nil || strings.Contains(err.Error(), "s3cret-pw") {
		t.Fatalf("Open = %v", err)
	}
}

// newAccount describes an account without key slots.
func newAccount(username string) storage.NewAccount {
	return storage.NewAccount{Username: username, Slots: func(int64) (map[string]encryption.Slot, error) { return nil, nil }}
}
