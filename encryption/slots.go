package encryption

import (
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/chacha20poly1305"
)

// KDFParams are Argon2id cost parameters (RFC 9106).
type KDFParams struct {
	Time      uint32 // passes over memory
	MemoryKiB uint32 // memory in KiB
	Threads   uint8  // lanes
}

// DefaultKDF is RFC 9106's second recommended option: t=3, 64 MiB, p=4.
var DefaultKDF = KDFParams{Time: 3, MemoryKiB: 64 * 1024, Threads: 4}

// MinKDF is OWASP's floor for Argon2id (t=2, 19 MiB, p=1); nothing weaker is accepted.
var MinKDF = KDFParams{Time: 2, MemoryKiB: 19 * 1024, Threads: 1}

// MaxKDF is the costliest Argon2id setting accepted, in the server's
// configuration and in a stored slot or hash alike: a hostile value written
// into the database cannot make a login allocate more memory or run longer
// than the strongest setting the server itself may be given.
var MaxKDF = KDFParams{Time: 16, MemoryKiB: 1 << 20, Threads: 16}

// Validate reports whether p is at or above the OWASP floor and within MaxKDF.
func (p KDFParams) Validate() error {
	if p.Threads < 1 || p.Time < 1 || p.MemoryKiB < 8*uint32(p.Threads) {
		return fmt.Errorf("argon2id parameters t=%d m=%d p=%d are malformed", p.Time, p.MemoryKiB, p.Threads)
	}
	if p.Time > MaxKDF.Time || p.MemoryKiB > MaxKDF.MemoryKiB || p.Threads > MaxKDF.Threads {
		return fmt.Errorf("argon2id parameters t=%d m=%d KiB p=%d exceed the ceiling (t=%d, m=%d KiB, p=%d)",
			p.Time, p.MemoryKiB, p.Threads, MaxKDF.Time, MaxKDF.MemoryKiB, MaxKDF.Threads)
	}
	// OWASP lists equivalent trade-offs between memory and passes; compare the product.
	if uint64(p.Time)*uint64(p.MemoryKiB) < uint64(MinKDF.Time)*uint64(MinKDF.MemoryKiB) || p.MemoryKiB < 7*1024 {
		return fmt.Errorf("argon2id parameters t=%d m=%d KiB are below the OWASP floor (t=2, m=19456 KiB)", p.Time, p.MemoryKiB)
	}
	return nil
}

// String formats p as a PHC parameter list.
func (p KDFParams) String() string {
	return fmt.Sprintf("m=%d,t=%d,p=%d", p.MemoryKiB, p.Time, p.Threads)
}

// ParseKDFParams reads a PHC parameter list "m=<KiB>,t=<passes>,p=<lanes>"
// exactly as String writes it (no signs, leading zeros, spaces or trailing
// text) and validates it.
func ParseKDFParams(s string) (KDFParams, error) {
	var p KDFParams
	bad := fmt.Errorf("argon2id parameters %q are malformed", s)
	f := strings.Split(s, ",")
	if len(f) != 3 {
		return p, bad
	}
	var v [3]uint64
	for i, key := range []string{"m=", "t=", "p="} {
		num, ok := strings.CutPrefix(f[i], key)
		n, err := strconv.ParseUint(num, 10, 32)
		if !ok || err != nil {
			return p, bad
		}
		v[i] = n
	}
	if v[2] > 255 {
		return p, bad
	}
	p = KDFParams{MemoryKiB: uint32(v[0]), Time: uint32(v[1]), Threads: uint8(v[2])}
	if p.String() != s {
		return KDFParams{}, bad
	}
	return p, p.Validate()
}

// Argon2id runs Argon2id over secret with salt, returning n bytes.
func (p KDFParams) Argon2id(secret, salt []byte, n uint32) []byte {
	return argon2.IDKey(secret, salt, p.Time, p.MemoryKiB, p.Threads, n)
}

// Slot is a user key wrapped under one credential and the server secret.
type Slot struct {
	KDF     string // how the wrapping key is derived, e.g. "argon2id$v=19$m=65536,t=3,p=4$<salt>" or "secret$<salt>"
	Wrapped []byte // the user key sealed under the wrapping key
}

// ErrSlotFormat reports a key slot whose KDF description cannot be read.
var ErrSlotFormat = errors.New("encryption: malformed key slot")

// SlotAD binds a slot to its user and its kind ("password", "recovery", "app:<id>").
func SlotAD(user int64, kind string) AD { return AD{User: user, Field: "slot:" + kind} }

// WrapPassword wraps userKey under a low-entropy password, made slow by Argon2id.
func WrapPassword(userKey, password, serverSecret []byte, p KDFParams, ad AD) (Slot, error) {
	salt, err := RandomBytes(16)
	if err != nil {
		return Slot{}, err
	}
	kdf := "argon2id$v=19$" + p.String() + "$" + b64(salt)
	return wrap(userKey, password, serverSecret, kdf, ad)
}

// DecoySlot returns a password slot under p that no credential opens:
// its wrapped key is random bytes. Unwrapping it costs one Argon2id run,
// as a real password slot does, so a login on an unknown username takes
// as long as one with a wrong password.
func DecoySlot(p KDFParams) (Slot, error) {
	b, err := RandomBytes(16 + chacha20poly1305.NonceSizeX + KeySize + chacha20poly1305.Overhead)
	if err != nil {
		return Slot{}, err
	}
	return Slot{KDF: "argon2id$v=19$" + p.String() + "$" + b64(b[:16]), Wrapped: b[16:]}, nil
}

// WrapSecret wraps userKey under a high-entropy secret (recovery code, app
// password), for which a fast derivation is enough.
func WrapSecret(userKey, secret, serverSecret []byte, ad AD) (Slot, error) {
	salt, err := RandomBytes(16)
	if err != nil {
		return Slot{}, err
	}
	return wrap(userKey, secret, serverSecret, "secret$"+b64(salt), ad)
}

// Unwrap recovers the user key from slot with the credential and the server
// secret. A wrong credential or secret gives ErrOpen.
func Unwrap(slot Slot, credential, serverSecret []byte, ad AD) ([]byte, error) {
	kek, err := deriveKEK(slot.KDF, credential, serverSecret)
	if err != nil {
		return nil, err
	}
	aead, err := chacha20poly1305.NewX(kek)
	if err != nil {
		return nil, err
	}
	return openSlot(aead, slot, ad)
}

// KDFParamsOf returns the Argon2id parameters of a password slot, to tell
// whether it should be rewrapped with newer ones; false when they are
// malformed or outside the floor and ceiling.
func KDFParamsOf(slot Slot) (KDFParams, bool) {
	f := strings.Split(slot.KDF, "$")
	if len(f) != 4 || f[0] != "argon2id" {
		return KDFParams{}, false
	}
	p, err := ParseKDFParams(f[2])
	return p, err == nil
}

func wrap(userKey, credential, serverSecret []byte, kdf string, ad AD) (Slot, error) {
	kek, err := deriveKEK(kdf, credential, serverSecret)
	if err != nil {
		return Slot{}, err
	}
	aead, err := chacha20poly1305.NewX(kek)
	if err != nil {
		return Slot{}, err
	}
	return sealSlot(aead, kdf, userKey, ad)
}

// sealSlot wraps userKey with aead under a fresh nonce; the associated data
// binds the slot's place and its KDF description, so neither can be swapped.
func sealSlot(aead cipherAEAD, kdf string, userKey []byte, ad AD) (Slot, error) {
	nonce, err := RandomBytes(aead.NonceSize())
	if err != nil {
		return Slot{}, err
	}
	return Slot{KDF: kdf, Wrapped: aead.Seal(nonce, nonce, userKey, append(ad.bytes(), kdf...))}, nil
}

// openSlot unwraps a slot sealed by sealSlot; any mismatch is ErrOpen.
func openSlot(aead cipherAEAD, slot Slot, ad AD) ([]byte, error) {
	n := aead.NonceSize()
	if len(slot.Wrapped) < n+aead.Overhead() {
		return nil, ErrOpen
	}
	key, err := aead.Open(nil, slot.Wrapped[:n], slot.Wrapped[n:], append(ad.bytes(), slot.KDF...))
	if err != nil {
		return nil, ErrOpen
	}
	return key, nil
}

// deriveKEK turns a credential into a wrapping key. The server secret enters
// every derivation, so the database alone never suffices to unwrap a slot.
func deriveKEK(kdf string, credential, serverSecret []byte) ([]byte, error) {
	if len(serverSecret) < KeySize {
		return nil, errors.New("encryption: server secret is too short")
	}
	f := strings.Split(kdf, "$")
	var ikm []byte
	switch {
	case len(f) == 4 && f[0] == "argon2id" && f[1] == "v=19":
		p, ok := KDFParamsOf(Slot{KDF: kdf})
		if !ok {
			return nil, ErrSlotFormat
		}
		salt, err := unb64(f[3])
		if err != nil {
			return nil, ErrSlotFormat
		}
		ikm = p.Argon2id(credential, salt, KeySize)
	case len(f) == 2 && f[0] == "secret":
		if _, err := unb64(f[1]); err != nil {
			return nil, ErrSlotFormat
		}
		ikm = credential
	default:
		return nil, ErrSlotFormat
	}
	return hkdf.Key(sha256.New, ikm, serverSecret, "coffer/v1/kek|"+kdf, KeySize)
}

func b64(b []byte) string { return base64.RawStdEncoding.EncodeToString(b) }

func unb64(s string) ([]byte, error) { return base64.RawStdEncoding.DecodeString(s) }
