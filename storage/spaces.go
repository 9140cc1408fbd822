package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coffer-dav/coffer/encryption"
)

// Spaces is the sealed layer over an engine: it opens users' spaces, seals
// and opens every record through their sealer, applies the rules of
// revisions, the change log, preconditions and limits, and leaves the rows
// to the engine. It is the same for every engine.
type Spaces struct {
	eng   Engine
	index *indexCache

	maxTombstones int64 // deletions a collection's change log remembers
	legacySeal    bool  // tests only: write object content as before seal version 1

	hook atomic.Pointer[ChangeHook] // hears of every committed write
}

// SpaceOptions configure the sealed layer.
type SpaceOptions struct {
	// IndexCacheEntries bounds the query index entries kept in memory; 0 means 200,000.
	IndexCacheEntries int
	// MaxTombstones bounds the deletions one collection's change log
	// remembers; 0 means 10,000.
	MaxTombstones int
}

// sealedSpace is one user's space over the sealed layer.
type sealedSpace struct {
	sp   *Spaces
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

// NewSpaces returns the sealed layer over an engine.
func NewSpaces(e Engine, o SpaceOptions) *Spaces {
	if o.IndexCacheEntries <= 0 {
		o.IndexCacheEntries = 200_000
	}
	if o.MaxTombstones <= 0 {
		o.MaxTombstones = 10_000
	}
	return &Spaces{eng: e, index: newIndexCache(o.IndexCacheEntries), maxTombstones: int64(o.MaxTombstones)}
}

// Space opens the data of one account with that account's keys.
func (sp *Spaces) Space(account int64, keys *encryption.Keyring) Space {
	return &sealedSpace{sp: sp, user: account, seal: newSealer(account, keys)}
}

// Forget drops what the layer keeps in memory of an account, once it is gone.
func (sp *Spaces) Forget(account int64) { sp.index.dropAccount(account) }

// update runs fn in one write transaction of the user and, once it has
// committed, tells the change hook what it changed.
func (s *sealedSpace) update(ctx context.Context, fn func(w RowWriter) error) error {
	hook := s.sp.hookOf()
	if hook == nil {
		return s.sp.eng.Update(ctx, s.user, fn)
	}
	var rec *changeRecorder
	err := s.sp.eng.Update(ctx, s.user, func(w RowWriter) error {
		rec = &changeRecorder{RowWriter: w, account: s.user} // afresh each time an engine runs fn
		return fn(rec)
	})
	if err == nil && len(rec.changes) > 0 {
		hook(ctx, s, rec.changes)
	}
	return err
}

// Collections lists the collections in home, ordered by creation.
func (s *sealedSpace) Collections(ctx context.Context, home Home) ([]Collection, error) {
	r := s.sp.eng.Reader()
	rows, err := r.Collections(ctx, s.user, home)
	if err != nil {
		return nil, err
	}
	out, err := s.openCollections(ctx, r, rows)
	if err != nil {
		return nil, err
	}
	cs := make([]Collection, len(out))
	for i := range out {
		cs[i] = out[i].Collection
		s.remember(out[i].ID, out[i].uid) // read from the database: the next reads need not check it again
	}
	return cs, nil
}

// Collection returns one collection, or ErrNotFound.
func (s *sealedSpace) Collection(ctx context.Context, home Home, name string) (*Collection, error) {
	row, props, err := s.sp.eng.Reader().CollectionNamed(ctx, s.user, s.seal.collectionMAC(home, name))
	if err != nil {
		return nil, err
	}
	out, err := s.openCollectionsWith([]CollectionRow{*row}, props)
	if err != nil {
		return nil, err
	}
	s.remember(row.ID, row.UID)
	return &out[0].Collection, nil
}

// openCollections opens collection rows and their property rows.
func (s *sealedSpace) openCollections(ctx context.Context, r RowReader, rows []CollectionRow) ([]treeEntry, error) {
	ids := make([]int64, len(rows))
	for i := range rows {
		ids[i] = rows[i].ID
	}
	props, err := r.CollectionProps(ctx, ids)
	if err != nil {
		return nil, err
	}
	return s.openCollectionsWith(rows, props)
}

// openCollectionsWith opens collection rows and the property rows read
// with them.
func (s *sealedSpace) openCollectionsWith(rows []CollectionRow, props []PropRow) ([]treeEntry, error) {
	out := make([]treeEntry, len(rows))
	byID := make(map[int64]int, len(rows))
	for i := range rows {
		c, err := s.openCollection(&rows[i])
		if err != nil {
			return nil, err
		}
		out[i] = treeEntry{Collection: *c, uid: rows[i].UID}
		byID[rows[i].ID] = i
	}
	err := s.openPropRows(props, func(id int64) (propOwner, Props) {
		i, ok := byID[id]
		if !ok {
			return propOwner{}, nil
		}
		return s.collectionOwner(id, out[i].uid), out[i].Props
	})
	return out, err
}

// openCollection opens the sealed fields of a collection row. The
// properties are those sealed whole before they had rows, if any; the
// caller adds the rows.
func (s *sealedSpace) openCollection(row *CollectionRow) (*Collection, error) {
	c := &Collection{ID: row.ID, Home: row.Home, Kind: row.Kind, Revision: row.Revision, Created: time.Unix(row.Created, 0).UTC()}
	var err error
	if c.Name, err = s.seal.openCollectionName(row.UID, row.NameSealed); err != nil {
		return nil, fmt.Errorf("storage: open collection name: %w", err)
	}
	if c.Props, err = s.seal.openLegacyProps(s.seal.collectionBinding(row.UID), row.PropsSealed); err != nil {
		return nil, err
	}
	return c, nil
}

// CreateCollection creates a collection, or fails with ErrExists.
func (s *sealedSpace) CreateCollection(ctx context.Context, n NewCollection) (*Collection, error) {
	uid, err := randomID()
	if err != nil {
		return nil, err
	}
	now := time.Now().UTC().Truncate(time.Second)
	c := &Collection{Home: n.Home, Name: n.Name, Kind: n.Kind, Props: clone(n.Props), Created: now}
	err = s.update(ctx, func(w RowWriter) error {
		if err := s.checkNewCollection(ctx, w, n); err != nil {
			return err
		}
		id, rev, err := s.insertCollection(ctx, w, n.Home, n.Name, n.Kind, uid, n.Props, now)
		c.ID, c.Revision = id, rev
		return err
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// insertCollection writes a new collection row with its properties at
// the next revision, and returns its id and revision.
func (s *sealedSpace) insertCollection(ctx context.Context, w RowWriter, home Home, name string, kind Kind, uid []byte, props Props, now time.Time) (int64, int64, error) {
	rev, err := w.NextRevision(ctx, s.user)
	if err != nil {
		return 0, 0, err
	}
	id, err := w.InsertCollection(ctx, &CollectionRow{Account: s.user, Home: home, Kind: kind, UID: uid,
		NameMAC: s.seal.collectionMAC(home, name), NameSealed: s.seal.sealCollectionName(uid, name), PropsSealed: []byte{},
		PropsBytes: props.Size(), Revision: rev, CreatedRev: rev, Created: now.Unix()})
	if err != nil {
		return 0, 0, err
	}
	_, err = s.insertProps(ctx, w, s.collectionOwner(id, uid), props, rev)
	return id, rev, err
}

// checkNewCollection refuses a collection that would take the user beyond
// the cap of collections, its properties beyond theirs, or the user's bytes
// beyond the quota, in that order.
func (s *sealedSpace) checkNewCollection(ctx context.Context, w RowWriter, n NewCollection) error {
	if n.Limits.MaxCollections > 0 {
		count, err := s.collectionCount(ctx, w)
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
	return s.checkQuota(ctx, w, n.Limits, size, size)
}

// DeleteCollection removes a collection, the collections nested in it, and
// everything in them.
func (s *sealedSpace) DeleteCollection(ctx context.Context, id int64) error {
	return s.update(ctx, func(w RowWriter) error { return s.deleteTree(ctx, w, id) })
}

// deleteTree removes a collection, the collections nested in it, and
// everything in them, in w.
func (s *sealedSpace) deleteTree(ctx context.Context, w RowWriter, id int64) error {
	all, src, err := s.treeOf(ctx, w, id)
	if err != nil {
		return err
	}
	for _, c := range subtree(all, src.Home, src.Name) {
		if err := w.DeleteCollection(ctx, s.user, c.ID); err != nil {
			return err
		}
	}
	return nil
}

// Objects lists the objects of a collection, without bodies.
func (s *sealedSpace) Objects(ctx context.Context, collection int64) ([]Object, error) {
	ref, err := s.readRef(ctx, collection)
	if err != nil {
		return nil, err
	}
	r := s.sp.eng.Reader()
	rows, err := r.Objects(ctx, ref.id, ObjectQuery{Props: true})
	if err != nil {
		return nil, err
	}
	out := make([]Object, len(rows))
	objs := make([]*Object, len(rows))
	for i := range rows {
		if err := s.openObjectRow(ref, &rows[i], false, &out[i]); err != nil {
			return nil, err
		}
		objs[i] = &out[i]
	}
	return out, s.objectProps(ref, rows, objs)
}

// Object returns one object, or ErrNotFound.
func (s *sealedSpace) Object(ctx context.Context, collection int64, name string, o ReadOptions) (*Object, error) {
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
func (s *sealedSpace) ObjectsNamed(ctx context.Context, collection int64, names []string, o ReadOptions) ([]*Object, error) {
	ref, err := s.readRef(ctx, collection)
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
func (s *sealedSpace) objectsNamed(ctx context.Context, ref collectionRef, names []string, withBody bool, out []*Object) error {
	at := make(map[string][]int, len(names)) // name MAC → positions asked
	var macs [][]byte
	for i, name := range names {
		mac := s.seal.objectMAC(ref.uid, name)
		if _, seen := at[string(mac)]; !seen {
			macs = append(macs, mac)
		}
		at[string(mac)] = append(at[string(mac)], i)
	}
	rows, err := s.sp.eng.Reader().Objects(ctx, ref.id, ObjectQuery{NameMACs: macs, Body: withBody, Props: true})
	if err != nil || len(rows) == 0 {
		return err
	}
	found := make([]*Object, len(rows))
	for i := range rows {
		o := &Object{}
		if err := s.openObjectRow(ref, &rows[i], withBody, o); err != nil {
			return err
		}
		found[i] = o
		for _, j := range at[string(rows[i].NameMAC)] {
			out[j] = o
		}
	}
	return s.objectProps(ref, rows, found)
}

// objectProps adds to objs, read from rows, the rows' property rows.
func (s *sealedSpace) objectProps(ref collectionRef, rows []ObjectRow, objs []*Object) error {
	byID := make(map[int64]int, len(rows))
	var props []PropRow
	for i := range rows {
		byID[rows[i].ID] = i
		props = append(props, rows[i].Props...)
	}
	return s.openPropRows(props, func(id int64) (propOwner, Props) {
		i, ok := byID[id]
		if !ok {
			return propOwner{}, nil
		}
		return s.objectOwner(id, ref.uid, rows[i].NameMAC), objs[i].Props
	})
}

// openObjectRow opens an object row's sealed fields into o, its body
// too when withBody. The properties are those sealed whole before they
// had rows, if any; the caller adds the rows.
func (s *sealedSpace) openObjectRow(ref collectionRef, row *ObjectRow, withBody bool, o *Object) error {
	o.ETag, o.Size, o.Revision, o.Modified = row.ETag, row.Size, row.Revision, time.Unix(row.Modified, 0).UTC()
	if err := s.seal.openObjectMeta(ref, row.NameMAC, row.NameSealed, row.CtypeSealed, row.PropsSealed, row.SealV, row.SealedRev, o); err != nil {
		return err
	}
	if withBody {
		var err error
		if o.Body, err = s.seal.openBody(ref, row.NameMAC, o.ETag, row.SealV, row.SealedRev, row.BodySealed); err != nil {
			return err
		}
	}
	return nil
}

// PutObject creates or replaces an object after checking its preconditions
// and UID uniqueness in the same transaction. Dead properties survive a replace.
func (s *sealedSpace) PutObject(ctx context.Context, collection int64, p PutOptions) (*PutResult, error) {
	var out *PutResult
	err := s.update(ctx, func(w RowWriter) error {
		ref, st, err := s.putState(ctx, w, collection, p)
		if err != nil {
			return err
		}
		current := st.Current
		exists := current != nil
		etag := ""
		if exists {
			etag = current.ETag
		}
		if err := checkMatch(exists, etag, p.IfMatch, p.IfNoneMatch); err != nil {
			return err
		}
		obj := &plainObject{name: p.Name, uid: p.UID, uidKnown: true, etag: s.seal.etag(p.Body), ctype: []byte(p.ContentType), body: p.Body, index: p.Index, keepProps: true, limits: p.Limits}
		if exists && p.KeepUID {
			if err := s.keepsUID(ref, current, obj); err != nil {
				return err
			}
		}
		if st.HolderMAC != nil {
			return s.uidConflict(ref, st.HolderMAC, st.HolderName)
		}
		o, err := s.writeObject(ctx, w, ref, current, obj, st)
		if err != nil {
			return err
		}
		out = &PutResult{Object: *o, Created: !exists}
		return nil
	})
	return out, err
}

// putState reads, in one PutState, what PutObject checks before it
// writes p into collection. The name and UID MACs need the collection's
// random id: the one this space read for it before, checked against the
// row inside the transaction, or else one more read first. A collection
// id that came to name another collection is ErrNotFound, as the one
// read before is gone.
func (s *sealedSpace) putState(ctx context.Context, w RowWriter, collection int64, p PutOptions) (collectionRef, *PutState, error) {
	s.mu.Lock()
	uid := s.refs[collection]
	s.mu.Unlock()
	if uid == nil {
		ref, err := s.ref(ctx, w, collection)
		if err != nil {
			return ref, nil, err
		}
		uid = ref.uid
	}
	ref := collectionRef{id: collection, uid: uid}
	q := PutQuery{Account: s.user, Collection: collection, NameMAC: s.seal.objectMAC(uid, p.Name),
		Counts: p.Limits.MaxObjects > 0, Usage: p.Limits.QuotaBytes > 0}
	if p.UID != "" {
		q.UIDMACs = s.seal.uidMACs(uid, p.UID)
	}
	st, err := w.PutState(ctx, q)
	if err != nil {
		return ref, nil, err
	}
	if !bytes.Equal(st.UID, uid) {
		return ref, nil, ErrNotFound
	}
	return ref, st, nil
}

// objectRow returns the row, without body, of the object with a name MAC,
// or ErrNotFound.
func (s *sealedSpace) objectRow(ctx context.Context, r RowReader, collection int64, mac []byte) (*ObjectRow, error) {
	rows, err := r.Objects(ctx, collection, ObjectQuery{NameMACs: [][]byte{mac}})
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, ErrNotFound
	}
	return &rows[0], nil
}

// DeleteObject removes an object, or fails with ErrNotFound or ErrPrecondition.
func (s *sealedSpace) DeleteObject(ctx context.Context, collection int64, name string, o DeleteOptions) error {
	return s.update(ctx, func(w RowWriter) error {
		ref, err := s.ref(ctx, w, collection)
		if err != nil {
			return err
		}
		row, err := s.objectRow(ctx, w, ref.id, s.seal.objectMAC(ref.uid, name))
		if errors.Is(err, ErrNotFound) && o.IfMatch != "" {
			return ErrPrecondition
		}
		if err != nil {
			return err
		}
		if err := checkMatch(true, row.ETag, o.IfMatch, false); err != nil {
			return err
		}
		return s.removeObject(ctx, w, ref, row)
	})
}

// Changes returns the latest change of every object that changed after since.
func (s *sealedSpace) Changes(ctx context.Context, collection int64, since int64) ([]Change, int64, error) {
	c, rows, err := s.sp.eng.Reader().Changes(ctx, s.user, collection, since)
	if err != nil {
		return nil, 0, err
	}
	// A revision from before this collection existed belongs to another one
	// that had the same name; one from before its forgotten deletions could
	// miss one; only 0 (the initial sync) is always valid.
	if since < 0 || since > c.Revision || (since != 0 && (since < c.CreatedRev || since < c.ForgottenRev)) {
		return nil, 0, ErrBadRevision
	}
	out := make([]Change, len(rows))
	for i, row := range rows {
		out[i] = Change{Revision: row.Revision, Deleted: row.Deleted}
		if row.Object != nil {
			out[i].ETag = row.Object.ETag
		}
		if out[i].Name, err = s.seal.openObjectName(c.UID, row.NameMAC, row.NameSealed); err != nil {
			return nil, 0, fmt.Errorf("storage: open change name: %w", err)
		}
	}
	return out, c.Revision, nil
}

// ref resolves a collection id of this user in a write; another user's
// id is ErrNotFound. Writes check inside their own transaction every time.
func (s *sealedSpace) ref(ctx context.Context, r RowReader, id int64) (collectionRef, error) {
	c, err := r.CollectionByID(ctx, s.user, id)
	if err != nil {
		return collectionRef{id: id}, err
	}
	return collectionRef{id: id, uid: c.UID}, nil
}

// readRef resolves a collection id of this user for a read.
//
// A space lives for one request. Reads remember the collections they
// checked, since a collection's random id never changes: a multiget of
// many objects then checks its collection once.
func (s *sealedSpace) readRef(ctx context.Context, id int64) (collectionRef, error) {
	s.mu.Lock()
	uid := s.refs[id]
	s.mu.Unlock()
	if uid != nil {
		return collectionRef{id: id, uid: uid}, nil
	}
	r, err := s.ref(ctx, s.sp.eng.Reader(), id)
	if err == nil {
		s.remember(id, r.uid)
	}
	return r, err
}

// remember notes that collection id, with random id uid, is this user's,
// as read outside any write transaction.
func (s *sealedSpace) remember(id int64, uid []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.refs == nil {
		s.refs = map[int64][]byte{}
	}
	s.refs[id] = uid
}

// bumpCounting gives a collection the next revision and moves its object
// count and byte total by the given amounts.
func (s *sealedSpace) bumpCounting(ctx context.Context, w RowWriter, collection, objects, bytes int64) (int64, error) {
	return w.NextCountedRevision(ctx, s.user, collection, objects, bytes)
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

// pastChange is what a write knows, before it logs its change, of the
// change log's entry for the name.
type pastChange int

const (
	pastUnknown pastChange = iota // nothing: logChange reads the entry
	pastLive                      // no deletion: the name held an object, or the entry, read before, is none
	pastDeleted                   // a deletion, read before in the same transaction
)

// logChange records the latest change of one object name, replacing the
// older one, and keeps the collection's deletions within their bound.
// past is what the write knows of the entry it replaces.
//
// Revisions come from the user's own counter (NextRevision), so that a
// token or ctag moves with that user's changes alone; one counter for all
// the user's collections keeps a collection created later above every
// token of an older one of its name.
func (s *sealedSpace) logChange(ctx context.Context, w RowWriter, collection int64, mac, sealedName []byte, rev int64, deleted bool, past pastChange) error {
	was := past == pastDeleted
	if past == pastUnknown {
		var err error
		if _, was, err = w.LastChange(ctx, collection, mac); err != nil {
			return err
		}
	}
	if err := w.PutChange(ctx, collection, ChangeRow{NameMAC: mac, NameSealed: sealedName, Revision: rev, Deleted: deleted}); err != nil {
		return err
	}
	if was == deleted {
		return nil
	}
	step := int64(1)
	if was {
		step = -1
	}
	n, err := w.AddTombstones(ctx, collection, step)
	if err != nil || n <= s.sp.maxTombstones {
		return err
	}
	return w.ForgetTombstones(ctx, collection, n-s.sp.maxTombstones*9/10)
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
