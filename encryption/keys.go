// Package encryption holds the key hierarchy: user keys, the slots that wrap
// them under credentials, the sealing of records under keys derived from a
// user key, and every other key derived from the server secret (derive.go).
package encryption

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"

	"golang.org/x/crypto/chacha20poly1305"
)

// KeySize is the length in bytes of user keys and server secrets.
const KeySize = 32

// ErrOpen reports that a sealed record or key slot failed to authenticate:
// a wrong credential, a wrong key, or a record that was moved or altered.
var ErrOpen = errors.New("encryption: message authentication failed")

// AD is the associated data that binds a sealed record to its place: the
// owning user, the collection, the object and the field, and, for records
// that are one of many in a field or that must not be put back once
// replaced, the part and the revision that wrote it.
type AD struct {
	User       int64
	Collection []byte
	Object     []byte
	Field      string
	Part       []byte // e.g. which property of a resource; nil for none
	Revision   int64  // the revision that sealed the record; 0 for none
}

// Keyring holds the keys derived from one user's key. It lives only in memory.
type Keyring struct {
	userKey [KeySize]byte
	macKey  [KeySize]byte
	aead    cipherAEAD
}

// cipherAEAD is the subset of cipher.AEAD that records use.
type cipherAEAD interface {
	NonceSize() int
	Overhead() int
	Seal(dst, nonce, plaintext, additionalData []byte) []byte
	Open(dst, nonce, ciphertext, additionalData []byte) ([]byte, error)
}

// NewUserKey returns a fresh random user key.
func NewUserKey() ([]byte, error) {
	return RandomBytes(KeySize)
}

// RandomBytes returns n bytes from the system's secure random source.
func RandomBytes(n int) ([]byte, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("encryption: random: %w", err)
	}
	return b, nil
}

// NewKeyring derives the record and lookup keys from a user key.
func NewKeyring(userKey []byte) (*Keyring, error) {
	if len(userKey) != KeySize {
		return nil, fmt.Errorf("encryption: user key must be %d bytes", KeySize)
	}
	k := &Keyring{}
	copy(k.userKey[:], userKey)
	rec, err := hkdf.Key(sha256.New, userKey, nil, "coffer/v1/records", KeySize)
	if err != nil {
		return nil, err
	}
	mac, err := hkdf.Key(sha256.New, userKey, nil, "coffer/v1/lookup-mac", KeySize)
	if err != nil {
		return nil, err
	}
	copy(k.macKey[:], mac)
	aead, err := chacha20poly1305.NewX(rec)
	if err != nil {
		return nil, err
	}
	k.aead = aead
	return k, nil
}

// UserKey returns a copy of the user key, for wrapping it under a new credential.
func (k *Keyring) UserKey() []byte {
	out := make([]byte, KeySize)
	copy(out, k.userKey[:])
	return out
}

// Seal encrypts plaintext so that it opens only with this keyring and the same ad.
func (k *Keyring) Seal(ad AD, plaintext []byte) []byte {
	nonce := make([]byte, k.aead.NonceSize(), k.aead.NonceSize()+len(plaintext)+k.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		panic("encryption: system random source failed: " + err.Error())
	}
	return k.aead.Seal(nonce, nonce, plaintext, ad.bytes())
}

// Open decrypts a record sealed by Seal with the same ad.
func (k *Keyring) Open(ad AD, sealed []byte) ([]byte, error) {
	n := k.aead.NonceSize()
	if len(sealed) < n+k.aead.Overhead() {
		return nil, ErrOpen
	}
	out, err := k.aead.Open(nil, sealed[:n], sealed[n:], ad.bytes())
	if err != nil {
		return nil, ErrOpen
	}
	return out, nil
}

// MAC returns a keyed hash of parts under the user's lookup key, for finding
// records by UID or name without storing the value. The domain separates uses.
func (k *Keyring) MAC(domain string, parts ...[]byte) []byte {
	m := hmac.New(sha256.New, k.macKey[:])
	writeField(m, []byte(domain))
	for _, p := range parts {
		writeField(m, p)
	}
	return m.Sum(nil)
}

// Equal reports whether two MACs are equal, in constant time.
func Equal(a, b []byte) bool { return subtle.ConstantTimeCompare(a, b) == 1 }

// bytes encodes the associated data without ambiguity between fields.
func (ad AD) bytes() []byte {
	b := make([]byte, 0, 64)
	b = binary.BigEndian.AppendUint64(b, uint64(ad.User))
	for _, f := range [][]byte{ad.Collection, ad.Object, []byte(ad.Field)} {
		b = binary.BigEndian.AppendUint32(b, uint32(len(f)))
		b = append(b, f...)
	}
	// Records sealed before Part and Revision existed carry neither, so
	// they are encoded only when set: the older encoding stays valid, and
	// the extra length-prefixed field keeps the two apart.
	if ad.Part != nil || ad.Revision != 0 {
		b = binary.BigEndian.AppendUint32(b, uint32(len(ad.Part)))
		b = append(b, ad.Part...)
		b = binary.BigEndian.AppendUint64(b, uint64(ad.Revision))
	}
	return b
}

type byteWriter interface{ Write([]byte) (int, error) }

// writeField writes a length-prefixed field so that concatenations are unambiguous.
func writeField(w byteWriter, p []byte) {
	var l [4]byte
	binary.BigEndian.PutUint32(l[:], uint32(len(p)))
	w.Write(l[:])
	w.Write(p)
}
