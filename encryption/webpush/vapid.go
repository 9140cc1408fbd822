package webpush

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/url"
	"os"
	"strings"
	"time"
)

// VAPID limits (RFC 8292 §2).
const (
	// MaxTokenLifetime is how far ahead of the request a token's expiry
	// may lie.
	MaxTokenLifetime = 24 * time.Hour
	// TokenLifetime is the lifetime of the tokens Authorization signs,
	// well inside MaxTokenLifetime so that a push service whose clock is
	// ahead still takes them.
	TokenLifetime = 12 * time.Hour
)

// vapidPEM is the PEM block type of a VAPID key file: PKCS #8, which
// openssl and other tools read.
const vapidPEM = "PRIVATE KEY"

// jwtHeader is the one JOSE header of the tokens signed here (RFC 8292 §2,
// RFC 7515 §4); its base64url is fixed.
var jwtHeader = base64.RawURLEncoding.EncodeToString([]byte(`{"typ":"JWT","alg":"ES256"}`))

// ErrToken reports a VAPID token or Authorization header that is malformed,
// signed by another key, expired or valid for too long.
var ErrToken = errors.New("webpush: invalid VAPID token")

// VAPIDKey is the server's VAPID key pair (an ECDSA P-256 key), which signs
// the tokens that identify Coffer to push services and whose public half
// clients receive as the vapid-public-key of the WebDAV-Push transport.
type VAPIDKey struct {
	priv *ecdsa.PrivateKey
	pub  []byte // uncompressed point
}

// Claims are the claims of a VAPID token (RFC 8292 §2, §2.1).
type Claims struct {
	Audience string    // the push resource's origin
	Subject  string    // a mailto: or https: contact for the operator
	Expires  time.Time // at most MaxTokenLifetime after the request
}

// jwtClaims is the JSON form of Claims (RFC 7519 §4.1).
type jwtClaims struct {
	Aud string `json:"aud"`
	Exp int64  `json:"exp"`
	Sub string `json:"sub,omitempty"`
}

// jwtJOSE is the part of a token's JOSE header that verification reads.
type jwtJOSE struct {
	Alg string `json:"alg"`
}

// GenerateVAPIDKey returns a new random VAPID key pair.
func GenerateVAPIDKey() (*VAPIDKey, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("webpush: generate VAPID key: %w", err)
	}
	return newVAPIDKey(priv)
}

// ParseVAPIDKey reads a VAPID key pair written by MarshalPEM: a PEM
// "PRIVATE KEY" block holding a PKCS #8 P-256 ECDSA key.
func ParseVAPIDKey(b []byte) (*VAPIDKey, error) {
	blk, rest := pem.Decode(b)
	if blk == nil || blk.Type != vapidPEM || len(bytes.TrimSpace(rest)) != 0 {
		return nil, errors.New("webpush: a VAPID key file holds one PEM PRIVATE KEY block")
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("webpush: VAPID key: %w", err)
	}
	priv, ok := k.(*ecdsa.PrivateKey)
	if !ok || priv.Curve != elliptic.P256() {
		return nil, errors.New("webpush: a VAPID key is a P-256 ECDSA key")
	}
	return newVAPIDKey(priv)
}

// LoadVAPIDKey reads the VAPID key file at path. The file is meant to live
// in the data folder next to server.key (as vapid.key, mode 0600) and to
// be shared, like server.key, by every instance of one service: push
// services bind a subscription to the key that signed for it. A missing
// file gives an error that matches os.ErrNotExist; cmd then generates a
// key with GenerateVAPIDKey and writes MarshalPEM's bytes as it writes
// server.key.
func LoadVAPIDKey(path string) (*VAPIDKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("webpush: read VAPID key: %w", err)
	}
	k, err := ParseVAPIDKey(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

// newVAPIDKey wraps a P-256 private key.
func newVAPIDKey(priv *ecdsa.PrivateKey) (*VAPIDKey, error) {
	pub, err := priv.PublicKey.Bytes()
	if err != nil {
		return nil, fmt.Errorf("webpush: VAPID key: %w", err)
	}
	return &VAPIDKey{priv: priv, pub: pub}, nil
}

// MarshalPEM encodes the key pair as a PEM "PRIVATE KEY" block (PKCS #8).
func (k *VAPIDKey) MarshalPEM() ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k.priv)
	if err != nil {
		return nil, fmt.Errorf("webpush: VAPID key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: vapidPEM, Bytes: der}), nil
}

// PublicKey returns the public key as an uncompressed P-256 point (65 bytes).
func (k *VAPIDKey) PublicKey() []byte { return bytes.Clone(k.pub) }

// PublicKeyString returns the public key in base64url without padding, as
// the "k" parameter of the Authorization header and the vapid-public-key
// property carry it.
func (k *VAPIDKey) PublicKeyString() string { return base64.RawURLEncoding.EncodeToString(k.pub) }

// Authorization returns the Authorization header value ("vapid t=…, k=…",
// RFC 8292 §3) for a message to the push resource endpoint, with a token
// for the endpoint's origin that expires TokenLifetime after now.
func (k *VAPIDKey) Authorization(endpoint, subject string, now time.Time) (string, error) {
	aud, err := Origin(endpoint)
	if err != nil {
		return "", err
	}
	t, err := k.Token(Claims{Audience: aud, Subject: subject, Expires: now.Add(TokenLifetime)})
	if err != nil {
		return "", err
	}
	return "vapid t=" + t + ", k=" + k.PublicKeyString(), nil
}

// Token returns the ES256-signed JWT of c (RFC 8292 §2, RFC 7515 §3.1).
func (k *VAPIDKey) Token(c Claims) (string, error) {
	if c.Audience == "" || c.Expires.IsZero() {
		return "", errors.New("webpush: a VAPID token needs an audience and an expiry")
	}
	if err := CheckContact(c.Subject); err != nil {
		return "", err
	}
	body, err := json.Marshal(jwtClaims{Aud: c.Audience, Exp: c.Expires.Unix(), Sub: c.Subject})
	if err != nil {
		return "", err
	}
	input := jwtHeader + "." + base64.RawURLEncoding.EncodeToString(body)
	digest := sha256.Sum256([]byte(input))
	r, s, err := ecdsa.Sign(rand.Reader, k.priv, digest[:])
	if err != nil {
		return "", fmt.Errorf("webpush: sign VAPID token: %w", err)
	}
	// ES256 signatures are R and S as 32 bytes each (RFC 7518 §3.4).
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return input + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

// ParseAuthorization splits a "vapid" Authorization header value (RFC 8292
// §3) into its token and the decoded public key.
func ParseAuthorization(h string) (token string, key []byte, err error) {
	scheme, params, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "vapid") {
		return "", nil, ErrToken
	}
	for p := range strings.SplitSeq(params, ",") {
		name, value, ok := strings.Cut(strings.TrimSpace(p), "=")
		if !ok {
			return "", nil, ErrToken
		}
		value = strings.Trim(strings.TrimSpace(value), `"`)
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "t":
			token = value
		case "k":
			if key, err = base64.RawURLEncoding.DecodeString(strings.TrimRight(value, "=")); err != nil {
				return "", nil, ErrToken
			}
		}
	}
	if token == "" || key == nil {
		return "", nil, ErrToken
	}
	return token, key, nil
}

// VerifyToken checks a VAPID token as a push service does: signed with
// ES256 by the public key pub (an uncompressed P-256 point), not expired at
// now, and expiring at most MaxTokenLifetime after now. It returns the
// token's claims; checking the audience is the caller's.
func VerifyToken(token string, pub []byte, now time.Time) (Claims, error) {
	key, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), pub)
	if err != nil {
		return Claims{}, ErrToken
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return Claims{}, ErrToken
	}
	var jose jwtJOSE
	if err := decodeJSON(parts[0], &jose); err != nil || jose.Alg != "ES256" {
		return Claims{}, ErrToken
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || len(sig) != 64 {
		return Claims{}, ErrToken
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
	if !ecdsa.Verify(key, digest[:], r, s) {
		return Claims{}, ErrToken
	}
	var c jwtClaims
	if err := decodeJSON(parts[1], &c); err != nil || c.Aud == "" {
		return Claims{}, ErrToken
	}
	exp := time.Unix(c.Exp, 0)
	if !exp.After(now) || exp.Sub(now) > MaxTokenLifetime {
		return Claims{}, ErrToken
	}
	return Claims{Audience: c.Aud, Subject: c.Sub, Expires: exp}, nil
}

// Origin returns the origin of a push resource URL (RFC 6454 §6.1), the
// audience of its VAPID tokens: scheme and host, with the port only when
// it is not the scheme's default.
func Origin(endpoint string) (string, error) {
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return "", errors.New("webpush: a push resource is an absolute http(s) URL")
	}
	scheme := strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Hostname())
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	port := u.Port()
	if port == "" || (scheme == "https" && port == "443") || (scheme == "http" && port == "80") {
		return scheme + "://" + host, nil
	}
	return scheme + "://" + host + ":" + port, nil
}

// CheckContact reports whether sub is a VAPID contact: a mailto: or an
// https: URI (RFC 8292 §2.1).
func CheckContact(sub string) error {
	if u, err := url.Parse(sub); err == nil && (u.Scheme == "mailto" && u.Opaque != "" || u.Scheme == "https" && u.Host != "") {
		return nil
	}
	return fmt.Errorf("webpush: a VAPID contact is a mailto: or https: URI, not %q", sub)
}

// decodeJSON decodes one base64url JSON part of a token into v.
func decodeJSON(part string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(part)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}
