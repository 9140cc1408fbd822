package storage

import (
	"encoding/base64"
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

// pushTopic is the push topic of the collection with random id coll: a
// keyed MAC of that id under the user's keys, 128 bits in unpadded
// base64url (22 characters, within the 32 that RFC 8030's Topic header
// allows). The random id is the collection's for its life and a MOVE
// keeps it, so the topic is stable; it is drawn at random, so the topic
// says nothing of the user or the name; and it is keyed, so that whoever
// reads the push messages (the push service) cannot tie it to a row of
// the database, nor the database's reader to a message. A copy of the
// collection has a random id, and a topic, of its own. It needs no
// column and no server key: a topic is only ever wanted while the user's
// key is open (a PROPFIND, a change), and nothing looks a collection up
// by it.
func (k sealer) pushTopic(coll []byte) string {
	return base64.RawURLEncoding.EncodeToString(k.keys.MAC("push-topic", coll)[:16])
}

// pushResourceMAC is the lookup key of a push resource in collection coll.
func (k sealer) pushResourceMAC(coll []byte, resource string) []byte {
	return k.keys.MAC("push-resource", coll, []byte(resource))
}

// subscriptionAD binds a subscription's sealed value to its user, its
// collection, its id and its expiry, so that a row moved to another
// collection, given another id or a later expiry does not open.
func (k sealer) subscriptionAD(coll []byte, id string, expires int64) encryption.AD {
	return k.ad(coll, []byte(id), fieldPushSubscription+"@"+strconv.FormatInt(expires, 10))
}

// sealSubscription seals what s holds but its id and dates for a row of
// collection coll.
func (k sealer) sealSubscription(coll []byte, s *Subscription) []byte {
	plain, err := json.Marshal(sealedSubscription{Resource: s.PushResource, PublicKey: s.PublicKey, AuthSecret: s.AuthSecret,
		Content: s.Trigger.Content, ContentDepth: s.Trigger.ContentDepth, Property: s.Trigger.Property, PropertyDepth: s.Trigger.PropertyDepth})
	if err != nil {
		panic(err) // strings, bytes, bools and ints always encode
	}
	return k.keys.Seal(k.subscriptionAD(coll, s.ID, s.Expires.Unix()), plain)
}

// openSubscription opens a subscription row of collection ref into s; a
// row that does not open, or whose push resource is not the one its
// lookup key names, is ErrDamaged.
func (k sealer) openSubscription(ref collectionRef, row *SubscriptionRow, s *Subscription) error {
	damaged := func(err error) error {
		return fmt.Errorf("storage: push subscription %s of collection %d: %w: %w", row.ID, ref.id, ErrDamaged, err)
	}
	plain, err := k.keys.Open(k.subscriptionAD(ref.uid, row.ID, row.Expires), row.Sealed)
	if err != nil {
		return damaged(err)
	}
	var v sealedSubscription
	if err := json.Unmarshal(plain, &v); err != nil {
		return damaged(err)
	}
	if !encryption.Equal(k.pushResourceMAC(ref.uid, v.Resource), row.ResourceMAC) {
		return damaged(errSubscriptionDamaged)
	}
	*s = Subscription{ID: row.ID, Collection: ref.id, PushResource: v.Resource, PublicKey: v.PublicKey, AuthSecret: v.AuthSecret,
		Trigger: PushTrigger{Content: v.Content, ContentDepth: v.ContentDepth, Property: v.Property, PropertyDepth: v.PropertyDepth},
		Expires: time.Unix(row.Expires, 0).UTC(), Created: time.Unix(row.Created, 0).UTC()}
	return nil
}
