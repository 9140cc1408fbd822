package storagetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/coffer-dav/coffer/storage"
)

// Spaces opens a fresh database of an engine and returns what makes a new
// user's space on it.
type Spaces func(t *testing.T) func(t *testing.T, username string) storage.Space

// Limits runs the contract of the counts and limits that the Space role
// checks inside its writing transactions.
func Limits(t *testing.T, open Spaces) {
	t.Run("counts", func(t *testing.T) { counts(t, open) })
	t.Run("limits", func(t *testing.T) { limits(t, open) })
	t.Run("concurrent", func(t *testing.T) { limitsConcurrent(t, open) })
}

// mustCollection creates a calendar with a display name of 64 bytes, the
// properties, with their name, that the counts below expect.
func mustCollection(t *testing.T, s storage.Space, name string) *storage.Collection {
	t.Helper()
	c, err := s.CreateCollection(context.Background(), storage.NewCollection{Home: storage.HomeCalendars, Name: name, Kind: storage.KindCalendar,
		Props: storage.Props{"{DAV:}displayname": []byte("<D:displayname>Work MARKER-COLL</D:displayname>")}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// counts: collections are counted per user, objects and bytes per
// collection, and another user's collection counts nothing.
func counts(t *testing.T, open Spaces) {
	newUser := open(t)
	s := newUser(t, "alice")
	ctx := context.Background()
	a := mustCollection(t, s, "a")
	b := mustCollection(t, s, "b")
	for _, name := range []string{"one", "two", "three"} {
		if _, err := s.PutObject(ctx, a.ID, storage.PutOptions{Name: name, Body: []byte(name)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.DeleteObject(ctx, a.ID, "two", storage.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	other := newUser(t, "bob")
	theirs := mustCollection(t, other, "mine")
	if _, err := other.PutObject(ctx, theirs.ID, storage.PutOptions{Name: "x", Body: []byte("xyz")}); err != nil {
		t.Fatal(err)
	}
	// A collection of mustCollection has 64 bytes of properties: "{DAV:}displayname" and its value.
	tests := []struct {
		name       string
		space      storage.Space
		collection int64
		want       storage.Counts
	}{
		{"no collection", s, 0, storage.Counts{Collections: 2}},
		{"with objects", s, a.ID, storage.Counts{Collections: 2, Objects: 2, Bytes: 64 + 8 + 8}}, // bodies and names,
		{"empty", s, b.ID, storage.Counts{Collections: 2, Bytes: 64}},
		{"another user's collection", s, theirs.ID, storage.Counts{Collections: 2}},
		{"the other user", other, theirs.ID, storage.Counts{Collections: 1, Objects: 1, Bytes: 64 + 3 + 1}},
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

// limits: every write that would exceed one of its storage.Limits fails with a
// *storage.LimitError naming it and changes nothing; what a write replaces is
// credited, and what does not grow is always allowed.
func limits(t *testing.T, open Spaces) {
	ctx := context.Background()
	body := func(n int) []byte { return bytes.Repeat([]byte("x"), n) }
	// Each case starts from collection a holding "one" (100 bytes) and an
	// empty collection b; used is the account's bytes then.
	tests := []struct {
		name   string
		limits func(used int64) storage.Limits
		write  func(s storage.Space, a, b *storage.Collection, l storage.Limits) error
		want   storage.Limit // 0: allowed
	}{
		{"new object beyond the quota", func(u int64) storage.Limits { return storage.Limits{QuotaBytes: u + 50} },
			func(s storage.Space, a, b *storage.Collection, l storage.Limits) error {
				_, err := s.PutObject(ctx, a.ID, storage.PutOptions{Name: "two", Body: body(50), Limits: l})
				return err
			}, storage.LimitQuota},
		{"new object just within the quota", func(u int64) storage.Limits { return storage.Limits{QuotaBytes: u + 53} },
			func(s storage.Space, a, b *storage.Collection, l storage.Limits) error {
				_, err := s.PutObject(ctx, a.ID, storage.PutOptions{Name: "two", Body: body(50), Limits: l})
				return err
			}, 0},
		{"replace credits the old body", func(u int64) storage.Limits { return storage.Limits{QuotaBytes: u + 10} },
			func(s storage.Space, a, b *storage.Collection, l storage.Limits) error {
				_, err := s.PutObject(ctx, a.ID, storage.PutOptions{Name: "one", Body: body(110), Limits: l})
				return err
			}, 0},
		{"replace beyond the quota", func(u int64) storage.Limits { return storage.Limits{QuotaBytes: u + 10} },
			func(s storage.Space, a, b *storage.Collection, l storage.Limits) error {
				_, err := s.PutObject(ctx, a.ID, storage.PutOptions{Name: "one", Body: body(111), Limits: l})
				return err
			}, storage.LimitQuota},
		{"shrinking over a lowered quota", func(u int64) storage.Limits { return storage.Limits{QuotaBytes: u / 2} },
			func(s storage.Space, a, b *storage.Collection, l storage.Limits) error {
				_, err := s.PutObject(ctx, a.ID, storage.PutOptions{Name: "one", Body: body(90), Limits: l})
				return err
			}, 0},
		{"new object beyond the count", func(int64) storage.Limits { return storage.Limits{MaxObjects: 1} },
			func(s storage.Space, a, b *storage.Collection, l storage.Limits) error {
				_, err := s.PutObject(ctx, a.ID, storage.PutOptions{Name: "two", Body: body(1), Limits: l})
				return err
			}, storage.LimitObjects},
		{"replace in a full collection", func(int64) storage.Limits { return storage.Limits{MaxObjects: 1} },
			func(s storage.Space, a, b *storage.Collection, l storage.Limits) error {
				_, err := s.PutObject(ctx, a.ID, storage.PutOptions{Name: "one", Body: body(1), Limits: l})
				return err
			}, 0},
		{"copy into a full collection", func(int64) storage.Limits { return storage.Limits{MaxObjects: 1} },
			func(s storage.Space, a, b *storage.Collection, l storage.Limits) error {
				_, err := s.TransferObject(ctx, a.ID, "one", a.ID, "copy", storage.TransferOptions{Limits: l})
				return err
			}, storage.LimitObjects},
		{"rename in a full collection", func(int64) storage.Limits { return storage.Limits{MaxObjects: 1, QuotaBytes: 1} },
			func(s storage.Space, a, b *storage.Collection, l storage.Limits) error {
				_, err := s.TransferObject(ctx, a.ID, "one", a.ID, "a-longer-name", storage.TransferOptions{Move: true, Limits: l})
				return err
			}, 0},
		{"copy beyond the quota", func(u int64) storage.Limits { return storage.Limits{QuotaBytes: u + 50} },
			func(s storage.Space, a, b *storage.Collection, l storage.Limits) error {
				_, err := s.TransferObject(ctx, a.ID, "one", b.ID, "one", storage.TransferOptions{Limits: l})
				return err
			}, storage.LimitQuota},
		{"new collection beyond the count", func(int64) storage.Limits { return storage.Limits{MaxCollections: 2} },
			func(s storage.Space, a, b *storage.Collection, l storage.Limits) error {
				_, err := s.CreateCollection(ctx, storage.NewCollection{Home: storage.HomeCalendars, Name: "c", Kind: storage.KindCalendar, Limits: l})
				return err
			}, storage.LimitCollections},
		{"new collection within the count", func(int64) storage.Limits { return storage.Limits{MaxCollections: 3} },
			func(s storage.Space, a, b *storage.Collection, l storage.Limits) error {
				_, err := s.CreateCollection(ctx, storage.NewCollection{Home: storage.HomeCalendars, Name: "c", Kind: storage.KindCalendar, Limits: l})
				return err
			}, 0},
		{"new collection with too many properties", func(int64) storage.Limits { return storage.Limits{MaxPropsBytes: 10} },
			func(s storage.Space, a, b *storage.Collection, l storage.Limits) error {
				_, err := s.CreateCollection(ctx, storage.NewCollection{Home: storage.HomeCalendars, Name: "c", Kind: storage.KindCalendar, Props: storage.Props{"{x}p": body(7)}, Limits: l})
				return err
			}, storage.LimitProps},
		{"new collection beyond the quota", func(u int64) storage.Limits { return storage.Limits{QuotaBytes: u + 10} },
			func(s storage.Space, a, b *storage.Collection, l storage.Limits) error {
				_, err := s.CreateCollection(ctx, storage.NewCollection{Home: storage.HomeCalendars, Name: "c", Kind: storage.KindCalendar, Props: storage.Props{"{x}p": body(7)}, Limits: l})
				return err
			}, storage.LimitQuota},
		{"collection copy beyond the count", func(int64) storage.Limits { return storage.Limits{MaxCollections: 2} },
			func(s storage.Space, a, b *storage.Collection, l storage.Limits) error {
				_, err := s.TransferCollection(ctx, a.ID, storage.HomeCalendars, "c", storage.TransferOptions{Limits: l})
				return err
			}, storage.LimitCollections},
		{"collection copy replacing one", func(int64) storage.Limits { return storage.Limits{MaxCollections: 2} },
			func(s storage.Space, a, b *storage.Collection, l storage.Limits) error {
				_, err := s.TransferCollection(ctx, a.ID, storage.HomeCalendars, "b", storage.TransferOptions{Overwrite: true, Limits: l})
				return err
			}, 0},
		{"collection copy beyond the quota", func(u int64) storage.Limits { return storage.Limits{QuotaBytes: u + 100} },
			func(s storage.Space, a, b *storage.Collection, l storage.Limits) error {
				_, err := s.TransferCollection(ctx, a.ID, storage.HomeCalendars, "c", storage.TransferOptions{Limits: l})
				return err
			}, storage.LimitQuota},
		{"collection move at the count", func(int64) storage.Limits { return storage.Limits{MaxCollections: 2, QuotaBytes: 1} },
			func(s storage.Space, a, b *storage.Collection, l storage.Limits) error {
				_, err := s.TransferCollection(ctx, a.ID, storage.HomeCalendars, "c", storage.TransferOptions{Move: true, Limits: l})
				return err
			}, 0},
		{"object properties beyond their cap", func(int64) storage.Limits { return storage.Limits{MaxPropsBytes: 10} },
			func(s storage.Space, a, b *storage.Collection, l storage.Limits) error {
				return s.PatchObject(ctx, a.ID, "one", storage.PatchOptions{Set: storage.Props{"{x}p": body(7)}, Limits: l})
			}, storage.LimitProps},
		{"object properties within their cap", func(int64) storage.Limits { return storage.Limits{MaxPropsBytes: 11} },
			func(s storage.Space, a, b *storage.Collection, l storage.Limits) error {
				return s.PatchObject(ctx, a.ID, "one", storage.PatchOptions{Set: storage.Props{"{x}p": body(7)}, Limits: l})
			}, 0},
		{"object properties beyond the quota", func(u int64) storage.Limits { return storage.Limits{QuotaBytes: u + 10} },
			func(s storage.Space, a, b *storage.Collection, l storage.Limits) error {
				return s.PatchObject(ctx, a.ID, "one", storage.PatchOptions{Set: storage.Props{"{x}p": body(7)}, Limits: l})
			}, storage.LimitQuota},
		{"collection properties beyond their cap", func(int64) storage.Limits { return storage.Limits{MaxPropsBytes: 70} },
			func(s storage.Space, a, b *storage.Collection, l storage.Limits) error {
				return s.PatchCollection(ctx, a.ID, storage.PatchOptions{Set: storage.Props{"{x}p": body(7)}, Limits: l})
			}, storage.LimitProps},
		{"collection properties shrinking over their cap", func(int64) storage.Limits { return storage.Limits{MaxPropsBytes: 10} },
			func(s storage.Space, a, b *storage.Collection, l storage.Limits) error {
				return s.PatchCollection(ctx, a.ID, storage.PatchOptions{Set: storage.Props{"{DAV:}displayname": body(20)}, Limits: l})
			}, 0},
		{"collection properties beyond the quota", func(u int64) storage.Limits { return storage.Limits{QuotaBytes: u + 10} },
			func(s storage.Space, a, b *storage.Collection, l storage.Limits) error {
				return s.PatchCollection(ctx, a.ID, storage.PatchOptions{Set: storage.Props{"{x}p": body(7)}, Limits: l})
			}, storage.LimitQuota},
		{"home properties beyond their cap", func(int64) storage.Limits { return storage.Limits{MaxPropsBytes: 10} },
			func(s storage.Space, a, b *storage.Collection, l storage.Limits) error {
				return s.PatchProps(ctx, storage.ScopeCalendars, storage.PatchOptions{Set: storage.Props{"{x}p": body(7)}, Limits: l})
			}, storage.LimitProps},
		{"principal properties beyond the quota", func(u int64) storage.Limits { return storage.Limits{QuotaBytes: u + 10} },
			func(s storage.Space, a, b *storage.Collection, l storage.Limits) error {
				return s.PatchProps(ctx, storage.ScopePrincipal, storage.PatchOptions{Set: storage.Props{"{x}p": body(7)}, Limits: l})
			}, storage.LimitQuota},
		{"copy in the place of a collection credits it", func(u int64) storage.Limits { return storage.Limits{QuotaBytes: u + 50} },
			func(s storage.Space, a, b *storage.Collection, l storage.Limits) error { // b's 64 bytes of properties go
				_, err := s.TransferObject(ctx, a.ID, "one", a.ID, "copy", storage.TransferOptions{Overwrite: true, ReplaceCollection: b.ID, Limits: l})
				return err
			}, 0},
		{"copy in the place of a collection beyond the quota", func(u int64) storage.Limits { return storage.Limits{QuotaBytes: u + 30} },
			func(s storage.Space, a, b *storage.Collection, l storage.Limits) error {
				_, err := s.TransferObject(ctx, a.ID, "one", a.ID, "copy", storage.TransferOptions{Overwrite: true, ReplaceCollection: b.ID, Limits: l})
				return err
			}, storage.LimitQuota},
		{"collection copy in the place of an object beyond the count", func(int64) storage.Limits { return storage.Limits{MaxCollections: 2} },
			func(s storage.Space, a, b *storage.Collection, l storage.Limits) error {
				_, err := s.TransferCollection(ctx, b.ID, storage.HomeCalendars, "one", storage.TransferOptions{Overwrite: true, ReplaceObjectIn: a.ID, Limits: l})
				return err
			}, storage.LimitCollections},
		{"no limits", func(int64) storage.Limits { return storage.Limits{} },
			func(s storage.Space, a, b *storage.Collection, l storage.Limits) error {
				_, err := s.TransferCollection(ctx, a.ID, storage.HomeCalendars, "c", storage.TransferOptions{Limits: l})
				return err
			}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)(t, "alice")
			a := mustCollection(t, s, "a")
			b := mustCollection(t, s, "b")
			if _, err := s.PutObject(ctx, a.ID, storage.PutOptions{Name: "one", Body: body(100)}); err != nil {
				t.Fatal(err)
			}
			used, err := s.Usage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			before, _ := s.Counts(ctx, a.ID)
			err = tc.write(s, a, b, tc.limits(used))
			var le *storage.LimitError
			switch {
			case tc.want == 0 && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want == 0:
				return
			case !errors.As(err, &le) || le.Limit != tc.want || !errors.Is(err, storage.ErrLimit):
				t.Fatalf("err = %v, want a *storage.LimitError of limit %d", err, tc.want)
			}
			after, _ := s.Counts(ctx, a.ID)
			if now, _ := s.Usage(ctx); now != used || after != before {
				t.Fatalf("a refused write changed usage %d → %d, counts %+v → %+v", used, now, before, after)
			}
		})
	}
}

// limitsConcurrent: writers racing for the last room in a collection
// or an account cannot take it past its cap, since each write checks its
// limits in its own transaction.
func limitsConcurrent(t *testing.T, open Spaces) {
	ctx := context.Background()
	const writers, room = 16, 5
	tests := []struct {
		name   string
		limits func(used int64) storage.Limits
		check  func(t *testing.T, s storage.Space, c *storage.Collection, used int64, l storage.Limits)
	}{
		{"object count", func(int64) storage.Limits { return storage.Limits{MaxObjects: room} },
			func(t *testing.T, s storage.Space, c *storage.Collection, _ int64, l storage.Limits) {
				if n, _ := s.Counts(ctx, c.ID); n.Objects > l.MaxObjects {
					t.Fatalf("%d objects in a collection that may hold %d", n.Objects, l.MaxObjects)
				}
			}},
		{"quota", func(used int64) storage.Limits { return storage.Limits{QuotaBytes: used + room*(100+2)} },
			func(t *testing.T, s storage.Space, c *storage.Collection, _ int64, l storage.Limits) {
				if n, _ := s.Usage(ctx); n > l.QuotaBytes {
					t.Fatalf("%d bytes used of a quota of %d", n, l.QuotaBytes)
				}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)(t, "alice")
			c := mustCollection(t, s, "a")
			used, _ := s.Usage(ctx)
			l := tc.limits(used)
			var wg sync.WaitGroup
			start := make(chan struct{})
			errs := make([]error, writers)
			for i := range writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					_, errs[i] = s.PutObject(ctx, c.ID, storage.PutOptions{Name: fmt.Sprintf("%02d", i), Body: bytes.Repeat([]byte("x"), 100), Limits: l})
				}()
			}
			close(start)
			wg.Wait()
			ok := 0
			for _, err := range errs {
				switch {
				case err == nil:
					ok++
				case !errors.Is(err, storage.ErrLimit):
					t.Fatal(err)
				}
			}
			if ok != room {
				t.Errorf("%d of %d writes stored, want %d", ok, writers, room)
			}
			tc.check(t, s, c, used, l)
		})
	}
}
