package auth

import (
	"bytes"
	"testing"
)

// TestAppVerifierNeedsServerSecret: an app password's stored verifier is
// keyed by the server secret, so the database alone cannot confirm a guess
// of it. Replacing the verifier key with a constant fails this test.
func TestAppVerifierNeedsServerSecret(t *testing.T) {
	verifier := func(secret byte) []byte {
		key := bytes.Repeat([]byte{secret}, 32)
		st := &appStore{memStore: &memStore{creds: map[string]*Credentials{}}, apps: map[int64][]StoredAppPassword{}}
		s, err := New(st, Options{KDF: testKDF, ServerSecret: key})
		if err != nil {
			t.Fatal(err)
		}
		return s.appVerifier(7, "app-id", NormalizeSecret("abcd-efgh-ijkl-mnop"))
	}
	a, b := verifier(1), verifier(2)
	if bytes.Equal(a, b) {
		t.Fatalf("two server secrets give the same verifier %x", a)
	}
	if again := verifier(1); !bytes.Equal(a, again) {
		t.Fatalf("one server secret gives two verifiers: %x, %x", a, again)
	}
}
