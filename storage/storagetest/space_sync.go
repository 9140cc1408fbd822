package storagetest

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/coffer-dav/coffer/storage"
)

// testRevisionsRise: a collection's revision rises with every write to a
// member or to its properties, which Changes and Collection both give, and
// stays with a read or a refused write; Changes lists the members written.
func testRevisionsRise(t *testing.T, users userSpaces) {
	s := users(t, "alice")
	ctx := context.Background()
	c := mustCollection(t, s, "work")
	other := mustCollection(t, s, "other")
	putBody(t, s, other.ID, "in.ics", "", "moving in")
	put := func(name, body string) func() error {
		return func() error {
			_, err := s.PutObject(ctx, c.ID, storage.PutOptions{Name: name, Body: []byte(body)})
			return err
		}
	}
	steps := []struct {
		name  string
		write func() error
		rises bool
		logs  string // the changes since the revision before, by name
	}{
		{"a create", put("a.ics", "1"), true, "a.ics"},
		{"a replace", put("a.ics", "2"), true, "a.ics"},
		{"the same body again", put("a.ics", "2"), true, "a.ics"},
		{"another object", put("b.ics", "1"), true, "b.ics"},
		{"an object's properties", func() error {
			return s.PatchObject(ctx, c.ID, "a.ics", storage.PatchOptions{Set: storage.Props{"{urn:x}p": []byte("v")}})
		}, true, "a.ics"},
		{"the collection's properties", func() error {
			return s.PatchCollection(ctx, c.ID, storage.PatchOptions{Set: storage.Props{"{urn:x}color": []byte("red")}})
		}, true, ""},
		{"a property removed", func() error {
			return s.PatchCollection(ctx, c.ID, storage.PatchOptions{Remove: []string{"{urn:x}color"}})
		}, true, ""},
		{"a delete", func() error { return s.DeleteObject(ctx, c.ID, "b.ics", storage.DeleteOptions{}) }, true, "b.ics:deleted"},
		{"a copy in", func() error {
			_, err := s.TransferObject(ctx, other.ID, "in.ics", c.ID, "copied.ics", storage.TransferOptions{})
			return err
		}, true, "copied.ics"},
		{"a move out", func() error {
			_, err := s.TransferObject(ctx, c.ID, "copied.ics", other.ID, "out.ics", storage.TransferOptions{Move: true})
			return err
		}, true, "copied.ics:deleted"},
		{"a rename", func() error {
			_, err := s.TransferObject(ctx, c.ID, "a.ics", c.ID, "renamed.ics", storage.TransferOptions{Move: true})
			return err
		}, true, "a.ics:deleted renamed.ics"},
		{"reads", func() error {
			if _, err := s.Objects(ctx, c.ID); err != nil {
				return err
			}
			if _, _, err := s.Index(ctx, c.ID); err != nil {
				return err
			}
			_, err := s.Object(ctx, c.ID, "renamed.ics", storage.ReadOptions{Body: true})
			return err
		}, false, ""},
		{"a refused PUT", func() error {
			_, err := s.PutObject(ctx, c.ID, storage.PutOptions{Name: "renamed.ics", Body: []byte("x"), IfNoneMatch: true})
			if errors.Is(err, storage.ErrPrecondition) {
				return nil
			}
			return fmt.Errorf("PutObject = %v, want ErrPrecondition", err)
		}, false, ""},
		{"a refused delete", func() error {
			if err := s.DeleteObject(ctx, c.ID, "gone.ics", storage.DeleteOptions{}); !errors.Is(err, storage.ErrNotFound) {
				return fmt.Errorf("DeleteObject = %v, want ErrNotFound", err)
			}
			return nil
		}, false, ""},
		{"a write to another collection", func() error {
			_, err := s.PutObject(ctx, other.ID, storage.PutOptions{Name: "elsewhere.ics", Body: []byte("x")})
			return err
		}, false, ""},
	}
	last := c.Revision
	for _, st := range steps {
		if err := st.write(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		got, err := s.Collection(ctx, storage.HomeCalendars, "work")
		if err != nil {
			t.Fatal(err)
		}
		if rev := revision(t, s, c.ID); rev != got.Revision {
			t.Fatalf("after %s Changes gives revision %d, Collection %d", st.name, rev, got.Revision)
		}
		if st.rises && got.Revision <= last || !st.rises && got.Revision != last {
			t.Fatalf("after %s the revision went %d → %d; want it to rise: %v", st.name, last, got.Revision, st.rises)
		}
		changes, _ := mustChanges(t, s, c.ID, last)
		var logged []string
		for _, ch := range changes {
			if ch.Deleted {
				logged = append(logged, ch.Name+":deleted")
			} else {
				logged = append(logged, ch.Name)
			}
		}
		if got := sortedFields(strings.Join(logged, " ")); got != st.logs {
			t.Fatalf("after %s the changes since %d are %q, want %q", st.name, last, got, st.logs)
		}
		last = got.Revision
	}
}

// testChanges: Changes gives the latest change of every object written
// after a revision, oldest first, a deletion without an ETag, and the
// revision to ask from next; from 0 it lists every live object once.
func testChanges(t *testing.T, users userSpaces) {
	s := users(t, "alice")
	ctx := context.Background()
	c := mustCollection(t, s, "work")
	if changes, rev := mustChanges(t, s, c.ID, 0); len(changes) != 0 || rev != c.Revision {
		t.Fatalf("a new collection: changes %s at revision %d, created at %d", changeString(changes), rev, c.Revision)
	}
	if changes, rev := mustChanges(t, s, c.ID, c.Revision); len(changes) != 0 || rev != c.Revision {
		t.Fatalf("from its own revision: changes %s at revision %d", changeString(changes), rev)
	}
	putBody(t, s, c.ID, "a.ics", "", "a1")
	putBody(t, s, c.ID, "b.ics", "", "b1")
	cc := putBody(t, s, c.ID, "c.ics", "", "c1").Object
	token1 := cc.Revision
	a2 := putBody(t, s, c.ID, "a.ics", "", "a2").Object
	if err := s.DeleteObject(ctx, c.ID, "b.ics", storage.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	token2 := revision(t, s, c.ID)
	putBody(t, s, c.ID, "d.ics", "", "d1")
	if err := s.PatchObject(ctx, c.ID, "c.ics", storage.PatchOptions{Set: storage.Props{"{urn:x}p": []byte("v")}}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteObject(ctx, c.ID, "d.ics", storage.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	e := putBody(t, s, c.ID, "e.ics", "", "e1").Object
	d2 := putBody(t, s, c.ID, "d.ics", "", "d2").Object
	final := revision(t, s, c.ID)
	tests := []struct {
		name  string
		since int64
		want  string
	}{
		{"from 0", 0, fmt.Sprintf("a.ics=%s b.ics deleted c.ics=%s e.ics=%s d.ics=%s", a2.ETag, cc.ETag, e.ETag, d2.ETag)},
		{"from before any write", c.Revision, fmt.Sprintf("a.ics=%s b.ics deleted c.ics=%s e.ics=%s d.ics=%s", a2.ETag, cc.ETag, e.ETag, d2.ETag)},
		{"from the first three", token1, fmt.Sprintf("a.ics=%s b.ics deleted c.ics=%s e.ics=%s d.ics=%s", a2.ETag, cc.ETag, e.ETag, d2.ETag)},
		{"from after the delete", token2, fmt.Sprintf("c.ics=%s e.ics=%s d.ics=%s", cc.ETag, e.ETag, d2.ETag)},
		{"from a write's own revision", e.Revision, fmt.Sprintf("d.ics=%s", d2.ETag)},
		{"from the current revision", final, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			changes, rev := mustChanges(t, s, c.ID, tc.since)
			if got := changeString(changes); got != tc.want || rev != final {
				t.Fatalf("Changes(%d) = %s at revision %d; want %s at %d", tc.since, got, rev, tc.want, final)
			}
			for i, ch := range changes {
				if ch.Revision <= tc.since || ch.Revision > rev || i > 0 && ch.Revision <= changes[i-1].Revision {
					t.Fatalf("change %+v out of order after %d, within (%d, %d]", ch, tc.since, tc.since, rev)
				}
				if ch.Deleted != (ch.ETag == "") {
					t.Fatalf("change %+v: an ETag exactly when not deleted", ch)
				}
				if !ch.Deleted {
					if o := mustObject(t, s, c.ID, ch.Name); o.Revision != ch.Revision || o.ETag != ch.ETag {
						t.Fatalf("change %+v of an object at revision %d with ETag %s", ch, o.Revision, o.ETag)
					}
				}
			}
		})
	}
	// From 0, the live changes are the objects as Objects lists them.
	changes, _ := mustChanges(t, s, c.ID, 0)
	live := map[string]string{}
	for _, ch := range changes {
		if !ch.Deleted {
			live[ch.Name] = ch.ETag
		}
	}
	if got, want := etagString(live), etagString(objectETags(t, s, c.ID)); got != want {
		t.Fatalf("Changes(0) lists %s, Objects %s", got, want)
	}
}

// testLatestChange: however often a name is written, Changes gives its
// latest change alone, from any revision before it.
func testLatestChange(t *testing.T, users userSpaces) {
	s := users(t, "alice")
	ctx := context.Background()
	c := mustCollection(t, s, "work")
	other := putBody(t, s, c.ID, "other.ics", "", "x").Object
	var revs []int64
	var last *storage.PutResult
	for i := range 20 {
		last = putBody(t, s, c.ID, "a.ics", "uid-a", fmt.Sprint("version ", i))
		revs = append(revs, last.Object.Revision)
	}
	want := fmt.Sprintf("a.ics=%s", last.Object.ETag)
	for _, since := range []int64{other.Revision, revs[0], revs[10], revs[18]} {
		changes, _ := mustChanges(t, s, c.ID, since)
		if got := changeString(changes); got != want || changes[0].Revision != last.Object.Revision {
			t.Fatalf("Changes(%d) = %s (%+v), want %s at revision %d", since, got, changes, want, last.Object.Revision)
		}
	}
	changes, _ := mustChanges(t, s, c.ID, 0)
	if got := changeString(changes); got != fmt.Sprintf("other.ics=%s %s", other.ETag, want) {
		t.Fatalf("Changes(0) = %s", got)
	}
	// A deletion and a new object of the name: one live change again.
	if err := s.DeleteObject(ctx, c.ID, "a.ics", storage.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if changes, _ := mustChanges(t, s, c.ID, revs[5]); changeString(changes) != "a.ics deleted" {
		t.Fatalf("after the delete: %s", changeString(changes))
	}
	again := putBody(t, s, c.ID, "a.ics", "uid-a", "back")
	if changes, _ := mustChanges(t, s, c.ID, revs[5]); changeString(changes) != "a.ics="+again.Object.ETag {
		t.Fatalf("after the name came back: %s", changeString(changes))
	}
}

// testBadRevisions: a revision beyond the current one, a negative one, or
// one from before the collection existed gives ErrBadRevision; 0 and the
// current revision are always good.
func testBadRevisions(t *testing.T, users userSpaces) {
	s := users(t, "alice")
	older := mustCollection(t, s, "older")
	olderRev := putBody(t, s, older.ID, "o.ics", "", "x").Object.Revision
	c := mustCollection(t, s, "work")
	putBody(t, s, c.ID, "a.ics", "", "x")
	rev := revision(t, s, c.ID)
	newer := mustCollection(t, s, "newer")
	newerRev := putBody(t, s, newer.ID, "n.ics", "", "x").Object.Revision
	tests := []struct {
		name  string
		since int64
		bad   bool
	}{
		{"0", 0, false},
		{"its creation", c.Revision, false},
		{"the current revision", rev, false},
		{"one beyond", rev + 1, true},
		{"far beyond", rev + 1_000_000, true},
		{"a later collection's revision", newerRev, true},
		{"an earlier collection's revision", olderRev, true},
		{"-1", -1, true},
	}
	for _, tc := range tests {
		changes, got, err := s.Changes(context.Background(), c.ID, tc.since)
		switch {
		case tc.bad && !errors.Is(err, storage.ErrBadRevision):
			t.Errorf("Changes(%s = %d) = %d changes at %d, %v; want ErrBadRevision", tc.name, tc.since, len(changes), got, err)
		case !tc.bad && (err != nil || got != rev):
			t.Errorf("Changes(%s = %d) = revision %d, %v; want %d", tc.name, tc.since, got, err, rev)
		}
	}
}

// testRecreatedCollectionTokens: a token of a collection does not hold for
// another one that comes to stand at its name, however it came there: a
// new one, or an older one moved or copied in; only 0 does.
func testRecreatedCollectionTokens(t *testing.T, users userSpaces) {
	s := users(t, "alice")
	ctx := context.Background()
	create := func(old, _ *storage.Collection) error {
		_, err := s.CreateCollection(ctx, storage.NewCollection{Home: storage.HomeCalendars, Name: old.Name, Kind: storage.KindCalendar})
		return err
	}
	moveIn := func(o storage.TransferOptions) func(old, older *storage.Collection) error {
		return func(old, older *storage.Collection) error {
			_, err := s.TransferCollection(ctx, older.ID, storage.HomeCalendars, old.Name, o)
			return err
		}
	}
	ways := []struct {
		name    string
		free    func(old *storage.Collection) error // nil: the name stays taken
		replace func(old, older *storage.Collection) error
		held    string // what the collection at the name holds before its new writes
	}{
		{"deleted, then created", func(c *storage.Collection) error { return s.DeleteCollection(ctx, c.ID) }, create, ""},
		{"moved away, then created", func(c *storage.Collection) error {
			_, err := s.TransferCollection(ctx, c.ID, storage.HomeCalendars, c.Name+"-moved", storage.TransferOptions{Move: true})
			return err
		}, create, ""},
		{"an older one copied over it", nil, moveIn(storage.TransferOptions{Overwrite: true}), "older-0.ics older-1.ics "},
		{"an older one moved over it", nil, moveIn(storage.TransferOptions{Move: true, Overwrite: true}), "older-0.ics older-1.ics "},
		{"deleted, then an older one moved in", func(c *storage.Collection) error { return s.DeleteCollection(ctx, c.ID) },
			moveIn(storage.TransferOptions{Move: true}), "older-0.ics older-1.ics "},
	}
	for i, w := range ways {
		t.Run(w.name, func(t *testing.T) {
			older := mustCollection(t, s, fmt.Sprint("older", i))
			putBody(t, s, older.ID, "older-0.ics", "", "o")
			putBody(t, s, older.ID, "older-1.ics", "", "o")
			old := mustCollection(t, s, fmt.Sprint("work", i))
			putBody(t, s, old.ID, "0.ics", "", "x")
			token := putBody(t, s, old.ID, "1.ics", "", "x").Object.Revision
			putBody(t, s, old.ID, "2.ics", "", "x")
			if w.free != nil {
				if err := w.free(old); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.replace(old, older); err != nil {
				t.Fatal(err)
			}
			c, err := s.Collection(ctx, storage.HomeCalendars, old.Name)
			if err != nil {
				t.Fatal(err)
			}
			for i := range 3 {
				putBody(t, s, c.ID, fmt.Sprintf("new-%d.ics", i), "", "y")
			}
			if changes, _, err := s.Changes(ctx, c.ID, token); !errors.Is(err, storage.ErrBadRevision) {
				t.Fatalf("the old collection's token %d on the one now at its name: %q, %v; want ErrBadRevision", token, changeString(changes), err)
			}
			changes, _ := mustChanges(t, s, c.ID, 0)
			var names []string
			for _, ch := range changes {
				names = append(names, ch.Name)
			}
			if got, want := sortedFields(strings.Join(names, " ")), sortedFields(w.held+"new-0.ics new-1.ics new-2.ics"); got != want {
				t.Fatalf("Changes(0) of the collection at the name lists %s, want %s", got, want)
			}
		})
	}
}

// syncWrite is one acknowledged write of testConcurrentSync.
type syncWrite struct {
	name, etag, body string
	rev              int64 // 0 for a delete, whose revision is not told
}

// syncPoll is one call of the reader of testConcurrentSync.
type syncPoll struct {
	since, rev int64
	changes    []storage.Change
}

// testConcurrentSync: while writers put and delete objects of one
// collection, a reader that asks for the changes since the revision it
// was last given never misses one: no write commits below a revision
// already given, its replay ends as the collection does, and every
// acknowledged write is there unless a later one of its name replaced it.
func testConcurrentSync(t *testing.T, users userSpaces) {
	concurrentSync(t, []storage.Space{users(t, "alice")})
}

// concurrentSync is testConcurrentSync with spaces of one user, on one
// engine or several: writer w writes through spaces[w%len(spaces)], the
// reader reads through the last one.
func concurrentSync(t *testing.T, spaces []storage.Space) {
	s, reader := spaces[0], spaces[len(spaces)-1]
	ctx := context.Background()
	c := mustCollection(t, s, "busy")
	const writers, ops, names = 4, 50, 4
	writes := make([][]syncWrite, writers)
	errs := make([]error, writers)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := spaces[w%len(spaces)]
			<-start
			own, live := 0, map[string]bool{}
			for i := range ops {
				name, body := "shared.ics", fmt.Sprintf("writer %d, op %d", w, i)
				del := false
				if i%5 != 4 { // one op in five writes the name every writer shares
					// Each own name is written twice, then deleted, in
					// turn, each writer in a phase of its own, so that
					// some names end deleted.
					name = fmt.Sprintf("w%d-%d.ics", w, own%names)
					del = live[name] && (own/names+w)%3 == 2
					own++
				}
				live[name] = !del
				if del {
					if errs[w] = s.DeleteObject(ctx, c.ID, name, storage.DeleteOptions{}); errs[w] != nil {
						return
					}
					writes[w] = append(writes[w], syncWrite{name: name})
					continue
				}
				r, err := s.PutObject(ctx, c.ID, storage.PutOptions{Name: name, ContentType: "text/calendar", Body: []byte(body)})
				if err != nil {
					errs[w] = err
					return
				}
				writes[w] = append(writes[w], syncWrite{name: name, etag: r.Object.ETag, body: body, rev: r.Object.Revision})
			}
		}()
	}
	_, token := mustChanges(t, s, c.ID, 0)
	var polls []syncPoll
	done, read := make(chan struct{}), make(chan error)
	go func() {
		for {
			last := false
			select {
			case <-done:
				last = true // every write is acknowledged: this call sees them all
			default:
			}
			changes, rev, err := reader.Changes(ctx, c.ID, token)
			if err != nil {
				read <- fmt.Errorf("Changes(%d): %w", token, err)
				return
			}
			polls = append(polls, syncPoll{token, rev, changes})
			token = rev
			if last {
				read <- nil
				return
			}
		}
	}()
	close(start)
	wg.Wait()
	close(done)
	if err := <-read; err != nil {
		t.Fatal(err)
	}
	for w, err := range errs {
		if err != nil {
			t.Fatalf("writer %d: %v", w, err)
		}
	}
	// Every acknowledged PUT has a revision of its own.
	var puts []syncWrite
	byRev := map[int64]syncWrite{}
	for _, ws := range writes {
		for _, w := range ws {
			if w.rev == 0 {
				continue
			}
			if other, twice := byRev[w.rev]; twice {
				t.Fatalf("two writes at revision %d: %+v and %+v", w.rev, other, w)
			}
			byRev[w.rev] = w
			puts = append(puts, w)
		}
	}
	sort.Slice(puts, func(i, j int) bool { return puts[i].rev < puts[j].rev })
	// Replay the polls: each answers from where the last one ended, in
	// order; once one has given a revision, every PUT at or below it has
	// been seen, at its revision or a later one of its name.
	seen := map[string]storage.Change{}
	next := 0
	for i, p := range polls {
		if p.rev < p.since {
			t.Fatalf("poll %d: the revision went back from %d to %d", i, p.since, p.rev)
		}
		for j, ch := range p.changes {
			if ch.Revision <= p.since || ch.Revision > p.rev || j > 0 && ch.Revision <= p.changes[j-1].Revision {
				t.Fatalf("poll %d: change %+v out of order in (%d, %d]", i, ch, p.since, p.rev)
			}
			if ch.Deleted != (ch.ETag == "") {
				t.Fatalf("poll %d: change %+v: an ETag exactly when not deleted", i, ch)
			}
			seen[ch.Name] = ch
		}
		for ; next < len(puts) && puts[next].rev <= p.rev; next++ {
			w := puts[next]
			if got := seen[w.name]; got.Revision < w.rev {
				t.Fatalf("poll %d (%d → %d) missed the PUT of %s at revision %d: the reader last saw it at %d", i, p.since, p.rev, w.name, w.rev, got.Revision)
			}
		}
	}
	if next != len(puts) {
		t.Fatalf("the last poll ended at revision %d, below the PUT at %d", polls[len(polls)-1].rev, puts[next].rev)
	}
	replay := map[string]string{}
	for name, ch := range seen {
		if !ch.Deleted {
			replay[name] = ch.ETag
		}
	}
	final := objectETags(t, s, c.ID)
	if got, want := etagString(replay), etagString(final); got != want {
		t.Fatalf("after %d polls the reader's replay is\n%s\nthe collection holds\n%s", len(polls), got, want)
	}
	// What each writer did last to its own names stands; of the shared
	// name, the PUT with the highest revision.
	want := map[string]syncWrite{}
	for _, ws := range writes {
		for _, w := range ws {
			if w.name != "shared.ics" {
				want[w.name] = w
			}
		}
	}
	for i := len(puts) - 1; i >= 0; i-- {
		if puts[i].name == "shared.ics" {
			want["shared.ics"] = puts[i]
			break
		}
	}
	deleted := 0
	for name, w := range want {
		if w.rev == 0 {
			deleted++
		}
		o, err := s.Object(ctx, c.ID, name, storage.ReadOptions{Body: true})
		switch {
		case w.rev == 0:
			wantNotFound(t, "the deleted "+name, err)
		case err != nil:
			t.Fatalf("%s, last written at revision %d: %v", name, w.rev, err)
		case o.ETag != w.etag || string(o.Body) != w.body || o.Revision != w.rev || final[name] != w.etag:
			t.Fatalf("%s holds %q (ETag %s, revision %d), last written %q (ETag %s, revision %d)", name, o.Body, o.ETag, o.Revision, w.body, w.etag, w.rev)
		}
	}
	if deleted == 0 || deleted == len(want) {
		t.Fatalf("%d of %d names end deleted: the run proves less than it should", deleted, len(want))
	}
	if len(final) > len(want) {
		t.Fatalf("the collection holds %s, more than was written", etagString(final))
	}
	entries, _, err := s.Index(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	indexed := map[string]string{}
	for _, e := range entries {
		indexed[e.Name] = e.ETag
	}
	if got, want := etagString(indexed), etagString(final); got != want {
		t.Fatalf("the index holds\n%s\nthe collection\n%s", got, want)
	}
	t.Logf("%d writes, %d polls", len(puts), len(polls))
}

// testRacingWrites: writes racing for one name, one ETag or one UID each
// check it in their own transaction: exactly one wins, and the others fail
// as they would after it, leaving the winner's write in place.
func testRacingWrites(t *testing.T, users userSpaces) {
	racingWrites(t, []storage.Space{users(t, "alice")})
}

// racingWrites is testRacingWrites with spaces of one user, on one engine
// or several: racer r writes through spaces[r%len(spaces)].
func racingWrites(t *testing.T, spaces []storage.Space) {
	s := spaces[0]
	ctx := context.Background()
	const racers = 8
	body := func(i int) []byte { return fmt.Appendf(nil, "racer %d", i) }
	isConflict := func(winner int) func(error) bool {
		return func(err error) bool {
			var c *storage.UIDConflict
			return errors.As(err, &c) && c.Name == fmt.Sprintf("u%d.ics", winner)
		}
	}
	is := func(target error) func(int) func(error) bool {
		return func(int) func(error) bool { return func(err error) bool { return errors.Is(err, target) } }
	}
	// Each case has a collection of its own holding a.ics, whose ETag it gets.
	tests := []struct {
		name  string
		race  func(s storage.Space, c *storage.Collection, i int, etag string) error
		loser func(winner int) func(error) bool
		holds func(winner int) string // a.ics's body, then the other objects' names and bodies, afterwards
	}{
		{"one create of a name", func(s storage.Space, c *storage.Collection, i int, _ string) error {
			_, err := s.PutObject(ctx, c.ID, storage.PutOptions{Name: "new.ics", Body: body(i), IfNoneMatch: true})
			return err
		}, is(storage.ErrPrecondition), func(w int) string { return "a:old new.ics:" + string(body(w)) }},
		{"one replace of an ETag", func(s storage.Space, c *storage.Collection, i int, etag string) error {
			_, err := s.PutObject(ctx, c.ID, storage.PutOptions{Name: "a.ics", Body: body(i), IfMatch: etag})
			return err
		}, is(storage.ErrPrecondition), func(w int) string { return "a:" + string(body(w)) }},
		{"one object of a UID", func(s storage.Space, c *storage.Collection, i int, _ string) error {
			_, err := s.PutObject(ctx, c.ID, storage.PutOptions{Name: fmt.Sprintf("u%d.ics", i), UID: "same", Body: body(i)})
			return err
		}, isConflict, func(w int) string { return fmt.Sprintf("a:old u%d.ics:%s", w, body(w)) }},
		{"one delete", func(s storage.Space, c *storage.Collection, _ int, _ string) error {
			return s.DeleteObject(ctx, c.ID, "a.ics", storage.DeleteOptions{})
		}, is(storage.ErrNotFound), func(int) string { return "" }},
		{"one delete of an ETag", func(s storage.Space, c *storage.Collection, _ int, etag string) error {
			return s.DeleteObject(ctx, c.ID, "a.ics", storage.DeleteOptions{IfMatch: etag})
		}, is(storage.ErrPrecondition), func(int) string { return "" }},
		{"one move of an object", func(s storage.Space, c *storage.Collection, i int, _ string) error {
			_, err := s.TransferObject(ctx, c.ID, "a.ics", c.ID, fmt.Sprintf("m%d.ics", i), storage.TransferOptions{Move: true})
			return err
		}, is(storage.ErrNotFound), func(w int) string { return fmt.Sprintf("m%d.ics:old", w) }},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := mustCollection(t, s, fmt.Sprint("c", i))
			etag := putBody(t, s, c.ID, "a.ics", "uid-a", "old").Object.ETag
			errs := make([]error, racers)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for r := range racers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					errs[r] = tc.race(spaces[r%len(spaces)], c, r, etag)
				}()
			}
			close(start)
			wg.Wait()
			winner := -1
			for r, err := range errs {
				if err == nil {
					if winner >= 0 {
						t.Fatalf("racers %d and %d both won", winner, r)
					}
					winner = r
				}
			}
			if winner < 0 {
				t.Fatalf("no racer won: %v", errs)
			}
			for r, err := range errs {
				if r != winner && !tc.loser(winner)(err) {
					t.Fatalf("racer %d lost with %v", r, err)
				}
			}
			objs, err := s.Objects(ctx, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			var held []string
			for _, o := range objs {
				b := string(mustObject(t, s, c.ID, o.Name).Body)
				if o.Name == "a.ics" {
					held = append([]string{"a:" + b}, held...)
					continue
				}
				held = append(held, o.Name+":"+b)
			}
			if got, want := fmt.Sprint(held), "["+tc.holds(winner)+"]"; got != want {
				t.Fatalf("racer %d won; the collection holds %s, want %s", winner, got, want)
			}
		})
	}
	t.Run("one collection of a name", func(t *testing.T) {
		errs := make([]error, racers)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for r := range racers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, errs[r] = spaces[r%len(spaces)].CreateCollection(ctx, storage.NewCollection{Home: storage.HomeCalendars, Name: "new", Kind: storage.KindCalendar,
					Props: storage.Props{"{urn:x}racer": body(r)}})
			}()
		}
		close(start)
		wg.Wait()
		winner := -1
		for r, err := range errs {
			switch {
			case err == nil && winner >= 0:
				t.Fatalf("racers %d and %d both created it", winner, r)
			case err == nil:
				winner = r
			case !errors.Is(err, storage.ErrExists):
				t.Fatalf("racer %d: %v", r, err)
			}
		}
		c, err := s.Collection(ctx, storage.HomeCalendars, "new")
		if err != nil || winner < 0 || string(c.Props["{urn:x}racer"]) != string(body(winner)) {
			t.Fatalf("racer %d won; the collection is %+v, %v", winner, c, err)
		}
		if n, _ := s.Counts(ctx, 0); n.Collections != int64(len(tests))+1 {
			t.Fatalf("%d collections", n.Collections)
		}
	})
}

// snapshot is what one read of testConcurrentSnapshots gave: the names
// with their ETags and index entries, and the revision they reflect.
type snapshot struct {
	what    string
	rev     int64
	entries map[string]string
}

// testConcurrentSnapshots: while writers put objects, Index and a
// Changes from 0 each answer as the collection stood at the revision they
// give, not a mix of two: every name written at or below it, with its
// latest ETag and index entry there, and nothing written after it.
func testConcurrentSnapshots(t *testing.T, users userSpaces) {
	concurrentSnapshots(t, []storage.Space{users(t, "alice")})
}

// concurrentSnapshots is testConcurrentSnapshots with spaces of one user,
// on one engine or several: writer w writes through spaces[w%len(spaces)],
// the reader reads through the last one.
func concurrentSnapshots(t *testing.T, spaces []storage.Space) {
	s, reader := spaces[0], spaces[len(spaces)-1]
	ctx := context.Background()
	c := mustCollection(t, s, "busy")
	const writers, ops, names = 4, 30, 5
	writes := make([][]syncWrite, writers)
	errs := make([]error, writers)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := spaces[w%len(spaces)]
			<-start
			for i := range ops {
				name := fmt.Sprintf("w%d-%d.ics", w, i%names)
				if i%4 == 3 {
					name = "shared.ics"
				}
				body := fmt.Sprintf("writer %d, op %d", w, i)
				r, err := s.PutObject(ctx, c.ID, storage.PutOptions{Name: name, Body: []byte(body), Index: []byte("index " + body)})
				if err != nil {
					errs[w] = err
					return
				}
				writes[w] = append(writes[w], syncWrite{name: name, etag: r.Object.ETag, body: body, rev: r.Object.Revision})
			}
		}()
	}
	var snaps []snapshot
	done, read := make(chan struct{}), make(chan error)
	go func() {
		for i := 0; ; i++ {
			last := false
			select {
			case <-done:
				last = true
			default:
			}
			snap := snapshot{entries: map[string]string{}}
			if i%2 == 0 {
				entries, rev, err := reader.Index(ctx, c.ID)
				if err != nil {
					read <- fmt.Errorf("the index: %w", err)
					return
				}
				snap.what, snap.rev = "Index", rev
				for _, e := range entries {
					snap.entries[e.Name] = e.ETag + ":" + string(e.Index)
				}
			} else {
				changes, rev, err := reader.Changes(ctx, c.ID, 0)
				if err != nil {
					read <- fmt.Errorf("the changes from 0: %w", err)
					return
				}
				snap.what, snap.rev = "Changes(0)", rev
				for _, ch := range changes {
					snap.entries[ch.Name] = ch.ETag
				}
			}
			snaps = append(snaps, snap)
			if last && i%2 == 1 {
				read <- nil
				return
			}
		}
	}()
	close(start)
	wg.Wait()
	close(done)
	if err := <-read; err != nil {
		t.Fatal(err)
	}
	for w, err := range errs {
		if err != nil {
			t.Fatalf("writer %d: %v", w, err)
		}
	}
	var puts []syncWrite
	for _, ws := range writes {
		puts = append(puts, ws...)
	}
	sort.Slice(puts, func(i, j int) bool { return puts[i].rev < puts[j].rev })
	for i := 1; i < len(puts); i++ {
		if puts[i].rev == puts[i-1].rev {
			t.Fatalf("two writes at revision %d: %+v and %+v", puts[i].rev, puts[i-1], puts[i])
		}
	}
	// The state at each revision, from the PUTs at or below it.
	sort.SliceStable(snaps, func(i, j int) bool { return snaps[i].rev < snaps[j].rev })
	state := map[string]syncWrite{}
	next := 0
	for _, snap := range snaps {
		for ; next < len(puts) && puts[next].rev <= snap.rev; next++ {
			state[puts[next].name] = puts[next]
		}
		want := map[string]string{}
		for name, w := range state {
			want[name] = w.etag
			if snap.what == "Index" {
				want[name] += ":index " + w.body
			}
		}
		if got, want := etagString(snap.entries), etagString(want); got != want {
			t.Fatalf("%s at revision %d holds\n%s\nthe writes at or below it make\n%s", snap.what, snap.rev, got, want)
		}
	}
	if next != len(puts) {
		t.Fatalf("the last read was at revision %d, below the PUT at %d", snaps[len(snaps)-1].rev, puts[next].rev)
	}
	t.Logf("%d writes, %d reads", len(puts), len(snaps))
}
