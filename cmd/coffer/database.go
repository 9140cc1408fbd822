package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/coffer-dav/coffer/storage"
	"github.com/coffer-dav/coffer/storage/postgres"
)

// errNotSQLite refuses a command that works on the SQLite file alone.
var errNotSQLite = errors.New("this command works on the SQLite file in --data; with a PostgreSQL --database, back up with pg_dump and restore with pg_restore (see the README)")

// usesPostgres reports whether the settings name a PostgreSQL database
// rather than the SQLite file in the data folder.
func (c *config) usesPostgres() bool { return c.database != "" }

// checkDatabase refuses a --database that is not a PostgreSQL connection
// string: a URL (postgres://…, postgresql://…) or keyword/value pairs
// (host=… dbname=…).
func checkDatabase(s string) error {
	if s == "" {
		return nil
	}
	if u, err := url.Parse(s); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		return nil
	}
	if !strings.Contains(s, "://") && strings.Contains(s, "=") {
		return nil
	}
	return errors.New("--database (COFFER_DATABASE): want a PostgreSQL connection string, postgres://USER@HOST/DB or host=… dbname=…; leave it empty for the SQLite file in --data")
}

// openDatabase opens the database the settings name: the PostgreSQL one
// of --database, or the SQLite file in the data folder.
func openDatabase(ctx context.Context, c *config) (storage.Database, error) {
	if c.usesPostgres() {
		db, err := postgres.Open(ctx, c.database, postgres.Options{})
		if err != nil {
			// The connection string may hold a password: name the server only.
			return nil, fmt.Errorf("open the PostgreSQL database: %w", err)
		}
		return db, nil
	}
	return storage.Open(ctx, filepath.Join(c.data, dbFile), storage.Options{})
}

// requireSecret refuses, for a PostgreSQL database, a data folder without
// the server secret: the secret is what every instance of the service
// shares, and a new one would open nothing.
func requireSecret(dir string) error {
	path := filepath.Join(dir, secretFile)
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("no server secret at %s: with --database, --data holds the service's server.key, which every instance shares; copy it from the folder of the first instance", absPath(path))
	}
	return nil
}
