package storage

import "errors"

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

// damaged returns the error for a record of an object that is missing
// (cause nil) or fails to open.
func damaged(coll int64, mac []byte, field string, cause error) error {
	return &DamagedError{Collection: coll, NameMAC: mac, Field: field, Err: cause}
}

// sealContent seals p's content for object mac of collection dst at
// revision rev as this database writes it: in the current seal version,
// or, for tests of what older databases hold, in version 0.
func (s *sealedSpace) sealContent(dst collectionRef, mac []byte, rev int64, p *plainObject) sealedContent {
	if s.sp.legacySeal {
		return s.seal.sealLegacyContent(dst, mac, p)
	}
	return s.seal.sealContent(dst, mac, rev, p)
}
