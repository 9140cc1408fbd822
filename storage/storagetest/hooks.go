package storagetest

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/coffer-dav/coffer/storage"
)

// HookDB is what the change hook's contract needs of an engine's database.
type HookDB interface {
	SpaceDB
	OnChange(h storage.ChangeHook)
	Close() error
}

// hookStep is one write and the changes its commit must report.
type hookStep struct {
	name string
	// do runs the write; it returns false when the write must fail.
	do   func(t *testing.T, s storage.Space, ids map[string]int64) bool
	want string // the reported changes, as changedString renders them
}

// changeLog gathers what the hook hears.
type changeLog struct {
	mu      sync.Mutex
	changes []storage.Changed
	spaces  []storage.Space
}

// Hooks runs the contract of the change hook against the database open
// makes: every committed write reports each resource it changed, once,
// with the revision the collection then has, and a failed write reports
// nothing.
func Hooks[DB HookDB](t *testing.T, open func(t *testing.T) DB) {
	db := open(t)
	t.Cleanup(func() { db.Close() })
	s := NewUser(t, db, "hooks")[0]
	other := NewUser(t, db, "other")[0]
	var log changeLog
	db.OnChange(func(_ context.Context, sp storage.Space, c []storage.Changed) {
		log.mu.Lock()
		defer log.mu.Unlock()
		log.changes = append(log.changes, c...)
		log.spaces = append(log.spaces, sp)
	})
	ids := map[string]int64{}
	for _, step := range hookSteps {
		log.reset()
		ok := step.do(t, s, ids)
		changes, spaces := log.take()
		got := changedString(changes, ids)
		if got != step.want {
			t.Errorf("%s: the hook heard %q, want %q", step.name, got, step.want)
		}
		for _, sp := range spaces {
			if sp != s {
				t.Errorf("%s: the hook got another space than the writer's", step.name)
			}
		}
		if !ok {
			continue
		}
		for _, c := range changes {
			if c.Account == 0 {
				t.Errorf("%s: a change without its account", step.name)
			}
			if c.Collection == 0 || c.Kind&storage.Removed != 0 {
				continue
			}
			if rev := revision(t, s, c.Collection); c.Revision != rev {
				t.Errorf("%s: reported revision %d, the collection has %d", step.name, c.Revision, rev)
			}
		}
	}
	// Another user's writes reach the hook with their own space.
	log.reset()
	newCollection(t, other, storage.HomeCalendars, "theirs", storage.KindCalendar)
	if _, spaces := log.take(); len(spaces) != 1 || spaces[0] != other {
		t.Errorf("another user's write reached the hook %d times, or with the wrong space", len(spaces))
	}
	db.OnChange(nil)
	newCollection(t, s, storage.HomeCalendars, "unheard", storage.KindCalendar)
	if changes, _ := log.take(); len(changes) != 0 {
		t.Errorf("after OnChange(nil) the hook still heard %d changes", len(changes))
	}
}

// reset forgets what the log heard.
func (l *changeLog) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.changes, l.spaces = nil, nil
}

// take returns what the log heard and forgets it.
func (l *changeLog) take() ([]storage.Changed, []storage.Space) {
	l.mu.Lock()
	defer l.mu.Unlock()
	c, s := l.changes, l.spaces
	l.changes, l.spaces = nil, nil
	return c, s
}

// hookSteps are the writes the contract makes, in order, on one user.
var hookSteps = []hookStep{
	{"create a calendar", func(t *testing.T, s storage.Space, ids map[string]int64) bool {
		ids["cal"] = newCollection(t, s, storage.HomeCalendars, "cal", storage.KindCalendar).ID
		return true
	}, "calendars:content"},
	{"create a second calendar", func(t *testing.T, s storage.Space, ids map[string]int64) bool {
		ids["cal2"] = newCollection(t, s, storage.HomeCalendars, "cal2", storage.KindCalendar).ID
		return true
	}, "calendars:content"},
	{"put an event", func(t *testing.T, s storage.Space, ids map[string]int64) bool {
		putBody(t, s, ids["cal"], "a.ics", "a", "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")
		return true
	}, "cal:content"},
	{"replace it", func(t *testing.T, s storage.Space, ids map[string]int64) bool {
		putBody(t, s, ids["cal"], "a.ics", "a", "BEGIN:VCALENDAR\r\nX-A:1\r\nEND:VCALENDAR\r\n")
		return true
	}, "cal:content"},
	{"a put that fails its precondition", func(t *testing.T, s storage.Space, ids map[string]int64) bool {
		_, err := s.PutObject(context.Background(), ids["cal"], storage.PutOptions{Name: "a.ics", UID: "a", IfNoneMatch: true, Body: []byte("x")})
		if err == nil {
			t.Fatal("a put with If-None-Match onto an object succeeded")
		}
		return false
	}, ""},
	{"patch the event's properties", func(t *testing.T, s storage.Space, ids map[string]int64) bool {
		mustDo(t, s.PatchObject(context.Background(), ids["cal"], "a.ics", storage.PatchOptions{Set: storage.Props{"{x:}a": []byte("<a xmlns='x:'/>")}}))
		return true
	}, "cal:content"},
	{"patch the calendar's properties", func(t *testing.T, s storage.Space, ids map[string]int64) bool {
		mustDo(t, s.PatchCollection(context.Background(), ids["cal"], storage.PatchOptions{Set: storage.Props{"{DAV:}displayname": []byte("<D:displayname xmlns:D='DAV:'>x</D:displayname>")}}))
		return true
	}, "cal:props"},
	{"patch the principal's properties", func(t *testing.T, s storage.Space, ids map[string]int64) bool {
		mustDo(t, s.PatchProps(context.Background(), storage.ScopePrincipal, storage.PatchOptions{Set: storage.Props{"{x:}p": []byte("<p xmlns='x:'/>")}}))
		return true
	}, "principal:props"},
	{"move the event to the second calendar", func(t *testing.T, s storage.Space, ids map[string]int64) bool {
		_, err := s.TransferObject(context.Background(), ids["cal"], "a.ics", ids["cal2"], "b.ics", storage.TransferOptions{Move: true})
		mustDo(t, err)
		return true
	}, "cal2:content cal:content"},
	{"delete it", func(t *testing.T, s storage.Space, ids map[string]int64) bool {
		mustDo(t, s.DeleteObject(context.Background(), ids["cal2"], "b.ics", storage.DeleteOptions{}))
		return true
	}, "cal2:content"},
	{"rename the second calendar", func(t *testing.T, s storage.Space, ids map[string]int64) bool {
		_, err := s.TransferCollection(context.Background(), ids["cal2"], storage.HomeCalendars, "renamed", storage.TransferOptions{Move: true})
		mustDo(t, err)
		return true
	}, "cal2:content+props calendars:content"},
	{"delete the first calendar", func(t *testing.T, s storage.Space, ids map[string]int64) bool {
		mustDo(t, s.DeleteCollection(context.Background(), ids["cal"]))
		return true
	}, "cal:removed calendars:content"},
}

// mustDo fails the test on an error.
func mustDo(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// changedString renders changes as "name:kind" sorted, naming collections
// by the names ids gives them and scopes by their own.
func changedString(changes []storage.Changed, ids map[string]int64) string {
	var out []string
	for _, c := range changes {
		who := string(c.Scope)
		if c.Collection != 0 {
			who = fmt.Sprint(c.Collection)
			for name, id := range ids {
				if id == c.Collection {
					who = name
				}
			}
		}
		var kinds []string
		for _, k := range []struct {
			bit  storage.ChangeKind
			name string
		}{{storage.ContentChanged, "content"}, {storage.PropsChanged, "props"}, {storage.Removed, "removed"}} {
			if c.Kind&k.bit != 0 {
				kinds = append(kinds, k.name)
			}
		}
		out = append(out, who+":"+strings.Join(kinds, "+"))
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}
