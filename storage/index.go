package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
)

// indexCache keeps the opened index entries of recently queried
// collections in memory, so that a query opens only what changed since the
// last one. It holds plaintext of users who are syncing, as the running
// server does anyway, and nothing of a deleted collection can be reached:
// entries are keyed by the collection's random id, never reused.
type indexCache struct {
	mu      sync.Mutex
	colls   map[string]*collectionIndex
	entries int // entries held across collections
	max     int // bound on entries; beyond it the least recently used collections go
	clock   uint64
}

// collectionIndex is the cached index of one collection at one revision.
type collectionIndex struct {
	revision int64
	byMAC    map[string]IndexEntry // by object name MAC
	used     uint64
}

// indexDelta is one object's change to apply to a cached index.
type indexDelta struct {
	mac     string
	deleted bool
	entry   IndexEntry
}

func newIndexCache(max int) *indexCache {
	return &indexCache{colls: map[string]*collectionIndex{}, max: max}
}

// Index returns the index entries of every object of a collection.
func (s *sqliteSpace) Index(ctx context.Context, collection int64) ([]IndexEntry, int64, error) {
	tx, err := s.db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, 0, fmt.Errorf("storage: begin: %w", err)
	}
	defer tx.Rollback()
	var uid []byte
	var rev int64
	err = tx.QueryRowContext(ctx, `SELECT uid, revision FROM collections WHERE id = ? AND account_id = ?`, collection, s.user).Scan(&uid, &rev)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, 0, ErrNotFound
	}
	if err != nil {
		return nil, 0, fmt.Errorf("storage: read collection: %w", err)
	}
	cache := s.db.index
	key := indexKey(s.user, uid)
	base, ok := cache.revisionOf(key)
	switch {
	case ok && base == rev:
	case ok && base < rev:
		delta, err := s.indexDelta(ctx, tx, collection, uid, base)
		if err != nil {
			return nil, 0, err
		}
		cache.apply(key, base, rev, delta)
	default:
		all, legacy, err := s.indexScan(ctx, tx, collection, uid)
		if err != nil {
			return nil, 0, err
		}
		cache.replace(key, rev, all)
		if legacy {
			// With the user's key at hand, rows from before seal version 1
			// move to it; the entries stay the same. The upgrade is
			// best-effort: a row it misses (a full disk) stays readable in
			// the old form and is tried at the next full scan.
			_ = s.upgradeLegacy(ctx, collectionRef{id: collection, uid: uid})
		}
	}
	if out, ok := cache.list(key, rev); ok {
		return out, rev, nil
	}
	// Another request moved the cache on meanwhile; answer from a fresh scan.
	all, _, err := s.indexScan(ctx, tx, collection, uid)
	if err != nil {
		return nil, 0, err
	}
	out := make([]IndexEntry, 0, len(all))
	for _, e := range all {
		out = append(out, e)
	}
	return out, rev, nil
}

// indexScan opens the index entries of every object of a collection, and
// tells whether any row is still in seal version 0.
func (s *sqliteSpace) indexScan(ctx context.Context, tx *sql.Tx, collection int64, uid []byte) (map[string]IndexEntry, bool, error) {
	rows, err := tx.QueryContext(ctx, `SELECT name_mac, name_sealed, etag, index_sealed, seal_v, sealed_rev FROM objects WHERE collection_id = ?`, collection)
	if err != nil {
		return nil, false, fmt.Errorf("storage: read index: %w", err)
	}
	defer rows.Close()
	out := map[string]IndexEntry{}
	legacy := false
	for rows.Next() {
		var mac, name, index []byte
		var etag string
		var v, rev int64
		if err := rows.Scan(&mac, &name, &etag, &index, &v, &rev); err != nil {
			return nil, false, err
		}
		e, err := s.openIndexEntry(collectionRef{id: collection, uid: uid}, mac, name, etag, index, v, rev)
		if err != nil {
			return nil, false, err
		}
		out[string(mac)] = e
		legacy = legacy || v < sealCurrent
	}
	return out, legacy, rows.Err()
}

// indexDelta opens what changed in a collection after revision since.
func (s *sqliteSpace) indexDelta(ctx context.Context, tx *sql.Tx, collection int64, uid []byte, since int64) ([]indexDelta, error) {
	rows, err := tx.QueryContext(ctx,
		`SELECT c.name_mac, c.deleted, o.name_sealed, coalesce(o.etag, ''), o.index_sealed, coalesce(o.seal_v, 0), coalesce(o.sealed_rev, 0)
		 FROM changes c LEFT JOIN objects o ON o.collection_id = c.collection_id AND o.name_mac = c.name_mac
		 WHERE c.collection_id = ? AND c.revision > ?`, collection, since)
	if err != nil {
		return nil, fmt.Errorf("storage: read index changes: %w", err)
	}
	defer rows.Close()
	var out []indexDelta
	for rows.Next() {
		var mac, name, index []byte
		var deleted bool
		var etag string
		var v, rev int64
		if err := rows.Scan(&mac, &deleted, &name, &etag, &index, &v, &rev); err != nil {
			return nil, err
		}
		d := indexDelta{mac: string(mac), deleted: deleted || name == nil}
		if !d.deleted {
			if d.entry, err = s.openIndexEntry(collectionRef{id: collection, uid: uid}, mac, name, etag, index, v, rev); err != nil {
				return nil, err
			}
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// openIndexEntry opens the name and the index entry, sealed in version v
// at rev, of one object; a blanked or older entry is ErrDamaged.
func (s *sqliteSpace) openIndexEntry(ref collectionRef, mac, name []byte, etag string, index []byte, v, rev int64) (IndexEntry, error) {
	e := IndexEntry{ETag: etag}
	var err error
	if e.Name, err = s.seal.openObjectName(ref.uid, mac, name); err != nil {
		return e, damaged(ref.id, mac, recordName, err)
	}
	e.Index, err = s.seal.openIndex(ref, mac, v, rev, index)
	return e, err
}

// revisionOf returns the revision the cached index of a collection reflects.
func (c *indexCache) revisionOf(key string) (int64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ci := c.colls[key]
	if ci == nil {
		return 0, false
	}
	return ci.revision, true
}

// apply moves a cached index from revision base to rev, unless another
// request moved it meanwhile.
func (c *indexCache) apply(key string, base, rev int64, delta []indexDelta) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ci := c.colls[key]
	if ci == nil || ci.revision != base {
		return
	}
	for _, d := range delta {
		_, had := ci.byMAC[d.mac]
		if d.deleted {
			if had {
				delete(ci.byMAC, d.mac)
				c.entries--
			}
			continue
		}
		if !had {
			c.entries++
		}
		ci.byMAC[d.mac] = d.entry
	}
	ci.revision = rev
	c.evict()
}

// replace caches a whole index of a collection at rev.
func (c *indexCache) replace(key string, rev int64, all map[string]IndexEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if old := c.colls[key]; old != nil {
		if old.revision > rev {
			return
		}
		c.entries -= len(old.byMAC)
	}
	c.clock++
	c.colls[key] = &collectionIndex{revision: rev, byMAC: all, used: c.clock}
	c.entries += len(all)
	c.evict()
}

// list returns the cached entries of a collection at rev.
func (c *indexCache) list(key string, rev int64) ([]IndexEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ci := c.colls[key]
	if ci == nil || ci.revision != rev {
		return nil, false
	}
	c.clock++
	ci.used = c.clock
	out := make([]IndexEntry, 0, len(ci.byMAC))
	for _, e := range ci.byMAC {
		out = append(out, e)
	}
	return out, true
}

// indexKey names a collection's cached index by its account and its
// random uid, so that an account's entries can be found and dropped.
func indexKey(account int64, collUID []byte) string {
	return strconv.FormatInt(account, 10) + "/" + string(collUID)
}

// dropAccount forgets every cached index of an account, at its purge: the
// decrypted entries must not outlive the data they came from.
func (c *indexCache) dropAccount(account int64) {
	prefix := strconv.FormatInt(account, 10) + "/"
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, ci := range c.colls {
		if strings.HasPrefix(k, prefix) {
			c.entries -= len(ci.byMAC)
			delete(c.colls, k)
		}
	}
}

// evict drops the least recently used collections while over the bound,
// keeping at least the most recent one.
func (c *indexCache) evict() {
	for c.entries > c.max && len(c.colls) > 1 {
		var oldest string
		var at uint64
		for k, ci := range c.colls {
			if oldest == "" || ci.used < at {
				oldest, at = k, ci.used
			}
		}
		c.entries -= len(c.colls[oldest].byMAC)
		delete(c.colls, oldest)
	}
}
