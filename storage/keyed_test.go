package storage

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"testing"
)

// TestKeyedHashes: ETags and UID MACs are keyed per user. The same body and
// UID stored by two users give different values, and none equals an unkeyed
// hash of what it stands for, so the database reveals neither that two
// users hold the same event nor which well-known event a row holds.
// Replacing either MAC with plain SHA-256 fails this test.
func TestKeyedHashes(t *testing.T) {
	db, alice, _ := testSpace(t)
	bob := newUserSpace(t, db, "bob")
	ctx := context.Background()
	body := []byte("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:shared-uid\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
	type stored struct {
		etag string
		uid  []byte
	}
	var got []stored
	for _, s := range []Space{alice, bob} {
		c := mustCollection(t, s, "work")
		res, err := s.PutObject(ctx, c.ID, PutOptions{Name: "e.ics", UID: "shared-uid", Body: body})
		if err != nil {
			t.Fatal(err)
		}
		var st stored
		if err := db.read.QueryRowContext(ctx, `SELECT etag, uid_mac FROM objects WHERE collection_id = ?`, c.ID).Scan(&st.etag, &st.uid); err != nil {
			t.Fatal(err)
		}
		if st.etag != res.Object.ETag || len(st.uid) == 0 {
			t.Fatalf("stored etag %q (answered %q), uid_mac %x", st.etag, res.Object.ETag, st.uid)
		}
		got = append(got, st)
	}
	if got[0].etag == got[1].etag {
		t.Errorf("the same body has the same ETag for two users: %s", got[0].etag)
	}
	if bytes.Equal(got[0].uid, got[1].uid) {
		t.Errorf("the same UID has the same MAC for two users: %x", got[0].uid)
	}
	unkeyed := func(b []byte) []string {
		s256, s1, m5 := sha256.Sum256(b), sha1.Sum(b), md5.Sum(b)
		return []string{hex.EncodeToString(s256[:]), hex.EncodeToString(s1[:]), hex.EncodeToString(m5[:])}
	}
	// sameHash: one is the other, maybe truncated (8 bytes are plenty).
	sameHash := func(a, b string) bool { n := min(len(a), len(b), 16); return n > 0 && a[:n] == b[:n] }
	for i, st := range got {
		for _, h := range unkeyed(body) {
			if sameHash(h, st.etag) {
				t.Errorf("user %d: ETag %s is an unkeyed hash of the body", i, st.etag)
			}
		}
		for _, h := range unkeyed([]byte("shared-uid")) {
			if hx := hex.EncodeToString(st.uid); sameHash(h, hx) {
				t.Errorf("user %d: UID MAC %s is an unkeyed hash of the UID", i, hx)
			}
		}
	}
}
