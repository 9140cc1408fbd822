package dav

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coffer-dav/coffer/encryption"
	"github.com/coffer-dav/coffer/encryption/webpush"
	"github.com/coffer-dav/coffer/push"
	"github.com/coffer-dav/coffer/storage"
)

// The Notifier delivers WebDAV-Push messages (draft-bitfire-webdav-push-00
// section 6) for the changes that storage reports after each committed
// write. It lives in dav because a push message is DAV: it names the
// topic and the sync-token as PROPFIND renders them. Its hook never blocks
// the write: the change joins a bounded table of pending targets (a full
// table drops it and counts it), and a few workers, once the coalescing
// window of a target has passed, list its subscriptions through the
// space the write went through (its keys still open) and send one message
// to each. A send the push service asks to retry goes into the outbox,
// sealed under a server-held key, since whoever retries it holds no user key.

// PushSender sends one push message; *push.Sender plays it.
type PushSender interface {
	// Send encrypts m to sub and sends it, and says what became of it.
	Send(ctx context.Context, sub push.Subscription, m push.Message) push.Result
}

// NotifyOptions configure a Notifier.
type NotifyOptions struct {
	Sender PushSender         // required
	Expiry storage.PushExpiry // drops subscriptions whose push service answered 404 or 410; required
	Outbox storage.Outbox     // holds the retries; required
	// RetryKey seals the retries in the outbox (encryption.DeriveKeyring of
	// the server secret for encryption.PushOutbox); required.
	RetryKey *encryption.Keyring
	// Window is how long changes of one resource are gathered into one
	// message; default 250 ms.
	Window time.Duration
	// Workers is how many sends run at once (and half as many resolve
	// changes into messages); default 4.
	Workers int
	// MaxPending bounds each queue: the resources with changes waiting
	// for their window to end, the messages waiting for a sender, and those
	// waiting for a busy push service. What goes beyond is dropped and
	// counted (NotifyStats.QueueDrops). Default 4096.
	MaxPending int
	// TTL is how long a push service keeps an undelivered message; default 24h.
	TTL time.Duration
	// MaxAttempts bounds the sends of one message, the first included;
	// default 5.
	MaxAttempts int
	// RetryPoll is how often the outbox is asked for due retries; default 5 s.
	RetryPoll time.Duration
	// Backoff is the first retry's delay when the push service names none;
	// each later one doubles it, up to an hour. Default 30 s.
	Backoff time.Duration
	Logger  *slog.Logger
	Now     func() time.Time
}

// NotifyStats counts what a Notifier did since it started.
type NotifyStats struct {
	Sent        uint64 // messages a push service took
	Failed      uint64 // sends that failed: retried later, or given up
	Dropped     uint64 // subscriptions dropped because their push service said they are gone
	QueueDrops  uint64 // changes not pushed because the pending table or the send queue was full
	RetriesDone uint64 // retries from the outbox that a push service took
	Deferred    uint64 // messages that waited because their push service had its share of the senders busy
}

// Notifier turns committed changes into push messages.
type Notifier struct {
	o       NotifyOptions
	mu      sync.Mutex
	pending map[pendingKey]*pendingPush
	busy    map[string]int                 // sends in flight, by push service (origin)
	parked  map[string]map[string]outgoing // messages waiting for a sender of their push service, by origin and subscription
	nParked int                            // the messages in parked
	due     chan *pendingPush              // targets whose window ended
	sends   chan outgoing                  // messages to send
	// The counts of NotifyStats.
	sent, failed, dropped   atomic.Uint64
	queueDrops, retriesDone atomic.Uint64
	deferred                atomic.Uint64
}

// pendingKey names a resource of an account that has changes waiting.
type pendingKey struct {
	account int64
	target  storage.PushTarget
}

// pendingPush is a resource's changes within one window.
type pendingPush struct {
	key     pendingKey
	space   storage.Space // the space of the latest write: its keys are open
	changes []pushChange
}

// pushChange is one write's change of a resource, and the registrations
// its request asked not to notify.
type pushChange struct {
	content, property bool
	revision          int64
	dont              dontNotify
}

// dontNotify is a request's Push-Dont-Notify: registration ids, or all.
type dontNotify struct {
	ids []string
	all bool
}

// outgoing is one message to one subscription.
type outgoing struct {
	account int64
	id      string // the subscription's id
	sub     push.Subscription
	msg     push.Message
}

// dontNotifyKey is the context key of a request's Push-Dont-Notify.
type dontNotifyKey struct{}

// Defaults of NotifyOptions.
const (
	defaultPushWindow  = 250 * time.Millisecond
	defaultPushWorkers = 4
	defaultMaxPending  = 4096
	defaultPushTTL     = 24 * time.Hour
	defaultPushTries   = 5
	defaultRetryPoll   = 5 * time.Second
	defaultBackoff     = 30 * time.Second
)

// withDontNotify returns ctx carrying the registrations a request's
// Push-Dont-Notify header names, for the change hook to read.
func withDontNotify(ctx context.Context, ids []string, all bool) context.Context {
	if len(ids) == 0 && !all {
		return ctx
	}
	return context.WithValue(ctx, dontNotifyKey{}, dontNotify{ids: ids, all: all})
}

// skips reports whether d names the registration id.
func (d dontNotify) skips(id string) bool {
	if d.all {
		return true
	}
	for _, x := range d.ids {
		if x == id {
			return true
		}
	}
	return false
}

// same reports whether d and e spare the same registrations: both none,
// both all, or the same header's list.
func (d dontNotify) same(e dontNotify) bool {
	if d.all || e.all {
		return d.all == e.all
	}
	if len(d.ids) != len(e.ids) {
		return false
	}
	for i := range d.ids {
		if d.ids[i] != e.ids[i] {
			return false
		}
	}
	return true
}

// defaults fills in the options left zero.
func (o *NotifyOptions) defaults() {
	if o.Window <= 0 {
		o.Window = defaultPushWindow
	}
	if o.Workers <= 0 {
		o.Workers = defaultPushWorkers
	}
	if o.MaxPending <= 0 {
		o.MaxPending = defaultMaxPending
	}
	if o.TTL <= 0 {
		o.TTL = defaultPushTTL
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = defaultPushTries
	}
	if o.RetryPoll <= 0 {
		o.RetryPoll = defaultRetryPoll
	}
	if o.Backoff <= 0 {
		o.Backoff = defaultBackoff
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// NewNotifier returns a Notifier; Run starts its workers.
func NewNotifier(o NotifyOptions) (*Notifier, error) {
	if o.Sender == nil || o.Expiry == nil || o.Outbox == nil || o.RetryKey == nil {
		return nil, errors.New("dav: a Notifier needs a sender, the push expiry, the outbox and the retry key")
	}
	o.defaults()
	return &Notifier{
		o:       o,
		pending: map[pendingKey]*pendingPush{},
		busy:    map[string]int{},
		parked:  map[string]map[string]outgoing{},
		due:     make(chan *pendingPush, o.MaxPending),
		sends:   make(chan outgoing, o.MaxPending),
	}, nil
}

// Stats returns the counts so far.
func (n *Notifier) Stats() NotifyStats {
	return NotifyStats{Sent: n.sent.Load(), Failed: n.failed.Load(), Dropped: n.dropped.Load(),
		QueueDrops: n.queueDrops.Load(), RetriesDone: n.retriesDone.Load(), Deferred: n.deferred.Load()}
}

// Hook returns the storage change hook that feeds the Notifier.
func (n *Notifier) Hook() storage.ChangeHook { return n.noteChanges }

// noteChanges files a write's changes under the resources whose
// subscriptions hear of them. It takes a lock for a moment and never waits.
func (n *Notifier) noteChanges(ctx context.Context, space storage.Space, changes []storage.Changed) {
	dont, _ := ctx.Value(dontNotifyKey{}).(dontNotify)
	for _, c := range changes {
		pc, ok := pushChangeOf(c)
		if !ok {
			continue
		}
		pc.dont = dont
		n.add(pendingKey{account: c.Account, target: c.Target()}, space, pc)
	}
}

// pushChangeOf says what a committed change tells subscriptions of its
// target; false when it tells them nothing.
func pushChangeOf(c storage.Changed) (pushChange, bool) {
	var pc pushChange
	switch {
	case c.Collection != 0:
		// A collection: its content (a member added, changed, removed)
		// and its own properties.
		pc = pushChange{content: c.Kind&storage.ContentChanged != 0, property: c.Kind&storage.PropsChanged != 0, revision: c.Revision}
	case c.Scope == storage.ScopePrincipal:
		pc = pushChange{property: c.Kind&storage.PropsChanged != 0}
	default:
		// A home: a collection added, removed or renamed (depth 1).
		pc = pushChange{content: c.Kind&storage.ContentChanged != 0}
	}
	if c.Kind&storage.Removed != 0 || (!pc.content && !pc.property) {
		return pc, false // a removed collection's subscriptions went with it
	}
	return pc, true
}

// add joins a change to its resource's window, opening one when none is.
func (n *Notifier) add(k pendingKey, space storage.Space, c pushChange) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if p := n.pending[k]; p != nil {
		p.space = space
		if last := &p.changes[len(p.changes)-1]; last.dont.same(c.dont) {
			// A burst (an import, a sync of many objects) stays one entry.
			last.content, last.property = last.content || c.content, last.property || c.property
			last.revision = max(last.revision, c.revision)
			return
		}
		p.changes = append(p.changes, c)
		return
	}
	if len(n.pending) >= n.o.MaxPending {
		n.queueDrops.Add(1)
		return
	}
	p := &pendingPush{key: k, space: space, changes: []pushChange{c}}
	n.pending[k] = p
	time.AfterFunc(n.o.Window, func() {
		n.mu.Lock()
		delete(n.pending, k)
		n.mu.Unlock()
		n.due <- p // never blocks: due holds MaxPending, and at most that many are pending
	})
}

// Run runs the workers until ctx ends: resolvers turn the resources whose
// window ended into messages, senders send them (apart, so that a push
// service that never answers holds up sends, never the resolving), and
// one loop sends the outbox's retries.
func (n *Notifier) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for range max(1, n.o.Workers/2) {
		wg.Go(func() {
			for {
				select {
				case <-ctx.Done():
					return
				case p := <-n.due:
					n.resolve(ctx, p)
				}
			}
		})
	}
	for range n.o.Workers {
		wg.Go(func() {
			for {
				select {
				case <-ctx.Done():
					return
				case m := <-n.sends:
					n.send(ctx, m)
				}
			}
		})
	}
	wg.Go(func() { n.runRetries(ctx) })
	wg.Wait()
}

// resolve lists the subscriptions of a resource whose window ended and
// queues one message to each that a change of the window concerns.
func (n *Notifier) resolve(ctx context.Context, p *pendingPush) {
	msgs, err := n.messages(ctx, p.space, p.key, p.changes)
	if err != nil {
		n.o.Logger.Warn("push: listing subscriptions failed", "account", p.key.account, "err", err)
		return
	}
	for _, o := range msgs {
		select {
		case n.sends <- o:
		default:
			n.queueDrops.Add(1)
		}
	}
}

// messages lists the subscriptions of a resource and returns one message
// to each that the changes concern.
func (n *Notifier) messages(ctx context.Context, space storage.Space, k pendingKey, changes []pushChange) ([]outgoing, error) {
	subs, err := space.Subscriptions(ctx, k.target)
	if errors.Is(err, storage.ErrNotFound) { // a collection deleted since
		return nil, nil
	}
	if err != nil || len(subs) == 0 {
		return nil, err
	}
	topic, err := space.Topic(ctx, k.target)
	if err != nil {
		return nil, err
	}
	now := n.o.Now()
	var out []outgoing
	homeTok := "" // a home's token, read once
	for i := range subs {
		s := &subs[i]
		if !s.Expires.After(now) {
			continue // expired; the sweeper drops it
		}
		var content, property bool
		var rev int64
		for _, c := range changes {
			if c.dont.skips(s.ID) {
				continue
			}
			if c.content && s.Trigger.Content {
				content, rev = true, max(rev, c.revision)
			}
			property = property || c.property && s.Trigger.Property
		}
		if !content && !property {
			continue
		}
		token := ""
		if content {
			if token, err = n.contentToken(ctx, space, k.target, rev, &homeTok); err != nil {
				return nil, err
			}
		}
		m := push.Message{Payload: pushMessage(topic, content, token, property),
			TTL: n.o.TTL, Urgency: push.UrgencyNormal, Topic: push.CollapseKey(topic)}
		if !content {
			m.Urgency = push.UrgencyLow
		}
		out = append(out, outgoing{account: k.account, id: s.ID, msg: m,
			sub: push.Subscription{Endpoint: s.PushResource, P256dh: s.PublicKey, Auth: s.AuthSecret}})
	}
	return out, nil
}

// pushMessage renders a push-message (draft section 6): the topic, and a
// content-update with the resource's new sync-token, as PROPFIND gives it
// ("" for none), or a property-update.
func pushMessage(topic string, content bool, token string, property bool) []byte {
	b := []byte(`<?xml version="1.0" encoding="utf-8"?>` + "\n" + `<P:push-message xmlns:D="DAV:" xmlns:P="https://bitfire.at/webdav-push"><P:topic>`)
	b = appendEscaped(b, topic)
	b = append(b, "</P:topic>"...)
	if content {
		if token != "" {
			b = append(b, "<P:content-update><D:sync-token>"...)
			b = appendEscaped(b, token)
			b = append(b, "</D:sync-token></P:content-update>"...)
		} else {
			b = append(b, "<P:content-update/>"...)
		}
	}
	if property {
		b = append(b, "<P:property-update/>"...)
	}
	return append(b, "</P:push-message>"...)
}

// contentToken returns the sync token a content-update names: the
// collection's at rev, or the home's, read once into *home.
func (n *Notifier) contentToken(ctx context.Context, space storage.Space, t storage.PushTarget, rev int64, home *string) (string, error) {
	if t.Collection != 0 {
		return syncToken(rev), nil
	}
	if *home == "" {
		tok, err := homeSyncToken(ctx, space, storage.Home(t.Scope))
		if err != nil {
			return "", err
		}
		*home = tok
	}
	return *home, nil
}

// homeSyncToken returns a home's sync token as PROPFIND renders it.
func homeSyncToken(ctx context.Context, space storage.Space, home storage.Home) (string, error) {
	cs, err := space.Collections(ctx, home)
	if err != nil {
		return "", err
	}
	var top []*resource
	for i := range topLevel(cs) {
		top = append(top, &resource{coll: &cs[i]})
	}
	return homeToken(top), nil
}

// send sends one message, and then the messages that waited for its push
// service meanwhile. A push service that has its share of the senders
// busy already (one that never answers holds them until their timeout)
// gets the message later, from memory, so that the other push services'
// messages still go at once.
func (n *Notifier) send(ctx context.Context, m outgoing) {
	origin, _ := webpush.Origin(m.sub.Endpoint)
	if !n.take(origin, &m) {
		return // parked: sent when a sender of its push service is free
	}
	for ok := true; ok; m, ok = n.next(origin) {
		n.deliver(ctx, m)
	}
}

// share is how many senders one push service may hold at once.
func (n *Notifier) share() int { return max(1, n.o.Workers/2) }

// take claims a sender of the push service's share for m; when the share
// is in use, m waits (the latest message per subscription, within
// MaxPending in all) and take returns false.
func (n *Notifier) take(origin string, m *outgoing) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.busy[origin] < n.share() {
		n.busy[origin]++
		return true
	}
	w := n.parked[origin]
	if w == nil {
		w = map[string]outgoing{}
		n.parked[origin] = w
	}
	if _, again := w[m.id]; !again {
		if n.nParked >= n.o.MaxPending {
			n.queueDrops.Add(1)
			return false
		}
		n.nParked++
	}
	w[m.id] = *m
	n.deferred.Add(1)
	return false
}

// next hands the sender that holds a claim on the push service a message
// that waited for it, keeping the claim; with none waiting, it gives the
// claim back.
func (n *Notifier) next(origin string) (outgoing, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for id, m := range n.parked[origin] {
		delete(n.parked[origin], id)
		n.nParked--
		if len(n.parked[origin]) == 0 {
			delete(n.parked, origin)
		}
		return m, true
	}
	if n.busy[origin]--; n.busy[origin] <= 0 {
		delete(n.busy, origin)
	}
	return outgoing{}, false
}

// settle counts a send's result and acts on it; it returns false when
// the message is to be tried again.
func (n *Notifier) settle(ctx context.Context, account int64, id string, r push.Result) bool {
	switch r.Outcome {
	case push.Delivered:
		n.sent.Add(1)
		return true
	case push.Drop:
		if err := n.o.Expiry.DropSubscription(ctx, account, id); err != nil {
			n.o.Logger.Warn("push: dropping a gone subscription failed", "account", account, "err", err)
		}
		n.dropped.Add(1)
		return true
	case push.Retry:
		n.failed.Add(1)
		return false
	}
	n.failed.Add(1) // refused: never sendable
	n.o.Logger.Info("push: a message was refused", "account", account, "status", r.Status, "err", r.Err)
	return true
}
