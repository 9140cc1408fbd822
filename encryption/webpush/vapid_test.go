package webpush

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The example of RFC 8292 §2.4: a token signed by a key the RFC does not
// publish, and its public key.
const (
	rfcToken = "eyJ0eXAiOiJKV1QiLCJhbGciOiJFUzI1NiJ9.eyJhdWQiOiJodHRwczovL3B1c2guZXhhbXBsZS5uZXQiLCJleHAiOjE0NTM1MjM3NjgsInN1YiI6Im1haWx0bzpwdXNoQGV4YW1wbGUuY29tIn0.i3CYb7t4xfxCDquptFOepC9GAu_HLGkMlMuCGSK2rpiUfnK9ojFwDXb1JrErtmysazNjjvW2L9OkSSHzvoD1oA"
	rfcKey   = "BA1Hxzyi1RUM1b5wjxsn7nGxAszw2u61m164i3MrAIxHF6YK5h4SDYic-dRuU_RCPCfA5aq9ojSwk5Y2EmClBPs"
	rfcExp   = 1453523768
)

func mustVAPIDKey(t testing.TB) *VAPIDKey {
	t.Helper()
	k, err := GenerateVAPIDKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestVerifyRFC8292Example: the verifier accepts the RFC's token, signed
// elsewhere, with the RFC's key and claims, in the day before it expires.
func TestVerifyRFC8292Example(t *testing.T) {
	h := "vapid t=" + rfcToken + ", k=" + rfcKey
	tok, key, err := ParseAuthorization(h)
	if err != nil || tok != rfcToken || !bytes.Equal(key, b64(t, rfcKey)) {
		t.Fatalf("ParseAuthorization = %q, %x, %v", tok, key, err)
	}
	c, err := VerifyToken(tok, key, time.Unix(rfcExp-3600, 0))
	if err != nil {
		t.Fatal(err)
	}
	want := Claims{Audience: "https://push.example.net", Subject: "mailto:push@example.com", Expires: time.Unix(rfcExp, 0)}
	if c != want {
		t.Fatalf("claims = %+v, want %+v", c, want)
	}
}

// TestVAPIDAuthorization: the header Authorization writes parses, its key
// is the server's, and its token verifies with that key and names the
// push resource's origin, the contact and an expiry inside 24 hours.
func TestVAPIDAuthorization(t *testing.T) {
	k := mustVAPIDKey(t)
	now := time.Unix(1_800_000_000, 0)
	h, err := k.Authorization("https://Push.Example.net:443/wpush/v2/abc?x=1", "mailto:ops@example.org", now)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "vapid t=") || !strings.Contains(h, ", k="+k.PublicKeyString()) {
		t.Fatalf("header %q", h)
	}
	tok, key, err := ParseAuthorization(h)
	if err != nil || !bytes.Equal(key, k.PublicKey()) || len(key) != PublicKeySize {
		t.Fatalf("ParseAuthorization = %x, %v", key, err)
	}
	c, err := VerifyToken(tok, key, now)
	if err != nil {
		t.Fatal(err)
	}
	want := Claims{Audience: "https://push.example.net", Subject: "mailto:ops@example.org", Expires: now.Add(TokenLifetime)}
	if c != want {
		t.Fatalf("claims = %+v, want %+v", c, want)
	}
	if head, _, _ := strings.Cut(tok, "."); head != jwtHeader {
		t.Fatalf("JOSE header %s", head)
	}
}

// TestVerifyTokenRefuses: a token altered anywhere, signed by another key,
// with another algorithm, expired, or valid for more than 24 hours fails.
func TestVerifyTokenRefuses(t *testing.T) {
	k, other := mustVAPIDKey(t), mustVAPIDKey(t)
	now := time.Unix(1_800_000_000, 0)
	sign := func(c Claims) string {
		tok, err := k.Token(c)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	good := sign(Claims{Audience: "https://push.example.net", Subject: "mailto:a@example.org", Expires: now.Add(time.Hour)})
	parts := strings.Split(good, ".")
	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	claims := func(json string) string { return base64.RawURLEncoding.EncodeToString([]byte(json)) }
	noneHeader := base64.RawURLEncoding.EncodeToString([]byte(`{"typ":"JWT","alg":"none"}`))
	for _, c := range []struct {
		name  string
		token string
		key   []byte
		now   time.Time
	}{
		{"altered claims", parts[0] + "." + flip(parts[1], 5) + "." + parts[2], k.PublicKey(), now},
		{"altered header", flip(parts[0], 3) + "." + parts[1] + "." + parts[2], k.PublicKey(), now},
		{"altered signature", parts[0] + "." + parts[1] + "." + flip(parts[2], 10), k.PublicKey(), now},
		{"claims of another token", parts[0] + "." + claims(`{"aud":"https://evil.example","exp":1800003600}`) + "." + parts[2], k.PublicKey(), now},
		{"alg none", noneHeader + "." + parts[1] + ".", k.PublicKey(), now},
		{"alg none, signature kept", noneHeader + "." + parts[1] + "." + parts[2], k.PublicKey(), now},
		{"another key", good, other.PublicKey(), now},
		{"no key", good, nil, now},
		{"key off the curve", good, append([]byte{4}, make([]byte, 64)...), now},
		{"expired", good, k.PublicKey(), now.Add(time.Hour)},
		{"valid too long", sign(Claims{Audience: "https://push.example.net", Subject: "mailto:a@example.org", Expires: now.Add(MaxTokenLifetime + time.Second)}), k.PublicKey(), now},
		{"two parts", parts[0] + "." + parts[1], k.PublicKey(), now},
		{"four parts", good + ".x", k.PublicKey(), now},
		{"short signature", parts[0] + "." + parts[1] + "." + parts[2][:80], k.PublicKey(), now},
		{"empty", "", k.PublicKey(), now},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got, err := VerifyToken(c.token, c.key, c.now); !errors.Is(err, ErrToken) {
				t.Fatalf("VerifyToken = %+v, %v; want ErrToken", got, err)
			}
		})
	}
	if _, err := VerifyToken(good, k.PublicKey(), now); err != nil {
		t.Fatalf("the untouched token: %v", err)
	}
	if _, err := VerifyToken(good, k.PublicKey(), now.Add(time.Hour-time.Second)); err != nil {
		t.Fatalf("a second before expiry: %v", err)
	}
}

// TestParseAuthorization: the "vapid" scheme with its t and k parameters,
// in any order and spacing; other schemes and missing parameters fail.
func TestParseAuthorization(t *testing.T) {
	for _, c := range []struct {
		in string
		ok bool
	}{
		{"vapid t=" + rfcToken + ", k=" + rfcKey, true},
		{"vapid k=" + rfcKey + ",t=" + rfcToken, true},
		{"Vapid  t=\"" + rfcToken + "\" , k=" + rfcKey + "==", true},
		{"vapid t=" + rfcToken, false},
		{"vapid k=" + rfcKey, false},
		{"WebPush " + rfcToken, false},
		{"Bearer t=" + rfcToken + ", k=" + rfcKey, false},
		{"vapid t=" + rfcToken + ", k=not*base64", false},
		{"vapid t=" + rfcToken + ", junk, k=" + rfcKey, false},
		{"", false},
	} {
		tok, key, err := ParseAuthorization(c.in)
		if c.ok != (err == nil) {
			t.Errorf("ParseAuthorization(%q) = %v", c.in, err)
			continue
		}
		if c.ok && (tok != rfcToken || !bytes.Equal(key, b64(t, rfcKey))) {
			t.Errorf("ParseAuthorization(%q) = %q, %x", c.in, tok, key)
		}
	}
}

// TestTokenRefusesClaims: no token without an audience, an expiry, or a
// contact that is a mailto: or https: URI.
func TestTokenRefusesClaims(t *testing.T) {
	k := mustVAPIDKey(t)
	exp := time.Unix(1_800_000_000, 0)
	for _, c := range []struct {
		name string
		c    Claims
		ok   bool
	}{
		{"mailto", Claims{"https://p.example", "mailto:ops@example.org", exp}, true},
		{"https", Claims{"https://p.example", "https://coffer.example/contact", exp}, true},
		{"bare address", Claims{"https://p.example", "ops@example.org", exp}, false},
		{"http", Claims{"https://p.example", "http://coffer.example", exp}, false},
		{"empty mailto", Claims{"https://p.example", "mailto:", exp}, false},
		{"no contact", Claims{"https://p.example", "", exp}, false},
		{"no audience", Claims{"", "mailto:ops@example.org", exp}, false},
		{"no expiry", Claims{"https://p.example", "mailto:ops@example.org", time.Time{}}, false},
	} {
		if _, err := k.Token(c.c); (err == nil) != c.ok {
			t.Errorf("%s: Token = %v", c.name, err)
		}
	}
}

// TestOrigin: the audience is the push resource's origin (RFC 6454), the
// default port left out.
func TestOrigin(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"https://fcm.googleapis.com/fcm/send/abc:def", "https://fcm.googleapis.com"},
		{"https://updates.push.services.mozilla.com:443/wpush/v2/x", "https://updates.push.services.mozilla.com"},
		{"https://push.example.net:8443/p/1", "https://push.example.net:8443"},
		{"HTTPS://PUSH.example.NET/p", "https://push.example.net"},
		{"http://127.0.0.1:41234/push/1", "http://127.0.0.1:41234"},
		{"http://127.0.0.1:80/push/1", "http://127.0.0.1"},
		{"http://[::1]:8080/push", "http://[::1]:8080"},
		{"ftp://push.example.net/", ""},
		{"/relative", ""},
		{"https://", ""},
	} {
		got, err := Origin(c.in)
		if got != c.want || (err != nil) != (c.want == "") {
			t.Errorf("Origin(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}

// TestVAPIDKeyFile: a key survives MarshalPEM, ParseVAPIDKey and
// LoadVAPIDKey; a missing file is os.ErrNotExist; other keys and files
// are refused.
func TestVAPIDKeyFile(t *testing.T) {
	k := mustVAPIDKey(t)
	b, err := k.MarshalPEM()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "vapid.key")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	back, err := LoadVAPIDKey(path)
	if err != nil || !bytes.Equal(back.PublicKey(), k.PublicKey()) {
		t.Fatalf("LoadVAPIDKey = %v", err)
	}
	// The loaded key signs what the original's public key verifies.
	tok, err := back.Token(Claims{"https://p.example", "mailto:a@example.org", time.Unix(1_800_000_000, 0)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := VerifyToken(tok, k.PublicKey(), time.Unix(1_799_999_000, 0)); err != nil {
		t.Fatalf("the loaded key's token: %v", err)
	}
	if _, err := LoadVAPIDKey(filepath.Join(t.TempDir(), "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}

	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 1024)
	pkcs8 := func(key any) []byte {
		der, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			t.Fatal(err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	}
	block, _ := pem.Decode(b)
	for _, c := range []struct {
		name string
		in   []byte
	}{
		{"P-384", pkcs8(p384)},
		{"RSA", pkcs8(rsaKey)},
		{"other block type", pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: block.Bytes})},
		{"two blocks", append(bytes.Clone(b), b...)},
		{"garbage", []byte("not a key")},
		{"empty", nil},
		{"damaged DER", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: block.Bytes[:40]})},
	} {
		if _, err := ParseVAPIDKey(c.in); err == nil {
			t.Errorf("%s: ParseVAPIDKey accepted it", c.name)
		}
	}
}

// FuzzVerifyAuthorization: no Authorization header a push service
// receives makes parsing or verification panic.
func FuzzVerifyAuthorization(f *testing.F) {
	f.Add("vapid t=" + rfcToken + ", k=" + rfcKey)
	f.Add("vapid t=a.b.c, k=AAAA")
	f.Add("vapid ,,,=")
	now := time.Unix(rfcExp-60, 0)
	f.Fuzz(func(t *testing.T, h string) {
		tok, key, err := ParseAuthorization(h)
		if err != nil {
			return
		}
		if c, err := VerifyToken(tok, key, now); err == nil && (c.Audience == "" || !c.Expires.After(now)) {
			t.Fatalf("verified claims %+v", c)
		}
	})
}
