package storage

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/coffer-dav/coffer/encryption"
)

// fieldPushSubscription is the record field of a sealed push subscription.
const fieldPushSubscription = "push.subscription"

// sealedSubscription is what a subscription row's sealed value holds.
type sealedSubscription struct {
	Resource      string `json:"r"`
	PublicKey     []byte `json:"k"`
	AuthSecret    []byte `json:"a"`
	Content       bool   `json:"c,omitempty"`
	ContentDepth  int    `json:"cd,omitempty"`
	Property      bool   `json:"p,omitempty"`
	PropertyDepth int    `json:"pd,omitempty"`
}

// pushTopic is the push topic of the collection with random id coll, or
// (coll nil) of a scope of the account: a keyed MAC of that id, or of the
// scope's name, under the user's keys, 128 bits in unpadded base64url (22
// characters, within the 32 that RFC 8030's Topic header allows). A
// collection's random id is its own for its life and a MOVE keeps it, so
// the topic is stable; it is drawn at random, so the topic says nothing
// of the user or the name; and it is keyed, so that whoever reads the
// push messages (the push service) cannot tie it to a row of the
// database, nor the database's reader to a message. A copy of the
// collection has a random id, and a topic, of its own. A scope's topic is
// a MAC of the account's id and the scope's name. It needs no
// column and no server key: a topic is only ever wanted while the user's
// key is open (a PROPFIND, a change), and nothing looks a collection up
// by it.
func (k sealer) pushTopic(coll []byte, scope Scope) string {
	var mac []byte
	if coll == nil {
		mac = k.keys.MAC("push-topic-scope", binary.BigEndian.AppendUint64(nil, uint64(k.account)), []byte(scope))
	} else {
		mac = k.keys.MAC("push-topic", coll)
	}
	return base64.RawURLEncoding.EncodeToString(mac[:16])
}

// pushResourceMAC is the lookup key of a push resource on collection coll
// or (coll nil) on a scope.
func (k sealer) pushResourceMAC(coll []byte, scope Scope, resource string) []byte {
	if coll == nil {
		return k.keys.MAC("push-resource-scope", []byte(scope), []byte(resource))
	}
	return k.keys.MAC("push-resource", coll, []byte(resource))
}

// subscriptionAD binds a subscription's sealed value to its user, its
// collection (coll) or scope, its id and its expiry, so that a row moved
// to another collection or scope, given another id or a later expiry does
// not open.
func (k sealer) subscriptionAD(coll []byte, scope Scope, id string, expires int64) encryption.AD {
	field := fieldPushSubscription
	if coll == nil {
		field += ":" + string(scope)
	}
	return k.ad(coll, []byte(id), field+"@"+strconv.FormatInt(expires, 10))
}

// sealSubscription seals what s holds but its id and dates for a row of
// collection coll, or (nil) of s's scope.
func (k sealer) sealSubscription(coll []byte, s *Subscription) []byte {
	plain, err := json.Marshal(sealedSubscription{Resource: s.PushResource, PublicKey: s.PublicKey, AuthSecret: s.AuthSecret,
		Content: s.Trigger.Content, ContentDepth: s.Trigger.ContentDepth, Property: s.Trigger.Property, PropertyDepth: s.Trigger.PropertyDepth})
	if err != nil {
		panic(err) // strings, bytes, bools and ints always encode
	}
	return k.keys.Seal(k.subscriptionAD(coll, s.Target.Scope, s.ID, s.Expires.Unix()), plain)
}

// openSubscription opens a subscription row of collection ref (none for a
// scope) into s; a
// row that does not open, or whose push resource is not the one its
// lookup key names, is ErrDamaged.
func (k sealer) openSubscription(ref collectionRef, row *SubscriptionRow, s *Subscription) error {
	damaged := func(err error) error {
		return fmt.Errorf("storage: push subscription %s (collection %d, scope %q): %w: %w", row.ID, row.Target.Collection, row.Target.Scope, ErrDamaged, err)
	}
	plain, err := k.keys.Open(k.subscriptionAD(ref.uid, row.Target.Scope, row.ID, row.Expires), row.Sealed)
	if err != nil {
		return damaged(err)
	}
	var v sealedSubscription
	if err := json.Unmarshal(plain, &v); err != nil {
		return damaged(err)
	}
	if !encryption.Equal(k.pushResourceMAC(ref.uid, row.Target.Scope, v.Resource), row.ResourceMAC) {
		return damaged(errSubscriptionDamaged)
	}
	*s = Subscription{ID: row.ID, Target: row.Target, PushResource: v.Resource, PublicKey: v.PublicKey, AuthSecret: v.AuthSecret,
		Trigger: PushTrigger{Content: v.Content, ContentDepth: v.ContentDepth, Property: v.Property, PropertyDepth: v.PropertyDepth},
		Expires: time.Unix(row.Expires, 0).UTC(), Created: time.Unix(row.Created, 0).UTC()}
	return nil
}
