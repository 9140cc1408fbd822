package webpush

import (
	"bytes"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
)

// The example of RFC 8291 §5 with its intermediate values (Appendix A),
// line wrapping removed as the appendix allows.
const (
	rfcPlaintext = "When I grow up, I want to be a watermelon"
	rfcASPublic  = "BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8"
	rfcASPrivate = "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw"
	rfcUAPublic  = "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4"
	rfcUAPrivate = "q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94"
	rfcSalt      = "DGv6ra1nlYgDCS1FRnbzlw"
	rfcAuth      = "BTBZMqHH6r4Tts7J_aSIgg"
	rfcECDH      = "kyrL1jIIOHEzg3sM2ZWRHDRB62YACZhhSlknJ672kSs"
	rfcCEK       = "oIhVW04MRdy2XN9CiKLxTg"
	rfcNonce     = "4h_95klXJ5E_qnoN"
	rfcHeader    = "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8"
	rfcCipher    = "8pfeW0KbunFT06SuDKoJH9Ql87S1QUrdirN6GcG7sFz1y1sqLgVi1VhjVkHsUoEsbI_0LpXMuGvnzQ"
	rfcBody      = "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27ml" +
		"mlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPT" +
		"pK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN"
)

func b64(t testing.TB, s string) []byte {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatalf("base64url %q: %v", s, err)
	}
	return b
}

func p256Private(t testing.TB, s string) *ecdh.PrivateKey {
	t.Helper()
	k, err := ecdh.P256().NewPrivateKey(b64(t, s))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// receiver is a user agent's side of a subscription, as a browser keeps it.
type receiver struct {
	priv *ecdh.PrivateKey
	auth []byte
}

func newReceiver(t testing.TB) receiver {
	t.Helper()
	priv, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	auth := make([]byte, AuthSize)
	rand.Read(auth)
	return receiver{priv: priv, auth: auth}
}

// TestRFC8291Example: with the RFC's fixed salt and ephemeral key, encrypt
// yields exactly the RFC's message, and every intermediate value the
// appendix prints along the way.
func TestRFC8291Example(t *testing.T) {
	as := p256Private(t, rfcASPrivate)
	if got := base64.RawURLEncoding.EncodeToString(as.PublicKey().Bytes()); got != rfcASPublic {
		t.Fatalf("as_public = %s, want %s", got, rfcASPublic)
	}
	ua, err := ecdh.P256().NewPublicKey(b64(t, rfcUAPublic))
	if err != nil {
		t.Fatal(err)
	}
	auth, salt := b64(t, rfcAuth), b64(t, rfcSalt)

	secret, err := as.ECDH(ua)
	if err != nil {
		t.Fatal(err)
	}
	cek, nonce, err := deriveKey(secret, auth, ua.Bytes(), as.PublicKey().Bytes(), salt)
	if err != nil {
		t.Fatal(err)
	}
	body, err := encrypt([]byte(rfcPlaintext), ua, auth, salt, as)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, got, want string }{
		{"ecdh_secret", enc(secret), rfcECDH},
		{"CEK", enc(cek), rfcCEK},
		{"NONCE", enc(nonce), rfcNonce},
		{"header", enc(body[:HeaderSize]), rfcHeader},
		{"ciphertext", enc(body[HeaderSize:]), rfcCipher},
		{"body", enc(body), rfcBody},
	} {
		if c.got != c.want {
			t.Errorf("%s = %s, want %s", c.name, c.got, c.want)
		}
	}
	// The example's request says Content-Length 145, but its body has
	// 86 + 41 + 1 + 16 = 144 bytes, which the body above pins already.
}

func enc(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// TestDecryptRFC8291Example: the user agent's side opens the RFC's message
// with the RFC's private key and secret, and only with those.
func TestDecryptRFC8291Example(t *testing.T) {
	body := b64(t, rfcBody)
	other := newReceiver(t)
	for _, c := range []struct {
		name    string
		priv    *ecdh.PrivateKey
		auth    []byte
		want    string
		wantErr error
	}{
		{"the RFC's keys", p256Private(t, rfcUAPrivate), b64(t, rfcAuth), rfcPlaintext, nil},
		{"another private key", other.priv, b64(t, rfcAuth), "", ErrDecrypt},
		{"another auth secret", p256Private(t, rfcUAPrivate), other.auth, "", ErrDecrypt},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := Decrypt(body, c.priv, c.auth)
			if !errors.Is(err, c.wantErr) || string(got) != c.want {
				t.Fatalf("Decrypt = %q, %v; want %q, %v", got, err, c.want, c.wantErr)
			}
		})
	}
}

// TestEncryptRoundTrip: what Encrypt seals, Decrypt opens, for lengths
// from empty to the longest a push service must take; each message has a
// fresh salt and key, so two encryptions of one message differ.
func TestEncryptRoundTrip(t *testing.T) {
	r := newReceiver(t)
	pub := r.priv.PublicKey().Bytes()
	for _, n := range []int{0, 1, 100, MaxPlaintext} {
		msg := bytes.Repeat([]byte{'x'}, n)
		a, err := Encrypt(msg, pub, r.auth)
		if err != nil {
			t.Fatalf("Encrypt(%d bytes): %v", n, err)
		}
		b, err := Encrypt(msg, pub, r.auth)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Equal(a, b) || bytes.Equal(a[:saltSize], b[:saltSize]) {
			t.Errorf("%d bytes: two encryptions share salt or bytes", n)
		}
		if len(a) != HeaderSize+n+1+tagSize || len(a) > recordSize {
			t.Errorf("%d bytes: body has %d bytes", n, len(a))
		}
		got, err := Decrypt(a, r.priv, r.auth)
		if err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("%d bytes: Decrypt = %d bytes, %v", n, len(got), err)
		}
	}
}

// TestEncryptRefuses: bad subscription keys and an oversized message are
// errors before anything is encrypted.
func TestEncryptRefuses(t *testing.T) {
	r := newReceiver(t)
	pub := r.priv.PublicKey().Bytes()
	offCurve := bytes.Clone(pub)
	offCurve[40] ^= 1
	for _, c := range []struct {
		name      string
		msg       []byte
		pub, auth []byte
	}{
		{"too long", make([]byte, MaxPlaintext+1), pub, r.auth},
		{"short auth", nil, pub, r.auth[:15]},
		{"long auth", nil, pub, append(bytes.Clone(r.auth), 0)},
		{"compressed key", nil, append([]byte{2}, pub[1:33]...), r.auth},
		{"point off the curve", nil, offCurve, r.auth},
		{"no key", nil, nil, r.auth},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := Encrypt(c.msg, c.pub, c.auth); err == nil {
				t.Fatal("Encrypt accepted it")
			}
			if c.msg == nil && CheckKeys(c.pub, c.auth) == nil {
				t.Fatal("CheckKeys accepted it")
			}
		})
	}
	if err := CheckKeys(pub, r.auth); err != nil {
		t.Fatalf("CheckKeys(good keys) = %v", err)
	}
}

// sealRecord builds a message with a record of the caller's making, to
// test what Decrypt accepts of messages Encrypt never writes.
func sealRecord(t *testing.T, r receiver, rs uint32, record []byte) []byte {
	t.Helper()
	eph, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	secret, err := eph.ECDH(r.priv.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	salt := make([]byte, saltSize)
	rand.Read(salt)
	aead, nonce, err := contentKey(secret, r.auth, r.priv.PublicKey().Bytes(), eph.PublicKey().Bytes(), salt)
	if err != nil {
		t.Fatal(err)
	}
	body := binary.BigEndian.AppendUint32(bytes.Clone(salt), rs)
	body = append(body, PublicKeySize)
	body = append(body, eph.PublicKey().Bytes()...)
	return aead.Seal(body, nonce, record, nil)
}

// TestDecryptMessages: Decrypt takes what RFC 8188 allows in one record
// (padding after the delimiter) and refuses everything else with
// ErrMessage, or ErrDecrypt when the record fails to authenticate.
func TestDecryptMessages(t *testing.T) {
	r := newReceiver(t)
	good, err := Encrypt([]byte("hello"), r.priv.PublicKey().Bytes(), r.auth)
	if err != nil {
		t.Fatal(err)
	}
	mutate := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	for _, c := range []struct {
		name    string
		body    []byte
		want    string
		wantErr error
	}{
		{"as sent", good, "hello", nil},
		{"padded", sealRecord(t, r, 4096, []byte("hello\x02\x00\x00\x00")), "hello", nil},
		{"empty, padded", sealRecord(t, r, 4096, []byte("\x02\x00")), "", nil},
		{"rs exactly the record", sealRecord(t, r, 6+tagSize, []byte("hello\x02")), "hello", nil},
		{"not the last record", sealRecord(t, r, 4096, []byte("hello\x01")), "", ErrMessage},
		{"no delimiter", sealRecord(t, r, 4096, []byte("hello")), "", ErrMessage},
		{"only zeros", sealRecord(t, r, 4096, []byte("\x00\x00")), "", ErrMessage},
		{"record longer than rs", sealRecord(t, r, 5+tagSize, []byte("hello\x02")), "", ErrMessage},
		{"rs below the minimum", sealRecord(t, r, 17, []byte("\x02")), "", ErrMessage},
		{"empty", nil, "", ErrMessage},
		{"header only", good[:HeaderSize], "", ErrMessage},
		{"header and a short record", good[:HeaderSize+tagSize], "", ErrMessage},
		{"truncated key id", good[:50], "", ErrMessage},
		{"key id length 64", mutate(func(b []byte) []byte { b[20] = 64; return b }), "", ErrMessage},
		{"key id not on the curve", mutate(func(b []byte) []byte { b[60] ^= 1; return b }), "", ErrMessage},
		{"altered salt", mutate(func(b []byte) []byte { b[0] ^= 1; return b }), "", ErrDecrypt},
		{"altered ciphertext", mutate(func(b []byte) []byte { b[HeaderSize] ^= 1; return b }), "", ErrDecrypt},
		{"altered tag", mutate(func(b []byte) []byte { b[len(b)-1] ^= 1; return b }), "", ErrDecrypt},
		{"a byte more", append(bytes.Clone(good), 0), "", ErrDecrypt},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := Decrypt(c.body, r.priv, r.auth)
			if !errors.Is(err, c.wantErr) || string(got) != c.want {
				t.Fatalf("Decrypt = %q, %v; want %q, %v", got, err, c.want, c.wantErr)
			}
		})
	}
}

// TestDecodeKey: keys are taken in base64url with or without padding, and
// in the standard alphabet; anything else is an error.
func TestDecodeKey(t *testing.T) {
	raw := b64(t, rfcUAPublic)
	std := base64.StdEncoding.EncodeToString(raw)
	for _, c := range []struct {
		in   string
		want []byte
	}{
		{rfcUAPublic, raw},
		{base64.URLEncoding.EncodeToString(raw), raw},
		{std, raw},
		{" " + rfcAuth + "\n", b64(t, rfcAuth)},
		{"", []byte{}},
		{"not base64!", nil},
		{"A", nil},
		{strings.Replace(rfcUAPublic, "_", "/", 1), nil}, // both alphabets at once
	} {
		got, err := DecodeKey(c.in)
		if c.want == nil {
			if err == nil {
				t.Errorf("DecodeKey(%q) = %x, want an error", c.in, got)
			}
			continue
		}
		if err != nil || !bytes.Equal(got, c.want) {
			t.Errorf("DecodeKey(%q) = %x, %v", c.in, got, err)
		}
	}
}

// FuzzDecrypt: no received body makes Decrypt panic, and what it opens is
// shorter than the body by at least the header, delimiter and tag.
func FuzzDecrypt(f *testing.F) {
	body, _ := base64.RawURLEncoding.DecodeString(rfcBody)
	f.Add(body)
	f.Add(body[:HeaderSize])
	f.Add(body[:21])
	f.Add([]byte{})
	priv, _ := ecdh.P256().NewPrivateKey(mustDecode(rfcUAPrivate))
	auth := mustDecode(rfcAuth)
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := Decrypt(b, priv, auth)
		if err == nil && len(got) > len(b)-HeaderSize-1-tagSize {
			t.Fatalf("opened %d bytes from a %d-byte body", len(got), len(b))
		}
		if err != nil && !errors.Is(err, ErrMessage) && !errors.Is(err, ErrDecrypt) {
			t.Fatalf("unexpected error %v", err)
		}
	})
}

// FuzzDecodeKey: no string makes DecodeKey panic.
func FuzzDecodeKey(f *testing.F) {
	f.Add(rfcUAPublic)
	f.Add(rfcAuth + "==")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		if b, err := DecodeKey(s); err == nil && len(b) > len(s) {
			t.Fatalf("decoded %d bytes from %d characters", len(b), len(s))
		}
	})
}

func mustDecode(s string) []byte {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}
