// Package storage holds Coffer's storage roles (Space, and the
// account-side roles in roles.go), the sealed layer that every engine
// shares (NewSpaces: sealing, revisions, the change log, preconditions and
// limits over the rows of an Engine), and the SQLite engine, the default.
// All writes run in transactions, and every user value is sealed with the
// user's keys before an engine sees it.
package storage

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/mattn/go-sqlite3" // also registers the "sqlite3" driver
)

// DB is an open Coffer database.
type DB struct {
	write *sql.DB // one connection: SQLite has one writer, and Go queues behind it
	read  *sql.DB // many connections for readers, which WAL lets run beside the writer
	path  string
	// Spaces is the sealed layer over this database's rows, which opens
	// users' spaces (DB.Space).
	*Spaces

	lastWrite atomic.Int64 // Unix nanoseconds of the latest commit, for RebuildWhenQuiet
	walDirty  atomic.Bool  // a purge's checkpoint was kept from emptying the WAL; RebuildWhenQuiet retries it

	writes  chan *writeReq // transactions waiting for the committer
	stop    chan struct{}  // closed by Close
	stopped chan struct{}  // closed when the committer has ended
	closing sync.Once
}

// writeReq is one write transaction waiting for the committer.
type writeReq struct {
	ctx  context.Context
	fn   func(tx *sql.Tx) error
	done chan error
}

// maxBatch bounds the transactions that share one commit.
const maxBatch = 64

// errClosed is returned by writes after Close.
var errClosed = errors.New("storage: database closed")

// Options configures Open.
type Options struct {
	// ReadConns bounds the reader pool; 0 means 4.
	ReadConns int
	// IndexCacheEntries bounds the query index entries kept in memory; 0 means 200,000.
	IndexCacheEntries int
	// MaxTombstones bounds the deletions one collection's change log
	// remembers; 0 means 10,000. Past it the oldest tenth is forgotten, and
	// sync tokens older than those get ErrBadRevision.
	MaxTombstones int
}

//go:embed migrations/*.sql
var migrations embed.FS

// Open opens or creates the database at path and brings its schema up to date.
func Open(ctx context.Context, path string, o Options) (*DB, error) {
	if o.ReadConns <= 0 {
		o.ReadConns = 4
	}
	// synchronous=FULL: an acknowledged write survives a crash or power loss.
	// secure_delete: freed pages are zeroed, so deleted records leave no remnant.
	q := url.Values{}
	q.Set("_journal_mode", "WAL")
	q.Set("_synchronous", "FULL")
	q.Set("_foreign_keys", "on")
	q.Set("_busy_timeout", strconv.Itoa(busyTimeoutMS))
	q.Set("_secure_delete", "on")
	// Keep prepared statements per connection: preparing was a fifth of the
	// time of every read and write.
	q.Set("_stmt_cache_size", "64")
	// SQLite would create the file with the process's umask; the WAL and
	// shared-memory files it adds take the database file's mode.
	if f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600); err == nil {
		f.Close()
	} else if !errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("storage: create %s: %w", path, err)
	}
	base := "file:" + path + "?" + q.Encode()
	write, err := sql.Open("sqlite3", base+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("storage: open %s: %w", path, err)
	}
	write.SetMaxOpenConns(1)
	write.SetConnMaxLifetime(0)
	write.SetConnMaxIdleTime(0)
	applied, err := migrate(ctx, write)
	if err != nil {
		write.Close()
		return nil, err
	}
	read, err := sql.Open("sqlite3", base+"&mode=ro")
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("storage: open %s: %w", path, err)
	}
	read.SetMaxOpenConns(o.ReadConns)
	read.SetMaxIdleConns(o.ReadConns)
	db := &DB{write: write, read: read, path: path,
		writes: make(chan *writeReq), stop: make(chan struct{}), stopped: make(chan struct{})}
	db.Spaces = NewSpaces(db, SpaceOptions{IndexCacheEntries: o.IndexCacheEntries, MaxTombstones: o.MaxTombstones})
	go db.committer()
	if applied > 0 {
		// A migration may have dropped readable values (0007: the password
		// hashes); secure_delete zeroed them in the pages it wrote, and the
		// checkpoint puts those pages in the file in place of the old ones.
		if err := db.purged(ctx); err != nil {
			db.Close()
			return nil, err
		}
	}
	return db, nil
}

// Close ends the committer, after the writes it has taken, and closes the database.
func (db *DB) Close() error {
	db.closing.Do(func() { close(db.stop) })
	<-db.stopped
	return errors.Join(db.read.Close(), db.write.Close())
}

// migrate applies the embedded migrations newer than the database's
// user_version, each in its own transaction, and returns how many it applied.
func migrate(ctx context.Context, db *sql.DB) (int, error) {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return 0, err
	}
	sort.Strings(names)
	var have int
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&have); err != nil {
		return 0, fmt.Errorf("storage: read schema version: %w", err)
	}
	applied := 0
	for _, name := range names {
		base := strings.TrimPrefix(name, "migrations/")
		v, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
		if err != nil {
			return applied, fmt.Errorf("storage: migration %s: bad name", name)
		}
		if v <= have {
			continue
		}
		script, err := migrations.ReadFile(name)
		if err != nil {
			return applied, err
		}
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return applied, err
		}
		if _, err := tx.ExecContext(ctx, string(script)); err != nil {
			tx.Rollback()
			return applied, fmt.Errorf("storage: migration %s: %w", base, err)
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", v)); err != nil {
			tx.Rollback()
			return applied, err
		}
		if err := tx.Commit(); err != nil {
			return applied, fmt.Errorf("storage: migration %s: %w", base, err)
		}
		applied++
	}
	return applied, nil
}

// inTx runs fn in a write transaction and returns once its changes are
// durable, or once fn failed and changed nothing. Writes that wait at the
// same time share one commit (group commit): with synchronous=FULL each
// commit costs a sync to disk, and this way many writers pay for one.
func (db *DB) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	req := &writeReq{ctx: ctx, fn: fn, done: make(chan error, 1)}
	select {
	case db.writes <- req:
	case <-ctx.Done():
		return ctx.Err()
	case <-db.stop:
		return errClosed
	}
	// Once taken, the write's outcome is reported even if ctx ends meanwhile.
	return noSpace(<-req.done)
}

// noSpace marks err with ErrFull when SQLite could not write for want of
// space: SQLITE_FULL, or an I/O error whose errno is ENOSPC (a sync or a
// resize of the WAL or its index).
func noSpace(err error) error {
	var se sqlite3.Error
	if errors.As(err, &se) && (se.Code == sqlite3.ErrFull || se.SystemErrno == syscall.ENOSPC) {
		return fmt.Errorf("%w: %w", ErrFull, err)
	}
	return err
}

// committer takes the waiting writes and runs them in batches until Close.
func (db *DB) committer() {
	defer close(db.stopped)
	for {
		var first *writeReq
		select {
		case first = <-db.writes:
		case <-db.stop:
			return
		}
		batch := []*writeReq{first}
	gather:
		for len(batch) < maxBatch {
			select {
			case r := <-db.writes:
				batch = append(batch, r)
			default:
				break gather
			}
		}
		db.commitBatch(batch)
	}
}

// commitBatch runs a batch in one transaction, each write in a savepoint
// of its own, so that a write that fails is undone alone, and commits.
func (db *DB) commitBatch(batch []*writeReq) {
	if len(batch) == 1 {
		batch[0].done <- db.runAlone(batch[0])
		return
	}
	results := make([]error, len(batch))
	tx, err := db.write.BeginTx(context.Background(), nil)
	if err != nil {
		for _, r := range batch {
			r.done <- fmt.Errorf("storage: begin: %w", err)
		}
		return
	}
	for i, r := range batch {
		if err := r.ctx.Err(); err != nil {
			results[i] = err
			continue
		}
		if _, err := tx.ExecContext(r.ctx, "SAVEPOINT w"); err != nil {
			results[i] = fmt.Errorf("storage: savepoint: %w", err)
			continue
		}
		if results[i] = r.fn(tx); results[i] != nil {
			if _, err := tx.Exec("ROLLBACK TO w"); err != nil {
				// The transaction cannot be trusted: run each write on its own.
				tx.Rollback()
				for _, r := range batch {
					r.done <- db.runAlone(r)
				}
				return
			}
		}
		if _, err := tx.Exec("RELEASE w"); err != nil {
			tx.Rollback()
			for _, r := range batch {
				r.done <- db.runAlone(r)
			}
			return
		}
	}
	if err := tx.Commit(); err != nil {
		err = fmt.Errorf("storage: commit: %w", err)
		for i := range results {
			if results[i] == nil {
				results[i] = err
			}
		}
	}
	db.lastWrite.Store(time.Now().UnixNano())
	for i, r := range batch {
		r.done <- results[i]
	}
}

// runAlone runs one write in a transaction of its own.
func (db *DB) runAlone(r *writeReq) error {
	if err := r.ctx.Err(); err != nil {
		return err
	}
	tx, err := db.write.BeginTx(context.Background(), nil)
	if err != nil {
		return fmt.Errorf("storage: begin: %w", err)
	}
	if err := r.fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("storage: commit: %w", err)
	}
	db.lastWrite.Store(time.Now().UnixNano())
	return nil
}
