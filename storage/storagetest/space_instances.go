package storagetest

import (
	"context"
	"errors"
	"testing"

	"github.com/coffer-dav/coffer/storage"
)

// SpacePairs opens a fresh database with two engines on it and returns
// what makes a new user and gives that user's space on each engine.
type SpacePairs func(t *testing.T) func(t *testing.T, username string) (a, b storage.Space)

// spaceInstanceCase is one behaviour of one user's spaces on two engines
// sharing a database.
type spaceInstanceCase struct {
	name string
	run  func(t *testing.T, a, b storage.Space)
}

// spaceInstanceCases are the behaviours SpaceInstances checks.
var spaceInstanceCases = []spaceInstanceCase{
	{"instances/writes are seen", testSpaceWritesSeen},
	{"instances/a cached index follows the other's writes", testIndexAcrossInstances},
	{"instances/a reader of changes among writers", func(t *testing.T, a, b storage.Space) { concurrentSync(t, []storage.Space{a, b}) }},
	{"instances/reads are snapshots of one revision", func(t *testing.T, a, b storage.Space) { concurrentSnapshots(t, []storage.Space{a, b}) }},
	{"instances/racing writes have one winner", func(t *testing.T, a, b storage.Space) { racingWrites(t, []storage.Space{a, b}) }},
}

// SpaceInstances runs the part of the Space contract that concerns several
// processes on one database: what one engine's space commits, the other's
// reads at its next call, whatever either keeps in memory (the index
// cache), and their concurrent writes and reads keep the guarantees they
// keep within one engine. open makes a fresh database for each case.
func SpaceInstances(t *testing.T, open SpacePairs) {
	for _, c := range spaceInstanceCases {
		t.Run(c.name, func(t *testing.T) {
			a, b := open(t)(t, "alice")
			c.run(t, a, b)
		})
	}
}

// testSpaceWritesSeen: every kind of write through one engine is what the
// other reads next, collections, objects, properties and the change log.
func testSpaceWritesSeen(t *testing.T, a, b storage.Space) {
	ctx := context.Background()
	c := mustCollection(t, a, "work")
	var x *storage.PutResult
	steps := []struct {
		name  string
		write func()
		check func(t *testing.T, s storage.Space) // on the engine that did not write
	}{
		{"a collection created", func() {}, func(t *testing.T, s storage.Space) {
			got, err := s.Collection(ctx, storage.HomeCalendars, "work")
			if err != nil || got.ID != c.ID || propString(got.Props) != mustCollectionProps || got.Revision != c.Revision {
				t.Fatalf("Collection = %+v, %v; created %+v", got, err, c)
			}
			if names := collectionNames(t, s, storage.HomeCalendars); names != "work" {
				t.Fatalf("listed %q", names)
			}
		}},
		{"an object put", func() { x = putBody(t, a, c.ID, "x.ics", "uid-x", "one") }, func(t *testing.T, s storage.Space) {
			if o := mustObject(t, s, c.ID, "x.ics"); string(o.Body) != "one" || o.ETag != x.Object.ETag {
				t.Fatalf("read %+v", o)
			}
			if changes, rev := mustChanges(t, s, c.ID, c.Revision); changeString(changes) != "x.ics="+x.Object.ETag || rev != x.Object.Revision {
				t.Fatalf("Changes = %s at %d", changeString(changes), rev)
			}
		}},
		{"the object replaced", func() { x = putBody(t, b, c.ID, "x.ics", "uid-x", "two") }, func(t *testing.T, s storage.Space) {
			if o := mustObject(t, s, c.ID, "x.ics"); string(o.Body) != "two" || o.ETag != x.Object.ETag || o.Revision != x.Object.Revision {
				t.Fatalf("read %+v, written %+v", o, x.Object)
			}
			_, err := s.PutObject(ctx, c.ID, storage.PutOptions{Name: "y.ics", UID: "uid-x", Body: []byte("y")})
			var conflict *storage.UIDConflict
			if !errors.As(err, &conflict) || conflict.Name != "x.ics" {
				t.Fatalf("a PUT of x.ics's UID = %v, want a conflict with it", err)
			}
		}},
		{"properties patched", func() {
			if err := b.PatchObject(ctx, c.ID, "x.ics", storage.PatchOptions{Set: storage.Props{"{urn:x}o": []byte("v")}}); err != nil {
				t.Fatal(err)
			}
			if err := b.PatchCollection(ctx, c.ID, storage.PatchOptions{Set: storage.Props{"{urn:x}c": []byte("v")}}); err != nil {
				t.Fatal(err)
			}
			if err := b.PatchProps(ctx, storage.ScopePrincipal, storage.PatchOptions{Set: storage.Props{"{urn:x}p": []byte("v")}}); err != nil {
				t.Fatal(err)
			}
		}, func(t *testing.T, s storage.Space) {
			o := mustObject(t, s, c.ID, "x.ics")
			got, err := s.Collection(ctx, storage.HomeCalendars, "work")
			if err != nil {
				t.Fatal(err)
			}
			p, err := s.Props(ctx, storage.ScopePrincipal)
			if err != nil || propString(o.Props) != "{urn:x}o=v" || o.ETag != x.Object.ETag || propString(got.Props) != mustCollectionProps+" {urn:x}c=v" ||
				got.Revision <= o.Revision || propString(p) != "{urn:x}p=v" {
				t.Fatalf("object %+v, collection %+v, principal %s (%v)", o, got, propString(p), err)
			}
		}},
		{"the object deleted", func() {
			if err := a.DeleteObject(ctx, c.ID, "x.ics", storage.DeleteOptions{IfMatch: x.Object.ETag}); err != nil {
				t.Fatal(err)
			}
		}, func(t *testing.T, s storage.Space) {
			_, err := s.Object(ctx, c.ID, "x.ics", storage.ReadOptions{})
			wantNotFound(t, "the deleted object", err)
			if changes, _ := mustChanges(t, s, c.ID, x.Object.Revision); changeString(changes) != "x.ics deleted" {
				t.Fatalf("Changes = %s", changeString(changes))
			}
		}},
		{"its UID given again", func() { putBody(t, b, c.ID, "y.ics", "uid-x", "its UID is free") }, func(t *testing.T, s storage.Space) {
			if o := mustObject(t, s, c.ID, "y.ics"); string(o.Body) != "its UID is free" {
				t.Fatalf("read %+v", o)
			}
		}},
		{"the collection deleted", func() {
			if err := a.DeleteCollection(ctx, c.ID); err != nil {
				t.Fatal(err)
			}
		}, func(t *testing.T, s storage.Space) {
			_, err := s.Collection(ctx, storage.HomeCalendars, "work")
			wantNotFound(t, "the deleted collection", err)
			wantGone(t, s, c.ID, "y.ics")
		}},
	}
	for _, st := range steps {
		st.write()
		for _, s := range []struct {
			name  string
			space storage.Space
		}{{"a", a}, {"b", b}} {
			t.Run(st.name+", read on "+s.name, func(t *testing.T) { st.check(t, s.space) })
		}
	}
	const left = 8 + 1 // {urn:x}p=v: the collection went with what it held
	ua, errA := a.Usage(ctx)
	ub, errB := b.Usage(ctx)
	if errA != nil || errB != nil || ua != left || ub != left {
		t.Fatalf("usage %d (%v) on a, %d (%v) on b; want %d", ua, errA, ub, errB, left)
	}
}

// testIndexAcrossInstances: an index each engine has cached moves on with
// the writes of the other.
func testIndexAcrossInstances(t *testing.T, a, b storage.Space) {
	ctx := context.Background()
	c := mustCollection(t, a, "c")
	other := mustCollection(t, b, "other")
	etag := map[string]string{}
	put := func(s storage.Space, coll int64, name, index string) {
		t.Helper()
		r, err := s.PutObject(ctx, coll, storage.PutOptions{Name: name, Body: []byte(name + " " + index), Index: []byte(index)})
		if err != nil {
			t.Fatal(err)
		}
		etag[name] = r.Object.ETag
	}
	entry := func(name, index string) string { return name + "=" + etag[name] + ":" + index }
	steps := []struct {
		name string
		do   func()
		want func() string
	}{
		{"empty", func() {}, func() string { return "" }},
		{"created on a", func() { put(a, c.ID, "x", "1"); put(a, c.ID, "y", "2") }, func() string { return entry("x", "1") + " " + entry("y", "2") }},
		{"replaced on b", func() { put(b, c.ID, "x", "1b") }, func() string { return entry("x", "1b") + " " + entry("y", "2") }},
		{"deleted on b", func() {
			if err := b.DeleteObject(ctx, c.ID, "y", storage.DeleteOptions{}); err != nil {
				t.Fatal(err)
			}
		}, func() string { return entry("x", "1b") }},
		{"moved in on b", func() {
			put(b, other.ID, "m", "9")
			if _, err := b.TransferObject(ctx, other.ID, "m", c.ID, "m", storage.TransferOptions{Move: true}); err != nil {
				t.Fatal(err)
			}
		}, func() string { return entry("m", "9") + " " + entry("x", "1b") }},
		{"created again on a", func() { put(a, c.ID, "y", "2c") }, func() string { return entry("m", "9") + " " + entry("x", "1b") + " " + entry("y", "2c") }},
	}
	for _, st := range steps {
		st.do()
		for _, s := range []storage.Space{a, b} {
			if got, want := indexOf(t, s, c.ID), sortedFields(st.want()); got != want {
				t.Fatalf("%s: the index holds %q, want %q", st.name, got, want)
			}
		}
	}
}
