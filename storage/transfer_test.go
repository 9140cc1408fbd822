package storage

import (
	"context"
	"errors"
	"sort"
	"strings"
	"testing"
)

func TestTransferObject(t *testing.T) {
	_, s, _ := testSpace(t)
	ctx := context.Background()
	a := mustCollection(t, s, "a")
	b := mustCollection(t, s, "b")
	put := func(c *Collection, name, uid, body string) {
		t.Helper()
		if _, err := s.PutObject(ctx, c.ID, PutOptions{Name: name, UID: uid, ContentType: "text/calendar", Body: []byte(body)}); err != nil {
			t.Fatal(err)
		}
	}
	put(a, "x.ics", "ux", "X")
	put(a, "y.ics", "uy", "Y")
	put(b, "taken.ics", "ut", "T")
	if err := s.PatchObject(ctx, a.ID, "x.ics", PatchOptions{Set: Props{"{urn:x}color": []byte("red")}}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name           string
		from           *Collection
		src            string
		to             *Collection
		dst            string
		o              TransferOptions
		err            error
		conflict       string
		created        bool
		srcGone        bool
		wantBodyAtDest string
	}{
		{"copy across", a, "x.ics", b, "x.ics", TransferOptions{}, nil, "", true, false, "X"},
		{"copy again without overwrite", a, "x.ics", b, "x.ics", TransferOptions{}, ErrPrecondition, "", false, false, ""},
		{"copy onto another UID's name", a, "y.ics", b, "taken.ics", TransferOptions{Overwrite: true}, nil, "", false, false, "Y"},
		{"copy within: same UID twice", a, "x.ics", a, "x2.ics", TransferOptions{}, nil, "x.ics", false, false, ""},
		{"move within: rename", a, "x.ics", a, "renamed.ics", TransferOptions{Move: true}, nil, "", true, true, "X"},
		{"missing source", a, "nope.ics", b, "n.ics", TransferOptions{}, ErrNotFound, "", false, false, ""},
		{"onto itself", a, "y.ics", a, "y.ics", TransferOptions{Move: true}, ErrInvalid, "", false, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, revFrom, _ := s.Changes(ctx, tt.from.ID, 0)
			res, err := s.TransferObject(ctx, tt.from.ID, tt.src, tt.to.ID, tt.dst, tt.o)
			var c *UIDConflict
			switch {
			case tt.conflict != "":
				if !errors.As(err, &c) || c.Name != tt.conflict {
					t.Fatalf("err = %v, want UID conflict with %s", err, tt.conflict)
				}
				return
			case tt.err != nil:
				if !errors.Is(err, tt.err) {
					t.Fatalf("err = %v, want %v", err, tt.err)
				}
				return
			case err != nil:
				t.Fatal(err)
			}
			if res.Created != tt.created {
				t.Errorf("created = %v", res.Created)
			}
			o, err := s.Object(ctx, tt.to.ID, tt.dst, ReadOptions{Body: true})
			if err != nil || string(o.Body) != tt.wantBodyAtDest {
				t.Fatalf("destination: %+v, %v", o, err)
			}
			if tt.src == "x.ics" && string(o.Props["{urn:x}color"]) != "red" {
				t.Errorf("dead property lost: %v", o.Props)
			}
			_, err = s.Object(ctx, tt.from.ID, tt.src, ReadOptions{})
			if gone := errors.Is(err, ErrNotFound); gone != tt.srcGone {
				t.Errorf("source gone = %v, want %v", gone, tt.srcGone)
			}
			if tt.srcGone {
				changes, _, _ := s.Changes(ctx, tt.from.ID, revFrom)
				if len(changes) == 0 || !changes[0].Deleted && !changes[len(changes)-1].Deleted {
					t.Errorf("move logged no deletion: %+v", changes)
				}
			}
		})
	}
}

func TestTransferCollectionTree(t *testing.T) {
	_, s, _ := testSpace(t)
	ctx := context.Background()
	mk := func(name string) *Collection {
		c, err := s.CreateCollection(ctx, NewCollection{Home: HomeCalendars, Name: name, Kind: KindPlain, Props: Props{"{urn:x}p": []byte(name)}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.PutObject(ctx, c.ID, PutOptions{Name: "f.txt", Body: []byte("in " + name)}); err != nil {
			t.Fatal(err)
		}
		return c
	}
	root := mk("r")
	mk("r/sub")
	mk("r/sub/deep")
	mk("other")
	names := func() string {
		cs, _ := s.Collections(ctx, HomeCalendars)
		var out []string
		for _, c := range cs {
			out = append(out, c.Name)
		}
		sort.Strings(out)
		return strings.Join(out, " ")
	}
	body := func(coll string) string {
		c, err := s.Collection(ctx, HomeCalendars, coll)
		if err != nil {
			return "missing"
		}
		o, err := s.Object(ctx, c.ID, "f.txt", ReadOptions{Body: true})
		if err != nil {
			return "empty"
		}
		return string(o.Body)
	}
	if _, err := s.TransferCollection(ctx, root.ID, HomeCalendars, "r/sub/inside", TransferOptions{}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("copy into itself = %v", err)
	}
	if _, err := s.TransferCollection(ctx, root.ID, HomeCalendars, "other", TransferOptions{}); !errors.Is(err, ErrPrecondition) {
		t.Fatalf("copy onto existing without overwrite = %v", err)
	}
	res, err := s.TransferCollection(ctx, root.ID, HomeCalendars, "copy", TransferOptions{})
	if err != nil || !res.Created {
		t.Fatal(res, err)
	}
	if got := names(); got != "copy copy/sub copy/sub/deep other r r/sub r/sub/deep" {
		t.Fatalf("after copy: %s", got)
	}
	if body("copy/sub/deep") != "in r/sub/deep" {
		t.Fatalf("copied member: %q", body("copy/sub/deep"))
	}
	if _, err := s.TransferCollection(ctx, root.ID, HomeCalendars, "shallow", TransferOptions{Shallow: true}); err != nil {
		t.Fatal(err)
	}
	if body("shallow") != "empty" || names() != "copy copy/sub copy/sub/deep other r r/sub r/sub/deep shallow" {
		t.Fatalf("shallow copy: %s, %q", names(), body("shallow"))
	}
	res, err = s.TransferCollection(ctx, root.ID, HomeCalendars, "other", TransferOptions{Move: true, Overwrite: true})
	if err != nil || res.Created {
		t.Fatal(res, err)
	}
	if got := names(); got != "copy copy/sub copy/sub/deep other other/sub other/sub/deep shallow" {
		t.Fatalf("after move: %s", got)
	}
	if body("other/sub") != "in r/sub" {
		t.Fatalf("moved member: %q", body("other/sub"))
	}
	moved, _ := s.Collection(ctx, HomeCalendars, "other")
	if string(moved.Props["{urn:x}p"]) != "r" {
		t.Fatalf("moved properties: %v", moved.Props)
	}
	if err := s.DeleteCollection(ctx, moved.ID); err != nil {
		t.Fatal(err)
	}
	if got := names(); got != "copy copy/sub copy/sub/deep shallow" {
		t.Fatalf("after delete: %s", got)
	}
}

func TestAccountPropsAndUsage(t *testing.T) {
	_, s, _ := testSpace(t)
	ctx := context.Background()
	if p, err := s.Props(ctx, ScopeAddressBooks); err != nil || len(p) != 0 {
		t.Fatal(p, err)
	}
	if err := s.PatchProps(ctx, ScopeAddressBooks, PatchOptions{Set: Props{"{CS}me-card": []byte("/me.vcf")}}); err != nil {
		t.Fatal(err)
	}
	if p, _ := s.Props(ctx, ScopeAddressBooks); string(p["{CS}me-card"]) != "/me.vcf" {
		t.Fatalf("me-card: %v", p)
	}
	if p, _ := s.Props(ctx, ScopePrincipal); len(p) != 0 {
		t.Fatalf("scopes leak into each other: %v", p)
	}
	if err := s.PatchProps(ctx, ScopeAddressBooks, PatchOptions{Remove: []string{"{CS}me-card"}}); err != nil {
		t.Fatal(err)
	}
	if p, _ := s.Props(ctx, ScopeAddressBooks); len(p) != 0 {
		t.Fatalf("remove: %v", p)
	}
	c := mustCollection(t, s, "c")
	for _, body := range []string{"12345", "123"} {
		if _, err := s.PutObject(ctx, c.ID, PutOptions{Name: body, Body: []byte(body)}); err != nil {
			t.Fatal(err)
		}
	}
	// A PUT that replaces an object keeps its dead properties.
	if err := s.PatchObject(ctx, c.ID, "123", PatchOptions{Set: Props{"{x}y": []byte("z")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutObject(ctx, c.ID, PutOptions{Name: "123", Body: []byte("1234")}); err != nil {
		t.Fatal(err)
	}
	if o, _ := s.Object(ctx, c.ID, "123", ReadOptions{}); string(o.Props["{x}y"]) != "z" {
		t.Fatalf("props after replace: %v", o.Props)
	}
	// Bodies 5 and 4, names 5 and 3, the dead property 5, the collection's properties 64.
	if n, err := s.Usage(ctx); err != nil || n != 5+4+5+3+5+64 {
		t.Fatalf("usage = %d, %v", n, err)
	}
}
