package dav

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/coffer-dav/coffer/encryption"
	"github.com/coffer-dav/coffer/storage"
)

// testSpace is a real SQLite-backed space that can be told to fail, to
// show how the handler answers storage errors.
type testSpace struct {
	storage.Space
	fail     error        // when set, reads of collections fail with it
	pushFail error        // when set, push registrations and topics fail with it
	reads    atomic.Int64 // calls of Collection
}

func (s *testSpace) Collection(ctx context.Context, home storage.Home, name string) (*storage.Collection, error) {
	s.reads.Add(1)
	if s.fail != nil {
		return nil, s.fail
	}
	return s.Space.Collection(ctx, home, name)
}

func (s *testSpace) Collections(ctx context.Context, home storage.Home) ([]storage.Collection, error) {
	if s.fail != nil {
		return nil, s.fail
	}
	return s.Space.Collections(ctx, home)
}

// openTestDB opens a database in a temporary folder for the test.
func openTestDB(t testing.TB) *storage.DB {
	t.Helper()
	db, err := storage.Open(context.Background(), filepath.Join(t.TempDir(), "coffer.db"), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// newTestSpace creates an account in db and returns its space.
func newTestSpace(t testing.TB, db *storage.DB, username string) *testSpace {
	t.Helper()
	key, err := encryption.NewUserKey()
	if err != nil {
		t.Fatal(err)
	}
	keys, err := encryption.NewKeyring(key)
	if err != nil {
		t.Fatal(err)
	}
	acct, err := db.CreateAccount(context.Background(), storage.NewAccount{Username: username,
		Slots: func(int64) (map[string]encryption.Slot, error) { return nil, nil }})
	if err != nil {
		t.Fatal(err)
	}
	return &testSpace{Space: db.Space(acct.ID, keys)}
}
