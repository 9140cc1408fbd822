package storage

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/coffer-dav/coffer/encryption"
)

// propRow is one stored property row, as the database holds it.
type propRow struct {
	value []byte
	rev   int64
}

// ownerRows reads every property row of an owner, by name MAC, leaving out
// the row of the set's digest.
func ownerRows(t *testing.T, db *DB, o propOwner) map[string]propRow {
	t.Helper()
	table, where, key := propTable(o.row)
	rows, err := db.read.Query(`SELECT name_mac, value_sealed, revision FROM `+table+` WHERE `+where, key...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]propRow{}
	for rows.Next() {
		var mac []byte
		var r propRow
		if err := rows.Scan(&mac, &r.value, &r.rev); err != nil {
			t.Fatal(err)
		}
		if len(mac) > 0 {
			out[string(mac)] = r
		}
	}
	return out
}

// propTarget is one kind of resource that holds properties, seen through
// the Space calls that read and patch them.
type propTarget struct {
	name  string
	owner func(t *testing.T, db *DB, s *sealedSpace) propOwner
	patch func(s Space, set Props, remove []string) error
	read  func(s Space) (Props, error)
}

// propTargets sets up a collection "c" with an object "o.ics" in s and
// returns the three kinds of property owners.
func propTargets(t *testing.T, s Space) []propTarget {
	ctx := context.Background()
	c, err := s.CreateCollection(ctx, NewCollection{Home: HomeCalendars, Name: "c", Kind: KindCalendar})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutObject(ctx, c.ID, PutOptions{Name: "o.ics", UID: "u", Body: []byte("BEGIN:VCALENDAR")}); err != nil {
		t.Fatal(err)
	}
	uid := func(t *testing.T, db *DB) []byte {
		var uid []byte
		if err := db.read.QueryRow(`SELECT uid FROM collections WHERE id = ?`, c.ID).Scan(&uid); err != nil {
			t.Fatal(err)
		}
		return uid
	}
	return []propTarget{
		{"collection",
			func(t *testing.T, db *DB, s *sealedSpace) propOwner { return s.collectionOwner(c.ID, uid(t, db)) },
			func(s Space, set Props, remove []string) error {
				return s.PatchCollection(ctx, c.ID, PatchOptions{Set: set, Remove: remove})
			},
			func(s Space) (Props, error) {
				got, err := s.Collection(ctx, HomeCalendars, "c")
				if err != nil {
					return nil, err
				}
				return got.Props, nil
			}},
		{"object",
			func(t *testing.T, db *DB, s *sealedSpace) propOwner {
				u := uid(t, db)
				mac := s.seal.objectMAC(u, "o.ics")
				var id int64
				if err := db.read.QueryRow(`SELECT id FROM objects WHERE collection_id = ? AND name_mac = ?`, c.ID, mac).Scan(&id); err != nil {
					t.Fatal(err)
				}
				return s.objectOwner(id, u, mac)
			},
			func(s Space, set Props, remove []string) error {
				return s.PatchObject(ctx, c.ID, "o.ics", PatchOptions{Set: set, Remove: remove})
			},
			func(s Space) (Props, error) {
				o, err := s.Object(ctx, c.ID, "o.ics", ReadOptions{})
				if err != nil {
					return nil, err
				}
				return o.Props, nil
			}},
		{"home",
			func(t *testing.T, db *DB, s *sealedSpace) propOwner { return s.scopeOwner(ScopeCalendars) },
			func(s Space, set Props, remove []string) error {
				return s.PatchProps(ctx, ScopeCalendars, PatchOptions{Set: set, Remove: remove})
			},
			func(s Space) (Props, error) { return s.Props(ctx, ScopeCalendars) }},
	}
}

// TestPatchWritesOnlyItsProperty: setting or removing one property of a
// resource that holds 60 KB of others leaves every other property's row
// as it was (a value sealed again would differ, its nonce being fresh), so
// the cost of a PROPPATCH does not grow with what is already stored.
func TestPatchWritesOnlyItsProperty(t *testing.T) {
	db, s, _ := testSpace(t)
	for _, tt := range propTargets(t, s) {
		t.Run(tt.name, func(t *testing.T) {
			many := Props{}
			for i := range 30 {
				many[fmt.Sprintf("{urn:x}p%02d", i)] = bytes.Repeat([]byte{'a' + byte(i%26)}, 2000)
			}
			if err := tt.patch(s, many, nil); err != nil {
				t.Fatal(err)
			}
			owner := tt.owner(t, db, s.(*sealedSpace))
			before := ownerRows(t, db, owner)
			if len(before) != 30 {
				t.Fatalf("%d rows for 30 properties", len(before))
			}
			if err := tt.patch(s, Props{"{urn:x}new": []byte("v")}, []string{"{urn:x}p07"}); err != nil {
				t.Fatal(err)
			}
			after := ownerRows(t, db, owner)
			if len(after) != 30 {
				t.Fatalf("%d rows after adding one and removing one of 30", len(after))
			}
			for mac, was := range before {
				now, ok := after[mac]
				if mac == string(s.(*sealedSpace).seal.nameMAC(owner.bind, "{urn:x}p07")) {
					if ok {
						t.Fatal("the removed property's row is still there")
					}
					continue
				}
				if !ok || !bytes.Equal(now.value, was.value) || now.rev != was.rev {
					t.Fatal("a property the patch did not name was written again")
				}
			}
			got, err := tt.read(s)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 30 || string(got["{urn:x}new"]) != "v" || got["{urn:x}p07"] != nil || !bytes.Equal(got["{urn:x}p29"], many["{urn:x}p29"]) {
				t.Fatalf("read back %d properties", len(got))
			}
		})
	}
}

// TestPropertyRowsAreBound: a property's sealed value does not open as
// another property, on another resource, or as its own older value.
func TestPropertyRowsAreBound(t *testing.T) {
	db, s, _ := testSpace(t)
	targets := propTargets(t, s)
	ctx := context.Background()
	for _, tt := range targets {
		if err := tt.patch(s, Props{"{urn:x}a": []byte("first"), "{urn:x}b": []byte("other")}, nil); err != nil {
			t.Fatal(err)
		}
	}
	sp := s.(*sealedSpace)
	coll, obj := targets[0].owner(t, db, sp), targets[1].owner(t, db, sp)
	old := ownerRows(t, db, coll)[string(sp.seal.nameMAC(coll.bind, "{urn:x}a"))]
	var oldDigest propRow
	if err := db.read.QueryRow(`SELECT value_sealed, revision FROM collection_props WHERE collection_id = ? AND name_mac = X''`, coll.row.ID).Scan(&oldDigest.value, &oldDigest.rev); err != nil {
		t.Fatal(err)
	}
	if err := targets[0].patch(s, Props{"{urn:x}a": []byte("second")}, nil); err != nil {
		t.Fatal(err)
	}
	macA, macB := sp.seal.nameMAC(coll.bind, "{urn:x}a"), sp.seal.nameMAC(coll.bind, "{urn:x}b")
	if bytes.Equal(macA, sp.seal.nameMAC(obj.bind, "{urn:x}a")) {
		t.Fatal("one property name has the same key on two resources")
	}
	cases := []struct {
		name   string
		sql    string
		args   []any
		broken string // the table whose owner must fail to open
	}{
		{"an older value put back with its revision", `UPDATE collection_props SET value_sealed = ?, revision = ? WHERE collection_id = ? AND name_mac = ?`,
			[]any{old.value, old.rev, coll.row.ID, macA}, "collection_props"},
		{"a value moved to another property", `UPDATE collection_props SET value_sealed = (SELECT value_sealed FROM collection_props WHERE collection_id = ?1 AND name_mac = ?2) WHERE collection_id = ?1 AND name_mac = ?3`,
			[]any{coll.row.ID, macB, macA}, "collection_props"},
		{"a value moved to another resource", `UPDATE object_props SET value_sealed = (SELECT value_sealed FROM collection_props WHERE collection_id = ?1 AND name_mac = ?2),
			revision = (SELECT revision FROM collection_props WHERE collection_id = ?1 AND name_mac = ?2) WHERE object_id = ?3 AND name_mac = ?4`,
			[]any{coll.row.ID, macA, obj.row.ID, sp.seal.nameMAC(obj.bind, "{urn:x}a")}, "object_props"},
		{"a row deleted", `DELETE FROM collection_props WHERE collection_id = ? AND name_mac = ?`, []any{coll.row.ID, macB}, "collection_props"},
		{"the digest deleted", `DELETE FROM object_props WHERE object_id = ? AND name_mac = X''`, []any{obj.row.ID}, "object_props"},
		{"the digest put back from before the last patch", `UPDATE collection_props SET value_sealed = ?, revision = ? WHERE collection_id = ? AND name_mac = X''`,
			[]any{oldDigest.value, oldDigest.rev, coll.row.ID}, "collection_props"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tx, err := db.write.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback()
			if res, err := tx.Exec(tc.sql, tc.args...); err != nil {
				t.Fatal(err)
			} else if n, _ := res.RowsAffected(); n != 1 {
				t.Fatalf("%d rows changed", n)
			}
			// Read through the transaction, which sees the change.
			for _, o := range []propOwner{coll, obj} {
				err := sp.loadProps(ctx, sqliteRows{q: tx}, o, Props{})
				table, _, _ := propTable(o.row)
				if broken := table == tc.broken; broken != errors.Is(err, ErrDamaged) || (!broken && err != nil) {
					t.Fatalf("%s: broken %v, read error %v", table, broken, err)
				}
			}
		})
	}
}

// legacySet seals p whole, as every property set was sealed before rows.
func legacySet(t *testing.T, s *sealedSpace, ad encryption.AD, p Props) []byte {
	t.Helper()
	plain, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return s.seal.keys.Seal(ad, plain)
}

// undoPropertyRows puts every property of the spaces back into the whole
// sealed sets of the schema before 0007, drops the rows' tables, and undoes
// the migrations after it, back to schema version 6.
func undoPropertyRows(t *testing.T, db *DB, spaces ...Space) {
	t.Helper()
	ctx := context.Background()
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.write.ExecContext(ctx, q, args...); err != nil {
			t.Fatal(err)
		}
	}
	for _, sp := range spaces {
		undoSpace(t, db, sp.(*sealedSpace), exec)
	}
	exec(`DROP TABLE collection_props; DROP TABLE object_props; DROP TABLE scope_props;
		DROP INDEX changes_tombstones; ALTER TABLE collections DROP COLUMN tombstones; ALTER TABLE collections DROP COLUMN forgotten_rev;
		ALTER TABLE objects DROP COLUMN seal_v; ALTER TABLE objects DROP COLUMN sealed_rev; ALTER TABLE objects DROP COLUMN uid_sealed;
		` + droppedColumnsBack + `
		PRAGMA user_version = 6`)
}

func undoSpace(t *testing.T, db *DB, s *sealedSpace, exec func(string, ...any)) {
	t.Helper()
	ctx := context.Background()
	type owner struct {
		id       int64
		uid, mac []byte
	}
	list := func(q string) []owner {
		rows, err := db.read.QueryContext(ctx, q, s.user)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []owner
		for rows.Next() {
			var o owner
			if err := rows.Scan(&o.id, &o.uid, &o.mac); err != nil {
				t.Fatal(err)
			}
			out = append(out, o)
		}
		return out
	}
	props := func(o propOwner) Props {
		p := Props{}
		if err := s.loadProps(ctx, db.Reader(), o, p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, c := range list(`SELECT id, uid, X'' FROM collections WHERE account_id = ?`) {
		exec(`UPDATE collections SET props_sealed = ? WHERE id = ?`, legacySet(t, s, s.seal.ad(c.uid, nil, fieldCollectionProps), props(s.collectionOwner(c.id, c.uid))), c.id)
	}
	for _, o := range list(`SELECT o.id, c.uid, o.name_mac FROM objects o JOIN collections c ON c.id = o.collection_id WHERE c.account_id = ?`) {
		if p := props(s.objectOwner(o.id, o.uid, o.mac)); len(p) > 0 {
			exec(`UPDATE objects SET props_sealed = ? WHERE id = ?`, legacySet(t, s, s.seal.ad(o.uid, o.mac, fieldObjectProps), p), o.id)
		}
	}
	for _, scope := range []Scope{ScopePrincipal, ScopeCalendars, ScopeAddressBooks} {
		if p := props(s.scopeOwner(scope)); len(p) > 0 {
			exec(`INSERT INTO account_props (account_id, scope, props_sealed, bytes) VALUES (?, ?, ?, ?)`, s.user, string(scope), legacySet(t, s, s.seal.scopeBinding(scope).legacy, p), p.Size())
		}
	}
}

// TestLegacyPropertySetsMoveToRows: property sets sealed whole before rows
// existed read as they were after the migration, and move to rows, with
// their exact sizes, at the next patch of their resource.
func TestLegacyPropertySetsMoveToRows(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "coffer.db")
	db, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	db.legacySeal = true // the content as the schema before 0007 had it, since undoPropertyRows goes back there
	s := newUserSpace(t, db, "alice")
	targets := propTargets(t, s)
	want := Props{"{urn:x}a": []byte("<a xmlns='urn:x'>1</a>"), "{urn:x}b": []byte("two")}
	for _, tt := range targets {
		if err := tt.patch(s, want, nil); err != nil {
			t.Fatal(err)
		}
	}
	usage, _ := s.Usage(ctx)
	undoPropertyRows(t, db, s)
	keys, user := s.(*sealedSpace).seal.keys, s.(*sealedSpace).user
	db.Close()

	if db, err = Open(ctx, path, Options{}); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s = db.Space(user, keys)
	for _, tt := range targets {
		t.Run(tt.name, func(t *testing.T) {
			if len(ownerRows(t, db, tt.owner(t, db, s.(*sealedSpace)))) != 0 {
				t.Fatal("rows before any patch")
			}
			got, err := tt.read(s)
			if err != nil || len(got) != 2 || !bytes.Equal(got["{urn:x}a"], want["{urn:x}a"]) {
				t.Fatalf("legacy set read back as %v, %v", got, err)
			}
			if err := tt.patch(s, Props{"{urn:x}c": []byte("3")}, []string{"{urn:x}b"}); err != nil {
				t.Fatal(err)
			}
			if n := len(ownerRows(t, db, tt.owner(t, db, s.(*sealedSpace)))); n != 2 {
				t.Fatalf("%d rows after the first patch, want 2", n)
			}
			got, err = tt.read(s)
			if err != nil || len(got) != 2 || !bytes.Equal(got["{urn:x}a"], want["{urn:x}a"]) || string(got["{urn:x}c"]) != "3" {
				t.Fatalf("after the patch: %v, %v", got, err)
			}
		})
	}
	var left int
	if err := db.read.QueryRow(`SELECT (SELECT count(*) FROM objects WHERE props_sealed IS NOT NULL) + (SELECT count(*) FROM collections WHERE length(props_sealed) > 0) + (SELECT count(*) FROM account_props)`).Scan(&left); err != nil || left != 0 {
		t.Fatalf("%d whole sets left after every resource was patched (%v)", left, err)
	}
	// Each of the three lost "{urn:x}b" (3+8 bytes) and gained "{urn:x}c" (1+8).
	if now, _ := s.Usage(ctx); now != usage-3*2 {
		t.Fatalf("usage %d, want %d", now, usage-6)
	}
}
