package encryption

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"testing"
)

// goldenSecret is a fixed server secret: 32 bytes 0x00..0x1f.
func goldenSecret() []byte {
	b := make([]byte, KeySize)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

// TestDeriveGolden pins each purpose's key to the derivation that auth and
// cmd/coffer used before it moved here (HKDF-SHA256 with the old info
// strings; HMAC-SHA256 of the old label for account tokens), through the
// MAC of a fixed message. The expected values were computed apart, with
// Python's hmac module.
func TestDeriveGolden(t *testing.T) {
	for _, c := range []struct {
		name string
		p    Purpose
		want string
	}{
		{"SessionID", SessionID, "2feec2ed770cef8e8cff1fe22522c76a291b76ad702bc33b531a96b622c9a96b"},
		{"AppPasswordVerifier", AppPasswordVerifier, "d18ca10da88930db84d5a642c8a388be34719eca1d01760759309e874f705f59"},
		{"AccountTokens", AccountTokens, "28d8fe47d71bef38d70b67e9b00bcb4d8da663f4aa3255e2cb78c0b4a6d7c763"},
		{"ThrottleID", ThrottleID, "01f7c92af67139085fd99282227d64e3ea22c98c9c780a54853e0157a79e6406"},
		{"PushOutbox", PushOutbox, "afacc2d82dd7cc531e02220d3bdfb7e10b625dabfaf5a5dd3d0e83f5784bdf93"},
	} {
		k, err := Derive(goldenSecret(), c.p)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		m := k.NewHash()
		m.Write([]byte("message"))
		if got := hex.EncodeToString(m.Sum(nil)); got != c.want {
			t.Errorf("%s: got %s, want %s", c.name, got, c.want)
		}
	}
}

// TestSumGolden pins Sum's layout: each part with a 4-byte big-endian length.
func TestSumGolden(t *testing.T) {
	k, err := Derive(goldenSecret(), SessionID)
	if err != nil {
		t.Fatal(err)
	}
	const want = "1571cd4aec7167d197d14c57d54c09ece251800ec0fd8d9b2ff31231d444533d"
	if got := hex.EncodeToString(k.Sum([]byte("a"), []byte("bc"), nil)); got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	if bytes.Equal(k.Sum([]byte("ab"), []byte("c")), k.Sum([]byte("a"), []byte("bc"))) {
		t.Error("parts split differently hash alike")
	}
}

// TestFormTokenGolden pins the form token to HMAC-SHA256("coffer/v1/csrf") under the session id.
func TestFormTokenGolden(t *testing.T) {
	const want = "3d7338164060f034ceee6a21e3801b6735493918789d972b941f42b205d1e808"
	if got := hex.EncodeToString(FormToken([]byte("session-id"))); got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

// TestDeriveSeparates: purposes and secrets give different keys.
func TestDeriveSeparates(t *testing.T) {
	other := goldenSecret()
	other[0] ^= 1
	seen := map[string]string{}
	for _, secret := range [][]byte{goldenSecret(), other} {
		for _, p := range []Purpose{SessionID, AppPasswordVerifier, AccountTokens, SecretCheck, ThrottleID, PushOutbox} {
			k, err := Derive(secret, p)
			if err != nil {
				t.Fatal(err)
			}
			sum := string(k.Sum([]byte("x")))
			if prev, ok := seen[sum]; ok {
				t.Errorf("purpose %d of secret %x keys like %s", p, secret[0], prev)
			}
			seen[sum] = fmt.Sprintf("purpose %d of secret %x", p, secret[0])
		}
	}
}

// TestDeriveRefuses: a short secret or an unknown purpose derives nothing.
func TestDeriveRefuses(t *testing.T) {
	if _, err := Derive(make([]byte, KeySize-1), SessionID); err == nil {
		t.Error("a 31-byte secret was accepted")
	}
	if _, err := Derive(goldenSecret(), 0); err == nil {
		t.Error("purpose 0 was accepted")
	}
	if _, err := Derive(goldenSecret(), PushOutbox+1); err == nil {
		t.Error("an unknown purpose was accepted")
	}
}

// TestMACKeyZero: the zero key is reported, and refuses to hash rather than
// hashing under an empty key.
func TestMACKeyZero(t *testing.T) {
	var k MACKey
	if !k.IsZero() {
		t.Fatal("the zero MACKey is not zero")
	}
	if RandomMACKey().IsZero() {
		t.Fatal("a random key is zero")
	}
	defer func() {
		if recover() == nil {
			t.Error("the zero MACKey hashed")
		}
	}()
	k.NewHash()
}

// TestRandomMACKey: two random keys differ.
func TestRandomMACKey(t *testing.T) {
	a, b := RandomMACKey(), RandomMACKey()
	if bytes.Equal(a.Sum([]byte("x")), b.Sum([]byte("x"))) {
		t.Error("two random keys hash alike")
	}
}

// TestDeriveKeyring: the push outbox's keyring opens what it sealed, a
// keyring of another secret does not, and a non-HKDF purpose keys none.
func TestDeriveKeyring(t *testing.T) {
	k, err := DeriveKeyring(goldenSecret(), PushOutbox)
	if err != nil {
		t.Fatal(err)
	}
	ad := AD{User: 7, Field: "outbox"}
	sealed := k.Seal(ad, []byte("retry"))
	if got, err := k.Open(ad, sealed); err != nil || string(got) != "retry" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	other := goldenSecret()
	other[0] ^= 1
	k2, err := DeriveKeyring(other, PushOutbox)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k2.Open(ad, sealed); err == nil {
		t.Fatal("another secret's keyring opened the record")
	}
	if _, err := DeriveKeyring(goldenSecret(), AccountTokens); err == nil {
		t.Fatal("a keyring of the HMAC purpose")
	}
}
