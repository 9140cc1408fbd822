package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coffer-dav/coffer/encryption"
	"github.com/coffer-dav/coffer/storage"
	"github.com/coffer-dav/coffer/storage/storagetest"
)

// TestStorageMigrate: migrate copies a SQLite folder into an empty
// PostgreSQL database, where serve's way of opening it (the same folder's
// server secret) finds the users and their data; --check-user opens a
// user's records with the password or the recovery code; what it refuses
// (a wrong credential, a running server, another folder's secret, a
// non-empty target) leaves the target empty, and says why.
func TestStorageMigrate(t *testing.T) {
	ctx := context.Background()
	const password = "correct horse battery staple 7"
	dir := privateDir(t)
	a, err := openApp(ctx, &config{data: dir, kdf: encryption.MinKDF}, openOptions{create: true})
	if err != nil {
		t.Fatal(err)
	}
	alice, err := a.createUser(ctx, newUser{username: "alice", password: password})
	if err != nil {
		t.Fatal(err)
	}
	id, err := a.auth.Unlock(ctx, "alice", password)
	if err != nil {
		t.Fatal(err)
	}
	sp := a.db.Space(id.AccountID, id.Keys)
	c, err := sp.CreateCollection(ctx, storage.NewCollection{Home: storage.HomeCalendars, Name: "work", Kind: storage.KindCalendar})
	if err != nil {
		t.Fatal(err)
	}
	put, err := sp.PutObject(ctx, c.ID, storage.PutOptions{Name: "a.ics", UID: "a", ContentType: "text/calendar", Body: []byte("BEGIN:VCALENDAR")})
	if err != nil {
		t.Fatal(err)
	}
	a.Close()

	otherSecret := privateDir(t)
	openAndClose(t, otherSecret)
	if err := os.Remove(filepath.Join(otherSecret, dbFile)); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, dbFile))
	if err := os.WriteFile(filepath.Join(otherSecret, dbFile), b, 0o600); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name  string
		from  string
		check string
		stdin string
		lock  bool   // a server holds the folder's lock
		want  string // in the error; empty for success
	}{
		{"a wrong password", dir, "alice", "not the password\n", false, "wrong password or recovery code"},
		{"no such user", dir, "nobody", password + "\n", false, "no user \"nobody\""},
		{"no credential", dir, "alice", "", false, "--check-user reads"},
		{"a running server", dir, "", "", true, "stop it first"},
		{"another secret", otherSecret, "", "", false, "is not this database's"},
		{"no database", privateDir(t), "", "", false, "no Coffer database"},
		{"the recovery code", dir, "alice", alice.recoveryCode + "\n", false, ""},
		{"the password", dir, "alice", password + "\n", false, ""},
		{"no check", dir, "", "", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dsn := storagetest.Postgres(t)
			if tt.lock {
				l, err := lockFolder(tt.from)
				if err != nil {
					t.Fatal(err)
				}
				defer l.release()
			}
			var out bytes.Buffer
			err := migrateStorage(ctx, migrateOptions{from: tt.from, to: dsn, checkUser: tt.check, kdf: encryption.MinKDF}, strings.NewReader(tt.stdin), &out)
			cfg := &config{data: dir, database: dsn, kdf: encryption.MinKDF}
			if tt.want != "" {
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("migrate: %v, want an error with %q", err, tt.want)
				}
				if strings.Contains(err.Error(), password) || strings.Contains(out.String(), password) {
					t.Error("the password is in the output")
				}
				db, err := openDatabase(ctx, cfg)
				if err != nil {
					t.Fatal(err)
				}
				defer db.Close()
				if n, err := db.CountAccounts(ctx); err != nil || n != 0 {
					t.Errorf("after a refused migration the target has %d accounts (%v)", n, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("migrate: %v\n%s", err, out.String())
			}
			if tt.check != "" && !strings.Contains(out.String(), "collections, 1 objects (15 bytes of bodies)") {
				t.Errorf("the output does not tell the check:\n%s", out.String())
			}
			// serve's way in: the same folder's secret, the PostgreSQL database.
			b, err := openApp(ctx, cfg, openOptions{})
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			id, err := b.auth.Login(ctx, "alice", password)
			if err != nil {
				t.Fatal(err)
			}
			got, err := b.db.Space(id.AccountID, id.Keys).Object(ctx, c.ID, "a.ics", storage.ReadOptions{Body: true})
			if err != nil || got.ETag != put.Object.ETag || string(got.Body) != "BEGIN:VCALENDAR" {
				t.Errorf("the object in the copy: %+v, %v", got, err)
			}
			// A second migration into it is refused: it is not empty.
			err = migrateStorage(ctx, migrateOptions{from: dir, to: dsn, kdf: encryption.MinKDF}, strings.NewReader(""), &out)
			if err == nil || !strings.Contains(err.Error(), "not empty") {
				t.Errorf("a migration into the copy: %v, want a refusal of a non-empty database", err)
			}
		})
	}
}

// TestStorageCommandLine: the flags migrate needs, and the help.
func TestStorageCommandLine(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"storage", "migrate", "--to", "postgres://x@y/z"}, "--from DIR"},
		{[]string{"storage", "migrate", "--from", "x"}, "--to names"},
		{[]string{"storage", "migrate", "--from", "x", "--to", "/var/lib/coffer.db"}, "--to"},
		{[]string{"storage", "migrate", "--from", "x", "--to", "postgres://x@y/z", "extra"}, "unexpected argument"},
		{[]string{"storage", "nope"}, "unknown storage command"},
	}
	for _, tt := range tests {
		err := run(tt.args)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("coffer %s: %v, want an error with %q", strings.Join(tt.args, " "), err, tt.want)
		}
	}
	if err := run([]string{"storage", "migrate", "--help"}); err != errHelpShown {
		t.Errorf("storage migrate --help: %v", err)
	}
}
