package auth

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// TestCheckPasswordRefusesCommonOnes: common, patterned and account-derived
// passwords are refused, unusual ones pass, and a long one is judged fast.
func TestCheckPasswordRefusesCommonOnes(t *testing.T) {
	for _, tt := range []struct {
		password string
		hints    []string
		ok       bool
	}{
		{"password", nil, false},
		{"password1", nil, false},
		{"12345678", nil, false},
		{"qwertyuiop", nil, false},
		{"Password123!", nil, false},
		{"iloveyou1", nil, false},
		{"letmein!", nil, false},
		{"hunter2hunter2", nil, false},
		{"aaaaaaaaaaaa", nil, false},
		{"19871987", nil, false},
		{"short", nil, false},
		{"p@ssw0rd", nil, false},
		{"Dragon2024!", nil, false},
		{"!!monkey!!", nil, false},
		{"abcdefgh", nil, false},
		{"87654321", nil, false},
		{"abcabcabcabc", nil, false},
		{"11223344556", nil, false},
		{"847299315520", nil, true},
		{"bob-password", nil, true},
		{"bob-password", []string{"bob", "bob@example.org", ""}, false},
		{"alice@example.org", []string{"alice", "alice@example.org", "Alice"}, false},
		{"Alice Smith 1990", []string{"asmith", "a@example.org", "Alice Smith"}, false},
		{"correct horse battery", nil, true},
		{"long enough password", nil, true},
		{"Tr0ub4dor&3", nil, true},
		{"marzipan-lighthouse", nil, true},
		// The account's own details help guessing.
		{"zorbaquint17", nil, true},
		{"zorbaquint17", []string{"zorbaquint", "zq@example.org", ""}, false},
		{"zorbaquint17", []string{"someone", "zorba.quint@example.org", "Zorba Quint"}, false},
		{strings.Repeat("x", 1025), nil, false},
	} {
		err := CheckPassword(tt.password, tt.hints...)
		if (err == nil) != tt.ok {
			t.Errorf("CheckPassword(%.20q, %q) = %v, want ok %v", tt.password, tt.hints, err, tt.ok)
		}
	}
	start := time.Now()
	if err := CheckPassword(strings.Repeat("ab1!xY", 170)); err != nil {
		t.Errorf("a long varied password: %v", err)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("checking a 1020-character password took %v", took)
	}
}

// TestNewRecoveryCode: a new code replaces the old one at once; the
// password still works and the user key is the same; an app password's
// login gets none.
func TestNewRecoveryCode(t *testing.T) {
	ctx := context.Background()
	st := slotStore{&memStore{creds: map[string]*Credentials{}}}
	s, code := newRecoveryService(t, st, nil)
	id, err := s.Login(ctx, "alice", "alice-password")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.NewRecoveryCode(ctx, &Identity{AccountID: 1, Username: "alice", Keys: id.Keys, AppPassword: "x"}); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("app password login: %v, want ErrBadCredentials", err)
	}
	newCode, err := s.NewRecoveryCode(ctx, id)
	if err != nil || newCode == "" || NormalizeSecret(newCode) == NormalizeSecret(code) {
		t.Fatalf("NewRecoveryCode = %q, %v", newCode, err)
	}
	for _, tt := range []struct {
		name, secret string
		unlock, ok   bool
	}{
		{"old code", code, true, false},
		{"new code", newCode, true, true},
		{"password", "alice-password", false, true},
	} {
		svc := serviceOver(t, st, nil)
		var got *Identity
		if tt.unlock {
			got, err = svc.Unlock(ctx, "alice", tt.secret)
		} else {
			got, err = svc.Login(ctx, "alice", tt.secret)
		}
		switch {
		case tt.ok && (err != nil || !bytes.Equal(got.Keys.UserKey(), id.Keys.UserKey())):
			t.Errorf("%s: %v, want the same user key", tt.name, err)
		case !tt.ok && !errors.Is(err, ErrBadCredentials):
			t.Errorf("%s: %v, want ErrBadCredentials", tt.name, err)
		}
	}
}
