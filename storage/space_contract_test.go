package storage_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/coffer-dav/coffer/storage"
	"github.com/coffer-dav/coffer/storage/storagetest"
)

// openSQLite opens a fresh SQLite database in the test's folder.
func openSQLite(t *testing.T) *storage.DB {
	t.Helper()
	db, err := storage.Open(context.Background(), filepath.Join(t.TempDir(), "coffer.db"), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// TestSpaceContract runs the Space role's contract against the SQLite
// engine, whose behaviour the contract states.
func TestSpaceContract(t *testing.T) {
	storagetest.Space(t, storagetest.SpacesOf(openSQLite))
}

// TestLimitsContract runs the contract of the counts and the limits that
// writes check in their transactions against the SQLite engine.
func TestLimitsContract(t *testing.T) {
	storagetest.Limits(t, storagetest.SpacesOf(openSQLite))
}

// TestSpaceInstancesContract runs the several-instances part of the Space
// contract with two SQLite engines on one file: SQLite serves one
// process, but nothing either answers may come from what it keeps.
func TestSpaceInstancesContract(t *testing.T) {
	storagetest.SpaceInstances(t, storagetest.SpacePairsOf(openSQLitePair))
}

// TestHooksContract runs the change hook's contract against the SQLite engine.
func TestHooksContract(t *testing.T) {
	storagetest.Hooks(t, openSQLite)
}
