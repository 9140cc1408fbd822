package storage

import (
	"context"
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
func (s *sealedSpace) Index(ctx context.Context, collection int64) ([]IndexEntry, int64, error) {
	var out []IndexEntry
	var rev int64
	err := s.sp.eng.View(ctx, func(r RowReader) error {
		c, err := r.CollectionByID(ctx, s.user, collection)
		if err != nil {
			return err
		}
		rev = c.Revision
		ref := collectionRef{id: collection, uid: c.UID}
		cache := s.sp.index
		key := indexKey(s.user, c.UID)
		base, ok := cache.revisionOf(key)
		switch {
		case ok && base == rev:
		case ok && base < rev && base >= c.ForgottenRev:
			// The change log still holds every deletion after base: none
			// it forgot is newer, so the delta is whole.
			delta, err := s.indexDelta(ctx, r, ref, base)
			if err != nil {
				return err
			}
			cache.apply(key, base, rev, delta)
		default:
			all, legacy, err := s.indexScan(ctx, r, ref)
			if err != nil {
				return err
			}
			cache.replace(key, rev, all)
			if legacy {
				// With the user's key at hand, rows from before seal version 1
				// move to it; the entries stay the same. The upgrade is
				// best-effort: a row it misses (a full disk) stays readable in
				// the old form and is tried at the next full scan.
				_ = s.upgradeLegacy(ctx, ref)
			}
		}
		var found bool
		if out, found = cache.list(key, rev); found {
			return nil
		}
		// Another request moved the cache on meanwhile; answer from a fresh scan.
		all, _, err := s.indexScan(ctx, r, ref)
		if err != nil {
			return err
		}
		out = make([]IndexEntry, 0, len(all))
		for _, e := range all {
			out = append(out, e)
		}
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	return out, rev, nil
}

// indexScan opens the index entries of every object of a collection, and
// tells whether any row is still in seal version 0.
func (s *sealedSpace) indexScan(ctx context.Context, r RowReader, ref collectionRef) (map[string]IndexEntry, bool, error) {
	rows, err := r.Objects(ctx, ref.id, ObjectQuery{})
	if err != nil {
		return nil, false, err
	}
	out := make(map[string]IndexEntry, len(rows))
	legacy := false
	for i := range rows {
		e, err := s.openIndexEntry(ref, &rows[i])
		if err != nil {
			return nil, false, err
		}
		out[string(rows[i].NameMAC)] = e
		legacy = legacy || rows[i].SealV < sealCurrent
	}
	return out, legacy, nil
}

// indexDelta opens what changed in a collection after revision since.
func (s *sealedSpace) indexDelta(ctx context.Context, r RowReader, ref collectionRef, since int64) ([]indexDelta, error) {
	_, rows, err := r.Changes(ctx, s.user, ref.id, since)
	if err != nil {
		return nil, err
	}
	out := make([]indexDelta, 0, len(rows))
	for _, c := range rows {
		d := indexDelta{mac: string(c.NameMAC), deleted: c.Deleted || c.Object == nil}
		if !d.deleted {
			if d.entry, err = s.openIndexEntry(ref, c.Object); err != nil {
				return nil, err
			}
		}
		out = append(out, d)
	}
	return out, nil
}

// openIndexEntry opens the name and the index entry of one object row; a
// blanked or older entry is ErrDamaged.
func (s *sealedSpace) openIndexEntry(ref collectionRef, row *ObjectRow) (IndexEntry, error) {
	e := IndexEntry{ETag: row.ETag}
	var err error
	if e.Name, err = s.seal.openObjectName(ref.uid, row.NameMAC, row.NameSealed); err != nil {
		return e, damaged(ref.id, row.NameMAC, recordName, err)
	}
	e.Index, err = s.seal.openIndex(ref, row.NameMAC, row.SealV, row.SealedRev, row.IndexSealed)
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
