package storagetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/coffer-dav/coffer/storage"
)

// testPutObject: a PUT creates an object that reads back as written, then
// replaces it: Created tells which, and the revision rises.
func testPutObject(t *testing.T, users userSpaces) {
	s := users(t, "alice")
	ctx := context.Background()
	c := mustCollection(t, s, "work")
	steps := []struct {
		name    string
		put     storage.PutOptions
		created bool
	}{
		{"create", storage.PutOptions{Name: "a.ics", UID: "uid-a", ContentType: "text/calendar", Body: []byte("BEGIN:VCALENDAR\r\none")}, true},
		{"replace", storage.PutOptions{Name: "a.ics", UID: "uid-a", ContentType: "text/calendar; charset=utf-8", Body: []byte("BEGIN:VCALENDAR\r\ntwo, longer")}, false},
		{"replace with a shorter body", storage.PutOptions{Name: "a.ics", UID: "uid-a", ContentType: "text/calendar", Body: []byte("3")}, false},
		{"another name", storage.PutOptions{Name: "b.ics", ContentType: "text/calendar", Body: []byte("BEGIN:VCALENDAR\r\nb")}, true},
		{"an empty body", storage.PutOptions{Name: "empty.txt", ContentType: "text/plain", Body: []byte{}}, true},
		{"a name of other letters", storage.PutOptions{Name: "Ünïcödé %20 + @ 日本.ics", ContentType: "text/calendar", Body: []byte("u")}, true},
		{"a long name", storage.PutOptions{Name: strings.Repeat("n", 251) + ".ics", ContentType: "text/calendar", Body: []byte("n")}, true},
	}
	last := c.Revision
	for _, st := range steps {
		before := time.Now()
		r, err := s.PutObject(ctx, c.ID, st.put)
		after := time.Now()
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		o := r.Object
		if r.Created != st.created || o.Name != st.put.Name || o.ETag == "" || o.ContentType != st.put.ContentType || o.Size != int64(len(st.put.Body)) ||
			o.Revision <= last || !wholeSecondIn(o.Modified, before, after) {
			t.Fatalf("%s: PutObject = %+v (revision before %d)", st.name, r, last)
		}
		last = o.Revision
		got := mustObject(t, s, c.ID, st.put.Name)
		if got.Name != o.Name || got.ETag != o.ETag || got.ContentType != o.ContentType || got.Size != o.Size || !bytes.Equal(got.Body, st.put.Body) ||
			got.Revision != o.Revision || !got.Modified.Equal(o.Modified) || len(got.Props) != 0 {
			t.Fatalf("%s: read back %+v, wrote %+v", st.name, got, o)
		}
		if rev := revision(t, s, c.ID); rev != o.Revision {
			t.Fatalf("%s: the collection is at revision %d, the object at %d", st.name, rev, o.Revision)
		}
	}
	want := map[string]string{}
	for _, st := range steps {
		want[st.put.Name] = mustObject(t, s, c.ID, st.put.Name).ETag
	}
	if got := etagString(objectETags(t, s, c.ID)); got != etagString(want) || len(want) != 5 {
		t.Fatalf("listed %s, want %s", got, etagString(want))
	}
	if n, err := s.Counts(ctx, c.ID); err != nil || n.Objects != 5 {
		t.Fatalf("Counts = %+v, %v; want 5 objects", n, err)
	}
}

// testETags: an object's ETag changes with its body and with nothing
// else: not with its content type, its properties or a PUT of the same body.
func testETags(t *testing.T, users userSpaces) {
	s := users(t, "alice")
	ctx := context.Background()
	c := mustCollection(t, s, "work")
	first := putBody(t, s, c.ID, "a.ics", "uid-a", "one").Object.ETag
	steps := []struct {
		name  string
		write func() error
		same  bool // the ETag stays
	}{
		{"a read", func() error { _, err := s.Objects(ctx, c.ID); return err }, true},
		{"the same body again", func() error {
			_, err := s.PutObject(ctx, c.ID, storage.PutOptions{Name: "a.ics", UID: "uid-a", ContentType: "text/calendar", Body: []byte("one")})
			return err
		}, true},
		{"another content type", func() error {
			_, err := s.PutObject(ctx, c.ID, storage.PutOptions{Name: "a.ics", UID: "uid-a", ContentType: "text/plain", Body: []byte("one")})
			return err
		}, true},
		{"a property", func() error {
			return s.PatchObject(ctx, c.ID, "a.ics", storage.PatchOptions{Set: storage.Props{"{urn:x}p": []byte("v")}})
		}, true},
		{"another object", func() error {
			_, err := s.PutObject(ctx, c.ID, storage.PutOptions{Name: "b.ics", Body: []byte("other")})
			return err
		}, true},
		{"another body", func() error {
			_, err := s.PutObject(ctx, c.ID, storage.PutOptions{Name: "a.ics", UID: "uid-a", Body: []byte("two")})
			return err
		}, false},
		{"one byte more", func() error {
			_, err := s.PutObject(ctx, c.ID, storage.PutOptions{Name: "a.ics", UID: "uid-a", Body: []byte("two ")})
			return err
		}, false},
	}
	etag := first
	for _, st := range steps {
		if err := st.write(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		now := mustObject(t, s, c.ID, "a.ics").ETag
		if (now == etag) != st.same {
			t.Fatalf("after %s the ETag is %q, was %q; want the same: %v", st.name, now, etag, st.same)
		}
		if listed := objectETags(t, s, c.ID)["a.ics"]; listed != now {
			t.Fatalf("after %s Objects lists the ETag %q, Object reads %q", st.name, listed, now)
		}
		etag = now
	}
}

// testPutPreconditions: If-Match and If-None-Match are checked with the
// write; a write they refuse fails with ErrPrecondition and changes nothing.
func testPutPreconditions(t *testing.T, users userSpaces) {
	s := users(t, "alice")
	ctx := context.Background()
	// Each case has a collection of its own holding a.ics, whose ETag it gets.
	tests := []struct {
		name    string
		put     func(etag string) storage.PutOptions
		err     error
		created bool
	}{
		{"If-None-Match on an existing object", func(string) storage.PutOptions {
			return storage.PutOptions{Name: "a.ics", Body: []byte("new"), IfNoneMatch: true}
		}, storage.ErrPrecondition, false},
		{"a stale If-Match", func(string) storage.PutOptions {
			return storage.PutOptions{Name: "a.ics", Body: []byte("new"), IfMatch: "0123456789abcdef"}
		}, storage.ErrPrecondition, false},
		{"If-Match with the ETag quoted", func(e string) storage.PutOptions {
			return storage.PutOptions{Name: "a.ics", Body: []byte("new"), IfMatch: `"` + e + `"`}
		}, storage.ErrPrecondition, false},
		{"If-Match on a missing object", func(e string) storage.PutOptions {
			return storage.PutOptions{Name: "new.ics", Body: []byte("new"), IfMatch: e}
		}, storage.ErrPrecondition, false},
		{"If-Match * on a missing object", func(string) storage.PutOptions {
			return storage.PutOptions{Name: "new.ics", Body: []byte("new"), IfMatch: "*"}
		}, storage.ErrPrecondition, false},
		{"both on an existing object", func(e string) storage.PutOptions {
			return storage.PutOptions{Name: "a.ics", Body: []byte("new"), IfMatch: e, IfNoneMatch: true}
		}, storage.ErrPrecondition, false},
		{"If-None-Match on a missing object", func(string) storage.PutOptions {
			return storage.PutOptions{Name: "new.ics", Body: []byte("new"), IfNoneMatch: true}
		}, nil, true},
		{"the current If-Match", func(e string) storage.PutOptions {
			return storage.PutOptions{Name: "a.ics", Body: []byte("new"), IfMatch: e}
		}, nil, false},
		{"If-Match *", func(string) storage.PutOptions {
			return storage.PutOptions{Name: "a.ics", Body: []byte("new"), IfMatch: "*"}
		}, nil, false},
		{"no condition", func(string) storage.PutOptions { return storage.PutOptions{Name: "a.ics", Body: []byte("new")} }, nil, false},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := mustCollection(t, s, fmt.Sprint("c", i))
			first := putBody(t, s, c.ID, "a.ics", "", "old").Object
			put := tc.put(first.ETag)
			res, err := s.PutObject(ctx, c.ID, put)
			if !errors.Is(err, tc.err) {
				t.Fatalf("PutObject = %+v, %v; want %v", res, err, tc.err)
			}
			if tc.err != nil {
				if got := mustObject(t, s, c.ID, "a.ics"); got.ETag != first.ETag || string(got.Body) != "old" || got.Revision != first.Revision {
					t.Fatalf("a refused write changed a.ics: %+v", got)
				}
				if got := etagString(objectETags(t, s, c.ID)); got != "a.ics="+first.ETag {
					t.Fatalf("after a refused write the collection lists %s", got)
				}
				if rev := revision(t, s, c.ID); rev != first.Revision {
					t.Fatalf("a refused write moved the revision %d → %d", first.Revision, rev)
				}
				return
			}
			if res.Created != tc.created {
				t.Fatalf("Created = %v, want %v", res.Created, tc.created)
			}
			if got := mustObject(t, s, c.ID, put.Name); string(got.Body) != "new" || got.ETag != res.Object.ETag || got.ETag == first.ETag {
				t.Fatalf("read back %+v", got)
			}
		})
	}
}

// testUIDs: a UID names one object of a collection: a PUT that would give
// it to a second fails with a *storage.UIDConflict naming the first and
// changes nothing; the object itself may keep or change it (with
// KeepUID only keep it), and a UID set free by a change or a delete, or in
// another collection, is free.
func testUIDs(t *testing.T, users userSpaces) {
	s := users(t, "alice")
	ctx := context.Background()
	a := mustCollection(t, s, "a")
	b := mustCollection(t, s, "b")
	steps := []struct {
		name     string
		coll     *storage.Collection
		put      storage.PutOptions
		del      string // instead of a PUT, delete this object
		conflict string // the object a conflict names
	}{
		{"first", a, storage.PutOptions{Name: "a.ics", UID: "u1", Body: []byte("a1")}, "", ""},
		{"a second object of the UID", a, storage.PutOptions{Name: "b.ics", UID: "u1", Body: []byte("b1")}, "", "a.ics"},
		{"the object keeps its UID", a, storage.PutOptions{Name: "a.ics", UID: "u1", Body: []byte("a2")}, "", ""},
		{"another UID", a, storage.PutOptions{Name: "b.ics", UID: "u2", Body: []byte("b2")}, "", ""},
		{"taking another object's UID", a, storage.PutOptions{Name: "a.ics", UID: "u2", Body: []byte("a3")}, "", "b.ics"},
		{"the refused change kept the old UID", a, storage.PutOptions{Name: "c.ics", UID: "u1", Body: []byte("c1")}, "", "a.ics"},
		{"changing its UID", a, storage.PutOptions{Name: "a.ics", UID: "u3", Body: []byte("a4")}, "", ""},
		{"the old UID is free", a, storage.PutOptions{Name: "c.ics", UID: "u1", Body: []byte("c2")}, "", ""},
		{"the new one is not", a, storage.PutOptions{Name: "d.ics", UID: "u3", Body: []byte("d1")}, "", "a.ics"},
		{"delete b.ics", a, storage.PutOptions{}, "b.ics", ""},
		{"a deleted object's UID is free", a, storage.PutOptions{Name: "d.ics", UID: "u2", Body: []byte("d2")}, "", ""},
		{"another collection has UIDs of its own", b, storage.PutOptions{Name: "x.ics", UID: "u1", Body: []byte("x1")}, "", ""},
		{"no UID", a, storage.PutOptions{Name: "p1.txt", Body: []byte("p")}, "", ""},
		{"no UID again", a, storage.PutOptions{Name: "p2.txt", Body: []byte("p")}, "", ""},
		{"KeepUID: the same UID", a, storage.PutOptions{Name: "a.ics", UID: "u3", KeepUID: true, Body: []byte("a5")}, "", ""},
		{"KeepUID: another UID", a, storage.PutOptions{Name: "a.ics", UID: "u9", KeepUID: true, Body: []byte("a6")}, "", "a.ics"},
		{"KeepUID: none", a, storage.PutOptions{Name: "a.ics", KeepUID: true, Body: []byte("a7")}, "", "a.ics"},
		{"KeepUID: another object's UID", a, storage.PutOptions{Name: "a.ics", UID: "u1", KeepUID: true, Body: []byte("a8")}, "", "a.ics"},
		{"KeepUID: the refused changes kept the UID", a, storage.PutOptions{Name: "f.ics", UID: "u9", Body: []byte("f1")}, "", ""},
		{"KeepUID: a new object", a, storage.PutOptions{Name: "e.ics", UID: "u5", KeepUID: true, Body: []byte("e1")}, "", ""},
		{"KeepUID: an object without a UID may take one", a, storage.PutOptions{Name: "p1.txt", UID: "u6", KeepUID: true, Body: []byte("p3")}, "", ""},
	}
	for _, st := range steps {
		before := objectETags(t, s, st.coll.ID)
		if st.del != "" {
			if err := s.DeleteObject(ctx, st.coll.ID, st.del, storage.DeleteOptions{}); err != nil {
				t.Fatalf("%s: %v", st.name, err)
			}
			continue
		}
		res, err := s.PutObject(ctx, st.coll.ID, st.put)
		if st.conflict == "" {
			if err != nil {
				t.Fatalf("%s: %v", st.name, err)
			}
			if got := mustObject(t, s, st.coll.ID, st.put.Name); !bytes.Equal(got.Body, st.put.Body) || got.ETag != res.Object.ETag {
				t.Fatalf("%s: read back %+v", st.name, got)
			}
			continue
		}
		var conflict *storage.UIDConflict
		if !errors.As(err, &conflict) || conflict.Name != st.conflict {
			t.Fatalf("%s: PutObject = %+v, %v; want a *storage.UIDConflict naming %s", st.name, res, err, st.conflict)
		}
		if after := objectETags(t, s, st.coll.ID); etagString(after) != etagString(before) {
			t.Fatalf("%s: a refused write changed the collection: %s, was %s", st.name, etagString(after), etagString(before))
		}
	}
	if got := string(mustObject(t, s, a.ID, "a.ics").Body); got != "a5" {
		t.Fatalf("a.ics holds %q", got)
	}
}

// testObjectsNamed: a lookup by names answers in the order asked, nil for
// a name that has none, the same object for a name asked twice, however
// many names, and bodies only when asked for.
func testObjectsNamed(t *testing.T, users userSpaces) {
	s := users(t, "alice")
	ctx := context.Background()
	c := mustCollection(t, s, "work")
	etags := map[string]string{}
	var names []string
	for i := range 150 {
		name := fmt.Sprintf("%03d.ics", i)
		if i%10 != 3 { // every tenth is missing
			etags[name] = putBody(t, s, c.ID, name, "uid-"+name, "body "+name).Object.ETag
		}
		names = append([]string{name}, names...) // newest first: not the stored order
	}
	if err := s.PatchObject(ctx, c.ID, "000.ics", storage.PatchOptions{Set: storage.Props{"{urn:x}p": []byte("v")}}); err != nil {
		t.Fatal(err)
	}
	names = append(names, "149.ics", "no-such.ics", "000.ics", "")
	for _, withBody := range []bool{true, false} {
		t.Run(fmt.Sprint("body ", withBody), func(t *testing.T) {
			got, err := s.ObjectsNamed(ctx, c.ID, names, storage.ReadOptions{Body: withBody})
			if err != nil || len(got) != len(names) {
				t.Fatalf("%d answers (%v), want %d", len(got), err, len(names))
			}
			for i, name := range names {
				o, etag := got[i], etags[name]
				switch {
				case etag == "" && o != nil:
					t.Fatalf("%q: found %+v, want nil", name, o)
				case etag == "":
				case o == nil || o.Name != name || o.ETag != etag || o.ContentType != "text/calendar" || o.Size != int64(len("body "+name)):
					t.Fatalf("%s: got %+v", name, o)
				case withBody && string(o.Body) != "body "+name, !withBody && o.Body != nil:
					t.Fatalf("%s: body %q asked for: %v", name, o.Body, withBody)
				case name == "000.ics" && string(o.Props["{urn:x}p"]) != "v", name != "000.ics" && len(o.Props) != 0:
					t.Fatalf("%s: properties %v", name, o.Props)
				}
			}
		})
	}
	if got, err := s.ObjectsNamed(ctx, c.ID, nil, storage.ReadOptions{Body: true}); err != nil || len(got) != 0 {
		t.Fatalf("no names: %v, %v", got, err)
	}
	for _, withBody := range []bool{true, false} {
		o, err := s.Object(ctx, c.ID, "042.ics", storage.ReadOptions{Body: withBody})
		if err != nil || o.ETag != etags["042.ics"] || (withBody && string(o.Body) != "body 042.ics") || (!withBody && o.Body != nil) {
			t.Fatalf("Object with body %v = %+v, %v", withBody, o, err)
		}
		_, err = s.Object(ctx, c.ID, "003.ics", storage.ReadOptions{Body: withBody})
		wantNotFound(t, "a missing object", err)
	}
	if err := s.DeleteCollection(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	wantGone(t, s, c.ID, "000.ics")
}

// testListObjects: Objects lists every object of a collection once, as
// Object reads it but without its body.
func testListObjects(t *testing.T, users userSpaces) {
	s := users(t, "alice")
	ctx := context.Background()
	c := mustCollection(t, s, "work")
	other := mustCollection(t, s, "other")
	if objs, err := s.Objects(ctx, c.ID); err != nil || len(objs) != 0 {
		t.Fatalf("an empty collection lists %d, %v", len(objs), err)
	}
	for _, name := range []string{"e.ics", "d.ics", "c.ics", "b.ics", "a.ics"} {
		putBody(t, s, c.ID, name, "", "body of "+name)
	}
	putBody(t, s, c.ID, "d.ics", "", "d again")
	putBody(t, s, other.ID, "z.ics", "", "elsewhere")
	if err := s.DeleteObject(ctx, c.ID, "c.ics", storage.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := s.PatchObject(ctx, c.ID, "b.ics", storage.PatchOptions{Set: storage.Props{"{urn:x}p": []byte("v")}}); err != nil {
		t.Fatal(err)
	}
	objs, err := s.Objects(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, o := range objs {
		if seen[o.Name] {
			t.Fatalf("%s listed twice", o.Name)
		}
		seen[o.Name] = true
		want := mustObject(t, s, c.ID, o.Name)
		if o.Body != nil || o.ETag != want.ETag || o.ContentType != want.ContentType || o.Size != want.Size || o.Revision != want.Revision ||
			!o.Modified.Equal(want.Modified) || !sameProps(o.Props, want.Props) {
			t.Fatalf("listed %+v, reads %+v", o, want)
		}
	}
	if len(objs) != 4 || !seen["a.ics"] || !seen["b.ics"] || !seen["d.ics"] || !seen["e.ics"] {
		t.Fatalf("listed %v, want a, b, d and e", seen)
	}
}

// testDeleteObject: a delete removes the object and logs it, or fails
// with ErrNotFound or, when If-Match does not hold, ErrPrecondition, and
// then changes nothing.
func testDeleteObject(t *testing.T, users userSpaces) {
	s := users(t, "alice")
	ctx := context.Background()
	tests := []struct {
		name    string
		target  string
		ifMatch func(etag string) string
		err     error
	}{
		{"a missing object", "nope.ics", func(string) string { return "" }, storage.ErrNotFound},
		{"a stale If-Match", "a.ics", func(string) string { return "0123456789abcdef" }, storage.ErrPrecondition},
		{"If-Match on a missing object", "nope.ics", func(e string) string { return e }, storage.ErrPrecondition},
		{"If-Match * on a missing object", "nope.ics", func(string) string { return "*" }, storage.ErrPrecondition},
		{"the current If-Match", "a.ics", func(e string) string { return e }, nil},
		{"If-Match *", "a.ics", func(string) string { return "*" }, nil},
		{"no condition", "a.ics", func(string) string { return "" }, nil},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := mustCollection(t, s, fmt.Sprint("c", i))
			a := putBody(t, s, c.ID, "a.ics", "uid-a", "A").Object
			b := putBody(t, s, c.ID, "b.ics", "uid-b", "B").Object
			err := s.DeleteObject(ctx, c.ID, tc.target, storage.DeleteOptions{IfMatch: tc.ifMatch(a.ETag)})
			if !errors.Is(err, tc.err) {
				t.Fatalf("DeleteObject = %v, want %v", err, tc.err)
			}
			changes, rev := mustChanges(t, s, c.ID, b.Revision)
			if tc.err != nil {
				if got := etagString(objectETags(t, s, c.ID)); got != "a.ics="+a.ETag+" b.ics="+b.ETag || rev != b.Revision || len(changes) != 0 {
					t.Fatalf("a refused delete changed the collection: %s at revision %d (was %d), changes %s", got, rev, b.Revision, changeString(changes))
				}
				return
			}
			_, err = s.Object(ctx, c.ID, "a.ics", storage.ReadOptions{})
			wantNotFound(t, "the deleted object", err)
			if got := etagString(objectETags(t, s, c.ID)); got != "b.ics="+b.ETag {
				t.Fatalf("after the delete: %s", got)
			}
			if rev <= b.Revision || changeString(changes) != "a.ics deleted" || changes[0].Revision != rev {
				t.Fatalf("the delete logged %s, revision %d → %d", changeString(changes), b.Revision, rev)
			}
			wantNotFound(t, "deleting it again", s.DeleteObject(ctx, c.ID, "a.ics", storage.DeleteOptions{}))
			// Its UID went with it.
			putBody(t, s, c.ID, "a2.ics", "uid-a", "A again")
		})
	}
}

// testPropsSurvivePut: a PUT that replaces an object keeps its dead
// properties; a delete takes them, so the name comes back without them.
func testPropsSurvivePut(t *testing.T, users userSpaces) {
	s := users(t, "alice")
	ctx := context.Background()
	c := mustCollection(t, s, "work")
	putBody(t, s, c.ID, "a.ics", "uid-a", "one")
	props := storage.Props{"{urn:x}a": []byte("<x:a>1</x:a>"), "{urn:x}b": []byte("two")}
	if err := s.PatchObject(ctx, c.ID, "a.ics", storage.PatchOptions{Set: props}); err != nil {
		t.Fatal(err)
	}
	for _, body := range []string{"a new body", "one"} {
		r := putBody(t, s, c.ID, "a.ics", "uid-a", body)
		if got := mustObject(t, s, c.ID, "a.ics"); string(got.Body) != body || !sameProps(got.Props, props) {
			t.Fatalf("after a PUT of %q: %q, properties %s", body, got.Body, propString(got.Props))
		}
		if listed, _ := s.Objects(ctx, c.ID); len(listed) != 1 || !sameProps(listed[0].Props, props) || listed[0].ETag != r.Object.ETag {
			t.Fatalf("listed %+v", listed)
		}
	}
	if err := s.DeleteObject(ctx, c.ID, "a.ics", storage.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	putBody(t, s, c.ID, "a.ics", "uid-a", "one")
	if got := mustObject(t, s, c.ID, "a.ics"); len(got.Props) != 0 {
		t.Fatalf("a new object of a deleted one's name has its properties: %s", propString(got.Props))
	}
}
