package storagetest

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/coffer-dav/coffer/storage"
)

// sortedChanges renders changes as changeString does, sorted, for the
// changes of one transaction whose order is not told.
func sortedChanges(changes []storage.Change) string {
	parts := strings.Fields(strings.ReplaceAll(changeString(changes), " deleted", ":deleted"))
	sort.Strings(parts)
	return strings.Join(parts, " ")
}

// testTransferObject: a COPY or MOVE of an object takes its body, ETag,
// content type and properties to the destination in one step, logs the
// change on both sides, and keeps UIDs unique there, and with KeepUID an
// object it replaces keeps its UID; refused, it changes nothing on either
// side.
func testTransferObject(t *testing.T, users userSpaces) {
	s := users(t, "alice")
	ctx := context.Background()
	// Each case has collections a and b of its own, holding these.
	setup := func(t *testing.T, i int) (a, b *storage.Collection) {
		t.Helper()
		a = newCollection(t, s, storage.HomeCalendars, fmt.Sprint("a", i), storage.KindCalendar)
		b = newCollection(t, s, storage.HomeCalendars, fmt.Sprint("b", i), storage.KindCalendar)
		putBody(t, s, a.ID, "x.ics", "ux", "X")
		putBody(t, s, a.ID, "y.ics", "uy", "Y")
		putBody(t, s, a.ID, "z.txt", "", "Z")
		putBody(t, s, b.ID, "taken.ics", "ut", "T")
		putBody(t, s, b.ID, "twin.ics", "uy", "Y2")
		for _, p := range []struct {
			coll       int64
			name, prop string
		}{{a.ID, "x.ics", "{urn:x}color"}, {b.ID, "taken.ics", "{urn:x}mine"}} {
			if err := s.PatchObject(ctx, p.coll, p.name, storage.PatchOptions{Set: storage.Props{p.prop: []byte("<v/>")}}); err != nil {
				t.Fatal(err)
			}
		}
		return a, b
	}
	// conflictOn expects a PUT of a new name with uid into the collection
	// to conflict with the object named.
	conflictOn := func(toB bool, uid, named string) func(t *testing.T, a, b *storage.Collection) {
		return func(t *testing.T, a, b *storage.Collection) {
			t.Helper()
			c := a
			if toB {
				c = b
			}
			_, err := s.PutObject(ctx, c.ID, storage.PutOptions{Name: "probe.ics", UID: uid, Body: []byte("probe")})
			var conflict *storage.UIDConflict
			if !errors.As(err, &conflict) || conflict.Name != named {
				t.Fatalf("a PUT of UID %s afterwards = %v, want a conflict with %s", uid, err, named)
			}
		}
	}
	freeIn := func(toB bool, uid string) func(t *testing.T, a, b *storage.Collection) {
		return func(t *testing.T, a, b *storage.Collection) {
			t.Helper()
			c := a
			if toB {
				c = b
			}
			if _, err := s.PutObject(ctx, c.ID, storage.PutOptions{Name: "probe.ics", UID: uid, Body: []byte("probe")}); err != nil {
				t.Fatalf("a PUT of UID %s afterwards: %v", uid, err)
			}
		}
	}
	tests := []struct {
		name     string
		fromB    bool
		src      string
		toB      bool
		dst      string
		o        storage.TransferOptions
		err      error
		conflict string // the object a *storage.UIDConflict names
		created  bool
		then     func(t *testing.T, a, b *storage.Collection)
	}{
		{"copy across", false, "x.ics", true, "x.ics", storage.TransferOptions{}, nil, "", true, nil},
		{"copy across onto an object", false, "x.ics", true, "taken.ics", storage.TransferOptions{}, storage.ErrPrecondition, "", false, nil},
		{"copy across over an object", false, "x.ics", true, "taken.ics", storage.TransferOptions{Overwrite: true}, nil, "", false, freeIn(true, "ut")},
		{"move across", false, "x.ics", true, "moved.ics", storage.TransferOptions{Move: true}, nil, "", true, freeIn(false, "ux")},
		{"move across onto an object", false, "x.ics", true, "taken.ics", storage.TransferOptions{Move: true}, storage.ErrPrecondition, "", false, nil},
		{"move across over an object", false, "z.txt", true, "taken.ics", storage.TransferOptions{Move: true, Overwrite: true}, nil, "", false, freeIn(true, "ut")},
		{"copy within: one UID twice", false, "x.ics", false, "x2.ics", storage.TransferOptions{}, nil, "x.ics", false, nil},
		{"copy within without a UID", false, "z.txt", false, "z2.txt", storage.TransferOptions{}, nil, "", true, nil},
		{"move within: a rename", false, "x.ics", false, "renamed.ics", storage.TransferOptions{Move: true}, nil, "", true, conflictOn(false, "ux", "renamed.ics")},
		{"move within over another object", false, "x.ics", false, "y.ics", storage.TransferOptions{Move: true, Overwrite: true}, nil, "", false, freeIn(false, "uy")},
		{"move within over another object keeps its UID", false, "x.ics", false, "y.ics", storage.TransferOptions{Move: true, Overwrite: true}, nil, "", false, conflictOn(false, "ux", "y.ics")},
		{"copy onto itself", false, "x.ics", false, "x.ics", storage.TransferOptions{}, storage.ErrInvalid, "", false, nil},
		{"move onto itself", false, "x.ics", false, "x.ics", storage.TransferOptions{Move: true, Overwrite: true}, storage.ErrInvalid, "", false, nil},
		{"a missing source", false, "nope.ics", true, "nope.ics", storage.TransferOptions{Overwrite: true}, storage.ErrNotFound, "", false, nil},
		{"copy across: a UID taken there", false, "y.ics", true, "new.ics", storage.TransferOptions{}, nil, "twin.ics", false, nil},
		{"move across: a UID taken there", false, "y.ics", true, "new.ics", storage.TransferOptions{Move: true}, nil, "twin.ics", false, nil},
		{"copy over the object of its UID", false, "y.ics", true, "twin.ics", storage.TransferOptions{Overwrite: true}, nil, "", false, conflictOn(true, "uy", "twin.ics")},
		{"the UID the protocol read, taken", false, "z.txt", true, "new.txt", storage.TransferOptions{UID: "ut"}, nil, "taken.ics", false, nil},
		{"the UID the protocol read, free", false, "z.txt", true, "new.txt", storage.TransferOptions{UID: "uz"}, nil, "", true, conflictOn(true, "uz", "new.txt")},
		{"copy back", true, "taken.ics", false, "taken.ics", storage.TransferOptions{}, nil, "", true, nil},
		{"KeepUID: copy over an object of another UID", false, "x.ics", true, "taken.ics", storage.TransferOptions{Overwrite: true, KeepUID: true}, nil, "taken.ics", false, nil},
		{"KeepUID: move within over an object of another UID", false, "x.ics", false, "y.ics", storage.TransferOptions{Move: true, Overwrite: true, KeepUID: true}, nil, "y.ics", false, nil},
		{"KeepUID: copy over the object of its UID", false, "y.ics", true, "twin.ics", storage.TransferOptions{Overwrite: true, KeepUID: true}, nil, "", false, conflictOn(true, "uy", "twin.ics")},
		{"KeepUID: no UID over a UID", false, "z.txt", true, "taken.ics", storage.TransferOptions{Overwrite: true, KeepUID: true}, nil, "taken.ics", false, nil},
		{"KeepUID: the UID the protocol read, the same", false, "z.txt", true, "taken.ics", storage.TransferOptions{Overwrite: true, KeepUID: true, UID: "ut"}, nil, "", false, conflictOn(true, "ut", "taken.ics")},
		{"KeepUID: over an object without a UID", true, "taken.ics", false, "z.txt", storage.TransferOptions{Overwrite: true, KeepUID: true}, nil, "", false, conflictOn(false, "ut", "z.txt")},
		{"KeepUID: a new name", false, "x.ics", true, "new.ics", storage.TransferOptions{KeepUID: true}, nil, "", true, nil},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, b := setup(t, i)
			from, to := a, a
			if tc.fromB {
				from = b
			}
			if tc.toB {
				to = b
			}
			before := map[int64]map[string]string{a.ID: objectETags(t, s, a.ID), b.ID: objectETags(t, s, b.ID)}
			revs := map[int64]int64{a.ID: revision(t, s, a.ID), b.ID: revision(t, s, b.ID)}
			src, _ := s.Object(ctx, from.ID, tc.src, storage.ReadOptions{Body: true})
			res, err := s.TransferObject(ctx, from.ID, tc.src, to.ID, tc.dst, tc.o)
			var conflict *storage.UIDConflict
			switch {
			case tc.conflict != "" && (!errors.As(err, &conflict) || conflict.Name != tc.conflict):
				t.Fatalf("TransferObject = %+v, %v; want a *storage.UIDConflict naming %s", res, err, tc.conflict)
			case tc.conflict == "" && !errors.Is(err, tc.err):
				t.Fatalf("TransferObject = %+v, %v; want %v", res, err, tc.err)
			}
			if err != nil {
				for _, c := range []*storage.Collection{a, b} {
					if got, was := etagString(objectETags(t, s, c.ID)), etagString(before[c.ID]); got != was {
						t.Fatalf("a refused transfer changed %s: %s, was %s", c.Name, got, was)
					}
					if rev := revision(t, s, c.ID); rev != revs[c.ID] {
						t.Fatalf("a refused transfer moved the revision of %s %d → %d", c.Name, revs[c.ID], rev)
					}
				}
				return
			}
			if res.Created != tc.created {
				t.Fatalf("Created = %v, want %v", res.Created, tc.created)
			}
			got := mustObject(t, s, to.ID, tc.dst)
			if string(got.Body) != string(src.Body) || got.ETag != src.ETag || got.ContentType != src.ContentType || got.Size != src.Size || !sameProps(got.Props, src.Props) {
				t.Fatalf("the destination holds %+v, the source held %+v", got, src)
			}
			if rev := revision(t, s, to.ID); got.Revision != rev || rev <= revs[to.ID] {
				t.Fatalf("the destination is at revision %d, the collection went %d → %d", got.Revision, revs[to.ID], rev)
			}
			if rev := revision(t, s, from.ID); from != to && !tc.o.Move && rev != revs[from.ID] {
				t.Fatalf("a copy moved its source's revision %d → %d", revs[from.ID], rev)
			}
			// Both collections hold what they held, with the source gone
			// for a move and the destination written.
			want := map[int64]map[string]string{a.ID: before[a.ID], b.ID: before[b.ID]}
			if tc.o.Move {
				delete(want[from.ID], tc.src)
			}
			want[to.ID][tc.dst] = src.ETag
			for _, c := range []*storage.Collection{a, b} {
				if got, want := etagString(objectETags(t, s, c.ID)), etagString(want[c.ID]); got != want {
					t.Fatalf("%s holds %s, want %s", c.Name, got, want)
				}
			}
			// Each side logged its change.
			logged := map[int64][]string{to.ID: {tc.dst + "=" + src.ETag}}
			if tc.o.Move {
				logged[from.ID] = append(logged[from.ID], tc.src+":deleted")
			}
			for _, c := range []*storage.Collection{a, b} {
				changes, _ := mustChanges(t, s, c.ID, revs[c.ID])
				sort.Strings(logged[c.ID])
				if got, want := sortedChanges(changes), strings.Join(logged[c.ID], " "); got != want {
					t.Fatalf("%s logged %s, want %s", c.Name, got, want)
				}
			}
			if tc.then != nil {
				tc.then(t, a, b)
			}
		})
	}
}

// testTransferObjectReplacing: an object copied in the place of a
// collection removes it, with everything in it, in the same step, which
// needs Overwrite.
func testTransferObjectReplacing(t *testing.T, users userSpaces) {
	s := users(t, "alice")
	ctx := context.Background()
	a := mustCollection(t, s, "a")
	x := putBody(t, s, a.ID, "x.ics", "ux", "X").Object
	p := newCollection(t, s, storage.HomeCalendars, "p", storage.KindPlain)
	sub := newCollection(t, s, storage.HomeCalendars, "p/sub", storage.KindPlain)
	deep := newCollection(t, s, storage.HomeCalendars, "p/sub/deep", storage.KindPlain)
	putBody(t, s, sub.ID, "f.txt", "", "in p/sub")
	o := storage.TransferOptions{ReplaceCollection: sub.ID}
	if _, err := s.TransferObject(ctx, a.ID, "x.ics", p.ID, "sub", o); !errors.Is(err, storage.ErrPrecondition) {
		t.Fatalf("without Overwrite: %v, want ErrPrecondition", err)
	}
	if got := collectionNames(t, s, storage.HomeCalendars); got != "a p p/sub p/sub/deep" {
		t.Fatalf("a refused transfer left %q", got)
	}
	if got := etagString(objectETags(t, s, p.ID)); got != "" {
		t.Fatalf("a refused transfer wrote %s", got)
	}
	o.Overwrite = true
	if _, err := s.TransferObject(ctx, a.ID, "x.ics", p.ID, "sub", o); err != nil {
		t.Fatal(err)
	}
	if got := collectionNames(t, s, storage.HomeCalendars); got != "a p" {
		t.Fatalf("after the transfer: %q", got)
	}
	if got := etagString(objectETags(t, s, p.ID)); got != "sub="+x.ETag {
		t.Fatalf("p holds %s", got)
	}
	wantGone(t, s, sub.ID, "f.txt")
	wantGone(t, s, deep.ID, "f.txt")
	if got := etagString(objectETags(t, s, a.ID)); got != "x.ics="+x.ETag {
		t.Fatalf("the copy's source holds %s", got)
	}
}

// sortedNames returns the names of a home's collections, sorted.
func sortedNames(t *testing.T, s storage.Space, home storage.Home) string {
	t.Helper()
	return sortedFields(collectionNames(t, s, home))
}

// testTransferCollection: a COPY or MOVE of a collection takes the
// collections nested in it, their objects and every property; Shallow
// takes the collection and its properties only; Overwrite decides whether
// a destination is replaced; nothing goes into itself or onto its parent.
func testTransferCollection(t *testing.T, users userSpaces) {
	s := users(t, "alice")
	ctx := context.Background()
	ids := map[string]int64{}
	mk := func(name string) {
		t.Helper()
		c, err := s.CreateCollection(ctx, storage.NewCollection{Home: storage.HomeCalendars, Name: name, Kind: storage.KindPlain, Props: storage.Props{"{urn:x}p": []byte(name)}})
		if err != nil {
			t.Fatal(err)
		}
		ids[name] = c.ID
		if _, err := s.PutObject(ctx, c.ID, storage.PutOptions{Name: "f.txt", UID: "uid-f", ContentType: "text/plain", Body: []byte("in " + name), Index: []byte("index of " + name)}); err != nil {
			t.Fatal(err)
		}
		if err := s.PatchObject(ctx, c.ID, "f.txt", storage.PatchOptions{Set: storage.Props{"{urn:x}o": []byte(name)}}); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"r", "r/sub", "r/sub/deep", "other", "other/old", "rx"} {
		mk(name)
	}
	cal := mustCollection(t, s, "cal")
	putBody(t, s, cal.ID, "e.ics", "uid-e", "BEGIN:VCALENDAR")
	// holds reports what collection name holds: "missing", or its
	// properties and its object's body and properties.
	holds := func(name string) string {
		t.Helper()
		c, err := s.Collection(ctx, storage.HomeCalendars, name)
		if errors.Is(err, storage.ErrNotFound) {
			return "missing"
		}
		if err != nil {
			t.Fatal(err)
		}
		objs, err := s.Objects(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		out := []string{string(c.Kind), propString(c.Props)}
		for _, o := range objs {
			o := mustObject(t, s, c.ID, o.Name)
			out = append(out, o.Name+":"+string(o.Body)+":"+propString(o.Props))
		}
		return strings.Join(out, " ")
	}
	tree := func(root string) string { // what r's tree holds, as copied to root
		return fmt.Sprintf("plain {urn:x}p=%[1]s f.txt:in %[1]s:{urn:x}o=%[1]s", root)
	}
	const initial = "cal other other/old r r/sub r/sub/deep rx"
	steps := []struct {
		name    string
		src     string
		dst     string
		o       storage.TransferOptions
		err     error
		created bool
		names   string // the calendars home's collections afterwards, sorted
		holds   map[string]string
	}{
		{"copy into itself", "r", "r/sub/inside", storage.TransferOptions{}, storage.ErrInvalid, false, initial, nil},
		{"move into itself", "r", "r/inside", storage.TransferOptions{Move: true, Overwrite: true}, storage.ErrInvalid, false, initial, nil},
		{"move onto its parent", "r/sub", "r", storage.TransferOptions{Move: true, Overwrite: true}, storage.ErrInvalid, false, initial, nil},
		{"copy onto itself", "r", "r", storage.TransferOptions{Overwrite: true}, storage.ErrInvalid, false, initial, nil},
		{"move onto itself", "r", "r", storage.TransferOptions{Move: true, Overwrite: true}, storage.ErrInvalid, false, initial, nil},
		{"copy onto itself without Overwrite", "r", "r", storage.TransferOptions{}, storage.ErrInvalid, false, initial, nil},
		{"copy onto a collection", "r", "other", storage.TransferOptions{}, storage.ErrPrecondition, false, initial, nil},
		{"move onto a collection", "r", "other", storage.TransferOptions{Move: true}, storage.ErrPrecondition, false, initial, nil},
		{"copy", "r", "copy", storage.TransferOptions{}, nil, true, "cal copy copy/sub copy/sub/deep other other/old r r/sub r/sub/deep rx",
			map[string]string{"copy": tree("r"), "copy/sub": tree("r/sub"), "copy/sub/deep": tree("r/sub/deep"), "r": tree("r"), "r/sub/deep": tree("r/sub/deep")}},
		{"shallow copy", "r", "shallow", storage.TransferOptions{Shallow: true}, nil, true, "cal copy copy/sub copy/sub/deep other other/old r r/sub r/sub/deep rx shallow",
			map[string]string{"shallow": "plain {urn:x}p=r", "r": tree("r"), "r/sub": tree("r/sub")}},
		{"copy of a calendar", "cal", "cal2", storage.TransferOptions{}, nil, true, "cal cal2 copy copy/sub copy/sub/deep other other/old r r/sub r/sub/deep rx shallow",
			map[string]string{"cal2": "calendar " + mustCollectionProps + " e.ics:BEGIN:VCALENDAR:"}},
		{"move over a collection", "r", "other", storage.TransferOptions{Move: true, Overwrite: true}, nil, false, "cal cal2 copy copy/sub copy/sub/deep other other/sub other/sub/deep rx shallow",
			map[string]string{"other": tree("r"), "other/sub": tree("r/sub"), "other/sub/deep": tree("r/sub/deep"), "other/old": "missing", "r": "missing", "r/sub": "missing", "rx": tree("rx")}},
		{"move", "other", "moved", storage.TransferOptions{Move: true}, nil, true, "cal cal2 copy copy/sub copy/sub/deep moved moved/sub moved/sub/deep rx shallow",
			map[string]string{"moved": tree("r"), "moved/sub/deep": tree("r/sub/deep"), "other": "missing"}},
		{"copy over a collection", "shallow", "moved", storage.TransferOptions{Overwrite: true}, nil, false, "cal cal2 copy copy/sub copy/sub/deep moved rx shallow",
			map[string]string{"moved": "plain {urn:x}p=r", "shallow": "plain {urn:x}p=r"}},
		{"shallow copy over a collection", "rx", "copy", storage.TransferOptions{Overwrite: true, Shallow: true}, nil, false, "cal cal2 copy moved rx shallow",
			map[string]string{"copy": "plain {urn:x}p=rx", "rx": tree("rx")}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			src, err := s.Collection(ctx, storage.HomeCalendars, st.src)
			if err != nil {
				t.Fatal(err)
			}
			was := map[string]string{}
			for _, name := range strings.Fields(sortedNames(t, s, storage.HomeCalendars)) {
				was[name] = holds(name)
			}
			srcIndex := indexOf(t, s, src.ID)
			res, err := s.TransferCollection(ctx, src.ID, storage.HomeCalendars, st.dst, st.o)
			if !errors.Is(err, st.err) {
				t.Fatalf("TransferCollection = %+v, %v; want %v", res, err, st.err)
			}
			if got := sortedNames(t, s, storage.HomeCalendars); got != st.names {
				t.Fatalf("the calendars home holds %q, want %q", got, st.names)
			}
			if err != nil {
				for name, w := range was {
					if got := holds(name); got != w {
						t.Fatalf("a refused transfer changed %s: %s, was %s", name, got, w)
					}
				}
				return
			}
			if res.Created != st.created {
				t.Fatalf("Created = %v, want %v", res.Created, st.created)
			}
			for name, want := range st.holds {
				if got := holds(name); got != want {
					t.Fatalf("%s holds %q, want %q", name, got, want)
				}
			}
			dst, err := s.Collection(ctx, storage.HomeCalendars, st.dst)
			if err != nil {
				t.Fatal(err)
			}
			if !st.o.Move && dst.ID == src.ID {
				t.Fatalf("the copy has its source's id %d", dst.ID)
			}
			if now, err := s.Collection(ctx, storage.HomeCalendars, st.src); !st.o.Move && (err != nil || now.Revision != src.Revision) {
				t.Fatalf("a copy changed its source: %+v, %v; was at revision %d", now, err, src.Revision)
			}
			// What the destination holds is in its change log, and its
			// index is the source's.
			changes, _ := mustChanges(t, s, dst.ID, 0)
			live := map[string]string{}
			for _, ch := range changes {
				if !ch.Deleted {
					live[ch.Name] = ch.ETag
				}
			}
			if got, want := etagString(live), etagString(objectETags(t, s, dst.ID)); got != want {
				t.Fatalf("the destination logs %s, holds %s", got, want)
			}
			if st.o.Shallow {
				srcIndex = ""
			}
			if got := indexOf(t, s, dst.ID); got != srcIndex {
				t.Fatalf("the destination's index holds %s, the source's held %s", got, srcIndex)
			}
		})
	}
	_, err := s.TransferCollection(ctx, ids["other/old"], storage.HomeCalendars, "back", storage.TransferOptions{})
	wantNotFound(t, "a transfer of a deleted collection", err)
	// A plain collection may go to the other home, under its own name too.
	if _, err := s.TransferCollection(ctx, ids["rx"], storage.HomeAddressBooks, "rx", storage.TransferOptions{Move: true}); err != nil {
		t.Fatal(err)
	}
	if got := sortedNames(t, s, storage.HomeCalendars) + " | " + sortedNames(t, s, storage.HomeAddressBooks); got != "cal cal2 copy moved shallow | rx" {
		t.Fatalf("after a move to the other home: %s", got)
	}
	moved, err := s.Collection(ctx, storage.HomeAddressBooks, "rx")
	if err != nil {
		t.Fatal(err)
	}
	if o := mustObject(t, s, moved.ID, "f.txt"); string(o.Body) != "in rx" || string(o.Props["{urn:x}o"]) != "rx" {
		t.Fatalf("the moved collection holds %+v", o)
	}
}

// testTransferCollectionReplacing: a collection moved in the place of an
// object removes the object in the same step, which needs Overwrite.
func testTransferCollectionReplacing(t *testing.T, users userSpaces) {
	s := users(t, "alice")
	ctx := context.Background()
	p := newCollection(t, s, storage.HomeCalendars, "p", storage.KindPlain)
	x := putBody(t, s, p.ID, "x", "", "X").Object
	q := newCollection(t, s, storage.HomeCalendars, "q", storage.KindPlain)
	n := newCollection(t, s, storage.HomeCalendars, "q/n", storage.KindPlain)
	f := putBody(t, s, n.ID, "f.txt", "", "F").Object
	o := storage.TransferOptions{Move: true, ReplaceObjectIn: p.ID}
	if _, err := s.TransferCollection(ctx, q.ID, storage.HomeCalendars, "p/x", o); !errors.Is(err, storage.ErrPrecondition) {
		t.Fatalf("without Overwrite: %v, want ErrPrecondition", err)
	}
	if got := etagString(objectETags(t, s, p.ID)); got != "x="+x.ETag {
		t.Fatalf("a refused transfer left p with %s", got)
	}
	if got := sortedNames(t, s, storage.HomeCalendars); got != "p q q/n" {
		t.Fatalf("a refused transfer left %q", got)
	}
	o.Overwrite = true
	if _, err := s.TransferCollection(ctx, q.ID, storage.HomeCalendars, "p/x", o); err != nil {
		t.Fatal(err)
	}
	if got := sortedNames(t, s, storage.HomeCalendars); got != "p p/x p/x/n" {
		t.Fatalf("after the transfer: %q", got)
	}
	if got := etagString(objectETags(t, s, p.ID)); got != "" {
		t.Fatalf("p still holds %s", got)
	}
	if changes, _ := mustChanges(t, s, p.ID, x.Revision); changeString(changes) != "x deleted" {
		t.Fatalf("p logged %s", changeString(changes))
	}
	moved, err := s.Collection(ctx, storage.HomeCalendars, "p/x/n")
	if err != nil {
		t.Fatal(err)
	}
	if got := etagString(objectETags(t, s, moved.ID)); got != "f.txt="+f.ETag {
		t.Fatalf("p/x/n holds %s", got)
	}
}
