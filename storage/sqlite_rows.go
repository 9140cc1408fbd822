package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// sqliteRows is the SQLite engine's reader and writer of Space rows, over
// the read pool, a read transaction or the write transaction.
type sqliteRows struct {
	q sqlQuerier
}

// sqlQuerier is what *sql.DB and *sql.Tx both offer.
type sqlQuerier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// The SQLite database is an engine of Space rows.
var _ Engine = (*DB)(nil)

// Reader returns a reader over the read pool.
func (db *DB) Reader() RowReader { return sqliteRows{q: db.read} }

// View runs fn in a read transaction, over one snapshot.
func (db *DB) View(ctx context.Context, fn func(RowReader) error) error {
	tx, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("storage: begin: %w", err)
	}
	defer tx.Rollback()
	return fn(sqliteRows{q: tx})
}

// Update runs fn in a write transaction through the group commit. SQLite
// has one writer, so every write of the account is already in order.
func (db *DB) Update(ctx context.Context, _ int64, fn func(RowWriter) error) error {
	return db.inTx(ctx, func(tx *sql.Tx) error { return fn(sqliteRows{q: tx}) })
}

const collectionRowColumns = `id, account_id, home, kind, uid, name_mac, name_sealed, props_sealed, props_bytes, revision, created_rev, forgotten_rev, created_at, object_count, object_bytes`

func scanCollectionRow(scan func(...any) error) (*CollectionRow, error) {
	var c CollectionRow
	var home, kind string
	if err := scan(&c.ID, &c.Account, &home, &kind, &c.UID, &c.NameMAC, &c.NameSealed, &c.PropsSealed, &c.PropsBytes, &c.Revision, &c.CreatedRev, &c.ForgottenRev, &c.Created, &c.ObjectCount, &c.ObjectBytes); err != nil {
		return nil, err
	}
	c.Home, c.Kind = Home(home), Kind(kind)
	return &c, nil
}

// Collections lists an account's collections in home, or in both.
func (r sqliteRows) Collections(ctx context.Context, account int64, home Home) ([]CollectionRow, error) {
	query, args := `SELECT `+collectionRowColumns+` FROM collections WHERE account_id = ? ORDER BY id`, []any{account}
	if home != "" {
		query, args = `SELECT `+collectionRowColumns+` FROM collections WHERE account_id = ? AND home = ? ORDER BY id`, []any{account, string(home)}
	}
	rows, err := r.q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("storage: list collections: %w", err)
	}
	defer rows.Close()
	var out []CollectionRow
	for rows.Next() {
		c, err := scanCollectionRow(rows.Scan)
		if err != nil {
			return nil, fmt.Errorf("storage: list collections: %w", err)
		}
		out = append(out, *c)
	}
	return out, rows.Err()
}

// CollectionNamed returns the account's collection with a name MAC and
// its property rows: two reads, each cheap without a round trip.
func (r sqliteRows) CollectionNamed(ctx context.Context, account int64, mac []byte) (*CollectionRow, []PropRow, error) {
	c, err := r.collection(ctx, `account_id = ? AND name_mac = ?`, account, mac)
	if err != nil {
		return nil, nil, err
	}
	props, err := r.CollectionProps(ctx, []int64{c.ID})
	if err != nil {
		return nil, nil, err
	}
	return c, props, nil
}

// CollectionByID returns the account's collection with a row id.
func (r sqliteRows) CollectionByID(ctx context.Context, account int64, id int64) (*CollectionRow, error) {
	return r.collection(ctx, `account_id = ? AND id = ?`, account, id)
}

func (r sqliteRows) collection(ctx context.Context, cond string, args ...any) (*CollectionRow, error) {
	c, err := scanCollectionRow(r.q.QueryRowContext(ctx, `SELECT `+collectionRowColumns+` FROM collections WHERE `+cond, args...).Scan)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("storage: read collection: %w", err)
	}
	return c, nil
}

// CollectionProps returns the property rows of the given collections.
func (r sqliteRows) CollectionProps(ctx context.Context, ids []int64) ([]PropRow, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	return r.propRows(ctx, `SELECT collection_id, name_mac, value_sealed, bytes, revision FROM collection_props WHERE collection_id IN (`+placeholders(len(ids))+`)`, anys(ids)...)
}

const objectRowColumns = `o.id, o.collection_id, o.name_mac, o.name_sealed, o.uid_mac, o.etag, o.ctype_sealed, o.props_sealed, o.index_sealed, o.uid_sealed, o.size, o.meta_bytes, o.modified_at, o.revision, o.seal_v, o.sealed_rev`

func scanObjectRow(scan func(...any) error, extra ...any) (*ObjectRow, error) {
	var o ObjectRow
	dest := []any{&o.ID, &o.Collection, &o.NameMAC, &o.NameSealed, &o.UIDMAC, &o.ETag, &o.CtypeSealed, &o.PropsSealed, &o.IndexSealed, &o.UIDSealed, &o.Size, &o.MetaBytes, &o.Modified, &o.Revision, &o.SealV, &o.SealedRev}
	if err := scan(append(dest, extra...)...); err != nil {
		return nil, err
	}
	return &o, nil
}

// Objects returns the object rows that q selects.
func (r sqliteRows) Objects(ctx context.Context, collection int64, q ObjectQuery) ([]ObjectRow, error) {
	from, body := `objects o`, `NULL`
	if q.Body {
		// A LEFT JOIN, so that a body row gone reads as damage, not as no object.
		from, body = `objects o LEFT JOIN object_bodies b ON b.object_id = o.id`, `b.body_sealed`
	}
	query, args := `SELECT `+objectRowColumns+`, `+body+` FROM `+from+` WHERE o.collection_id = ?`, []any{collection}
	switch {
	case q.LegacyOnly:
		query += ` AND o.seal_v = ? AND o.id > ? ORDER BY o.id LIMIT ?`
		args = append(args, sealLegacy, q.After, q.Limit)
	case q.NameMACs != nil:
		if len(q.NameMACs) == 0 {
			return nil, nil
		}
		query += ` AND o.name_mac IN (` + placeholders(len(q.NameMACs)) + `)`
		for _, m := range q.NameMACs {
			args = append(args, m)
		}
	default:
		query += ` ORDER BY o.revision`
	}
	rows, err := r.q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("storage: read objects: %w", err)
	}
	defer rows.Close()
	var out []ObjectRow
	for rows.Next() {
		var b []byte
		o, err := scanObjectRow(rows.Scan, &b)
		if err != nil {
			return nil, fmt.Errorf("storage: read objects: %w", err)
		}
		o.BodySealed = b
		out = append(out, *o)
	}
	if err := rows.Err(); err != nil || !q.Props || len(out) == 0 {
		return out, err
	}
	var ids []int64 // nil: the whole collection's, for a listing of it
	at := make(map[int64]int, len(out))
	for i := range out {
		at[out[i].ID] = i
		if q.NameMACs != nil || q.LegacyOnly {
			ids = append(ids, out[i].ID)
		}
	}
	props, err := r.objectProps(ctx, collection, ids)
	if err != nil {
		return nil, err
	}
	for _, p := range props {
		if i, ok := at[p.Owner]; ok {
			out[i].Props = append(out[i].Props, p)
		}
	}
	return out, nil
}

// objectProps returns the property rows of objects of a collection, or of
// all its objects for nil.
func (r sqliteRows) objectProps(ctx context.Context, collection int64, ids []int64) ([]PropRow, error) {
	if ids == nil {
		return r.propRows(ctx, `SELECT p.object_id, p.name_mac, p.value_sealed, p.bytes, p.revision FROM object_props p JOIN objects o ON o.id = p.object_id WHERE o.collection_id = ?`, collection)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	return r.propRows(ctx, `SELECT object_id, name_mac, value_sealed, bytes, revision FROM object_props WHERE object_id IN (`+placeholders(len(ids))+`)`, anys(ids)...)
}

// propTable returns the table of an owner's rows, the condition that
// selects them, and its arguments.
func propTable(o PropOwner) (table, where string, key []any) {
	switch o.Table {
	case PropsOfCollection:
		return "collection_props", "collection_id = ?", []any{o.ID}
	case PropsOfObject:
		return "object_props", "object_id = ?", []any{o.ID}
	default:
		return "scope_props", "account_id = ? AND scope = ?", []any{o.ID, string(o.Scope)}
	}
}

// Props returns the property rows of one owner.
func (r sqliteRows) Props(ctx context.Context, o PropOwner) ([]PropRow, error) {
	table, where, key := propTable(o)
	return r.propRows(ctx, `SELECT 0, name_mac, value_sealed, bytes, revision FROM `+table+` WHERE `+where, key...)
}

// Prop returns one property row of an owner.
func (r sqliteRows) Prop(ctx context.Context, o PropOwner, mac []byte) (*PropRow, error) {
	table, where, key := propTable(o)
	p := PropRow{NameMAC: mac}
	err := r.q.QueryRowContext(ctx, `SELECT value_sealed, bytes, revision FROM `+table+` WHERE `+where+` AND name_mac = ?`, append(key, mac)...).Scan(&p.ValueSealed, &p.Bytes, &p.Revision)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("storage: read property: %w", err)
	}
	return &p, nil
}

func (r sqliteRows) propRows(ctx context.Context, query string, args ...any) ([]PropRow, error) {
	rows, err := r.q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("storage: read properties: %w", err)
	}
	defer rows.Close()
	var out []PropRow
	for rows.Next() {
		var p PropRow
		if err := rows.Scan(&p.Owner, &p.NameMAC, &p.ValueSealed, &p.Bytes, &p.Revision); err != nil {
			return nil, fmt.Errorf("storage: read properties: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// Changes returns the account's collection row and its change log after
// revision since, in one statement (a read outside a transaction sees one
// snapshot only within a statement): the collection's columns come with
// each entry, or once with NULLs for none.
func (r sqliteRows) Changes(ctx context.Context, account, collection, since int64) (*CollectionRow, []ChangeRow, error) {
	rows, err := r.q.QueryContext(ctx,
		`SELECT `+changesCollectionColumns+`, ch.name_mac IS NOT NULL, ch.name_mac, ch.name_sealed, coalesce(ch.revision, 0), coalesce(ch.deleted, 0), o.id IS NOT NULL,
		        coalesce(o.id, 0), coalesce(o.collection_id, 0), o.name_mac, o.name_sealed, o.uid_mac, coalesce(o.etag, ''), o.ctype_sealed, o.props_sealed, o.index_sealed, o.uid_sealed,
		        coalesce(o.size, 0), coalesce(o.meta_bytes, 0), coalesce(o.modified_at, 0), coalesce(o.revision, 0), coalesce(o.seal_v, 0), coalesce(o.sealed_rev, 0)
		 FROM collections col LEFT JOIN changes ch ON ch.collection_id = col.id AND ch.revision > ?
		 LEFT JOIN objects o ON o.collection_id = ch.collection_id AND o.name_mac = ch.name_mac
		 WHERE col.id = ? AND col.account_id = ? ORDER BY ch.revision`, since, collection, account)
	if err != nil {
		return nil, nil, fmt.Errorf("storage: read changes: %w", err)
	}
	defer rows.Close()
	var coll *CollectionRow
	var out []ChangeRow
	for rows.Next() {
		var c ChangeRow
		var change, live bool
		var o *ObjectRow
		col, err := scanCollectionRow(func(dest ...any) error {
			var err error
			o, err = scanObjectRow(func(odest ...any) error {
				return rows.Scan(append(append(dest, &change, &c.NameMAC, &c.NameSealed, &c.Revision, &c.Deleted, &live), odest...)...)
			})
			return err
		})
		if err != nil {
			return nil, nil, fmt.Errorf("storage: read changes: %w", err)
		}
		coll = col
		if !change {
			continue // the collection has no change after since
		}
		if live {
			c.Object = o
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("storage: read changes: %w", err)
	}
	if coll == nil {
		return nil, nil, ErrNotFound
	}
	return coll, out, nil
}

// changesCollectionColumns are collectionRowColumns of the collection col.
var changesCollectionColumns = "col." + strings.ReplaceAll(collectionRowColumns, ", ", ", col.")

// UIDHolder returns the object of a collection, other than those of
// except, that has one of the UID MACs.
func (r sqliteRows) UIDHolder(ctx context.Context, collection int64, uidMACs, except [][]byte) ([]byte, []byte, error) {
	query, args := `SELECT name_mac, name_sealed FROM objects WHERE collection_id = ?`, []any{collection}
	for _, m := range except {
		query += ` AND name_mac <> ?`
		args = append(args, m)
	}
	query += ` AND uid_mac IN (` + placeholders(len(uidMACs)) + `)`
	for _, m := range uidMACs {
		args = append(args, m)
	}
	var mac, name []byte
	err := r.q.QueryRowContext(ctx, query+` LIMIT 1`, args...).Scan(&mac, &name)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, ErrNotFound
	}
	if err != nil {
		return nil, nil, fmt.Errorf("storage: check uid: %w", err)
	}
	return mac, name, nil
}

// ScopeLegacy returns the property set of a scope sealed whole, or nil.
func (r sqliteRows) ScopeLegacy(ctx context.Context, account int64, scope Scope) ([]byte, error) {
	var legacy []byte
	err := r.q.QueryRowContext(ctx, `SELECT props_sealed FROM account_props WHERE account_id = ? AND scope = ?`, account, string(scope)).Scan(&legacy)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("storage: read account properties: %w", err)
	}
	return legacy, nil
}

// ScopeBytes returns what the properties of a scope count for.
func (r sqliteRows) ScopeBytes(ctx context.Context, account int64, scope Scope) (int64, error) {
	var n int64
	err := r.q.QueryRowContext(ctx, `SELECT coalesce((SELECT sum(bytes) FROM scope_props WHERE account_id = ?1 AND scope = ?2), 0)
		+ coalesce((SELECT sum(bytes) FROM account_props WHERE account_id = ?1 AND scope = ?2), 0)`, account, string(scope)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("storage: read account properties: %w", err)
	}
	return n, nil
}

// Usage returns what an account's collections, objects and properties count for.
func (r sqliteRows) Usage(ctx context.Context, account int64) (int64, error) {
	var n int64
	err := r.q.QueryRowContext(ctx, `SELECT coalesce((SELECT sum(object_bytes + props_bytes) FROM collections WHERE account_id = ?1), 0)
	      + coalesce((SELECT sum(bytes) FROM account_props WHERE account_id = ?1), 0)
	      + coalesce((SELECT sum(bytes) FROM scope_props WHERE account_id = ?1), 0)`, account).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("storage: usage: %w", err)
	}
	return n, nil
}

// Counts returns the account's collections and one collection's totals,
// which every write keeps on the collection row.
func (r sqliteRows) Counts(ctx context.Context, account int64, collection int64) (Counts, error) {
	var c Counts
	err := r.q.QueryRowContext(ctx, `
		SELECT (SELECT count(*) FROM collections WHERE account_id = ?1),
		       coalesce((SELECT object_count FROM collections WHERE id = ?2 AND account_id = ?1), 0),
		       coalesce((SELECT object_bytes + props_bytes FROM collections WHERE id = ?2 AND account_id = ?1), 0)`, account, collection).Scan(&c.Collections, &c.Objects, &c.Bytes)
	if err != nil {
		return Counts{}, fmt.Errorf("storage: counts: %w", err)
	}
	return c, nil
}

// NextRevision raises the account's revision counter.
func (r sqliteRows) NextRevision(ctx context.Context, account int64) (int64, error) {
	var rev int64
	err := r.q.QueryRowContext(ctx, `UPDATE accounts SET revision = revision + 1 WHERE id = ? RETURNING revision`, account).Scan(&rev)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, ErrNotFound
	}
	if err != nil {
		return 0, fmt.Errorf("storage: next revision: %w", err)
	}
	return rev, nil
}

// InsertCollection adds a collection row.
func (r sqliteRows) InsertCollection(ctx context.Context, c *CollectionRow) (int64, error) {
	res, err := r.q.ExecContext(ctx,
		`INSERT INTO collections (account_id, home, kind, uid, name_mac, name_sealed, props_sealed, props_bytes, revision, created_rev, forgotten_rev, created_at, object_count, object_bytes)
		 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.Account, string(c.Home), string(c.Kind), c.UID, c.NameMAC, c.NameSealed, notNull(c.PropsSealed), c.PropsBytes, c.Revision, c.CreatedRev, c.ForgottenRev, c.Created, c.ObjectCount, c.ObjectBytes)
	if err != nil {
		if isUniqueViolation(err) {
			return 0, ErrExists
		}
		return 0, fmt.Errorf("storage: create collection: %w", err)
	}
	return res.LastInsertId()
}

// DeleteCollection removes a collection row; the schema cascades.
func (r sqliteRows) DeleteCollection(ctx context.Context, account int64, id int64) error {
	if _, err := r.q.ExecContext(ctx, `DELETE FROM collections WHERE id = ? AND account_id = ?`, id, account); err != nil {
		return fmt.Errorf("storage: delete collection: %w", err)
	}
	return nil
}

// RenameCollection gives a collection a new home, name, revision and
// creation revision.
func (r sqliteRows) RenameCollection(ctx context.Context, id int64, home Home, mac, sealed []byte, rev int64) error {
	_, err := r.q.ExecContext(ctx, `UPDATE collections SET home = ?, name_mac = ?, name_sealed = ?, revision = ?, created_rev = ? WHERE id = ?`, string(home), mac, sealed, rev, rev, id)
	if err != nil {
		if isUniqueViolation(err) {
			return ErrExists
		}
		return fmt.Errorf("storage: rename collection: %w", err)
	}
	return nil
}

// SetCollectionProps notes a collection's property bytes and revision.
func (r sqliteRows) SetCollectionProps(ctx context.Context, id int64, bytes, rev int64) error {
	if _, err := r.q.ExecContext(ctx, `UPDATE collections SET props_sealed = X'', props_bytes = ?, revision = ? WHERE id = ?`, bytes, rev, id); err != nil {
		return fmt.Errorf("storage: update collection: %w", err)
	}
	return nil
}

// MoveCounts sets a collection's revision and moves its totals.
func (r sqliteRows) MoveCounts(ctx context.Context, collection int64, rev, objects, bytes int64) error {
	_, err := r.q.ExecContext(ctx, `UPDATE collections SET revision = ?, object_count = object_count + ?, object_bytes = object_bytes + ? WHERE id = ?`,
		rev, objects, bytes, collection)
	if err != nil {
		return fmt.Errorf("storage: bump revision: %w", err)
	}
	return nil
}

// NextCountedRevision raises the account's revision counter, and sets a
// collection's revision to it and moves its totals.
func (r sqliteRows) NextCountedRevision(ctx context.Context, account, collection, objects, bytes int64) (int64, error) {
	rev, err := r.NextRevision(ctx, account)
	if err != nil {
		return 0, err
	}
	return rev, r.MoveCounts(ctx, collection, rev, objects, bytes)
}

// InsertObject adds an object row and its body row.
func (r sqliteRows) InsertObject(ctx context.Context, o *ObjectRow) (int64, error) {
	res, err := r.q.ExecContext(ctx,
		`INSERT INTO objects (collection_id, name_mac, etag, size, meta_bytes, modified_at, revision, uid_mac, name_sealed, ctype_sealed, index_sealed, props_sealed, seal_v, sealed_rev, uid_sealed)
		 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		o.Collection, o.NameMAC, o.ETag, o.Size, o.MetaBytes, o.Modified, o.Revision, o.UIDMAC, o.NameSealed, o.CtypeSealed, o.IndexSealed, o.PropsSealed, o.SealV, o.SealedRev, o.UIDSealed)
	if err != nil {
		return 0, fmt.Errorf("storage: write object: %w", err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, err
	}
	if _, err := r.q.ExecContext(ctx, `INSERT INTO object_bodies (object_id, body_sealed) VALUES (?, ?)`, id, o.BodySealed); err != nil {
		return 0, fmt.Errorf("storage: write object: %w", err)
	}
	return id, nil
}

// UpdateObject writes an object row and its body row.
func (r sqliteRows) UpdateObject(ctx context.Context, o *ObjectRow) error {
	_, err := r.q.ExecContext(ctx,
		`UPDATE objects SET etag = ?, size = ?, meta_bytes = ?, modified_at = ?, revision = ?, uid_mac = ?, name_sealed = ?, ctype_sealed = ?, index_sealed = ?, props_sealed = ?,
		 seal_v = ?, sealed_rev = ?, uid_sealed = ? WHERE id = ?`,
		o.ETag, o.Size, o.MetaBytes, o.Modified, o.Revision, o.UIDMAC, o.NameSealed, o.CtypeSealed, o.IndexSealed, o.PropsSealed, o.SealV, o.SealedRev, o.UIDSealed, o.ID)
	if err == nil {
		// An upsert: a body row found missing is written again.
		_, err = r.q.ExecContext(ctx, `INSERT INTO object_bodies (object_id, body_sealed) VALUES (?, ?)
			ON CONFLICT (object_id) DO UPDATE SET body_sealed = excluded.body_sealed`, o.ID, o.BodySealed)
	}
	if err != nil {
		return fmt.Errorf("storage: write object: %w", err)
	}
	return nil
}

// SetObjectMeta sets an object's meta bytes and revision.
func (r sqliteRows) SetObjectMeta(ctx context.Context, id int64, meta, rev int64) error {
	if _, err := r.q.ExecContext(ctx, `UPDATE objects SET props_sealed = NULL, meta_bytes = ?, revision = ? WHERE id = ?`, meta, rev, id); err != nil {
		return fmt.Errorf("storage: update object: %w", err)
	}
	return nil
}

// ResealObject writes the content of a row still in seal version 0.
func (r sqliteRows) ResealObject(ctx context.Context, o *ObjectRow) (bool, error) {
	res, err := r.q.ExecContext(ctx, `UPDATE objects SET seal_v = ?, sealed_rev = ?, ctype_sealed = ?, index_sealed = ?, uid_sealed = ?, uid_mac = ?
		WHERE id = ? AND seal_v = ?`, o.SealV, o.SealedRev, o.CtypeSealed, o.IndexSealed, o.UIDSealed, o.UIDMAC, o.ID, sealLegacy)
	if err != nil {
		return false, fmt.Errorf("storage: upgrade object: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil || n == 0 {
		return false, err
	}
	if _, err := r.q.ExecContext(ctx, `UPDATE object_bodies SET body_sealed = ? WHERE object_id = ?`, o.BodySealed, o.ID); err != nil {
		return false, fmt.Errorf("storage: upgrade object body: %w", err)
	}
	return true, nil
}

// DeleteObject removes an object row; the schema cascades.
func (r sqliteRows) DeleteObject(ctx context.Context, collection int64, mac []byte) error {
	if _, err := r.q.ExecContext(ctx, `DELETE FROM objects WHERE collection_id = ? AND name_mac = ?`, collection, mac); err != nil {
		return fmt.Errorf("storage: delete object: %w", err)
	}
	return nil
}

// ClearProps removes every property row of an owner.
func (r sqliteRows) ClearProps(ctx context.Context, o PropOwner) error {
	table, where, key := propTable(o)
	if _, err := r.q.ExecContext(ctx, `DELETE FROM `+table+` WHERE `+where, key...); err != nil {
		return fmt.Errorf("storage: remove properties: %w", err)
	}
	return nil
}

// PutProp adds or replaces one property row of an owner.
func (r sqliteRows) PutProp(ctx context.Context, o PropOwner, p PropRow) error {
	table, where, key := propTable(o)
	cols := strings.ReplaceAll(strings.ReplaceAll(where, " = ?", ""), " AND", ",")
	args := append(key, p.NameMAC, p.ValueSealed, p.Bytes, p.Revision)
	_, err := r.q.ExecContext(ctx, `INSERT INTO `+table+` (`+cols+`, name_mac, value_sealed, bytes, revision) VALUES (`+placeholders(len(args))+`)
		ON CONFLICT (`+cols+`, name_mac) DO UPDATE SET value_sealed = excluded.value_sealed, bytes = excluded.bytes, revision = excluded.revision`, args...)
	if err != nil {
		return fmt.Errorf("storage: write property: %w", err)
	}
	return nil
}

// DeleteProp removes one property row and returns it.
func (r sqliteRows) DeleteProp(ctx context.Context, o PropOwner, mac []byte) (*PropRow, error) {
	table, where, key := propTable(o)
	p := PropRow{NameMAC: mac}
	err := r.q.QueryRowContext(ctx, `DELETE FROM `+table+` WHERE `+where+` AND name_mac = ? RETURNING value_sealed, bytes, revision`, append(key, mac)...).Scan(&p.ValueSealed, &p.Bytes, &p.Revision)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("storage: remove property: %w", err)
	}
	return &p, nil
}

// TakeScopeLegacy removes and returns the property set of a scope sealed whole.
func (r sqliteRows) TakeScopeLegacy(ctx context.Context, account int64, scope Scope) ([]byte, error) {
	var legacy []byte
	err := r.q.QueryRowContext(ctx, `DELETE FROM account_props WHERE account_id = ? AND scope = ? RETURNING props_sealed`, account, string(scope)).Scan(&legacy)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("storage: read account properties: %w", err)
	}
	return legacy, nil
}

// LastChange returns whether the change log has an entry for a name MAC.
func (r sqliteRows) LastChange(ctx context.Context, collection int64, mac []byte) (bool, bool, error) {
	var deleted bool
	err := r.q.QueryRowContext(ctx, `SELECT deleted FROM changes WHERE collection_id = ? AND name_mac = ?`, collection, mac).Scan(&deleted)
	if errors.Is(err, sql.ErrNoRows) {
		return false, false, nil
	}
	if err != nil {
		return false, false, fmt.Errorf("storage: log change: %w", err)
	}
	return true, deleted, nil
}

// PutChange adds or replaces a change log entry.
func (r sqliteRows) PutChange(ctx context.Context, collection int64, c ChangeRow) error {
	_, err := r.q.ExecContext(ctx,
		`INSERT INTO changes (collection_id, name_mac, name_sealed, revision, deleted) VALUES (?, ?, ?, ?, ?)
		 ON CONFLICT (collection_id, name_mac) DO UPDATE SET name_sealed = excluded.name_sealed, revision = excluded.revision, deleted = excluded.deleted`,
		collection, c.NameMAC, c.NameSealed, c.Revision, c.Deleted)
	if err != nil {
		return fmt.Errorf("storage: log change: %w", err)
	}
	return nil
}

// AddTombstones moves a collection's count of deletions.
func (r sqliteRows) AddTombstones(ctx context.Context, collection int64, step int64) (int64, error) {
	var n int64
	if err := r.q.QueryRowContext(ctx, `UPDATE collections SET tombstones = tombstones + ? WHERE id = ? RETURNING tombstones`, step, collection).Scan(&n); err != nil {
		return 0, fmt.Errorf("storage: count deletions: %w", err)
	}
	return n, nil
}

// ForgetTombstones removes the oldest n deletions of a collection's change log.
func (r sqliteRows) ForgetTombstones(ctx context.Context, collection int64, n int64) error {
	var upTo int64
	err := r.q.QueryRowContext(ctx, `SELECT revision FROM changes WHERE collection_id = ? AND deleted ORDER BY revision LIMIT 1 OFFSET ?`, collection, n-1).Scan(&upTo)
	if err != nil {
		return fmt.Errorf("storage: forget deletions: %w", err)
	}
	res, err := r.q.ExecContext(ctx, `DELETE FROM changes WHERE collection_id = ? AND deleted AND revision <= ?`, collection, upTo)
	if err != nil {
		return fmt.Errorf("storage: forget deletions: %w", err)
	}
	gone, err := res.RowsAffected()
	if err != nil {
		return err
	}
	_, err = r.q.ExecContext(ctx, `UPDATE collections SET tombstones = tombstones - ?, forgotten_rev = max(forgotten_rev, ?) WHERE id = ?`, gone, upTo, collection)
	if err != nil {
		return fmt.Errorf("storage: forget deletions: %w", err)
	}
	return nil
}

// placeholders returns n comma-separated parameters.
func placeholders(n int) string { return strings.Repeat("?, ", n-1) + "?" }

// anys returns ids as query arguments.
func anys(ids []int64) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = id
	}
	return out
}

// notNull returns b, or an empty value for nil, for a NOT NULL column.
func notNull(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// PutState reads what q asks for, one read after the other.
func (r sqliteRows) PutState(ctx context.Context, q PutQuery) (*PutState, error) {
	return ReadPutState(ctx, r, q)
}
