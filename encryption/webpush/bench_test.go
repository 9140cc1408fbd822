package webpush

import (
	"testing"
	"time"
)

// BenchmarkEncrypt: one push message of a topic and a sync token, as the
// server encrypts it for each subscription.
func BenchmarkEncrypt(b *testing.B) {
	r := newReceiver(b)
	pub := r.priv.PublicKey().Bytes()
	msg := []byte(`<?xml version="1.0" encoding="utf-8"?><push-message xmlns="https://bitfire.at/webdav-push"><topic>O7M1nQ7cKkKTKsoS_j6Z3w</topic><content-update><sync-token xmlns="DAV:">https://coffer.example/sync/1234</sync-token></content-update></push-message>`)
	for b.Loop() {
		if _, err := Encrypt(msg, pub, r.auth); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAuthorization: one VAPID header, signed per message.
func BenchmarkAuthorization(b *testing.B) {
	k := mustVAPIDKey(b)
	now := time.Now()
	for b.Loop() {
		if _, err := k.Authorization("https://fcm.googleapis.com/fcm/send/abc", "mailto:ops@coffer.example", now); err != nil {
			b.Fatal(err)
		}
	}
}
