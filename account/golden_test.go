package account

import (
	"testing"
	"time"

	"github.com/coffer-dav/coffer/encryption"
	"github.com/coffer-dav/coffer/storage"
)

// goldenLifecycle is a Lifecycle whose token key comes from a fixed server
// secret (32 bytes 0x00..0x1f) the way cmd/coffer derives it.
func goldenLifecycle(t *testing.T) *Lifecycle {
	t.Helper()
	secret := make([]byte, 32)
	for i := range secret {
		secret[i] = byte(i)
	}
	key, err := encryption.Derive(secret, encryption.AccountTokens)
	if err != nil {
		t.Fatal(err)
	}
	return &Lifecycle{o: Options{TokenKey: key, Now: time.Now}}
}

// TestGoldenTokens pins the confirmation codes and e-mail change tokens to
// the bytes the code wrote before the key derivations moved to encryption:
// they are in people's mailboxes, and must still be accepted.
func TestGoldenTokens(t *testing.T) {
	l := goldenLifecycle(t)
	r := &storage.LifecycleRecord{AccountID: 7, Username: "alice", Registered: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	expires := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct{ name, got, want string }{
		{"confirmation", l.token(r), "o5drizrhusjkt4rkrbsuvkgi"},
		{"e-mail change", l.emailToken(7, "alice@example.org", "alice@example.net", expires), "AAAAAAAAAAcAAAAAaaV7wGFsaWNlQGV4YW1wbGUubmV0RzDxX5s6RohFMpLVSLg1FQ"},
	} {
		if c.got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, c.got, c.want)
		}
	}
}
