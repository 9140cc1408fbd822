package storagetest

import (
	"context"
	"testing"

	"github.com/coffer-dav/coffer/encryption"
	"github.com/coffer-dav/coffer/storage"
)

// SpaceDB is what the Space contracts need of an engine's database: it
// makes accounts and opens their spaces.
type SpaceDB interface {
	CreateAccount(ctx context.Context, a storage.NewAccount) (*storage.Account, error)
	Space(account int64, keys *encryption.Keyring) storage.Space
}

// NewUser creates an account named username on db and returns its space
// on db and on each of also (other engines on the same database), all
// under one key.
func NewUser(t *testing.T, db SpaceDB, username string, also ...SpaceDB) []storage.Space {
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
	out := []storage.Space{db.Space(acct.ID, keys)}
	for _, o := range also {
		out = append(out, o.Space(acct.ID, keys))
	}
	return out
}

// SpacesOf returns the opener of the Space contracts for a database that
// open makes afresh, closed when the test ends.
func SpacesOf[DB interface {
	SpaceDB
	Close() error
}](open func(t *testing.T) DB) Spaces {
	return func(t *testing.T) func(t *testing.T, username string) storage.Space {
		db := open(t)
		t.Cleanup(func() { db.Close() })
		return func(t *testing.T, username string) storage.Space { return NewUser(t, db, username)[0] }
	}
}

// SpacePairsOf returns the opener of the several-instances contract for
// two engines on one database that open makes afresh, closed when the
// test ends.
func SpacePairsOf[DB interface {
	SpaceDB
	Close() error
}](open func(t *testing.T) (DB, DB)) SpacePairs {
	return func(t *testing.T) func(t *testing.T, username string) (storage.Space, storage.Space) {
		a, b := open(t)
		t.Cleanup(func() { a.Close(); b.Close() })
		return func(t *testing.T, username string) (storage.Space, storage.Space) {
			s := NewUser(t, a, username, b)
			return s[0], s[1]
		}
	}
}
