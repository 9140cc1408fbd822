package storagetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/coffer-dav/coffer/storage"
)

// userSpaces makes a new user's space on one database: what a Spaces opener returns.
type userSpaces func(t *testing.T, username string) storage.Space

// spaceCase is one behaviour of the Space role.
type spaceCase struct {
	name string
	run  func(t *testing.T, users userSpaces)
}

// spaceCases are the behaviours Space checks, each on a fresh database.
var spaceCases = []spaceCase{
	{"collections/create", testCreateCollection},
	{"collections/list by home in creation order", testListCollections},
	{"collections/nested names", testNestedCollections},
	{"collections/delete takes the nested ones", testDeleteCollectionTree},
	{"collections/another user's ids are not found", testSpacesWalledOff},
	{"objects/create and replace", testPutObject},
	{"objects/etags", testETags},
	{"objects/preconditions", testPutPreconditions},
	{"objects/uids", testUIDs},
	{"objects/read by name", testObjectsNamed},
	{"objects/list", testListObjects},
	{"objects/delete", testDeleteObject},
	{"objects/dead properties survive a replace", testPropsSurvivePut},
	{"sync/revisions rise", testRevisionsRise},
	{"sync/changes", testChanges},
	{"sync/the latest change of a name", testLatestChange},
	{"sync/bad revisions", testBadRevisions},
	{"sync/a token holds for its collection alone", testRecreatedCollectionTokens},
	{"concurrency/a reader of changes among writers", testConcurrentSync},
	{"concurrency/reads are snapshots of one revision", testConcurrentSnapshots},
	{"concurrency/racing writes have one winner", testRacingWrites},
	{"properties/patch", testPatchProps},
	{"properties/object patch keeps the etag", testPatchObject},
	{"properties/scopes", testScopeProps},
	{"properties/usage", testUsage},
	{"transfer/objects", testTransferObject},
	{"transfer/object in the place of a collection", testTransferObjectReplacing},
	{"transfer/collections", testTransferCollection},
	{"transfer/collection in the place of an object", testTransferCollectionReplacing},
	{"index", testIndex},
}

// Space runs the contract of the Space role against the engines open
// makes: one fresh database for each case, on which the case makes the
// users it needs. Every case goes through the storage.Space interface
// only; the SQLite engine states the behaviour, which every other engine
// must match. The counts and limits have their own contract, Limits.
func Space(t *testing.T, open Spaces) {
	for _, c := range spaceCases {
		t.Run(c.name, func(t *testing.T) { c.run(t, open(t)) })
	}
}

// newCollection creates a collection without properties.
func newCollection(t *testing.T, s storage.Space, home storage.Home, name string, kind storage.Kind) *storage.Collection {
	t.Helper()
	c, err := s.CreateCollection(context.Background(), storage.NewCollection{Home: home, Name: name, Kind: kind})
	if err != nil {
		t.Fatalf("create collection %s/%s: %v", home, name, err)
	}
	return c
}

// putBody writes an object with a UID ("" for none) and a body.
func putBody(t *testing.T, s storage.Space, coll int64, name, uid, body string) *storage.PutResult {
	t.Helper()
	r, err := s.PutObject(context.Background(), coll, storage.PutOptions{Name: name, UID: uid, ContentType: "text/calendar", Body: []byte(body)})
	if err != nil {
		t.Fatalf("put %s: %v", name, err)
	}
	return r
}

// mustObject reads an object with its body.
func mustObject(t *testing.T, s storage.Space, coll int64, name string) *storage.Object {
	t.Helper()
	o, err := s.Object(context.Background(), coll, name, storage.ReadOptions{Body: true})
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	return o
}

// mustChanges returns the changes after since and the current revision.
func mustChanges(t *testing.T, s storage.Space, coll, since int64) ([]storage.Change, int64) {
	t.Helper()
	changes, rev, err := s.Changes(context.Background(), coll, since)
	if err != nil {
		t.Fatalf("Changes(%d): %v", since, err)
	}
	return changes, rev
}

// revision returns a collection's current revision, as Changes gives it.
func revision(t *testing.T, s storage.Space, coll int64) int64 {
	t.Helper()
	_, rev := mustChanges(t, s, coll, 0)
	return rev
}

// changeString renders changes as "name=etag" or "name deleted", oldest
// first, as Changes gives them.
func changeString(changes []storage.Change) string {
	out := make([]string, len(changes))
	for i, c := range changes {
		out[i] = c.Name + "=" + c.ETag
		if c.Deleted {
			out[i] = c.Name + " deleted"
		}
	}
	return strings.Join(out, " ")
}

// collectionNames returns the names of a home's collections, as listed.
func collectionNames(t *testing.T, s storage.Space, home storage.Home) string {
	t.Helper()
	cs, err := s.Collections(context.Background(), home)
	if err != nil {
		t.Fatalf("list %s: %v", home, err)
	}
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Name
	}
	return strings.Join(out, " ")
}

// objectETags returns the name and ETag of every object of a collection.
func objectETags(t *testing.T, s storage.Space, coll int64) map[string]string {
	t.Helper()
	objs, err := s.Objects(context.Background(), coll)
	if err != nil {
		t.Fatalf("list objects: %v", err)
	}
	out := make(map[string]string, len(objs))
	for _, o := range objs {
		if _, twice := out[o.Name]; twice {
			t.Fatalf("Objects lists %s twice", o.Name)
		}
		out[o.Name] = o.ETag
	}
	return out
}

// etagString renders a map of names to ETags as "name=etag", by name.
func etagString(m map[string]string) string {
	out := make([]string, 0, len(m))
	for name, etag := range m {
		out = append(out, name+"="+etag)
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

// sameProps reports whether two property sets hold the same names and
// values; nil and empty are the same.
func sameProps(a, b storage.Props) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		w, ok := b[k]
		if !ok || !bytes.Equal(v, w) {
			return false
		}
	}
	return true
}

// propString renders properties as "name=value", by name.
func propString(p storage.Props) string {
	out := make([]string, 0, len(p))
	for k, v := range p {
		out = append(out, k+"="+string(v))
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

// wantNotFound fails unless err is storage.ErrNotFound.
func wantNotFound(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("%s = %v, want ErrNotFound", what, err)
	}
}

// wantGone fails unless collection coll, with the object name it held, is
// gone: Object, Changes, Index and writes answer ErrNotFound. A space
// serves one request and may remember for its reads that a collection was
// its user's, so Objects and ObjectsNamed may answer without an error, but
// then with nothing.
func wantGone(t *testing.T, s storage.Space, coll int64, name string) {
	t.Helper()
	ctx := context.Background()
	_, err := s.Object(ctx, coll, name, storage.ReadOptions{Body: true})
	wantNotFound(t, "Object of a deleted collection", err)
	if objs, err := s.Objects(ctx, coll); !errors.Is(err, storage.ErrNotFound) && (err != nil || len(objs) != 0) {
		t.Fatalf("Objects of a deleted collection = %d objects, %v; want none", len(objs), err)
	}
	if objs, err := s.ObjectsNamed(ctx, coll, []string{name}, storage.ReadOptions{}); !errors.Is(err, storage.ErrNotFound) && (err != nil || len(objs) != 1 || objs[0] != nil) {
		t.Fatalf("ObjectsNamed of a deleted collection = %v, %v; want nil", objs, err)
	}
	_, _, err = s.Changes(ctx, coll, 0)
	wantNotFound(t, "Changes of a deleted collection", err)
	_, _, err = s.Index(ctx, coll)
	wantNotFound(t, "Index of a deleted collection", err)
	_, err = s.PutObject(ctx, coll, storage.PutOptions{Name: name, Body: []byte("x")})
	wantNotFound(t, "PutObject into a deleted collection", err)
}

// wholeSecondIn reports whether tm is a whole second in UTC, from the
// second of from on and no later than to.
func wholeSecondIn(tm, from, to time.Time) bool {
	return tm.Location() == time.UTC && tm.Nanosecond() == 0 && !tm.Before(from.Truncate(time.Second)) && !tm.After(to)
}

// testCreateCollection: a created collection reads back as it was made; a
// second one of its home and name is ErrExists and changes nothing; the
// other home has names of its own.
func testCreateCollection(t *testing.T, users userSpaces) {
	s := users(t, "alice")
	ctx := context.Background()
	props := storage.Props{"{DAV:}displayname": []byte("<D:displayname>Work</D:displayname>"), "{urn:x}color": []byte("#ff0000"), "{urn:x}empty": {}}
	before := time.Now()
	c, err := s.CreateCollection(ctx, storage.NewCollection{Home: storage.HomeCalendars, Name: "work", Kind: storage.KindCalendar, Props: props})
	after := time.Now()
	if err != nil {
		t.Fatal(err)
	}
	if c.ID == 0 || c.Home != storage.HomeCalendars || c.Name != "work" || c.Kind != storage.KindCalendar || !sameProps(c.Props, props) || c.Revision <= 0 {
		t.Fatalf("CreateCollection = %+v", c)
	}
	if !wholeSecondIn(c.Created, before, after) {
		t.Fatalf("Created = %v, want the whole second of the call in UTC", c.Created)
	}
	got, err := s.Collection(ctx, storage.HomeCalendars, "work")
	if err != nil || got.ID != c.ID || got.Home != c.Home || got.Name != c.Name || got.Kind != c.Kind || !sameProps(got.Props, props) ||
		got.Revision != c.Revision || !got.Created.Equal(c.Created) {
		t.Fatalf("Collection = %+v, %v; want %+v", got, err, c)
	}
	if _, err := s.CreateCollection(ctx, storage.NewCollection{Home: storage.HomeCalendars, Name: "work", Kind: storage.KindPlain,
		Props: storage.Props{"{urn:x}other": []byte("x")}}); !errors.Is(err, storage.ErrExists) {
		t.Fatalf("a second calendars/work = %v, want ErrExists", err)
	}
	if got, err := s.Collection(ctx, storage.HomeCalendars, "work"); err != nil || got.ID != c.ID || got.Kind != storage.KindCalendar ||
		!sameProps(got.Props, props) || got.Revision != c.Revision {
		t.Fatalf("after the refused create: %+v, %v", got, err)
	}
	if names := collectionNames(t, s, storage.HomeCalendars); names != "work" {
		t.Fatalf("calendars: %q", names)
	}
	book := newCollection(t, s, storage.HomeAddressBooks, "work", storage.KindAddressBook)
	kitchen := newCollection(t, s, storage.HomeCalendars, "Küche & 日本", storage.KindCalendar)
	if book.ID == c.ID {
		t.Fatalf("addressbooks/work has the id of calendars/work")
	}
	for _, tt := range []struct {
		home storage.Home
		name string
		want int64 // 0: not found
	}{
		{storage.HomeCalendars, "work", c.ID},
		{storage.HomeAddressBooks, "work", book.ID},
		{storage.HomeCalendars, "Work", 0},
		{storage.HomeCalendars, "work/", 0},
		{storage.HomeCalendars, "wor", 0},
		{storage.HomeCalendars, "", 0},
		{storage.HomeAddressBooks, "nope", 0},
		{storage.HomeCalendars, "Küche & 日本", kitchen.ID},
	} {
		got, err := s.Collection(ctx, tt.home, tt.name)
		switch {
		case tt.want == 0:
			wantNotFound(t, fmt.Sprintf("Collection(%s, %q)", tt.home, tt.name), err)
		case err != nil || got.ID != tt.want || got.Home != tt.home:
			t.Fatalf("Collection(%s, %q) = %+v, %v; want id %d", tt.home, tt.name, got, err, tt.want)
		}
	}
}

// testListCollections: each home lists its own collections, ordered by
// creation whatever their names, with their properties.
func testListCollections(t *testing.T, users userSpaces) {
	s := users(t, "alice")
	ctx := context.Background()
	for _, home := range []storage.Home{storage.HomeCalendars, storage.HomeAddressBooks} {
		if cs, err := s.Collections(ctx, home); err != nil || len(cs) != 0 {
			t.Fatalf("a new user's %s: %d, %v", home, len(cs), err)
		}
	}
	made := map[string]*storage.Collection{}
	for _, name := range []string{"b", "a", "c"} {
		made[name] = mustCollection(t, s, name)
	}
	newCollection(t, s, storage.HomeAddressBooks, "contacts", storage.KindAddressBook)
	newCollection(t, s, storage.HomeAddressBooks, "a", storage.KindAddressBook)
	if err := s.DeleteCollection(ctx, made["a"].ID); err != nil {
		t.Fatal(err)
	}
	made["a"] = mustCollection(t, s, "a")
	cs, err := s.Collections(ctx, storage.HomeCalendars)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range cs {
		names = append(names, c.Name)
		want := made[c.Name]
		if want == nil || c.ID != want.ID || c.Home != storage.HomeCalendars || c.Kind != storage.KindCalendar || !sameProps(c.Props, want.Props) ||
			c.Revision != want.Revision || !c.Created.Equal(want.Created) {
			t.Errorf("listed %+v, created %+v", c, want)
		}
	}
	if got := strings.Join(names, " "); got != "b c a" {
		t.Fatalf("calendars listed as %q, want b c a", got)
	}
	if got := collectionNames(t, s, storage.HomeAddressBooks); got != "contacts a" {
		t.Fatalf("addressbooks listed as %q, want contacts a", got)
	}
	if got := collectionNames(t, users(t, "bob"), storage.HomeCalendars); got != "" {
		t.Fatalf("another user lists %q", got)
	}
}

// testNestedCollections: plain collections nest by name, each found by
// its whole name and holding its own objects.
func testNestedCollections(t *testing.T, users userSpaces) {
	s := users(t, "alice")
	ctx := context.Background()
	ids := map[string]int64{}
	for _, name := range []string{"a", "a/b", "a/b/c"} {
		c := newCollection(t, s, storage.HomeCalendars, name, storage.KindPlain)
		ids[name] = c.ID
		putBody(t, s, c.ID, "f.txt", "", "in "+name)
	}
	if _, err := s.CreateCollection(ctx, storage.NewCollection{Home: storage.HomeCalendars, Name: "a/b", Kind: storage.KindPlain}); !errors.Is(err, storage.ErrExists) {
		t.Fatalf("a second a/b = %v, want ErrExists", err)
	}
	if got := collectionNames(t, s, storage.HomeCalendars); got != "a a/b a/b/c" {
		t.Fatalf("listed %q", got)
	}
	for name, id := range ids {
		c, err := s.Collection(ctx, storage.HomeCalendars, name)
		if err != nil || c.ID != id || c.Name != name || c.Kind != storage.KindPlain {
			t.Fatalf("Collection(%q) = %+v, %v", name, c, err)
		}
		if o := mustObject(t, s, id, "f.txt"); string(o.Body) != "in "+name {
			t.Fatalf("%s/f.txt holds %q", name, o.Body)
		}
		if got := etagString(objectETags(t, s, id)); !strings.HasPrefix(got, "f.txt=") || strings.Contains(got, " ") {
			t.Fatalf("%s lists %q", name, got)
		}
	}
	for _, name := range []string{"b", "b/c", "a/c", "a/b/c/d"} {
		_, err := s.Collection(ctx, storage.HomeCalendars, name)
		wantNotFound(t, "Collection("+name+")", err)
	}
	_, err := s.Collection(ctx, storage.HomeAddressBooks, "a/b")
	wantNotFound(t, "a/b in the other home", err)
}

// testDeleteCollectionTree: deleting a collection removes the collections
// nested in it and their objects, and nothing that merely shares a
// prefix of its name or lives in the other home.
func testDeleteCollectionTree(t *testing.T, users userSpaces) {
	s := users(t, "alice")
	ctx := context.Background()
	ids := map[string]int64{}
	mk := func(home storage.Home, name string) {
		c := newCollection(t, s, home, name, storage.KindPlain)
		ids[string(home)+"/"+name] = c.ID
		putBody(t, s, c.ID, "f.txt", "", "in "+name)
	}
	for _, name := range []string{"a", "a/b", "a/b/c", "ab", "a-b", "b", "b/a"} {
		mk(storage.HomeCalendars, name)
	}
	mk(storage.HomeAddressBooks, "a")
	mk(storage.HomeAddressBooks, "a/b")
	if err := s.DeleteCollection(ctx, ids["calendars/a"]); err != nil {
		t.Fatal(err)
	}
	if got := collectionNames(t, s, storage.HomeCalendars); got != "ab a-b b b/a" {
		t.Fatalf("calendars after the delete: %q", got)
	}
	if got := collectionNames(t, s, storage.HomeAddressBooks); got != "a a/b" {
		t.Fatalf("addressbooks after the delete: %q", got)
	}
	for key, id := range ids {
		switch key {
		case "calendars/a", "calendars/a/b", "calendars/a/b/c":
			wantGone(t, s, id, "f.txt")
		default:
			if o := mustObject(t, s, id, "f.txt"); string(o.Body) != "in "+strings.TrimPrefix(strings.TrimPrefix(key, "calendars/"), "addressbooks/") {
				t.Fatalf("%s holds %q", key, o.Body)
			}
		}
	}
	wantNotFound(t, "deleting again", s.DeleteCollection(ctx, ids["calendars/a/b"]))
	// The name is free, and what comes under it starts empty.
	c := newCollection(t, s, storage.HomeCalendars, "a/b", storage.KindPlain)
	if c.ID == ids["calendars/a/b"] {
		t.Fatalf("the new a/b has the deleted one's id %d", c.ID)
	}
	if objs := objectETags(t, s, c.ID); len(objs) != 0 {
		t.Fatalf("a new a/b holds %v", objs)
	}
	if changes, _ := mustChanges(t, s, c.ID, 0); len(changes) != 0 {
		t.Fatalf("a new a/b has changes %s", changeString(changes))
	}
	if n, err := s.Counts(ctx, 0); err != nil || n.Collections != 7 {
		t.Fatalf("Counts = %+v, %v; want 7 collections", n, err)
	}
	// A nested collection goes with those below it, its parent stays.
	newCollection(t, s, storage.HomeCalendars, "a/b/c", storage.KindPlain)
	if err := s.DeleteCollection(ctx, ids["calendars/b/a"]); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteCollection(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	if got := collectionNames(t, s, storage.HomeCalendars); got != "ab a-b b" {
		t.Fatalf("calendars after deleting b/a and a/b: %q", got)
	}
	if o := mustObject(t, s, ids["calendars/b"], "f.txt"); string(o.Body) != "in b" {
		t.Fatalf("b holds %q", o.Body)
	}
}

// testSpacesWalledOff: every call that takes a collection id answers
// ErrNotFound for another user's collection and changes nothing, on
// either side, even where the id comes with collections of the caller's.
func testSpacesWalledOff(t *testing.T, users userSpaces) {
	alice, bob := users(t, "alice"), users(t, "bob")
	ctx := context.Background()
	theirs := mustCollection(t, alice, "work")
	putBody(t, alice, theirs.ID, "a.ics", "uid-a", "secret")
	if err := alice.PatchObject(ctx, theirs.ID, "a.ics", storage.PatchOptions{Set: storage.Props{"{urn:x}p": []byte("v")}}); err != nil {
		t.Fatal(err)
	}
	mine := newCollection(t, bob, storage.HomeCalendars, "mine", storage.KindPlain)
	putBody(t, bob, mine.ID, "mine.ics", "uid-m", "bob's")
	if got := collectionNames(t, bob, storage.HomeCalendars); got != "mine" {
		t.Fatalf("bob lists %q", got)
	}
	_, err := bob.Collection(ctx, storage.HomeCalendars, "work")
	wantNotFound(t, "bob's Collection(work)", err)
	// What each side holds, to see that nothing changed.
	state := func(s storage.Space, coll int64) string {
		t.Helper()
		var out []string
		for _, home := range []storage.Home{storage.HomeCalendars, storage.HomeAddressBooks} {
			out = append(out, collectionNames(t, s, home))
		}
		objs, err := s.ObjectsNamed(ctx, coll, []string{"a.ics", "mine.ics", "x"}, storage.ReadOptions{Body: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range objs {
			if o != nil {
				out = append(out, o.Name+"="+o.ETag+":"+string(o.Body)+":"+propString(o.Props))
			}
		}
		return fmt.Sprint(out, revision(t, s, coll))
	}
	aliceBefore, bobBefore := state(alice, theirs.ID), state(bob, mine.ID)
	id := theirs.ID
	calls := []struct {
		name string
		call func(s storage.Space) error
	}{
		{"Objects", func(s storage.Space) error { _, err := s.Objects(ctx, id); return err }},
		{"Object", func(s storage.Space) error {
			_, err := s.Object(ctx, id, "a.ics", storage.ReadOptions{Body: true})
			return err
		}},
		{"ObjectsNamed", func(s storage.Space) error {
			_, err := s.ObjectsNamed(ctx, id, []string{"a.ics"}, storage.ReadOptions{})
			return err
		}},
		{"PutObject", func(s storage.Space) error {
			_, err := s.PutObject(ctx, id, storage.PutOptions{Name: "a.ics", Body: []byte("x")})
			return err
		}},
		{"PutObject of a new name", func(s storage.Space) error {
			_, err := s.PutObject(ctx, id, storage.PutOptions{Name: "x", Body: []byte("x"), IfNoneMatch: true})
			return err
		}},
		{"DeleteObject", func(s storage.Space) error { return s.DeleteObject(ctx, id, "a.ics", storage.DeleteOptions{}) }},
		{"PatchObject", func(s storage.Space) error {
			return s.PatchObject(ctx, id, "a.ics", storage.PatchOptions{Set: storage.Props{"{urn:x}p": []byte("bob")}})
		}},
		{"PatchCollection", func(s storage.Space) error {
			return s.PatchCollection(ctx, id, storage.PatchOptions{Set: storage.Props{"{x}y": []byte("z")}})
		}},
		{"DeleteCollection", func(s storage.Space) error { return s.DeleteCollection(ctx, id) }},
		{"TransferCollection", func(s storage.Space) error {
			_, err := s.TransferCollection(ctx, id, storage.HomeCalendars, "stolen", storage.TransferOptions{Move: true})
			return err
		}},
		{"TransferCollection in the place of an object there", func(s storage.Space) error {
			_, err := s.TransferCollection(ctx, mine.ID, storage.HomeCalendars, "a.ics", storage.TransferOptions{Move: true, Overwrite: true, ReplaceObjectIn: id})
			return err
		}},
		{"TransferObject from", func(s storage.Space) error {
			_, err := s.TransferObject(ctx, id, "a.ics", mine.ID, "a.ics", storage.TransferOptions{Move: true})
			return err
		}},
		{"TransferObject to", func(s storage.Space) error {
			_, err := s.TransferObject(ctx, mine.ID, "mine.ics", id, "a.ics", storage.TransferOptions{Overwrite: true})
			return err
		}},
		{"TransferObject in the place of that collection", func(s storage.Space) error {
			_, err := s.TransferObject(ctx, mine.ID, "mine.ics", mine.ID, "x", storage.TransferOptions{Overwrite: true, ReplaceCollection: id})
			return err
		}},
		{"Index", func(s storage.Space) error { _, _, err := s.Index(ctx, id); return err }},
		{"Changes", func(s storage.Space) error { _, _, err := s.Changes(ctx, id, 0); return err }},
	}
	for _, tc := range calls {
		t.Run(tc.name, func(t *testing.T) {
			wantNotFound(t, "bob's "+tc.name+" with alice's collection", tc.call(bob))
			if got := state(alice, theirs.ID); got != aliceBefore {
				t.Fatalf("alice's data changed: %s, was %s", got, aliceBefore)
			}
			if got := state(bob, mine.ID); got != bobBefore {
				t.Fatalf("bob's data changed: %s, was %s", got, bobBefore)
			}
		})
	}
	if n, err := bob.Counts(ctx, id); err != nil || n != (storage.Counts{Collections: 1}) {
		t.Fatalf("bob's Counts of alice's collection = %+v, %v", n, err)
	}
}
