package storage

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
)

// A copy of a database to another engine (coffer storage migrate) reads
// the SQLite database through an Export: every table a database holds,
// row by row, with each value as stored (sealed values byte for byte, row
// ids, revisions and the accounts' revision counters included), over one
// snapshot. The tables and columns are named as both engines name them;
// the values are int64, string, []byte, bool or nil (NULL), so the
// target needs no SQLite knowledge. What SQLite alone keeps is not
// exported: its AUTOINCREMENT bookkeeping (sqlite_sequence, which
// NextID carries over instead) and the rebuild mark (the "rebuild_pending"
// setting, a VACUUM due to this file).

// ColumnType says what values an exported column holds.
type ColumnType int

// The types of exported columns.
const (
	ColumnInt   ColumnType = iota + 1 // int64
	ColumnText                        // string
	ColumnBytes                       // []byte, kept as stored: NULL (nil) and empty apart
	ColumnBool                        // bool; SQLite stores it as 0 or 1
)

// ExportColumn is one column of an exported table.
type ExportColumn struct {
	Name     string
	Type     ColumnType
	Nullable bool // the value may be nil (NULL)
}

// ExportTable is one table of an export. Tables come in an order in
// which every row refers only to rows of tables before it.
type ExportTable struct {
	Name    string
	Columns []ExportColumn
	// IDColumn is the column whose values the target's generator of ids
	// must stay above (NextID), or "" when the table has none.
	IDColumn string

	from  string // what the SQLite query selects from, with the filter
	order string // the ORDER BY of the rows: the primary key
	// sqlite are the SQLite expressions of the columns, where they differ
	// from the column names.
	sqlite map[int]string
	// sequence says that the ids are AUTOINCREMENT ones, never given
	// again: NextID also counts those of deleted rows.
	sequence bool
}

// ColumnNames returns the names of the table's columns, in order.
func (t ExportTable) ColumnNames() []string {
	out := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		out[i] = c.Name
	}
	return out
}

func col(name string, t ColumnType) ExportColumn { return ExportColumn{Name: name, Type: t} }
func nullCol(name string, t ColumnType) ExportColumn {
	return ExportColumn{Name: name, Type: t, Nullable: true}
}

// exportTables are the tables of a database, as the final schema of
// migrations/ left them, parents first.
var exportTables = []ExportTable{
	{Name: "accounts", IDColumn: "id", sequence: true, order: "id", Columns: []ExportColumn{
		col("id", ColumnInt), col("username", ColumnText), col("email", ColumnText), col("display_name", ColumnText),
		col("created_at", ColumnInt), col("revision", ColumnInt)}},
	{Name: "key_slots", order: "account_id, kind", Columns: []ExportColumn{
		col("account_id", ColumnInt), col("kind", ColumnText), col("kdf", ColumnText), col("wrapped", ColumnBytes),
		col("created_at", ColumnInt)}},
	// seq is SQLite's rowid, which orders an account's app passwords.
	{Name: "app_passwords", IDColumn: "seq", order: "rowid", sqlite: map[int]string{0: "rowid"}, Columns: []ExportColumn{
		col("seq", ColumnInt), col("account_id", ColumnInt), col("id", ColumnText), col("label_sealed", ColumnBytes),
		col("verifier", ColumnBytes), col("created_at", ColumnInt), col("last_used_at", ColumnInt)}},
	{Name: "sessions", order: "id_mac", Columns: []ExportColumn{
		col("id_mac", ColumnBytes), col("account_id", ColumnInt), col("created_at", ColumnInt), col("seen_at", ColumnInt),
		col("expires_at", ColumnInt)}},
	{Name: "account_lifecycle", order: "account_id", Columns: []ExportColumn{
		col("account_id", ColumnInt), col("permanent", ColumnBool), col("registered_at", ColumnInt),
		nullCol("confirmed_at", ColumnInt), nullCol("trial_end", ColumnInt), nullCol("paid_through", ColumnInt),
		col("plan", ColumnText), nullCol("purging_at", ColumnInt)}},
	{Name: "account_events", IDColumn: "id", order: "id", Columns: []ExportColumn{
		col("id", ColumnInt), col("account_id", ColumnInt), col("kind", ColumnText), col("detail", ColumnText),
		col("at", ColumnInt), nullCol("once_key", ColumnText), col("mail", ColumnText)}},
	{Name: "outbox", IDColumn: "id", sequence: true, order: "id", Columns: []ExportColumn{
		col("id", ColumnInt), col("account_id", ColumnInt), col("kind", ColumnText), nullCol("event_id", ColumnInt),
		nullCol("collapse_key", ColumnBytes), col("payload_sealed", ColumnBytes), col("attempts", ColumnInt), col("next_try", ColumnInt),
		col("claimed_until", ColumnInt), col("created_at", ColumnInt)}},
	{Name: "payments", order: "transaction_id", Columns: []ExportColumn{
		col("transaction_id", ColumnText), col("account_id", ColumnInt), col("plan", ColumnText),
		col("paid_through", ColumnInt), col("applied_at", ColumnInt)}},
	{Name: "vouchers", order: "code_hash", Columns: []ExportColumn{
		col("code_hash", ColumnBytes), col("plan", ColumnText), col("days", ColumnInt), col("created_at", ColumnInt),
		nullCol("redeemed_by", ColumnInt), nullCol("redeemed_at", ColumnInt)}},
	{Name: "settings", from: "settings WHERE key <> '" + rebuildKey + "'", order: "key", Columns: []ExportColumn{
		col("key", ColumnText), col("value", ColumnText)}},
	{Name: "collections", IDColumn: "id", sequence: true, order: "id", Columns: []ExportColumn{
		col("id", ColumnInt), col("account_id", ColumnInt), col("revision", ColumnInt), col("created_rev", ColumnInt),
		col("forgotten_rev", ColumnInt), col("tombstones", ColumnInt), col("object_count", ColumnInt),
		col("object_bytes", ColumnInt), col("props_bytes", ColumnInt), col("created_at", ColumnInt),
		col("home", ColumnText), col("kind", ColumnText), col("uid", ColumnBytes), col("name_mac", ColumnBytes),
		col("name_sealed", ColumnBytes), col("props_sealed", ColumnBytes)}},
	{Name: "push_subscriptions", IDColumn: "seq", order: "seq", Columns: []ExportColumn{
		col("seq", ColumnInt), col("account_id", ColumnInt), col("id", ColumnText), nullCol("collection_id", ColumnInt),
		col("scope", ColumnText), col("resource_mac", ColumnBytes),
		col("subscription_sealed", ColumnBytes), col("expires_at", ColumnInt), col("created_at", ColumnInt)}},
	{Name: "objects", IDColumn: "id", order: "id", Columns: []ExportColumn{
		col("id", ColumnInt), col("collection_id", ColumnInt), col("size", ColumnInt), col("meta_bytes", ColumnInt),
		col("modified_at", ColumnInt), col("revision", ColumnInt), col("sealed_rev", ColumnInt), col("seal_v", ColumnInt),
		col("etag", ColumnText), col("name_mac", ColumnBytes), nullCol("uid_mac", ColumnBytes),
		col("name_sealed", ColumnBytes), col("ctype_sealed", ColumnBytes), nullCol("index_sealed", ColumnBytes),
		nullCol("props_sealed", ColumnBytes), nullCol("uid_sealed", ColumnBytes)}},
	{Name: "object_bodies", order: "object_id", Columns: []ExportColumn{
		col("object_id", ColumnInt), col("body_sealed", ColumnBytes)}},
	{Name: "changes", order: "collection_id, name_mac", Columns: []ExportColumn{
		col("collection_id", ColumnInt), col("revision", ColumnInt), col("deleted", ColumnBool),
		col("name_mac", ColumnBytes), col("name_sealed", ColumnBytes)}},
	{Name: "collection_props", order: "collection_id, name_mac", Columns: []ExportColumn{
		col("collection_id", ColumnInt), col("bytes", ColumnInt), col("revision", ColumnInt),
		col("name_mac", ColumnBytes), col("value_sealed", ColumnBytes)}},
	{Name: "object_props", order: "object_id, name_mac", Columns: []ExportColumn{
		col("object_id", ColumnInt), col("bytes", ColumnInt), col("revision", ColumnInt),
		col("name_mac", ColumnBytes), col("value_sealed", ColumnBytes)}},
	{Name: "scope_props", order: "account_id, scope, name_mac", Columns: []ExportColumn{
		col("account_id", ColumnInt), col("scope", ColumnText), col("bytes", ColumnInt), col("revision", ColumnInt),
		col("name_mac", ColumnBytes), col("value_sealed", ColumnBytes)}},
	{Name: "account_props", order: "account_id, scope", Columns: []ExportColumn{
		col("account_id", ColumnInt), col("scope", ColumnText), col("bytes", ColumnInt), col("props_sealed", ColumnBytes)}},
}

// ExportTables returns the tables an export gives, parents first.
func ExportTables() []ExportTable { return append([]ExportTable(nil), exportTables...) }

// NotExported names what a SQLite database keeps that an export leaves
// out, for the help and the README.
const NotExported = "SQLite's bookkeeping, sqlite_sequence (the next ids\ncarry over instead) and the rebuild mark (a VACUUM due to the SQLite file)"

// Export is a consistent read of every table of a database, for a copy
// into another engine. Close it when done.
type Export struct {
	tx *sql.Tx
}

// Export opens a read of the database over one snapshot: every read
// through it sees the same commit, whatever is written meanwhile.
func (db *DB) Export(ctx context.Context) (*Export, error) {
	tx, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("storage: export: %w", err)
	}
	// SQLite takes a read transaction's snapshot at its first read.
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM accounts`).Scan(&n); err != nil {
		tx.Rollback()
		return nil, fmt.Errorf("storage: export: %w", err)
	}
	return &Export{tx: tx}, nil
}

// Close ends the export's read.
func (e *Export) Close() error { return e.tx.Rollback() }

// Tables returns the tables the export gives, parents first.
func (e *Export) Tables() []ExportTable { return ExportTables() }

// fromClause is what the table's rows are selected from.
func (t ExportTable) fromClause() string {
	if t.from != "" {
		return t.from
	}
	return t.Name
}

// Count returns the rows of a table the export gives.
func (e *Export) Count(ctx context.Context, t ExportTable) (int64, error) {
	var n int64
	if err := e.tx.QueryRowContext(ctx, `SELECT count(*) FROM `+t.fromClause()).Scan(&n); err != nil {
		return 0, fmt.Errorf("storage: export: count %s: %w", t.Name, err)
	}
	return n, nil
}

// NextID returns the lowest id of the table's IDColumn that was never
// given: above every row's, and for AUTOINCREMENT ids above those of
// rows deleted since, so that a target never gives an id again. It is 1
// for a table without IDColumn.
func (e *Export) NextID(ctx context.Context, t ExportTable) (int64, error) {
	if t.IDColumn == "" {
		return 1, nil
	}
	expr := t.IDColumn
	if t.Name == "app_passwords" {
		expr = "rowid"
	}
	var max int64
	if err := e.tx.QueryRowContext(ctx, `SELECT coalesce(max(`+expr+`), 0) FROM `+t.Name).Scan(&max); err != nil {
		return 0, fmt.Errorf("storage: export: ids of %s: %w", t.Name, err)
	}
	if t.sequence {
		var seq sql.NullInt64
		err := e.tx.QueryRowContext(ctx, `SELECT seq FROM sqlite_sequence WHERE name = ?`, t.Name).Scan(&seq)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return 0, fmt.Errorf("storage: export: ids of %s: %w", t.Name, err)
		}
		if seq.Valid && seq.Int64 > max {
			max = seq.Int64
		}
	}
	return max + 1, nil
}

// ExportRows is a stream of one table's rows, in the order of its primary
// key. Its methods are those of pgx's CopyFromSource.
type ExportRows struct {
	t      ExportTable
	rows   *sql.Rows
	values []any
	err    error
	n      int64
	digest TableDigest
}

// Rows streams the rows of a table. Close the stream when done.
func (e *Export) Rows(ctx context.Context, t ExportTable) (*ExportRows, error) {
	exprs := t.ColumnNames()
	for i, s := range t.sqlite {
		exprs[i] = s
	}
	rows, err := e.tx.QueryContext(ctx, `SELECT `+strings.Join(exprs, ", ")+` FROM `+t.fromClause()+` ORDER BY `+t.order)
	if err != nil {
		return nil, fmt.Errorf("storage: export %s: %w", t.Name, err)
	}
	return &ExportRows{t: t, rows: rows}, nil
}

// Next moves to the next row; false at the end or on an error (Err).
func (r *ExportRows) Next() bool {
	if r.err != nil || !r.rows.Next() {
		return false
	}
	dest := make([]any, len(r.t.Columns))
	for i, c := range r.t.Columns {
		switch c.Type {
		case ColumnInt, ColumnBool:
			dest[i] = new(sql.NullInt64)
		case ColumnText:
			dest[i] = new(sql.NullString)
		case ColumnBytes:
			dest[i] = new([]byte)
		}
	}
	if err := r.rows.Scan(dest...); err != nil {
		r.err = fmt.Errorf("storage: export %s: %w", r.t.Name, err)
		return false
	}
	r.values = make([]any, len(dest))
	for i, c := range r.t.Columns {
		var v any
		switch d := dest[i].(type) {
		case *sql.NullInt64:
			if d.Valid {
				v = d.Int64
				if c.Type == ColumnBool {
					v = d.Int64 != 0
				}
			}
		case *sql.NullString:
			if d.Valid {
				v = d.String
			}
		case *[]byte:
			if *d != nil {
				v = *d
			}
		}
		if v == nil && !c.Nullable {
			r.err = fmt.Errorf("storage: export %s: column %s is NULL in row %d", r.t.Name, c.Name, r.n+1)
			return false
		}
		r.values[i] = v
	}
	r.n++
	r.digest.Add(r.values)
	return true
}

// Values returns the current row's values, one per column: int64,
// string, []byte, bool or nil.
func (r *ExportRows) Values() ([]any, error) { return r.values, nil }

// Err returns the error that ended the stream, if any.
func (r *ExportRows) Err() error {
	if r.err != nil {
		return r.err
	}
	if err := r.rows.Err(); err != nil {
		return fmt.Errorf("storage: export %s: %w", r.t.Name, err)
	}
	return nil
}

// Close ends the stream.
func (r *ExportRows) Close() error { return r.rows.Close() }

// Count returns how many rows the stream gave so far.
func (r *ExportRows) Count() int64 { return r.n }

// Digest returns the digest of the rows the stream gave so far.
func (r *ExportRows) Digest() TableDigest { return r.digest }

// TableDigest sums a table's rows, in any order: the XOR of a SHA-256 of
// each row's values. Two tables of distinct rows with the same digest
// hold the same rows, but for a collision of SHA-256.
type TableDigest [sha256.Size]byte

// Add adds a row of values (int64, string, []byte, bool or nil) to the digest.
func (d *TableDigest) Add(values []any) {
	h := sha256.New()
	var b [9]byte
	for _, v := range values {
		switch v := v.(type) {
		case nil:
			h.Write([]byte{0})
		case int64:
			b[0] = 1
			binary.BigEndian.PutUint64(b[1:], uint64(v))
			h.Write(b[:])
		case bool:
			b[0] = 2
			if v {
				b[1] = 1
			} else {
				b[1] = 0
			}
			h.Write(b[:2])
		case string:
			b[0] = 3
			binary.BigEndian.PutUint64(b[1:], uint64(len(v)))
			h.Write(b[:])
			h.Write([]byte(v))
		case []byte:
			b[0] = 4
			binary.BigEndian.PutUint64(b[1:], uint64(len(v)))
			h.Write(b[:])
			h.Write(v)
		default:
			panic(fmt.Sprintf("storage: digest of a %T", v))
		}
	}
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	for i := range d {
		d[i] ^= sum[i]
	}
}

// SpaceCheck counts what CheckSpace read.
type SpaceCheck struct {
	Collections int
	Objects     int
	Changes     int
	Bytes       int64 // of the bodies
}

// checkBatch is how many objects CheckSpace reads with their bodies at once.
const checkBatch = 200

// CheckSpace reads and opens every sealed record of a user's space: the
// properties of the principal and the homes, every collection with its
// properties, every object with its body and properties, the query index
// and the change log. It fails on the first record that does not open
// (ErrDamaged, or the error of the read), so that a copy of a database
// is known to open under the user's key.
func CheckSpace(ctx context.Context, sp Space) (SpaceCheck, error) {
	var out SpaceCheck
	for _, scope := range []Scope{ScopePrincipal, ScopeCalendars, ScopeAddressBooks} {
		if _, err := sp.Props(ctx, scope); err != nil {
			return out, fmt.Errorf("the properties of %s: %w", scope, err)
		}
	}
	for _, home := range []Home{HomeCalendars, HomeAddressBooks} {
		colls, err := sp.Collections(ctx, home)
		if err != nil {
			return out, fmt.Errorf("the collections of %s: %w", home, err)
		}
		for _, c := range colls {
			out.Collections++
			objs, err := sp.Objects(ctx, c.ID)
			if err != nil {
				return out, fmt.Errorf("the objects of collection %d: %w", c.ID, err)
			}
			for i := 0; i < len(objs); i += checkBatch {
				names := make([]string, 0, checkBatch)
				for _, o := range objs[i:min(i+checkBatch, len(objs))] {
					names = append(names, o.Name)
				}
				got, err := sp.ObjectsNamed(ctx, c.ID, names, ReadOptions{Body: true})
				if err != nil {
					return out, fmt.Errorf("the objects of collection %d: %w", c.ID, err)
				}
				for j, o := range got {
					if o == nil {
						return out, fmt.Errorf("collection %d: an object listed is not there to read: %w", c.ID, ErrDamaged)
					}
					if o.ETag != objs[i+j].ETag || int64(len(o.Body)) != o.Size {
						return out, fmt.Errorf("collection %d: an object's ETag or size differs between its listing and its read: %w", c.ID, ErrDamaged)
					}
					out.Objects++
					out.Bytes += o.Size
				}
			}
			if _, _, err := sp.Index(ctx, c.ID); err != nil {
				return out, fmt.Errorf("the index of collection %d: %w", c.ID, err)
			}
			changes, _, err := sp.Changes(ctx, c.ID, 0)
			if err != nil && !errors.Is(err, ErrBadRevision) {
				return out, fmt.Errorf("the changes of collection %d: %w", c.ID, err)
			}
			out.Changes += len(changes)
		}
	}
	return out, nil
}
