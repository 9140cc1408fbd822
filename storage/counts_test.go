package storage

import (
	"context"
	"fmt"
	"testing"
)

// TestKeptTotalsAgreeWithRows: the object count and byte total kept on
// each collection row equal what the objects themselves add up to, and
// each object has its one body, after every kind of write.
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
		rows, err := db.read.Query(`SELECT c.id, c.object_count, c.object_bytes, count(o.size), coalesce(sum(o.size), 0)
			FROM collections c LEFT JOIN objects o ON o.collection_id = c.id GROUP BY c.id`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var id, keptN, keptB, n, bytes int64
			if err := rows.Scan(&id, &keptN, &keptB, &n, &bytes); err != nil {
				t.Fatal(err)
			}
			if keptN != n || keptB != bytes {
				t.Fatalf("%s: collection %d keeps %d objects / %d bytes, holds %d / %d", step, id, keptN, keptB, n, bytes)
			}
			if c, err := s.Counts(ctx, id); err != nil || c.Objects != n || c.Bytes != bytes {
				t.Fatalf("%s: Counts(%d) = %+v, %v", step, id, c, err)
			}
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
	if n, err := s.Usage(ctx); err != nil || n == 0 {
		t.Fatalf("usage %d, %v", n, err)
	}
}
