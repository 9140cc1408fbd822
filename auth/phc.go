package auth

import (
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"strings"

	"github.com/coffer-dav/coffer/encryption"
)

// ErrPHC reports a password hash string that is not a valid Argon2id PHC string.
var ErrPHC = errors.New("auth: malformed argon2id PHC string")

// phcHash is a parsed Argon2id PHC string.
type phcHash struct {
	params encryption.KDFParams
	salt   []byte
	hash   []byte
}

// HashPassword hashes password with Argon2id under p and a random salt, as a PHC string.
func HashPassword(password string, p encryption.KDFParams) (string, error) {
	salt, err := encryption.RandomBytes(16)
	if err != nil {
		return "", err
	}
	h := phcHash{params: p, salt: salt, hash: p.Argon2id([]byte(password), salt, 32)}
	return h.String(), nil
}

// VerifyPassword reports whether password matches the PHC string, comparing
// in constant time, and whether the hash should be redone under want.
func VerifyPassword(phc, password string, want encryption.KDFParams) (ok, rehash bool, err error) {
	h, err := parsePHC(phc)
	if err != nil {
		return false, false, err
	}
	got := h.params.Argon2id([]byte(password), h.salt, uint32(len(h.hash)))
	ok = subtle.ConstantTimeCompare(got, h.hash) == 1
	return ok, h.params != want, nil
}

// String formats h as "$argon2id$v=19$m=...,t=...,p=...$salt$hash".
func (h phcHash) String() string {
	enc := base64.RawStdEncoding
	return "$argon2id$v=19$" + h.params.String() + "$" + enc.EncodeToString(h.salt) + "$" + enc.EncodeToString(h.hash)
}

// parsePHC reads an Argon2id PHC string, rejecting anything malformed or
// weaker than the OWASP floor.
func parsePHC(s string) (phcHash, error) {
	var h phcHash
	f := strings.Split(s, "$")
	if len(f) != 6 || f[0] != "" || f[1] != "argon2id" || f[2] != "v=19" {
		return h, ErrPHC
	}
	p, err := encryption.ParseKDFParams(f[3])
	if err != nil {
		return h, ErrPHC
	}
	enc := base64.RawStdEncoding.Strict()
	salt, err := enc.DecodeString(f[4])
	if err != nil || len(salt) < 8 || len(salt) > 64 {
		return h, ErrPHC
	}
	hash, err := enc.DecodeString(f[5])
	if err != nil || len(hash) < 16 || len(hash) > 64 {
		return h, ErrPHC
	}
	return phcHash{params: p, salt: salt, hash: hash}, nil
}
