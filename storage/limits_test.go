package storage

import (
	"context"
	"testing"
)

// TestCounts: collections are counted per user, objects and bytes per
// collection, and another user's collection counts nothing.
func TestCounts(t *testing.T) {
	db, s, _ := testSpace(t)
	ctx := context.Background()
	a := mustCollection(t, s, "a")
	b := mustCollection(t, s, "b")
	for _, name := range []string{"one", "two", "three"} {
		if _, err := s.PutObject(ctx, a.ID, PutOptions{Name: name, Body: []byte(name)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.DeleteObject(ctx, a.ID, "two", DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	other := newUserSpace(t, db, "bob")
	theirs := mustCollection(t, other, "mine")
	if _, err := other.PutObject(ctx, theirs.ID, PutOptions{Name: "x", Body: []byte("xyz")}); err != nil {
		t.Fatal(err)
	}
	// A collection of mustCollection has 64 bytes of properties: "{DAV:}displayname" and its value.
	tests := []struct {
		name       string
		space      Space
		collection int64
		want       Counts
	}{
		{"no collection", s, 0, Counts{Collections: 2}},
		{"with objects", s, a.ID, Counts{Collections: 2, Objects: 2, Bytes: 64 + 8 + 8}}, // bodies and names,
		{"empty", s, b.ID, Counts{Collections: 2, Bytes: 64}},
		{"another user's collection", s, theirs.ID, Counts{Collections: 2}},
		{"the other user", other, theirs.ID, Counts{Collections: 1, Objects: 1, Bytes: 64 + 3 + 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.space.Counts(ctx, tc.collection)
			if err != nil || got != tc.want {
				t.Fatalf("Counts = %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
	if err := s.DeleteCollection(ctx, b.ID); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Counts(ctx, 0); got.Collections != 1 {
		t.Fatalf("after delete: %+v", got)
	}
}
