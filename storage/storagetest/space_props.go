package storagetest

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/coffer-dav/coffer/storage"
)

// propHolder is one kind of resource that holds properties, seen through
// the calls that patch and read them.
type propHolder struct {
	name  string
	patch func(o storage.PatchOptions) error
	read  func() (storage.Props, error)
}

// propHolders makes, in s, a collection "holder" with an object "o.ics"
// and returns them and the three scopes as property holders.
func propHolders(t *testing.T, s storage.Space) []propHolder {
	t.Helper()
	ctx := context.Background()
	c := newCollection(t, s, storage.HomeCalendars, "holder", storage.KindCalendar)
	putBody(t, s, c.ID, "o.ics", "uid-o", "BEGIN:VCALENDAR")
	holders := []propHolder{
		{"collection",
			func(o storage.PatchOptions) error { return s.PatchCollection(ctx, c.ID, o) },
			func() (storage.Props, error) {
				got, err := s.Collection(ctx, storage.HomeCalendars, "holder")
				if err != nil {
					return nil, err
				}
				return got.Props, nil
			}},
		{"object",
			func(o storage.PatchOptions) error { return s.PatchObject(ctx, c.ID, "o.ics", o) },
			func() (storage.Props, error) {
				got, err := s.Object(ctx, c.ID, "o.ics", storage.ReadOptions{})
				if err != nil {
					return nil, err
				}
				return got.Props, nil
			}},
	}
	for _, scope := range []storage.Scope{storage.ScopePrincipal, storage.ScopeCalendars, storage.ScopeAddressBooks} {
		holders = append(holders, propHolder{"scope " + string(scope),
			func(o storage.PatchOptions) error { return s.PatchProps(ctx, scope, o) },
			func() (storage.Props, error) { return s.Props(ctx, scope) }})
	}
	return holders
}

// testPatchProps: a patch removes, then sets, on every kind of holder; a
// property set again takes its new value, and removing one that is not
// there is no error.
func testPatchProps(t *testing.T, users userSpaces) {
	s := users(t, "alice")
	big := bytes.Repeat([]byte("x"), 10_000)
	steps := []struct {
		name   string
		set    storage.Props
		remove []string
		want   string
	}{
		{"set three", storage.Props{"{urn:x}a": []byte("1"), "{urn:x}b": []byte("<x:b>2</x:b>"), "{DAV:}displayname": []byte("D")}, nil,
			"{DAV:}displayname=D {urn:x}a=1 {urn:x}b=<x:b>2</x:b>"},
		{"remove one and one that is not there", nil, []string{"{urn:x}a", "{urn:x}nope"}, "{DAV:}displayname=D {urn:x}b=<x:b>2</x:b>"},
		{"removals, then settings", storage.Props{"{urn:x}b": []byte("22"), "{urn:x}c": []byte("3")}, []string{"{urn:x}b", "{DAV:}displayname"},
			"{urn:x}b=22 {urn:x}c=3"},
		{"a new value", storage.Props{"{urn:x}c": []byte("33")}, nil, "{urn:x}b=22 {urn:x}c=33"},
		{"names differ by namespace", storage.Props{"{urn:y}c": []byte("y")}, nil, "{urn:x}b=22 {urn:x}c=33 {urn:y}c=y"},
		{"nothing", nil, nil, "{urn:x}b=22 {urn:x}c=33 {urn:y}c=y"},
		{"a large value", storage.Props{"{urn:x}big": big}, []string{"{urn:y}c"}, "{urn:x}b=22 {urn:x}big=" + string(big) + " {urn:x}c=33"},
		{"an empty value", storage.Props{"{urn:x}e": []byte{}}, nil, "{urn:x}b=22 {urn:x}big=" + string(big) + " {urn:x}c=33 {urn:x}e="},
		{"remove all", nil, []string{"{urn:x}b", "{urn:x}c", "{urn:x}big", "{urn:x}e"}, ""},
	}
	for _, h := range propHolders(t, s) {
		t.Run(h.name, func(t *testing.T) {
			if p, err := h.read(); err != nil || len(p) != 0 {
				t.Fatalf("before any patch: %s, %v", propString(p), err)
			}
			for _, st := range steps {
				if err := h.patch(storage.PatchOptions{Set: st.set, Remove: st.remove}); err != nil {
					t.Fatalf("%s: %v", st.name, err)
				}
				p, err := h.read()
				if err != nil {
					t.Fatalf("%s: %v", st.name, err)
				}
				if got := propString(p); got != st.want {
					if len(got) > 200 {
						got = got[:200] + "…"
					}
					t.Fatalf("%s: %s", st.name, got)
				}
			}
		})
	}
}

// testPatchObject: patching an object's properties keeps its ETag and
// body, raises its revision and records a change; a missing object or
// collection is ErrNotFound and changes nothing.
func testPatchObject(t *testing.T, users userSpaces) {
	s := users(t, "alice")
	ctx := context.Background()
	c := mustCollection(t, s, "work")
	put := putBody(t, s, c.ID, "a.ics", "uid-a", "body").Object
	putBody(t, s, c.ID, "b.ics", "uid-b", "other")
	before := revision(t, s, c.ID)
	if err := s.PatchObject(ctx, c.ID, "a.ics", storage.PatchOptions{Set: storage.Props{"{urn:x}p": []byte("v")}}); err != nil {
		t.Fatal(err)
	}
	o := mustObject(t, s, c.ID, "a.ics")
	if o.ETag != put.ETag || string(o.Body) != "body" || o.Revision <= before || string(o.Props["{urn:x}p"]) != "v" {
		t.Fatalf("after the patch: %+v; the PUT gave %+v", o, put)
	}
	changes, rev := mustChanges(t, s, c.ID, before)
	if changeString(changes) != "a.ics="+put.ETag || changes[0].Revision != o.Revision || rev != o.Revision {
		t.Fatalf("the patch logged %s (%+v) at revision %d", changeString(changes), changes, rev)
	}
	wantNotFound(t, "PatchObject of a missing object", s.PatchObject(ctx, c.ID, "nope.ics", storage.PatchOptions{Set: storage.Props{"{urn:x}p": []byte("v")}}))
	if now := revision(t, s, c.ID); now != rev {
		t.Fatalf("a refused patch moved the revision %d → %d", rev, now)
	}
	if _, err := s.Object(ctx, c.ID, "nope.ics", storage.ReadOptions{}); err == nil {
		t.Fatal("a patch of a missing object made it")
	}
	if err := s.DeleteCollection(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	wantNotFound(t, "PatchObject in a deleted collection", s.PatchObject(ctx, c.ID, "a.ics", storage.PatchOptions{Set: storage.Props{"{urn:x}p": []byte("w")}}))
	wantNotFound(t, "PatchCollection of a deleted collection", s.PatchCollection(ctx, c.ID, storage.PatchOptions{Set: storage.Props{"{urn:x}p": []byte("w")}}))
}

// testScopeProps: the principal's properties and each home's are apart
// from each other, from the collections' and from another user's.
func testScopeProps(t *testing.T, users userSpaces) {
	alice, bob := users(t, "alice"), users(t, "bob")
	ctx := context.Background()
	scopes := []storage.Scope{storage.ScopePrincipal, storage.ScopeCalendars, storage.ScopeAddressBooks}
	for _, scope := range scopes {
		if err := alice.PatchProps(ctx, scope, storage.PatchOptions{Set: storage.Props{"{urn:x}where": []byte(scope), "{urn:x}" + string(scope): []byte("1")}}); err != nil {
			t.Fatal(err)
		}
	}
	c := mustCollection(t, alice, "work")
	if err := alice.PatchCollection(ctx, c.ID, storage.PatchOptions{Set: storage.Props{"{urn:x}where": []byte("collection")}}); err != nil {
		t.Fatal(err)
	}
	if err := alice.PatchProps(ctx, storage.ScopeCalendars, storage.PatchOptions{Remove: []string{"{urn:x}calendars"}}); err != nil {
		t.Fatal(err)
	}
	want := map[storage.Scope]string{
		storage.ScopePrincipal:    "{urn:x}principal=1 {urn:x}where=principal",
		storage.ScopeCalendars:    "{urn:x}where=calendars",
		storage.ScopeAddressBooks: "{urn:x}addressbooks=1 {urn:x}where=addressbooks",
	}
	for _, scope := range scopes {
		p, err := alice.Props(ctx, scope)
		if err != nil || propString(p) != want[scope] {
			t.Errorf("alice's %s: %s, %v; want %s", scope, propString(p), err, want[scope])
		}
		if p, err := bob.Props(ctx, scope); err != nil || len(p) != 0 {
			t.Errorf("bob's %s: %s, %v", scope, propString(p), err)
		}
	}
	if got, _ := alice.Collection(ctx, storage.HomeCalendars, "work"); propString(got.Props) != mustCollectionProps+" {urn:x}where=collection" {
		t.Fatalf("the collection's properties: %s", propString(got.Props))
	}
}

// mustCollectionProps are the properties of a mustCollection, as propString renders them.
const mustCollectionProps = "{DAV:}displayname=<D:displayname>Work MARKER-COLL</D:displayname>"

// testUsage: a user's usage is the bytes of every object's body and name
// and of every property, with its name, of objects, collections and
// scopes (storage.Object.Charge and storage.Props.Size), through every
// kind of write, and counts nothing of another user's; Counts agrees.
func testUsage(t *testing.T, users userSpaces) {
	s, bob := users(t, "alice"), users(t, "bob")
	ctx := context.Background()
	usage := func(s storage.Space) int64 {
		t.Helper()
		n, err := s.Usage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := usage(s); n != 0 {
		t.Fatalf("a new user uses %d bytes", n)
	}
	c, err := s.CreateCollection(ctx, storage.NewCollection{Home: storage.HomeCalendars, Name: "c", Kind: storage.KindCalendar, Props: storage.Props{"{x}p": []byte("12345")}})
	if err != nil {
		t.Fatal(err)
	}
	exact := []struct {
		name  string
		write func() error
		want  int64
	}{
		{"a collection's properties", func() error { return nil }, 4 + 5},
		{"an object", func() error {
			_, err := s.PutObject(ctx, c.ID, storage.PutOptions{Name: "a.ics", Body: bytes.Repeat([]byte("b"), 100)})
			return err
		}, 9 + 100 + 5},
		{"its properties", func() error {
			return s.PatchObject(ctx, c.ID, "a.ics", storage.PatchOptions{Set: storage.Props{"{x}q": []byte("123")}})
		}, 114 + 4 + 3},
		{"a shorter body", func() error {
			_, err := s.PutObject(ctx, c.ID, storage.PutOptions{Name: "a.ics", Body: bytes.Repeat([]byte("b"), 60)})
			return err
		}, 121 - 40},
		{"a scope's properties", func() error {
			return s.PatchProps(ctx, storage.ScopePrincipal, storage.PatchOptions{Set: storage.Props{"{x}me": []byte("1234567")}})
		}, 81 + 5 + 7},
		{"a property of the collection replaced", func() error {
			return s.PatchCollection(ctx, c.ID, storage.PatchOptions{Set: storage.Props{"{x}p": []byte("1")}})
		}, 93 - 4},
		{"the object deleted", func() error { return s.DeleteObject(ctx, c.ID, "a.ics", storage.DeleteOptions{}) }, 89 - 60 - 5 - 7},
	}
	for _, st := range exact {
		if err := st.write(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if n := usage(s); n != st.want {
			t.Fatalf("after %s: usage %d, want %d", st.name, n, st.want)
		}
	}
	// Whatever is written, usage adds up what the calls read back.
	// Counts gives each collection's share of it, and the collections.
	sum := func() int64 {
		t.Helper()
		var n int64
		var all []storage.Collection
		for _, home := range []storage.Home{storage.HomeCalendars, storage.HomeAddressBooks} {
			cs, err := s.Collections(ctx, home)
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, cs...)
		}
		for _, c := range all {
			bytes := c.Props.Size()
			objs, err := s.Objects(ctx, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range objs {
				bytes += o.Charge()
			}
			want := storage.Counts{Collections: int64(len(all)), Objects: int64(len(objs)), Bytes: bytes}
			if got, err := s.Counts(ctx, c.ID); err != nil || got != want {
				t.Fatalf("Counts(%s/%s) = %+v, %v; it holds %+v", c.Home, c.Name, got, err, want)
			}
			n += bytes
		}
		for _, scope := range []storage.Scope{storage.ScopePrincipal, storage.ScopeCalendars, storage.ScopeAddressBooks} {
			p, err := s.Props(ctx, scope)
			if err != nil {
				t.Fatal(err)
			}
			n += p.Size()
		}
		return n
	}
	book := newCollection(t, s, storage.HomeAddressBooks, "book", storage.KindAddressBook)
	plain := newCollection(t, s, storage.HomeCalendars, "p", storage.KindPlain)
	nested := newCollection(t, s, storage.HomeCalendars, "p/q", storage.KindPlain)
	steps := []struct {
		name  string
		write func() error
	}{
		{"objects everywhere", func() error {
			for i, coll := range []int64{c.ID, book.ID, plain.ID, nested.ID} {
				for j := range 3 {
					if _, err := s.PutObject(ctx, coll, storage.PutOptions{Name: fmt.Sprintf("o%d-%d.ics", i, j), Body: bytes.Repeat([]byte("x"), 10*i+j)}); err != nil {
						return err
					}
				}
			}
			return nil
		}},
		{"properties everywhere", func() error {
			for _, scope := range []storage.Scope{storage.ScopeCalendars, storage.ScopeAddressBooks} {
				if err := s.PatchProps(ctx, scope, storage.PatchOptions{Set: storage.Props{"{x}s": []byte(scope)}}); err != nil {
					return err
				}
			}
			if err := s.PatchCollection(ctx, book.ID, storage.PatchOptions{Set: storage.Props{"{x}b": []byte("book")}}); err != nil {
				return err
			}
			return s.PatchObject(ctx, book.ID, "o1-2.ics", storage.PatchOptions{Set: storage.Props{"{x}o": []byte("object")}})
		}},
		{"a copy", func() error {
			_, err := s.TransferObject(ctx, book.ID, "o1-2.ics", plain.ID, "copy.ics", storage.TransferOptions{})
			return err
		}},
		{"a move onto a longer name", func() error {
			_, err := s.TransferObject(ctx, plain.ID, "copy.ics", nested.ID, "a-much-longer-name.ics", storage.TransferOptions{Move: true})
			return err
		}},
		{"a collection copy", func() error {
			_, err := s.TransferCollection(ctx, plain.ID, storage.HomeCalendars, "p2", storage.TransferOptions{})
			return err
		}},
		{"a collection move", func() error {
			_, err := s.TransferCollection(ctx, book.ID, storage.HomeAddressBooks, "renamed", storage.TransferOptions{Move: true})
			return err
		}},
		{"a collection deleted with what it holds", func() error { return s.DeleteCollection(ctx, plain.ID) }},
		{"a property removed", func() error {
			return s.PatchProps(ctx, storage.ScopePrincipal, storage.PatchOptions{Remove: []string{"{x}me"}})
		}},
	}
	for _, st := range steps {
		if err := st.write(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if n, want := usage(s), sum(); n != want {
			t.Fatalf("after %s: usage %d, the resources add up to %d", st.name, n, want)
		}
	}
	if n := usage(bob); n != 0 {
		t.Fatalf("bob uses %d bytes", n)
	}
}
