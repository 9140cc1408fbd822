package storage

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/coffer-dav/coffer/encryption"
)

// TestSessionsKeepNoSlotOnceEnded: a session's row and key slot go
// together, whether it ends by sign-out, by expiry, by "every browser" or
// with its account; and once it ends its wrapped key is in neither the
// file nor the WAL.
func TestSessionsKeepNoSlotOnceEnded(t *testing.T) {
	ctx := context.Background()
	db, alice, dir := testSpace(t)
	aliceID := alice.(*sealedSpace).user
	bobID := newUserSpace(t, db, "bob").(*sealedSpace).user
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	n := byte(0)
	add := func(account int64, seen, expires time.Time) Session {
		t.Helper()
		n++
		s := Session{IDMAC: bytes.Repeat([]byte{n}, 32), Account: account, Created: now, Seen: seen, Expires: expires,
			Slot: encryption.Slot{KDF: "secret$c2FsdA", Wrapped: bytes.Repeat([]byte{'W', n}, 24)}}
		if err := db.CreateSession(ctx, s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	live := add(aliceID, now, now.Add(time.Hour))
	idle := add(aliceID, now.Add(-time.Hour), now.Add(time.Hour))
	over := add(aliceID, now, now)
	bobs := add(bobID, now, now.Add(time.Hour))
	gone := []Session{}

	got, err := db.SessionByMAC(ctx, live.IDMAC)
	if err != nil || got.Account != aliceID || got.Username != "alice" || !bytes.Equal(got.Slot.Wrapped, live.Slot.Wrapped) || !got.Expires.Equal(live.Expires) {
		t.Fatalf("SessionByMAC = %+v, %v", got, err)
	}
	if err := db.CreateSession(ctx, live); !errors.Is(err, ErrExists) {
		t.Fatalf("a second session under one id: %v", err)
	}
	tests := []struct {
		name  string
		end   func() error
		ended []Session
	}{
		{"expired and idle", func() error { return db.DeleteExpiredSessions(ctx, now, now.Add(-30*time.Minute)) }, []Session{idle, over}},
		{"signed out", func() error { return db.DeleteSession(ctx, live.IDMAC) }, []Session{live}},
		{"signed out again", func() error { return db.DeleteSession(ctx, live.IDMAC) }, nil},
		{"account erased", func() error { return db.DeleteAccount(ctx, bobID) }, []Session{bobs}},
	}
	for _, tt := range tests {
		if err := tt.end(); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		gone = append(gone, tt.ended...)
		for _, s := range gone {
			if _, err := db.SessionByMAC(ctx, s.IDMAC); !errors.Is(err, ErrNotFound) {
				t.Fatalf("%s: session %d still there (%v)", tt.name, s.IDMAC[0], err)
			}
			var slots int
			if err := db.read.QueryRowContext(ctx, `SELECT count(*) FROM key_slots WHERE kind = ?`, SessionSlotKind(s.IDMAC)).Scan(&slots); err != nil || slots != 0 {
				t.Fatalf("%s: session %d left %d key slots (%v)", tt.name, s.IDMAC[0], slots, err)
			}
		}
	}
	for _, name := range []string{"coffer.db", "coffer.db-wal"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		for _, s := range gone {
			if bytes.Contains(b, s.Slot.Wrapped) {
				t.Fatalf("%s still holds the wrapped key of ended session %d", name, s.IDMAC[0])
			}
		}
	}
}
