package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/coffer-dav/coffer/encryption"
	"github.com/coffer-dav/coffer/storage"
	"github.com/coffer-dav/coffer/storage/postgres"
	"github.com/coffer-dav/coffer/storage/storagetest"
)

// spaceState is what the steps of TestSpaceMatchesSQLite remember between
// them: collection ids and sync tokens by name.
type spaceState struct {
	ids    map[string]int64
	tokens map[string]int64
	first  int64 // the revision of the first collection, to which others are told
}

// spaceStep is one call of the sealed layer, and what it shows of its
// result, the same whatever the engine.
type spaceStep struct {
	name string
	run  func(ctx context.Context, s storage.Space, st *spaceState) (string, error)
}

// outcome names an error by what it matches, so that both engines' can
// be compared; an unexpected one is shown as it is.
func outcome(err error) string {
	var conflict *storage.UIDConflict
	var limit *storage.LimitError
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &conflict):
		return "uid conflict with " + conflict.Name
	case errors.As(err, &limit):
		return fmt.Sprintf("limit %d", limit.Limit)
	}
	for _, e := range []error{storage.ErrNotFound, storage.ErrExists, storage.ErrPrecondition, storage.ErrBadRevision, storage.ErrInvalid} {
		if errors.Is(err, e) {
			return e.Error()
		}
	}
	return "unexpected: " + err.Error()
}

// showProps shows properties in the order of their names.
func showProps(p storage.Props) string {
	var out []string
	for k, v := range p {
		out = append(out, k+"="+string(v))
	}
	sort.Strings(out)
	return "{" + strings.Join(out, " ") + "}"
}

// showObject shows what an object holds, but its times.
func showObject(o *storage.Object) string {
	if o == nil {
		return "<none>"
	}
	return fmt.Sprintf("%s etag=%s type=%s size=%d props=%s body=%q", o.Name, o.ETag, o.ContentType, o.Size, showProps(o.Props), o.Body)
}

// showChanges shows a change log, each revision told from the first
// collection's, and notes its token.
func showChanges(st *spaceState, token string, changes []storage.Change, rev int64) string {
	var out []string
	for _, c := range changes {
		out = append(out, fmt.Sprintf("%s@%d deleted=%v etag=%s", c.Name, c.Revision-st.first, c.Deleted, c.ETag))
	}
	st.tokens[token] = rev
	return fmt.Sprintf("[%s] now %d", strings.Join(out, ", "), rev-st.first)
}

// spaceSteps are the calls that TestSpaceMatchesSQLite makes.
var spaceSteps = []spaceStep{
	{"create", func(ctx context.Context, s storage.Space, st *spaceState) (string, error) {
		c, err := s.CreateCollection(ctx, storage.NewCollection{Home: storage.HomeCalendars, Name: "work", Kind: storage.KindCalendar,
			Props: storage.Props{"{DAV:}displayname": []byte("Work")}})
		if err != nil {
			return "", err
		}
		st.ids["work"], st.first = c.ID, c.Revision
		return c.Name + " " + string(c.Kind) + " " + showProps(c.Props), nil
	}},
	{"create again", func(ctx context.Context, s storage.Space, st *spaceState) (string, error) {
		_, err := s.CreateCollection(ctx, storage.NewCollection{Home: storage.HomeCalendars, Name: "work", Kind: storage.KindCalendar})
		return "", err
	}},
	{"create another", func(ctx context.Context, s storage.Space, st *spaceState) (string, error) {
		c, err := s.CreateCollection(ctx, storage.NewCollection{Home: storage.HomeCalendars, Name: "home", Kind: storage.KindCalendar})
		if err != nil {
			return "", err
		}
		st.ids["home"] = c.ID
		return fmt.Sprintf("%s props=%s at %d", c.Name, showProps(c.Props), c.Revision-st.first), nil
	}},
	{"put a", func(ctx context.Context, s storage.Space, st *spaceState) (string, error) {
		r, err := s.PutObject(ctx, st.ids["work"], storage.PutOptions{Name: "a.ics", UID: "u1", ContentType: "text/calendar", Body: []byte("A"), Index: []byte("index-a")})
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("created=%v %s", r.Created, showObject(&r.Object)), nil
	}},
	{"put b with a's uid", func(ctx context.Context, s storage.Space, st *spaceState) (string, error) {
		_, err := s.PutObject(ctx, st.ids["work"], storage.PutOptions{Name: "b.ics", UID: "u1", Body: []byte("B")})
		return "", err
	}},
	{"put b", func(ctx context.Context, s storage.Space, st *spaceState) (string, error) {
		r, err := s.PutObject(ctx, st.ids["work"], storage.PutOptions{Name: "b.ics", UID: "u2", Body: []byte{}})
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("created=%v %s", r.Created, showObject(&r.Object)), nil
	}},
	{"put a if none", func(ctx context.Context, s storage.Space, st *spaceState) (string, error) {
		_, err := s.PutObject(ctx, st.ids["work"], storage.PutOptions{Name: "a.ics", IfNoneMatch: true, Body: []byte("A")})
		return "", err
	}},
	{"changes from the start", func(ctx context.Context, s storage.Space, st *spaceState) (string, error) {
		c, rev, err := s.Changes(ctx, st.ids["work"], 0)
		return showChanges(st, "start", c, rev), err
	}},
	{"replace a", func(ctx context.Context, s storage.Space, st *spaceState) (string, error) {
		r, err := s.PutObject(ctx, st.ids["work"], storage.PutOptions{Name: "a.ics", UID: "u1", ContentType: "text/calendar", Body: []byte("A2"), Index: []byte("index-a2")})
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("created=%v %s", r.Created, showObject(&r.Object)), nil
	}},
	{"patch a", func(ctx context.Context, s storage.Space, st *spaceState) (string, error) {
		return "", s.PatchObject(ctx, st.ids["work"], "a.ics", storage.PatchOptions{Set: storage.Props{"{x:}p": []byte("v"), "{x:}q": []byte{}}})
	}},
	{"patch a again", func(ctx context.Context, s storage.Space, st *spaceState) (string, error) {
		return "", s.PatchObject(ctx, st.ids["work"], "a.ics", storage.PatchOptions{Remove: []string{"{x:}q", "{x:}none"}})
	}},
	{"read a", func(ctx context.Context, s storage.Space, st *spaceState) (string, error) {
		o, err := s.Object(ctx, st.ids["work"], "a.ics", storage.ReadOptions{Body: true})
		return showObject(o), err
	}},
	{"read named", func(ctx context.Context, s storage.Space, st *spaceState) (string, error) {
		objs, err := s.ObjectsNamed(ctx, st.ids["work"], []string{"b.ics", "none.ics", "a.ics", "b.ics"}, storage.ReadOptions{Body: true})
		var out []string
		for _, o := range objs {
			out = append(out, showObject(o))
		}
		return strings.Join(out, "; "), err
	}},
	{"list", func(ctx context.Context, s storage.Space, st *spaceState) (string, error) {
		objs, err := s.Objects(ctx, st.ids["work"])
		var out []string
		for i := range objs {
			out = append(out, showObject(&objs[i]))
		}
		return strings.Join(out, "; "), err
	}},
	{"index", func(ctx context.Context, s storage.Space, st *spaceState) (string, error) {
		entries, rev, err := s.Index(ctx, st.ids["work"])
		var out []string
		for _, e := range entries {
			out = append(out, e.Name+"="+string(e.Index))
		}
		sort.Strings(out)
		return fmt.Sprintf("%v at %d", out, rev-st.first), err
	}},
	{"delete b", func(ctx context.Context, s storage.Space, st *spaceState) (string, error) {
		return "", s.DeleteObject(ctx, st.ids["work"], "b.ics", storage.DeleteOptions{})
	}},
	{"delete b again", func(ctx context.Context, s storage.Space, st *spaceState) (string, error) {
		return "", s.DeleteObject(ctx, st.ids["work"], "b.ics", storage.DeleteOptions{})
	}},
	{"changes since the start", func(ctx context.Context, s storage.Space, st *spaceState) (string, error) {
		c, rev, err := s.Changes(ctx, st.ids["work"], st.tokens["start"])
		return showChanges(st, "later", c, rev), err
	}},
	{"index after the delete", func(ctx context.Context, s storage.Space, st *spaceState) (string, error) {
		entries, rev, err := s.Index(ctx, st.ids["work"])
		var out []string
		for _, e := range entries {
			out = append(out, e.Name+"="+string(e.Index))
		}
		return fmt.Sprintf("%v at %d", out, rev-st.first), err
	}},
	{"changes beyond now", func(ctx context.Context, s storage.Space, st *spaceState) (string, error) {
		_, _, err := s.Changes(ctx, st.ids["work"], st.tokens["later"]+1)
		return "", err
	}},
	{"copy a", func(ctx context.Context, s storage.Space, st *spaceState) (string, error) {
		r, err := s.TransferObject(ctx, st.ids["work"], "a.ics", st.ids["home"], "c.ics", storage.TransferOptions{})
		if err != nil {
			return "", err
		}
		o, err := s.Object(ctx, st.ids["home"], "c.ics", storage.ReadOptions{Body: true})
		return fmt.Sprintf("created=%v %s", r.Created, showObject(o)), err
	}},
	{"move a onto c", func(ctx context.Context, s storage.Space, st *spaceState) (string, error) {
		_, err := s.TransferObject(ctx, st.ids["work"], "a.ics", st.ids["home"], "c.ics", storage.TransferOptions{Move: true})
		return "", err
	}},
	{"move a over c", func(ctx context.Context, s storage.Space, st *spaceState) (string, error) {
		r, err := s.TransferObject(ctx, st.ids["work"], "a.ics", st.ids["home"], "c.ics", storage.TransferOptions{Move: true, Overwrite: true})
		if err != nil {
			return "", err
		}
		objs, err := s.Objects(ctx, st.ids["work"])
		return fmt.Sprintf("created=%v, %d left", r.Created, len(objs)), err
	}},
	{"home's changes", func(ctx context.Context, s storage.Space, st *spaceState) (string, error) {
		c, rev, err := s.Changes(ctx, st.ids["home"], 0)
		return showChanges(st, "home", c, rev), err
	}},
	{"patch the collection", func(ctx context.Context, s storage.Space, st *spaceState) (string, error) {
		err := s.PatchCollection(ctx, st.ids["home"], storage.PatchOptions{Set: storage.Props{"{DAV:}displayname": []byte("Home"), "{x:}color": []byte("#f00")}})
		if err != nil {
			return "", err
		}
		err = s.PatchCollection(ctx, st.ids["home"], storage.PatchOptions{Remove: []string{"{x:}color"}})
		if err != nil {
			return "", err
		}
		c, err := s.Collection(ctx, storage.HomeCalendars, "home")
		if err != nil {
			return "", err
		}
		return showProps(c.Props), nil
	}},
	{"copy the collection", func(ctx context.Context, s storage.Space, st *spaceState) (string, error) {
		r, err := s.TransferCollection(ctx, st.ids["home"], storage.HomeCalendars, "home copy", storage.TransferOptions{})
		if err != nil {
			return "", err
		}
		c, err := s.Collection(ctx, storage.HomeCalendars, "home copy")
		if err != nil {
			return "", err
		}
		st.ids["copy"] = c.ID
		objs, err := s.ObjectsNamed(ctx, c.ID, []string{"c.ics"}, storage.ReadOptions{Body: true})
		return fmt.Sprintf("created=%v %s %s", r.Created, showProps(c.Props), showObject(objs[0])), err
	}},
	{"move the collection onto work", func(ctx context.Context, s storage.Space, st *spaceState) (string, error) {
		_, err := s.TransferCollection(ctx, st.ids["copy"], storage.HomeCalendars, "work", storage.TransferOptions{Move: true})
		return "", err
	}},
	{"move the collection over work", func(ctx context.Context, s storage.Space, st *spaceState) (string, error) {
		r, err := s.TransferCollection(ctx, st.ids["copy"], storage.HomeCalendars, "work", storage.TransferOptions{Move: true, Overwrite: true})
		if err != nil {
			return "", err
		}
		cs, err := s.Collections(ctx, storage.HomeCalendars)
		var out []string
		for _, c := range cs {
			out = append(out, c.Name+showProps(c.Props))
		}
		return fmt.Sprintf("created=%v %v", r.Created, out), err
	}},
	{"principal properties", func(ctx context.Context, s storage.Space, st *spaceState) (string, error) {
		if err := s.PatchProps(ctx, storage.ScopePrincipal, storage.PatchOptions{Set: storage.Props{"{x:}me": []byte("card")}}); err != nil {
			return "", err
		}
		p, err := s.Props(ctx, storage.ScopePrincipal)
		if err != nil {
			return "", err
		}
		q, err := s.Props(ctx, storage.ScopeAddressBooks)
		return showProps(p) + " " + showProps(q), err
	}},
	{"principal properties beyond their cap", func(ctx context.Context, s storage.Space, st *spaceState) (string, error) {
		return "", s.PatchProps(ctx, storage.ScopePrincipal, storage.PatchOptions{Set: storage.Props{"{x:}big": make([]byte, 100)}, Limits: storage.Limits{MaxPropsBytes: 50}})
	}},
	{"usage and counts", func(ctx context.Context, s storage.Space, st *spaceState) (string, error) {
		u, err := s.Usage(ctx)
		if err != nil {
			return "", err
		}
		c, err := s.Counts(ctx, st.ids["home"])
		return fmt.Sprintf("usage %d, %+v", u, c), err
	}},
	{"delete the collection", func(ctx context.Context, s storage.Space, st *spaceState) (string, error) {
		if err := s.DeleteCollection(ctx, st.ids["home"]); err != nil {
			return "", err
		}
		_, err := s.Collection(ctx, storage.HomeCalendars, "home")
		return outcome(err), s.DeleteCollection(ctx, st.ids["home"])
	}},
	{"a deleted collection's changes", func(ctx context.Context, s storage.Space, st *spaceState) (string, error) {
		_, _, err := s.Changes(ctx, st.ids["home"], 0)
		return "", err
	}},
	{"deletions past the bound", func(ctx context.Context, s storage.Space, st *spaceState) (string, error) {
		c, err := s.CreateCollection(ctx, storage.NewCollection{Home: storage.HomeCalendars, Name: "tombs", Kind: storage.KindCalendar})
		if err != nil {
			return "", err
		}
		st.ids["tombs"] = c.ID
		for i := range 14 {
			if _, err := s.PutObject(ctx, c.ID, storage.PutOptions{Name: fmt.Sprintf("%02d.ics", i), Body: []byte("x")}); err != nil {
				return "", err
			}
		}
		_, rev, err := s.Changes(ctx, c.ID, 0)
		if err != nil {
			return "", err
		}
		st.tokens["tombs"] = rev
		for i := range 12 {
			if err := s.DeleteObject(ctx, c.ID, fmt.Sprintf("%02d.ics", i), storage.DeleteOptions{}); err != nil {
				return "", err
			}
		}
		changes, rev, err := s.Changes(ctx, c.ID, 0)
		return showChanges(st, "tombs now", changes, rev), err
	}},
	{"a token from before forgotten deletions", func(ctx context.Context, s storage.Space, st *spaceState) (string, error) {
		_, _, err := s.Changes(ctx, st.ids["tombs"], st.tokens["tombs"])
		return "", err
	}},
	{"the token of now", func(ctx context.Context, s storage.Space, st *spaceState) (string, error) {
		changes, rev, err := s.Changes(ctx, st.ids["tombs"], st.tokens["tombs now"])
		return showChanges(st, "tombs later", changes, rev), err
	}},
}

// TestSpaceMatchesSQLite runs the same calls of the sealed layer over
// SQLite, whose behaviour states the contract, and over PostgreSQL, and
// wants the same answers from both.
func TestSpaceMatchesSQLite(t *testing.T) {
	dsn := storagetest.Postgres(t)
	ctx := context.Background()
	keys, err := encryption.NewKeyring(make([]byte, encryption.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	// A small bound on deletions, the same for both, so that some are forgotten.
	lite, err := storage.Open(ctx, filepath.Join(t.TempDir(), "coffer.db"), storage.Options{MaxTombstones: 10})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lite.Close() })
	pg, err := postgres.Open(ctx, dsn, postgres.Options{MaxTombstones: 10})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pg.Close() })
	spaces := map[string]storage.Space{}
	for name, db := range map[string]storage.Database{"sqlite": lite, "postgres": pg} {
		a, err := db.CreateAccount(ctx, storage.NewAccount{Username: "alice", Slots: func(int64) (map[string]encryption.Slot, error) { return nil, nil }})
		if err != nil {
			t.Fatal(err)
		}
		spaces[name] = db.Space(a.ID, keys)
	}
	states := map[string]*spaceState{}
	for name := range spaces {
		states[name] = &spaceState{ids: map[string]int64{}, tokens: map[string]int64{}}
	}
	for _, step := range spaceSteps {
		want, err := step.run(ctx, spaces["sqlite"], states["sqlite"])
		want += " → " + outcome(err)
		got, err := step.run(ctx, spaces["postgres"], states["postgres"])
		got += " → " + outcome(err)
		if got != want {
			t.Errorf("%s:\n postgres %s\n sqlite   %s", step.name, got, want)
		} else {
			t.Logf("%s: %s", step.name, got)
		}
	}
}

// TestSpaceTwoInstances: two instances, each with its own pool and its own
// cache of index entries, on one database: what one writes, the other's
// reads (objects, the change log, the index from its cache) see at once.
func TestSpaceTwoInstances(t *testing.T) {
	dsn := storagetest.Postgres(t)
	ctx := context.Background()
	keys, err := encryption.NewKeyring(make([]byte, encryption.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	a, b := openEngine(t, dsn), openEngine(t, dsn)
	acct := engineAccount(t, a, "alice")
	sa, sb := a.Space(acct, keys), b.Space(acct, keys)
	c, err := sa.CreateCollection(ctx, storage.NewCollection{Home: storage.HomeCalendars, Name: "c", Kind: storage.KindCalendar})
	if err != nil {
		t.Fatal(err)
	}
	index := func(s storage.Space) string {
		t.Helper()
		entries, _, err := s.Index(ctx, c.ID)
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
	steps := []struct {
		name   string
		writer storage.Space
		write  func(s storage.Space) error
		want   string
	}{
		{"a puts one", sa, func(s storage.Space) error {
			_, err := s.PutObject(ctx, c.ID, storage.PutOptions{Name: "1.ics", Body: []byte("1"), Index: []byte("one")})
			return err
		}, "1.ics=one"},
		{"b puts another", sb, func(s storage.Space) error {
			_, err := s.PutObject(ctx, c.ID, storage.PutOptions{Name: "2.ics", Body: []byte("2"), Index: []byte("two")})
			return err
		}, "1.ics=one 2.ics=two"},
		{"a replaces b's", sa, func(s storage.Space) error {
			_, err := s.PutObject(ctx, c.ID, storage.PutOptions{Name: "2.ics", Body: []byte("2b"), Index: []byte("two b")})
			return err
		}, "1.ics=one 2.ics=two b"},
		{"b deletes a's", sb, func(s storage.Space) error {
			return s.DeleteObject(ctx, c.ID, "1.ics", storage.DeleteOptions{})
		}, "2.ics=two b"},
		{"a moves b's", sa, func(s storage.Space) error {
			_, err := s.TransferObject(ctx, c.ID, "2.ics", c.ID, "3.ics", storage.TransferOptions{Move: true})
			return err
		}, "3.ics=two b"},
	}
	for _, s := range steps {
		if err := s.write(s.writer); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		for name, sp := range map[string]storage.Space{"a": sa, "b": sb} {
			if got := index(sp); got != s.want {
				t.Errorf("%s: %s's index %q, want %q", s.name, name, got, s.want)
			}
		}
		ca, reva, erra := sa.Changes(ctx, c.ID, 0)
		cb, revb, errb := sb.Changes(ctx, c.ID, 0)
		if erra != nil || errb != nil || reva != revb || fmt.Sprint(ca) != fmt.Sprint(cb) {
			t.Errorf("%s: the instances' change logs differ: %v at %d (%v), %v at %d (%v)", s.name, ca, reva, erra, cb, revb, errb)
		}
	}
}
