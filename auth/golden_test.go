package auth

import (
	"encoding/hex"
	"testing"
)

// goldenSecret is the server secret of the golden tests: 32 bytes 0x00..0x1f.
func goldenSecret() []byte {
	b := make([]byte, 32)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

// TestGoldenDerivations pins what auth stores and sends to the bytes the
// code wrote before the key derivations moved to encryption: app-password
// verifiers and session id hashes are in databases, and form tokens are in
// open pages, so none may change.
func TestGoldenDerivations(t *testing.T) {
	s, _ := newTestService(t, Options{ServerSecret: goldenSecret()})
	for _, c := range []struct{ name, got, want string }{
		{"app verifier", hex.EncodeToString(s.appVerifier(42, "8T3QAZW", "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")), "04bf45dcea32e5a41a83964588c867297c3fa1a685bed8228e3597a1ad38a259"},
		{"app verifier 2", hex.EncodeToString(s.appVerifier(-1, "", "")), "177b39977adbda28ea9a9a3be80d3c318fd3ab85baddf5588c1441264187cbb7"},
		{"session id MAC", hex.EncodeToString(s.sessions.idMAC("q1w2e3r4t5y6u7i8o9p0a1s2d3f4g5h6j7k8l9z0x1c")), "3f25f14c2e078a4c850ba79ce583405615ce8da07cf67faedbd83c3739c29d9a"},
		{"form token", csrfToken("q1w2e3r4t5y6u7i8o9p0a1s2d3f4g5h6j7k8l9z0x1c"), "RUy4Px_zIvykQvCiKqA856MZ1bkgJVG4OynzOgdU5PI"},
	} {
		if c.got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, c.got, c.want)
		}
	}
}
