package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/coffer-dav/coffer/encryption"
	"github.com/coffer-dav/coffer/storage"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// The PostgreSQL database is a row engine for the sealed layer.
var _ storage.Engine = (*DB)(nil)

// Space opens the data of one account with that account's keys: the
// sealed layer, held once on the DB since it keeps a cache, over this
// engine's rows.
func (db *DB) Space(account int64, keys *encryption.Keyring) storage.Space {
	return db.spaces.Space(account, keys)
}

// querier is what both *pgxpool.Pool and pgx.Tx offer: the rows read and
// written through it.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// reader reads Space rows through q.
type reader struct {
	q querier
}

// writer reads and writes Space rows in one transaction, on the pipe of
// an Update.
type writer struct {
	reader
	p *pipe
}

var (
	_ storage.RowReader = reader{}
	_ storage.RowWriter = writer{}
)

// Reader returns a reader whose every call is a statement of its own, and
// so sees the latest commit.
func (db *DB) Reader() storage.RowReader { return reader{q: db.pool} }

// View runs fn in a read-only REPEATABLE READ transaction: every read of
// fn sees the same snapshot. BEGIN goes to the server with fn's first
// statement (see pipe), so a View of one read takes two round trips.
func (db *DB) View(ctx context.Context, fn func(storage.RowReader) error) error {
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return dbErr("begin", err)
	}
	p := &pipe{conn: conn}
	defer p.release()
	p.later(failsAs("begin"), `BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY`)
	if err := fn(reader{q: p}); err != nil {
		return err
	}
	if err := p.commit(ctx); err != nil {
		return dbErr("end a read", err)
	}
	return nil
}

// Update runs fn in a READ COMMITTED transaction that first locks the
// account's row, so that the writes of one account follow one another as
// SQLite's single writer's do: each statement of fn sees every earlier
// write of the account, and the revisions that NextRevision draws under
// the lock rise in the order the writes commit. A missing account is
// storage.ErrNotFound. Update returns once the commit is done; an error
// from fn rolls all of it back.
//
// The lock is FOR NO KEY UPDATE, the one NextRevision's UPDATE takes
// anyway: it excludes every other Update of the account (and a delete of
// the account), but not the key share that inserting a row which refers
// to the account takes, so that a sign-in's session or a lifecycle event
// need not wait for a write of the account's data.
//
// The lock reads the account's revision counter too, so that the
// revisions fn draws after its first statement come from that row, still
// locked, without a round trip each (see pipe.nextRevision).
//
// The Updates of one account in this process wait for each other in
// memory first (see gates). BEGIN and the lock go to the server with fn's
// first statement, and the
// writes whose results fn does not read with the statement after them or
// with the COMMIT (see pipe): fewer round trips under the lock.
func (db *DB) Update(ctx context.Context, account int64, fn func(storage.RowWriter) error) error {
	leave, err := db.gates.enter(ctx, account)
	if err != nil {
		return err
	}
	defer leave()
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return dbErr("begin", err)
	}
	p := &pipe{conn: conn}
	defer p.release()
	p.later(failsAs("begin"), `BEGIN ISOLATION LEVEL READ COMMITTED`)
	p.lockAccount(account)
	err = fn(writer{reader{q: p}, p})
	if err == nil {
		err = p.commit(ctx)
	}
	if errors.Is(p.err, errNoAccount) {
		return storage.ErrNotFound
	}
	return err
}

// dbErr wraps a database error with what failed, and with storage.ErrFull
// too when the database's disk is full.
func dbErr(what string, err error) error {
	if isCode(err, "53100") { // disk_full
		return fmt.Errorf("postgres: %s: %w: %w", what, storage.ErrFull, err)
	}
	return fmt.Errorf("postgres: %s: %w", what, err)
}

// nonNil returns the MACs of macs that are not nil: in an array a NULL
// matches nothing, and turns a NOT ... = ANY into NULL, which excludes all.
func nonNil(macs [][]byte) [][]byte {
	out := make([][]byte, 0, len(macs))
	for _, m := range macs {
		if m != nil {
			out = append(out, m)
		}
	}
	return out
}
