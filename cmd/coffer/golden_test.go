package main

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/coffer-dav/coffer/account"
	"github.com/coffer-dav/coffer/encryption"
)

// TestGoldenConfirmationToken pins the confirmation code that the binary's
// lifecycle mails, for a fixed server secret, account and clock, to the one
// the code wrote before the token key was derived in encryption: codes
// already mailed must still confirm.
func TestGoldenConfirmationToken(t *testing.T) {
	ctx := context.Background()
	a, err := openApp(ctx, &config{data: privateDir(t), kdf: encryption.MinKDF}, openOptions{create: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	a.secret = make([]byte, 32)
	for i := range a.secret {
		a.secret[i] = byte(i)
	}
	clock := &fakeClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	a.now = clock.Now
	if a.life, err = newLifecycle(a, account.DefaultSettings(), nil, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		t.Fatal(err)
	}
	res, err := a.life.CreatePending(ctx, creator{a}, account.NewAccount{Username: "alice", Email: "alice@example.org", Password: "a long and unusual passphrase 42"})
	if err != nil {
		t.Fatal(err)
	}
	if want := "dsmbi2lkhun4s52rjkgahfar"; res.ConfirmationToken != want {
		t.Errorf("confirmation token: got %q, want %q", res.ConfirmationToken, want)
	}
}
