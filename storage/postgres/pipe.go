package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/coffer-dav/coffer/storage"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// pipe is the connection of one Update. A statement whose result only its
// error tells (BEGIN, the account's lock, a write that returns nothing)
// waits in a queue and goes to the server in one round trip with the next
// statement whose result is read, or with the COMMIT. Every statement
// still runs in the order of the calls, so a read sees every write before
// it; what the queue saves is the round trips, each of which the
// account's row lock is held over.
type pipe struct {
	conn      *pgxpool.Conn
	queue     []queued
	err       error // the first failure: every later statement fails with it
	committed bool
	// account is the account whose row the transaction locked, and
	// revision its revision counter, as read under the lock and raised
	// by this transaction since, once known (see lockAccount).
	account  int64
	revision int64
	known    bool
	locked   int64      // the counter as the lock read it
	ids      *objectIDs // where new objects' ids come from
}

// objectIDs hands out ids for new objects that this process reserved
// from the objects table's sequence, idBlock at a time, so that an
// object's insert need not wait for the server to draw its id and can go
// with the next statement (see writer.InsertObject). Ids reserved and not
// used leave gaps, as ids of rolled-back inserts do; the ids of two
// instances interleave, so an id tells no order of creation (revisions
// do that).
type objectIDs struct {
	mu   sync.Mutex
	free []int64
}

// idBlock is how many ids objectIDs reserves at a time.
const idBlock = 64

// next returns a reserved id, reserving a block through q first when
// none is left. The reservation goes on the caller's own connection, and
// nobody waits for it but the caller: its statement goes after what the
// caller's pipe has queued, which may wait for a lock.
func (ids *objectIDs) next(ctx context.Context, q querier) (int64, error) {
	ids.mu.Lock()
	if len(ids.free) > 0 {
		id := ids.free[0]
		ids.free = ids.free[1:]
		ids.mu.Unlock()
		return id, nil
	}
	ids.mu.Unlock()
	rows, err := q.Query(ctx, `SELECT nextval(pg_get_serial_sequence('objects', 'id')) FROM generate_series(1, $1)`, idBlock)
	if err != nil {
		return 0, dbErr("reserve object ids", err)
	}
	block, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err == nil && len(block) == 0 {
		err = errors.New("the sequence gave no id")
	}
	if err != nil {
		return 0, dbErr("reserve object ids", err)
	}
	ids.mu.Lock()
	ids.free = append(ids.free, block[1:]...)
	ids.mu.Unlock()
	return block[0], nil
}

// queued is a statement waiting in a pipe's queue, and check, which maps
// its failure to the error of the call that queued it.
//
// A queued statement that does not do what its call means must fail on
// the server, not only in check: the server then skips what the batch
// holds after it, the COMMIT included, whereas a statement the server
// took without an error would have the COMMIT after it go through. So a
// write that must change a row says so in SQL (see mustChange).
type queued struct {
	sql   string
	args  []any
	check func(error) error
	scan  func(pgx.Row) error // reads the statement's one row; nil: its result is only its error
}

// errNoAccount is the failure of an Update's lock when the account is not
// there; Update answers it with storage.ErrNotFound. It is not
// storage.ErrNotFound itself, so that fn, which gets it from its first
// statement, cannot take it for an object or collection it looked for.
var errNoAccount = errors.New("postgres: the account is gone")

// errRolledBack is the failure of a COMMIT that the server answered with
// ROLLBACK: a statement had failed, and nothing was committed.
var errRolledBack = errors.New("postgres: commit: the transaction had failed")

// The pipe is what an Update's reader and writer send their statements to.
var _ querier = (*pipe)(nil)

// later queues a statement; check maps its failure to an error.
func (p *pipe) later(check func(error) error, sql string, args ...any) {
	p.queue = append(p.queue, queued{sql: sql, args: args, check: check})
}

// send sends the queued statements and then sql in one batch, and returns
// the batch positioned at sql's result: the caller reads it, then closes
// the batch. The first queued statement that failed ends the pipe.
func (p *pipe) send(ctx context.Context, sql string, args []any) (pgx.BatchResults, error) {
	if p.err != nil {
		return nil, p.err
	}
	b := &pgx.Batch{}
	for _, q := range p.queue {
		b.Queue(q.sql, q.args...)
	}
	b.Queue(sql, args...)
	queue := p.queue
	p.queue = nil
	br := p.conn.SendBatch(ctx, b)
	for _, q := range queue {
		var err error
		if q.scan != nil {
			err = q.scan(br.QueryRow())
		} else {
			_, err = br.Exec()
		}
		if err != nil {
			err = q.check(err)
		}
		if err != nil {
			br.Close()
			p.err = err
			return nil, err
		}
	}
	return br, nil
}

// Exec runs sql after the queued statements.
func (p *pipe) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	if p.err == nil && len(p.queue) == 0 {
		return p.conn.Exec(ctx, sql, args...)
	}
	br, err := p.send(ctx, sql, args)
	if err != nil {
		return pgconn.CommandTag{}, err
	}
	tag, err := br.Exec()
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return tag, err
}

// Query runs sql after the queued statements; closing the rows closes the
// batch.
func (p *pipe) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if p.err == nil && len(p.queue) == 0 {
		return p.conn.Query(ctx, sql, args...)
	}
	br, err := p.send(ctx, sql, args)
	if err != nil {
		return nil, err
	}
	rows, err := br.Query()
	if err != nil {
		br.Close()
		return nil, err
	}
	return &batchRows{Rows: rows, br: br}, nil
}

// QueryRow runs sql after the queued statements; Scan closes the batch.
func (p *pipe) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	if p.err == nil && len(p.queue) == 0 {
		return p.conn.QueryRow(ctx, sql, args...)
	}
	br, err := p.send(ctx, sql, args)
	if err != nil {
		return errRow{err}
	}
	return batchRow{row: br.QueryRow(), br: br}
}

// lockAccount queues the lock of the account's row, which reads its
// revision counter too: from then on the transaction draws the account's
// revisions itself (see nextRevision), since no other can move the
// counter while the lock is held. A missing account fails on the server
// (division by zero), so that nothing queued after the lock runs.
func (p *pipe) lockAccount(account int64) {
	p.account = account
	p.queue = append(p.queue, queued{
		sql:  `SELECT max(revision) + 0 * (1 / count(*)) FROM (SELECT revision FROM accounts WHERE id = $1 FOR NO KEY UPDATE) locked`,
		args: []any{account},
		check: func(err error) error {
			if isNoRow(err) {
				return errNoAccount
			}
			return dbErr("lock the account", err)
		},
		scan: func(row pgx.Row) error {
			err := row.Scan(&p.revision)
			p.known, p.locked = err == nil, p.revision
			return err
		},
	})
}

// nextRevision returns the account's next revision when the lock has
// told its counter, and false when it has not yet (the lock still waits
// in the queue) or account is another than the locked one.
func (p *pipe) nextRevision(account int64) (int64, bool) {
	if !p.known || account != p.account {
		return 0, false
	}
	p.revision++
	return p.revision, true
}

// drew notes a revision of account that the server drew itself (UPDATE …
// RETURNING, while the lock's answer was still to come): the counter the
// lock told is behind it.
func (p *pipe) drew(account, rev int64) {
	if account == p.account {
		p.revision, p.known = rev, true
	}
}

// pipeMark is what a pipe knows of the locked account's revision counter
// at a savepoint.
type pipeMark struct {
	revision int64
	known    bool
}

// mark returns what the pipe knows of the counter now, for undo.
func (p *pipe) mark() pipeMark { return pipeMark{p.revision, p.known} }

// undo goes back to what the pipe knew at m, once the writes since (the
// revisions they drew among them) are rolled back to a savepoint. A mark
// taken before the lock's answer came is of the counter the lock read:
// nothing can draw a revision before that answer but on the server
// (drew), and that tells the counter too.
func (p *pipe) undo(m pipeMark) {
	if !m.known && p.known {
		m.revision, m.known = p.locked, true
	}
	p.revision, p.known = m.revision, m.known
}

// commit sends the queued statements and COMMIT in one round trip.
func (p *pipe) commit(ctx context.Context) error {
	tag, err := p.Exec(ctx, "COMMIT")
	if err != nil {
		return err
	}
	// COMMIT of a transaction that failed answers ROLLBACK, without an error.
	if tag.String() != "COMMIT" {
		return fmt.Errorf("%w: the server answered %s", errRolledBack, tag)
	}
	p.committed = true
	return nil
}

// release ends a transaction that is still open with ROLLBACK (closing the
// connection when even that fails) and gives the connection back.
func (p *pipe) release() {
	if !p.committed && p.conn.Conn().PgConn().TxStatus() != 'I' {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if _, err := p.conn.Exec(ctx, "ROLLBACK"); err != nil {
			p.conn.Conn().Close(ctx)
		}
		cancel()
	}
	p.conn.Release()
}

// batchRows are the rows of a pipe's query: closing them closes the batch.
type batchRows struct {
	pgx.Rows
	br pgx.BatchResults
}

// Close closes the rows and the batch.
func (r *batchRows) Close() {
	r.Rows.Close()
	r.br.Close()
}

// batchRow is the row of a pipe's QueryRow: Scan closes the batch.
type batchRow struct {
	row pgx.Row
	br  pgx.BatchResults
}

// Scan reads the row and closes the batch.
func (r batchRow) Scan(dest ...any) error {
	err := r.row.Scan(dest...)
	if cerr := r.br.Close(); err == nil {
		err = cerr
	}
	return err
}

// errRow is a row that only fails.
type errRow struct{ err error }

// Scan returns the failure.
func (r errRow) Scan(...any) error { return r.err }

// mustChange makes update, an UPDATE of one row, fail with division_by_zero
// when it changes none, so that a queued one that finds no row stops what
// comes after it in its batch (see queued).
func mustChange(update string) string {
	return `WITH changed AS (` + update + ` RETURNING 1) SELECT 1 / count(*) FROM changed`
}

// isNoRow reports whether err is mustChange's failure.
func isNoRow(err error) bool { return isCode(err, "22012") } // division_by_zero

// changesRow maps the failure of a mustChange write: no row is
// storage.ErrNotFound.
func changesRow(what string) func(error) error {
	return func(err error) error {
		if isNoRow(err) {
			return storage.ErrNotFound
		}
		return dbErr(what, err)
	}
}

// refersTo maps the failure of a write whose row refers to another: a
// missing one is storage.ErrNotFound.
func refersTo(what string) func(error) error {
	return func(err error) error {
		if isForeignKeyViolation(err) {
			return storage.ErrNotFound
		}
		return dbErr(what, err)
	}
}

// failsAs maps any failure of a write to dbErr(what).
func failsAs(what string) func(error) error {
	return func(err error) error { return dbErr(what, err) }
}
