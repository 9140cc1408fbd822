package storage

import (
	"context"
	"errors"
	"testing"
)

// TestLoginCheckOutcomes: a check that is owed is made once, by an
// engine's Found or else by Settle's own read; it is stale when the stamp
// moved (unless any stamp holds) or the account is gone, and a failed
// read is no outcome.
func TestLoginCheckOutcomes(t *testing.T) {
	failed := errors.New("the read failed")
	tests := []struct {
		name        string
		owe         bool
		want        string // the stamp the login holds; "" any
		found       *string
		foundAcct   bool
		read        string
		readErr     error
		reads       int
		err         error
		staleCalled int
	}{
		{"nothing owed", false, "s", nil, false, "", nil, 0, nil, 0},
		{"found current", true, "s", ptr("s"), true, "", nil, 0, nil, 0},
		{"found moved", true, "s", ptr("t"), true, "", nil, 0, ErrStaleLogin, 1},
		{"found moved, any stamp holds", true, "", ptr("t"), true, "", nil, 0, nil, 0},
		{"found the account gone", true, "", ptr(""), false, "", nil, 0, ErrStaleLogin, 1},
		{"read current", true, "s", nil, false, "s", nil, 1, nil, 0},
		{"read moved", true, "s", nil, false, "t", nil, 1, ErrStaleLogin, 1},
		{"read the account gone", true, "s", nil, false, "", ErrNotFound, 1, ErrStaleLogin, 1},
		{"read failed", true, "s", nil, false, "", failed, 1, failed, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, c := WithLoginCheck(context.Background())
			if LoginCheckOf(ctx) != c {
				t.Fatal("the context does not carry the check")
			}
			reads, stale := 0, 0
			if tt.owe {
				c.Owe(7, tt.want, func(context.Context) (string, error) { reads++; return tt.read, tt.readErr }, func() { stale++ })
			}
			if got := c.Owed(7); got != tt.owe {
				t.Errorf("Owed(7) = %v, want %v", got, tt.owe)
			}
			if c.Owed(8) {
				t.Error("owed for another account")
			}
			if tt.found != nil {
				c.Found(*tt.found, tt.foundAcct)
				if c.Owed(7) {
					t.Error("still owed once found")
				}
			}
			for range 2 { // the second Settle reads nothing more
				if err := c.Settle(ctx); !errors.Is(err, tt.err) {
					t.Errorf("Settle = %v, want %v", err, tt.err)
				}
			}
			if tt.err == failed {
				tt.reads = 2 // a failed read leaves the check owed
			}
			if reads != tt.reads || stale != tt.staleCalled {
				t.Errorf("%d reads and %d stale calls, want %d and %d", reads, stale, tt.reads, tt.staleCalled)
			}
		})
	}
	if LoginCheckOf(context.Background()).Owed(1) {
		t.Error("a context without a check owes one")
	}
}

func ptr(s string) *string { return &s }
