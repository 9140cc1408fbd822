package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/coffer-dav/coffer/encryption"
	"github.com/coffer-dav/coffer/storage"
	"github.com/jackc/pgx/v5"
)

// ErrNotEmpty refuses an import into a database that holds data already.
var ErrNotEmpty = errors.New("postgres: the target database is not empty")

// ImportOptions configures ImportFrom.
type ImportOptions struct {
	// Check runs inside the import's transaction, after the copy and its
	// verification, before the commit; an error from it undoes the whole
	// import. It reads the copy through c (key slots, users' spaces).
	Check func(ctx context.Context, c *Copy) error
	// Progress is told of each table once it is copied; nil for none.
	Progress func(t TableCopy)
}

// TableCopy is what the import did with one table.
type TableCopy struct {
	Table  string
	Rows   int64 // the rows copied, as counted on both sides
	NextID int64 // where the table's id generator now stands; 0 for a table without one
}

// ImportResult tells what ImportFrom copied.
type ImportResult struct {
	Tables []TableCopy
}

// Rows returns the rows copied in all tables.
func (r *ImportResult) Rows() int64 {
	var n int64
	for _, t := range r.Tables {
		n += t.Rows
	}
	return n
}

// ImportFrom copies every table of src, a SQLite database's export, into
// this database, which must hold no data yet, all in ONE transaction: it
// either commits the whole copy or leaves the database as empty as it
// found it. The values move as they are: account, collection and object
// ids, revisions and the accounts' revision counters (so sync tokens and
// ETags stay valid), and every sealed value byte for byte. Before the
// commit it verifies the copy: each table's rows counted on both sides
// and summed (storage.TableDigest) as read back from this database, and
// the id generators set past every id the source ever gave; then
// o.Check runs. The tables are locked for the whole import, so no other
// instance reads or writes a half-made copy.
func (db *DB) ImportFrom(ctx context.Context, src *storage.Export, o ImportOptions) (*ImportResult, error) {
	tables := src.Tables()
	names := make([]string, len(tables))
	for i, t := range tables {
		names[i] = pgx.Identifier{t.Name}.Sanitize()
	}
	res := &ImportResult{}
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		// ACCESS EXCLUSIVE: an instance started meanwhile waits, and then
		// sees the whole copy, never an empty database it would set up.
		if _, err := tx.Exec(ctx, `LOCK TABLE `+strings.Join(names, ", ")+` IN ACCESS EXCLUSIVE MODE`); err != nil {
			return dbErr("lock the tables", err)
		}
		var full []string
		for i, t := range tables {
			var has bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM `+names[i]+`)`).Scan(&has); err != nil {
				return dbErr("look into "+t.Name, err)
			}
			if has {
				full = append(full, t.Name)
			}
		}
		if len(full) > 0 {
			return fmt.Errorf("%w: its tables %s hold rows; migrate into a new, empty database (createdb), or drop this one's tables first", ErrNotEmpty, strings.Join(full, ", "))
		}
		for _, t := range tables {
			c, err := copyTable(ctx, tx, src, t)
			if err != nil {
				return err
			}
			res.Tables = append(res.Tables, c)
			if o.Progress != nil {
				o.Progress(c)
			}
		}
		if o.Check != nil {
			c := &Copy{tx: tx}
			c.spaces = storage.NewSpaces(txEngine{tx: tx}, storage.SpaceOptions{})
			if err := o.Check(ctx, c); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// copyTable copies one table with COPY, checks it, and sets its id
// generator past the source's ids.
func copyTable(ctx context.Context, tx pgx.Tx, src *storage.Export, t storage.ExportTable) (TableCopy, error) {
	out := TableCopy{Table: t.Name}
	want, err := src.Count(ctx, t)
	if err != nil {
		return out, err
	}
	rows, err := src.Rows(ctx, t)
	if err != nil {
		return out, err
	}
	n, err := tx.CopyFrom(ctx, pgx.Identifier{t.Name}, t.ColumnNames(), rows)
	rows.Close()
	if err == nil {
		err = rows.Err()
	}
	if err != nil {
		return out, dbErr("copy "+t.Name, err)
	}
	got, err := readBack(ctx, tx, t)
	if err != nil {
		return out, err
	}
	if n != want || rows.Count() != want || got.rows != want {
		return out, fmt.Errorf("postgres: copy %s: the source has %d rows, %d were read, %d copied and %d read back", t.Name, want, rows.Count(), n, got.rows)
	}
	if got.digest != rows.Digest() {
		return out, fmt.Errorf("postgres: copy %s: the rows read back differ from the source's", t.Name)
	}
	out.Rows = n
	if t.IDColumn != "" {
		next, err := src.NextID(ctx, t)
		if err != nil {
			return out, err
		}
		// is_called false: the next id given is next itself.
		if _, err := tx.Exec(ctx, `SELECT setval(pg_get_serial_sequence($1, $2), $3, false)`, t.Name, t.IDColumn, next); err != nil {
			return out, dbErr("set the next id of "+t.Name, err)
		}
		out.NextID = next
	}
	return out, nil
}

// readBackResult is a table as this database holds it.
type readBackResult struct {
	rows   int64
	digest storage.TableDigest
}

// readBack reads every row of a table back and sums it as the export did.
func readBack(ctx context.Context, tx pgx.Tx, t storage.ExportTable) (readBackResult, error) {
	var out readBackResult
	cols := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		cols[i] = pgx.Identifier{c.Name}.Sanitize()
	}
	rows, err := tx.Query(ctx, `SELECT `+strings.Join(cols, ", ")+` FROM `+pgx.Identifier{t.Name}.Sanitize())
	if err != nil {
		return out, dbErr("read back "+t.Name, err)
	}
	defer rows.Close()
	dest := make([]any, len(t.Columns))
	ints := make([]*int64, len(t.Columns))
	texts := make([]*string, len(t.Columns))
	bools := make([]*bool, len(t.Columns))
	blobs := make([][]byte, len(t.Columns))
	values := make([]any, len(t.Columns))
	for rows.Next() {
		for i, c := range t.Columns {
			switch c.Type {
			case storage.ColumnInt:
				dest[i] = &ints[i]
			case storage.ColumnText:
				dest[i] = &texts[i]
			case storage.ColumnBool:
				dest[i] = &bools[i]
			case storage.ColumnBytes:
				dest[i] = &blobs[i]
			}
		}
		if err := rows.Scan(dest...); err != nil {
			return out, dbErr("read back "+t.Name, err)
		}
		for i, c := range t.Columns {
			values[i] = nil
			switch c.Type {
			case storage.ColumnInt:
				if ints[i] != nil {
					values[i] = *ints[i]
				}
			case storage.ColumnText:
				if texts[i] != nil {
					values[i] = *texts[i]
				}
			case storage.ColumnBool:
				if bools[i] != nil {
					values[i] = *bools[i]
				}
			case storage.ColumnBytes:
				if blobs[i] != nil {
					values[i] = blobs[i]
				}
			}
		}
		out.digest.Add(values)
		out.rows++
	}
	if err := rows.Err(); err != nil {
		return out, dbErr("read back "+t.Name, err)
	}
	return out, nil
}

// Copy is an import's copy as its transaction sees it before the commit:
// what ImportOptions.Check reads.
type Copy struct {
	tx     pgx.Tx
	spaces *storage.Spaces
}

// AccountByUsername returns an account of the copy, or storage.ErrNotFound.
func (c *Copy) AccountByUsername(ctx context.Context, username string) (*storage.Account, error) {
	a, err := scanAccount(c.tx.QueryRow(ctx, `SELECT `+accountColumns+` FROM accounts WHERE username = $1`, username))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, storage.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: find account: %w", err)
	}
	return a, nil
}

// Slot returns an account's key slot of a kind in the copy, or storage.ErrNotFound.
func (c *Copy) Slot(ctx context.Context, account int64, kind string) (encryption.Slot, error) {
	var s encryption.Slot
	err := c.tx.QueryRow(ctx, `SELECT kdf, wrapped FROM key_slots WHERE account_id = $1 AND kind = $2`, account, kind).Scan(&s.KDF, &s.Wrapped)
	if errors.Is(err, pgx.ErrNoRows) {
		return encryption.Slot{}, storage.ErrNotFound
	}
	if err != nil {
		return encryption.Slot{}, fmt.Errorf("postgres: read key slot: %w", err)
	}
	return s, nil
}

// Space opens an account's data in the copy, read only: a write fails.
// Its reads must not run concurrently (one transaction underlies them).
func (c *Copy) Space(account int64, keys *encryption.Keyring) storage.Space {
	return c.spaces.Space(account, keys)
}

// errReadOnly refuses a write to an import's copy.
var errReadOnly = errors.New("postgres: an import's copy is read only until it commits")

// txEngine is a row engine over the import's transaction, read only.
type txEngine struct {
	tx pgx.Tx
}

// Reader reads through the transaction.
func (e txEngine) Reader() storage.RowReader { return reader{q: e.tx} }

// View runs fn over the transaction.
func (e txEngine) View(_ context.Context, fn func(storage.RowReader) error) error {
	return fn(reader{q: e.tx})
}

// Update refuses: the copy is read only.
func (e txEngine) Update(context.Context, int64, func(storage.RowWriter) error) error {
	return errReadOnly
}
