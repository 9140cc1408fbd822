package storage_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/coffer-dav/coffer/encryption"
	"github.com/coffer-dav/coffer/storage"
	"github.com/coffer-dav/coffer/storage/storagetest"
)

// TestSpaceContract runs the Space role's contract against the SQLite
// engine, whose behaviour the contract states.
func TestSpaceContract(t *testing.T) {
	storagetest.Space(t, sqliteSpaces)
}

// sqliteSpaces opens a fresh SQLite database, as TestLimitsContract does,
// and returns what makes a new user's space on it.
func sqliteSpaces(t *testing.T) func(t *testing.T, username string) storage.Space {
	db, err := storage.Open(context.Background(), filepath.Join(t.TempDir(), "coffer.db"), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return func(t *testing.T, username string) storage.Space {
		t.Helper()
		keys, err := encryption.NewKeyring(make([]byte, encryption.KeySize))
		if err != nil {
			t.Fatal(err)
		}
		acct, err := db.CreateAccount(context.Background(), storage.NewAccount{Username: username,
			Slots: func(int64) (map[string]encryption.Slot, error) { return nil, nil }})
		if err != nil {
			t.Fatal(err)
		}
		return db.Space(acct.ID, keys)
	}
}

// TestIndexAfterForgottenDeletions: once the change log forgets old
// deletions (beyond Options.MaxTombstones), an index cached from before
// them must not keep what they deleted. It runs through the Space role
// only, but needs a small bound, which the contract cannot set.
func TestIndexAfterForgottenDeletions(t *testing.T) {
	t.Skip("bug: the sealed layer's index cache (storage/index.go) moves on by the change log since its revision and misses " +
		"the deletions the log forgot (CollectionRow.ForgottenRev), so Index keeps answering with an object deleted long ago")
	ctx := context.Background()
	db, err := storage.Open(ctx, filepath.Join(t.TempDir(), "coffer.db"), storage.Options{MaxTombstones: 50})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	keys, err := encryption.NewKeyring(make([]byte, encryption.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	acct, err := db.CreateAccount(ctx, storage.NewAccount{Username: "alice", Slots: func(int64) (map[string]encryption.Slot, error) { return nil, nil }})
	if err != nil {
		t.Fatal(err)
	}
	s := db.Space(acct.ID, keys)
	c, err := s.CreateCollection(ctx, storage.NewCollection{Home: storage.HomeCalendars, Name: "work", Kind: storage.KindCalendar})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"deleted.ics", "kept.ics"} {
		if _, err := s.PutObject(ctx, c.ID, storage.PutOptions{Name: name, Body: []byte(name), Index: []byte("index of " + name)}); err != nil {
			t.Fatal(err)
		}
	}
	if entries, _, err := s.Index(ctx, c.ID); err != nil || len(entries) != 2 {
		t.Fatalf("Index = %d entries, %v", len(entries), err)
	}
	if err := s.DeleteObject(ctx, c.ID, "deleted.ics", storage.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	for i := range 60 { // more deletions than the log keeps: the first one goes
		name := fmt.Sprintf("n%02d.ics", i)
		if _, err := s.PutObject(ctx, c.ID, storage.PutOptions{Name: name, Body: []byte("x")}); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteObject(ctx, c.ID, name, storage.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	entries, _, err := s.Index(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name)
	}
	if len(names) != 1 || names[0] != "kept.ics" {
		t.Fatalf("Index lists %v, want [kept.ics]", names)
	}
}

// TestSpaceInstancesContract runs the several-instances part of the Space
// contract with two SQLite engines on one file: SQLite serves one
// process, but nothing either answers may come from what it keeps.
func TestSpaceInstancesContract(t *testing.T) {
	storagetest.SpaceInstances(t, func(t *testing.T) func(t *testing.T, username string) (storage.Space, storage.Space) {
		path := filepath.Join(t.TempDir(), "coffer.db")
		var dbs [2]*storage.DB
		for i := range dbs {
			db, err := storage.Open(context.Background(), path, storage.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			dbs[i] = db
		}
		return func(t *testing.T, username string) (storage.Space, storage.Space) {
			t.Helper()
			keys, err := encryption.NewKeyring(make([]byte, encryption.KeySize))
			if err != nil {
				t.Fatal(err)
			}
			acct, err := dbs[0].CreateAccount(context.Background(), storage.NewAccount{Username: username,
				Slots: func(int64) (map[string]encryption.Slot, error) { return nil, nil }})
			if err != nil {
				t.Fatal(err)
			}
			return dbs[0].Space(acct.ID, keys), dbs[1].Space(acct.ID, keys)
		}
	})
}
