package encryption

import (
	"crypto/ecdh"
	"crypto/hkdf"
	"crypto/hpke"
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/chacha20poly1305"
)

// The escrow slot.
//
// The operator may keep an escrow key pair whose private half stays offline.
// Every user key then gets one more slot, "escrow", that the server can write
// with the public key but never open.
//
// Construction: HPKE (RFC 9180, Go's crypto/hpke) with DHKEM(X25519,
// HKDF-SHA256) and HKDF-SHA256, in export-only mode (RFC 9180 §5.3). The
// sender encapsulates to the escrow public key with info binding the account
// and the slot kind, and exports a 32-byte secret that only the private key
// can export again. That secret is then the slot's credential, exactly as a
// recovery code is for WrapSecret: the wrapping key is HKDF-SHA256 over the
// exported secret with the server secret as salt, and the user key is sealed
// with XChaCha20-Poly1305 under the slot's associated data and description.
//
// Why not HPKE's own AEAD with the user key as plaintext: that would open
// with the private key alone. Every other slot needs the server secret too
// ("it takes all three"), and a backup made with --no-secret must stay
// closed to whoever also holds the escrow key. crypto/hpke has no PSK mode to
// mix the server secret in, so the exporter feeds the same key derivation as
// the other slots instead. The server secret alone opens nothing either: the
// exported secret needs the X25519 private key.

// Escrow PEM block types.
const (
	escrowPrivatePEM = "COFFER ESCROW PRIVATE KEY"
	escrowPublicPEM  = "COFFER ESCROW PUBLIC KEY"
	escrowSuite      = "hpke-x25519-sha256"
)

// ErrEscrowKey reports an escrow slot sealed to another escrow key than the one given.
var ErrEscrowKey = errors.New("encryption: the escrow slot is sealed to another escrow key")

// escrowKEM is DHKEM(X25519, HKDF-SHA256).
var escrowKEM = hpke.DHKEM(ecdh.X25519())

// EscrowPublicKey is the operator's escrow public key, which seals slots.
type EscrowPublicKey struct {
	pk hpke.PublicKey
}

// EscrowPrivateKey is the operator's offline escrow private key, which opens slots.
type EscrowPrivateKey struct {
	sk hpke.PrivateKey
}

// GenerateEscrowKey returns a new escrow key pair.
func GenerateEscrowKey() (*EscrowPrivateKey, error) {
	sk, err := escrowKEM.GenerateKey()
	if err != nil {
		return nil, fmt.Errorf("encryption: generate escrow key: %w", err)
	}
	return &EscrowPrivateKey{sk: sk}, nil
}

// Public returns the public half of an escrow key pair.
func (k *EscrowPrivateKey) Public() *EscrowPublicKey { return &EscrowPublicKey{pk: k.sk.PublicKey()} }

// MarshalPEM encodes the private key as a PEM block.
func (k *EscrowPrivateKey) MarshalPEM() ([]byte, error) {
	b, err := k.sk.Bytes()
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: escrowPrivatePEM, Bytes: b}), nil
}

// MarshalPEM encodes the public key as a PEM block.
func (k *EscrowPublicKey) MarshalPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: escrowPublicPEM, Bytes: k.pk.Bytes()})
}

// Bytes returns the raw X25519 public key.
func (k *EscrowPublicKey) Bytes() []byte { return k.pk.Bytes() }

// Fingerprint names the public key in escrow slots and to the operator.
func (k *EscrowPublicKey) Fingerprint() string {
	h := sha256.Sum256(append([]byte("coffer/v1/escrow-key\x00"), k.pk.Bytes()...))
	return hex.EncodeToString(h[:8])
}

// ParseEscrowPublicKey reads a public key written by EscrowPublicKey.MarshalPEM.
func ParseEscrowPublicKey(b []byte) (*EscrowPublicKey, error) {
	raw, err := pemBlock(b, escrowPublicPEM)
	if err != nil {
		return nil, err
	}
	pk, err := escrowKEM.NewPublicKey(raw)
	if err != nil {
		return nil, fmt.Errorf("encryption: escrow public key: %w", err)
	}
	return &EscrowPublicKey{pk: pk}, nil
}

// ParseEscrowPrivateKey reads a private key written by EscrowPrivateKey.MarshalPEM.
func ParseEscrowPrivateKey(b []byte) (*EscrowPrivateKey, error) {
	raw, err := pemBlock(b, escrowPrivatePEM)
	if err != nil {
		return nil, err
	}
	sk, err := escrowKEM.NewPrivateKey(raw)
	if err != nil {
		return nil, fmt.Errorf("encryption: escrow private key: %w", err)
	}
	return &EscrowPrivateKey{sk: sk}, nil
}

// SealEscrow wraps userKey in a slot that opens only with the escrow private
// key and the server secret. ad binds it to its account and kind (SlotAD).
func SealEscrow(userKey []byte, pub *EscrowPublicKey, serverSecret []byte, ad AD) (Slot, error) {
	if len(userKey) != KeySize {
		return Slot{}, fmt.Errorf("encryption: user key must be %d bytes", KeySize)
	}
	enc, sender, err := hpke.NewSender(pub.pk, hpke.HKDFSHA256(), hpke.ExportOnly(), escrowInfo(ad))
	if err != nil {
		return Slot{}, fmt.Errorf("encryption: escrow: %w", err)
	}
	secret, err := sender.Export(escrowExport, KeySize)
	if err != nil {
		return Slot{}, fmt.Errorf("encryption: escrow: %w", err)
	}
	kdf := "escrow$" + escrowSuite + "$" + pub.Fingerprint() + "$" + b64(enc)
	aead, err := escrowAEAD(kdf, secret, serverSecret)
	if err != nil {
		return Slot{}, err
	}
	return sealSlot(aead, kdf, userKey, ad)
}

// OpenEscrow recovers the user key from an escrow slot with the escrow
// private key and the server secret. Anything wrong gives ErrOpen, or
// ErrEscrowKey when the slot names another escrow key.
func OpenEscrow(slot Slot, priv *EscrowPrivateKey, serverSecret []byte, ad AD) ([]byte, error) {
	fp, enc, err := parseEscrowKDF(slot.KDF)
	if err != nil {
		return nil, err
	}
	if fp != priv.Public().Fingerprint() {
		return nil, ErrEscrowKey
	}
	r, err := hpke.NewRecipient(enc, priv.sk, hpke.HKDFSHA256(), hpke.ExportOnly(), escrowInfo(ad))
	if err != nil {
		return nil, ErrOpen
	}
	secret, err := r.Export(escrowExport, KeySize)
	if err != nil {
		return nil, ErrOpen
	}
	aead, err := escrowAEAD(slot.KDF, secret, serverSecret)
	if err != nil {
		return nil, err
	}
	return openSlot(aead, slot, ad)
}

// SealedTo reports whether an escrow slot is sealed to this public key.
func (k *EscrowPublicKey) SealedTo(slot Slot) bool {
	fp, _, err := parseEscrowKDF(slot.KDF)
	return err == nil && fp == k.Fingerprint()
}

// escrowExport is the HPKE exporter context of the escrow credential.
const escrowExport = "coffer/v1/escrow-credential"

// escrowInfo is the HPKE info: the slot's account and kind, unambiguously encoded.
func escrowInfo(ad AD) []byte { return append([]byte("coffer/v1/escrow\x00"), ad.bytes()...) }

// escrowAEAD derives the slot's wrapping key from the exported secret and
// the server secret, as deriveKEK does for the other slots.
func escrowAEAD(kdf string, secret, serverSecret []byte) (cipherAEAD, error) {
	if len(serverSecret) < KeySize {
		return nil, errors.New("encryption: server secret is too short")
	}
	kek, err := hkdf.Key(sha256.New, secret, serverSecret, "coffer/v1/kek|"+kdf, KeySize)
	if err != nil {
		return nil, err
	}
	return chacha20poly1305.NewX(kek)
}

// parseEscrowKDF splits "escrow$<suite>$<fingerprint>$<enc>".
func parseEscrowKDF(kdf string) (fingerprint string, enc []byte, err error) {
	f := strings.Split(kdf, "$")
	if len(f) != 4 || f[0] != "escrow" || f[1] != escrowSuite {
		return "", nil, ErrSlotFormat
	}
	enc, err = unb64(f[3])
	if err != nil {
		return "", nil, ErrSlotFormat
	}
	return f[2], enc, nil
}

// pemBlock returns the bytes of the single PEM block of type typ in b.
func pemBlock(b []byte, typ string) ([]byte, error) {
	p, rest := pem.Decode(b)
	if p == nil || p.Type != typ || len(strings.TrimSpace(string(rest))) != 0 {
		return nil, fmt.Errorf("encryption: not a %s file", strings.ToLower(typ))
	}
	return p.Bytes, nil
}
