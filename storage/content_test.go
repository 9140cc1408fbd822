package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// objectRow returns the row id, name MAC and uid_mac of an object.
func objectRow(t *testing.T, db *DB, coll int64, etag string) (id int64, mac, uidMAC []byte) {
	t.Helper()
	if err := db.read.QueryRow(`SELECT id, name_mac, uid_mac FROM objects WHERE collection_id = ? AND etag = ?`, coll, etag).Scan(&id, &mac, &uidMAC); err != nil {
		t.Fatal(err)
	}
	return id, mac, uidMAC
}

// exec runs raw SQL on the database, as whoever can write the file would.
func exec(t *testing.T, db *DB, query string, args ...any) {
	t.Helper()
	if _, err := db.write.Exec(query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// TestUIDMACBoundToCollection: the same UID in two collections is stored
// as two different MACs, so the database does not show it is the same;
// within each collection the UID rule still holds.
func TestUIDMACBoundToCollection(t *testing.T) {
	db, s, _ := testSpace(t)
	ctx := context.Background()
	a, b := mustCollection(t, s, "a"), mustCollection(t, s, "b")
	var macs [][]byte
	for _, c := range []*Collection{a, b} {
		res, err := s.PutObject(ctx, c.ID, PutOptions{Name: "x.ics", UID: "same-uid", Body: []byte("x " + c.Name)})
		if err != nil {
			t.Fatal(err)
		}
		_, _, uidMAC := objectRow(t, db, c.ID, res.Object.ETag)
		if len(uidMAC) == 0 {
			t.Fatalf("collection %s: no uid_mac", c.Name)
		}
		macs = append(macs, uidMAC)
		var conflict *UIDConflict
		if _, err := s.PutObject(ctx, c.ID, PutOptions{Name: "y.ics", UID: "same-uid", Body: []byte("y")}); !errors.As(err, &conflict) || conflict.Name != "x.ics" {
			t.Errorf("collection %s: a second object with the UID: %v", c.Name, err)
		}
	}
	if bytes.Equal(macs[0], macs[1]) {
		t.Errorf("the same UID has the same uid_mac %x in two collections", macs[0])
	}
}

// TestTransferKeepsUIDRule: a COPY or MOVE into another collection finds
// a UID already there, whether the rows involved were written now or by an
// older version (whose UID MAC was not bound to the collection), and the
// copy holds the destination's form of the MAC.
func TestTransferKeepsUIDRule(t *testing.T) {
	tests := []struct {
		name         string
		legacySource bool   // the source row was written before seal version 1
		legacyThere  bool   // so was the destination's row with the UID
		uid          string // TransferOptions.UID, as DAV passes it into a calendar
		move         bool
	}{
		{"copy", false, false, "", false},
		{"move", false, false, "", true},
		{"copy onto an old row", false, true, "", false},
		{"copy of an old row onto an old row", true, true, "", false},
		{"copy of an old row onto a new row, UID from DAV", true, false, "u1", false},
		{"move of an old row onto a new row, UID from DAV", true, false, "u1", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, s, _ := testSpace(t)
			ctx := context.Background()
			a, b := mustCollection(t, s, "a"), mustCollection(t, s, "b")
			db.legacySeal = tt.legacyThere
			if _, err := s.PutObject(ctx, b.ID, PutOptions{Name: "there.ics", UID: "u1", Body: []byte("there")}); err != nil {
				t.Fatal(err)
			}
			db.legacySeal = tt.legacySource
			if _, err := s.PutObject(ctx, a.ID, PutOptions{Name: "src.ics", UID: "u1", Body: []byte("src")}); err != nil {
				t.Fatal(err)
			}
			db.legacySeal = false
			var conflict *UIDConflict
			_, err := s.TransferObject(ctx, a.ID, "src.ics", b.ID, "new.ics", TransferOptions{Move: tt.move, UID: tt.uid})
			if !errors.As(err, &conflict) || conflict.Name != "there.ics" {
				t.Fatalf("transfer onto the UID: %v, want a conflict with there.ics", err)
			}
			// Without the UID there, the copy lands with the MAC of its new place.
			if err := s.DeleteObject(ctx, b.ID, "there.ics", DeleteOptions{}); err != nil {
				t.Fatal(err)
			}
			if _, err := s.TransferObject(ctx, a.ID, "src.ics", b.ID, "new.ics", TransferOptions{Move: tt.move, UID: tt.uid}); err != nil {
				t.Fatal(err)
			}
			o, err := s.Object(ctx, b.ID, "new.ics", ReadOptions{Body: true})
			if err != nil || string(o.Body) != "src" {
				t.Fatalf("the copy: %+v, %v", o, err)
			}
			_, _, got := objectRow(t, db, b.ID, o.ETag)
			sp := s.(*sealedSpace)
			buid, _ := sp.ref(ctx, db.Reader(), b.ID)
			want := sp.seal.uidMAC(buid.uid, "u1")
			if tt.legacySource && tt.uid == "" {
				want = sp.seal.legacyUIDMAC("u1") // the UID itself is not known: the old MAC is carried
			}
			if !bytes.Equal(got, want) {
				t.Errorf("the copy's uid_mac %x, want %x", got, want)
			}
			if _, err := s.PutObject(ctx, b.ID, PutOptions{Name: "again.ics", UID: "u1", Body: []byte("again")}); !errors.As(err, &conflict) || conflict.Name != "new.ics" {
				t.Errorf("a PUT of the UID after the transfer: %v, want a conflict with new.ics", err)
			}
		})
	}
}

// TestDamagedContent: a sealed value put back from an older version of the
// row, or blanked, or a body row deleted, reads as ErrDamaged naming the
// collection and the name MAC, never as the older or an empty value. Only a
// whole row put back consistently (body, ETag and sealed_rev) opens.
func TestDamagedContent(t *testing.T) {
	type saved struct {
		body, ctype, index, uid []byte
		etag                    string
		sealedRev               int64
	}
	tests := []struct {
		name   string
		damage string // SQL with ?1 the object's row id; ?2..?7 the saved body, etag, sealed_rev, ctype, index, uid
		read   string // "body", "list", "index" or "copy"
		opens  bool   // the damage is a consistent roll-back, which opens
	}{
		{"old body", `UPDATE object_bodies SET body_sealed = ?2 WHERE object_id = ?1`, "body", false},
		{"old body and ETag", `UPDATE object_bodies SET body_sealed = ?2 WHERE object_id = ?1; UPDATE objects SET etag = ?3 WHERE id = ?1`, "body", false},
		{"old body and sealed_rev", `UPDATE object_bodies SET body_sealed = ?2 WHERE object_id = ?1; UPDATE objects SET sealed_rev = ?4 WHERE id = ?1`, "body", false},
		{"old body, ETag and sealed_rev, current type", `UPDATE object_bodies SET body_sealed = ?2 WHERE object_id = ?1; UPDATE objects SET etag = ?3, sealed_rev = ?4 WHERE id = ?1`, "body", false},
		{"old content, current ETag", `UPDATE object_bodies SET body_sealed = ?2 WHERE object_id = ?1; UPDATE objects SET sealed_rev = ?4, ctype_sealed = ?5, index_sealed = ?6, uid_sealed = ?7 WHERE id = ?1`, "body", false},
		{"the whole old row", `UPDATE object_bodies SET body_sealed = ?2 WHERE object_id = ?1; UPDATE objects SET etag = ?3, sealed_rev = ?4, ctype_sealed = ?5, index_sealed = ?6, uid_sealed = ?7 WHERE id = ?1`, "body", true},
		{"old content type", `UPDATE objects SET ctype_sealed = ?5 WHERE id = ?1`, "list", false},
		{"old index entry", `UPDATE objects SET index_sealed = ?6 WHERE id = ?1`, "index", false},
		{"old uid", `UPDATE objects SET uid_sealed = ?7 WHERE id = ?1`, "copy", false},
		{"body row deleted", `DELETE FROM object_bodies WHERE object_id = ?1`, "body", false},
		{"body row deleted, copy", `DELETE FROM object_bodies WHERE object_id = ?1`, "copy", false},
		{"index blanked", `UPDATE objects SET index_sealed = NULL WHERE id = ?1`, "index", false},
		{"uid blanked", `UPDATE objects SET uid_sealed = NULL WHERE id = ?1`, "copy", false},
		{"downgraded to seal version 0", `UPDATE objects SET seal_v = 0 WHERE id = ?1`, "body", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, s, _ := testSpace(t)
			ctx := context.Background()
			c, other := mustCollection(t, s, "work"), mustCollection(t, s, "other")
			first, err := s.PutObject(ctx, c.ID, PutOptions{Name: "ev.ics", UID: "old-uid", ContentType: "text/old", Body: []byte("OLD BODY"), Index: []byte("old index")})
			if err != nil {
				t.Fatal(err)
			}
			id, mac, _ := objectRow(t, db, c.ID, first.Object.ETag)
			var old saved
			if err := db.read.QueryRow(`SELECT b.body_sealed, o.etag, o.sealed_rev, o.ctype_sealed, o.index_sealed, o.uid_sealed FROM objects o JOIN object_bodies b ON b.object_id = o.id WHERE o.id = ?`, id).
				Scan(&old.body, &old.etag, &old.sealedRev, &old.ctype, &old.index, &old.uid); err != nil {
				t.Fatal(err)
			}
			if _, err := s.PutObject(ctx, c.ID, PutOptions{Name: "ev.ics", UID: "new-uid", ContentType: "text/new", Body: []byte("NEW BODY"), Index: []byte("new index")}); err != nil {
				t.Fatal(err)
			}
			// A PROPPATCH moves the revision, not what the content is bound to.
			if err := s.PatchObject(ctx, c.ID, "ev.ics", PatchOptions{Set: Props{"{x:}p": []byte("v")}}); err != nil {
				t.Fatal(err)
			}
			if o, err := s.Object(ctx, c.ID, "ev.ics", ReadOptions{Body: true}); err != nil || string(o.Body) != "NEW BODY" {
				t.Fatalf("before the damage: %+v, %v", o, err)
			}
			for _, q := range strings.Split(tt.damage, "; ") {
				exec(t, db, q, id, old.body, old.etag, old.sealedRev, old.ctype, old.index, old.uid)
			}

			var got string
			switch tt.read {
			case "body":
				var o *Object
				if o, err = s.Object(ctx, c.ID, "ev.ics", ReadOptions{Body: true}); err == nil {
					got = string(o.Body)
				}
			case "list":
				var objs []Object
				if objs, err = s.Objects(ctx, c.ID); err == nil {
					got = objs[0].ContentType
				}
			case "index":
				var all []IndexEntry
				if all, _, err = s.Index(ctx, c.ID); err == nil {
					got = string(all[0].Index)
				}
			case "copy":
				_, err = s.TransferObject(ctx, c.ID, "ev.ics", other.ID, "ev.ics", TransferOptions{})
			}
			if tt.opens {
				if err != nil || got != "OLD BODY" {
					t.Fatalf("a consistent roll-back: %q, %v; want the old body", got, err)
				}
				return
			}
			var d *DamagedError
			if !errors.Is(err, ErrDamaged) || !errors.As(err, &d) {
				t.Fatalf("read %s: %q, %v; want ErrDamaged", tt.read, got, err)
			}
			if d.Collection != c.ID || !bytes.Equal(d.NameMAC, mac) || !bytes.Contains([]byte(err.Error()), []byte(fmt.Sprintf("%x", mac))) {
				t.Errorf("the error names collection %d, object %x: %v", d.Collection, d.NameMAC, err)
			}
			if bytes.Contains([]byte(err.Error()), []byte("ev.ics")) || bytes.Contains([]byte(err.Error()), []byte("BODY")) {
				t.Errorf("the error shows the name or content: %v", err)
			}
		})
	}
}

// TestLegacyRowsOpenAndUpgrade: rows written before seal version 1 open
// as they are (an index stored as NULL is none); a full load of the
// collection's index seals their content anew, bound to their revision,
// with nothing a client sees changed, so that an old body put back no
// longer opens; and a write of the row seals it anew too.
func TestLegacyRowsOpenAndUpgrade(t *testing.T) {
	db, s, _ := testSpace(t)
	ctx := context.Background()
	c := mustCollection(t, s, "work")
	db.legacySeal = true
	if _, err := s.PutObject(ctx, c.ID, PutOptions{Name: "a.ics", UID: "ua", ContentType: "text/calendar", Body: []byte("A"), Index: []byte("ia")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutObject(ctx, c.ID, PutOptions{Name: "b.vcf", UID: "ub", ContentType: "text/vcard", Body: []byte("B")}); err != nil {
		t.Fatal(err)
	}
	db.legacySeal = false
	before, err := s.Objects(ctx, c.ID)
	if err != nil || len(before) != 2 {
		t.Fatalf("old rows: %v, %v", before, err)
	}
	var legacyBody []byte
	if err := db.read.QueryRow(`SELECT b.body_sealed FROM objects o JOIN object_bodies b ON b.object_id = o.id WHERE o.etag = ?`, before[1].ETag).Scan(&legacyBody); err != nil {
		t.Fatal(err)
	}
	all, _, err := s.Index(ctx, c.ID)
	if err != nil || len(all) != 2 {
		t.Fatalf("index of old rows: %v, %v", all, err)
	}
	for _, e := range all {
		if want := map[string]string{"a.ics": "ia", "b.vcf": ""}[e.Name]; string(e.Index) != want {
			t.Errorf("%s: index %q, want %q", e.Name, e.Index, want)
		}
	}
	after, err := s.Objects(ctx, c.ID)
	if err != nil || len(after) != 2 {
		t.Fatalf("after the index load: %v, %v", after, err)
	}
	for i, o := range after {
		var v, sealedRev int64
		if err := db.read.QueryRow(`SELECT seal_v, sealed_rev FROM objects WHERE collection_id = ? AND etag = ?`, c.ID, o.ETag).Scan(&v, &sealedRev); err != nil {
			t.Fatal(err)
		}
		full, err := s.Object(ctx, c.ID, o.Name, ReadOptions{Body: true})
		if err != nil || v != sealCurrent || sealedRev != o.Revision || o.ETag != before[i].ETag || o.Revision != before[i].Revision || o.ContentType != before[i].ContentType ||
			string(full.Body) != map[string]string{"a.ics": "A", "b.vcf": "B"}[o.Name] {
			t.Errorf("%s after the index load: seal_v %d, sealed_rev %d, %+v, %v; before %+v", o.Name, v, sealedRev, full, err, before[i])
		}
	}
	if all, _, err = s.Index(ctx, c.ID); err != nil || len(all) != 2 {
		t.Fatalf("index after the upgrade: %v, %v", all, err)
	}
	exec(t, db, `UPDATE object_bodies SET body_sealed = ? WHERE object_id = (SELECT id FROM objects WHERE etag = ?)`, legacyBody, before[1].ETag)
	if _, err := s.Object(ctx, c.ID, before[1].Name, ReadOptions{Body: true}); !errors.Is(err, ErrDamaged) {
		t.Errorf("the old body put back after the upgrade: %v, want ErrDamaged", err)
	}
	res, err := s.PutObject(ctx, c.ID, PutOptions{Name: "a.ics", UID: "ua", ContentType: "text/calendar", Body: []byte("A2")})
	if err != nil {
		t.Fatal(err)
	}
	var v, sealedRev int64
	if err := db.read.QueryRow(`SELECT seal_v, sealed_rev FROM objects WHERE collection_id = ? AND etag = ?`, c.ID, res.Object.ETag).Scan(&v, &sealedRev); err != nil {
		t.Fatal(err)
	}
	if v != sealCurrent || sealedRev != res.Object.Revision {
		t.Errorf("after a write: seal_v %d, sealed_rev %d; want %d, %d", v, sealedRev, sealCurrent, res.Object.Revision)
	}
	var conflict *UIDConflict
	if _, err := s.PutObject(ctx, c.ID, PutOptions{Name: "c.vcf", UID: "ub", Body: []byte("C")}); !errors.As(err, &conflict) || conflict.Name != "b.vcf" {
		t.Errorf("a new object with an old row's UID: %v", err)
	}
}
