package storage

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math/bits"

	"github.com/coffer-dav/coffer/encryption"
)

// propBinding is what the property rows of one resource (a collection, an
// object, or a scope of the account) are bound to: the associated data of
// its rows, whose lookup keys and digest terms it also enters, and that of
// the whole set sealed before properties had rows.
//
// Each value is bound to its owner, its name and the revision that wrote
// it, so it cannot be moved. What binding alone cannot catch is a row put
// back, revision and all, from an older copy, or one deleted; for that the
// owner has one more row, under the empty name MAC, holding a digest of the
// set: the sum, modulo 2^256, of a keyed hash of each row's name MAC and
// revision. A patch moves the sum by the rows it touches alone, so it stays
// as cheap as the patch; a read adds up what it finds and compares.
type propBinding struct {
	ad     encryption.AD // of the rows
	legacy encryption.AD // of the whole set sealed before rows
}

// propDigest is the sum of a property set's row terms, modulo 2^256, in
// big-endian order.
type propDigest [32]byte

// propCheck adds up the rows of one owner's property set as they are
// read, to compare the sum with the owner's digest row at the end.
type propCheck struct {
	k           sealer
	b           propBinding
	sum, stored propDigest
	digest      bool // the digest row was read
}

// propPatch moves an owner's digest by the rows a patch removes and
// writes, and seals the new digest for its row.
type propPatch struct {
	k      sealer
	b      propBinding
	digest propDigest
}

// propDamage is why a property row or digest does not open; the engine
// names the owner (damagedProps).
type propDamage string

// Record fields of property rows. The fields of whole property sets sealed
// before rows existed (fieldCollectionProps and its kind) open legacy values.
const (
	fieldCollectionProp = "collection.prop"
	fieldObjectProp     = "object.prop"
	fieldAccountProp    = "account.prop"
)

// digestMAC is the name MAC of the digest row; every property's is 32 bytes.
var digestMAC = []byte{}

// Error returns why.
func (d propDamage) Error() string { return string(d) }

// collectionBinding binds the properties of the collection with random id uid.
func (k sealer) collectionBinding(uid []byte) propBinding {
	return propBinding{ad: k.ad(uid, nil, fieldCollectionProp), legacy: k.ad(uid, nil, fieldCollectionProps)}
}

// objectBinding binds the properties of object mac of collection coll.
func (k sealer) objectBinding(coll, mac []byte) propBinding {
	return propBinding{ad: k.ad(coll, mac, fieldObjectProp), legacy: k.ad(coll, mac, fieldObjectProps)}
}

// scopeBinding binds the properties of the principal or of a home.
func (k sealer) scopeBinding(scope Scope) propBinding {
	return propBinding{ad: k.ad(nil, []byte(scope), fieldAccountProp), legacy: k.ad(nil, []byte(scope), fieldAccountProps)}
}

// nameMAC is the lookup key of a property's row. It is bound to the owner,
// so the same property on two resources does not show.
func (k sealer) nameMAC(b propBinding, name string) []byte {
	return k.keys.MAC("property", b.ad.Collection, b.ad.Object, []byte(b.ad.Field), []byte(name))
}

// rowAD binds a property's value to its owner, its name and the revision
// that wrote it.
func (b propBinding) rowAD(mac []byte, rev int64) encryption.AD {
	ad := b.ad
	ad.Part, ad.Revision = mac, rev
	return ad
}

// sealProp seals a property's name and value for its row.
func (k sealer) sealProp(b propBinding, mac []byte, rev int64, name string, value []byte) []byte {
	plain := binary.AppendUvarint(make([]byte, 0, binary.MaxVarintLen64+len(name)+len(value)), uint64(len(name)))
	plain = append(append(plain, name...), value...)
	return k.keys.Seal(b.rowAD(mac, rev), plain)
}

// openProp opens a row sealed by sealProp and checks that its name is the
// one its lookup key stands for. Its errors are propDamage.
func (k sealer) openProp(b propBinding, mac []byte, rev int64, sealed []byte) (string, []byte, error) {
	plain, err := k.keys.Open(b.rowAD(mac, rev), sealed)
	if err != nil {
		return "", nil, propDamage("hold a value that does not open")
	}
	n, i := binary.Uvarint(plain)
	if i <= 0 || n > uint64(len(plain)-i) {
		return "", nil, propDamage("hold a malformed value")
	}
	name := string(plain[i : i+int(n)])
	if !encryption.Equal(mac, k.nameMAC(b, name)) {
		return "", nil, propDamage("hold a name that does not match its key")
	}
	return name, plain[i+int(n):], nil
}

// term is a row's share of its owner's digest.
func (k sealer) term(b propBinding, mac []byte, rev int64) propDigest {
	var r [8]byte
	binary.BigEndian.PutUint64(r[:], uint64(rev))
	return propDigest(k.keys.MAC("property-set", b.ad.Collection, b.ad.Object, []byte(b.ad.Field), mac, r[:]))
}

// sealDigest seals the digest of the owner's set for its row at rev.
func (k sealer) sealDigest(b propBinding, rev int64, d propDigest) []byte {
	return k.keys.Seal(b.rowAD(digestMAC, rev), d[:])
}

// openDigest opens a digest sealed by sealDigest. Its errors are propDamage.
func (k sealer) openDigest(b propBinding, rev int64, sealed []byte) (propDigest, error) {
	var d propDigest
	plain, err := k.keys.Open(b.rowAD(digestMAC, rev), sealed)
	if err != nil || len(plain) != len(d) {
		return d, propDamage("have a digest that does not open")
	}
	copy(d[:], plain)
	return d, nil
}

// openLegacyProps opens a property set sealed whole (the form from before
// rows); nil or empty opens to an empty set.
func (k sealer) openLegacyProps(b propBinding, sealed []byte) (Props, error) {
	p := Props{}
	if len(sealed) == 0 {
		return p, nil
	}
	plain, err := k.keys.Open(b.legacy, sealed)
	if err != nil {
		return nil, fmt.Errorf("storage: open properties: %w", err)
	}
	if err := json.Unmarshal(plain, &p); err != nil {
		return nil, fmt.Errorf("storage: decode properties: %w", err)
	}
	return p, nil
}

// checkProps starts the check of the rows of owner b as they are read.
func (k sealer) checkProps(b propBinding) *propCheck {
	return &propCheck{k: k, b: b}
}

// open opens one row of the set, under name MAC mac written at rev: the
// digest row (the empty name MAC), which holds no property (ok false), or
// a property. Its errors are propDamage.
func (c *propCheck) open(mac []byte, rev int64, sealed []byte) (name string, value []byte, ok bool, err error) {
	if len(mac) == 0 {
		if c.stored, err = c.k.openDigest(c.b, rev, sealed); err != nil {
			return "", nil, false, err
		}
		c.digest = true
		return "", nil, false, nil
	}
	if name, value, err = c.k.openProp(c.b, mac, rev, sealed); err != nil {
		return "", nil, false, err
	}
	c.sum = c.sum.add(c.k.term(c.b, mac, rev))
	return name, value, true, nil
}

// done reports, as a propDamage, a set read whole whose rows do not add
// up to its digest: a row removed, or put back from an older copy.
func (c *propCheck) done() error {
	if !c.digest {
		return propDamage("have lost their digest")
	}
	if !c.sum.equal(c.stored) {
		return propDamage("do not match their digest: a row was removed or put back from an older copy")
	}
	return nil
}

// patchProps starts a patch of the rows of owner b, whose digest as stored
// is stored (zero for none).
func (k sealer) patchProps(b propBinding, stored propDigest) *propPatch {
	return &propPatch{k: k, b: b, digest: stored}
}

// remove takes out of the digest the row under name MAC mac written at
// rev, removed or about to be replaced.
func (p *propPatch) remove(mac []byte, rev int64) {
	p.digest = p.digest.sub(p.k.term(p.b, mac, rev))
}

// write seals a property for its row under name MAC mac at rev, and adds
// the row to the digest.
func (p *propPatch) write(mac []byte, rev int64, name string, value []byte) []byte {
	p.digest = p.digest.add(p.k.term(p.b, mac, rev))
	return p.k.sealProp(p.b, mac, rev, name, value)
}

// sealDigest seals the patched digest for the digest row at rev.
func (p *propPatch) sealDigest(rev int64) []byte {
	return p.k.sealDigest(p.b, rev, p.digest)
}

// add returns d + t modulo 2^256.
func (d propDigest) add(t propDigest) propDigest {
	var carry uint64
	for i := 24; i >= 0; i -= 8 {
		var sum uint64
		sum, carry = bits.Add64(binary.BigEndian.Uint64(d[i:]), binary.BigEndian.Uint64(t[i:]), carry)
		binary.BigEndian.PutUint64(d[i:], sum)
	}
	return d
}

// sub returns d - t modulo 2^256.
func (d propDigest) sub(t propDigest) propDigest {
	var borrow uint64
	for i := 24; i >= 0; i -= 8 {
		var diff uint64
		diff, borrow = bits.Sub64(binary.BigEndian.Uint64(d[i:]), binary.BigEndian.Uint64(t[i:]), borrow)
		binary.BigEndian.PutUint64(d[i:], diff)
	}
	return d
}

// equal reports whether two digests are equal, in constant time.
func (d propDigest) equal(e propDigest) bool { return encryption.Equal(d[:], e[:]) }
