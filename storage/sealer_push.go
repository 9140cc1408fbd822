package storage

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/coffer-dav/coffer/encryption"
)

// fieldPushSubscription is the record field of a sealed push subscription.
const fieldPushSubscription = "push.subscription"

// subscriptionV1 is the first byte of a sealed subscription in the form
// encodeSubscription writes.
const subscriptionV1 = 1

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
// collection (coll) or scope, its push resource's lookup key, its id and
// its expiry, so that a row moved to another collection or scope, given
// another lookup key, id or a later expiry does not open. Scopes hold no
// '/' and ids no '@', so the field's parts stay apart.
func (k sealer) subscriptionAD(coll []byte, scope Scope, mac []byte, id string, expires int64) encryption.AD {
	field := fieldPushSubscription
	if coll == nil {
		field += ":" + string(scope)
	}
	return k.ad(coll, mac, field+"/"+id+"@"+strconv.FormatInt(expires, 10))
}

// sealSubscription seals what s holds but its id and dates for a row of
// collection coll, or (nil) of s's scope, whose push resource's lookup
// key is mac.
func (k sealer) sealSubscription(coll, mac []byte, s *Subscription) []byte {
	return k.keys.Seal(k.subscriptionAD(coll, s.Target.Scope, mac, s.ID, s.Expires.Unix()), encodeSubscription(s))
}

// openSubscription opens a subscription row of collection ref (none for a
// scope) into s; a row that does not open is ErrDamaged.
func (k sealer) openSubscription(ref collectionRef, row *SubscriptionRow, s *Subscription) error {
	damaged := func(err error) error {
		return fmt.Errorf("storage: push subscription %s (collection %d, scope %q): %w: %w", row.ID, row.Target.Collection, row.Target.Scope, ErrDamaged, err)
	}
	plain, err := k.keys.Open(k.subscriptionAD(ref.uid, row.Target.Scope, row.ResourceMAC, row.ID, row.Expires), row.Sealed)
	if err != nil {
		return damaged(err)
	}
	*s = Subscription{ID: row.ID, Target: row.Target, Expires: time.Unix(row.Expires, 0).UTC(), Created: time.Unix(row.Created, 0).UTC()}
	if err := decodeSubscription(plain, s); err != nil {
		return damaged(err)
	}
	return nil
}

// encodeSubscription writes a subscription's push resource, keys and
// trigger: the version byte, the three as length-prefixed bytes, a byte
// of trigger flags and the two depths.
func encodeSubscription(s *Subscription) []byte {
	b := []byte{subscriptionV1}
	for _, f := range [][]byte{[]byte(s.PushResource), s.PublicKey, s.AuthSecret} {
		b = binary.AppendUvarint(b, uint64(len(f)))
		b = append(b, f...)
	}
	var flags byte
	if s.Trigger.Content {
		flags |= 1
	}
	if s.Trigger.Property {
		flags |= 2
	}
	b = append(b, flags)
	b = binary.AppendVarint(b, int64(s.Trigger.ContentDepth))
	return binary.AppendVarint(b, int64(s.Trigger.PropertyDepth))
}

// errSubscriptionForm is why an opened subscription does not read.
var errSubscriptionForm = errors.New("its sealed value is not a subscription")

// decodeSubscription reads what encodeSubscription wrote into s.
func decodeSubscription(b []byte, s *Subscription) error {
	if len(b) == 0 || b[0] != subscriptionV1 {
		return errSubscriptionForm
	}
	b = b[1:]
	var fields [3][]byte
	for i := range fields {
		n, used := binary.Uvarint(b)
		if used <= 0 || n > uint64(len(b)-used) {
			return errSubscriptionForm
		}
		fields[i], b = b[used:used+int(n)], b[used+int(n):]
	}
	if len(b) == 0 || b[0] > 3 {
		return errSubscriptionForm
	}
	flags := b[0]
	cd, used := binary.Varint(b[1:])
	if used <= 0 {
		return errSubscriptionForm
	}
	pd, used2 := binary.Varint(b[1+used:])
	if used2 <= 0 || 1+used+used2 != len(b) {
		return errSubscriptionForm
	}
	s.PushResource, s.PublicKey, s.AuthSecret = string(fields[0]), fields[1], fields[2]
	s.Trigger = PushTrigger{Content: flags&1 != 0, ContentDepth: int(cd), Property: flags&2 != 0, PropertyDepth: int(pd)}
	return nil
}
