package storage

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
)

// TestKeptTotalsAgreeWithRows: the object count and byte total kept on
// each collection row equal what the objects themselves add up to (body,
// name and dead properties) plus the collection's properties, and each
// object has its one body, after every kind of write.
func TestKeptTotalsAgreeWithRows(t *testing.T) {
	db, s, _ := testSpace(t)
	ctx := context.Background()
	a := mustCollection(t, s, "a")
	b := mustCollection(t, s, "b")
	put := func(c *Collection, name, body string) {
		t.Helper()
		if _, err := s.PutObject(ctx, c.ID, PutOptions{Name: name, Body: []byte(body)}); err != nil {
			t.Fatal(err)
		}
	}
	check := func(step string) {
		t.Helper()
		all, err := s.Collections(ctx, HomeCalendars)
		if err != nil {
			t.Fatal(err)
		}
		var usage int64
		for _, c := range all {
			objs, err := s.Objects(ctx, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			bytes := c.Props.Size()
			for _, o := range objs {
				bytes += o.Charge()
			}
			usage += bytes
			if k, err := s.Counts(ctx, c.ID); err != nil || k.Objects != int64(len(objs)) || k.Bytes != bytes {
				t.Fatalf("%s: Counts(%s) = %+v, %v; holds %d objects, %d bytes", step, c.Name, k, err, len(objs), bytes)
			}
		}
		if n, err := s.Usage(ctx); err != nil || n != usage {
			t.Fatalf("%s: usage %d, %v; holds %d", step, n, err, usage)
		}
		// Every object has exactly one body, and no body outlives its object.
		var objects, bodies, orphans int
		if err := db.read.QueryRow(`SELECT (SELECT count(*) FROM objects), (SELECT count(*) FROM object_bodies),
			(SELECT count(*) FROM object_bodies b LEFT JOIN objects o ON o.id = b.object_id WHERE o.id IS NULL)`).Scan(&objects, &bodies, &orphans); err != nil {
			t.Fatal(err)
		}
		if objects != bodies || orphans != 0 {
			t.Fatalf("%s: %d objects, %d bodies, %d orphaned bodies", step, objects, bodies, orphans)
		}
	}
	for i := 0; i < 5; i++ {
		put(a, fmt.Sprint(i), fmt.Sprint("body-", i))
	}
	check("create")
	put(a, "1", "a much longer body than before")
	check("replace")
	if err := s.PatchObject(ctx, a.ID, "1", PatchOptions{Set: Props{"{x}a": []byte("<x:a>value</x:a>"), "{x}b": []byte("<x:b/>")}}); err != nil {
		t.Fatal(err)
	}
	check("object properties set")
	if err := s.PatchObject(ctx, a.ID, "1", PatchOptions{Remove: []string{"{x}b"}}); err != nil {
		t.Fatal(err)
	}
	check("object property removed")
	if err := s.PatchCollection(ctx, a.ID, PatchOptions{Set: Props{"{DAV:}displayname": []byte("<D:displayname>A much longer name</D:displayname>")}}); err != nil {
		t.Fatal(err)
	}
	check("collection properties")
	if err := s.DeleteObject(ctx, a.ID, "2", DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	check("delete")
	if _, err := s.TransferObject(ctx, a.ID, "3", b.ID, "3", TransferOptions{Move: true}); err != nil {
		t.Fatal(err)
	}
	check("move")
	if _, err := s.TransferObject(ctx, a.ID, "1", b.ID, "3", TransferOptions{Overwrite: true}); err != nil {
		t.Fatal(err)
	}
	check("copy over")
	if _, err := s.TransferCollection(ctx, b.ID, HomeCalendars, "c", TransferOptions{}); err != nil {
		t.Fatal(err)
	}
	check("collection copy")
	if _, err := s.TransferCollection(ctx, a.ID, HomeCalendars, "d", TransferOptions{Move: true}); err != nil {
		t.Fatal(err)
	}
	check("collection move")
}

// TestChangeLogKeepsOneRowPerName: the change log holds one row per object
// name, tombstones included, however often a name is written and deleted,
// so that with names capped (255 bytes in the DAV layer) it never
// outgrows the collection plus its deletions.
func TestChangeLogKeepsOneRowPerName(t *testing.T) {
	db, s, _ := testSpace(t)
	ctx := context.Background()
	c := mustCollection(t, s, "log")
	cycle := func(name string) {
		t.Helper()
		if _, err := s.PutObject(ctx, c.ID, PutOptions{Name: name, Body: []byte("x")}); err != nil {
			t.Fatal(err)
		}
		if err := s.PatchObject(ctx, c.ID, name, PatchOptions{Set: Props{"{x}p": []byte("v")}}); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteObject(ctx, c.ID, name, DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	rows := func() (n, bytes int64) {
		t.Helper()
		if err := db.read.QueryRow(`SELECT count(*), coalesce(sum(length(name_sealed)), 0) FROM changes WHERE collection_id = ?`, c.ID).Scan(&n, &bytes); err != nil {
			t.Fatal(err)
		}
		return n, bytes
	}
	long := func(i int) string { return fmt.Sprintf("%0255d", i) }
	tests := []struct {
		name     string
		names    func(i int) string
		wantRows int64
	}{
		{"one name, 60 cycles", func(int) string { return long(0) }, 1},
		{"60 names", long, 60}, // name 0 again, and 59 new ones
	}
	for _, tc := range tests {
		for i := range 60 {
			cycle(tc.names(i))
		}
		n, bytes := rows()
		if n != tc.wantRows || bytes > n*(255+64) {
			t.Errorf("%s: the log holds %d rows of %d bytes, want %d rows of at most 255 bytes and the sealing", tc.name, n, bytes, tc.wantRows)
		}
	}
	changes, _, err := s.Changes(ctx, c.ID, 0)
	if err != nil || len(changes) != 60 || !changes[0].Deleted {
		t.Fatalf("Changes: %d, %v", len(changes), err)
	}
}

// TestChangeLogForgetsOldestDeletions: a collection's change log remembers
// at most MaxTombstones deletions, so create-and-delete cycles of new names
// cannot grow it without bound; a token older than what it forgot gets
// ErrBadRevision (a fresh sync), and a newer one still gets every change.
func TestChangeLogForgetsOldestDeletions(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "coffer.db"), Options{MaxTombstones: 50})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s := newUserSpace(t, db, "alice")
	c := mustCollection(t, s, "log")
	keep, err := s.PutObject(ctx, c.ID, PutOptions{Name: "kept", Body: []byte("x")})
	if err != nil {
		t.Fatal(err)
	}
	oldToken := keep.Object.Revision
	var recent int64
	for i := range 200 {
		name := fmt.Sprintf("n%03d", i)
		if _, err := s.PutObject(ctx, c.ID, PutOptions{Name: name, Body: []byte("x")}); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteObject(ctx, c.ID, name, DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		if i == 195 {
			_, recent, _ = s.Changes(ctx, c.ID, 0)
		}
	}
	var rows, tombstones int64
	if err := db.read.QueryRow(`SELECT (SELECT count(*) FROM changes WHERE collection_id = ?1), tombstones FROM collections WHERE id = ?1`, c.ID).Scan(&rows, &tombstones); err != nil {
		t.Fatal(err)
	}
	if rows > 51 || tombstones != rows-1 {
		t.Fatalf("after 200 deletions the log holds %d rows (%d deletions counted), want at most 50 deletions and the live object", rows, tombstones)
	}
	if _, _, err := s.Changes(ctx, c.ID, oldToken); !errors.Is(err, ErrBadRevision) {
		t.Fatalf("a token from before the forgotten deletions: %v, want ErrBadRevision", err)
	}
	got, _, err := s.Changes(ctx, c.ID, recent)
	if err != nil || len(got) != 4 {
		t.Fatalf("a recent token: %d changes (%v), want the 4 deletions after it", len(got), err)
	}
	for _, ch := range got {
		if !ch.Deleted {
			t.Fatalf("unexpected change %+v", ch)
		}
	}
	// Bringing a deleted name back turns its deletion into a live change.
	if _, err := s.PutObject(ctx, c.ID, PutOptions{Name: "n199", Body: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	if err := db.read.QueryRow(`SELECT tombstones FROM collections WHERE id = ?`, c.ID).Scan(&tombstones); err != nil || tombstones != rows-2 {
		t.Fatalf("deletions counted after a name came back: %d, want %d", tombstones, rows-2)
	}
}
