package storage

import (
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/coffer-dav/coffer/encryption"
)

// sqliteSpace is the SQLite implementation of Space for one user.
type sqliteSpace struct {
	db   *DB
	user int64
	keys *encryption.Keyring
}

// collectionRef is what every object operation needs of its collection:
// its row and the random id that sealed records and MACs are bound to.
type collectionRef struct {
	id  int64
	uid []byte
}

// Record fields named in the associated data of sealed values.
const (
	fieldCollectionName  = "collection.name"
	fieldCollectionProps = "collection.props"
	fieldObjectName      = "object.name"
	fieldObjectType      = "object.content-type"
	fieldObjectBody      = "object.body"
)

// Space opens the data of one account with that account's keys.
func (db *DB) Space(account int64, keys *encryption.Keyring) Space {
	return &sqliteSpace{db: db, user: account, keys: keys}
}

func (s *sqliteSpace) collectionMAC(home Home, name string) []byte {
	return s.keys.MAC("collection", []byte(home), []byte(name))
}

func (s *sqliteSpace) objectMAC(coll []byte, name string) []byte {
	return s.keys.MAC("object", coll, []byte(name))
}

func (s *sqliteSpace) uidMAC(coll []byte, uid string) []byte {
	return s.keys.MAC("uid", coll, []byte(uid))
}

func (s *sqliteSpace) etag(body []byte) string {
	return hex.EncodeToString(s.keys.MAC("etag", body)[:16])
}

func (s *sqliteSpace) ad(coll, obj []byte, field string) encryption.AD {
	return encryption.AD{User: s.user, Collection: coll, Object: obj, Field: field}
}

const collectionColumns = `id, home, kind, uid, name_sealed, props_sealed, revision, created_at`

// Collections lists the collections in home, ordered by creation.
func (s *sqliteSpace) Collections(ctx context.Context, home Home) ([]Collection, error) {
	rows, err := s.db.read.QueryContext(ctx, `SELECT `+collectionColumns+` FROM collections WHERE account_id = ? AND home = ? ORDER BY id`, s.user, string(home))
	if err != nil {
		return nil, fmt.Errorf("storage: list collections: %w", err)
	}
	defer rows.Close()
	var out []Collection
	for rows.Next() {
		c, err := s.scanCollection(rows.Scan)
		if err != nil {
			return nil, err
		}
		out = append(out, *c)
	}
	return out, rows.Err()
}

// Collection returns one collection, or ErrNotFound.
func (s *sqliteSpace) Collection(ctx context.Context, home Home, name string) (*Collection, error) {
	row := s.db.read.QueryRowContext(ctx, `SELECT `+collectionColumns+` FROM collections WHERE account_id = ? AND name_mac = ?`, s.user, s.collectionMAC(home, name))
	c, err := s.scanCollection(row.Scan)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return c, err
}

// CreateCollection creates a collection, or fails with ErrExists.
func (s *sqliteSpace) CreateCollection(ctx context.Context, n NewCollection) (*Collection, error) {
	mac := s.collectionMAC(n.Home, n.Name)
	uid, err := encryption.RandomBytes(16)
	if err != nil {
		return nil, err
	}
	props, err := s.sealProps(uid, n.Props)
	if err != nil {
		return nil, err
	}
	name := s.keys.Seal(s.ad(uid, nil, fieldCollectionName), []byte(n.Name))
	now := time.Now().UTC().Truncate(time.Second)
	c := &Collection{Home: n.Home, Name: n.Name, Kind: n.Kind, Props: clone(n.Props), Created: now}
	err = s.db.inTx(ctx, func(tx *sql.Tx) error {
		rev, err := nextRevision(ctx, tx)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx,
			`INSERT INTO collections (account_id, home, kind, uid, name_mac, name_sealed, props_sealed, revision, created_rev, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			s.user, string(n.Home), string(n.Kind), uid, mac, name, props, rev, rev, now.Unix())
		if err != nil {
			if isUniqueViolation(err) {
				return ErrExists
			}
			return fmt.Errorf("storage: create collection: %w", err)
		}
		c.ID, err = res.LastInsertId()
		c.Revision = rev
		return err
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// PatchCollection sets and removes properties and raises the revision.
func (s *sqliteSpace) PatchCollection(ctx context.Context, id int64, set Props, remove []string) (*Collection, error) {
	var out *Collection
	err := s.db.inTx(ctx, func(tx *sql.Tx) error {
		row := tx.QueryRowContext(ctx, `SELECT `+collectionColumns+` FROM collections WHERE id = ? AND account_id = ?`, id, s.user)
		c, uid, err := s.scanCollectionUID(row.Scan)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		for _, k := range remove {
			delete(c.Props, k)
		}
		for k, v := range set {
			c.Props[k] = v
		}
		sealed, err := s.sealProps(uid, c.Props)
		if err != nil {
			return err
		}
		if c.Revision, err = nextRevision(ctx, tx); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE collections SET props_sealed = ?, revision = ? WHERE id = ?`, sealed, c.Revision, id); err != nil {
			return fmt.Errorf("storage: update collection: %w", err)
		}
		out = c
		return nil
	})
	return out, err
}

// DeleteCollection removes a collection and everything in it.
func (s *sqliteSpace) DeleteCollection(ctx context.Context, id int64) error {
	return s.db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM collections WHERE id = ? AND account_id = ?`, id, s.user)
		if err != nil {
			return fmt.Errorf("storage: delete collection: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		return nil
	})
}

// Objects lists the objects of a collection, without bodies.
func (s *sqliteSpace) Objects(ctx context.Context, collection int64) ([]Object, error) {
	ref, err := s.ref(ctx, s.db.read, collection)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.read.QueryContext(ctx,
		`SELECT name_mac, name_sealed, etag, ctype_sealed, size, modified_at, revision FROM objects WHERE collection_id = ? ORDER BY revision`, ref.id)
	if err != nil {
		return nil, fmt.Errorf("storage: list objects: %w", err)
	}
	defer rows.Close()
	var out []Object
	for rows.Next() {
		var mac, name, ctype []byte
		var o Object
		var mod int64
		if err := rows.Scan(&mac, &name, &o.ETag, &ctype, &o.Size, &mod, &o.Revision); err != nil {
			return nil, err
		}
		if err := s.openObjectMeta(ref.uid, mac, name, ctype, &o); err != nil {
			return nil, err
		}
		o.Modified = time.Unix(mod, 0).UTC()
		out = append(out, o)
	}
	return out, rows.Err()
}

// Object returns one object, with its body when withBody is set, or ErrNotFound.
func (s *sqliteSpace) Object(ctx context.Context, collection int64, name string, withBody bool) (*Object, error) {
	ref, err := s.ref(ctx, s.db.read, collection)
	if err != nil {
		return nil, err
	}
	mac := s.objectMAC(ref.uid, name)
	body := "NULL"
	if withBody {
		body = "body_sealed"
	}
	var sealedName, ctype, sealedBody []byte
	var o Object
	var mod int64
	err = s.db.read.QueryRowContext(ctx,
		`SELECT name_sealed, etag, ctype_sealed, size, modified_at, revision, `+body+` FROM objects WHERE collection_id = ? AND name_mac = ?`, ref.id, mac).
		Scan(&sealedName, &o.ETag, &ctype, &o.Size, &mod, &o.Revision, &sealedBody)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("storage: read object: %w", err)
	}
	if err := s.openObjectMeta(ref.uid, mac, sealedName, ctype, &o); err != nil {
		return nil, err
	}
	o.Modified = time.Unix(mod, 0).UTC()
	if withBody {
		if o.Body, err = s.keys.Open(s.ad(ref.uid, mac, fieldObjectBody), sealedBody); err != nil {
			return nil, fmt.Errorf("storage: open object body: %w", err)
		}
	}
	return &o, nil
}

// PutObject creates or replaces an object after checking its preconditions
// and UID uniqueness in the same transaction.
func (s *sqliteSpace) PutObject(ctx context.Context, collection int64, p PutOptions) (*PutResult, error) {
	var out *PutResult
	err := s.db.inTx(ctx, func(tx *sql.Tx) error {
		ref, err := s.ref(ctx, tx, collection)
		if err != nil {
			return err
		}
		mac := s.objectMAC(ref.uid, p.Name)
		var current string
		err = tx.QueryRowContext(ctx, `SELECT etag FROM objects WHERE collection_id = ? AND name_mac = ?`, ref.id, mac).Scan(&current)
		exists := err == nil
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("storage: read object: %w", err)
		}
		if err := checkMatch(exists, current, p.IfMatch, p.IfNoneMatch); err != nil {
			return err
		}
		var uid []byte
		if p.UID != "" {
			uid = s.uidMAC(ref.uid, p.UID)
			var otherMAC, otherName []byte
			err := tx.QueryRowContext(ctx, `SELECT name_mac, name_sealed FROM objects WHERE collection_id = ? AND uid_mac = ? AND name_mac <> ?`, ref.id, uid, mac).Scan(&otherMAC, &otherName)
			if err == nil {
				name, err := s.keys.Open(s.ad(ref.uid, otherMAC, fieldObjectName), otherName)
				if err != nil {
					return fmt.Errorf("storage: open object name: %w", err)
				}
				return &UIDConflict{Name: string(name)}
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("storage: check uid: %w", err)
			}
		}
		rev, err := s.bump(ctx, tx, ref.id)
		if err != nil {
			return err
		}
		now := time.Now().UTC().Truncate(time.Second)
		o := Object{Name: p.Name, ETag: s.etag(p.Body), ContentType: p.ContentType, Size: int64(len(p.Body)), Modified: now, Revision: rev}
		name := s.keys.Seal(s.ad(ref.uid, mac, fieldObjectName), []byte(p.Name))
		_, err = tx.ExecContext(ctx,
			`INSERT INTO objects (collection_id, name_mac, name_sealed, uid_mac, etag, ctype_sealed, size, body_sealed, modified_at, revision)
			 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			 ON CONFLICT (collection_id, name_mac) DO UPDATE SET name_sealed = excluded.name_sealed, uid_mac = excluded.uid_mac,
			   etag = excluded.etag, ctype_sealed = excluded.ctype_sealed, size = excluded.size, body_sealed = excluded.body_sealed,
			   modified_at = excluded.modified_at, revision = excluded.revision`,
			ref.id, mac, name, uid, o.ETag,
			s.keys.Seal(s.ad(ref.uid, mac, fieldObjectType), []byte(p.ContentType)),
			o.Size, s.keys.Seal(s.ad(ref.uid, mac, fieldObjectBody), p.Body), now.Unix(), rev)
		if err != nil {
			return fmt.Errorf("storage: write object: %w", err)
		}
		if err := logChange(ctx, tx, ref.id, mac, name, rev, false); err != nil {
			return err
		}
		out = &PutResult{Object: o, Created: !exists}
		return nil
	})
	return out, err
}

// DeleteObject removes an object, or fails with ErrNotFound or ErrPrecondition.
func (s *sqliteSpace) DeleteObject(ctx context.Context, collection int64, name string, o DeleteOptions) error {
	return s.db.inTx(ctx, func(tx *sql.Tx) error {
		ref, err := s.ref(ctx, tx, collection)
		if err != nil {
			return err
		}
		mac := s.objectMAC(ref.uid, name)
		var current string
		var sealedName []byte
		err = tx.QueryRowContext(ctx, `SELECT etag, name_sealed FROM objects WHERE collection_id = ? AND name_mac = ?`, ref.id, mac).Scan(&current, &sealedName)
		if errors.Is(err, sql.ErrNoRows) {
			if o.IfMatch != "" {
				return ErrPrecondition
			}
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("storage: read object: %w", err)
		}
		if err := checkMatch(true, current, o.IfMatch, false); err != nil {
			return err
		}
		rev, err := s.bump(ctx, tx, ref.id)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM objects WHERE collection_id = ? AND name_mac = ?`, ref.id, mac); err != nil {
			return fmt.Errorf("storage: delete object: %w", err)
		}
		return logChange(ctx, tx, ref.id, mac, sealedName, rev, true)
	})
}

// Changes returns the latest change of every object that changed after since.
func (s *sqliteSpace) Changes(ctx context.Context, collection int64, since int64) ([]Change, int64, error) {
	tx, err := s.db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, 0, fmt.Errorf("storage: begin: %w", err)
	}
	defer tx.Rollback()
	var uid []byte
	var rev, created int64
	err = tx.QueryRowContext(ctx, `SELECT uid, revision, created_rev FROM collections WHERE id = ? AND account_id = ?`, collection, s.user).Scan(&uid, &rev, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, 0, ErrNotFound
	}
	if err != nil {
		return nil, 0, fmt.Errorf("storage: read collection: %w", err)
	}
	// A revision from before this collection existed belongs to another one
	// that had the same name; only 0 (the initial sync) is always valid.
	if since < 0 || since > rev || (since != 0 && since < created) {
		return nil, 0, ErrBadRevision
	}
	rows, err := tx.QueryContext(ctx,
		`SELECT c.name_mac, c.name_sealed, c.revision, c.deleted, coalesce(o.etag, '')
		 FROM changes c LEFT JOIN objects o ON o.collection_id = c.collection_id AND o.name_mac = c.name_mac
		 WHERE c.collection_id = ? AND c.revision > ? ORDER BY c.revision`, collection, since)
	if err != nil {
		return nil, 0, fmt.Errorf("storage: read changes: %w", err)
	}
	defer rows.Close()
	var out []Change
	for rows.Next() {
		var objMAC, sealed []byte
		var c Change
		if err := rows.Scan(&objMAC, &sealed, &c.Revision, &c.Deleted, &c.ETag); err != nil {
			return nil, 0, err
		}
		name, err := s.keys.Open(s.ad(uid, objMAC, fieldObjectName), sealed)
		if err != nil {
			return nil, 0, fmt.Errorf("storage: open change name: %w", err)
		}
		c.Name = string(name)
		out = append(out, c)
	}
	return out, rev, rows.Err()
}

// querier is what both *sql.DB and *sql.Tx offer for reads.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// ref resolves a collection id of this user; another user's id is ErrNotFound.
func (s *sqliteSpace) ref(ctx context.Context, q querier, id int64) (collectionRef, error) {
	r := collectionRef{id: id}
	err := q.QueryRowContext(ctx, `SELECT uid FROM collections WHERE id = ? AND account_id = ?`, id, s.user).Scan(&r.uid)
	if errors.Is(err, sql.ErrNoRows) {
		return r, ErrNotFound
	}
	if err != nil {
		return r, fmt.Errorf("storage: read collection: %w", err)
	}
	return r, nil
}

// bump gives a collection the next revision and returns it.
func (s *sqliteSpace) bump(ctx context.Context, tx *sql.Tx, collection int64) (int64, error) {
	rev, err := nextRevision(ctx, tx)
	if err != nil {
		return 0, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE collections SET revision = ? WHERE id = ?`, rev, collection); err != nil {
		return 0, fmt.Errorf("storage: bump revision: %w", err)
	}
	return rev, nil
}

func (s *sqliteSpace) scanCollection(scan func(...any) error) (*Collection, error) {
	c, _, err := s.scanCollectionUID(scan)
	return c, err
}

// scanCollectionUID reads a row of collectionColumns and opens its sealed fields.
func (s *sqliteSpace) scanCollectionUID(scan func(...any) error) (*Collection, []byte, error) {
	var c Collection
	var home, kind string
	var uid, name, props []byte
	var created int64
	if err := scan(&c.ID, &home, &kind, &uid, &name, &props, &c.Revision, &created); err != nil {
		return nil, nil, err
	}
	c.Home, c.Kind, c.Created = Home(home), Kind(kind), time.Unix(created, 0).UTC()
	plain, err := s.keys.Open(s.ad(uid, nil, fieldCollectionName), name)
	if err != nil {
		return nil, nil, fmt.Errorf("storage: open collection name: %w", err)
	}
	c.Name = string(plain)
	if plain, err = s.keys.Open(s.ad(uid, nil, fieldCollectionProps), props); err != nil {
		return nil, nil, fmt.Errorf("storage: open collection properties: %w", err)
	}
	if err := json.Unmarshal(plain, &c.Props); err != nil {
		return nil, nil, fmt.Errorf("storage: decode collection properties: %w", err)
	}
	if c.Props == nil {
		c.Props = Props{}
	}
	return &c, uid, nil
}

func (s *sqliteSpace) sealProps(uid []byte, p Props) ([]byte, error) {
	if p == nil {
		p = Props{}
	}
	plain, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("storage: encode properties: %w", err)
	}
	return s.keys.Seal(s.ad(uid, nil, fieldCollectionProps), plain), nil
}

func (s *sqliteSpace) openObjectMeta(coll, obj, name, ctype []byte, o *Object) error {
	n, err := s.keys.Open(s.ad(coll, obj, fieldObjectName), name)
	if err != nil {
		return fmt.Errorf("storage: open object name: %w", err)
	}
	t, err := s.keys.Open(s.ad(coll, obj, fieldObjectType), ctype)
	if err != nil {
		return fmt.Errorf("storage: open object type: %w", err)
	}
	o.Name, o.ContentType = string(n), string(t)
	return nil
}

// checkMatch applies If-Match and If-None-Match: * to the current state.
func checkMatch(exists bool, current, ifMatch string, ifNoneMatch bool) error {
	if ifNoneMatch && exists {
		return ErrPrecondition
	}
	if ifMatch != "" && (!exists || (ifMatch != "*" && ifMatch != current)) {
		return ErrPrecondition
	}
	return nil
}

// nextRevision draws the next value of the database-wide revision counter.
func nextRevision(ctx context.Context, tx *sql.Tx) (int64, error) {
	var rev int64
	err := tx.QueryRowContext(ctx, `UPDATE revision_counter SET value = value + 1 WHERE id = 1 RETURNING value`).Scan(&rev)
	if err != nil {
		return 0, fmt.Errorf("storage: next revision: %w", err)
	}
	return rev, nil
}

// logChange records the latest change of one object name, replacing the older one.
func logChange(ctx context.Context, tx *sql.Tx, collection int64, mac, sealedName []byte, rev int64, deleted bool) error {
	_, err := tx.ExecContext(ctx,
		`INSERT INTO changes (collection_id, name_mac, name_sealed, revision, deleted) VALUES (?, ?, ?, ?, ?)
		 ON CONFLICT (collection_id, name_mac) DO UPDATE SET name_sealed = excluded.name_sealed, revision = excluded.revision, deleted = excluded.deleted`,
		collection, mac, sealedName, rev, deleted)
	if err != nil {
		return fmt.Errorf("storage: log change: %w", err)
	}
	return nil
}

func clone(p Props) Props {
	out := make(Props, len(p))
	for k, v := range p {
		out[k] = v
	}
	return out
}
