package storage

import (
	"encoding/hex"
	"strconv"

	"github.com/coffer-dav/coffer/encryption"
)

// sealer is the one place where an account's keys meet its records: it
// computes the lookup keys (name, UID and property MACs, ETags), the
// associated data that binds each sealed value to its user, collection,
// object, field and revision, and seals and opens every value. It works on
// bytes and plain values only, never on a database, so that an engine stores
// and moves opaque rows and never sees plaintext, key material or the rules
// of the associated data.
type sealer struct {
	account int64
	keys    *encryption.Keyring
}

// Record fields named in the associated data of sealed values.
const (
	fieldCollectionName  = "collection.name"
	fieldCollectionProps = "collection.props"
	fieldObjectName      = "object.name"
	fieldObjectType      = "object.content-type"
	fieldObjectBody      = "object.body"
	fieldObjectProps     = "object.props"
	fieldObjectIndex     = "object.index"
	fieldObjectUID       = "object.uid"
	fieldAccountProps    = "account.props"
)

// newSealer returns the sealer of one account's records under its keys.
func newSealer(account int64, keys *encryption.Keyring) sealer {
	return sealer{account: account, keys: keys}
}

// ad is the associated data of a record of field, of object obj (a name
// MAC, or nil) of collection coll (a random id, or nil).
func (k sealer) ad(coll, obj []byte, field string) encryption.AD {
	return encryption.AD{User: k.account, Collection: coll, Object: obj, Field: field}
}

// collectionMAC is the lookup key of a collection's name in its home.
func (k sealer) collectionMAC(home Home, name string) []byte {
	return k.keys.MAC("collection", []byte(home), []byte(name))
}

// objectMAC is the lookup key of an object's name in collection coll.
func (k sealer) objectMAC(coll []byte, name string) []byte {
	return k.keys.MAC("object", coll, []byte(name))
}

// etag is the ETag of a body: a keyed hash, so that it tells nothing of
// the body to whoever lacks the keys.
func (k sealer) etag(body []byte) string {
	return hex.EncodeToString(k.keys.MAC("etag", body)[:16])
}

// sealCollectionName seals the name of collection coll.
func (k sealer) sealCollectionName(coll []byte, name string) []byte {
	return k.keys.Seal(k.ad(coll, nil, fieldCollectionName), []byte(name))
}

// openCollectionName opens a name sealed by sealCollectionName.
func (k sealer) openCollectionName(coll, sealed []byte) (string, error) {
	plain, err := k.keys.Open(k.ad(coll, nil, fieldCollectionName), sealed)
	return string(plain), err
}

// sealObjectName seals the name of object mac of collection coll.
func (k sealer) sealObjectName(coll, mac []byte, name string) []byte {
	return k.keys.Seal(k.ad(coll, mac, fieldObjectName), []byte(name))
}

// openObjectName opens a name sealed by sealObjectName.
func (k sealer) openObjectName(coll, mac, sealed []byte) (string, error) {
	plain, err := k.keys.Open(k.ad(coll, mac, fieldObjectName), sealed)
	return string(plain), err
}

// contentAD is the associated data of one content record of an object
// sealed in version v at revision rev.
func (k sealer) contentAD(coll, obj []byte, field string, v, rev int64) encryption.AD {
	ad := k.ad(coll, obj, field)
	if v >= sealCurrent {
		// Field names hold no '@', so the encoding stays unambiguous.
		ad.Field += "@" + strconv.FormatInt(rev, 10)
	}
	return ad
}

// uidMAC is the lookup key of a UID in one collection: bound to the
// collection's random id, so that the same UID in two collections does not
// show as the same value.
func (k sealer) uidMAC(coll []byte, uid string) []byte {
	return k.keys.MAC("uid-in", coll, []byte(uid))
}

// legacyUIDMAC is the lookup key of a UID in rows of seal version 0, the
// same in every collection. Lookups accept it until the row is rewritten.
func (k sealer) legacyUIDMAC(uid string) []byte {
	return k.keys.MAC("uid", []byte(uid))
}

// uidMACs returns the forms of a UID's lookup key a row of collection coll
// may hold: the bound one, then the legacy one.
func (k sealer) uidMACs(coll []byte, uid string) [][]byte {
	return [][]byte{k.uidMAC(coll, uid), k.legacyUIDMAC(uid)}
}

// uidLookups returns the UID MACs that p conflicts with in collection
// dst, or nil when it has no UID. A legacy row's UID is not known, only
// its MAC, which every legacy row of that UID shares.
func (k sealer) uidLookups(dst collectionRef, p *plainObject) [][]byte {
	switch {
	case !p.uidKnown:
		return [][]byte{p.legacyMAC}
	case p.uid != "":
		return k.uidMACs(dst.uid, p.uid)
	}
	return nil
}

// openContent opens one content record sealed in version v at rev; a
// record that must exist and is NULL, or that fails to open, is damage.
func (k sealer) openContent(ref collectionRef, mac []byte, field, record string, v, rev int64, sealed []byte) ([]byte, error) {
	if len(sealed) == 0 {
		return nil, damaged(ref.id, mac, record, nil)
	}
	plain, err := k.keys.Open(k.contentAD(ref.uid, mac, field, v, rev), sealed)
	if err != nil {
		return nil, damaged(ref.id, mac, record, err)
	}
	return plain, nil
}

// openBody opens a body and checks it against the row's ETag, a keyed
// hash of the body: a body from another time of the row does not pass.
func (k sealer) openBody(ref collectionRef, mac []byte, etag string, v, rev int64, sealed []byte) ([]byte, error) {
	body, err := k.openContent(ref, mac, fieldObjectBody, recordBody, v, rev, sealed)
	if err != nil {
		return nil, err
	}
	if !encryption.Equal([]byte(k.etag(body)), []byte(etag)) {
		return nil, damaged(ref.id, mac, recordBody, errETag)
	}
	return body, nil
}

// openIndex opens an index entry; nil is none. In seal version 0 a NULL
// column was how none was stored.
func (k sealer) openIndex(ref collectionRef, mac []byte, v, rev int64, sealed []byte) ([]byte, error) {
	if v < sealCurrent && sealed == nil {
		return nil, nil
	}
	plain, err := k.openContent(ref, mac, fieldObjectIndex, recordIndex, v, rev, sealed)
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
func (k sealer) openUID(ref collectionRef, mac []byte, v, rev int64, sealed, uidMAC []byte) (string, bool, error) {
	if v < sealCurrent {
		return "", uidMAC == nil, nil
	}
	plain, err := k.openContent(ref, mac, fieldObjectUID, recordUID, v, rev, sealed)
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
func (k sealer) sealContent(dst collectionRef, mac []byte, rev int64, p *plainObject) sealedContent {
	ad := func(field string) encryption.AD { return k.contentAD(dst.uid, mac, field, sealCurrent, rev) }
	c := sealedContent{
		v: sealCurrent, rev: rev,
		ctype: k.keys.Seal(ad(fieldObjectType), p.ctype),
		body:  k.keys.Seal(ad(fieldObjectBody), p.body),
	}
	index := []byte{tagNone}
	if p.index != nil {
		index = tagged(tagValue, p.index)
	}
	c.index = k.keys.Seal(ad(fieldObjectIndex), index)
	uid := []byte{tagNone}
	switch {
	case !p.uidKnown:
		c.uidMAC = p.legacyMAC
	case p.uid != "":
		c.uidMAC = k.uidMAC(dst.uid, p.uid)
		fallthrough
	default:
		uid = tagged(tagValue, []byte(p.uid))
	}
	c.uid = k.keys.Seal(ad(fieldObjectUID), uid)
	return c
}

// sealLegacyContent seals p's content as seal version 0 did, for tests
// of what older databases hold.
func (k sealer) sealLegacyContent(dst collectionRef, mac []byte, p *plainObject) sealedContent {
	ad := func(field string) encryption.AD { return k.ad(dst.uid, mac, field) }
	c := sealedContent{
		v:     sealLegacy,
		ctype: k.keys.Seal(ad(fieldObjectType), p.ctype),
		body:  k.keys.Seal(ad(fieldObjectBody), p.body),
	}
	if p.index != nil {
		c.index = k.keys.Seal(ad(fieldObjectIndex), p.index)
	}
	switch {
	case !p.uidKnown:
		c.uidMAC = p.legacyMAC
	case p.uid != "":
		c.uidMAC = k.legacyUIDMAC(p.uid)
	}
	return c
}

// openObjectMeta opens an object's name, content type (sealed in version
// v at rev) and properties sealed whole (the form from before rows).
func (k sealer) openObjectMeta(ref collectionRef, obj, name, ctype, props []byte, v, rev int64, o *Object) error {
	n, err := k.openObjectName(ref.uid, obj, name)
	if err != nil {
		return damaged(ref.id, obj, recordName, err)
	}
	t, err := k.openContent(ref, obj, fieldObjectType, recordType, v, rev, ctype)
	if err != nil {
		return err
	}
	o.Name, o.ContentType = n, string(t)
	o.Props, err = k.openLegacyProps(k.objectBinding(ref.uid, obj), props)
	return err
}

// openObject opens the sealed fields of an object row into o, whose etag
// the caller has set: the name, the content (sealed in version v at rev)
// and the UID, whose lookup key in the row is uidMAC. The properties are
// opened apart (openLegacyProps, openProp).
func (k sealer) openObject(ref collectionRef, mac, name, uidMAC, ctype, body, index, uid []byte, v, rev int64, o *plainObject) error {
	o.mac = mac
	var err error
	if o.name, err = k.openObjectName(ref.uid, mac, name); err != nil {
		return damaged(ref.id, mac, recordName, err)
	}
	if o.ctype, err = k.openContent(ref, mac, fieldObjectType, recordType, v, rev, ctype); err != nil {
		return err
	}
	if o.body, err = k.openBody(ref, mac, o.etag, v, rev, body); err != nil {
		return err
	}
	if o.index, err = k.openIndex(ref, mac, v, rev, index); err != nil {
		return err
	}
	if o.uid, o.uidKnown, err = k.openUID(ref, mac, v, rev, uid, uidMAC); err != nil {
		return err
	}
	if !o.uidKnown {
		o.legacyMAC = uidMAC
	}
	return nil
}

// tagged returns tag followed by value.
func tagged(tag byte, value []byte) []byte {
	return append([]byte{tag}, value...)
}
