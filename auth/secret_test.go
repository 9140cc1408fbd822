package auth

import (
	"context"
	"errors"
	"testing"
)

// TestOtherSecretConfirmsNoPassword: the account records alone (here, a
// service over them with another server secret) cannot tell the correct
// password from a wrong one: both get the same ErrBadCredentials, after
// one Argon2 run each, as an unknown username does.
func TestOtherSecretConfirmsNoPassword(t *testing.T) {
	_, st := newTestService(t, Options{})
	other := make([]byte, 32)
	other[0] = 1
	s, err := New(st, Options{KDF: testKDF, ServerSecret: other})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var answers []string
	for _, tt := range []struct{ user, password string }{
		{"alice", "alice-password"},
		{"alice", "wrong-password"},
		{"nobody-such", "alice-password"},
	} {
		before := s.Argon2Runs()
		_, err := s.Login(ctx, tt.user, tt.password)
		if !errors.Is(err, ErrBadCredentials) {
			t.Errorf("%s with %s under another secret: %v, want ErrBadCredentials", tt.user, tt.password, err)
			continue
		}
		if got := s.Argon2Runs() - before; got != 1 {
			t.Errorf("%s with %s: %d Argon2 runs, want 1", tt.user, tt.password, got)
		}
		answers = append(answers, err.Error())
	}
	for _, a := range answers[1:] {
		if a != answers[0] {
			t.Errorf("answers differ under another secret: %q", answers)
		}
	}
}
