package storagetest

import (
	"context"
	"sort"
	"strings"
	"testing"

	"github.com/coffer-dav/coffer/storage"
)

// indexOf renders a collection's index as "name=etag:index", by name,
// after checking that each entry's ETag is its object's and that the
// revision is the collection's.
func indexOf(t *testing.T, s storage.Space, coll int64) string {
	t.Helper()
	entries, rev, err := s.Index(context.Background(), coll)
	if err != nil {
		t.Fatalf("Index: %v", err)
	}
	if now := revision(t, s, coll); rev != now {
		t.Fatalf("Index at revision %d, the collection is at %d", rev, now)
	}
	etags := objectETags(t, s, coll)
	out := make([]string, len(entries))
	for i, e := range entries {
		if etag, ok := etags[e.Name]; !ok || etag != e.ETag {
			t.Fatalf("an index entry %s with ETag %s; Objects lists it with %q (%v)", e.Name, e.ETag, etag, ok)
		}
		delete(etags, e.Name)
		out[i] = e.Name + "=" + e.ETag + ":" + string(e.Index)
	}
	if len(etags) != 0 {
		t.Fatalf("objects without an index entry: %v", etags)
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

// sortedFields sorts the fields of s, separated by spaces.
func sortedFields(s string) string {
	f := strings.Fields(s)
	sort.Strings(f)
	return strings.Join(f, " ")
}

// testIndex: Index gives every object's entry as its last PUT gave it,
// with the object's ETag and the revision it reflects, through every
// kind of write.
func testIndex(t *testing.T, users userSpaces) {
	s := users(t, "alice")
	ctx := context.Background()
	c := mustCollection(t, s, "c")
	other := mustCollection(t, s, "other")
	etag := map[string]string{}
	put := func(coll int64, name, index string) {
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
		{"created", func() { put(c.ID, "a", "1"); put(c.ID, "b", "2") }, func() string { return entry("a", "1") + " " + entry("b", "2") }},
		{"read again", func() {}, func() string { return entry("a", "1") + " " + entry("b", "2") }},
		{"replaced and created", func() { put(c.ID, "a", "1b"); put(c.ID, "c", "3") }, func() string {
			return entry("a", "1b") + " " + entry("b", "2") + " " + entry("c", "3")
		}},
		{"a property patched", func() {
			if err := s.PatchObject(ctx, c.ID, "b", storage.PatchOptions{Set: storage.Props{"{urn:x}p": []byte("v")}}); err != nil {
				t.Fatal(err)
			}
		}, func() string { return entry("a", "1b") + " " + entry("b", "2") + " " + entry("c", "3") }},
		{"deleted", func() {
			if err := s.DeleteObject(ctx, c.ID, "b", storage.DeleteOptions{}); err != nil {
				t.Fatal(err)
			}
		}, func() string { return entry("a", "1b") + " " + entry("c", "3") }},
		{"moved in", func() {
			put(other.ID, "m", "9")
			if _, err := s.TransferObject(ctx, other.ID, "m", c.ID, "m", storage.TransferOptions{Move: true}); err != nil {
				t.Fatal(err)
			}
		}, func() string { return entry("a", "1b") + " " + entry("c", "3") + " " + entry("m", "9") }},
		{"copied within", func() {
			if _, err := s.TransferObject(ctx, c.ID, "c", c.ID, "c2", storage.TransferOptions{}); err != nil {
				t.Fatal(err)
			}
			etag["c2"] = etag["c"]
		}, func() string {
			return entry("a", "1b") + " " + entry("c", "3") + " " + entry("c2", "3") + " " + entry("m", "9")
		}},
		{"without an index", func() { put(c.ID, "plain", "") }, func() string {
			return entry("a", "1b") + " " + entry("c", "3") + " " + entry("c2", "3") + " " + entry("m", "9") + " " + entry("plain", "")
		}},
		{"an index dropped by a PUT", func() { put(c.ID, "a", "") }, func() string {
			return entry("a", "") + " " + entry("c", "3") + " " + entry("c2", "3") + " " + entry("m", "9") + " " + entry("plain", "")
		}},
	}
	for _, st := range steps {
		st.do()
		if got, want := indexOf(t, s, c.ID), sortedFields(st.want()); got != want {
			t.Fatalf("%s: the index holds %q, want %q", st.name, got, want)
		}
	}
	if got := indexOf(t, s, other.ID); got != "" {
		t.Fatalf("the index of the collection moved out of holds %q", got)
	}
	if err := s.DeleteCollection(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	_, _, err := s.Index(ctx, c.ID)
	wantNotFound(t, "Index of a deleted collection", err)
}
