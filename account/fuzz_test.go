package account

import (
	"testing"
	"time"
)

// FuzzParseEmailToken: whatever a link carries, parsing never panics, and
// what it accepts names an account and a valid address; a token the
// lifecycle wrote reads back as written.
func FuzzParseEmailToken(f *testing.F) {
	l := &Lifecycle{o: Options{TokenKey: testKey}}
	good := l.emailToken(42, "old@example.org", "new@example.org", time.Unix(1800000000, 0))
	for _, seed := range []string{good, good[:len(good)-1], "", "AAAA", "////", good + "A", " " + good} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, token string) {
		account, expires, email, ok := parseEmailToken(token)
		if !ok {
			return
		}
		if account <= 0 || CheckEmail(email) != nil {
			t.Fatalf("%q read as account %d, address %q", token, account, email)
		}
		if token == good && (account != 42 || email != "new@example.org" || expires.Unix() != 1800000000) {
			t.Fatalf("the lifecycle's own token read as %d %q %v", account, email, expires)
		}
	})
}
