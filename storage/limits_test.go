package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
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

// TestLimits: every write that would exceed one of its Limits fails with a
// *LimitError naming it and changes nothing; what a write replaces is
// credited, and what does not grow is always allowed.
func TestLimits(t *testing.T) {
	ctx := context.Background()
	body := func(n int) []byte { return bytes.Repeat([]byte("x"), n) }
	// Each case starts from collection a holding "one" (100 bytes) and an
	// empty collection b; used is the account's bytes then.
	tests := []struct {
		name   string
		limits func(used int64) Limits
		write  func(s Space, a, b *Collection, l Limits) error
		want   Limit // 0: allowed
	}{
		{"new object beyond the quota", func(u int64) Limits { return Limits{QuotaBytes: u + 50} },
			func(s Space, a, b *Collection, l Limits) error {
				_, err := s.PutObject(ctx, a.ID, PutOptions{Name: "two", Body: body(50), Limits: l})
				return err
			}, LimitQuota},
		{"new object just within the quota", func(u int64) Limits { return Limits{QuotaBytes: u + 53} },
			func(s Space, a, b *Collection, l Limits) error {
				_, err := s.PutObject(ctx, a.ID, PutOptions{Name: "two", Body: body(50), Limits: l})
				return err
			}, 0},
		{"replace credits the old body", func(u int64) Limits { return Limits{QuotaBytes: u + 10} },
			func(s Space, a, b *Collection, l Limits) error {
				_, err := s.PutObject(ctx, a.ID, PutOptions{Name: "one", Body: body(110), Limits: l})
				return err
			}, 0},
		{"replace beyond the quota", func(u int64) Limits { return Limits{QuotaBytes: u + 10} },
			func(s Space, a, b *Collection, l Limits) error {
				_, err := s.PutObject(ctx, a.ID, PutOptions{Name: "one", Body: body(111), Limits: l})
				return err
			}, LimitQuota},
		{"shrinking over a lowered quota", func(u int64) Limits { return Limits{QuotaBytes: u / 2} },
			func(s Space, a, b *Collection, l Limits) error {
				_, err := s.PutObject(ctx, a.ID, PutOptions{Name: "one", Body: body(90), Limits: l})
				return err
			}, 0},
		{"new object beyond the count", func(int64) Limits { return Limits{MaxObjects: 1} },
			func(s Space, a, b *Collection, l Limits) error {
				_, err := s.PutObject(ctx, a.ID, PutOptions{Name: "two", Body: body(1), Limits: l})
				return err
			}, LimitObjects},
		{"replace in a full collection", func(int64) Limits { return Limits{MaxObjects: 1} },
			func(s Space, a, b *Collection, l Limits) error {
				_, err := s.PutObject(ctx, a.ID, PutOptions{Name: "one", Body: body(1), Limits: l})
				return err
			}, 0},
		{"copy into a full collection", func(int64) Limits { return Limits{MaxObjects: 1} },
			func(s Space, a, b *Collection, l Limits) error {
				_, err := s.TransferObject(ctx, a.ID, "one", a.ID, "copy", TransferOptions{Limits: l})
				return err
			}, LimitObjects},
		{"rename in a full collection", func(int64) Limits { return Limits{MaxObjects: 1, QuotaBytes: 1} },
			func(s Space, a, b *Collection, l Limits) error {
				_, err := s.TransferObject(ctx, a.ID, "one", a.ID, "a-longer-name", TransferOptions{Move: true, Limits: l})
				return err
			}, 0},
		{"copy beyond the quota", func(u int64) Limits { return Limits{QuotaBytes: u + 50} },
			func(s Space, a, b *Collection, l Limits) error {
				_, err := s.TransferObject(ctx, a.ID, "one", b.ID, "one", TransferOptions{Limits: l})
				return err
			}, LimitQuota},
		{"new collection beyond the count", func(int64) Limits { return Limits{MaxCollections: 2} },
			func(s Space, a, b *Collection, l Limits) error {
				_, err := s.CreateCollection(ctx, NewCollection{Home: HomeCalendars, Name: "c", Kind: KindCalendar, Limits: l})
				return err
			}, LimitCollections},
		{"new collection within the count", func(int64) Limits { return Limits{MaxCollections: 3} },
			func(s Space, a, b *Collection, l Limits) error {
				_, err := s.CreateCollection(ctx, NewCollection{Home: HomeCalendars, Name: "c", Kind: KindCalendar, Limits: l})
				return err
			}, 0},
		{"new collection with too many properties", func(int64) Limits { return Limits{MaxPropsBytes: 10} },
			func(s Space, a, b *Collection, l Limits) error {
				_, err := s.CreateCollection(ctx, NewCollection{Home: HomeCalendars, Name: "c", Kind: KindCalendar, Props: Props{"{x}p": body(7)}, Limits: l})
				return err
			}, LimitProps},
		{"new collection beyond the quota", func(u int64) Limits { return Limits{QuotaBytes: u + 10} },
			func(s Space, a, b *Collection, l Limits) error {
				_, err := s.CreateCollection(ctx, NewCollection{Home: HomeCalendars, Name: "c", Kind: KindCalendar, Props: Props{"{x}p": body(7)}, Limits: l})
				return err
			}, LimitQuota},
		{"collection copy beyond the count", func(int64) Limits { return Limits{MaxCollections: 2} },
			func(s Space, a, b *Collection, l Limits) error {
				_, err := s.TransferCollection(ctx, a.ID, HomeCalendars, "c", TransferOptions{Limits: l})
				return err
			}, LimitCollections},
		{"collection copy replacing one", func(int64) Limits { return Limits{MaxCollections: 2} },
			func(s Space, a, b *Collection, l Limits) error {
				_, err := s.TransferCollection(ctx, a.ID, HomeCalendars, "b", TransferOptions{Overwrite: true, Limits: l})
				return err
			}, 0},
		{"collection copy beyond the quota", func(u int64) Limits { return Limits{QuotaBytes: u + 100} },
			func(s Space, a, b *Collection, l Limits) error {
				_, err := s.TransferCollection(ctx, a.ID, HomeCalendars, "c", TransferOptions{Limits: l})
				return err
			}, LimitQuota},
		{"collection move at the count", func(int64) Limits { return Limits{MaxCollections: 2, QuotaBytes: 1} },
			func(s Space, a, b *Collection, l Limits) error {
				_, err := s.TransferCollection(ctx, a.ID, HomeCalendars, "c", TransferOptions{Move: true, Limits: l})
				return err
			}, 0},
		{"object properties beyond their cap", func(int64) Limits { return Limits{MaxPropsBytes: 10} },
			func(s Space, a, b *Collection, l Limits) error {
				return s.PatchObject(ctx, a.ID, "one", PatchOptions{Set: Props{"{x}p": body(7)}, Limits: l})
			}, LimitProps},
		{"object properties within their cap", func(int64) Limits { return Limits{MaxPropsBytes: 11} },
			func(s Space, a, b *Collection, l Limits) error {
				return s.PatchObject(ctx, a.ID, "one", PatchOptions{Set: Props{"{x}p": body(7)}, Limits: l})
			}, 0},
		{"object properties beyond the quota", func(u int64) Limits { return Limits{QuotaBytes: u + 10} },
			func(s Space, a, b *Collection, l Limits) error {
				return s.PatchObject(ctx, a.ID, "one", PatchOptions{Set: Props{"{x}p": body(7)}, Limits: l})
			}, LimitQuota},
		{"collection properties beyond their cap", func(int64) Limits { return Limits{MaxPropsBytes: 70} },
			func(s Space, a, b *Collection, l Limits) error {
				return s.PatchCollection(ctx, a.ID, PatchOptions{Set: Props{"{x}p": body(7)}, Limits: l})
			}, LimitProps},
		{"collection properties shrinking over their cap", func(int64) Limits { return Limits{MaxPropsBytes: 10} },
			func(s Space, a, b *Collection, l Limits) error {
				return s.PatchCollection(ctx, a.ID, PatchOptions{Set: Props{"{DAV:}displayname": body(20)}, Limits: l})
			}, 0},
		{"collection properties beyond the quota", func(u int64) Limits { return Limits{QuotaBytes: u + 10} },
			func(s Space, a, b *Collection, l Limits) error {
				return s.PatchCollection(ctx, a.ID, PatchOptions{Set: Props{"{x}p": body(7)}, Limits: l})
			}, LimitQuota},
		{"home properties beyond their cap", func(int64) Limits { return Limits{MaxPropsBytes: 10} },
			func(s Space, a, b *Collection, l Limits) error {
				return s.PatchProps(ctx, ScopeCalendars, PatchOptions{Set: Props{"{x}p": body(7)}, Limits: l})
			}, LimitProps},
		{"principal properties beyond the quota", func(u int64) Limits { return Limits{QuotaBytes: u + 10} },
			func(s Space, a, b *Collection, l Limits) error {
				return s.PatchProps(ctx, ScopePrincipal, PatchOptions{Set: Props{"{x}p": body(7)}, Limits: l})
			}, LimitQuota},
		{"copy in the place of a collection credits it", func(u int64) Limits { return Limits{QuotaBytes: u + 50} },
			func(s Space, a, b *Collection, l Limits) error { // b's 64 bytes of properties go
				_, err := s.TransferObject(ctx, a.ID, "one", a.ID, "copy", TransferOptions{Overwrite: true, ReplaceCollection: b.ID, Limits: l})
				return err
			}, 0},
		{"copy in the place of a collection beyond the quota", func(u int64) Limits { return Limits{QuotaBytes: u + 30} },
			func(s Space, a, b *Collection, l Limits) error {
				_, err := s.TransferObject(ctx, a.ID, "one", a.ID, "copy", TransferOptions{Overwrite: true, ReplaceCollection: b.ID, Limits: l})
				return err
			}, LimitQuota},
		{"collection copy in the place of an object beyond the count", func(int64) Limits { return Limits{MaxCollections: 2} },
			func(s Space, a, b *Collection, l Limits) error {
				_, err := s.TransferCollection(ctx, b.ID, HomeCalendars, "one", TransferOptions{Overwrite: true, ReplaceObjectIn: a.ID, Limits: l})
				return err
			}, LimitCollections},
		{"no limits", func(int64) Limits { return Limits{} },
			func(s Space, a, b *Collection, l Limits) error {
				_, err := s.TransferCollection(ctx, a.ID, HomeCalendars, "c", TransferOptions{Limits: l})
				return err
			}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, s, _ := testSpace(t)
			a := mustCollection(t, s, "a")
			b := mustCollection(t, s, "b")
			if _, err := s.PutObject(ctx, a.ID, PutOptions{Name: "one", Body: body(100)}); err != nil {
				t.Fatal(err)
			}
			used, err := s.Usage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			before, _ := s.Counts(ctx, a.ID)
			err = tc.write(s, a, b, tc.limits(used))
			var le *LimitError
			switch {
			case tc.want == 0 && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want == 0:
				return
			case !errors.As(err, &le) || le.Limit != tc.want || !errors.Is(err, ErrLimit):
				t.Fatalf("err = %v, want a LimitError of limit %d", err, tc.want)
			}
			after, _ := s.Counts(ctx, a.ID)
			if now, _ := s.Usage(ctx); now != used || after != before {
				t.Fatalf("a refused write changed usage %d → %d, counts %+v → %+v", used, now, before, after)
			}
		})
	}
}

// TestLimitsConcurrent: writers racing for the last room in a collection
// or an account cannot take it past its cap, since each write checks its
// limits in its own transaction.
func TestLimitsConcurrent(t *testing.T) {
	ctx := context.Background()
	const writers, room = 16, 5
	tests := []struct {
		name   string
		limits func(used int64) Limits
		check  func(t *testing.T, s Space, c *Collection, used int64, l Limits)
	}{
		{"object count", func(int64) Limits { return Limits{MaxObjects: room} },
			func(t *testing.T, s Space, c *Collection, _ int64, l Limits) {
				if n, _ := s.Counts(ctx, c.ID); n.Objects > l.MaxObjects {
					t.Fatalf("%d objects in a collection that may hold %d", n.Objects, l.MaxObjects)
				}
			}},
		{"quota", func(used int64) Limits { return Limits{QuotaBytes: used + room*(100+2)} },
			func(t *testing.T, s Space, c *Collection, _ int64, l Limits) {
				if n, _ := s.Usage(ctx); n > l.QuotaBytes {
					t.Fatalf("%d bytes used of a quota of %d", n, l.QuotaBytes)
				}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, s, _ := testSpace(t)
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
					_, errs[i] = s.PutObject(ctx, c.ID, PutOptions{Name: fmt.Sprintf("%02d", i), Body: bytes.Repeat([]byte("x"), 100), Limits: l})
				}()
			}
			close(start)
			wg.Wait()
			ok := 0
			for _, err := range errs {
				switch {
				case err == nil:
					ok++
				case !errors.Is(err, ErrLimit):
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
