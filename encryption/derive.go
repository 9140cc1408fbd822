package encryption

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
)

// Purpose names what a key derived from the server secret keys. Each
// purpose has its own derivation, fixed for good: what its key computes is
// stored in databases or handed out, so a changed derivation would void it.
type Purpose int

// MACKey is a key of HMAC-SHA256 keyed hashes, derived for one purpose or
// random. The zero MACKey is no key: using it panics.
type MACKey struct {
	key []byte
}

// derivation is how a purpose's key comes from the server secret.
type derivation struct {
	label string
	hkdf  bool // HKDF-SHA256 with the label as info; else HMAC-SHA256 of the label
}

// The purposes of the keys derived from the server secret.
const (
	// SessionID keys the hash under which auth stores a dashboard
	// session's id. HKDF-SHA256 of the server secret, info "coffer/v1/session-id".
	SessionID Purpose = iota + 1
	// AppPasswordVerifier keys the verifiers that auth stores for app
	// passwords. HKDF-SHA256 of the server secret, info
	// "coffer/v1/app-password-verifier".
	AppPasswordVerifier
	// AccountTokens keys the e-mail confirmation codes and e-mail change
	// tokens that account mails. HMAC-SHA256 of "coffer account
	// confirmation tokens" under the server secret: older than the HKDF
	// purposes, and kept so that the codes already mailed still confirm.
	AccountTokens
	// SecretCheck keys the check value a database keeps of its server
	// secret, so that an instance started with another secret refuses to
	// run instead of failing every login. HKDF-SHA256 of the server secret,
	// info "coffer/v1/secret-check".
	SecretCheck
	// ThrottleID keys the ids under which auth's failed-login throttle
	// keeps its records in a store that several instances share, so that
	// every instance of one service names an address or a username alike.
	// HKDF-SHA256 of the server secret, info "coffer/v1/throttle-id".
	ThrottleID
	// PushOutbox keys the sealing of WebDAV-Push retries in the outbox: a
	// retry is sent by whichever instance claims it, after the request
	// that made the change ended, so it cannot be sealed under a user key.
	// HKDF-SHA256 of the server secret, info "coffer/v1/push-outbox", then
	// a Keyring from that (DeriveKeyring).
	PushOutbox
)

// derivations holds each purpose's derivation. Never change an entry.
var derivations = map[Purpose]derivation{
	SessionID:           {label: "coffer/v1/session-id", hkdf: true},
	AppPasswordVerifier: {label: "coffer/v1/app-password-verifier", hkdf: true},
	AccountTokens:       {label: "coffer account confirmation tokens"},
	SecretCheck:         {label: "coffer/v1/secret-check", hkdf: true},
	ThrottleID:          {label: "coffer/v1/throttle-id", hkdf: true},
	PushOutbox:          {label: "coffer/v1/push-outbox", hkdf: true},
}

// SecretCheckValue returns the check value of a server secret that a
// database stores: it tells whether a secret is the database's, and
// nothing else about the secret.
func SecretCheckValue(serverSecret []byte) (string, error) {
	k, err := Derive(serverSecret, SecretCheck)
	if err != nil {
		return "", err
	}
	return base64.RawStdEncoding.EncodeToString(k.Sum([]byte("server secret check"))), nil
}

// formTokenLabel is what a session's form token is the MAC of.
const formTokenLabel = "coffer/v1/csrf"

// Derive returns the key of purpose p derived from the server secret.
func Derive(serverSecret []byte, p Purpose) (MACKey, error) {
	if len(serverSecret) < KeySize {
		return MACKey{}, errors.New("encryption: the server secret is too short")
	}
	d, ok := derivations[p]
	if !ok {
		return MACKey{}, fmt.Errorf("encryption: unknown key purpose %d", p)
	}
	if d.hkdf {
		key, err := hkdf.Key(sha256.New, serverSecret, nil, d.label, KeySize)
		if err != nil {
			return MACKey{}, err
		}
		return MACKey{key: key}, nil
	}
	m := hmac.New(sha256.New, serverSecret)
	m.Write([]byte(d.label))
	return MACKey{key: m.Sum(nil)}, nil
}

// DeriveKeyring returns a Keyring derived from the server secret for
// purpose p, for records that a server process seals and opens without
// any user key (PushOutbox); p must be an HKDF purpose.
func DeriveKeyring(serverSecret []byte, p Purpose) (*Keyring, error) {
	k, err := Derive(serverSecret, p)
	if err != nil {
		return nil, err
	}
	if !derivations[p].hkdf {
		return nil, fmt.Errorf("encryption: purpose %d keys no keyring", p)
	}
	return NewKeyring(k.key)
}

// RandomMACKey returns a fresh random key, for keyed hashes that live only
// in memory and die with the process (the login cache, the throttle).
func RandomMACKey() MACKey {
	key := make([]byte, KeySize)
	rand.Read(key) // never fails (crypto/rand)
	return MACKey{key: key}
}

// IsZero reports whether k is the zero MACKey, which keys nothing.
func (k MACKey) IsZero() bool { return len(k.key) == 0 }

// NewHash returns an HMAC-SHA256 under k into which the caller writes its
// message, for keyed hashes whose byte layout is already fixed.
func (k MACKey) NewHash() hash.Hash {
	if k.IsZero() {
		panic("encryption: a MACKey used before it was derived")
	}
	return hmac.New(sha256.New, k.key)
}

// Sum returns the HMAC-SHA256 under k of parts, each length-prefixed so
// that no two lists of parts hash alike; for new layouts.
func (k MACKey) Sum(parts ...[]byte) []byte {
	m := k.NewHash()
	for _, p := range parts {
		writeField(m, p)
	}
	return m.Sum(nil)
}

// FormToken derives a dashboard session's form (CSRF) token from the
// session's id: the HMAC-SHA256 of "coffer/v1/csrf" under the id, so only
// the holder of the id computes it.
func FormToken(sessionID []byte) []byte {
	m := hmac.New(sha256.New, sessionID)
	m.Write([]byte(formTokenLabel))
	return m.Sum(nil)
}
