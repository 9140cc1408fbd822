package storage

import (
	"bytes"
	"errors"
	"testing"
)

// sealerFixture is one account's sealer and the places its tests seal for.
type sealerFixture struct {
	k, other   sealer        // account 7, and account 8 under the same keys
	ref, ref2  collectionRef // two collections
	obj, obj2  []byte        // two objects' name MACs in ref
	objIn2     []byte        // obj's name in ref2
	coll, obj1 propBinding   // property owners: ref, and obj of ref
}

func newSealerFixture(t *testing.T) sealerFixture {
	k := goldenSealer(t)
	f := sealerFixture{
		k: k, other: newSealer(8, k.keys),
		ref:  collectionRef{id: 5, uid: []byte("0123456789abcdef")},
		ref2: collectionRef{id: 6, uid: []byte("fedcba9876543210")},
	}
	f.obj, f.obj2 = k.objectMAC(f.ref.uid, "a.ics"), k.objectMAC(f.ref.uid, "b.ics")
	f.objIn2 = k.objectMAC(f.ref2.uid, "a.ics")
	f.coll, f.obj1 = k.collectionBinding(f.ref.uid), k.objectBinding(f.ref.uid, f.obj)
	return f
}

func TestSealerRoundTrips(t *testing.T) {
	f := newSealerFixture(t)
	k := f.k
	body := []byte("BEGIN:VCARD\r\nEND:VCARD\r\n")
	for _, tt := range []struct {
		name string
		p    plainObject
	}{
		{"uid and index", plainObject{uid: "u1", uidKnown: true, ctype: []byte("text/vcard"), index: []byte("entry")}},
		{"no uid, no index", plainObject{uidKnown: true, ctype: []byte("text/vcard")}},
		{"empty index", plainObject{uid: "u2", uidKnown: true, ctype: []byte("text/vcard"), index: []byte{}}},
		{"legacy uid carried", plainObject{legacyMAC: k.legacyUIDMAC("u3"), ctype: []byte("text/calendar"), index: []byte("e")}},
		{"empty content type", plainObject{uid: "u4", uidKnown: true, ctype: []byte{}}},
	} {
		for _, legacy := range []bool{false, true} {
			t.Run(tt.name, func(t *testing.T) {
				p := tt.p
				p.body, p.etag = body, k.etag(body)
				c := k.sealContent(f.ref, f.obj, 42, &p)
				if legacy {
					c = k.sealLegacyContent(f.ref, f.obj, &p)
				}
				got := &plainObject{etag: p.etag}
				err := k.openObject(f.ref, f.obj, k.sealObjectName(f.ref.uid, f.obj, "a.ics"), c.uidMAC, c.ctype, c.body, c.index, c.uid, c.v, c.rev, got)
				if err != nil {
					t.Fatalf("legacy %v: %v", legacy, err)
				}
				// Version 0 opens an empty index entry as none.
				if got.name != "a.ics" || !bytes.Equal(got.body, body) || !bytes.Equal(got.ctype, p.ctype) || !bytes.Equal(got.index, p.index) || ((got.index == nil) != (p.index == nil) && !legacy) {
					t.Errorf("legacy %v: opened %+v, sealed %+v", legacy, got, p)
				}
				wantUID, wantKnown := p.uid, p.uidKnown
				if legacy && p.uid != "" {
					wantUID, wantKnown = "", false // version 0 seals no UID, only its MAC
				}
				if got.uid != wantUID || got.uidKnown != wantKnown {
					t.Errorf("legacy %v: UID %q known %v, want %q %v", legacy, got.uid, got.uidKnown, wantUID, wantKnown)
				}
				if !got.uidKnown && !bytes.Equal(got.legacyMAC, c.uidMAC) {
					t.Errorf("legacy %v: legacy UID MAC %x, row has %x", legacy, got.legacyMAC, c.uidMAC)
				}
				var o Object
				if err := k.openObjectMeta(f.ref, f.obj, k.sealObjectName(f.ref.uid, f.obj, "a.ics"), c.ctype, nil, c.v, c.rev, &o); err != nil || o.Name != "a.ics" || o.ContentType != string(p.ctype) || len(o.Props) != 0 {
					t.Errorf("legacy %v: meta %+v, %v", legacy, o, err)
				}
			})
		}
	}
	for _, tt := range []struct {
		name  string
		bind  propBinding
		prop  string
		value []byte
	}{
		{"collection property", f.coll, "{DAV:}displayname", []byte("Work")},
		{"object property", f.obj1, "{urn:x}p", []byte{}},
		{"scope property", k.scopeBinding(ScopePrincipal), "{urn:x}long", bytes.Repeat([]byte("v"), 300)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			mac := k.nameMAC(tt.bind, tt.prop)
			name, value, err := k.openProp(tt.bind, mac, 9, k.sealProp(tt.bind, mac, 9, tt.prop, tt.value))
			if err != nil || name != tt.prop || !bytes.Equal(value, tt.value) {
				t.Errorf("property: %q %q %v", name, value, err)
			}
			d := propDigest{}.add(k.term(tt.bind, mac, 9))
			if got, err := k.openDigest(tt.bind, 9, k.sealDigest(tt.bind, 9, d)); err != nil || got != d {
				t.Errorf("digest: %x %v", got, err)
			}
			if !d.sub(k.term(tt.bind, mac, 9)).equal(propDigest{}) {
				t.Error("sub does not undo add")
			}
		})
	}
	if name, err := k.openCollectionName(f.ref.uid, k.sealCollectionName(f.ref.uid, "work/sub")); err != nil || name != "work/sub" {
		t.Errorf("collection name: %q %v", name, err)
	}
	if p, err := k.openLegacyProps(f.coll, nil); err != nil || p == nil || len(p) != 0 {
		t.Errorf("no legacy set: %v %v", p, err)
	}
}

// TestSealerBindings checks the rule every engine relies on and none
// repeats: a value sealed for one account, collection, object, field or
// revision opens for that one alone.
func TestSealerBindings(t *testing.T) {
	f := newSealerFixture(t)
	k := f.k
	body := []byte("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")
	etag := k.etag(body)
	p := &plainObject{uid: "u1", uidKnown: true, ctype: []byte("text/calendar"), body: body, index: []byte("i")}
	c := k.sealContent(f.ref, f.obj, 42, p)
	l := k.sealLegacyContent(f.ref, f.obj, p)
	name := k.sealObjectName(f.ref.uid, f.obj, "a.ics")
	mac := k.nameMAC(f.obj1, "{urn:x}p")
	prop := k.sealProp(f.obj1, mac, 42, "{urn:x}p", []byte("v"))
	digest := k.sealDigest(f.obj1, 42, k.term(f.obj1, mac, 42))
	for _, tt := range []struct {
		name string
		open func() error
		want bool // whether it opens
	}{
		{"body as sealed", func() error { _, err := k.openBody(f.ref, f.obj, etag, sealCurrent, 42, c.body); return err }, true},
		{"body at another revision", func() error { _, err := k.openBody(f.ref, f.obj, etag, sealCurrent, 41, c.body); return err }, false},
		{"body of another object", func() error { _, err := k.openBody(f.ref, f.obj2, etag, sealCurrent, 42, c.body); return err }, false},
		{"body in another collection", func() error { _, err := k.openBody(f.ref2, f.obj, etag, sealCurrent, 42, c.body); return err }, false},
		{"body of another account", func() error { _, err := f.other.openBody(f.ref, f.obj, etag, sealCurrent, 42, c.body); return err }, false},
		{"body read as version 0", func() error { _, err := k.openBody(f.ref, f.obj, etag, sealLegacy, 42, c.body); return err }, false},
		{"body as the content type", func() error {
			_, err := k.openContent(f.ref, f.obj, fieldObjectType, recordType, sealCurrent, 42, c.body)
			return err
		}, false},
		{"body with another ETag", func() error {
			_, err := k.openBody(f.ref, f.obj, k.etag([]byte("x")), sealCurrent, 42, c.body)
			return err
		}, false},
		{"version 0 body", func() error { _, err := k.openBody(f.ref, f.obj, etag, sealLegacy, 0, l.body); return err }, true},
		{"version 0 body read as version 1", func() error { _, err := k.openBody(f.ref, f.obj, etag, sealCurrent, 0, l.body); return err }, false},
		{"version 0 body of another object", func() error { _, err := k.openBody(f.ref, f.obj2, etag, sealLegacy, 0, l.body); return err }, false},
		{"uid as sealed", func() error { _, _, err := k.openUID(f.ref, f.obj, sealCurrent, 42, c.uid, c.uidMAC); return err }, true},
		{"uid as the index entry", func() error { _, err := k.openIndex(f.ref, f.obj, sealCurrent, 42, c.uid); return err }, false},
		{"index entry at another revision", func() error { _, err := k.openIndex(f.ref, f.obj, sealCurrent, 43, c.index); return err }, false},
		{"index entry blanked", func() error { _, err := k.openIndex(f.ref, f.obj, sealCurrent, 42, nil); return err }, false},
		{"uid blanked", func() error { _, _, err := k.openUID(f.ref, f.obj, sealCurrent, 42, []byte{}, c.uidMAC); return err }, false},
		{"name as sealed", func() error { _, err := k.openObjectName(f.ref.uid, f.obj, name); return err }, true},
		{"name of another object", func() error { _, err := k.openObjectName(f.ref.uid, f.obj2, name); return err }, false},
		{"name in another collection", func() error { _, err := k.openObjectName(f.ref2.uid, f.objIn2, name); return err }, false},
		{"object name as a collection name", func() error { _, err := k.openCollectionName(f.ref.uid, name); return err }, false},
		{"collection name of another collection", func() error {
			_, err := k.openCollectionName(f.ref2.uid, k.sealCollectionName(f.ref.uid, "work"))
			return err
		}, false},
		{"property as sealed", func() error { _, _, err := k.openProp(f.obj1, mac, 42, prop); return err }, true},
		{"property at another revision", func() error { _, _, err := k.openProp(f.obj1, mac, 41, prop); return err }, false},
		{"property under another name", func() error { _, _, err := k.openProp(f.obj1, k.nameMAC(f.obj1, "{urn:x}q"), 42, prop); return err }, false},
		{"property of another object", func() error {
			_, _, err := k.openProp(k.objectBinding(f.ref.uid, f.obj2), mac, 42, prop)
			return err
		}, false},
		{"object property as the collection's", func() error { _, _, err := k.openProp(f.coll, mac, 42, prop); return err }, false},
		{"property of another account", func() error {
			_, _, err := f.other.openProp(f.other.objectBinding(f.ref.uid, f.obj), mac, 42, prop)
			return err
		}, false},
		{"property whose name is not its key's", func() error {
			other := k.nameMAC(f.obj1, "{urn:x}q")
			_, _, err := k.openProp(f.obj1, other, 42, k.sealProp(f.obj1, other, 42, "{urn:x}p", nil))
			return err
		}, false},
		{"property as the digest", func() error { _, err := k.openDigest(f.obj1, 42, prop); return err }, false},
		{"digest as sealed", func() error { _, err := k.openDigest(f.obj1, 42, digest); return err }, true},
		{"digest at another revision", func() error { _, err := k.openDigest(f.obj1, 43, digest); return err }, false},
		{"digest of another owner", func() error { _, err := k.openDigest(f.coll, 42, digest); return err }, false},
		{"legacy set of another owner", func() error {
			sealed := k.keys.Seal(f.obj1.legacy, []byte(`{}`))
			_, err := k.openLegacyProps(k.objectBinding(f.ref.uid, f.obj2), sealed)
			return err
		}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.open()
			if (err == nil) != tt.want {
				t.Fatalf("opens: %v, want %v", err, tt.want)
			}
		})
	}
}

// TestSealerDamage checks the errors the sealer reports: content damage
// is a *DamagedError naming the record, property damage a propDamage that
// the engine turns into ErrDamaged naming the owner.
func TestSealerDamage(t *testing.T) {
	f := newSealerFixture(t)
	k := f.k
	ad := func(field string) []byte {
		return k.keys.Seal(k.contentAD(f.ref.uid, f.obj, field, sealCurrent, 42), []byte{7})
	}
	for _, tt := range []struct {
		name   string
		err    error
		record string
		cause  error
	}{
		{"missing body", func() error { _, err := k.openBody(f.ref, f.obj, "", sealCurrent, 42, nil); return err }(), recordBody, nil},
		{"body against its ETag", func() error {
			_, err := k.openBody(f.ref, f.obj, "0", sealCurrent, 42, k.keys.Seal(k.contentAD(f.ref.uid, f.obj, fieldObjectBody, sealCurrent, 42), []byte("b")))
			return err
		}(), recordBody, errETag},
		{"unknown index tag", func() error { _, err := k.openIndex(f.ref, f.obj, sealCurrent, 42, ad(fieldObjectIndex)); return err }(), recordIndex, errTag},
		{"unknown uid tag", func() error {
			_, _, err := k.openUID(f.ref, f.obj, sealCurrent, 42, ad(fieldObjectUID), nil)
			return err
		}(), recordUID, errTag},
		{"name", k.openObjectMeta(f.ref, f.obj, []byte("garbage-garbage-garbage-garbage-garbage-garbage"), nil, nil, sealCurrent, 42, &Object{}), recordName, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var d *DamagedError
			if !errors.As(tt.err, &d) || !errors.Is(tt.err, ErrDamaged) {
				t.Fatalf("got %v, want a DamagedError", tt.err)
			}
			if d.Field != tt.record || d.Collection != f.ref.id || !bytes.Equal(d.NameMAC, f.obj) {
				t.Errorf("names %s of %d/%x, want %s of %d/%x", d.Field, d.Collection, d.NameMAC, tt.record, f.ref.id, f.obj)
			}
			if tt.cause != nil && !errors.Is(tt.err, tt.cause) {
				t.Errorf("cause %v, want %v", d.Err, tt.cause)
			}
		})
	}
	_, _, err := k.openProp(f.coll, k.nameMAC(f.coll, "p"), 1, []byte("short"))
	owner := propOwner{row: PropOwner{Table: PropsOfCollection, ID: 5}, bind: f.coll}
	if err := owner.damaged(err); !errors.Is(err, ErrDamaged) || err.Error() != "storage: a record is damaged: the properties of collection 5 hold a value that does not open" {
		t.Errorf("property damage: %v", err)
	}
	if owner.damaged(nil) != nil {
		t.Error("no damage reads as damage")
	}
}

// TestSealerPropSets checks that the digest a patch seals matches the rows
// it wrote, and that a set read with a row missing, put back from before,
// or without its digest does not.
func TestSealerPropSets(t *testing.T) {
	f := newSealerFixture(t)
	k := f.k
	type row struct {
		mac, sealed []byte
		rev         int64
	}
	// Revision 1 writes a and b; revision 2 replaces b and removes a.
	macA, macB := k.nameMAC(f.obj1, "a"), k.nameMAC(f.obj1, "b")
	p1 := k.patchProps(f.obj1, propDigest{})
	a1 := row{macA, p1.write(macA, 1, "a", []byte("1")), 1}
	b1 := row{macB, p1.write(macB, 1, "b", []byte("1")), 1}
	d1 := row{digestMAC, p1.sealDigest(1), 1}
	stored, err := k.openDigest(f.obj1, 1, d1.sealed)
	if err != nil {
		t.Fatal(err)
	}
	p2 := k.patchProps(f.obj1, stored)
	p2.remove(macB, 1)
	b2 := row{macB, p2.write(macB, 2, "b", []byte("2")), 2}
	p2.remove(macA, 1)
	d2 := row{digestMAC, p2.sealDigest(2), 2}
	for _, tt := range []struct {
		name string
		rows []row
		want map[string]string // nil: damaged
	}{
		{"revision 1", []row{a1, d1, b1}, map[string]string{"a": "1", "b": "1"}},
		{"revision 2", []row{b2, d2}, map[string]string{"b": "2"}},
		{"empty", nil, map[string]string{}},
		{"a row removed", []row{a1, d1}, nil},
		{"a removed row put back", []row{a1, b2, d2}, nil},
		{"a row from before", []row{b1, d2}, nil},
		{"the digest from before", []row{b2, d1}, nil},
		{"no digest", []row{b2}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := k.checkProps(f.obj1)
			got := map[string]string{}
			var err error
			for _, r := range tt.rows {
				name, value, ok, oerr := c.open(r.mac, r.rev, r.sealed)
				if oerr != nil {
					err = oerr
					break
				}
				if ok {
					got[name] = string(value)
				}
			}
			if err == nil && len(tt.rows) > 0 {
				err = c.done()
			}
			var why propDamage
			switch {
			case tt.want == nil && !errors.As(err, &why):
				t.Fatalf("read %v, %v; want damage", got, err)
			case tt.want != nil && err != nil:
				t.Fatalf("damaged: %v", err)
			case tt.want != nil && len(got) != len(tt.want):
				t.Fatalf("read %v, want %v", got, tt.want)
			}
			for n, v := range tt.want {
				if got[n] != v {
					t.Errorf("%s = %q, want %q", n, got[n], v)
				}
			}
		})
	}
}
