package storage

import (
	"context"
	"fmt"
)

// Durability is what SQLite's write connection really runs with, read
// back from it: the settings that make an acknowledged write survive a
// crash or a power loss.
type Durability struct {
	JournalMode  string // "wal"
	Synchronous  int    // 0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA
	FullFsync    bool   // F_FULLFSYNC on macOS; no effect elsewhere
	SecureDelete bool   // freed pages are zeroed
}

// Durability reads the effective settings from the live write connection.
func (db *DB) Durability(ctx context.Context) (Durability, error) {
	var d Durability
	var fullfsync, secure int
	conn, err := db.write.Conn(ctx)
	if err != nil {
		return d, fmt.Errorf("storage: durability: %w", err)
	}
	defer conn.Close()
	for _, p := range []struct {
		pragma string
		into   any
	}{{"journal_mode", &d.JournalMode}, {"synchronous", &d.Synchronous}, {"fullfsync", &fullfsync}, {"secure_delete", &secure}} {
		if err := conn.QueryRowContext(ctx, "PRAGMA "+p.pragma).Scan(p.into); err != nil {
			return d, fmt.Errorf("storage: durability: PRAGMA %s: %w", p.pragma, err)
		}
	}
	d.FullFsync, d.SecureDelete = fullfsync != 0, secure != 0
	return d, nil
}
