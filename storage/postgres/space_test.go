package postgres_test

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"path/filepath"
	"reflect"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/coffer-dav/coffer/encryption"
	"github.com/coffer-dav/coffer/storage"
	"github.com/coffer-dav/coffer/storage/postgres"
	"github.com/coffer-dav/coffer/storage/storagetest"
	"github.com/jackc/pgx/v5"
	_ "github.com/mattn/go-sqlite3" // to read SQLite's schema
)

// openEngine opens the database dsn names, closed when the test ends.
func openEngine(t *testing.T, dsn string) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(context.Background(), dsn, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// engineAccount creates an account without key slots and returns its id.
func engineAccount(t *testing.T, db *postgres.DB, username string) int64 {
	t.Helper()
	a, err := db.CreateAccount(context.Background(), storage.NewAccount{Username: username,
		Slots: func(int64) (map[string]encryption.Slot, error) { return nil, nil }})
	if err != nil {
		t.Fatal(err)
	}
	return a.ID
}

// update runs fn in an Update of account and fails the test on an error.
func update(t *testing.T, db *postgres.DB, account int64, fn func(w storage.RowWriter) error) {
	t.Helper()
	if err := db.Update(context.Background(), account, fn); err != nil {
		t.Fatal(err)
	}
}

// sqlCount returns the number of rows a query counts, through a
// connection of its own.
func sqlCount(t *testing.T, dsn, query string, args ...any) int64 {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int64
	if err := conn.QueryRow(ctx, query, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// sqlExec runs a statement through a connection of its own.
func sqlExec(t *testing.T, dsn, query string, args ...any) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, query, args...); err != nil {
		t.Fatal(err)
	}
}

// collectionRow returns a collection row of account with every field set.
func collectionRow(account int64, name string, props []byte) storage.CollectionRow {
	return storage.CollectionRow{Account: account, Home: storage.HomeCalendars, Kind: storage.KindCalendar,
		UID: []byte("uid-" + name), NameMAC: []byte("mac-" + name), NameSealed: []byte("sealed-" + name), PropsSealed: props,
		PropsBytes: 11, Revision: 12, CreatedRev: 13, ForgottenRev: 14, Created: 1700000000, ObjectCount: 15, ObjectBytes: 16}
}

// insertCollection adds a collection row and returns it with its id.
func insertCollection(t *testing.T, db *postgres.DB, c storage.CollectionRow) storage.CollectionRow {
	t.Helper()
	update(t, db, c.Account, func(w storage.RowWriter) error {
		var err error
		c.ID, err = w.InsertCollection(context.Background(), &c)
		return err
	})
	return c
}

// objectRow returns an object row of collection, named name, with every
// field set and the nullable ones to what fill gives.
func objectRow(collection int64, name string, fill func(string) []byte) storage.ObjectRow {
	return storage.ObjectRow{Collection: collection, NameMAC: []byte("mac-" + name), NameSealed: []byte("sealed-" + name),
		UIDMAC: fill("uid-mac-" + name), ETag: "etag-" + name, CtypeSealed: []byte("ctype"), BodySealed: fill("body"),
		PropsSealed: fill("props"), IndexSealed: fill("index"), UIDSealed: fill("uid"),
		Size: 21, MetaBytes: 22, Modified: 1700000001, Revision: 23, SealV: 1, SealedRev: 24}
}

// The ways the nullable byte fields are filled.
var (
	nilBytes   = func(string) []byte { return nil }
	emptyBytes = func(string) []byte { return []byte{} }
	someBytes  = func(what string) []byte { return []byte("some-" + what) }
)

// TestEngineRoundTrip: every field of every row comes back as written,
// nil (NULL) and empty bytes each as they were.
func TestEngineRoundTrip(t *testing.T) {
	dsn := storagetest.Postgres(t)
	db := openEngine(t, dsn)
	ctx := context.Background()
	acct := engineAccount(t, db, "alice")

	t.Run("collections", func(t *testing.T) {
		tests := []struct {
			name  string
			props []byte
		}{
			{"empty props", []byte{}},
			{"sealed props", []byte("sealed whole")},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				want := insertCollection(t, db, collectionRow(acct, tc.name, tc.props))
				reads := map[string]func() (*storage.CollectionRow, error){
					"by id": func() (*storage.CollectionRow, error) { return db.Reader().CollectionByID(ctx, acct, want.ID) },
					"by mac": func() (*storage.CollectionRow, error) {
						c, _, err := db.Reader().CollectionNamed(ctx, acct, want.NameMAC)
						return c, err
					},
					"listed": func() (*storage.CollectionRow, error) {
						all, err := db.Reader().Collections(ctx, acct, storage.HomeCalendars)
						for i := range all {
							if all[i].ID == want.ID {
								return &all[i], err
							}
						}
						return nil, err
					},
					"in a view": func() (got *storage.CollectionRow, err error) {
						err = db.View(ctx, func(r storage.RowReader) error {
							got, err = r.CollectionByID(ctx, acct, want.ID)
							return err
						})
						return got, err
					},
				}
				for how, read := range reads {
					got, err := read()
					if err != nil || got == nil || !reflect.DeepEqual(*got, want) {
						t.Errorf("%s: %#v, %v; want %#v", how, got, err, want)
					}
				}
			})
		}
	})

	coll := insertCollection(t, db, collectionRow(acct, "objects", []byte{}))
	t.Run("objects", func(t *testing.T) {
		tests := []struct {
			name string
			fill func(string) []byte
		}{
			{"nil", nilBytes},
			{"empty", emptyBytes},
			{"set", someBytes},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				want := objectRow(coll.ID, tc.name, tc.fill)
				update(t, db, acct, func(w storage.RowWriter) error {
					var err error
					want.ID, err = w.InsertObject(ctx, &want)
					return err
				})
				check := func(t *testing.T, want storage.ObjectRow) {
					t.Helper()
					got, err := db.Reader().Objects(ctx, coll.ID, storage.ObjectQuery{NameMACs: [][]byte{want.NameMAC}, Body: true})
					if err != nil || len(got) != 1 || !reflect.DeepEqual(got[0], want) {
						t.Errorf("with body: %#v, %v; want %#v", got, err, want)
					}
					got, err = db.Reader().Objects(ctx, coll.ID, storage.ObjectQuery{NameMACs: [][]byte{want.NameMAC}})
					want.BodySealed = nil
					if err != nil || len(got) != 1 || !reflect.DeepEqual(got[0], want) {
						t.Errorf("without body: %#v, %v; want %#v", got, err, want)
					}
				}
				check(t, want)
				// Rewritten with every field changed, nullable ones the other way round.
				changed := objectRow(coll.ID, tc.name, map[string]func(string) []byte{"nil": someBytes, "empty": nilBytes, "set": emptyBytes}[tc.name])
				changed.ID, changed.NameSealed, changed.ETag, changed.CtypeSealed = want.ID, []byte("renamed"), "etag-2", []byte{}
				changed.Size, changed.MetaBytes, changed.Modified, changed.Revision, changed.SealV, changed.SealedRev = 31, 32, 33, 34, 0, 35
				update(t, db, acct, func(w storage.RowWriter) error { return w.UpdateObject(ctx, &changed) })
				check(t, changed)
			})
		}
	})

	t.Run("changes", func(t *testing.T) {
		obj := objectRow(coll.ID, "changed", someBytes)
		update(t, db, acct, func(w storage.RowWriter) error {
			var err error
			if obj.ID, err = w.InsertObject(ctx, &obj); err != nil {
				return err
			}
			if err := w.PutChange(ctx, coll.ID, storage.ChangeRow{NameMAC: obj.NameMAC, NameSealed: []byte("logged"), Revision: 1 << 50}); err != nil {
				return err
			}
			return w.PutChange(ctx, coll.ID, storage.ChangeRow{NameMAC: []byte("gone"), NameSealed: []byte{}, Revision: 1<<50 + 1, Deleted: true})
		})
		c, got, err := db.Reader().Changes(ctx, acct, coll.ID, 1<<50-1)
		if err == nil && c.ID != coll.ID {
			t.Errorf("Changes read collection %d, want %d", c.ID, coll.ID)
		}
		obj.BodySealed, obj.PropsSealed = nil, nil // a change's object comes without them
		want := []storage.ChangeRow{
			{NameMAC: obj.NameMAC, NameSealed: []byte("logged"), Revision: 1 << 50, Object: &obj},
			{NameMAC: []byte("gone"), NameSealed: []byte{}, Revision: 1<<50 + 1, Deleted: true},
		}
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("Changes = %#v, %v; want %#v", got, err, want)
		}
	})

	t.Run("properties", func(t *testing.T) {
		var obj storage.ObjectRow
		update(t, db, acct, func(w storage.RowWriter) error {
			obj = objectRow(coll.ID, "with props", someBytes)
			var err error
			obj.ID, err = w.InsertObject(ctx, &obj)
			return err
		})
		owners := []struct {
			name  string
			owner storage.PropOwner
			many  func() ([]storage.PropRow, error) // the reads of several owners
		}{
			{"collection", storage.PropOwner{Table: storage.PropsOfCollection, ID: coll.ID},
				func() ([]storage.PropRow, error) { return db.Reader().CollectionProps(ctx, []int64{coll.ID}) }},
			{"object", storage.PropOwner{Table: storage.PropsOfObject, ID: obj.ID},
				func() ([]storage.PropRow, error) {
					rows, err := db.Reader().Objects(ctx, coll.ID, storage.ObjectQuery{Props: true})
					var props []storage.PropRow
					for _, r := range rows {
						props = append(props, r.Props...)
					}
					return props, err
				}},
			{"scope", storage.PropOwner{Table: storage.PropsOfScope, ID: acct, Scope: storage.ScopeCalendars}, nil},
		}
		for _, o := range owners {
			t.Run(o.name, func(t *testing.T) {
				// The digest row's name MAC is empty; a value may be empty too.
				want := []storage.PropRow{
					{Owner: o.owner.ID, NameMAC: []byte{}, ValueSealed: []byte("digest"), Bytes: 0, Revision: 41},
					{Owner: o.owner.ID, NameMAC: []byte("a"), ValueSealed: []byte{}, Bytes: 42, Revision: 43},
					{Owner: o.owner.ID, NameMAC: []byte("b"), ValueSealed: []byte("value"), Bytes: 44, Revision: 45},
				}
				update(t, db, acct, func(w storage.RowWriter) error {
					for _, p := range want {
						if err := w.PutProp(ctx, o.owner, storage.PropRow{NameMAC: p.NameMAC, ValueSealed: []byte("replaced"), Bytes: 1, Revision: 1}); err != nil {
							return err
						}
						if err := w.PutProp(ctx, o.owner, p); err != nil {
							return err
						}
					}
					return nil
				})
				got, err := db.Reader().Props(ctx, o.owner)
				if err != nil || !reflect.DeepEqual(got, want) {
					t.Errorf("Props = %#v, %v; want %#v", got, err, want)
				}
				if o.many != nil {
					if got, err := o.many(); err != nil || !reflect.DeepEqual(got, want) {
						t.Errorf("read with others = %#v, %v; want %#v", got, err, want)
					}
				}
				for _, p := range want {
					if got, err := db.Reader().Prop(ctx, o.owner, p.NameMAC); err != nil || !reflect.DeepEqual(*got, p) {
						t.Errorf("Prop(%q) = %#v, %v; want %#v", p.NameMAC, got, err, p)
					}
				}
				update(t, db, acct, func(w storage.RowWriter) error {
					got, err := w.DeleteProp(ctx, o.owner, []byte{})
					if err != nil || !reflect.DeepEqual(*got, want[0]) {
						t.Errorf("DeleteProp(digest) = %#v, %v; want %#v", got, err, want[0])
					}
					if _, err := w.Prop(ctx, o.owner, []byte{}); !errors.Is(err, storage.ErrNotFound) {
						t.Errorf("Prop after DeleteProp: %v, want ErrNotFound", err)
					}
					return w.ClearProps(ctx, o.owner)
				})
				if got, err := db.Reader().Props(ctx, o.owner); err != nil || len(got) != 0 {
					t.Errorf("Props after ClearProps = %#v, %v", got, err)
				}
			})
		}
	})

	t.Run("scope legacy", func(t *testing.T) {
		r := db.Reader()
		if got, err := r.ScopeLegacy(ctx, acct, storage.ScopePrincipal); got != nil || err != nil {
			t.Fatalf("ScopeLegacy with none = %q, %v", got, err)
		}
		sqlExec(t, dsn, `INSERT INTO account_props (account_id, scope, props_sealed, bytes) VALUES ($1, $2, $3, 7)`, acct, "principal", []byte{})
		if got, err := r.ScopeLegacy(ctx, acct, storage.ScopePrincipal); got == nil || len(got) != 0 || err != nil {
			t.Fatalf("ScopeLegacy of an empty set = %#v, %v; want empty, not nil", got, err)
		}
		update(t, db, acct, func(w storage.RowWriter) error {
			got, err := w.TakeScopeLegacy(ctx, acct, storage.ScopePrincipal)
			if got == nil || len(got) != 0 || err != nil {
				t.Errorf("TakeScopeLegacy = %#v, %v; want empty, not nil", got, err)
			}
			if got, err := w.TakeScopeLegacy(ctx, acct, storage.ScopePrincipal); got != nil || err != nil {
				t.Errorf("TakeScopeLegacy again = %#v, %v; want nil", got, err)
			}
			return nil
		})
	})
}

// TestEngineObjectQueries: which objects a query selects, and in what order.
func TestEngineObjectQueries(t *testing.T) {
	dsn := storagetest.Postgres(t)
	db := openEngine(t, dsn)
	ctx := context.Background()
	acct := engineAccount(t, db, "alice")
	coll := insertCollection(t, db, collectionRow(acct, "c", []byte{}))
	other := insertCollection(t, db, collectionRow(acct, "other", []byte{}))
	// Five objects, written in the order of their names, with revisions
	// falling, so that revision and id orders differ; b and d in seal
	// version 0; c without a body row.
	var ids []int64
	update(t, db, acct, func(w storage.RowWriter) error {
		for i, name := range []string{"a", "b", "c", "d", "e"} {
			o := objectRow(coll.ID, name, someBytes)
			o.UIDMAC, o.Revision = []byte("uid-"+name), int64(100-i)
			if name == "b" || name == "d" {
				o.SealV = 0
			}
			if name == "c" {
				o.BodySealed = nil
			}
			id, err := w.InsertObject(ctx, &o)
			if err != nil {
				return err
			}
			ids = append(ids, id)
			if err := w.PutProp(ctx, storage.PropOwner{Table: storage.PropsOfObject, ID: id}, storage.PropRow{NameMAC: []byte("p"), ValueSealed: []byte(name)}); err != nil {
				return err
			}
		}
		o := objectRow(other.ID, "a", someBytes)
		_, err := w.InsertObject(ctx, &o)
		return err
	})
	names := func(rows []storage.ObjectRow) (out []string) {
		for _, o := range rows {
			out = append(out, string(o.NameMAC[len("mac-"):]))
		}
		return out
	}
	tests := []struct {
		name string
		q    storage.ObjectQuery
		want []string
	}{
		{"all, by revision", storage.ObjectQuery{}, []string{"e", "d", "c", "b", "a"}},
		{"named", storage.ObjectQuery{NameMACs: [][]byte{[]byte("mac-b"), []byte("mac-x"), []byte("mac-a"), nil}}, []string{"b", "a"}},
		{"no names", storage.ObjectQuery{NameMACs: [][]byte{}}, nil},
		{"legacy, by id", storage.ObjectQuery{LegacyOnly: true}, []string{"b", "d"}},
		{"legacy after b", storage.ObjectQuery{LegacyOnly: true, After: ids[1]}, []string{"d"}},
		{"legacy, one", storage.ObjectQuery{LegacyOnly: true, Limit: 1}, []string{"b"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := db.Reader().Objects(ctx, coll.ID, tc.q)
			if err != nil || !reflect.DeepEqual(names(got), tc.want) {
				t.Fatalf("Objects = %v, %v; want %v", names(got), err, tc.want)
			}
		})
	}
	t.Run("missing body", func(t *testing.T) {
		got, err := db.Reader().Objects(ctx, coll.ID, storage.ObjectQuery{NameMACs: [][]byte{[]byte("mac-c")}, Body: true})
		if err != nil || len(got) != 1 || got[0].BodySealed != nil {
			t.Fatalf("Objects = %#v, %v; want one without a body", got, err)
		}
	})

	propTests := []struct {
		name string
		q    storage.ObjectQuery
		want []string // each object's property values, in the objects' order
	}{
		{"all", storage.ObjectQuery{Props: true}, []string{"e", "d", "c", "b", "a"}},
		{"named, with bodies", storage.ObjectQuery{NameMACs: [][]byte{[]byte("mac-d"), []byte("mac-a")}, Body: true, Props: true}, []string{"d", "a"}},
		{"not asked for", storage.ObjectQuery{NameMACs: [][]byte{[]byte("mac-a")}}, []string{""}},
	}
	for _, tc := range propTests {
		t.Run("props "+tc.name, func(t *testing.T) {
			got, err := db.Reader().Objects(ctx, coll.ID, tc.q)
			var values []string
			for _, o := range got {
				v := ""
				for _, p := range o.Props {
					if p.Owner != o.ID || string(p.NameMAC) != "p" {
						t.Errorf("object %s has property row %+v", o.NameMAC, p)
					}
					v += string(p.ValueSealed)
				}
				values = append(values, v)
			}
			if err != nil || !reflect.DeepEqual(values, tc.want) {
				t.Fatalf("the objects' properties = %v, %v; want %v", values, err, tc.want)
			}
		})
	}
	if got, err := db.Reader().Objects(ctx, other.ID, storage.ObjectQuery{Props: true}); err != nil || len(got) != 1 || len(got[0].Props) != 0 {
		t.Fatalf("the properties of another collection's object = %+v, %v", got, err)
	}

	uidTests := []struct {
		name   string
		uids   [][]byte
		except [][]byte
		want   string // "" for ErrNotFound
	}{
		{"held", [][]byte{[]byte("uid-x"), []byte("uid-c")}, [][]byte{[]byte{}}, "c"},
		{"by itself", [][]byte{[]byte("uid-c")}, [][]byte{[]byte("mac-c")}, ""},
		{"a nil in except", [][]byte{[]byte("uid-c")}, [][]byte{nil, []byte("mac-a")}, "c"},
		{"no except", [][]byte{[]byte("uid-c")}, nil, "c"},
		{"none", [][]byte{[]byte("uid-x")}, nil, ""},
		{"no uids", nil, nil, ""},
	}
	for _, tc := range uidTests {
		t.Run("uid "+tc.name, func(t *testing.T) {
			mac, sealed, err := db.Reader().UIDHolder(ctx, coll.ID, tc.uids, tc.except)
			if tc.want == "" {
				if !errors.Is(err, storage.ErrNotFound) {
					t.Fatalf("UIDHolder = %q, %v; want ErrNotFound", mac, err)
				}
				return
			}
			if err != nil || string(mac) != "mac-"+tc.want || string(sealed) != "sealed-"+tc.want {
				t.Fatalf("UIDHolder = %q, %q, %v; want %s", mac, sealed, err, tc.want)
			}
		})
	}

	t.Run("reseal", func(t *testing.T) {
		tests := []struct {
			name string
			id   int64
			want bool
		}{
			{"legacy", ids[1], true},
			{"again", ids[1], false},
			{"current", ids[0], false},
			{"gone", -1, false},
		}
		for _, tc := range tests {
			o := storage.ObjectRow{ID: tc.id, SealV: 1, SealedRev: 77, CtypeSealed: []byte("c2"), IndexSealed: nil, UIDSealed: []byte{},
				UIDMAC: []byte("uid-b2"), BodySealed: []byte{}}
			update(t, db, acct, func(w storage.RowWriter) error {
				ok, err := w.ResealObject(ctx, &o)
				if err != nil || ok != tc.want {
					t.Errorf("%s: ResealObject = %v, %v; want %v", tc.name, ok, err, tc.want)
				}
				return nil
			})
		}
		got, err := db.Reader().Objects(ctx, coll.ID, storage.ObjectQuery{NameMACs: [][]byte{[]byte("mac-b")}, Body: true})
		if err != nil || len(got) != 1 {
			t.Fatalf("Objects = %v, %v", got, err)
		}
		o := got[0]
		if o.SealV != 1 || o.SealedRev != 77 || string(o.CtypeSealed) != "c2" || o.IndexSealed != nil || o.UIDSealed == nil || len(o.UIDSealed) != 0 ||
			string(o.UIDMAC) != "uid-b2" || o.BodySealed == nil || len(o.BodySealed) != 0 || o.Revision != 99 || o.ETag != "etag-b" {
			t.Fatalf("resealed row %#v", o)
		}
	})
}

// TestEngineErrors: the engine's answers for a row that is not there and
// for a collection name taken, and an Update undone by its error.
func TestEngineErrors(t *testing.T) {
	dsn := storagetest.Postgres(t)
	db := openEngine(t, dsn)
	ctx := context.Background()
	acct := engineAccount(t, db, "alice")
	bob := engineAccount(t, db, "bob")
	coll := insertCollection(t, db, collectionRow(acct, "c", []byte{}))
	second := insertCollection(t, db, collectionRow(acct, "second", []byte{}))
	theirs := insertCollection(t, db, collectionRow(bob, "c", []byte{})) // the same MAC, another account
	obj := objectRow(coll.ID, "o", someBytes)
	update(t, db, acct, func(w storage.RowWriter) error {
		var err error
		obj.ID, err = w.InsertObject(ctx, &obj)
		return err
	})
	objOwner := storage.PropOwner{Table: storage.PropsOfObject, ID: obj.ID}

	write := func(fn func(w storage.RowWriter) error) func() error {
		return func() error { return db.Update(ctx, acct, fn) }
	}
	read := func(fn func(r storage.RowReader) error) func() error {
		return func() error { return fn(db.Reader()) }
	}
	tests := []struct {
		name string
		run  func() error
		want error
	}{
		{"name taken", write(func(w storage.RowWriter) error {
			c := collectionRow(acct, "c", []byte{})
			_, err := w.InsertCollection(ctx, &c)
			return err
		}), storage.ErrExists},
		{"the transaction goes on after a name taken", write(func(w storage.RowWriter) error {
			c := collectionRow(acct, "c", []byte{})
			if _, err := w.InsertCollection(ctx, &c); !errors.Is(err, storage.ErrExists) {
				return err
			}
			c = collectionRow(acct, "fresh", []byte{})
			_, err := w.InsertCollection(ctx, &c)
			return err
		}), nil},
		{"renamed onto a name taken", write(func(w storage.RowWriter) error {
			return w.RenameCollection(ctx, second.ID, storage.HomeCalendars, coll.NameMAC, []byte("x"), 1)
		}), storage.ErrExists},
		{"renamed to its own name", write(func(w storage.RowWriter) error {
			return w.RenameCollection(ctx, second.ID, storage.HomeAddressBooks, second.NameMAC, []byte("x"), 1)
		}), nil},
		{"rename of none", write(func(w storage.RowWriter) error {
			return w.RenameCollection(ctx, -1, storage.HomeCalendars, []byte("n"), []byte("x"), 1)
		}), storage.ErrNotFound},
		{"an account missing", func() error {
			return db.Update(ctx, -1, func(storage.RowWriter) error { return nil })
		}, storage.ErrNotFound},
		{"next revision of an account missing", write(func(w storage.RowWriter) error {
			_, err := w.NextRevision(ctx, -1)
			return err
		}), storage.ErrNotFound},
		{"collection by id missing", read(func(r storage.RowReader) error {
			_, err := r.CollectionByID(ctx, acct, -1)
			return err
		}), storage.ErrNotFound},
		{"another account's collection by id", read(func(r storage.RowReader) error {
			_, err := r.CollectionByID(ctx, acct, theirs.ID)
			return err
		}), storage.ErrNotFound},
		{"collection by mac missing", read(func(r storage.RowReader) error {
			_, _, err := r.CollectionNamed(ctx, acct, []byte("none"))
			return err
		}), storage.ErrNotFound},
		{"property missing", read(func(r storage.RowReader) error {
			_, err := r.Prop(ctx, objOwner, []byte("none"))
			return err
		}), storage.ErrNotFound},
		{"delete of a property missing", write(func(w storage.RowWriter) error {
			_, err := w.DeleteProp(ctx, objOwner, []byte("none"))
			return err
		}), storage.ErrNotFound},
		{"delete of another account's collection", write(func(w storage.RowWriter) error {
			if err := w.DeleteCollection(ctx, acct, theirs.ID); err != nil {
				return err
			}
			_, err := w.CollectionByID(ctx, bob, theirs.ID) // still there
			return err
		}), nil},
		{"delete of an object missing", write(func(w storage.RowWriter) error {
			return w.DeleteObject(ctx, coll.ID, []byte("none"))
		}), nil},
		{"nil collection properties stored empty", write(func(w storage.RowWriter) error {
			c := collectionRow(acct, "nil props", nil)
			id, err := w.InsertCollection(ctx, &c)
			if err != nil {
				return err
			}
			got, err := w.CollectionByID(ctx, acct, id)
			if err == nil && (got.PropsSealed == nil || len(got.PropsSealed) != 0) {
				err = errors.New("PropsSealed not empty")
			}
			return err
		}), nil},
		{"update of an object missing", write(func(w storage.RowWriter) error {
			o := obj
			o.ID = -1
			return w.UpdateObject(ctx, &o)
		}), storage.ErrNotFound},
		{"object in a collection missing", write(func(w storage.RowWriter) error {
			o := objectRow(-1, "x", someBytes)
			_, err := w.InsertObject(ctx, &o)
			return err
		}), storage.ErrNotFound},
		{"meta of an object missing", write(func(w storage.RowWriter) error { return w.SetObjectMeta(ctx, -1, 1, 1) }), storage.ErrNotFound},
		{"counts of a collection missing", write(func(w storage.RowWriter) error { return w.MoveCounts(ctx, -1, 1, 1, 1) }), storage.ErrNotFound},
		{"counted revision of a collection missing", write(func(w storage.RowWriter) error {
			_, err := w.NextCountedRevision(ctx, acct, -1, 1, 1)
			return err
		}), storage.ErrNotFound},
		{"props of a collection missing", write(func(w storage.RowWriter) error { return w.SetCollectionProps(ctx, -1, 1, 1) }), storage.ErrNotFound},
		{"tombstones of a collection missing", write(func(w storage.RowWriter) error {
			_, err := w.AddTombstones(ctx, -1, 1)
			return err
		}), storage.ErrNotFound},
		{"owner of an unknown table", read(func(r storage.RowReader) error {
			_, err := r.Props(ctx, storage.PropOwner{Table: 99, ID: 1})
			return err
		}), errors.New("any")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run()
			switch {
			case tc.want == nil && err != nil:
				t.Fatalf("err = %v, want none", err)
			case tc.want == storage.ErrExists || tc.want == storage.ErrNotFound:
				if !errors.Is(err, tc.want) {
					t.Fatalf("err = %v, want %v", err, tc.want)
				}
			case tc.want != nil && err == nil:
				t.Fatal("no error")
			}
		})
	}

	t.Run("an error undoes the update", func(t *testing.T) {
		before, err := db.Reader().Counts(ctx, acct, coll.ID)
		if err != nil {
			t.Fatal(err)
		}
		boom := errors.New("boom")
		err = db.Update(ctx, acct, func(w storage.RowWriter) error {
			rev, err := w.NextRevision(ctx, acct)
			if err != nil {
				return err
			}
			if err := w.MoveCounts(ctx, coll.ID, rev, 5, 500); err != nil {
				return err
			}
			c := collectionRow(acct, "undone", []byte{})
			if _, err := w.InsertCollection(ctx, &c); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("Update = %v, want boom", err)
		}
		after, err := db.Reader().Counts(ctx, acct, coll.ID)
		if err != nil || after != before {
			t.Fatalf("Counts = %+v, %v; want %+v as before", after, err, before)
		}
		got, err := db.Reader().CollectionByID(ctx, acct, coll.ID)
		if err != nil || got.Revision != coll.Revision {
			t.Fatalf("revision %d after an undone update (%v), want %d", got.Revision, err, coll.Revision)
		}
	})
}

// TestEngineCascade: deleting a collection removes its objects, their
// bodies and properties, its change log and its properties; deleting the
// account removes the rest.
func TestEngineCascade(t *testing.T) {
	dsn := storagetest.Postgres(t)
	db := openEngine(t, dsn)
	ctx := context.Background()
	acct := engineAccount(t, db, "alice")
	kept := insertCollection(t, db, collectionRow(acct, "kept", []byte{}))
	gone := insertCollection(t, db, collectionRow(acct, "gone", []byte{}))
	fill := func(w storage.RowWriter, c storage.CollectionRow) error {
		for _, name := range []string{"a", "b"} {
			o := objectRow(c.ID, name, someBytes)
			o.UIDMAC = []byte("uid-" + name)
			id, err := w.InsertObject(ctx, &o)
			if err != nil {
				return err
			}
			if err := w.PutProp(ctx, storage.PropOwner{Table: storage.PropsOfObject, ID: id}, storage.PropRow{NameMAC: []byte("p"), ValueSealed: []byte("v")}); err != nil {
				return err
			}
			if err := w.PutChange(ctx, c.ID, storage.ChangeRow{NameMAC: o.NameMAC, NameSealed: o.NameSealed, Revision: o.Revision}); err != nil {
				return err
			}
		}
		return w.PutProp(ctx, storage.PropOwner{Table: storage.PropsOfCollection, ID: c.ID}, storage.PropRow{NameMAC: []byte{}, ValueSealed: []byte("d")})
	}
	update(t, db, acct, func(w storage.RowWriter) error {
		if err := fill(w, kept); err != nil {
			return err
		}
		if err := fill(w, gone); err != nil {
			return err
		}
		return w.PutProp(ctx, storage.PropOwner{Table: storage.PropsOfScope, ID: acct, Scope: storage.ScopePrincipal}, storage.PropRow{NameMAC: []byte("s"), ValueSealed: []byte("v")})
	})
	// The database is this test's alone: every row is alice's.
	tables := []string{"collections", "objects", "object_bodies", "object_props", "changes", "collection_props", "scope_props"}
	counts := func() map[string]int64 {
		out := map[string]int64{}
		for _, table := range tables {
			out[table] = sqlCount(t, dsn, `SELECT count(*) FROM `+table)
		}
		return out
	}
	steps := []struct {
		name string
		run  func(w storage.RowWriter) error
		want map[string]int64
	}{
		{"before", func(storage.RowWriter) error { return nil },
			map[string]int64{"collections": 2, "objects": 4, "object_bodies": 4, "object_props": 4, "changes": 4, "collection_props": 2, "scope_props": 1}},
		{"a collection deleted", func(w storage.RowWriter) error { return w.DeleteCollection(ctx, acct, gone.ID) },
			map[string]int64{"collections": 1, "objects": 2, "object_bodies": 2, "object_props": 2, "changes": 2, "collection_props": 1, "scope_props": 1}},
		{"an object deleted", func(w storage.RowWriter) error { return w.DeleteObject(ctx, kept.ID, []byte("mac-a")) },
			map[string]int64{"collections": 1, "objects": 1, "object_bodies": 1, "object_props": 1, "changes": 2, "collection_props": 1, "scope_props": 1}},
	}
	for _, s := range steps {
		update(t, db, acct, s.run)
		if got := counts(); !reflect.DeepEqual(got, s.want) {
			t.Fatalf("%s: rows %v, want %v", s.name, got, s.want)
		}
	}
	if err := db.DeleteAccount(ctx, acct); err != nil {
		t.Fatal(err)
	}
	for table, n := range counts() {
		if n != 0 {
			t.Errorf("%d rows of %s outlive their account", n, table)
		}
	}
}

// TestEngineChangeLog: the change log keeps the latest change of each
// name, counts deletions, and forgets the oldest ones.
func TestEngineChangeLog(t *testing.T) {
	dsn := storagetest.Postgres(t)
	db := openEngine(t, dsn)
	ctx := context.Background()
	acct := engineAccount(t, db, "alice")
	coll := insertCollection(t, db, collectionRow(acct, "c", []byte{}))
	// collectionRow notes a forgotten revision; start from none.
	sqlExec(t, dsn, `UPDATE collections SET forgotten_rev = 0 WHERE id = $1`, coll.ID)
	// log writes one change of a name at rev and keeps the deletions
	// counted, as the sealed layer does.
	log := func(w storage.RowWriter, name string, rev int64, deleted bool) error {
		mac := []byte(name)
		found, was, err := w.LastChange(ctx, coll.ID, mac)
		if err != nil {
			return err
		}
		if err := w.PutChange(ctx, coll.ID, storage.ChangeRow{NameMAC: mac, NameSealed: []byte("s-" + name), Revision: rev, Deleted: deleted}); err != nil {
			return err
		}
		step := int64(0)
		switch {
		case deleted && (!found || !was):
			step = 1
		case !deleted && found && was:
			step = -1
		}
		if step != 0 {
			_, err = w.AddTombstones(ctx, coll.ID, step)
		}
		return err
	}
	update(t, db, acct, func(w storage.RowWriter) error {
		for i, c := range []struct {
			name    string
			deleted bool
		}{
			{"a", false}, {"b", true}, {"c", true}, {"a", true}, {"d", true}, {"c", false}, {"e", true},
		} {
			if err := log(w, c.name, int64(101+i), c.deleted); err != nil {
				return err
			}
		}
		return nil
	})
	type entry struct {
		name    string
		rev     int64
		deleted bool
	}
	changes := func(since int64) (out []entry) {
		t.Helper()
		_, got, err := db.Reader().Changes(ctx, acct, coll.ID, since)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range got {
			if c.Object != nil {
				t.Errorf("change of %s has an object", c.NameMAC)
			}
			if string(c.NameSealed) != "s-"+string(c.NameMAC) {
				t.Errorf("change of %s has the sealed name %q", c.NameMAC, c.NameSealed)
			}
			out = append(out, entry{string(c.NameMAC), c.Revision, c.Deleted})
		}
		return out
	}
	lookups := []struct {
		name           string
		found, deleted bool
	}{
		{"a", true, true}, {"c", true, false}, {"x", false, false},
	}
	update(t, db, acct, func(w storage.RowWriter) error {
		for _, l := range lookups {
			found, deleted, err := w.LastChange(ctx, coll.ID, []byte(l.name))
			if err != nil || found != l.found || deleted != l.deleted {
				t.Errorf("LastChange(%s) = %v, %v, %v; want %v, %v", l.name, found, deleted, err, l.found, l.deleted)
			}
		}
		return nil
	})
	steps := []struct {
		name       string
		forget     int64
		since      int64
		want       []entry
		tombstones int64
		forgotten  int64
	}{
		{"all", 0, 0, []entry{{"b", 102, true}, {"a", 104, true}, {"d", 105, true}, {"c", 106, false}, {"e", 107, true}}, 4, 0},
		{"since", 0, 104, []entry{{"d", 105, true}, {"c", 106, false}, {"e", 107, true}}, 4, 0},
		{"forget none", 0, 0, []entry{{"b", 102, true}, {"a", 104, true}, {"d", 105, true}, {"c", 106, false}, {"e", 107, true}}, 4, 0},
		{"forget two", 2, 0, []entry{{"d", 105, true}, {"c", 106, false}, {"e", 107, true}}, 2, 104},
		{"forget more than there are", 5, 0, []entry{{"c", 106, false}}, 0, 107},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			update(t, db, acct, func(w storage.RowWriter) error { return w.ForgetTombstones(ctx, coll.ID, s.forget) })
			if got := changes(s.since); !reflect.DeepEqual(got, s.want) {
				t.Errorf("Changes(%d) = %v, want %v", s.since, got, s.want)
			}
			got, err := db.Reader().CollectionByID(ctx, acct, coll.ID)
			if err != nil || got.ForgottenRev != s.forgotten {
				t.Errorf("ForgottenRev = %d (%v), want %d", got.ForgottenRev, err, s.forgotten)
			}
			if n := sqlCount(t, dsn, `SELECT tombstones FROM collections WHERE id = $1`, coll.ID); n != s.tombstones {
				t.Errorf("tombstones = %d, want %d", n, s.tombstones)
			}
		})
	}
	// The forgotten revision never falls.
	update(t, db, acct, func(w storage.RowWriter) error {
		if err := log(w, "f", 50, true); err != nil {
			return err
		}
		return w.ForgetTombstones(ctx, coll.ID, 1)
	})
	if got, err := db.Reader().CollectionByID(ctx, acct, coll.ID); err != nil || got.ForgottenRev != 107 {
		t.Fatalf("ForgottenRev = %d (%v), want 107 still", got.ForgottenRev, err)
	}
}

// TestEngineCountsUsage: Counts and Usage sum what SQLite's queries do:
// the totals kept on collection rows, property rows and legacy scope sets.
func TestEngineCountsUsage(t *testing.T) {
	dsn := storagetest.Postgres(t)
	db := openEngine(t, dsn)
	ctx := context.Background()
	acct := engineAccount(t, db, "alice")
	bob := engineAccount(t, db, "bob")
	a := insertCollection(t, db, collectionRow(acct, "a", []byte{}))     // 15 objects, 16 + 11 bytes
	b := insertCollection(t, db, collectionRow(acct, "b", []byte{}))     // likewise
	theirs := insertCollection(t, db, collectionRow(bob, "a", []byte{})) // another account's
	update(t, db, acct, func(w storage.RowWriter) error {
		if err := w.MoveCounts(ctx, a.ID, 50, 2, 100); err != nil {
			return err
		}
		if err := w.SetCollectionProps(ctx, b.ID, 5, 51); err != nil {
			return err
		}
		for _, p := range []storage.PropRow{{NameMAC: []byte("x"), ValueSealed: []byte("v"), Bytes: 1000}, {NameMAC: []byte{}, ValueSealed: []byte("d")}} {
			if err := w.PutProp(ctx, storage.PropOwner{Table: storage.PropsOfScope, ID: acct, Scope: storage.ScopeCalendars}, p); err != nil {
				return err
			}
		}
		return w.PutProp(ctx, storage.PropOwner{Table: storage.PropsOfScope, ID: acct, Scope: storage.ScopePrincipal}, storage.PropRow{NameMAC: []byte("y"), Bytes: 20000, ValueSealed: []byte{}})
	})
	sqlExec(t, dsn, `INSERT INTO account_props (account_id, scope, props_sealed, bytes) VALUES ($1, 'calendars', '\x00', 300000)`, acct)
	sqlExec(t, dsn, `INSERT INTO account_props (account_id, scope, props_sealed, bytes) VALUES ($1, 'calendars', '\x00', 7)`, bob)

	tests := []struct {
		name       string
		account    int64
		collection int64
		want       storage.Counts
	}{
		{"moved", acct, a.ID, storage.Counts{Collections: 2, Objects: 17, Bytes: 116 + 11}},
		{"props set", acct, b.ID, storage.Counts{Collections: 2, Objects: 15, Bytes: 16 + 5}},
		{"no collection", acct, 0, storage.Counts{Collections: 2}},
		{"another account's", acct, theirs.ID, storage.Counts{Collections: 2}},
		{"the other account", bob, theirs.ID, storage.Counts{Collections: 1, Objects: 15, Bytes: 16 + 11}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got, err := db.Reader().Counts(ctx, tc.account, tc.collection); err != nil || got != tc.want {
				t.Fatalf("Counts = %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
	if got, err := db.Reader().Usage(ctx, acct); err != nil || got != 127+21+1000+20000+300000 {
		t.Fatalf("Usage = %d, %v; want %d", got, err, 127+21+1000+20000+300000)
	}
	scopes := []struct {
		scope storage.Scope
		want  int64
	}{
		{storage.ScopeCalendars, 301000}, {storage.ScopePrincipal, 20000}, {storage.ScopeAddressBooks, 0},
	}
	for _, s := range scopes {
		if got, err := db.Reader().ScopeBytes(ctx, acct, s.scope); err != nil || got != s.want {
			t.Errorf("ScopeBytes(%s) = %d, %v; want %d", s.scope, got, err, s.want)
		}
	}
	if got, err := db.Reader().Usage(ctx, -1); err != nil || got != 0 {
		t.Fatalf("Usage of no account = %d, %v", got, err)
	}
	c, err := db.Reader().CollectionByID(ctx, acct, b.ID)
	if err != nil || c.PropsSealed == nil || len(c.PropsSealed) != 0 || c.PropsBytes != 5 || c.Revision != 51 {
		t.Fatalf("after SetCollectionProps: %#v, %v", c, err)
	}
}

// TestEngineViewSnapshot: every read of a View sees one snapshot, while
// Reader sees each commit.
func TestEngineViewSnapshot(t *testing.T) {
	dsn := storagetest.Postgres(t)
	db := openEngine(t, dsn)
	ctx := context.Background()
	acct := engineAccount(t, db, "alice")
	insertCollection(t, db, collectionRow(acct, "a", []byte{}))
	count := func(r storage.RowReader) int {
		t.Helper()
		all, err := r.Collections(ctx, acct, "")
		if err != nil {
			t.Fatal(err)
		}
		return len(all)
	}
	err := db.View(ctx, func(r storage.RowReader) error {
		before := count(r)
		insertCollection(t, db, collectionRow(acct, "b", []byte{}))
		if n := count(db.Reader()); n != before+1 {
			t.Errorf("Reader sees %d collections, want %d", n, before+1)
		}
		if n := count(r); n != before {
			t.Errorf("the view sees %d collections, want %d as at its start", n, before)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := db.Reader().(storage.RowWriter); ok {
		t.Error("Reader's reader is a RowWriter")
	}
}

// TestEngineRevisionsConcurrent: writes of one account from two pools draw
// distinct, rising revisions, and a reader that follows the change log
// with the collection's revision as its token never misses a change: no
// change commits with a revision at or below one a reader already saw.
func TestEngineRevisionsConcurrent(t *testing.T) {
	dsn := storagetest.Postgres(t)
	pools := []*postgres.DB{openEngine(t, dsn), openEngine(t, dsn)}
	ctx := context.Background()
	acct := engineAccount(t, pools[0], "alice")
	coll := insertCollection(t, pools[0], collectionRow(acct, "c", []byte{}))
	const writers, writes = 4, 50

	// follow reads the change log from a token on, until stop, and
	// returns the names it saw and the last token.
	type follower struct {
		name string
		read func(r storage.RowReader, since int64) (rev int64, names [][]byte, err error)
	}
	inView := func(db *postgres.DB) func(storage.RowReader, int64) (int64, [][]byte, error) {
		return func(_ storage.RowReader, since int64) (rev int64, names [][]byte, err error) {
			err = db.View(ctx, func(r storage.RowReader) error {
				c, err := r.CollectionByID(ctx, acct, coll.ID)
				if err != nil {
					return err
				}
				_, changes, err := r.Changes(ctx, acct, coll.ID, since)
				if err != nil {
					return err
				}
				rev = c.Revision
				for _, ch := range changes {
					names = append(names, ch.NameMAC)
				}
				return nil
			})
			return rev, names, err
		}
	}
	// Without a snapshot the token must be read before the changes.
	tokenFirst := func(r storage.RowReader, since int64) (int64, [][]byte, error) {
		c, err := r.CollectionByID(ctx, acct, coll.ID)
		if err != nil {
			return 0, nil, err
		}
		_, changes, err := r.Changes(ctx, acct, coll.ID, since)
		var names [][]byte
		for _, ch := range changes {
			names = append(names, ch.NameMAC)
		}
		return c.Revision, names, err
	}
	// Changes alone: its collection row is of the statement's own snapshot.
	oneStatement := func(r storage.RowReader, since int64) (int64, [][]byte, error) {
		c, changes, err := r.Changes(ctx, acct, coll.ID, since)
		if err != nil {
			return 0, nil, err
		}
		var names [][]byte
		for _, ch := range changes {
			names = append(names, ch.NameMAC)
		}
		return c.Revision, names, nil
	}
	followers := []follower{
		{"view on pool 0", inView(pools[0])},
		{"view on pool 1", inView(pools[1])},
		{"token first", tokenFirst},
		{"one statement", oneStatement},
	}

	stop := make(chan struct{})
	type seen struct {
		names map[string]bool
		token int64
		reads int
		err   error
	}
	results := make([]seen, len(followers))
	var readers sync.WaitGroup
	for i, f := range followers {
		readers.Add(1)
		go func() {
			defer readers.Done()
			s := seen{names: map[string]bool{}, token: coll.Revision}
			r := pools[i%2].Reader()
			for done := false; !done; {
				select {
				case <-stop:
					done = true // one more read after the writers are done
				default:
				}
				rev, names, err := f.read(r, s.token)
				if err != nil {
					s.err = err
					break
				}
				for _, n := range names {
					s.names[string(n)] = true
				}
				s.token, s.reads = rev, s.reads+1
			}
			results[i] = s
		}()
	}

	revs := make([][]int64, writers)
	errs := make([]error, writers)
	var wg sync.WaitGroup
	for g := 0; g < writers; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			db := pools[g%2]
			for i := 0; i < writes; i++ {
				err := db.Update(ctx, acct, func(w storage.RowWriter) error {
					rev, err := w.NextRevision(ctx, acct)
					if err != nil {
						return err
					}
					mac := binary.BigEndian.AppendUint64([]byte("obj-"), uint64(rev))
					o := storage.ObjectRow{Collection: coll.ID, NameMAC: mac, NameSealed: []byte("n"), ETag: "e", CtypeSealed: []byte{}, BodySealed: []byte("b"),
						Size: 1, Revision: rev, SealV: 1, SealedRev: rev}
					if _, err := w.InsertObject(ctx, &o); err != nil {
						return err
					}
					if i%3 == 0 {
						time.Sleep(time.Millisecond) // a commit held back while others queue
					}
					if err := w.PutChange(ctx, coll.ID, storage.ChangeRow{NameMAC: mac, NameSealed: []byte("n"), Revision: rev}); err != nil {
						return err
					}
					if err := w.MoveCounts(ctx, coll.ID, rev, 1, 1); err != nil {
						return err
					}
					revs[g] = append(revs[g], rev)
					return nil
				})
				if err != nil {
					errs[g] = err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	readers.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}

	all := map[int64]bool{}
	var highest int64
	for g, rs := range revs {
		for i, r := range rs {
			if all[r] {
				t.Errorf("revision %d drawn twice", r)
			}
			all[r] = true
			if i > 0 && r <= rs[i-1] {
				t.Errorf("writer %d drew %d after %d", g, r, rs[i-1])
			}
			highest = max(highest, r)
		}
	}
	if len(all) != writers*writes {
		t.Fatalf("%d revisions, want %d", len(all), writers*writes)
	}
	if int64(len(all)) != highest-minOf(all)+1 {
		t.Errorf("revisions from %d to %d skip some: %d drawn", minOf(all), highest, len(all))
	}
	objects, err := pools[0].Reader().Objects(ctx, coll.ID, storage.ObjectQuery{})
	if err != nil || len(objects) != writers*writes {
		t.Fatalf("%d objects (%v), want %d", len(objects), err, writers*writes)
	}
	for i, f := range followers {
		s := results[i]
		if s.err != nil {
			t.Fatalf("%s: %v", f.name, s.err)
		}
		if s.token != highest {
			t.Errorf("%s: last token %d, want %d", f.name, s.token, highest)
		}
		missed := 0
		for _, o := range objects {
			if o.Revision <= s.token && !s.names[string(o.NameMAC)] {
				missed++
			}
		}
		if missed > 0 {
			t.Errorf("%s: %d changes at or below a token it held never seen, in %d reads", f.name, missed, s.reads)
		}
		t.Logf("%s: %d reads", f.name, s.reads)
	}
}

// minOf returns the smallest key of a set.
func minOf(set map[int64]bool) int64 {
	first, low := true, int64(0)
	for k := range set {
		if first || k < low {
			first, low = false, k
		}
	}
	return low
}

// TestEngineUpdateLock: an Update of an account waits for the one before
// it to commit, on another pool too, and sees what it wrote; a sign-in's
// session, which refers to the account, does not wait for it; another
// account's Update does not either.
func TestEngineUpdateLock(t *testing.T) {
	dsn := storagetest.Postgres(t)
	a, b := openEngine(t, dsn), openEngine(t, dsn)
	ctx := context.Background()
	acct := engineAccount(t, a, "alice")
	bob := engineAccount(t, a, "bob")
	coll := insertCollection(t, a, collectionRow(acct, "c", []byte{}))

	started := make(chan struct{})
	second := make(chan int64, 1)
	var firstRev int64
	err := a.Update(ctx, acct, func(w storage.RowWriter) error {
		rev, err := w.NextRevision(ctx, acct)
		if err != nil {
			return err
		}
		firstRev = rev
		if err := w.MoveCounts(ctx, coll.ID, rev, 1, 1); err != nil {
			return err
		}
		go func() {
			close(started)
			err := b.Update(ctx, acct, func(w storage.RowWriter) error {
				c, err := w.CollectionByID(ctx, acct, coll.ID)
				if err != nil {
					return err
				}
				second <- c.Revision
				return nil
			})
			if err != nil {
				t.Error(err)
				second <- 0
			}
		}()
		<-started
		select {
		case <-second:
			t.Error("a second Update of the account ran while the first was open")
		case <-time.After(200 * time.Millisecond):
		}
		// What else may go on meanwhile.
		others := map[string]func(ctx context.Context) error{
			"a session of the account": func(ctx context.Context) error {
				return b.CreateSession(ctx, storage.Session{IDMAC: []byte("session"), Account: acct, Slot: encryption.Slot{KDF: "x", Wrapped: []byte("w")},
					Created: time.Now(), Seen: time.Now(), Expires: time.Now().Add(time.Hour)})
			},
			"another account's update": func(ctx context.Context) error {
				return b.Update(ctx, bob, func(w storage.RowWriter) error {
					_, err := w.NextRevision(ctx, bob)
					return err
				})
			},
		}
		for name, run := range others {
			ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			if err := run(ctx); err != nil {
				t.Errorf("%s while an Update is open: %v", name, err)
			}
			cancel()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case rev := <-second:
		if rev != firstRev {
			t.Fatalf("the second Update read revision %d, want the first's %d", rev, firstRev)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the second Update did not run once the first committed")
	}
}

// TestSpaceColumnsMatchSQLite: the Space tables have the columns of
// SQLite's, no more and no fewer, each NULL where SQLite's may be, so that
// a copy moves every value and a column added to one schema is not
// forgotten in the other.
func TestSpaceColumnsMatchSQLite(t *testing.T) {
	dsn := storagetest.Postgres(t)
	ctx := context.Background()
	openEngine(t, dsn) // migrates
	path := filepath.Join(t.TempDir(), "coffer.db")
	lite, err := storage.Open(ctx, path, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	lite.Close()
	sdb, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer sdb.Close()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, table := range []string{"collections", "objects", "object_bodies", "changes", "collection_props", "object_props", "scope_props", "account_props"} {
		t.Run(table, func(t *testing.T) {
			// Each column with whether it may be NULL: a key column may not.
			rows, err := sdb.QueryContext(ctx, `SELECT name || CASE WHEN "notnull" = 0 AND pk = 0 THEN ' null' ELSE '' END FROM pragma_table_info(?)`, table)
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for rows.Next() {
				var name string
				if err := rows.Scan(&name); err != nil {
					t.Fatal(err)
				}
				want = append(want, name)
			}
			rows.Close()
			prows, err := conn.Query(ctx, `SELECT column_name || CASE WHEN is_nullable = 'YES' THEN ' null' ELSE '' END
				FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1`, table)
			if err != nil {
				t.Fatal(err)
			}
			got, err := pgx.CollectRows(prows, pgx.RowTo[string])
			if err != nil {
				t.Fatal(err)
			}
			sort.Strings(want)
			sort.Strings(got)
			if len(want) == 0 || !reflect.DeepEqual(got, want) {
				t.Fatalf("PostgreSQL's columns %v, SQLite's %v", got, want)
			}
		})
	}
}
