package storage

import (
	"context"
	"encoding/hex"
	"time"

	"github.com/coffer-dav/coffer/encryption"
)

// WebDAV-Push subscriptions (draft-bitfire-webdav-push-00): a device
// registers, on a collection (or a home, or the principal), the push
// resource its push service gave it (RFC 8030) and the keys that messages
// to it are encrypted with (RFC 8291); the server sends a message there
// when what it is on changes. A push resource tells which push service a
// device uses, so a subscription is user data: all of it is sealed under
// the user key, bound to the user, what it is on (the collection's random
// id, or the scope), the subscription's id and its expiry. What stays
// readable is that a collection (or a scope) has a subscription, its
// random id and until when it lasts, which the sweeper needs to drop it
// without a key.

// DepthInfinity is a trigger's depth "infinity".
const DepthInfinity = -1

// PushTrigger says which changes a subscription hears of: the draft's
// trigger element, with content-update and property-update each at a
// depth (0, 1 or DepthInfinity).
type PushTrigger struct {
	Content       bool // content-update: a member was added, changed or removed
	ContentDepth  int
	Property      bool // property-update: a property changed
	PropertyDepth int
}

// PushTarget names what a subscription is on: a collection of the user,
// or, with Collection 0, the principal or a home (Scope).
type PushTarget struct {
	Collection int64
	Scope      Scope // ScopePrincipal, ScopeCalendars or ScopeAddressBooks, when Collection is 0
}

// NewSubscription is a registration of a push resource on a target.
type NewSubscription struct {
	PushResource string // the push resource's URL, as the device sent it
	PublicKey    []byte // the device's P-256 public key (p256dh), as sent
	AuthSecret   []byte // the authentication secret (RFC 8291), as sent
	Trigger      PushTrigger
	Expires      time.Time
	// Max bounds the subscriptions of the target: a new one beyond it
	// fails with a *LimitError (LimitSubscriptions); 0 is no bound. A
	// registration again of a push resource is always allowed.
	Max int
}

// Subscription is one stored push subscription, opened.
type Subscription struct {
	ID           string // random; names the registration in its URL
	Target       PushTarget
	PushResource string
	PublicKey    []byte
	AuthSecret   []byte
	Trigger      PushTrigger
	Expires      time.Time
	Created      time.Time
}

// PushSubscriptions holds the push subscriptions of one user's
// collections, homes and principal, sealed under the user's keys; a Space
// plays it.
type PushSubscriptions interface {
	// AddSubscription registers a push resource on a target and returns the
	// subscription; updated is true when the push resource was registered
	// on the target before, whose keys, trigger and expiry it then replaces
	// (id and creation stay). It fails with ErrNotFound for a collection
	// that is not the user's, ErrInvalid for a target that names nothing or
	// a registration without push resource, keys or expiry, or a
	// *LimitError.
	AddSubscription(ctx context.Context, t PushTarget, n NewSubscription) (s *Subscription, updated bool, err error)
	// Subscriptions lists a target's subscriptions, oldest first, those
	// past their expiry that the sweeper has not dropped yet included: a
	// sender skips those.
	Subscriptions(ctx context.Context, t PushTarget) ([]Subscription, error)
	// DeleteSubscription ends one of the user's subscriptions, or fails
	// with ErrNotFound.
	DeleteSubscription(ctx context.Context, id string) error
	// Topic returns the target's push topic: an opaque name, stable for a
	// collection's life (a MOVE keeps it) and for a home's or the
	// principal's, that tells nothing of the user or the collection's name.
	Topic(ctx context.Context, t PushTarget) (string, error)
}

// PushExpiry ends push subscriptions without a user's key.
type PushExpiry interface {
	// DropExpiredSubscriptions removes every subscription whose expiry is
	// not after now, and returns how many it removed.
	DropExpiredSubscriptions(ctx context.Context, now time.Time) (int64, error)
	// DropSubscription removes one subscription of an account, as when its
	// push service answered that it is gone; one gone already is no error.
	DropSubscription(ctx context.Context, account int64, id string) error
}

// SubscriptionRow is one row of the push subscriptions.
type SubscriptionRow struct {
	Account     int64
	ID          string
	Target      PushTarget // a collection (its row id), or a scope
	ResourceMAC []byte     // a keyed MAC of the push resource on the target
	Sealed      []byte     // the push resource, keys and trigger
	Expires     int64      // Unix seconds
	Created     int64      // Unix seconds
}

// PushRowReader reads push subscription rows.
type PushRowReader interface {
	// Subscriptions returns the subscription rows of an account's target,
	// oldest first.
	Subscriptions(ctx context.Context, account int64, t PushTarget) ([]SubscriptionRow, error)
}

// PushRowWriter writes push subscription rows.
type PushRowWriter interface {
	// PutSubscription adds a subscription row, or replaces the MAC, sealed
	// value and expiry of the one with its account and id.
	PutSubscription(ctx context.Context, r *SubscriptionRow) error
	// DeleteSubscription removes an account's subscription row, or fails
	// with ErrNotFound.
	DeleteSubscription(ctx context.Context, account int64, id string) error
}

// valid tells whether t names exactly one thing.
func (t PushTarget) valid() bool {
	if t.Collection != 0 {
		return t.Scope == ""
	}
	return t.Scope == ScopePrincipal || t.Scope == ScopeCalendars || t.Scope == ScopeAddressBooks
}

// pushRef resolves a target of this user for sealing: a collection's
// random id (in a read or in w), or none for a scope.
func (s *sealedSpace) pushRef(ctx context.Context, w RowReader, t PushTarget) (collectionRef, error) {
	if !t.valid() {
		return collectionRef{}, ErrInvalid
	}
	if t.Collection == 0 {
		return collectionRef{}, nil
	}
	if w == nil {
		return s.readRef(ctx, t.Collection)
	}
	return s.ref(ctx, w, t.Collection)
}

// AddSubscription registers a push resource on a target, or renews its
// registration there.
func (s *sealedSpace) AddSubscription(ctx context.Context, t PushTarget, n NewSubscription) (*Subscription, bool, error) {
	if n.PushResource == "" || len(n.PublicKey) == 0 || len(n.AuthSecret) == 0 || n.Expires.IsZero() || !t.valid() {
		return nil, false, ErrInvalid
	}
	id, err := encryption.RandomBytes(16)
	if err != nil {
		return nil, false, err
	}
	out := &Subscription{ID: hex.EncodeToString(id), Target: t, PushResource: n.PushResource,
		PublicKey: n.PublicKey, AuthSecret: n.AuthSecret, Trigger: n.Trigger,
		Expires: n.Expires.UTC().Truncate(time.Second), Created: time.Now().UTC().Truncate(time.Second)}
	var updated bool
	err = s.update(ctx, func(w RowWriter) error {
		ref, err := s.pushRef(ctx, w, t)
		if err != nil {
			return err
		}
		rows, err := w.Subscriptions(ctx, s.user, t)
		if err != nil {
			return err
		}
		mac := s.seal.pushResourceMAC(ref.uid, t.Scope, n.PushResource)
		updated = false
		for _, r := range rows {
			if encryption.Equal(r.ResourceMAC, mac) {
				out.ID, out.Created, updated = r.ID, time.Unix(r.Created, 0).UTC(), true
			}
		}
		if !updated && n.Max > 0 && len(rows) >= n.Max {
			return &LimitError{Limit: LimitSubscriptions, Max: int64(n.Max)}
		}
		return w.PutSubscription(ctx, &SubscriptionRow{Account: s.user, ID: out.ID, Target: t, ResourceMAC: mac,
			Sealed: s.seal.sealSubscription(ref.uid, mac, out), Expires: out.Expires.Unix(), Created: out.Created.Unix()})
	})
	if err != nil {
		return nil, false, err
	}
	return out, updated, nil
}

// Subscriptions lists a target's subscriptions, oldest first.
func (s *sealedSpace) Subscriptions(ctx context.Context, t PushTarget) ([]Subscription, error) {
	ref, err := s.pushRef(ctx, nil, t)
	if err != nil {
		return nil, err
	}
	rows, err := s.sp.eng.Reader().Subscriptions(ctx, s.user, t)
	if err != nil {
		return nil, err
	}
	out := make([]Subscription, len(rows))
	for i := range rows {
		if err := s.seal.openSubscription(ref, &rows[i], &out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// DeleteSubscription ends one of the user's subscriptions.
func (s *sealedSpace) DeleteSubscription(ctx context.Context, id string) error {
	return s.update(ctx, func(w RowWriter) error { return w.DeleteSubscription(ctx, s.user, id) })
}

// Topic returns the target's push topic.
func (s *sealedSpace) Topic(ctx context.Context, t PushTarget) (string, error) {
	ref, err := s.pushRef(ctx, nil, t)
	if err != nil {
		return "", err
	}
	return s.seal.pushTopic(ref.uid, t.Scope), nil
}

// Target returns what the change is of, as a push target: the
// subscriptions that hear of it are those of Target (and, for a
// collection's change, those of its home with depth 1). A removed
// collection's subscriptions went with it in the write's transaction.
func (c Changed) Target() PushTarget { return PushTarget{Collection: c.Collection, Scope: c.Scope} }
