package storage

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"
)

// TestSubscriptionsSealed: a push subscription's push resource and keys
// are nowhere in its row, and a row changed by whoever can write the
// database (a later expiry, another row's sealed value, a changed lookup
// key, a move to another collection or to a home) does not open: ErrDamaged, never a
// subscription to send to.
func TestSubscriptionsSealed(t *testing.T) {
	db, s, _ := testSpace(t)
	ctx := context.Background()
	c := mustCollection(t, s, "work")
	other := mustCollection(t, s, "other")
	exp := time.Now().Add(time.Hour)
	add := func(coll int64, resource string, key byte) *Subscription {
		t.Helper()
		sub, _, err := s.AddSubscription(ctx, PushTarget{Collection: coll}, NewSubscription{PushResource: resource, PublicKey: bytes.Repeat([]byte{key}, 65),
			AuthSecret: []byte("SECRET-MARKER-16"), Expires: exp})
		if err != nil {
			t.Fatal(err)
		}
		return sub
	}
	one := add(c.ID, "https://push.example/MARKER-ONE", 'k')
	two := add(c.ID, "https://push.example/MARKER-TWO", 'q')
	add(other.ID, "https://push.example/MARKER-THREE", 'z')
	rows, err := db.read.QueryContext(ctx, `SELECT id, resource_mac, subscription_sealed FROM push_subscriptions`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id string
		var mac, sealed []byte
		if err := rows.Scan(&id, &mac, &sealed); err != nil {
			t.Fatal(err)
		}
		for _, plain := range [][]byte{[]byte("MARKER"), []byte("SECRET"), bytes.Repeat([]byte{'k'}, 16), bytes.Repeat([]byte{'q'}, 16)} {
			if bytes.Contains(sealed, plain) || bytes.Contains(mac, plain) {
				t.Errorf("row %s holds %q in clear", id, plain)
			}
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()

	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.write.ExecContext(ctx, q, args...); err != nil {
			t.Fatal(err)
		}
	}
	type rowValues struct {
		coll        sql.NullInt64
		scope       string
		expires     int64
		mac, sealed []byte
	}
	read := func(id string) rowValues {
		t.Helper()
		var v rowValues
		if err := db.read.QueryRowContext(ctx, `SELECT collection_id, scope, expires_at, resource_mac, subscription_sealed FROM push_subscriptions WHERE id = ?`, id).
			Scan(&v.coll, &v.scope, &v.expires, &v.mac, &v.sealed); err != nil {
			t.Fatal(err)
		}
		return v
	}
	write := func(id string, v rowValues) {
		t.Helper()
		exec(`UPDATE push_subscriptions SET collection_id = ?, scope = ?, expires_at = ?, resource_mac = ?, subscription_sealed = ? WHERE id = ?`, v.coll, v.scope, v.expires, v.mac, v.sealed, id)
	}
	for _, k := range []struct {
		name   string
		change func(a, b rowValues) rowValues // of row one, from rows one and two
		to     PushTarget                     // where it is read after
	}{
		{"a later expiry", func(a, _ rowValues) rowValues { a.expires += 86400; return a }, PushTarget{Collection: c.ID}},
		{"another row's sealed value", func(a, b rowValues) rowValues { a.sealed, a.expires = b.sealed, b.expires; return a }, PushTarget{Collection: c.ID}},
		{"a changed lookup key", func(a, _ rowValues) rowValues {
			a.mac = append([]byte(nil), a.mac...)
			a.mac[0] ^= 1
			return a
		}, PushTarget{Collection: c.ID}},
		{"a move to another collection", func(a, _ rowValues) rowValues { a.coll.Int64 = other.ID; return a }, PushTarget{Collection: other.ID}},
		{"a move to a home", func(a, _ rowValues) rowValues { a.coll, a.scope = sql.NullInt64{}, string(ScopeCalendars); return a }, PushTarget{Scope: ScopeCalendars}},
	} {
		t.Run(k.name, func(t *testing.T) {
			saved := read(one.ID)
			write(one.ID, k.change(saved, read(two.ID)))
			if subs, err := s.Subscriptions(ctx, k.to); !errors.Is(err, ErrDamaged) {
				t.Fatalf("after %s: %d subscriptions, %v", k.name, len(subs), err)
			}
			write(one.ID, saved)
			if subs, err := s.Subscriptions(ctx, PushTarget{Collection: c.ID}); err != nil || len(subs) != 2 {
				t.Fatalf("after the undo: %d subscriptions, %v", len(subs), err)
			}
		})
	}
}

// TestSubscriptionForm: what a subscription seals reads back as it was,
// and any shorter, longer or altered form is refused, without a panic.
func TestSubscriptionForm(t *testing.T) {
	for _, s := range []Subscription{
		{PushResource: "https://push.example/a", PublicKey: bytes.Repeat([]byte{4}, 65), AuthSecret: bytes.Repeat([]byte{1}, 16),
			Trigger: PushTrigger{Content: true, ContentDepth: DepthInfinity, Property: true, PropertyDepth: 0}},
		{PushResource: string(bytes.Repeat([]byte("x"), 300)), PublicKey: []byte{1}, AuthSecret: []byte{2}, Trigger: PushTrigger{Property: true, PropertyDepth: 1}},
		{PushResource: "p", PublicKey: []byte{0}, AuthSecret: []byte{0}},
	} {
		b := encodeSubscription(&s)
		var got Subscription
		if err := decodeSubscription(b, &got); err != nil || got.PushResource != s.PushResource || !bytes.Equal(got.PublicKey, s.PublicKey) ||
			!bytes.Equal(got.AuthSecret, s.AuthSecret) || got.Trigger != s.Trigger {
			t.Fatalf("%+v read back as %+v, %v", s, got, err)
		}
		for i := range b {
			if err := decodeSubscription(b[:i], &got); err == nil {
				t.Errorf("the first %d of %d bytes read", i, len(b))
			}
		}
		if err := decodeSubscription(append(b, 0), &got); err == nil {
			t.Error("a byte more read")
		}
		for _, bad := range [][]byte{append([]byte{2}, b[1:]...), {1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}} {
			if err := decodeSubscription(bad, &got); err == nil {
				t.Errorf("%x read", bad)
			}
		}
	}
}
