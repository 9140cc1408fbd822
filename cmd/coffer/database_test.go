package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coffer-dav/coffer/encryption"
	"github.com/coffer-dav/coffer/storage/storagetest"
)

// TestCheckDatabase: --database takes PostgreSQL connection strings only,
// and empty for the SQLite file.
func TestCheckDatabase(t *testing.T) {
	tests := []struct {
		in string
		ok bool
	}{
		{"", true},
		{"postgres://coffer@db.example/coffer", true},
		{"postgresql://coffer:pw@10.0.0.5:5432/coffer?sslmode=verify-full", true},
		{"host=/run/postgresql dbname=coffer user=coffer", true},
		{"sqlite:///var/lib/coffer/coffer.db", false},
		{"/var/lib/coffer/coffer.db", false},
		{"mysql://coffer@db/coffer", false},
	}
	for _, tt := range tests {
		err := checkDatabase(tt.in)
		if (err == nil) != tt.ok {
			t.Errorf("checkDatabase(%q) = %v, want ok %v", tt.in, err, tt.ok)
		}
		if err != nil && (strings.Contains(err.Error(), "pw") || !strings.Contains(err.Error(), "--database")) {
			t.Errorf("checkDatabase(%q): %v: names the flag, never the string", tt.in, err)
		}
	}
}

// TestPostgresDataFolder: with --database, the data folder holds the
// server secret that every instance shares. A second instance with the
// secret copied opens the database; one with another secret, or with
// none for a command other than serve, refuses with a clear message; and
// the SQLite-only commands say what to use instead.
func TestPostgresDataFolder(t *testing.T) {
	dsn := storagetest.Postgres(t)
	ctx := context.Background()
	first := privateDir(t)
	open := func(dir string, create bool) (*app, error) {
		return openApp(ctx, &config{data: dir, database: dsn, kdf: encryption.MinKDF}, openOptions{create: create})
	}
	a, err := open(first, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.createUser(ctx, newUser{username: "alice", password: "correct horse battery staple 7"}); err != nil {
		t.Fatal(err)
	}
	a.Close()
	if _, err := os.Stat(filepath.Join(first, dbFile)); !os.IsNotExist(err) {
		t.Fatalf("a SQLite file was made beside a PostgreSQL database: %v", err)
	}
	secret, err := os.ReadFile(filepath.Join(first, secretFile))
	if err != nil {
		t.Fatal(err)
	}
	copied := privateDir(t)
	if err := os.WriteFile(filepath.Join(copied, secretFile), secret, 0o600); err != nil {
		t.Fatal(err)
	}
	other := privateDir(t)
	tests := []struct {
		name   string
		dir    string
		create bool
		want   string // in the error; empty for success
	}{
		{"the secret copied", copied, false, ""},
		{"another secret", other, true, "is not this database's"},
		{"no secret, not serve", privateDir(t), false, "no server secret at"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := open(tt.dir, tt.create)
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				defer a.Close()
				acct, err := a.db.AccountByUsername(ctx, "alice")
				if err != nil || acct.Username != "alice" {
					t.Fatalf("the second instance does not see alice: %v", err)
				}
				return
			}
			if err == nil {
				a.Close()
				t.Fatal("opened")
			}
			if !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "password=") {
				t.Fatalf("error %q, want %q", err, tt.want)
			}
		})
	}
	for _, cmd := range [][]string{{"backup", "--data", first, "--database", dsn, filepath.Join(t.TempDir(), "b")}, {"restore", "--data", first, "--database", dsn, t.TempDir()}} {
		if err := run(cmd); err == nil || !strings.Contains(err.Error(), "pg_dump") {
			t.Errorf("%s with PostgreSQL: %v, want a pointer to pg_dump", cmd[0], err)
		}
	}
}
