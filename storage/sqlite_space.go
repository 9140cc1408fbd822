package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/coffer-dav/coffer/encryption"
)

// sqliteSpace is the SQLite implementation of Space for one user.
type sqliteSpace struct {
	db   *DB
	user int64
	seal sealer // the only holder of the keys

	mu   sync.Mutex
	refs map[int64][]byte // collections already checked by reads of this space
}

// collectionRef is what every object operation needs of its collection:
// its row and the random id that sealed records and MACs are bound to.
type collectionRef struct {
	id  int64
	uid []byte
}

// Space opens the data of one account with that account's keys.
func (db *DB) Space(account int64, keys *encryption.Keyring) Space {
	return &sqliteSpace{db: db, user: account, seal: newSealer(account, keys)}
}

const collectionColumns = `id, home, kind, uid, name_sealed, props_sealed, revision, created_at`

// Collections lists the collections in home, ordered by creation.
func (s *sqliteSpace) Collections(ctx context.Context, home Home) ([]Collection, error) {
	rows, err := s.db.read.QueryContext(ctx, `SELECT `+collectionColumns+` FROM collections WHERE account_id = ? AND home = ? ORDER BY id`, s.user, string(home))
	if err != nil {
		return nil, fmt.Errorf("storage: list collections: %w", err)
	}
	var out []Collection
	var uids [][]byte
	for rows.Next() {
		c, uid, err := s.scanCollection(rows.Scan)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out, uids = append(out, *c), append(uids, uid)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	err = s.collectionProps(ctx, s.db.read, `c.account_id = ? AND c.home = ?`, []any{s.user, string(home)}, out, uids)
	return out, err
}

// Collection returns one collection, or ErrNotFound.
func (s *sqliteSpace) Collection(ctx context.Context, home Home, name string) (*Collection, error) {
	row := s.db.read.QueryRowContext(ctx, `SELECT `+collectionColumns+` FROM collections WHERE account_id = ? AND name_mac = ?`, s.user, s.seal.collectionMAC(home, name))
	c, uid, err := s.scanCollection(row.Scan)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	out := []Collection{*c}
	if err := s.collectionProps(ctx, s.db.read, `c.id = ?`, []any{c.ID}, out, [][]byte{uid}); err != nil {
		return nil, err
	}
	return &out[0], nil
}

// CreateCollection creates a collection, or fails with ErrExists.
func (s *sqliteSpace) CreateCollection(ctx context.Context, n NewCollection) (*Collection, error) {
	mac := s.seal.collectionMAC(n.Home, n.Name)
	uid, err := randomID()
	if err != nil {
		return nil, err
	}
	name := s.seal.sealCollectionName(uid, n.Name)
	now := time.Now().UTC().Truncate(time.Second)
	c := &Collection{Home: n.Home, Name: n.Name, Kind: n.Kind, Props: clone(n.Props), Created: now}
	err = s.db.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.checkNewCollection(ctx, tx, n); err != nil {
			return err
		}
		rev, err := s.nextRevision(ctx, tx)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx,
			`INSERT INTO collections (account_id, home, kind, uid, name_mac, name_sealed, props_sealed, props_bytes, revision, created_rev, created_at) VALUES (?, ?, ?, ?, ?, ?, X'', ?, ?, ?, ?)`,
			s.user, string(n.Home), string(n.Kind), uid, mac, name, n.Props.Size(), rev, rev, now.Unix())
		if err != nil {
			if isUniqueViolation(err) {
				return ErrExists
			}
			return fmt.Errorf("storage: create collection: %w", err)
		}
		if c.ID, err = res.LastInsertId(); err != nil {
			return err
		}
		c.Revision = rev
		_, err = s.insertProps(ctx, tx, s.collectionOwner(c.ID, uid), n.Props, rev)
		return err
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// checkNewCollection refuses a collection that would take the user beyond
// the cap of collections, its properties beyond theirs, or the user's bytes
// beyond the quota, in that order.
func (s *sqliteSpace) checkNewCollection(ctx context.Context, tx *sql.Tx, n NewCollection) error {
	if n.Limits.MaxCollections > 0 {
		count, err := s.collectionCount(ctx, tx)
		if err != nil {
			return err
		}
		if err := checkCollections(n.Limits, count, count+1); err != nil {
			return err
		}
	}
	size := n.Props.Size()
	if err := checkProps(n.Limits, 0, size); err != nil {
		return err
	}
	return s.checkQuota(ctx, tx, n.Limits, size, size)
}

// DeleteCollection removes a collection, the collections nested in it, and
// everything in them.
func (s *sqliteSpace) DeleteCollection(ctx context.Context, id int64) error {
	return s.db.inTx(ctx, func(tx *sql.Tx) error { return s.deleteTree(ctx, tx, id) })
}

// deleteTree removes a collection, the collections nested in it, and
// everything in them, in tx.
func (s *sqliteSpace) deleteTree(ctx context.Context, tx *sql.Tx, id int64) error {
	all, err := s.tree(ctx, tx)
	if err != nil {
		return err
	}
	src := findID(all, id)
	if src == nil {
		return ErrNotFound
	}
	for _, c := range subtree(all, src.Home, src.Name) {
		if _, err := tx.ExecContext(ctx, `DELETE FROM collections WHERE id = ? AND account_id = ?`, c.ID, s.user); err != nil {
			return fmt.Errorf("storage: delete collection: %w", err)
		}
	}
	return nil
}

// Objects lists the objects of a collection, without bodies.
func (s *sqliteSpace) Objects(ctx context.Context, collection int64) ([]Object, error) {
	ref, err := s.ref(ctx, s.db.read, collection)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.read.QueryContext(ctx,
		`SELECT `+objectColumns+`, NULL FROM objects o WHERE o.collection_id = ? ORDER BY o.revision`, ref.id)
	if err != nil {
		return nil, fmt.Errorf("storage: list objects: %w", err)
	}
	var out []Object
	var keys []objectKey
	for rows.Next() {
		o, key, err := s.scanObject(ref, rows.Scan, false)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out, keys = append(out, *o), append(keys, key)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	objs := make([]*Object, len(out))
	for i := range out {
		objs[i] = &out[i]
	}
	err = s.objectProps(ctx, ref, `SELECT p.object_id, p.name_mac, p.value_sealed, p.revision FROM object_props p JOIN objects o ON o.id = p.object_id WHERE o.collection_id = ?`, []any{ref.id}, objs, keys)
	return out, err
}

// Object returns one object, or ErrNotFound.
func (s *sqliteSpace) Object(ctx context.Context, collection int64, name string, o ReadOptions) (*Object, error) {
	objs, err := s.ObjectsNamed(ctx, collection, []string{name}, o)
	if err != nil {
		return nil, err
	}
	if objs[0] == nil {
		return nil, ErrNotFound
	}
	return objs[0], nil
}

// namedBatch is how many names one query of ObjectsNamed looks up.
const namedBatch = 64

// ObjectsNamed returns the objects of a collection with the given names, in
// the order asked and nil for a name that has none. A batch of names costs
// one query.
func (s *sqliteSpace) ObjectsNamed(ctx context.Context, collection int64, names []string, o ReadOptions) ([]*Object, error) {
	ref, err := s.ref(ctx, s.db.read, collection)
	if err != nil {
		return nil, err
	}
	out := make([]*Object, len(names))
	for lo := 0; lo < len(names); lo += namedBatch {
		if err := s.objectsNamed(ctx, ref, names[lo:min(lo+namedBatch, len(names))], o.Body, out[lo:]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// objectsNamed looks up one batch of names and fills out in their order.
func (s *sqliteSpace) objectsNamed(ctx context.Context, ref collectionRef, names []string, withBody bool, out []*Object) error {
	args := make([]any, 1, len(names)+1)
	args[0] = ref.id
	at := make(map[string][]int, len(names)) // name MAC → positions asked
	for i, name := range names {
		mac := s.seal.objectMAC(ref.uid, name)
		if _, seen := at[string(mac)]; !seen {
			args = append(args, mac)
		}
		at[string(mac)] = append(at[string(mac)], i)
	}
	from, body := `objects o`, `NULL`
	if withBody {
		from, body = sealedTables, `b.body_sealed`
	}
	rows, err := s.db.read.QueryContext(ctx, `SELECT `+objectColumns+`, `+body+` FROM `+from+
		` WHERE o.collection_id = ? AND o.name_mac IN (`+strings.Repeat("?, ", len(args)-2)+`?)`, args...)
	if err != nil {
		return fmt.Errorf("storage: read objects: %w", err)
	}
	var found []*Object
	var keys []objectKey
	for rows.Next() {
		o, key, err := s.scanObject(ref, rows.Scan, withBody)
		if err != nil {
			rows.Close()
			return err
		}
		found, keys = append(found, o), append(keys, key)
		for _, i := range at[string(key.mac)] {
			out[i] = o
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(found) == 0 {
		return err
	}
	ids := make([]any, len(keys))
	for i, k := range keys {
		ids[i] = k.id
	}
	return s.objectProps(ctx, ref, `SELECT object_id, name_mac, value_sealed, revision FROM object_props WHERE object_id IN (`+strings.Repeat("?, ", len(ids)-1)+`?)`, ids, found, keys)
}

// objectKey is what reading an object's property rows needs of it.
type objectKey struct {
	id  int64
	mac []byte
}

// objectProps adds to objs, whose keys are keys, the property rows that
// query selects with args.
func (s *sqliteSpace) objectProps(ctx context.Context, ref collectionRef, query string, args []any, objs []*Object, keys []objectKey) error {
	byID := make(map[int64]int, len(keys))
	for i, k := range keys {
		byID[k.id] = i
	}
	return s.loadPropRows(ctx, s.db.read, query, args, func(id int64) (propOwner, Props) {
		i, ok := byID[id]
		if !ok {
			return propOwner{}, nil
		}
		return s.objectOwner(id, ref.uid, keys[i].mac), objs[i].Props
	})
}

// objectColumns are the columns of objects o that scanObject reads, before
// the body column.
const objectColumns = `o.id, o.name_mac, o.name_sealed, o.etag, o.ctype_sealed, o.props_sealed, o.size, o.modified_at, o.revision, o.seal_v, o.sealed_rev`

// scanObject reads a row of objectColumns and a body column (NULL unless
// withBody), opens its sealed fields, and returns the object and its key.
// The properties are those sealed whole before they had rows, if any; the
// caller adds the rows.
func (s *sqliteSpace) scanObject(ref collectionRef, scan func(...any) error, withBody bool) (*Object, objectKey, error) {
	var key objectKey
	var sealedName, ctype, props []byte
	var sealedBody sql.RawBytes // opened before the next row, so never copied
	o := &Object{}
	var mod, v, rev int64
	if err := scan(&key.id, &key.mac, &sealedName, &o.ETag, &ctype, &props, &o.Size, &mod, &o.Revision, &v, &rev, &sealedBody); err != nil {
		return nil, key, fmt.Errorf("storage: read object: %w", err)
	}
	if err := s.seal.openObjectMeta(ref, key.mac, sealedName, ctype, props, v, rev, o); err != nil {
		return nil, key, err
	}
	o.Modified = time.Unix(mod, 0).UTC()
	if withBody {
		var err error
		if o.Body, err = s.seal.openBody(ref, key.mac, o.ETag, v, rev, sealedBody); err != nil {
			return nil, key, err
		}
	}
	return o, key, nil
}

// PutObject creates or replaces an object after checking its preconditions
// and UID uniqueness in the same transaction. Dead properties survive a replace.
func (s *sqliteSpace) PutObject(ctx context.Context, collection int64, p PutOptions) (*PutResult, error) {
	var out *PutResult
	err := s.db.inTx(ctx, func(tx *sql.Tx) error {
		ref, err := s.ref(ctx, tx, collection)
		if err != nil {
			return err
		}
		mac := s.seal.objectMAC(ref.uid, p.Name)
		var current string
		err = tx.QueryRowContext(ctx, `SELECT etag FROM objects WHERE collection_id = ? AND name_mac = ?`, ref.id, mac).Scan(&current)
		exists := err == nil
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("storage: read object: %w", err)
		}
		if err := checkMatch(exists, current, p.IfMatch, p.IfNoneMatch); err != nil {
			return err
		}
		if p.UID != "" {
			if err := s.checkUID(ctx, tx, ref, s.seal.uidMACs(ref.uid, p.UID), mac, []byte{}); err != nil {
				return err
			}
		}
		o, err := s.writeObject(ctx, tx, ref, &plainObject{name: p.Name, uid: p.UID, uidKnown: true, etag: s.seal.etag(p.Body), ctype: []byte(p.ContentType), body: p.Body, index: p.Index, keepProps: true, limits: p.Limits})
		if err != nil {
			return err
		}
		out = &PutResult{Object: *o, Created: !exists}
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
		mac := s.seal.objectMAC(ref.uid, name)
		var current string
		err = tx.QueryRowContext(ctx, `SELECT etag FROM objects WHERE collection_id = ? AND name_mac = ?`, ref.id, mac).Scan(&current)
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
		return s.removeObject(ctx, tx, ref, mac)
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
	var rev, created, forgotten int64
	err = tx.QueryRowContext(ctx, `SELECT uid, revision, created_rev, forgotten_rev FROM collections WHERE id = ? AND account_id = ?`, collection, s.user).Scan(&uid, &rev, &created, &forgotten)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, 0, ErrNotFound
	}
	if err != nil {
		return nil, 0, fmt.Errorf("storage: read collection: %w", err)
	}
	// A revision from before this collection existed belongs to another one
	// that had the same name; one from before its forgotten deletions could
	// miss one; only 0 (the initial sync) is always valid.
	if since < 0 || since > rev || (since != 0 && (since < created || since < forgotten)) {
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
		if c.Name, err = s.seal.openObjectName(uid, objMAC, sealed); err != nil {
			return nil, 0, fmt.Errorf("storage: open change name: %w", err)
		}
		out = append(out, c)
	}
	return out, rev, rows.Err()
}

// querier is what both *sql.DB and *sql.Tx offer for reads.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// ref resolves a collection id of this user; another user's id is ErrNotFound.
//
// A space lives for one request. Reads remember the collections they
// checked, since a collection's random id never changes: a multiget of
// many objects then checks its collection once. Writes check inside their
// own transaction every time.
func (s *sqliteSpace) ref(ctx context.Context, q querier, id int64) (collectionRef, error) {
	r := collectionRef{id: id}
	_, read := q.(*sql.DB)
	if read {
		s.mu.Lock()
		r.uid = s.refs[id]
		s.mu.Unlock()
		if r.uid != nil {
			return r, nil
		}
	}
	err := q.QueryRowContext(ctx, `SELECT uid FROM collections WHERE id = ? AND account_id = ?`, id, s.user).Scan(&r.uid)
	if errors.Is(err, sql.ErrNoRows) {
		return r, ErrNotFound
	}
	if err != nil {
		return r, fmt.Errorf("storage: read collection: %w", err)
	}
	if read {
		s.remember(id, r.uid)
	}
	return r, nil
}

// remember notes that collection id, with random id uid, is this user's,
// as read outside any write transaction.
func (s *sqliteSpace) remember(id int64, uid []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.refs == nil {
		s.refs = map[int64][]byte{}
	}
	s.refs[id] = uid
}

// bumpCounting gives a collection the next revision and moves its object
// count and byte total by the given amounts.
func (s *sqliteSpace) bumpCounting(ctx context.Context, tx *sql.Tx, collection, objects, bytes int64) (int64, error) {
	rev, err := s.nextRevision(ctx, tx)
	if err != nil {
		return 0, err
	}
	return rev, s.moveCounts(ctx, tx, collection, rev, objects, bytes)
}

// moveCounts gives a collection revision rev and moves its object count and
// byte total by the given amounts.
func (s *sqliteSpace) moveCounts(ctx context.Context, tx *sql.Tx, collection, rev, objects, bytes int64) error {
	_, err := tx.ExecContext(ctx, `UPDATE collections SET revision = ?, object_count = object_count + ?, object_bytes = object_bytes + ? WHERE id = ?`,
		rev, objects, bytes, collection)
	if err != nil {
		return fmt.Errorf("storage: bump revision: %w", err)
	}
	return nil
}

// scanCollection reads a row of collectionColumns on a read path, and
// remembers the collection for the request's later reads.
func (s *sqliteSpace) scanCollection(scan func(...any) error) (*Collection, []byte, error) {
	c, uid, err := s.scanCollectionUID(scan)
	if err == nil {
		s.remember(c.ID, uid) // read from the database: the next reads need not check it again
	}
	return c, uid, err
}

// collectionProps adds to cs, whose random ids are uids, the property rows
// of the collections c that cond selects with args.
func (s *sqliteSpace) collectionProps(ctx context.Context, q rowsQuerier, cond string, args []any, cs []Collection, uids [][]byte) error {
	byID := make(map[int64]int, len(cs))
	for i := range cs {
		byID[cs[i].ID] = i
	}
	return s.loadPropRows(ctx, q, `SELECT p.collection_id, p.name_mac, p.value_sealed, p.revision FROM collection_props p JOIN collections c ON c.id = p.collection_id WHERE `+cond, args,
		func(id int64) (propOwner, Props) {
			i, ok := byID[id]
			if !ok {
				return propOwner{}, nil
			}
			return s.collectionOwner(id, uids[i]), cs[i].Props
		})
}

// scanCollectionUID reads a row of collectionColumns and opens its sealed
// fields. The properties are those sealed whole before they had rows, if
// any; the caller adds the rows.
func (s *sqliteSpace) scanCollectionUID(scan func(...any) error) (*Collection, []byte, error) {
	var c Collection
	var home, kind string
	var uid, name, props []byte
	var created int64
	if err := scan(&c.ID, &home, &kind, &uid, &name, &props, &c.Revision, &created); err != nil {
		return nil, nil, err
	}
	c.Home, c.Kind, c.Created = Home(home), Kind(kind), time.Unix(created, 0).UTC()
	var err error
	if c.Name, err = s.seal.openCollectionName(uid, name); err != nil {
		return nil, nil, fmt.Errorf("storage: open collection name: %w", err)
	}
	if c.Props, err = s.seal.openLegacyProps(s.seal.collectionBinding(uid), props); err != nil {
		return nil, nil, err
	}
	return &c, uid, nil
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

// nextRevision draws the next value of the user's revision counter. Each
// user has one of their own, so that a token or ctag moves with that user's
// changes alone; one counter for all the user's collections keeps a
// collection created later above every token of an older one of its name.
func (s *sqliteSpace) nextRevision(ctx context.Context, tx *sql.Tx) (int64, error) {
	var rev int64
	err := tx.QueryRowContext(ctx, `UPDATE accounts SET revision = revision + 1 WHERE id = ? RETURNING revision`, s.user).Scan(&rev)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, ErrNotFound
	}
	if err != nil {
		return 0, fmt.Errorf("storage: next revision: %w", err)
	}
	return rev, nil
}

// logChange records the latest change of one object name, replacing the
// older one, and keeps the collection's deletions within their bound.
func (s *sqliteSpace) logChange(ctx context.Context, tx *sql.Tx, collection int64, mac, sealedName []byte, rev int64, deleted bool) error {
	var was bool
	err := tx.QueryRowContext(ctx, `SELECT deleted FROM changes WHERE collection_id = ? AND name_mac = ?`, collection, mac).Scan(&was)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("storage: log change: %w", err)
	}
	_, err = tx.ExecContext(ctx,
		`INSERT INTO changes (collection_id, name_mac, name_sealed, revision, deleted) VALUES (?, ?, ?, ?, ?)
		 ON CONFLICT (collection_id, name_mac) DO UPDATE SET name_sealed = excluded.name_sealed, revision = excluded.revision, deleted = excluded.deleted`,
		collection, mac, sealedName, rev, deleted)
	if err != nil {
		return fmt.Errorf("storage: log change: %w", err)
	}
	if was == deleted {
		return nil
	}
	step := int64(1)
	if was {
		step = -1
	}
	var n int64
	if err := tx.QueryRowContext(ctx, `UPDATE collections SET tombstones = tombstones + ? WHERE id = ? RETURNING tombstones`, step, collection).Scan(&n); err != nil {
		return fmt.Errorf("storage: count deletions: %w", err)
	}
	if n <= s.db.maxTombstones {
		return nil
	}
	return forgetTombstones(ctx, tx, collection, n-s.db.maxTombstones*9/10)
}

// forgetTombstones removes the oldest n deletions of a collection's change
// log and notes the newest revision removed, below which a token could miss
// one of them.
func forgetTombstones(ctx context.Context, tx *sql.Tx, collection, n int64) error {
	var upTo int64
	err := tx.QueryRowContext(ctx, `SELECT revision FROM changes WHERE collection_id = ? AND deleted ORDER BY revision LIMIT 1 OFFSET ?`, collection, n-1).Scan(&upTo)
	if err != nil {
		return fmt.Errorf("storage: forget deletions: %w", err)
	}
	res, err := tx.ExecContext(ctx, `DELETE FROM changes WHERE collection_id = ? AND deleted AND revision <= ?`, collection, upTo)
	if err != nil {
		return fmt.Errorf("storage: forget deletions: %w", err)
	}
	gone, err := res.RowsAffected()
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `UPDATE collections SET tombstones = tombstones - ?, forgotten_rev = max(forgotten_rev, ?) WHERE id = ?`, gone, upTo, collection)
	if err != nil {
		return fmt.Errorf("storage: forget deletions: %w", err)
	}
	return nil
}

// randomID returns a fresh random collection id.
func randomID() ([]byte, error) { return encryption.RandomBytes(16) }

func clone(p Props) Props {
	out := make(Props, len(p))
	for k, v := range p {
		out[k] = v
	}
	return out
}
