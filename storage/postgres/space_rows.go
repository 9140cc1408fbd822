package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/coffer-dav/coffer/storage"
	"github.com/jackc/pgx/v5"
)

// collectionColumns are the columns of collections that scanCollection reads.
const collectionColumns = `c.id, c.account_id, c.home, c.kind, c.uid, c.name_mac, c.name_sealed, c.props_sealed, c.props_bytes,
	c.revision, c.created_rev, c.forgotten_rev, c.created_at, c.object_count, c.object_bytes`

// objectColumns are the columns of objects o that scanObject reads, before
// the body column.
const objectColumns = `o.id, o.collection_id, o.name_mac, o.name_sealed, o.uid_mac, o.etag, o.ctype_sealed,
	o.props_sealed, o.index_sealed, o.uid_sealed, o.size, o.meta_bytes, o.modified_at, o.revision, o.seal_v, o.sealed_rev`

// usageQuery sums what an account's objects, names and properties count
// for, as SQLite's does.
const usageQuery = `SELECT coalesce((SELECT sum(object_bytes + props_bytes) FROM collections WHERE account_id = $1), 0)
	+ coalesce((SELECT sum(bytes) FROM account_props WHERE account_id = $1), 0)
	+ coalesce((SELECT sum(bytes) FROM scope_props WHERE account_id = $1), 0)`

// scanCollection reads a row of collectionColumns.
func scanCollection(row pgx.Row) (*storage.CollectionRow, error) {
	return scanCollectionWith(row)
}

// scanCollectionWith reads a row of collectionColumns followed by columns
// into extra.
func scanCollectionWith(row pgx.Row, extra ...any) (*storage.CollectionRow, error) {
	var c storage.CollectionRow
	var home, kind string
	err := row.Scan(append([]any{&c.ID, &c.Account, &home, &kind, &c.UID, &c.NameMAC, &c.NameSealed, &c.PropsSealed, &c.PropsBytes,
		&c.Revision, &c.CreatedRev, &c.ForgottenRev, &c.Created, &c.ObjectCount, &c.ObjectBytes}, extra...)...)
	if err != nil {
		return nil, err
	}
	c.Home, c.Kind = storage.Home(home), storage.Kind(kind)
	return &c, nil
}

// collectRows reads every row of rows with scan.
func collectRows[T any](rows pgx.Rows, scan func(pgx.Row) (*T, error)) ([]T, error) {
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *v)
	}
	return out, rows.Err()
}

// Collections lists an account's collections in home, or in both for "", by id.
func (r reader) Collections(ctx context.Context, account int64, home storage.Home) ([]storage.CollectionRow, error) {
	query, args := `SELECT `+collectionColumns+` FROM collections c WHERE account_id = $1`, []any{account}
	if home != "" {
		query, args = query+` AND home = $2`, append(args, string(home))
	}
	rows, err := r.q.Query(ctx, query+` ORDER BY id`, args...)
	if err != nil {
		return nil, dbErr("list collections", err)
	}
	out, err := collectRows(rows, scanCollection)
	if err != nil {
		return nil, dbErr("list collections", err)
	}
	return out, nil
}

// CollectionNamed returns the account's collection with a name MAC and
// its property rows, or storage.ErrNotFound, in one statement of one row:
// the property rows come in arrays (propArrays).
//
// When ctx owes the account's login check (storage.LoginCheck), the
// statement reads the account's password stamp too, and makes the check
// with it when the collection is there: the request's own read of its
// path spares it a statement (and a round trip) of its own.
func (r reader) CollectionNamed(ctx context.Context, account int64, mac []byte) (*storage.CollectionRow, []storage.PropRow, error) {
	check := storage.LoginCheckOf(ctx)
	query := collectionNamedQuery
	if check.Owed(account) {
		query = collectionNamedStampQuery
	} else {
		check = nil
	}
	var a propArrays
	var current *string
	c, err := scanCollectionWith(r.q.QueryRow(ctx, query, account, mac), append(a.dest(), &current)...)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil, storage.ErrNotFound
	}
	if err != nil {
		return nil, nil, dbErr("read collection", err)
	}
	props, err := a.rows(c.ID)
	if err != nil {
		return nil, nil, dbErr("read collection", err)
	}
	if check != nil {
		check.Found(deref(current), current != nil)
	}
	return c, props, nil
}

// collectionNamedQuery is CollectionNamed's statement, with a NULL stamp;
// collectionNamedStampQuery reads the account's stamp too.
var collectionNamedQuery, collectionNamedStampQuery = collectionNamed(`NULL::text`), collectionNamed(`(` + stampQuery + `)`)

// collectionNamed is CollectionNamed's statement, with stamp as its last column.
func collectionNamed(stamp string) string {
	return `SELECT ` + collectionColumns + `, p.macs, p.values, p.bytes, p.revisions, ` + stamp + `
		FROM collections c LEFT JOIN LATERAL (` + propArraysOf("collection_props", "collection_id = c.id") + `) p ON true
		WHERE c.account_id = $1 AND c.name_mac = $2`
}

// propArraysOf selects the property rows of table that cond picks as
// one row of arrays by name MAC: macs, values, bytes, revisions, each
// NULL when there is none.
func propArraysOf(table, cond string) string {
	return `SELECT array_agg(name_mac ORDER BY name_mac) macs, array_agg(value_sealed ORDER BY name_mac) values,
		array_agg(bytes ORDER BY name_mac) bytes, array_agg(revision ORDER BY name_mac) revisions
		FROM ` + table + ` WHERE ` + cond
}

// propArrays are the property rows of one owner as propArraysOf reads
// them.
type propArrays struct {
	macs, values [][]byte
	bytes, revs  []int64
}

// dest returns where a row's four arrays are scanned.
func (a *propArrays) dest() []any { return []any{&a.macs, &a.values, &a.bytes, &a.revs} }

// rows returns the property rows of owner that the arrays hold.
func (a *propArrays) rows(owner int64) ([]storage.PropRow, error) {
	if len(a.values) != len(a.macs) || len(a.bytes) != len(a.macs) || len(a.revs) != len(a.macs) {
		return nil, errors.New("postgres: the property arrays of a row differ in length")
	}
	var out []storage.PropRow
	for i, mac := range a.macs {
		out = append(out, storage.PropRow{Owner: owner, NameMAC: mac, ValueSealed: a.values[i], Bytes: a.bytes[i], Revision: a.revs[i]})
	}
	return out, nil
}

// CollectionByID returns the account's collection with a row id, or storage.ErrNotFound.
func (r reader) CollectionByID(ctx context.Context, account int64, id int64) (*storage.CollectionRow, error) {
	return r.collection(ctx, `account_id = $1 AND id = $2`, account, id)
}

// collection returns the collection that cond selects with args, or storage.ErrNotFound.
func (r reader) collection(ctx context.Context, cond string, args ...any) (*storage.CollectionRow, error) {
	c, err := scanCollection(r.q.QueryRow(ctx, `SELECT `+collectionColumns+` FROM collections c WHERE `+cond, args...))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, storage.ErrNotFound
	}
	if err != nil {
		return nil, dbErr("read collection", err)
	}
	return c, nil
}

// CollectionProps returns the property rows of the given collections, by
// collection and name MAC.
func (r reader) CollectionProps(ctx context.Context, ids []int64) ([]storage.PropRow, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	return r.propRows(ctx, `SELECT collection_id, name_mac, value_sealed, bytes, revision FROM collection_props
		WHERE collection_id = ANY($1) ORDER BY collection_id, name_mac`, ids)
}

// propRows reads rows of (owner, name MAC, sealed value, bytes, revision).
func (r reader) propRows(ctx context.Context, query string, args ...any) ([]storage.PropRow, error) {
	rows, err := r.q.Query(ctx, query, args...)
	if err != nil {
		return nil, dbErr("read properties", err)
	}
	out, err := collectRows(rows, func(row pgx.Row) (*storage.PropRow, error) {
		var p storage.PropRow
		err := row.Scan(&p.Owner, &p.NameMAC, &p.ValueSealed, &p.Bytes, &p.Revision)
		return &p, err
	})
	if err != nil {
		return nil, dbErr("read properties", err)
	}
	return out, nil
}

// Objects returns the object rows of a collection that q selects: by
// revision, or by id for q.LegacyOnly (at most q.Limit of them when it is
// above 0). The body column is read only for q.Body, from a LEFT JOIN, so
// that a missing body row reads as nil.
func (r reader) Objects(ctx context.Context, collection int64, q storage.ObjectQuery) ([]storage.ObjectRow, error) {
	args := []any{collection}
	param := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	from := `objects o`
	if q.NameMACs != nil {
		if len(q.NameMACs) == 0 {
			return nil, nil
		}
		from = byKey("$1", "name_mac", param(q.NameMACs), "*")
	}
	body, props := `NULL::bytea`, `NULL::bytea[], NULL::bytea[], NULL::bigint[], NULL::bigint[]`
	if q.Body {
		body, from = `b.body_sealed`, from+` LEFT JOIN object_bodies b ON b.object_id = o.id`
	}
	if q.Props {
		// One row per object, its property rows in arrays: the object's
		// columns, its body among them, once however many it has.
		props, from = `p.macs, p.values, p.bytes, p.revisions`, from+` LEFT JOIN LATERAL (`+propArraysOf("object_props", "object_id = o.id")+`) p ON true`
	}
	query := `SELECT ` + objectColumns + `, ` + body + `, ` + props + ` FROM ` + from
	query += ` WHERE o.collection_id = $1`
	if q.LegacyOnly {
		query += ` AND o.seal_v = 0 AND o.id > ` + param(q.After) + ` ORDER BY o.id`
		if q.Limit > 0 {
			query += ` LIMIT ` + param(q.Limit)
		}
	} else {
		query += ` ORDER BY o.revision, o.id`
	}
	rows, err := r.q.Query(ctx, query, args...)
	if err != nil {
		return nil, dbErr("read objects", err)
	}
	out, err := collectRows(rows, scanObject)
	if err != nil {
		return nil, dbErr("read objects", err)
	}
	return out, nil
}

// scanObject reads a row of Objects: objectColumns, the body column,
// and the arrays of the object's property rows (NULL when not read, or
// when it has none).
func scanObject(row pgx.Row) (*storage.ObjectRow, error) {
	var o storage.ObjectRow
	var a propArrays
	err := row.Scan(append([]any{&o.ID, &o.Collection, &o.NameMAC, &o.NameSealed, &o.UIDMAC, &o.ETag, &o.CtypeSealed,
		&o.PropsSealed, &o.IndexSealed, &o.UIDSealed, &o.Size, &o.MetaBytes, &o.Modified, &o.Revision, &o.SealV, &o.SealedRev,
		&o.BodySealed}, a.dest()...)...)
	if err != nil {
		return nil, err
	}
	o.Props, err = a.rows(o.ID)
	return &o, err
}

// Props returns the property rows of one owner, by name MAC.
func (r reader) Props(ctx context.Context, o storage.PropOwner) ([]storage.PropRow, error) {
	k, err := ownerKey(o)
	if err != nil {
		return nil, err
	}
	return r.propRows(ctx, `SELECT `+k.owner()+`, name_mac, value_sealed, bytes, revision FROM `+k.table+
		` WHERE `+k.where()+` ORDER BY name_mac`, k.args...)
}

// Prop returns one property row of an owner, or storage.ErrNotFound.
func (r reader) Prop(ctx context.Context, o storage.PropOwner, mac []byte) (*storage.PropRow, error) {
	k, err := ownerKey(o)
	if err != nil {
		return nil, err
	}
	p := storage.PropRow{Owner: o.ID}
	err = r.q.QueryRow(ctx, `SELECT name_mac, value_sealed, bytes, revision FROM `+k.table+` WHERE `+k.where()+
		` AND name_mac = $`+strconv.Itoa(len(k.args)+1), append(k.args, mac)...).Scan(&p.NameMAC, &p.ValueSealed, &p.Bytes, &p.Revision)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, storage.ErrNotFound
	}
	if err != nil {
		return nil, dbErr("read property", err)
	}
	return &p, nil
}

// Changes returns the account's collection row and its change log after
// revision since, by revision, each entry with the object row of its name
// now, if any: one statement, so one snapshot, and no transaction around
// it. The collection's columns come with each entry, or once with NULLs
// for none.
func (r reader) Changes(ctx context.Context, account, collection, since int64) (*storage.CollectionRow, []storage.ChangeRow, error) {
	rows, err := r.q.Query(ctx, `SELECT `+collectionColumns+`, ch.name_mac, ch.name_sealed, ch.revision, ch.deleted,
		o.id, o.collection_id, o.name_mac, o.name_sealed, o.uid_mac, o.etag, o.ctype_sealed, o.index_sealed, o.uid_sealed,
		o.size, o.meta_bytes, o.modified_at, o.revision, o.seal_v, o.sealed_rev
		FROM collections c LEFT JOIN changes ch ON ch.collection_id = c.id AND ch.revision > $3
		LEFT JOIN objects o ON o.collection_id = ch.collection_id AND o.name_mac = ch.name_mac
		WHERE c.id = $2 AND c.account_id = $1 ORDER BY ch.revision`, account, collection, since)
	if err != nil {
		return nil, nil, dbErr("read changes", err)
	}
	defer rows.Close()
	var coll *storage.CollectionRow
	var out []storage.ChangeRow
	for rows.Next() {
		var ch storage.ChangeRow
		var o storage.ObjectRow
		var chRev, id, cid, size, meta, mod, rev, v, sealedRev *int64
		var deleted *bool
		var etag *string
		c, err := scanCollectionWith(rows, &ch.NameMAC, &ch.NameSealed, &chRev, &deleted,
			&id, &cid, &o.NameMAC, &o.NameSealed, &o.UIDMAC, &etag, &o.CtypeSealed, &o.IndexSealed, &o.UIDSealed,
			&size, &meta, &mod, &rev, &v, &sealedRev)
		if err != nil {
			return nil, nil, dbErr("read changes", err)
		}
		coll = c
		if chRev == nil {
			continue // the collection has no change after since
		}
		ch.Revision, ch.Deleted = *chRev, *deleted
		if id != nil {
			// The columns are NOT NULL in a row that is there.
			o.ID, o.Collection, o.ETag = *id, *cid, *etag
			o.Size, o.MetaBytes, o.Modified, o.Revision, o.SealV, o.SealedRev = *size, *meta, *mod, *rev, *v, *sealedRev
			ch.Object = &o
		}
		out = append(out, ch)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, dbErr("read changes", err)
	}
	if coll == nil {
		return nil, nil, storage.ErrNotFound
	}
	return coll, out, nil
}

// byKey is a FROM item "o" of the objects of collection (a parameter or
// a column) whose column key (name_mac or uid_mac, each unique in a
// collection) is one of the values of the array macs, with the columns
// cols: one index lookup per value, by both columns of the unique index.
//
// The plain "collection_id = $1 AND key = ANY(macs)" lets the planner use
// the index on collection_id alone and filter the key, which is as cheap
// while the table is small; a generic plan made then stays cached on the
// pooled connection until the next ANALYZE, and turns every PUT into a
// scan of its whole collection (a PUT of a fresh database's 5,000th object
// took ten times its first's). The lookup of each value on its own, behind
// OFFSET 0 so that it is not flattened into a join, matches on both columns.
func byKey(collection, key, macs, cols string) string {
	return `(SELECT DISTINCT mac FROM unnest(` + macs + `::bytea[]) AS m(mac)) m
		CROSS JOIN LATERAL (SELECT ` + cols + ` FROM objects WHERE collection_id = ` + collection + ` AND ` + key + ` = m.mac OFFSET 0) o`
}

// uidHolderQuery selects the name MAC and sealed name of the first object
// by id of collection whose UID MAC is one of the array uids and whose
// name MAC is none of the array except.
func uidHolderQuery(collection, uids, except string) string {
	return `SELECT o.name_mac, o.name_sealed FROM ` + byKey(collection, "uid_mac", uids, "id, name_mac, name_sealed") + `
		WHERE NOT (o.name_mac = ANY(` + except + `)) ORDER BY o.id LIMIT 1`
}

// UIDHolder returns the name MAC and sealed name of the object of the
// collection, other than those named in except, whose UID MAC is one of
// uidMACs (the first by id), or storage.ErrNotFound.
func (r reader) UIDHolder(ctx context.Context, collection int64, uidMACs, except [][]byte) ([]byte, []byte, error) {
	uids := nonNil(uidMACs)
	if len(uids) == 0 {
		return nil, nil, storage.ErrNotFound
	}
	var mac, sealed []byte
	err := r.q.QueryRow(ctx, uidHolderQuery("$1", "$2", "$3::bytea[]"), collection, uids, nonNil(except)).Scan(&mac, &sealed)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil, storage.ErrNotFound
	}
	if err != nil {
		return nil, nil, dbErr("check uid", err)
	}
	return mac, sealed, nil
}

// ScopeLegacy returns the property set of an account's scope sealed
// whole, or nil.
func (r reader) ScopeLegacy(ctx context.Context, account int64, scope storage.Scope) ([]byte, error) {
	var sealed []byte
	err := r.q.QueryRow(ctx, `SELECT props_sealed FROM account_props WHERE account_id = $1 AND scope = $2`, account, string(scope)).Scan(&sealed)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, dbErr("read account properties", err)
	}
	return sealed, nil
}

// ScopeBytes returns what the properties of an account's scope count for,
// in rows and sealed whole.
func (r reader) ScopeBytes(ctx context.Context, account int64, scope storage.Scope) (int64, error) {
	var n int64
	err := r.q.QueryRow(ctx, `SELECT coalesce((SELECT sum(bytes) FROM scope_props WHERE account_id = $1 AND scope = $2), 0)
		+ coalesce((SELECT sum(bytes) FROM account_props WHERE account_id = $1 AND scope = $2), 0)`, account, string(scope)).Scan(&n)
	if err != nil {
		return 0, dbErr("read account properties", err)
	}
	return n, nil
}

// Usage returns what all of an account's collections, objects and
// properties count for.
func (r reader) Usage(ctx context.Context, account int64) (int64, error) {
	var n int64
	if err := r.q.QueryRow(ctx, usageQuery, account).Scan(&n); err != nil {
		return 0, dbErr("usage", err)
	}
	return n, nil
}

// Counts returns the account's collections, and the objects and bytes of
// one of them (0 for none, or one not the account's), from the totals
// every write keeps on the collection row.
func (r reader) Counts(ctx context.Context, account int64, collection int64) (storage.Counts, error) {
	var c storage.Counts
	err := r.q.QueryRow(ctx, `SELECT (SELECT count(*) FROM collections WHERE account_id = $1),
		coalesce((SELECT object_count FROM collections WHERE id = $2 AND account_id = $1), 0),
		coalesce((SELECT object_bytes + props_bytes FROM collections WHERE id = $2 AND account_id = $1), 0)`,
		account, collection).Scan(&c.Collections, &c.Objects, &c.Bytes)
	if err != nil {
		return storage.Counts{}, dbErr("counts", err)
	}
	return c, nil
}

// propKey is where an owner's property rows are: their table, and the key
// columns, before name_mac, with their values.
type propKey struct {
	table string
	cols  []string
	args  []any
}

// ownerKey returns where the property rows of o are.
func ownerKey(o storage.PropOwner) (propKey, error) {
	switch o.Table {
	case storage.PropsOfCollection:
		return propKey{table: "collection_props", cols: []string{"collection_id"}, args: []any{o.ID}}, nil
	case storage.PropsOfObject:
		return propKey{table: "object_props", cols: []string{"object_id"}, args: []any{o.ID}}, nil
	case storage.PropsOfScope:
		return propKey{table: "scope_props", cols: []string{"account_id", "scope"}, args: []any{o.ID, string(o.Scope)}}, nil
	}
	return propKey{}, fmt.Errorf("postgres: no property rows of owner table %d", o.Table)
}

// owner is the column that names the owner's ID.
func (k propKey) owner() string { return k.cols[0] }

// where is the condition that selects the owner's rows, for k.args.
func (k propKey) where() string {
	conds := make([]string, len(k.cols))
	for i, c := range k.cols {
		conds[i] = c + " = $" + strconv.Itoa(i+1)
	}
	return strings.Join(conds, " AND ")
}

// NextRevision raises the account's revision counter and returns it, in
// the writing transaction: its row lock holds until the commit, so no
// other write of the account draws the next one before this one is done.
func (w writer) NextRevision(ctx context.Context, account int64) (int64, error) {
	if rev, ok := w.p.nextRevision(account); ok {
		w.p.later(changesRow("next revision"), mustChange(`UPDATE accounts SET revision = $2::bigint WHERE id = $1 AND revision = $2::bigint - 1`), account, rev)
		return rev, nil
	}
	var rev int64
	err := w.q.QueryRow(ctx, `UPDATE accounts SET revision = revision + 1 WHERE id = $1 RETURNING revision`, account).Scan(&rev)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, storage.ErrNotFound
	}
	if err != nil {
		return 0, dbErr("next revision", err)
	}
	w.p.drew(account, rev)
	return rev, nil
}

// InsertCollection adds a collection row and returns its id, or
// storage.ErrExists when the account has its name MAC. The conflict is
// answered without an error in the transaction, which stays usable. A nil
// PropsSealed is stored empty, as SQLite's engine does: the column is NOT
// NULL, and empty is what none is.
func (w writer) InsertCollection(ctx context.Context, c *storage.CollectionRow) (int64, error) {
	var id int64
	err := w.q.QueryRow(ctx, `INSERT INTO collections (account_id, home, kind, uid, name_mac, name_sealed, props_sealed, props_bytes,
			revision, created_rev, forgotten_rev, created_at, object_count, object_bytes)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
		ON CONFLICT (account_id, name_mac) DO NOTHING RETURNING id`,
		c.Account, string(c.Home), string(c.Kind), c.UID, c.NameMAC, c.NameSealed, notNull(c.PropsSealed), c.PropsBytes,
		c.Revision, c.CreatedRev, c.ForgottenRev, c.Created, c.ObjectCount, c.ObjectBytes).Scan(&id)
	switch {
	case errors.Is(err, pgx.ErrNoRows), isUniqueViolation(err):
		return 0, storage.ErrExists
	case isForeignKeyViolation(err):
		return 0, storage.ErrNotFound
	case err != nil:
		return 0, dbErr("create collection", err)
	}
	return id, nil
}

// DeleteCollection removes an account's collection row, and with it
// (ON DELETE CASCADE) its objects, their bodies and properties, its change
// log and its properties. Like SQLite's, it does nothing for a collection
// that is not there (another account's included).
func (w writer) DeleteCollection(ctx context.Context, account int64, id int64) error {
	if _, err := w.q.Exec(ctx, `DELETE FROM collections WHERE id = $1 AND account_id = $2`, id, account); err != nil {
		return dbErr("delete collection", err)
	}
	return nil
}

// RenameCollection gives a collection a new home, name, revision and
// creation revision;
// storage.ErrExists when another collection of its account has the name
// MAC, storage.ErrNotFound when it is gone.
func (w writer) RenameCollection(ctx context.Context, id int64, home storage.Home, mac, sealed []byte, rev int64) error {
	tag, err := w.q.Exec(ctx, `UPDATE collections c SET home = $2, name_mac = $3, name_sealed = $4, revision = $5, created_rev = $5
		WHERE c.id = $1 AND NOT EXISTS (SELECT 1 FROM collections t WHERE t.account_id = c.account_id AND t.name_mac = $3 AND t.id <> c.id)`,
		id, string(home), mac, sealed, rev)
	if isUniqueViolation(err) {
		return storage.ErrExists
	}
	if err != nil {
		return dbErr("rename collection", err)
	}
	if tag.RowsAffected() > 0 {
		return nil
	}
	var exists bool
	if err := w.q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM collections WHERE id = $1)`, id).Scan(&exists); err != nil {
		return dbErr("rename collection", err)
	}
	if exists {
		return storage.ErrExists
	}
	return storage.ErrNotFound
}

// SetCollectionProps notes a collection's property bytes and revision,
// and empties its PropsSealed.
func (w writer) SetCollectionProps(ctx context.Context, id int64, bytes, rev int64) error {
	w.p.later(changesRow("update collection"), mustChange(`UPDATE collections SET props_sealed = $2, props_bytes = $3, revision = $4 WHERE id = $1`),
		id, []byte{}, bytes, rev)
	return nil
}

// MoveCounts sets a collection's revision and moves its object count and
// bytes by the given amounts. It goes to the server with the next
// statement (see pipe), which answers a missing collection.
func (w writer) MoveCounts(ctx context.Context, collection int64, rev, objects, bytes int64) error {
	w.p.later(changesRow("bump revision"), mustChange(`UPDATE collections SET revision = $2, object_count = object_count + $3, object_bytes = object_bytes + $4 WHERE id = $1`),
		collection, rev, objects, bytes)
	return nil
}

// NextCountedRevision raises the account's revision counter, and sets a
// collection's revision to it and moves its totals, in one statement: the
// revision comes from the UPDATE of the account as in NextRevision. A
// missing collection is storage.ErrNotFound.
func (w writer) NextCountedRevision(ctx context.Context, account, collection, objects, bytes int64) (int64, error) {
	if rev, ok := w.p.nextRevision(account); ok {
		// The revision is known under the lock: the write goes with the
		// next statement, and fails on the server, taking the
		// transaction with it, when the collection is not there.
		w.p.later(changesRow("next revision"), `WITH r AS (UPDATE accounts SET revision = $5::bigint WHERE id = $1 AND revision = $5::bigint - 1 RETURNING 1),
			c AS (UPDATE collections SET revision = $5::bigint, object_count = object_count + $3, object_bytes = object_bytes + $4
				WHERE id = $2 AND EXISTS (SELECT 1 FROM r) RETURNING 1)
			SELECT 1 / count(*) FROM c`, account, collection, objects, bytes, rev)
		return rev, nil
	}
	var rev, moved int64
	err := w.q.QueryRow(ctx, `WITH r AS (UPDATE accounts SET revision = revision + 1 WHERE id = $1 RETURNING revision),
		c AS (UPDATE collections SET revision = (SELECT revision FROM r), object_count = object_count + $3, object_bytes = object_bytes + $4
			WHERE id = $2 RETURNING 1)
		SELECT revision, (SELECT count(*) FROM c) FROM r`, account, collection, objects, bytes).Scan(&rev, &moved)
	switch {
	case errors.Is(err, pgx.ErrNoRows), err == nil && moved == 0:
		return 0, storage.ErrNotFound
	case err != nil:
		return 0, dbErr("next revision", err)
	}
	w.p.drew(account, rev)
	return rev, nil
}

// exec runs a statement that changes one row, and answers
// storage.ErrNotFound when it changed none.
func (w writer) exec(ctx context.Context, what, query string, args ...any) error {
	tag, err := w.q.Exec(ctx, query, args...)
	if err != nil {
		return dbErr(what, err)
	}
	if tag.RowsAffected() == 0 {
		return storage.ErrNotFound
	}
	return nil
}

// InsertObject adds an object row and its body row, and returns its id;
// a nil BodySealed adds no body row, which reads back as nil. Both rows go
// in one statement, sent with the next one (see pipe): the id is one this
// process reserved beforehand (see objectIDs), so nothing waits for the
// server to tell it. A missing collection fails that statement, and is
// storage.ErrNotFound.
func (w writer) InsertObject(ctx context.Context, o *storage.ObjectRow) (int64, error) {
	id, err := w.p.ids.next(ctx, w.q)
	if err != nil {
		return 0, err
	}
	w.p.later(refersTo("write object"), `WITH o AS (INSERT INTO objects (id, collection_id, name_mac, name_sealed, uid_mac, etag, ctype_sealed, props_sealed,
			index_sealed, uid_sealed, size, meta_bytes, modified_at, revision, seal_v, sealed_rev)
		OVERRIDING SYSTEM VALUE VALUES ($17, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id),
		b AS (INSERT INTO object_bodies (object_id, body_sealed) SELECT id, $16 FROM o WHERE $16::bytea IS NOT NULL)
		SELECT id FROM o`,
		o.Collection, o.NameMAC, o.NameSealed, o.UIDMAC, o.ETag, o.CtypeSealed, o.PropsSealed,
		o.IndexSealed, o.UIDSealed, o.Size, o.MetaBytes, o.Modified, o.Revision, o.SealV, o.SealedRev, o.BodySealed, id)
	return id, nil
}

// UpdateObject writes every field of the object row o.ID but its
// collection and name MAC, and writes (or adds) its body row; a nil
// BodySealed removes the body row, which then reads back as nil. Both
// rows go in one statement, sent with the next one (see pipe); a missing
// row fails it, as mustChange does.
func (w writer) UpdateObject(ctx context.Context, o *storage.ObjectRow) error {
	body := `b AS (INSERT INTO object_bodies (object_id, body_sealed) SELECT id, $15 FROM o
			ON CONFLICT (object_id) DO UPDATE SET body_sealed = excluded.body_sealed)`
	args := []any{o.ID, o.NameSealed, o.UIDMAC, o.ETag, o.CtypeSealed, o.PropsSealed,
		o.IndexSealed, o.UIDSealed, o.Size, o.MetaBytes, o.Modified, o.Revision, o.SealV, o.SealedRev, o.BodySealed}
	if o.BodySealed == nil {
		body, args = `b AS (DELETE FROM object_bodies WHERE object_id IN (SELECT id FROM o))`, args[:14]
	}
	w.p.later(changesRow("write object"), `WITH o AS (UPDATE objects SET name_sealed = $2, uid_mac = $3, etag = $4, ctype_sealed = $5, props_sealed = $6,
			index_sealed = $7, uid_sealed = $8, size = $9, meta_bytes = $10, modified_at = $11, revision = $12, seal_v = $13, sealed_rev = $14
		WHERE id = $1 RETURNING id), `+body+` SELECT 1 / count(*) FROM o`, args...)
	return nil
}

// writeBody writes (or adds) an object's body row, or removes it for nil,
// with the next statement (see pipe).
func (w writer) writeBody(ctx context.Context, id int64, body []byte) error {
	if body == nil {
		w.p.later(failsAs("write object body"), `DELETE FROM object_bodies WHERE object_id = $1`, id)
	} else {
		w.p.later(failsAs("write object body"), `INSERT INTO object_bodies (object_id, body_sealed) VALUES ($1, $2)
			ON CONFLICT (object_id) DO UPDATE SET body_sealed = excluded.body_sealed`, id, body)
	}
	return nil
}

// SetObjectMeta sets an object's meta bytes and revision and clears its
// PropsSealed.
func (w writer) SetObjectMeta(ctx context.Context, id int64, meta, rev int64) error {
	w.p.later(changesRow("update object"), mustChange(`UPDATE objects SET props_sealed = NULL, meta_bytes = $2, revision = $3 WHERE id = $1`), id, meta, rev)
	return nil
}

// ResealObject writes the content of a row still in seal version 0, and
// its body; false when the row is gone or no longer in version 0.
func (w writer) ResealObject(ctx context.Context, o *storage.ObjectRow) (bool, error) {
	tag, err := w.q.Exec(ctx, `UPDATE objects SET seal_v = $2, sealed_rev = $3, ctype_sealed = $4, index_sealed = $5, uid_sealed = $6, uid_mac = $7
		WHERE id = $1 AND seal_v = 0`, o.ID, o.SealV, o.SealedRev, o.CtypeSealed, o.IndexSealed, o.UIDSealed, o.UIDMAC)
	if err != nil {
		return false, dbErr("upgrade object", err)
	}
	if tag.RowsAffected() == 0 {
		return false, nil
	}
	return true, w.writeBody(ctx, o.ID, o.BodySealed)
}

// DeleteObject removes an object row, and with it its body and property
// rows. Like SQLite's, it does nothing for an object that is not there.
func (w writer) DeleteObject(ctx context.Context, collection int64, mac []byte) error {
	if _, err := w.q.Exec(ctx, `DELETE FROM objects WHERE collection_id = $1 AND name_mac = $2`, collection, mac); err != nil {
		return dbErr("delete object", err)
	}
	return nil
}

// ClearProps removes every property row of an owner.
func (w writer) ClearProps(ctx context.Context, o storage.PropOwner) error {
	k, err := ownerKey(o)
	if err != nil {
		return err
	}
	if _, err := w.q.Exec(ctx, `DELETE FROM `+k.table+` WHERE `+k.where(), k.args...); err != nil {
		return dbErr("remove properties", err)
	}
	return nil
}

// PutProp adds or replaces one property row of an owner.
func (w writer) PutProp(ctx context.Context, o storage.PropOwner, p storage.PropRow) error {
	k, err := ownerKey(o)
	if err != nil {
		return err
	}
	cols := strings.Join(k.cols, ", ")
	args := append(append([]any{}, k.args...), p.NameMAC, p.ValueSealed, p.Bytes, p.Revision)
	params := make([]string, len(args))
	for i := range params {
		params[i] = "$" + strconv.Itoa(i+1)
	}
	w.p.later(refersTo("write property"), `INSERT INTO `+k.table+` (`+cols+`, name_mac, value_sealed, bytes, revision) VALUES (`+strings.Join(params, ", ")+`)
		ON CONFLICT (`+cols+`, name_mac) DO UPDATE SET value_sealed = excluded.value_sealed, bytes = excluded.bytes, revision = excluded.revision`, args...)
	return nil
}

// DeleteProp removes one property row and returns it, or storage.ErrNotFound.
func (w writer) DeleteProp(ctx context.Context, o storage.PropOwner, mac []byte) (*storage.PropRow, error) {
	k, err := ownerKey(o)
	if err != nil {
		return nil, err
	}
	p := storage.PropRow{Owner: o.ID}
	err = w.q.QueryRow(ctx, `DELETE FROM `+k.table+` WHERE `+k.where()+` AND name_mac = $`+strconv.Itoa(len(k.args)+1)+
		` RETURNING name_mac, value_sealed, bytes, revision`, append(k.args, mac)...).Scan(&p.NameMAC, &p.ValueSealed, &p.Bytes, &p.Revision)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, storage.ErrNotFound
	}
	if err != nil {
		return nil, dbErr("remove property", err)
	}
	return &p, nil
}

// TakeScopeLegacy removes and returns the property set of an account's
// scope sealed whole, or nil.
func (w writer) TakeScopeLegacy(ctx context.Context, account int64, scope storage.Scope) ([]byte, error) {
	var sealed []byte
	err := w.q.QueryRow(ctx, `DELETE FROM account_props WHERE account_id = $1 AND scope = $2 RETURNING props_sealed`, account, string(scope)).Scan(&sealed)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, dbErr("read account properties", err)
	}
	return sealed, nil
}

// LastChange returns whether a collection's change log holds an entry for
// a name MAC, and whether it is a deletion.
func (w writer) LastChange(ctx context.Context, collection int64, mac []byte) (bool, bool, error) {
	var deleted bool
	err := w.q.QueryRow(ctx, `SELECT deleted FROM changes WHERE collection_id = $1 AND name_mac = $2`, collection, mac).Scan(&deleted)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, false, nil
	}
	if err != nil {
		return false, false, dbErr("read change", err)
	}
	return true, deleted, nil
}

// PutChange adds or replaces the change log entry of c.NameMAC, with the
// next statement (see pipe).
func (w writer) PutChange(ctx context.Context, collection int64, c storage.ChangeRow) error {
	w.p.later(refersTo("log change"), `INSERT INTO changes (collection_id, name_mac, name_sealed, revision, deleted) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (collection_id, name_mac) DO UPDATE SET name_sealed = excluded.name_sealed, revision = excluded.revision, deleted = excluded.deleted`,
		collection, c.NameMAC, c.NameSealed, c.Revision, c.Deleted)
	return nil
}

// AddTombstones moves a collection's count of deletions in its change log
// by step and returns the new count.
func (w writer) AddTombstones(ctx context.Context, collection int64, step int64) (int64, error) {
	var n int64
	err := w.q.QueryRow(ctx, `UPDATE collections SET tombstones = tombstones + $2 WHERE id = $1 RETURNING tombstones`, collection, step).Scan(&n)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, storage.ErrNotFound
	}
	if err != nil {
		return 0, dbErr("count deletions", err)
	}
	return n, nil
}

// ForgetTombstones removes the oldest n deletions of a collection's change
// log (all of them when it holds fewer), lowers its count of them by as
// many, and raises its ForgottenRev to the newest revision removed, in one
// statement.
func (w writer) ForgetTombstones(ctx context.Context, collection int64, n int64) error {
	if n <= 0 {
		return nil
	}
	return w.exec(ctx, "forget deletions", `WITH upto AS (
			SELECT max(revision) AS revision FROM (
				SELECT revision FROM changes WHERE collection_id = $1 AND deleted ORDER BY revision LIMIT $2) oldest),
		gone AS (
			DELETE FROM changes WHERE collection_id = $1 AND deleted AND revision <= (SELECT revision FROM upto)
			RETURNING revision)
		UPDATE collections SET tombstones = tombstones - (SELECT count(*) FROM gone),
			forgotten_rev = greatest(forgotten_rev, coalesce((SELECT max(revision) FROM gone), 0))
		WHERE id = $1`, collection, n)
}

// notNull returns b, or an empty value for nil, for a NOT NULL column.
func notNull(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// putStateQuery reads a PutState in one statement: the collection row,
// with the object at $3 (its columns NULL when there is none), the first
// other object holding one of the UID MACs $4, the counts and usage when
// $5 and $6 ask for them, and whether $3's last change is a deletion. The look-ups by name and UID go by both
// columns of their unique index, as byKey's do.
var putStateQuery = `SELECT c.uid, o.id IS NOT NULL, ` + objectColumnsOrZero + `, h.name_mac, h.name_sealed,
		CASE WHEN $5 THEN (SELECT count(*) FROM collections WHERE account_id = $1) ELSE 0 END, c.object_count, c.object_bytes + c.props_bytes,
		CASE WHEN $6 THEN (` + usageQuery + `) ELSE 0 END,
		coalesce((SELECT deleted FROM changes WHERE collection_id = c.id AND name_mac = $3), false)
	FROM collections c
	LEFT JOIN LATERAL (SELECT * FROM objects WHERE collection_id = c.id AND name_mac = $3 OFFSET 0) o ON true
	LEFT JOIN LATERAL (` + uidHolderQuery("c.id", "$4", "ARRAY[$3::bytea]") + `) h ON true
	WHERE c.id = $2 AND c.account_id = $1`

// objectColumnsOrZero are objectColumns with the zero value of each
// NOT NULL column for a missing row.
const objectColumnsOrZero = `coalesce(o.id, 0), coalesce(o.collection_id, 0), o.name_mac, o.name_sealed, o.uid_mac, coalesce(o.etag, ''),
	o.ctype_sealed, o.props_sealed, o.index_sealed, o.uid_sealed, coalesce(o.size, 0), coalesce(o.meta_bytes, 0),
	coalesce(o.modified_at, 0), coalesce(o.revision, 0), coalesce(o.seal_v, 0), coalesce(o.sealed_rev, 0)`

// PutState reads what q asks for in one statement, or storage.ErrNotFound
// when the collection is not the account's.
func (r reader) PutState(ctx context.Context, q storage.PutQuery) (*storage.PutState, error) {
	var st storage.PutState
	var found bool
	var o storage.ObjectRow
	uids := nonNil(q.UIDMACs)
	err := r.q.QueryRow(ctx, putStateQuery, q.Account, q.Collection, q.NameMAC, uids, q.Counts, q.Usage).Scan(
		&st.UID, &found, &o.ID, &o.Collection, &o.NameMAC, &o.NameSealed, &o.UIDMAC, &o.ETag, &o.CtypeSealed,
		&o.PropsSealed, &o.IndexSealed, &o.UIDSealed, &o.Size, &o.MetaBytes, &o.Modified, &o.Revision, &o.SealV, &o.SealedRev,
		&st.HolderMAC, &st.HolderName, &st.Counts.Collections, &st.Counts.Objects, &st.Counts.Bytes, &st.Usage, &st.LastDeleted)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, storage.ErrNotFound
	}
	if err != nil {
		return nil, dbErr("read before a write", err)
	}
	if found {
		st.Current = &o
	}
	if !q.Counts {
		st.Counts = storage.Counts{}
	}
	return &st, nil
}

// deref returns *s, or "" for nil.
func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
