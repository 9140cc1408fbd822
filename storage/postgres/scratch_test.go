package postgres_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/coffer-dav/coffer/storage/postgres"
	"github.com/coffer-dav/coffer/storage/storagetest"
)

// TestScratchNames: only plain lower-case identifiers name a scratch
// database, before any connection is made.
func TestScratchNames(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"coffer_bench_1a2b3c_postgres_2", true},
		{"_x", true},
		{strings.Repeat("a", 63), true},
		{strings.Repeat("a", 64), false},
		{"", false},
		{"1abc", false},
		{"Bench", false},
		{"a-b", false},
		{"a; DROP DATABASE postgres", false},
		{`"quoted"`, false},
	}
	// An address nothing listens on: a name that passes fails to connect.
	const admin = "host=/nonexistent-coffer-test user=postgres connect_timeout=1"
	for _, tt := range tests {
		_, err := postgres.CreateScratch(context.Background(), admin, tt.name)
		derr := postgres.DropScratch(context.Background(), admin, tt.name)
		for _, e := range []error{err, derr} {
			refused := e != nil && strings.Contains(e.Error(), "scratch database name")
			if refused == tt.ok {
				t.Errorf("%q: %v, want refused %v", tt.name, e, !tt.ok)
			}
		}
	}
}

// TestScratchDatabase: a scratch database is empty, opens as a Coffer
// database, and is gone after DropScratch, sessions and all.
func TestScratchDatabase(t *testing.T) {
	admin := os.Getenv(storagetest.PostgresEnv)
	if admin == "" {
		storagetest.Postgres(t) // skips, or fails under CI
	}
	ctx := context.Background()
	name := fmt.Sprintf("coffer_scratch_test_%d", os.Getpid())
	dsn, err := postgres.CreateScratch(ctx, admin, name)
	if err != nil {
		t.Fatal(err)
	}
	db, err := postgres.Open(ctx, dsn, postgres.Options{})
	if err != nil {
		postgres.DropScratch(ctx, admin, name)
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := postgres.CreateScratch(ctx, admin, name); err == nil {
		t.Error("a second CreateScratch of one name succeeded")
	}
	// The pool still holds sessions: the drop ends them.
	if err := postgres.DropScratch(ctx, admin, name); err != nil {
		t.Fatal(err)
	}
	if _, err := postgres.Open(ctx, dsn, postgres.Options{}); err == nil {
		t.Error("the dropped database still opens")
	}
}
