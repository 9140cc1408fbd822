package storage

import (
	"context"
	"encoding/hex"
	"errors"
	"time"

	"github.com/coffer-dav/coffer/encryption"
)

// WebDAV-Push subscriptions (draft-bitfire-webdav-push-00): a device
// registers, on a collection, the push resource its push service gave it
// (RFC 8030) and the keys that messages to it are encrypted with (RFC
// 8291); the server sends a message there when the collection changes.
// A push resource tells which push service a device uses, so a
// subscription is user data: all of it is sealed under the user key,
// bound to the user, the collection's random id, the subscription's id
// and its expiry. What stays readable is that a collection has a
// subscription, its random id and until when it lasts, which the sweeper
// needs to drop it without a key.

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

// NewSubscription is a registration of a push resource on a collection.
type NewSubscription struct {
	PushResource string // the push resource's URL, as the device sent it
	PublicKey    []byte // the device's P-256 public key (p256dh), as sent
	AuthSecret   []byte // the authentication secret (RFC 8291), as sent
	Trigger      PushTrigger
	Expires      time.Time
	// Max bounds the subscriptions of the collection: a new one beyond it
	// fails with a *LimitError (LimitSubscriptions); 0 is no bound. A
	// registration again of a push resource is always allowed.
	Max int
}

// Subscription is one stored push subscription, opened.
type Subscription struct {
	ID           string // random; names the registration in its URL
	Collection   int64
	PushResource string
	PublicKey    []byte
	AuthSecret   []byte
	Trigger      PushTrigger
	Expires      time.Time
	Created      time.Time
}

// PushSubscriptions holds the push subscriptions of one user's
// collections, sealed under the user's keys; a Space plays it.
type PushSubscriptions interface {
	// AddSubscription registers a push resource on a collection and returns
	// the subscription; updated is true when the push resource was
	// registered on the collection before, whose keys, trigger and expiry
	// it then replaces (id and creation stay). It fails with ErrNotFound
	// for a collection that is not the user's, ErrInvalid for a
	// registration without push resource, keys or expiry, or a *LimitError.
	AddSubscription(ctx context.Context, collection int64, n NewSubscription) (s *Subscription, updated bool, err error)
	// Subscriptions lists a collection's subscriptions, oldest first,
	// those past their expiry that the sweeper has not dropped yet
	// included: a sender skips those.
	Subscriptions(ctx context.Context, collection int64) ([]Subscription, error)
	// DeleteSubscription ends one of the user's subscriptions, or fails
	// with ErrNotFound.
	DeleteSubscription(ctx context.Context, id string) error
	// Topic returns the collection's push topic: an opaque name, stable
	// for the collection's life (a MOVE keeps it), that tells nothing of
	// the user or the collection's name.
	Topic(ctx context.Context, collection int64) (string, error)
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

// SubscriptionRow is one row of a collection's push subscriptions.
type SubscriptionRow struct {
	Account     int64
	ID          string
	Collection  int64
	ResourceMAC []byte // a keyed MAC of the push resource in the collection
	Sealed      []byte // the push resource, keys and trigger
	Expires     int64  // Unix seconds
	Created     int64  // Unix seconds
}

// PushRowReader reads push subscription rows.
type PushRowReader interface {
	// Subscriptions returns the subscription rows of a collection, oldest first.
	Subscriptions(ctx context.Context, collection int64) ([]SubscriptionRow, error)
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

// errSubscriptionDamaged is why a subscription row does not open.
var errSubscriptionDamaged = errors.New("its push resource does not match its lookup key")

// AddSubscription registers a push resource on a collection, or renews
// its registration there.
func (s *sealedSpace) AddSubscription(ctx context.Context, collection int64, n NewSubscription) (*Subscription, bool, error) {
	if n.PushResource == "" || len(n.PublicKey) == 0 || len(n.AuthSecret) == 0 || n.Expires.IsZero() {
		return nil, false, ErrInvalid
	}
	id, err := encryption.RandomBytes(16)
	if err != nil {
		return nil, false, err
	}
	out := &Subscription{ID: hex.EncodeToString(id), Collection: collection, PushResource: n.PushResource,
		PublicKey: n.PublicKey, AuthSecret: n.AuthSecret, Trigger: n.Trigger,
		Expires: n.Expires.UTC().Truncate(time.Second), Created: time.Now().UTC().Truncate(time.Second)}
	var updated bool
	err = s.update(ctx, func(w RowWriter) error {
		ref, err := s.ref(ctx, w, collection)
		if err != nil {
			return err
		}
		rows, err := w.Subscriptions(ctx, ref.id)
		if err != nil {
			return err
		}
		mac := s.seal.pushResourceMAC(ref.uid, n.PushResource)
		updated = false
		for _, r := range rows {
			if encryption.Equal(r.ResourceMAC, mac) {
				out.ID, out.Created, updated = r.ID, time.Unix(r.Created, 0).UTC(), true
			}
		}
		if !updated && n.Max > 0 && len(rows) >= n.Max {
			return &LimitError{Limit: LimitSubscriptions, Max: int64(n.Max)}
		}
		return w.PutSubscription(ctx, &SubscriptionRow{Account: s.user, ID: out.ID, Collection: ref.id, ResourceMAC: mac,
			Sealed: s.seal.sealSubscription(ref.uid, out), Expires: out.Expires.Unix(), Created: out.Created.Unix()})
	})
	if err != nil {
		return nil, false, err
	}
	return out, updated, nil
}

// Subscriptions lists a collection's subscriptions, oldest first.
func (s *sealedSpace) Subscriptions(ctx context.Context, collection int64) ([]Subscription, error) {
	ref, err := s.readRef(ctx, collection)
	if err != nil {
		return nil, err
	}
	rows, err := s.sp.eng.Reader().Subscriptions(ctx, ref.id)
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

// Topic returns the collection's push topic.
func (s *sealedSpace) Topic(ctx context.Context, collection int64) (string, error) {
	ref, err := s.readRef(ctx, collection)
	if err != nil {
		return "", err
	}
	return s.seal.pushTopic(ref.uid), nil
}
