package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
)

// Backup writes a consistent copy of the database to path while other
// connections keep reading and writing. The copy is as encrypted as the
// database itself. path must not exist yet.
func (db *DB) Backup(ctx context.Context, path string) error {
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("storage: backup: %s already exists", path)
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("storage: backup: %w", err)
	}
	// VACUUM INTO reads one snapshot of the database, so the copy is
	// consistent even while writes go on, and it leaves no freed pages behind.
	if _, err := db.read.ExecContext(ctx, `VACUUM INTO ?`, path); err != nil {
		return fmt.Errorf("storage: backup: %w", err)
	}
	return nil
}

// Verify checks a database file's integrity without changing it.
func Verify(ctx context.Context, path string) error {
	conn, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	if err != nil {
		return fmt.Errorf("storage: verify: %w", err)
	}
	defer conn.Close()
	var result string
	if err := conn.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&result); err != nil {
		return fmt.Errorf("storage: verify %s: %w", path, err)
	}
	if result != "ok" {
		return fmt.Errorf("storage: verify %s: integrity check says %q", path, result)
	}
	var version int
	if err := conn.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil || version == 0 {
		return fmt.Errorf("storage: verify %s: not a Coffer database", path)
	}
	return nil
}
