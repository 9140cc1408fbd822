package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/coffer-dav/coffer/encryption"
)

// testSpace opens a fresh database with one account and returns its space.
func testSpace(t testing.TB) (*DB, Space, string) {
	t.Helper()
	dir := t.TempDir()
	db, err := Open(context.Background(), filepath.Join(dir, "coffer.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, newUserSpace(t, db, "alice"), dir
}

func newUserSpace(t testing.TB, db *DB, name string) Space {
	t.Helper()
	key, _ := encryption.NewUserKey()
	keys, err := encryption.NewKeyring(key)
	if err != nil {
		t.Fatal(err)
	}
	acct, err := db.CreateAccount(context.Background(), NewAccount{Username: name,
		Slots: func(int64) (map[string]encryption.Slot, error) { return nil, nil }})
	if err != nil {
		t.Fatal(err)
	}
	return db.Space(acct.ID, keys)
}

func mustCollection(t *testing.T, s Space, name string) *Collection {
	t.Helper()
	c, err := s.CreateCollection(context.Background(), NewCollection{Home: HomeCalendars, Name: name, Kind: KindCalendar,
		Props: Props{"{DAV:}displayname": []byte("<D:displayname>Work MARKER-COLL</D:displayname>")}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestPutObjectRules(t *testing.T) {
	_, s, _ := testSpace(t)
	ctx := context.Background()
	c := mustCollection(t, s, "work")
	first, err := s.PutObject(ctx, c.ID, PutOptions{Name: "a@b.ics", UID: "uid-1", ContentType: "text/calendar", Body: []byte("one"), IfNoneMatch: true})
	if err != nil || !first.Created {
		t.Fatalf("create: %+v, %v", first, err)
	}
	tests := []struct {
		name    string
		put     PutOptions
		err     error
		created bool
	}{
		{"If-None-Match on existing", PutOptions{Name: "a@b.ics", UID: "uid-1", Body: []byte("two"), IfNoneMatch: true}, ErrPrecondition, false},
		{"stale If-Match", PutOptions{Name: "a@b.ics", UID: "uid-1", Body: []byte("two"), IfMatch: "nope"}, ErrPrecondition, false},
		{"If-Match on missing", PutOptions{Name: "new.ics", UID: "uid-9", Body: []byte("two"), IfMatch: first.Object.ETag}, ErrPrecondition, false},
		{"duplicate UID", PutOptions{Name: "other.ics", UID: "uid-1", Body: []byte("two")}, &UIDConflict{Name: "a@b.ics"}, false},
		{"matching If-Match", PutOptions{Name: "a@b.ics", UID: "uid-1", Body: []byte("two"), IfMatch: first.Object.ETag}, nil, false},
		{"If-Match star", PutOptions{Name: "a@b.ics", UID: "uid-1", Body: []byte("three"), IfMatch: "*"}, nil, false},
		{"no UID", PutOptions{Name: "plain.txt", Body: []byte("x")}, nil, true},
		{"second no UID", PutOptions{Name: "plain2.txt", Body: []byte("x")}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, _ := s.Object(ctx, c.ID, "a@b.ics", ReadOptions{Body: true})
			res, err := s.PutObject(ctx, c.ID, tt.put)
			var conflict *UIDConflict
			switch want := tt.err.(type) {
			case nil:
				if err != nil || res.Created != tt.created {
					t.Fatalf("PutObject = %+v, %v", res, err)
				}
				got, err := s.Object(ctx, c.ID, tt.put.Name, ReadOptions{Body: true})
				if err != nil || !bytes.Equal(got.Body, tt.put.Body) || got.ETag != res.Object.ETag {
					t.Fatalf("read back %+v, %v", got, err)
				}
			case *UIDConflict:
				if !errors.As(err, &conflict) || conflict.Name != want.Name {
					t.Fatalf("PutObject = %v, want UID conflict with %s", err, want.Name)
				}
			default:
				if !errors.Is(err, tt.err) {
					t.Fatalf("PutObject = %v, want %v", err, tt.err)
				}
			}
			if tt.err != nil {
				after, _ := s.Object(ctx, c.ID, "a@b.ics", ReadOptions{Body: true})
				if after.ETag != before.ETag || !bytes.Equal(after.Body, before.Body) || after.Revision != before.Revision {
					t.Fatal("a refused write changed the object")
				}
			}
		})
	}
}

func TestChangeLog(t *testing.T) {
	_, s, _ := testSpace(t)
	ctx := context.Background()
	c := mustCollection(t, s, "work")
	put := func(name, body string) int64 {
		r, err := s.PutObject(ctx, c.ID, PutOptions{Name: name, Body: []byte(body)})
		if err != nil {
			t.Fatal(err)
		}
		return r.Object.Revision
	}
	put("a.ics", "1")
	put("b.ics", "1")
	_, rev0, err := s.Changes(ctx, c.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	put("a.ics", "2")
	if err := s.DeleteObject(ctx, c.ID, "b.ics", DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	put("c.ics", "1")
	changes, rev, err := s.Changes(ctx, c.ID, rev0)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		name    string
		deleted bool
	}{{"a.ics", false}, {"b.ics", true}, {"c.ics", false}}
	if len(changes) != len(want) {
		t.Fatalf("changes since %d: %+v", rev0, changes)
	}
	for i, w := range want {
		if changes[i].Name != w.name || changes[i].Deleted != w.deleted || (changes[i].ETag == "") == !w.deleted {
			t.Errorf("change %d = %+v, want %+v", i, changes[i], w)
		}
	}
	if rev <= rev0 {
		t.Fatalf("revision did not rise: %d -> %d", rev0, rev)
	}
	// The log keeps one row per name, however often it changes.
	for i := 0; i < 50; i++ {
		put("a.ics", string(rune('a'+i%26)))
	}
	all, _, _ := s.Changes(ctx, c.ID, 0)
	if len(all) != 3 {
		t.Fatalf("log holds %d rows for 3 names", len(all))
	}
	// Deleting twice: the second is not found, and an If-Match on a missing object fails.
	if err := s.DeleteObject(ctx, c.ID, "b.ics", DeleteOptions{}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second delete = %v", err)
	}
	for _, since := range []int64{rev + 1000, -1} {
		if _, _, err := s.Changes(ctx, c.ID, since); !errors.Is(err, ErrBadRevision) {
			t.Errorf("Changes(%d) = %v, want ErrBadRevision", since, err)
		}
	}
	// A token of a deleted collection does not carry over to a new one of the same name.
	if err := s.DeleteCollection(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	c2 := mustCollection(t, s, "work")
	if _, _, err := s.Changes(ctx, c2.ID, rev); !errors.Is(err, ErrBadRevision) {
		t.Fatalf("old token on a recreated collection = %v, want ErrBadRevision", err)
	}
}

func TestPatchCollectionRaisesRevision(t *testing.T) {
	_, s, _ := testSpace(t)
	ctx := context.Background()
	c := mustCollection(t, s, "work")
	if err := s.PatchCollection(ctx, c.ID, PatchOptions{Set: Props{"{A}color": []byte("#ff0000")}, Remove: []string{"{DAV:}displayname"}}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Collection(ctx, HomeCalendars, "work")
	if err != nil || got.Revision <= c.Revision || string(got.Props["{A}color"]) != "#ff0000" || got.Props["{DAV:}displayname"] != nil || len(got.Props) != 1 {
		t.Fatalf("read back %+v, %v", got, err)
	}
	if _, err := s.CreateCollection(ctx, NewCollection{Home: HomeCalendars, Name: "work", Kind: KindCalendar}); !errors.Is(err, ErrExists) {
		t.Fatalf("duplicate collection = %v", err)
	}
}

// TestSpacesAreWalledOff shows that one user's space cannot read, list,
// change or delete another user's collections, even by guessing their ids.
func TestSpacesAreWalledOff(t *testing.T) {
	db, alice, _ := testSpace(t)
	bob := newUserSpace(t, db, "bob")
	ctx := context.Background()
	c := mustCollection(t, alice, "work")
	if _, err := alice.PutObject(ctx, c.ID, PutOptions{Name: "a.ics", Body: []byte("secret")}); err != nil {
		t.Fatal(err)
	}
	if cs, _ := bob.Collections(ctx, HomeCalendars); len(cs) != 0 {
		t.Fatalf("bob lists %d collections", len(cs))
	}
	if _, err := bob.Collection(ctx, HomeCalendars, "work"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("bob finds alice's collection by name: %v", err)
	}
	checks := map[string]error{}
	_, checks["Objects"] = bob.Objects(ctx, c.ID)
	_, checks["Object"] = bob.Object(ctx, c.ID, "a.ics", ReadOptions{Body: true})
	_, checks["PutObject"] = bob.PutObject(ctx, c.ID, PutOptions{Name: "a.ics", Body: []byte("x")})
	checks["DeleteObject"] = bob.DeleteObject(ctx, c.ID, "a.ics", DeleteOptions{})
	_, _, checks["Changes"] = bob.Changes(ctx, c.ID, 0)
	checks["PatchCollection"] = bob.PatchCollection(ctx, c.ID, PatchOptions{Set: Props{"{x}y": nil}})
	checks["DeleteCollection"] = bob.DeleteCollection(ctx, c.ID)
	for op, err := range checks {
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("bob %s on alice's collection = %v, want ErrNotFound", op, err)
		}
	}
	o, err := alice.Object(ctx, c.ID, "a.ics", ReadOptions{Body: true})
	if err != nil || string(o.Body) != "secret" {
		t.Fatalf("alice's object after bob's attempts: %+v, %v", o, err)
	}
}

// TestNoPlaintextOnDisk writes marked records and looks for the markers in
// every file of the data folder.
func TestNoPlaintextOnDisk(t *testing.T) {
	db, s, dir := testSpace(t)
	ctx := context.Background()
	c := mustCollection(t, s, "MARKER-NAME")
	if _, err := s.PutObject(ctx, c.ID, PutOptions{Name: "MARKER-HREF.ics", UID: "MARKER-UID", ContentType: "text/calendar", Body: []byte("SUMMARY:MARKER-BODY")}); err != nil {
		t.Fatal(err)
	}
	if err := s.PatchCollection(ctx, c.ID, PatchOptions{Set: Props{"{DAV:}displayname": []byte("MARKER-PROP")}}); err != nil {
		t.Fatal(err)
	}
	scan := func() {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			b, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(b, []byte("MARKER")) {
				t.Errorf("%s holds a marker in plaintext", e.Name())
			}
			// Sealed or not, the files are the owner's alone.
			if info, err := e.Info(); err != nil || info.Mode().Perm()&0o077 != 0 {
				t.Errorf("%s: mode %v (%v), want no access for group or others", e.Name(), info.Mode(), err)
			}
		}
	}
	scan()
	if err := db.Rebuild(ctx); err != nil {
		t.Fatal(err)
	}
	scan()

	// An app password's sealed label, a notification, and an account whose
	// readable columns carry markers, then purged: after the purge's
	// checkpoint and the rebuild, neither file holds any of it.
	acct, err := db.AccountByUsername(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if err := db.CreateAppPassword(ctx, acct.ID, AppPassword{ID: "app1", LabelSealed: []byte("sealed-label"), Verifier: []byte("v"),
		Slot: encryption.Slot{KDF: "secret$AAAA", Wrapped: []byte("wrapped")}, Created: time.Now()}); err != nil {
		t.Fatal(err)
	}
	scan()
	doomed, err := db.CreateAccount(ctx, NewAccount{Username: "erased-user", Email: "erased@example.org", DisplayName: "ERASED-DISPLAY-NAME",
		Slots: func(int64) (map[string]encryption.Slot, error) { return nil, nil }})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteAccount(ctx, doomed.ID); err != nil {
		t.Fatal(err)
	}
	if err := db.Rebuild(ctx); err != nil {
		t.Fatal(err)
	}
	scan()
	for _, name := range []string{"coffer.db", "coffer.db-wal"} {
		b, _ := os.ReadFile(filepath.Join(dir, name))
		for _, needle := range []string{"ERASED-DISPLAY-NAME", "erased@example.org", "erased-user"} {
			if bytes.Contains(b, []byte(needle)) {
				t.Errorf("%s still holds %q of the purged account", name, needle)
			}
		}
	}
}

func TestDeleteAccountRemovesEverything(t *testing.T) {
	db, s, _ := testSpace(t)
	ctx := context.Background()
	c := mustCollection(t, s, "work")
	if _, err := s.PutObject(ctx, c.ID, PutOptions{Name: "a.ics", Body: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	acct, err := db.AccountByUsername(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteAccount(ctx, acct.ID); err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"accounts", "key_slots", "collections", "objects", "object_bodies", "changes"} {
		var n int
		if err := db.read.QueryRow("SELECT count(*) FROM " + table).Scan(&n); err != nil || n != 0 {
			t.Errorf("%s has %d rows after the delete (%v)", table, n, err)
		}
	}
	if _, err := db.AccountByUsername(ctx, "alice"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted account still found: %v", err)
	}
}

// TestObjectsNamed: a batch lookup answers in the order asked, nil for a
// missing name, the same object for a name asked twice, across batches.
func TestObjectsNamed(t *testing.T) {
	_, s, _ := testSpace(t)
	ctx := context.Background()
	c := mustCollection(t, s, "work")
	var names []string
	for i := range 150 {
		name := fmt.Sprintf("%03d.ics", i)
		if i%10 != 3 { // every tenth is missing
			if _, err := s.PutObject(ctx, c.ID, PutOptions{Name: name, Body: []byte("body " + name), ContentType: "text/calendar"}); err != nil {
				t.Fatal(err)
			}
		}
		names = append([]string{name}, names...) // newest first: not the stored order
	}
	names = append(names, "149.ics", "no-such.ics")
	for _, withBody := range []bool{true, false} {
		got, err := s.ObjectsNamed(ctx, c.ID, names, ReadOptions{Body: withBody})
		if err != nil || len(got) != len(names) {
			t.Fatalf("withBody %v: %d answers (%v), want %d", withBody, len(got), err, len(names))
		}
		for i, name := range names {
			o := got[i]
			missing := name == "no-such.ics" || name[2] == '3'
			switch {
			case missing && o != nil:
				t.Fatalf("%s: found %+v, want nil", name, o)
			case missing:
			case o == nil || o.Name != name || o.ContentType != "text/calendar":
				t.Fatalf("%s: got %+v", name, o)
			case withBody && string(o.Body) != "body "+name, !withBody && o.Body != nil:
				t.Fatalf("%s: body %q with withBody %v", name, o.Body, withBody)
			}
		}
	}
	if _, err := s.ObjectsNamed(ctx, 999, []string{"a"}, ReadOptions{Body: true}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown collection: %v", err)
	}
}
