package storage

import (
	"errors"
	"strconv"

	"github.com/coffer-dav/coffer/encryption"
)

// An object's content is its body, content type, query index entry and
// UID: what a PUT, COPY, MOVE or import writes, all at once. Since seal
// version 1 each of them is sealed with the revision it was written at
// (the row's sealed_rev) in its associated data, and none of them may be
// NULL: an older value put back beside a newer row, or a value blanked,
// fails to open and reads as ErrDamaged, never as an older or an empty
// value. Names are bound to their name MAC, which already fixes their
// plaintext, and properties are handled with the properties.
//
// Rows written before (seal version 0) open with the associated data
// without the revision, and are sealed anew the next time they are written.

// Seal versions of an object row's content (objects.seal_v).
const (
	sealLegacy  = 0 // bound to user, collection, object and field; UID MAC not bound to the collection
	sealCurrent = 1 // also bound to sealed_rev; UID MAC bound to the collection; nothing NULL
)

// Names of the content records in DamagedError.
const (
	recordBody  = "body"
	recordType  = "content type"
	recordIndex = "index entry"
	recordUID   = "uid"
	recordName  = "name"
)

// Tags of the plaintexts of index_sealed and uid_sealed in seal version 1,
// so that "none" is sealed too and a NULL is always damage.
const (
	tagNone  = 0 // no index entry; for the UID: not known, uid_mac is in the legacy form
	tagValue = 1 // a value follows (for the UID, possibly empty: the object has none)
)

// sealedContent is an object's content sealed for one row at one revision.
type sealedContent struct {
	v, rev                  int64 // the seal version and revision, for seal_v and sealed_rev
	ctype, body, index, uid []byte
	uidMAC                  []byte // nil for no UID
}

// Causes of damage that no AEAD reports.
var (
	errETag = errors.New("the body does not match the ETag")
	errTag  = errors.New("unknown record tag")
)

// contentAD is the associated data of one content record of an object
// sealed in version v at revision rev.
func (s *sqliteSpace) contentAD(coll, obj []byte, field string, v, rev int64) encryption.AD {
	ad := s.ad(coll, obj, field)
	if v >= sealCurrent {
		// Field names hold no '@', so the encoding stays unambiguous.
		ad.Field += "@" + strconv.FormatInt(rev, 10)
	}
	return ad
}

// uidMAC is the lookup key of a UID in one collection: bound to the
// collection's random id, so that the same UID in two collections does not
// show as the same value.
func (s *sqliteSpace) uidMAC(coll []byte, uid string) []byte {
	return s.keys.MAC("uid-in", coll, []byte(uid))
}

// legacyUIDMAC is the lookup key of a UID in rows of seal version 0, the
// same in every collection. Lookups accept it until the row is rewritten.
func (s *sqliteSpace) legacyUIDMAC(uid string) []byte {
	return s.keys.MAC("uid", []byte(uid))
}

// uidMACs returns the forms of a UID's lookup key a row of collection coll
// may hold: the bound one, then the legacy one.
func (s *sqliteSpace) uidMACs(coll []byte, uid string) [][]byte {
	return [][]byte{s.uidMAC(coll, uid), s.legacyUIDMAC(uid)}
}

// tagged returns tag followed by value.
func tagged(tag byte, value []byte) []byte {
	return append([]byte{tag}, value...)
}

// damaged returns the error for a record of an object that is missing
// (cause nil) or fails to open.
func damaged(coll int64, mac []byte, field string, cause error) error {
	return &DamagedError{Collection: coll, NameMAC: mac, Field: field, Err: cause}
}

// openContent opens one content record sealed in version v at rev; a
// record that must exist and is NULL, or that fails to open, is damage.
func (s *sqliteSpace) openContent(ref collectionRef, mac []byte, field, record string, v, rev int64, sealed []byte) ([]byte, error) {
	if len(sealed) == 0 {
		return nil, damaged(ref.id, mac, record, nil)
	}
	plain, err := s.keys.Open(s.contentAD(ref.uid, mac, field, v, rev), sealed)
	if err != nil {
		return nil, damaged(ref.id, mac, record, err)
	}
	return plain, nil
}

// openBody opens a body and checks it against the row's ETag, a keyed
// hash of the body: a body from another time of the row does not pass.
func (s *sqliteSpace) openBody(ref collectionRef, mac []byte, etag string, v, rev int64, sealed []byte) ([]byte, error) {
	body, err := s.openContent(ref, mac, fieldObjectBody, recordBody, v, rev, sealed)
	if err != nil {
		return nil, err
	}
	if !encryption.Equal([]byte(s.etag(body)), []byte(etag)) {
		return nil, damaged(ref.id, mac, recordBody, errETag)
	}
	return body, nil
}

// openIndex opens an index entry; nil is none. In seal version 0 a NULL
// column was how none was stored.
func (s *sqliteSpace) openIndex(ref collectionRef, mac []byte, v, rev int64, sealed []byte) ([]byte, error) {
	if v < sealCurrent && sealed == nil {
		return nil, nil
	}
	plain, err := s.openContent(ref, mac, fieldObjectIndex, recordIndex, v, rev, sealed)
	if err != nil || v < sealCurrent {
		return plain, err
	}
	if len(plain) == 0 || plain[0] > tagValue {
		return nil, damaged(ref.id, mac, recordIndex, errTag)
	}
	if plain[0] == tagNone {
		return nil, nil
	}
	return plain[1:], nil
}

// openUID tells the UID of a row: known and the UID ("" for none), or not
// known, for a legacy row whose uid_mac holds the legacy form.
func (s *sqliteSpace) openUID(ref collectionRef, mac []byte, v, rev int64, sealed, uidMAC []byte) (string, bool, error) {
	if v < sealCurrent {
		return "", uidMAC == nil, nil
	}
	plain, err := s.openContent(ref, mac, fieldObjectUID, recordUID, v, rev, sealed)
	if err != nil {
		return "", false, err
	}
	if len(plain) == 0 || plain[0] > tagValue {
		return "", false, damaged(ref.id, mac, recordUID, errTag)
	}
	return string(plain[1:]), plain[0] == tagValue, nil
}

// sealContent seals p's content for object mac of collection dst at
// revision rev, in the current seal version, and computes its UID MAC
// there: bound to dst when the UID is known, else the legacy one carried.
func (s *sqliteSpace) sealContent(dst collectionRef, mac []byte, rev int64, p *plainObject) sealedContent {
	if s.db.legacySeal {
		return s.sealLegacyContent(dst, mac, p)
	}
	ad := func(field string) encryption.AD { return s.contentAD(dst.uid, mac, field, sealCurrent, rev) }
	c := sealedContent{
		v: sealCurrent, rev: rev,
		ctype: s.keys.Seal(ad(fieldObjectType), p.ctype),
		body:  s.keys.Seal(ad(fieldObjectBody), p.body),
	}
	index := []byte{tagNone}
	if p.index != nil {
		index = tagged(tagValue, p.index)
	}
	c.index = s.keys.Seal(ad(fieldObjectIndex), index)
	uid := []byte{tagNone}
	switch {
	case !p.uidKnown:
		c.uidMAC = p.legacyMAC
	case p.uid != "":
		c.uidMAC = s.uidMAC(dst.uid, p.uid)
		fallthrough
	default:
		uid = tagged(tagValue, []byte(p.uid))
	}
	c.uid = s.keys.Seal(ad(fieldObjectUID), uid)
	return c
}

// sealLegacyContent seals p's content as seal version 0 did, for tests
// of what older databases hold.
func (s *sqliteSpace) sealLegacyContent(dst collectionRef, mac []byte, p *plainObject) sealedContent {
	ad := func(field string) encryption.AD { return s.ad(dst.uid, mac, field) }
	c := sealedContent{
		v:     sealLegacy,
		ctype: s.keys.Seal(ad(fieldObjectType), p.ctype),
		body:  s.keys.Seal(ad(fieldObjectBody), p.body),
	}
	if p.index != nil {
		c.index = s.keys.Seal(ad(fieldObjectIndex), p.index)
	}
	switch {
	case !p.uidKnown:
		c.uidMAC = p.legacyMAC
	case p.uid != "":
		c.uidMAC = s.legacyUIDMAC(p.uid)
	}
	return c
}
