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
// from fn rolls all of fn's writes back.
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
// The Updates of one account in this process that wait at the same time
// share one transaction, each fn in a savepoint of its own (see gates and
// runTogether), as SQLite's group commit does; fn may so run more than
// once, and must do the same each time. BEGIN and the lock go to the
// server with the first statement, and the writes whose results fn does
// not read with the statement after them or with the COMMIT (see pipe):
// fewer round trips under the lock.
func (db *DB) Update(ctx context.Context, account int64, fn func(storage.RowWriter) error) error {
	u := &update{ctx: ctx, fn: fn, done: make(chan error, 1)}
	return db.gates.do(account, u, func(batch []*update) []error {
		out := make([]error, len(batch))
		if len(batch) > 1 && db.runTogether(account, batch, out) {
			return out
		}
		for i, u := range batch {
			out[i] = db.runAlone(account, u)
		}
		return out
	})
}

// runAlone runs one Update in a transaction of its own.
func (db *DB) runAlone(account int64, u *update) error {
	if err := u.ctx.Err(); err != nil {
		return err
	}
	conn, err := db.pool.Acquire(u.ctx)
	if err != nil {
		return dbErr("begin", err)
	}
	p := &pipe{conn: conn, ids: &db.ids}
	defer p.release()
	p.later(failsAs("begin"), `BEGIN ISOLATION LEVEL READ COMMITTED`)
	p.lockAccount(account)
	err = u.fn(writer{reader{q: p}, p})
	if err == nil {
		err = p.commit(u.ctx)
	}
	if errors.Is(p.err, errNoAccount) {
		return storage.ErrNotFound
	}
	return err
}

// runTogether runs a batch of Updates of the account in one transaction,
// each in a savepoint, so that one whose fn fails is undone alone, and
// sets their outcomes in out. It returns false, with nothing committed,
// when a statement failed on the server: the transaction is then spoilt
// for all of them, and each is to run alone.
func (db *DB) runTogether(account int64, batch []*update, out []error) bool {
	ctx := context.WithoutCancel(batch[0].ctx) // the commit is every Update's
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return false
	}
	p := &pipe{conn: conn, ids: &db.ids}
	defer p.release()
	p.later(failsAs("begin"), `BEGIN ISOLATION LEVEL READ COMMITTED`)
	p.lockAccount(account)
	for i, u := range batch {
		if out[i] = u.ctx.Err(); out[i] != nil {
			continue
		}
		mark := p.mark()
		p.later(failsAs("savepoint"), `SAVEPOINT w`)
		out[i] = u.fn(writer{reader{q: p}, p})
		if p.err != nil {
			return false
		}
		if out[i] != nil {
			p.later(failsAs("roll back a write"), `ROLLBACK TO SAVEPOINT w`)
			p.undo(mark)
			continue
		}
		p.later(failsAs("savepoint"), `RELEASE SAVEPOINT w`)
	}
	if err := p.commit(ctx); err != nil {
		if p.err != nil || errors.Is(err, errRolledBack) {
			return false // a statement failed: nothing was committed
		}
		for i := range out {
			if out[i] == nil {
				out[i] = err
			}
		}
	}
	return true
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
