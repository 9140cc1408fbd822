package storage

import (
	"context"
	"sync"
)

// processLocks are the named locks of SQLite databases. One process at a
// time serves a data folder (the folder's lock), so the locks of this
// process are all there are; they are shared by every DB of the process,
// as two DBs on one file are one database.
var processLocks struct {
	mu   sync.Mutex
	held map[string]bool
}

// TryLock takes the named lock when no one in this process holds it.
func (db *DB) TryLock(_ context.Context, name string) (func(), bool, error) {
	key := db.path + "\x00" + name
	processLocks.mu.Lock()
	defer processLocks.mu.Unlock()
	if processLocks.held[key] {
		return nil, false, nil
	}
	if processLocks.held == nil {
		processLocks.held = map[string]bool{}
	}
	processLocks.held[key] = true
	var once sync.Once
	return func() {
		once.Do(func() {
			processLocks.mu.Lock()
			delete(processLocks.held, key)
			processLocks.mu.Unlock()
		})
	}, true, nil
}
