package storage

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// indexString renders index entries as "name=index" in name order.
func indexString(t *testing.T, s Space, coll int64) string {
	t.Helper()
	entries, _, err := s.Index(context.Background(), coll)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name+"="+string(e.Index))
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

func TestIndexFollowsChanges(t *testing.T) {
	_, s, _ := testSpace(t)
	ctx := context.Background()
	c := mustCollection(t, s, "c")
	other := mustCollection(t, s, "other")
	put := func(coll int64, name, index string) {
		t.Helper()
		if _, err := s.PutObject(ctx, coll, PutOptions{Name: name, Body: []byte(name + index), Index: []byte(index)}); err != nil {
			t.Fatal(err)
		}
	}
	put(c.ID, "a", "1")
	put(c.ID, "b", "2")
	steps := []struct {
		name string
		do   func()
		want string
	}{
		{"full scan", func() {}, "a=1 b=2"},
		{"cached, unchanged", func() {}, "a=1 b=2"},
		{"update and create", func() { put(c.ID, "a", "1b"); put(c.ID, "c", "3") }, "a=1b b=2 c=3"},
		{"delete", func() {
			if err := s.DeleteObject(ctx, c.ID, "b", DeleteOptions{}); err != nil {
				t.Fatal(err)
			}
		}, "a=1b c=3"},
		{"move in from another collection", func() {
			put(other.ID, "m", "9")
			if _, err := s.TransferObject(ctx, other.ID, "m", c.ID, "m", TransferOptions{Move: true}); err != nil {
				t.Fatal(err)
			}
		}, "a=1b c=3 m=9"},
		{"entry without index", func() {
			if _, err := s.PutObject(ctx, c.ID, PutOptions{Name: "plain", Body: []byte("x")}); err != nil {
				t.Fatal(err)
			}
		}, "a=1b c=3 m=9 plain="},
	}
	for _, st := range steps {
		st.do()
		if got := indexString(t, s, c.ID); got != st.want {
			t.Fatalf("%s: index %q, want %q", st.name, got, st.want)
		}
	}
	if got := indexString(t, s, other.ID); got != "" {
		t.Fatalf("moved-out entry still in the source index: %q", got)
	}
}

func TestIndexCacheIsBounded(t *testing.T) {
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "c.db"), Options{IndexCacheEntries: 10})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s := newUserSpace(t, db, "alice")
	ctx := context.Background()
	var colls []*Collection
	for i := 0; i < 4; i++ {
		c := mustCollection(t, s, fmt.Sprint("c", i))
		for j := 0; j < 6; j++ {
			if _, err := s.PutObject(ctx, c.ID, PutOptions{Name: fmt.Sprint(j), Body: []byte("x"), Index: []byte("i")}); err != nil {
				t.Fatal(err)
			}
		}
		colls = append(colls, c)
	}
	for _, c := range colls {
		if n := strings.Count(indexString(t, s, c.ID), "=i"); n != 6 {
			t.Fatalf("collection %s lists %d entries", c.Name, n)
		}
	}
	db.index.mu.Lock()
	defer db.index.mu.Unlock()
	if db.index.entries > 10 && len(db.index.colls) > 1 {
		t.Fatalf("cache holds %d entries in %d collections, bound 10", db.index.entries, len(db.index.colls))
	}
}

// TestPurgeDropsCachedIndex: the decrypted index entries cached for an
// account's collections go with the account; another account's stay.
// Before, the cache was keyed by collection alone and kept a purged
// account's entries until they were evicted.
func TestPurgeDropsCachedIndex(t *testing.T) {
	db, alice, _ := testSpace(t)
	bob := newUserSpace(t, db, "bob")
	ctx := context.Background()
	for _, s := range []Space{alice, bob} {
		c := mustCollection(t, s, "work")
		for j := 0; j < 3; j++ {
			if _, err := s.PutObject(ctx, c.ID, PutOptions{Name: fmt.Sprint(j), Body: []byte("x"), Index: []byte("i")}); err != nil {
				t.Fatal(err)
			}
		}
		if n := strings.Count(indexString(t, s, c.ID), "=i"); n != 3 {
			t.Fatalf("%d entries listed", n)
		}
	}
	acct, err := db.AccountByUsername(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteAccount(ctx, acct.ID); err != nil {
		t.Fatal(err)
	}
	db.index.mu.Lock()
	defer db.index.mu.Unlock()
	if db.index.entries != 3 || len(db.index.colls) != 1 {
		t.Fatalf("after alice's purge the cache holds %d entries in %d collections, want bob's 3 in 1", db.index.entries, len(db.index.colls))
	}
}

// TestIndexAfterForgottenDeletions: when the change log forgot deletions
// newer than a cached index, the next Index does not apply the delta,
// which lacks them, but scans again: the deleted objects are gone.
func TestIndexAfterForgottenDeletions(t *testing.T) {
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "c.db"), Options{MaxTombstones: 10})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s := newUserSpace(t, db, "alice")
	ctx := context.Background()
	c := mustCollection(t, s, "c")
	for j := 0; j < 30; j++ {
		if _, err := s.PutObject(ctx, c.ID, PutOptions{Name: fmt.Sprint(j), Body: []byte("x"), Index: []byte("i")}); err != nil {
			t.Fatal(err)
		}
	}
	if n := strings.Count(indexString(t, s, c.ID), "=i"); n != 30 {
		t.Fatalf("before: %d entries, want 30", n)
	}
	for j := 0; j < 25; j++ {
		if err := s.DeleteObject(ctx, c.ID, fmt.Sprint(j), DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if n := strings.Count(indexString(t, s, c.ID), "=i"); n != 5 {
		t.Fatalf("after 25 deletions, some forgotten: %d entries, want 5", n)
	}
}
