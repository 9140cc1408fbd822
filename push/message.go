// Package push sends Web Push messages (RFC 8030) to the push resources of
// WebDAV-Push subscriptions: encrypted per RFC 8291 and signed per RFC 8292
// (package encryption/webpush), over outgoing connections that are bounded
// so that no user can turn the server into a port scanner: timeouts, at
// most a few connections at once, no redirects, and only https on port 443
// or 8443 of a public address, checked again at dial time on the resolved
// address. The outcome of each send is a value the caller's queue acts on.
package push

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"time"
)

// Subscription is where a push message goes and whom it is encrypted to:
// the push resource (RFC 8030 §5) and the keys the user agent made for it
// (RFC 8291 §2).
type Subscription struct {
	Endpoint string // the push resource URL
	P256dh   []byte // the subscription's public key, an uncompressed P-256 point
	Auth     []byte // the authentication secret, 16 bytes
}

// Urgency is the Urgency header of a push message (RFC 8030 §5.3).
type Urgency string

// The urgencies of RFC 8030 §5.3; the empty Urgency sends no header, which
// push services take as normal.
const (
	UrgencyVeryLow Urgency = "very-low"
	UrgencyLow     Urgency = "low"
	UrgencyNormal  Urgency = "normal"
	UrgencyHigh    Urgency = "high"
)

// Valid reports whether u is one of RFC 8030's urgencies, or empty.
func (u Urgency) Valid() bool {
	switch u {
	case "", UrgencyVeryLow, UrgencyLow, UrgencyNormal, UrgencyHigh:
		return true
	}
	return false
}

// Message is one push message and how the push service should keep it.
type Message struct {
	Payload []byte        // the plaintext, at most webpush.MaxPlaintext bytes
	TTL     time.Duration // how long the push service keeps it undelivered, in whole seconds (RFC 8030 §5.2)
	Urgency Urgency       // RFC 8030 §5.3; empty for none
	Topic   string        // collapse key (RFC 8030 §5.4): at most 32 base64url characters; empty for none
}

// maxTopic is the longest Topic header (RFC 8030 §5.4).
const maxTopic = 32

// CollapseKey returns a Topic header value for topic, whatever its length
// or alphabet: 32 base64url characters of its SHA-256, so that messages of
// one collection replace each other at the push service, which learns
// nothing of the topic itself.
func CollapseKey(topic string) string {
	h := sha256.Sum256([]byte("coffer/v1/push-topic\x00" + topic))
	return base64.RawURLEncoding.EncodeToString(h[:24])
}

// check reports what makes m unsendable.
func (m Message) check() error {
	if !m.Urgency.Valid() {
		return fmt.Errorf("push: urgency %q is none of RFC 8030's", m.Urgency)
	}
	if m.TTL < 0 {
		return fmt.Errorf("push: negative TTL %v", m.TTL)
	}
	if !ValidTopic(m.Topic) && m.Topic != "" {
		return fmt.Errorf("push: topic %q is not at most %d base64url characters", m.Topic, maxTopic)
	}
	return nil
}

// ValidTopic reports whether t is a valid, non-empty Topic header: at most
// 32 characters of the base64url alphabet (RFC 8030 §5.4).
func ValidTopic(t string) bool {
	if t == "" || len(t) > maxTopic {
		return false
	}
	for _, c := range []byte(t) {
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
