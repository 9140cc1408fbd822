package storagetest

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
)

// TestPostgresGivesAnEmptyDatabase: the fixture's database is new, empty,
// writable and another one for each call.
func TestPostgresGivesAnEmptyDatabase(t *testing.T) {
	ctx := context.Background()
	var names [2]string
	for i := range names {
		conn, err := pgx.Connect(ctx, Postgres(t))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		var tables int
		if err := conn.QueryRow(ctx, `SELECT current_database(), count(*) FROM pg_tables WHERE schemaname = 'public'`).Scan(&names[i], &tables); err != nil {
			t.Fatal(err)
		}
		if tables != 0 {
			t.Fatalf("database %s has %d tables, want none", names[i], tables)
		}
		if _, err := conn.Exec(ctx, `CREATE TABLE t (v bytea NOT NULL)`); err != nil {
			t.Fatal(err)
		}
	}
	if names[0] == names[1] {
		t.Fatalf("both calls gave database %s", names[0])
	}
}

// TestWithDatabase: both forms of a connection string get the database's name.
func TestWithDatabase(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"host=/tmp/pg user=postgres", "host=/tmp/pg user=postgres dbname=x"},
		{"postgres://u@127.0.0.1:5432/postgres?sslmode=disable", "postgres://u@127.0.0.1:5432/x?sslmode=disable"},
		{"postgresql://u@h/", "postgresql://u@h/x"},
	} {
		if got := withDatabase(tt.in, "x"); got != tt.want {
			t.Errorf("withDatabase(%q): %q, want %q", tt.in, got, tt.want)
		}
	}
}
