// Package webpush encrypts and decrypts Web Push messages (RFC 8291, with
// the aes128gcm content coding of RFC 8188 in one record) and signs and
// verifies VAPID tokens (RFC 8292: an ES256 JWT and the "vapid"
// Authorization scheme). Both sides are here: the application server's,
// which Coffer runs, and the push service's and user agent's, which tests
// and the test push service run.
//
// Built on the standard library (crypto/ecdh, crypto/hkdf, crypto/aes with
// cipher.NewGCM, crypto/ecdsa) rather than a Web Push library. The one most
// used in Go, github.com/SherClockHolmes/webpush-go, was read first: it
// generates the ephemeral key and salt inside its send function, so RFC 8291
// Appendix A cannot be reproduced through it; it has no decrypting side for
// a test push service; it sends with a bare http.Client (no timeout, follows
// redirects, dials any address), so its sending part would be replaced
// anyway; it pads every message to 4 KiB; and it adds a JWT library that
// Coffer does not otherwise need. What is left, the cryptography, is about
// two hundred lines over primitives the standard library already has, each
// checked here against the RFC's example.
package webpush
