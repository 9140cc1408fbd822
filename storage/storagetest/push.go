package storagetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/coffer-dav/coffer/encryption"
	"github.com/coffer-dav/coffer/storage"
)

// PushDB is what the push subscriptions' contract needs of an engine's
// database: accounts and their spaces, and the keyless ends of
// subscriptions.
type PushDB interface {
	SpaceDB
	storage.PushExpiry
	// OnChange sets the change hook.
	OnChange(h storage.ChangeHook)
	// DeleteAccount erases an account.
	DeleteAccount(ctx context.Context, account int64) error
	// Close closes the engine.
	Close() error
}

// pushUser is one user of a push case: the account and its space on
// each engine.
type pushUser struct {
	id   int64
	a, b storage.Space
}

// pushCase is one behaviour of push subscriptions.
type pushCase struct {
	name string
	run  func(t *testing.T, a, b PushDB, user func(name string) pushUser)
}

// pushCases are the behaviours Push checks, each on a fresh database.
var pushCases = []pushCase{
	{"push/add, renew and list", testAddSubscription},
	{"push/refused registrations change nothing", testRefusedSubscriptions},
	{"push/delete", testDeleteSubscription},
	{"push/expiry and a gone push resource", testDropSubscriptions},
	{"push/they go with their collection and account", testSubscriptionsGo},
	{"push/topics", testTopics},
	{"push/the principal and the homes", testScopeSubscriptions},
	{"push/the change hook finds whom to tell", testHookFindsSubscriptions},
	{"push/racing registrations of one push resource", testRacingSubscriptions},
}

// Push runs the contract of push subscriptions (the Space's
// PushSubscriptions and the PushExpiry role) against two engines on one
// fresh database that open makes for each case; the cases that need one
// engine use the first.
func Push(t *testing.T, open func(t *testing.T) (a, b PushDB)) {
	for _, c := range pushCases {
		t.Run(c.name, func(t *testing.T) {
			a, b := open(t)
			t.Cleanup(func() { a.Close(); b.Close() })
			keys, err := encryption.NewKeyring(bytes.Repeat([]byte{7}, encryption.KeySize))
			if err != nil {
				t.Fatal(err)
			}
			c.run(t, a, b, func(name string) pushUser {
				acct, err := a.CreateAccount(context.Background(), storage.NewAccount{Username: name,
					Slots: func(int64) (map[string]encryption.Slot, error) { return nil, nil }})
				if err != nil {
					t.Fatal(err)
				}
				return pushUser{id: acct.ID, a: a.Space(acct.ID, keys), b: b.Space(acct.ID, keys)}
			})
		})
	}
}

// on names a collection as a push target.
func on(collection int64) storage.PushTarget { return storage.PushTarget{Collection: collection} }

// registration is a push registration as a device might send it.
func registration(resource string, key byte, expires time.Time) storage.NewSubscription {
	return storage.NewSubscription{PushResource: resource, PublicKey: bytes.Repeat([]byte{key}, 65), AuthSecret: bytes.Repeat([]byte{key + 1}, 16),
		Trigger: storage.PushTrigger{Content: true, ContentDepth: 1}, Expires: expires}
}

// mustSubscribe registers n on a collection.
func mustSubscribe(t *testing.T, s storage.Space, to storage.PushTarget, n storage.NewSubscription) (*storage.Subscription, bool) {
	t.Helper()
	sub, updated, err := s.AddSubscription(context.Background(), to, n)
	if err != nil {
		t.Fatalf("subscribe %s: %v", n.PushResource, err)
	}
	return sub, updated
}

// subscriptionList renders a target's subscriptions as "id resource", oldest first.
func subscriptionList(t *testing.T, s storage.Space, to storage.PushTarget) string {
	t.Helper()
	subs, err := s.Subscriptions(context.Background(), to)
	if err != nil {
		t.Fatalf("subscriptions of %+v: %v", to, err)
	}
	out := ""
	for _, sub := range subs {
		out += fmt.Sprintf("[%s %s]", sub.ID, sub.PushResource)
	}
	return out
}

// sameSubscription reports how got differs from want, or "".
func sameSubscription(got, want storage.Subscription) string {
	switch {
	case got.ID != want.ID, got.Target != want.Target, got.PushResource != want.PushResource:
		return fmt.Sprintf("id, target or resource %s %+v %q, want %s %+v %q", got.ID, got.Target, got.PushResource, want.ID, want.Target, want.PushResource)
	case !bytes.Equal(got.PublicKey, want.PublicKey), !bytes.Equal(got.AuthSecret, want.AuthSecret):
		return "keys differ"
	case got.Trigger != want.Trigger:
		return fmt.Sprintf("trigger %+v, want %+v", got.Trigger, want.Trigger)
	case !got.Expires.Equal(want.Expires), !got.Created.Equal(want.Created), got.Expires.Location() != time.UTC:
		return fmt.Sprintf("dates %v %v, want %v %v", got.Expires, got.Created, want.Expires, want.Created)
	}
	return ""
}

// testAddSubscription: a registration is stored and listed as given; the
// same push resource on the same collection again renews it (keys,
// trigger and expiry replaced, id and creation kept, updated reported),
// and on another collection is a subscription of its own.
func testAddSubscription(t *testing.T, _, _ PushDB, user func(string) pushUser) {
	ctx := context.Background()
	u := user("alice")
	s := u.a
	work := newCollection(t, s, storage.HomeCalendars, "work", storage.KindCalendar)
	home := newCollection(t, s, storage.HomeAddressBooks, "home", storage.KindAddressBook)
	exp := time.Now().Add(72 * time.Hour).Truncate(time.Second).UTC()
	phone, updated := mustSubscribe(t, s, on(work.ID), registration("https://push.example/phone", 1, exp.Add(500*time.Millisecond)))
	if updated || !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(phone.ID) || phone.Target != on(work.ID) || !phone.Expires.Equal(exp) ||
		time.Since(phone.Created) > time.Minute || phone.Created.After(time.Now()) {
		t.Fatalf("the first registration = %+v, updated %v", phone, updated)
	}
	tablet, _ := mustSubscribe(t, s, on(work.ID), storage.NewSubscription{PushResource: "https://push.example/tablet", PublicKey: []byte{4, 5},
		AuthSecret: []byte{6}, Trigger: storage.PushTrigger{Content: true, ContentDepth: storage.DepthInfinity, Property: true, PropertyDepth: 0}, Expires: exp})
	other, updated := mustSubscribe(t, s, on(home.ID), registration("https://push.example/phone", 1, exp))
	if updated || other.ID == phone.ID {
		t.Fatalf("the push resource on another collection = %+v, updated %v", other, updated)
	}
	if got, want := subscriptionList(t, s, on(work.ID)), fmt.Sprintf("[%s https://push.example/phone][%s https://push.example/tablet]", phone.ID, tablet.ID); got != want {
		t.Fatalf("work's subscriptions = %s, want %s", got, want)
	}
	renewed, updated := mustSubscribe(t, s, on(work.ID), storage.NewSubscription{PushResource: "https://push.example/phone", PublicKey: []byte("new key"),
		AuthSecret: []byte("new secret"), Trigger: storage.PushTrigger{Property: true}, Expires: exp.Add(24 * time.Hour)})
	if !updated || renewed.ID != phone.ID || !renewed.Created.Equal(phone.Created) {
		t.Fatalf("the renewal = %+v, updated %v; first %+v", renewed, updated, phone)
	}
	subs, err := s.Subscriptions(ctx, on(work.ID))
	if err != nil || len(subs) != 2 {
		t.Fatalf("after the renewal: %+v, %v", subs, err)
	}
	for i, want := range []storage.Subscription{*renewed, *tablet} {
		if d := sameSubscription(subs[i], want); d != "" {
			t.Errorf("subscription %d: %s", i, d)
		}
	}
	if d := sameSubscription(subs[0], storage.Subscription{ID: phone.ID, Target: on(work.ID), PushResource: "https://push.example/phone",
		PublicKey: []byte("new key"), AuthSecret: []byte("new secret"), Trigger: storage.PushTrigger{Property: true},
		Expires: exp.Add(24 * time.Hour), Created: phone.Created}); d != "" {
		t.Errorf("the renewed subscription: %s", d)
	}
	if got, want := subscriptionList(t, s, on(home.ID)), fmt.Sprintf("[%s https://push.example/phone]", other.ID); got != want {
		t.Fatalf("home's subscriptions = %s, want %s", got, want)
	}
}

// testRefusedSubscriptions: a registration without push resource, keys or
// expiry, on a collection that is not the user's, or beyond the cap,
// fails and stores nothing; a renewal beyond the cap is allowed.
func testRefusedSubscriptions(t *testing.T, _, _ PushDB, user func(string) pushUser) {
	ctx := context.Background()
	alice, bob := user("alice"), user("bob")
	c := newCollection(t, alice.a, storage.HomeCalendars, "work", storage.KindCalendar)
	bc := newCollection(t, bob.a, storage.HomeCalendars, "work", storage.KindCalendar)
	exp := time.Now().Add(time.Hour)
	good := registration("https://push.example/a", 1, exp)
	cases := []struct {
		name string
		coll int64
		n    func(storage.NewSubscription) storage.NewSubscription
		want error
	}{
		{"no push resource", c.ID, func(n storage.NewSubscription) storage.NewSubscription { n.PushResource = ""; return n }, storage.ErrInvalid},
		{"no public key", c.ID, func(n storage.NewSubscription) storage.NewSubscription { n.PublicKey = nil; return n }, storage.ErrInvalid},
		{"no auth secret", c.ID, func(n storage.NewSubscription) storage.NewSubscription { n.AuthSecret = []byte{}; return n }, storage.ErrInvalid},
		{"no expiry", c.ID, func(n storage.NewSubscription) storage.NewSubscription { n.Expires = time.Time{}; return n }, storage.ErrInvalid},
		{"bob's collection", bc.ID, func(n storage.NewSubscription) storage.NewSubscription { return n }, storage.ErrNotFound},
		{"no collection", c.ID + bc.ID + 100, func(n storage.NewSubscription) storage.NewSubscription { return n }, storage.ErrNotFound},
	}
	for _, k := range cases {
		if sub, _, err := alice.a.AddSubscription(ctx, on(k.coll), k.n(good)); !errors.Is(err, k.want) || sub != nil {
			t.Errorf("%s: %+v, %v; want %v", k.name, sub, err, k.want)
		}
	}
	if got := subscriptionList(t, alice.a, on(c.ID)) + subscriptionList(t, bob.a, on(bc.ID)); got != "" {
		t.Fatalf("refused registrations stored %s", got)
	}
	if _, err := alice.a.Subscriptions(ctx, on(bc.ID)); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("alice lists bob's subscriptions: %v", err)
	}
	capped := func(resource string) storage.NewSubscription {
		n := registration(resource, 2, exp)
		n.Max = 2
		return n
	}
	first, _ := mustSubscribe(t, alice.a, on(c.ID), capped("https://push.example/1"))
	mustSubscribe(t, alice.a, on(c.ID), capped("https://push.example/2"))
	var le *storage.LimitError
	if sub, _, err := alice.a.AddSubscription(ctx, on(c.ID), capped("https://push.example/3")); !errors.As(err, &le) || le.Limit != storage.LimitSubscriptions || le.Max != 2 || sub != nil {
		t.Fatalf("a third beyond a cap of 2: %+v, %v", sub, err)
	}
	if again, updated := mustSubscribe(t, alice.a, on(c.ID), capped("https://push.example/1")); !updated || again.ID != first.ID {
		t.Fatalf("a renewal at the cap: %+v, %v", again, updated)
	}
	if subs, err := alice.a.Subscriptions(ctx, on(c.ID)); err != nil || len(subs) != 2 {
		t.Fatalf("at the cap: %d subscriptions, %v", len(subs), err)
	}
}

// testDeleteSubscription: a user ends a subscription by its id; a second
// end, or one of another user's id, is ErrNotFound and changes nothing.
func testDeleteSubscription(t *testing.T, _, _ PushDB, user func(string) pushUser) {
	ctx := context.Background()
	alice, bob := user("alice"), user("bob")
	c := newCollection(t, alice.a, storage.HomeCalendars, "work", storage.KindCalendar)
	bc := newCollection(t, bob.a, storage.HomeCalendars, "work", storage.KindCalendar)
	exp := time.Now().Add(time.Hour)
	one, _ := mustSubscribe(t, alice.a, on(c.ID), registration("https://push.example/1", 1, exp))
	two, _ := mustSubscribe(t, alice.a, on(c.ID), registration("https://push.example/2", 1, exp))
	bobs, _ := mustSubscribe(t, bob.a, on(bc.ID), registration("https://push.example/1", 1, exp))
	if err := alice.a.DeleteSubscription(ctx, bobs.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("alice ends bob's subscription: %v", err)
	}
	if err := alice.b.DeleteSubscription(ctx, one.ID); err != nil {
		t.Fatal(err)
	}
	if err := alice.a.DeleteSubscription(ctx, one.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("a second end: %v", err)
	}
	if got, want := subscriptionList(t, alice.a, on(c.ID)), fmt.Sprintf("[%s https://push.example/2]", two.ID); got != want {
		t.Fatalf("alice's after the end: %s, want %s", got, want)
	}
	if got, want := subscriptionList(t, bob.a, on(bc.ID)), fmt.Sprintf("[%s https://push.example/1]", bobs.ID); got != want {
		t.Fatalf("bob's after alice's end: %s, want %s", got, want)
	}
	// The push resource registers afresh, under a new id.
	if again, updated := mustSubscribe(t, alice.a, on(c.ID), registration("https://push.example/1", 1, exp)); updated || again.ID == one.ID {
		t.Fatalf("registered again after its end: %+v, %v", again, updated)
	}
}

// testDropSubscriptions: without a key, the sweeper drops every user's
// subscriptions whose expiry has come, and a sender one whose push
// service reported it gone; another account's id drops nothing.
func testDropSubscriptions(t *testing.T, a, b PushDB, user func(string) pushUser) {
	ctx := context.Background()
	alice, bob := user("alice"), user("bob")
	c := newCollection(t, alice.a, storage.HomeCalendars, "work", storage.KindCalendar)
	bc := newCollection(t, bob.a, storage.HomeCalendars, "work", storage.KindCalendar)
	now := time.Now().Truncate(time.Second)
	soon, _ := mustSubscribe(t, alice.a, on(c.ID), registration("https://push.example/soon", 1, now.Add(time.Hour)))
	later, _ := mustSubscribe(t, alice.a, on(c.ID), registration("https://push.example/later", 1, now.Add(3*time.Hour)))
	bobSoon, _ := mustSubscribe(t, bob.a, on(bc.ID), registration("https://push.example/soon", 1, now.Add(time.Hour)))
	bobLater, _ := mustSubscribe(t, bob.a, on(bc.ID), registration("https://push.example/later", 1, now.Add(3*time.Hour)))
	steps := []struct {
		name       string
		do         func() (int64, error)
		wantN      int64
		alice, bob string
	}{
		{"before any expiry", func() (int64, error) { return a.DropExpiredSubscriptions(ctx, now.Add(time.Hour-time.Second)) }, 0,
			"[" + soon.ID + " https://push.example/soon][" + later.ID + " https://push.example/later]",
			"[" + bobSoon.ID + " https://push.example/soon][" + bobLater.ID + " https://push.example/later]"},
		{"at the first expiry", func() (int64, error) { return b.DropExpiredSubscriptions(ctx, now.Add(time.Hour)) }, 2,
			"[" + later.ID + " https://push.example/later]", "[" + bobLater.ID + " https://push.example/later]"},
		{"bob's id under alice's account", func() (int64, error) { return 0, a.DropSubscription(ctx, alice.id, bobLater.ID) }, 0,
			"[" + later.ID + " https://push.example/later]", "[" + bobLater.ID + " https://push.example/later]"},
		{"gone at its push service", func() (int64, error) { return 0, b.DropSubscription(ctx, bob.id, bobLater.ID) }, 0,
			"[" + later.ID + " https://push.example/later]", ""},
		{"gone twice", func() (int64, error) { return 0, a.DropSubscription(ctx, bob.id, bobLater.ID) }, 0,
			"[" + later.ID + " https://push.example/later]", ""},
		{"a renewal moves the expiry", func() (int64, error) {
			mustSubscribe(t, alice.a, on(c.ID), registration("https://push.example/later", 1, now.Add(10*time.Hour)))
			return a.DropExpiredSubscriptions(ctx, now.Add(5*time.Hour))
		}, 0, "[" + later.ID + " https://push.example/later]", ""},
		{"after every expiry", func() (int64, error) { return a.DropExpiredSubscriptions(ctx, now.Add(10*time.Hour)) }, 1, "", ""},
	}
	for _, s := range steps {
		n, err := s.do()
		if err != nil || n != s.wantN {
			t.Fatalf("%s: dropped %d, %v; want %d", s.name, n, err, s.wantN)
		}
		if got := subscriptionList(t, alice.a, on(c.ID)); got != s.alice {
			t.Fatalf("%s: alice's = %s, want %s", s.name, got, s.alice)
		}
		if got := subscriptionList(t, bob.a, on(bc.ID)); got != s.bob {
			t.Fatalf("%s: bob's = %s, want %s", s.name, got, s.bob)
		}
	}
}

// testSubscriptionsGo: a collection's subscriptions go with it, with the
// collection it is nested in, and with the account; a collection made
// again under the name has none, and a MOVE keeps them.
func testSubscriptionsGo(t *testing.T, a, _ PushDB, user func(string) pushUser) {
	ctx := context.Background()
	alice, bob := user("alice"), user("bob")
	s := alice.a
	exp := time.Now().Add(time.Hour)
	parent := newCollection(t, s, storage.HomeCalendars, "p", storage.KindPlain)
	nested := newCollection(t, s, storage.HomeCalendars, "p/n", storage.KindCalendar)
	work := newCollection(t, s, storage.HomeCalendars, "work", storage.KindCalendar)
	for _, c := range []int64{parent.ID, nested.ID, work.ID} {
		mustSubscribe(t, s, on(c), registration("https://push.example/x", 1, exp))
	}
	mustSubscribe(t, s, storage.PushTarget{Scope: storage.ScopeCalendars}, registration("https://push.example/x", 1, exp))
	bc := newCollection(t, bob.a, storage.HomeCalendars, "work", storage.KindCalendar)
	bobs, _ := mustSubscribe(t, bob.a, on(bc.ID), registration("https://push.example/x", 1, exp))
	if _, err := s.TransferCollection(ctx, work.ID, storage.HomeCalendars, "moved", storage.TransferOptions{Move: true}); err != nil {
		t.Fatal(err)
	}
	if subs, err := s.Subscriptions(ctx, on(work.ID)); err != nil || len(subs) != 1 {
		t.Fatalf("after a MOVE: %+v, %v", subs, err)
	}
	if err := s.DeleteCollection(ctx, parent.ID); err != nil {
		t.Fatal(err)
	}
	for _, c := range []int64{parent.ID, nested.ID} {
		if _, err := s.Subscriptions(ctx, on(c)); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("subscriptions of deleted collection %d: %v", c, err)
		}
	}
	again := newCollection(t, s, storage.HomeCalendars, "p/n", storage.KindCalendar)
	if got := subscriptionList(t, s, on(again.ID)); got != "" {
		t.Fatalf("a collection made again under the name has %s", got)
	}
	// The sweeper counts what is left: alice's moved one and bob's.
	if err := a.DeleteAccount(ctx, alice.id); err != nil {
		t.Fatal(err)
	}
	if n, err := a.DropExpiredSubscriptions(ctx, exp.Add(time.Hour)); err != nil || n != 1 {
		t.Fatalf("after alice's delete the sweeper dropped %d (%v), want bob's one", n, err)
	}
	if got := subscriptionList(t, bob.a, on(bc.ID)); got != "" {
		t.Fatalf("bob's after the sweep: %s (had %s)", got, bobs.ID)
	}
}

// testTopics: a collection's topic is stable, kept by a MOVE, and its
// own: another collection, a copy, one made again under the name, or
// another user's of the name has another; it is a valid Topic header
// value and holds no name.
func testTopics(t *testing.T, _, _ PushDB, user func(string) pushUser) {
	ctx := context.Background()
	alice, bob := user("alice"), user("bob")
	s := alice.a
	topic := func(s storage.Space, id int64) string {
		t.Helper()
		tp, err := s.Topic(ctx, on(id))
		if err != nil {
			t.Fatalf("topic of %d: %v", id, err)
		}
		return tp
	}
	work := newCollection(t, s, storage.HomeCalendars, "work", storage.KindCalendar)
	first := topic(s, work.ID)
	// RFC 8030 section 5.4: at most 32 characters of the base64url alphabet.
	if !regexp.MustCompile(`^[A-Za-z0-9_-]{16,32}$`).MatchString(first) || regexp.MustCompile(`(?i)work|alice`).MatchString(first) {
		t.Fatalf("topic %q", first)
	}
	if got := topic(alice.b, work.ID); got != first {
		t.Fatalf("the topic on the other engine: %q, want %q", got, first)
	}
	if _, err := s.TransferCollection(ctx, work.ID, storage.HomeCalendars, "renamed", storage.TransferOptions{Move: true}); err != nil {
		t.Fatal(err)
	}
	if got := topic(s, work.ID); got != first {
		t.Fatalf("the topic after a MOVE: %q, want %q", got, first)
	}
	if _, err := s.TransferCollection(ctx, work.ID, storage.HomeCalendars, "copy", storage.TransferOptions{}); err != nil {
		t.Fatal(err)
	}
	cp, err := s.Collection(ctx, storage.HomeCalendars, "copy")
	if err != nil {
		t.Fatal(err)
	}
	again := newCollection(t, s, storage.HomeCalendars, "work", storage.KindCalendar)
	bobs := newCollection(t, bob.a, storage.HomeCalendars, "work", storage.KindCalendar)
	seen := map[string]string{first: "work"}
	for _, o := range []struct {
		name  string
		space storage.Space
		id    int64
	}{{"the copy", s, cp.ID}, {"one made again under the name", s, again.ID}, {"bob's of the name", bob.a, bobs.ID}} {
		tp := topic(o.space, o.id)
		if prev, ok := seen[tp]; ok {
			t.Fatalf("%s has the topic of %s", o.name, prev)
		}
		seen[tp] = o.name
	}
	if _, err := s.Topic(ctx, on(bobs.ID)); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("the topic of bob's collection for alice: %v", err)
	}
}

// testRacingSubscriptions: devices registering one push resource on one
// collection at once, through both engines, leave one subscription:
// exactly one registration creates it, the others renew it.
func testRacingSubscriptions(t *testing.T, _, _ PushDB, user func(string) pushUser) {
	ctx := context.Background()
	alice := user("alice")
	c := newCollection(t, alice.a, storage.HomeCalendars, "work", storage.KindCalendar)
	exp := time.Now().Add(time.Hour)
	var mu sync.Mutex
	created, ids := 0, map[string]bool{}
	var wg sync.WaitGroup
	for i := range 8 {
		s := alice.a
		if i%2 == 1 {
			s = alice.b
		}
		wg.Go(func() {
			sub, updated, err := s.AddSubscription(ctx, on(c.ID), registration("https://push.example/same", byte(i), exp))
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			ids[sub.ID] = true
			if !updated {
				created++
			}
		})
	}
	wg.Wait()
	subs, err := alice.a.Subscriptions(ctx, on(c.ID))
	if err != nil || len(subs) != 1 || created != 1 || len(ids) != 1 || !ids[subs[0].ID] {
		t.Fatalf("%d subscriptions (%v), %d created, ids %v", len(subs), err, created, ids)
	}
}

// testScopeSubscriptions: the principal and each home take subscriptions
// of their own, apart from one another and from the collections, with
// topics of their own; a target that names nothing, or two things, is
// ErrInvalid.
func testScopeSubscriptions(t *testing.T, _, _ PushDB, user func(string) pushUser) {
	ctx := context.Background()
	alice, bob := user("alice"), user("bob")
	s := alice.a
	exp := time.Now().Add(time.Hour)
	cal := newCollection(t, s, storage.HomeCalendars, "work", storage.KindCalendar)
	scopes := []storage.Scope{storage.ScopePrincipal, storage.ScopeCalendars, storage.ScopeAddressBooks}
	subs := map[storage.Scope]*storage.Subscription{}
	for _, sc := range scopes {
		sub, updated := mustSubscribe(t, s, storage.PushTarget{Scope: sc}, registration("https://push.example/same", 1, exp))
		if updated || sub.Target != (storage.PushTarget{Scope: sc}) {
			t.Fatalf("on %s: %+v, updated %v", sc, sub, updated)
		}
		subs[sc] = sub
	}
	inColl, _ := mustSubscribe(t, s, on(cal.ID), registration("https://push.example/same", 1, exp))
	renewed, updated := mustSubscribe(t, alice.b, storage.PushTarget{Scope: storage.ScopeCalendars}, registration("https://push.example/same", 9, exp.Add(time.Hour)))
	if !updated || renewed.ID != subs[storage.ScopeCalendars].ID {
		t.Fatalf("the renewal on the calendars home: %+v, updated %v", renewed, updated)
	}
	for _, sc := range scopes {
		got, err := s.Subscriptions(ctx, storage.PushTarget{Scope: sc})
		if err != nil || len(got) != 1 || got[0].ID != subs[sc].ID {
			t.Fatalf("%s's subscriptions = %+v, %v", sc, got, err)
		}
		want := *subs[sc]
		if sc == storage.ScopeCalendars {
			want = *renewed
		}
		if d := sameSubscription(got[0], want); d != "" {
			t.Fatalf("%s's subscription: %s", sc, d)
		}
	}
	if got, want := subscriptionList(t, s, on(cal.ID)), "["+inColl.ID+" https://push.example/same]"; got != want {
		t.Fatalf("the collection's = %s, want %s", got, want)
	}
	if got := subscriptionList(t, bob.a, storage.PushTarget{Scope: storage.ScopeCalendars}); got != "" {
		t.Fatalf("bob's calendars home has alice's: %s", got)
	}
	if err := bob.a.DeleteSubscription(ctx, subs[storage.ScopePrincipal].ID); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("bob ends alice's subscription on her principal: %v", err)
	}
	if err := s.DeleteSubscription(ctx, subs[storage.ScopePrincipal].ID); err != nil {
		t.Fatal(err)
	}
	if got := subscriptionList(t, s, storage.PushTarget{Scope: storage.ScopePrincipal}); got != "" {
		t.Fatalf("the principal's after the end: %s", got)
	}
	topics := map[string]string{}
	for _, o := range []struct {
		name  string
		space storage.Space
		to    storage.PushTarget
	}{
		{"alice's principal", s, storage.PushTarget{Scope: storage.ScopePrincipal}},
		{"alice's calendars", s, storage.PushTarget{Scope: storage.ScopeCalendars}},
		{"alice's address books", s, storage.PushTarget{Scope: storage.ScopeAddressBooks}},
		{"alice's collection", s, on(cal.ID)},
		{"bob's calendars", bob.a, storage.PushTarget{Scope: storage.ScopeCalendars}},
	} {
		tp, err := o.space.Topic(ctx, o.to)
		if err != nil || !regexp.MustCompile(`^[A-Za-z0-9_-]{16,32}$`).MatchString(tp) {
			t.Fatalf("the topic of %s: %q, %v", o.name, tp, err)
		}
		if again, err := alice.b.Topic(ctx, o.to); o.space == s && (err != nil || again != tp) {
			t.Fatalf("the topic of %s on the other engine: %q, %v; want %q", o.name, again, err, tp)
		}
		if prev, ok := topics[tp]; ok {
			t.Fatalf("%s has the topic of %s", o.name, prev)
		}
		topics[tp] = o.name
	}
	for _, bad := range []storage.PushTarget{{}, {Scope: "elsewhere"}, {Collection: cal.ID, Scope: storage.ScopeCalendars}} {
		if _, _, err := s.AddSubscription(ctx, bad, registration("https://push.example/bad", 1, exp)); !errors.Is(err, storage.ErrInvalid) {
			t.Errorf("a registration on %+v: %v", bad, err)
		}
		if _, err := s.Subscriptions(ctx, bad); !errors.Is(err, storage.ErrInvalid) {
			t.Errorf("the subscriptions of %+v: %v", bad, err)
		}
		if _, err := s.Topic(ctx, bad); !errors.Is(err, storage.ErrInvalid) {
			t.Errorf("the topic of %+v: %v", bad, err)
		}
	}
}

// testHookFindsSubscriptions: the change hook, with the space the write
// went through, opens the subscriptions and topic of each changed target:
// what a delivery needs. A removed collection's subscriptions went with
// it.
func testHookFindsSubscriptions(t *testing.T, a, _ PushDB, user func(string) pushUser) {
	ctx := context.Background()
	alice := user("alice")
	s := alice.a
	exp := time.Now().Add(time.Hour)
	work := newCollection(t, s, storage.HomeCalendars, "work", storage.KindCalendar)
	mustSubscribe(t, s, on(work.ID), registration("https://push.example/coll", 1, exp))
	mustSubscribe(t, s, storage.PushTarget{Scope: storage.ScopeCalendars}, registration("https://push.example/home", 1, exp))
	workTopic, err := s.Topic(ctx, on(work.ID))
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var heard []string
	a.OnChange(func(ctx context.Context, sp storage.Space, changes []storage.Changed) {
		for _, c := range changes {
			line := fmt.Sprintf("%s%d:", c.Scope, c.Collection)
			subs, err := sp.Subscriptions(ctx, c.Target())
			switch {
			case errors.Is(err, storage.ErrNotFound) || err == nil && len(subs) == 0:
				line += "none" // a space that checked the collection before may still know it
			case err != nil:
				line += err.Error()
			default:
				for _, sub := range subs {
					line += sub.PushResource
				}
				if c.Collection == work.ID {
					if tp, err := sp.Topic(ctx, c.Target()); err != nil || tp != workTopic {
						line += " with another topic"
					}
				}
			}
			mu.Lock()
			heard = append(heard, line)
			mu.Unlock()
		}
	})
	t.Cleanup(func() { a.OnChange(nil) })
	take := func() string {
		mu.Lock()
		defer mu.Unlock()
		out := fmt.Sprint(heard)
		heard = nil
		return out
	}
	w := fmt.Sprint(work.ID)
	for _, step := range []struct {
		name string
		do   func() error
		want string
	}{
		{"a PUT", func() error {
			_, err := s.PutObject(ctx, work.ID, storage.PutOptions{Name: "a.ics", Body: []byte("x")})
			return err
		}, "[" + w + ":https://push.example/coll]"},
		{"a PROPPATCH", func() error {
			return s.PatchCollection(ctx, work.ID, storage.PatchOptions{Set: storage.Props{"{DAV:}displayname": []byte("W")}})
		}, "[" + w + ":https://push.example/coll]"},
		{"a new collection", func() error {
			_, err := s.CreateCollection(ctx, storage.NewCollection{Home: storage.HomeCalendars, Name: "new", Kind: storage.KindCalendar})
			return err
		}, "[calendars0:https://push.example/home]"},
		{"the collection removed", func() error { return s.DeleteCollection(ctx, work.ID) }, "[" + w + ":none calendars0:https://push.example/home]"},
	} {
		if err := step.do(); err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		if got := take(); got != step.want {
			t.Fatalf("%s: the hook found %s, want %s", step.name, got, step.want)
		}
	}
}
