// Package postgres is Coffer's PostgreSQL storage engine: SQL only, over
// github.com/jackc/pgx/v5. It sees no key material and no plaintext: what
// it stores for the account-side roles (key slots, verifiers, sealed
// labels, MACs, outbox payloads) arrives sealed or opaque. It plays the
// roles Accounts, Credentials, AppPasswords, Sessions, Lifecycle, Outbox,
// PushExpiry and Settings, with the same behaviour as the SQLite engine
// (the contract in storage/storagetest), and LoginFailures, the
// failed-login throttle's records that the instances share. It is also a
// storage.Engine: the Space rows (collections, objects and their bodies,
// the change log, property rows, push subscriptions, and the totals that
// limits are checked against) live here too, as opaque rows that the
// sealed layer above the engines reads and writes; an account's writes
// are serialized by a lock of its row, and revisions are drawn from its
// counter inside the writing transaction. It brings its own embedded,
// versioned migrations.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/coffer-dav/coffer/storage"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// DB is an open Coffer database on PostgreSQL.
type DB struct {
	pool   *pgxpool.Pool
	spaces *storage.Spaces // the sealed layer over this engine, with its cache of opened index entries
	gates  gates           // one batch of an account's Updates at a time goes to the database
	ids    objectIDs       // new objects' ids, reserved ahead
}

// defaultMaxConns bounds the pool unless Options or the DSN say. A DAV
// request makes several statements, each on a pooled connection, and
// pgxpool's own default (the larger of 4 and the number of CPUs) left the
// requests of a mixed load waiting for a connection while the database
// had work to spare: on 2 cores, the mixed scenario of coffer-bench
// answered about half again as many requests a second with 16 connections
// as with 4 (see README, "Comparing backends").
const defaultMaxConns = 16

// Options configures Open.
type Options struct {
	// MaxConns bounds the connection pool; 0 means pool_max_conns of the
	// DSN, or else defaultMaxConns.
	MaxConns int32
	// IndexCacheEntries bounds the query index entries the sealed layer
	// keeps in memory; 0 means 200,000. Each instance has its own cache.
	IndexCacheEntries int
	// MaxTombstones bounds the deletions one collection's change log
	// remembers; 0 means 10,000. Past it the oldest tenth is forgotten, and
	// sync tokens older than those get storage.ErrBadRevision. Instances
	// on one database should agree on it.
	MaxTombstones int
}

// migration is one embedded schema step.
type migration struct {
	version int
	name    string
	script  string
}

// migrationLock is the key of the advisory lock that serializes
// migrations between instances ("coffer" in ASCII).
const migrationLock int64 = 0x636f66666572

//go:embed migrations/*.sql
var migrationFiles embed.FS

// The PostgreSQL database plays every account-side role.
var (
	_ storage.Accounts     = (*DB)(nil)
	_ storage.Credentials  = (*DB)(nil)
	_ storage.AppPasswords = (*DB)(nil)
	_ storage.Sessions     = (*DB)(nil)
	_ storage.Lifecycle    = (*DB)(nil)
	_ storage.Outbox       = (*DB)(nil)
	_ storage.PushExpiry   = (*DB)(nil)
	_ storage.Settings     = (*DB)(nil)
	_ storage.Database     = (*DB)(nil)
)

// Open connects to the database that dsn names (a postgres:// URL or
// keyword/value string) and brings its schema up to date. Instances that
// start at once on one database are safe: one migrates, the others wait
// for it and then find nothing to do.
func Open(ctx context.Context, dsn string, o Options) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// The error of a malformed string can quote it, password included.
		return nil, errors.New("postgres: the connection string cannot be parsed")
	}
	planGeneric(cfg.ConnConfig)
	switch {
	case o.MaxConns > 0:
		cfg.MaxConns = o.MaxConns
	case !strings.Contains(dsn, "pool_max_conns"):
		cfg.MaxConns = defaultMaxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	if _, err := migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, err
	}
	db := &DB{pool: pool}
	db.spaces = storage.NewSpaces(db, storage.SpaceOptions{IndexCacheEntries: o.IndexCacheEntries, MaxTombstones: o.MaxTombstones})
	return db, nil
}

// planGeneric makes every session of cfg run its prepared statements from
// their generic plan, made once per connection. Coffer's statements look
// rows up by ids and MACs only (whatever a user's data says is sealed, out
// of the planner's sight), so a plan made for the values at hand cannot be
// better; but PostgreSQL, which costs a generic plan's unnest of an array
// parameter at ten rows, found the plan for one or two dearer and planned
// a PUT's statements afresh each time, which took longer than running
// them. The look-ups' generic plans are tested (TestLookupPlans).
func planGeneric(cfg *pgx.ConnConfig) {
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	cfg.RuntimeParams["plan_cache_mode"] = "force_generic_plan"
}

// Close closes the database's connections, once their queries are done.
func (db *DB) Close() error {
	db.pool.Close()
	return nil
}

// migrations returns the embedded migrations, by version.
func migrations() ([]migration, error) {
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, name := range names {
		base := strings.TrimPrefix(name, "migrations/")
		v, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("postgres: migration %s: bad name", base)
		}
		script, err := migrationFiles.ReadFile(name)
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: base, script: string(script)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	for i := 1; i < len(out); i++ {
		if out[i].version == out[i-1].version {
			return nil, fmt.Errorf("postgres: migrations %s and %s share a version", out[i-1].name, out[i].name)
		}
	}
	return out, nil
}

// migrate applies the embedded migrations the database lacks, all in one
// transaction that holds a transaction-scoped advisory lock: a second
// instance starting at the same time waits at the lock, then sees the
// versions the first one recorded. The whole upgrade commits or none of
// it does. It refuses a database whose schema is newer than this binary's.
// It returns how many migrations it applied.
func migrate(ctx context.Context, pool *pgxpool.Pool) (int, error) {
	ms, err := migrations()
	if err != nil {
		return 0, err
	}
	applied := 0
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrationLock); err != nil {
			return fmt.Errorf("postgres: lock for migrations: %w", err)
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS coffer_schema (
			version    integer PRIMARY KEY,
			name       text NOT NULL,
			applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
			return fmt.Errorf("postgres: create the schema table: %w", err)
		}
		var have int
		if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM coffer_schema`).Scan(&have); err != nil {
			return fmt.Errorf("postgres: read the schema version: %w", err)
		}
		if latest := ms[len(ms)-1].version; have > latest {
			return fmt.Errorf("postgres: the database's schema is version %d, newer than this Coffer's %d: run a newer Coffer", have, latest)
		}
		for _, m := range ms {
			if m.version <= have {
				continue
			}
			// No arguments: pgx sends the script as one simple query, so it
			// may hold several statements.
			if _, err := tx.Exec(ctx, m.script); err != nil {
				return fmt.Errorf("postgres: migration %s: %w", m.name, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO coffer_schema (version, name) VALUES ($1, $2)`, m.version, m.name); err != nil {
				return fmt.Errorf("postgres: record migration %s: %w", m.name, err)
			}
			applied++
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return applied, nil
}

// inTx runs fn in a transaction (READ COMMITTED) and commits it, or rolls
// it back when fn fails.
func (db *DB) inTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, db.pool, fn)
}

// isCode reports whether err is a PostgreSQL error with that SQLSTATE.
func isCode(err error, code string) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == code
}

// isUniqueViolation reports a unique or primary key violation.
func isUniqueViolation(err error) bool { return isCode(err, "23505") }

// isForeignKeyViolation reports a row that refers to one that does not exist.
func isForeignKeyViolation(err error) bool { return isCode(err, "23503") }

// fromUnix returns the UTC time of Unix seconds.
func fromUnix(s int64) time.Time { return time.Unix(s, 0).UTC() }

// nullTime returns NULL for the zero time, else its Unix seconds.
func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.Unix()
}

// fromNull returns the zero time for NULL, else the UTC time of the seconds.
func fromNull(s *int64) time.Time {
	if s == nil {
		return time.Time{}
	}
	return fromUnix(*s)
}

// OnChange sets the hook that hears of every committed write to a space
// through this instance (writes of other instances reach their own hooks).
func (db *DB) OnChange(h storage.ChangeHook) { db.spaces.OnChange(h) }
