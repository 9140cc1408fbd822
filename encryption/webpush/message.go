package webpush

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
)

// Sizes of the parts of an aes128gcm push message (RFC 8291 §4, RFC 8188 §2).
const (
	// AuthSize is the length of a subscription's authentication secret.
	AuthSize = 16
	// PublicKeySize is the length of an uncompressed P-256 public key.
	PublicKeySize = 65
	// HeaderSize is the length of the content coding header Coffer sends:
	// salt, record size, key id length and a P-256 public key as key id.
	HeaderSize = saltSize + 4 + 1 + PublicKeySize
	// MaxPlaintext is the longest message a push service must accept
	// (4096 octets of body, RFC 8030 §7.2, less header, delimiter and tag).
	MaxPlaintext = recordSize - HeaderSize - 1 - tagSize
)

const (
	saltSize   = 16
	tagSize    = 16
	recordSize = 4096 // the rs Coffer announces: the whole body fits one record
	minRecord  = tagSize + 2
)

// Errors of Decrypt: a body that is no aes128gcm push message, and one that
// fails to authenticate under the receiver's keys.
var (
	ErrMessage = errors.New("webpush: not an aes128gcm push message")
	ErrDecrypt = errors.New("webpush: message authentication failed")
)

// CheckKeys reports whether p256dh and auth, as a subscription hands them
// to the application server, are a P-256 public key and a 16-byte
// authentication secret that messages can be encrypted to.
func CheckKeys(p256dh, auth []byte) error {
	_, err := receiverKey(p256dh, auth)
	return err
}

// DecodeKey decodes a subscription key or authentication secret sent as
// base64url (RFC 4648 §5), with or without padding, as clients send them.
// The standard alphabet is taken too: some clients send it.
func DecodeKey(s string) ([]byte, error) {
	s = strings.TrimRight(strings.TrimSpace(s), "=")
	if b, err := base64.RawURLEncoding.DecodeString(s); err == nil {
		return b, nil
	}
	b, err := base64.RawStdEncoding.DecodeString(s)
	if err != nil {
		return nil, errors.New("webpush: a key is not base64url")
	}
	return b, nil
}

// Encrypt returns the body of a push message carrying plaintext to the
// subscription with public key p256dh and authentication secret auth: a
// fresh ephemeral key and salt, one record, no padding (RFC 8291 §3–4).
func Encrypt(plaintext, p256dh, auth []byte) ([]byte, error) {
	ua, err := receiverKey(p256dh, auth)
	if err != nil {
		return nil, err
	}
	eph, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("webpush: ephemeral key: %w", err)
	}
	salt := make([]byte, saltSize)
	rand.Read(salt) // never fails (crypto/rand)
	return encrypt(plaintext, ua, auth, salt, eph)
}

// encrypt is Encrypt with the salt and ephemeral key given, which only the
// tests of the RFC's example fix: a salt used twice with one key pair
// would repeat the nonce.
func encrypt(plaintext []byte, ua *ecdh.PublicKey, auth, salt []byte, eph *ecdh.PrivateKey) ([]byte, error) {
	if len(plaintext) > MaxPlaintext {
		return nil, fmt.Errorf("webpush: a message of %d bytes is longer than %d", len(plaintext), MaxPlaintext)
	}
	secret, err := eph.ECDH(ua)
	if err != nil {
		return nil, fmt.Errorf("webpush: ECDH: %w", err)
	}
	asPublic := eph.PublicKey().Bytes()
	aead, nonce, err := contentKey(secret, auth, ua.Bytes(), asPublic, salt)
	if err != nil {
		return nil, err
	}
	body := make([]byte, 0, HeaderSize+len(plaintext)+1+tagSize)
	body = append(body, salt...)
	body = binary.BigEndian.AppendUint32(body, recordSize)
	body = append(body, byte(len(asPublic)))
	body = append(body, asPublic...)
	record := append(append(make([]byte, 0, len(plaintext)+1), plaintext...), 0x02) // last record's delimiter
	return aead.Seal(body, nonce, record, nil), nil
}

// Decrypt opens a push message body with the subscription's private key
// and authentication secret, as a user agent does: it reads the content
// coding header, accepts one record only, and strips the padding.
func Decrypt(body []byte, priv *ecdh.PrivateKey, auth []byte) ([]byte, error) {
	if priv == nil || priv.Curve() != ecdh.P256() || len(auth) != AuthSize {
		return nil, errors.New("webpush: a receiver needs a P-256 private key and a 16-byte auth secret")
	}
	h, err := parseHeader(body)
	if err != nil {
		return nil, err
	}
	secret, err := priv.ECDH(h.sender)
	if err != nil {
		return nil, ErrMessage
	}
	aead, nonce, err := contentKey(secret, auth, priv.PublicKey().Bytes(), h.sender.Bytes(), h.salt)
	if err != nil {
		return nil, err
	}
	record, err := aead.Open(nil, nonce, h.record, nil)
	if err != nil {
		return nil, ErrDecrypt
	}
	// RFC 8188 §2: the data, a delimiter (2 in the last record), zeros.
	i := len(record) - 1
	for i >= 0 && record[i] == 0 {
		i--
	}
	if i < 0 || record[i] != 0x02 {
		return nil, ErrMessage
	}
	return record[:i], nil
}

// header is the parsed content coding header of a message (RFC 8188 §2.1).
type header struct {
	salt   []byte
	sender *ecdh.PublicKey // the key id: the application server's ephemeral key
	record []byte
}

// parseHeader splits a body into its header fields and its one record.
func parseHeader(body []byte) (header, error) {
	if len(body) < saltSize+5 {
		return header{}, ErrMessage
	}
	rs := binary.BigEndian.Uint32(body[saltSize:])
	idLen := int(body[saltSize+4])
	rest := body[saltSize+5:]
	if idLen != PublicKeySize || len(rest) < idLen {
		return header{}, ErrMessage
	}
	sender, err := ecdh.P256().NewPublicKey(rest[:idLen])
	if err != nil {
		return header{}, ErrMessage
	}
	record := rest[idLen:]
	// One record (RFC 8291 §4): it holds at least a delimiter and the tag,
	// and is no longer than the record size announced.
	if rs < minRecord || len(record) < tagSize+1 || uint64(len(record)) > uint64(rs) {
		return header{}, ErrMessage
	}
	return header{salt: body[:saltSize], sender: sender, record: record}, nil
}

// contentKey returns the AES-128-GCM cipher and the nonce of a message
// (RFC 8291 §3.3–3.4, RFC 8188 §2.2–2.3).
func contentKey(ecdhSecret, auth, uaPublic, asPublic, salt []byte) (cipher.AEAD, []byte, error) {
	cek, nonce, err := deriveKey(ecdhSecret, auth, uaPublic, asPublic, salt)
	if err != nil {
		return nil, nil, err
	}
	block, err := aes.NewCipher(cek)
	if err != nil {
		return nil, nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, nil, err
	}
	return aead, nonce, nil
}

// deriveKey derives the content encryption key and the nonce of a message
// from the ECDH secret, the authentication secret, both public keys and
// the salt: HKDF-SHA256 first combines the two secrets into the input
// keying material of RFC 8188, which then yields key and nonce.
func deriveKey(ecdhSecret, auth, uaPublic, asPublic, salt []byte) (cek, nonce []byte, err error) {
	info := append(append([]byte("WebPush: info\x00"), uaPublic...), asPublic...)
	ikm, err := hkdf.Key(sha256.New, ecdhSecret, auth, string(info), 32)
	if err != nil {
		return nil, nil, err
	}
	prk, err := hkdf.Extract(sha256.New, ikm, salt)
	if err != nil {
		return nil, nil, err
	}
	if cek, err = hkdf.Expand(sha256.New, prk, "Content-Encoding: aes128gcm\x00", 16); err != nil {
		return nil, nil, err
	}
	if nonce, err = hkdf.Expand(sha256.New, prk, "Content-Encoding: nonce\x00", 12); err != nil {
		return nil, nil, err
	}
	return cek, nonce, nil
}

// receiverKey parses a subscription's public key and checks its secret.
func receiverKey(p256dh, auth []byte) (*ecdh.PublicKey, error) {
	if len(auth) != AuthSize {
		return nil, fmt.Errorf("webpush: the auth secret has %d bytes, want %d", len(auth), AuthSize)
	}
	ua, err := ecdh.P256().NewPublicKey(p256dh)
	if err != nil {
		return nil, errors.New("webpush: the subscription key is no uncompressed P-256 point")
	}
	return ua, nil
}
