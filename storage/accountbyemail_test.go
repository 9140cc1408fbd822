package storage

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coffer-dav/coffer/encryption"
)

// TestAccountByEmail: an address finds its one account whatever its case;
// an unknown address, an empty one, or one that two accounts share finds
// none, so that sign-in by address never picks one of two.
func TestAccountByEmail(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "coffer.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, a := range []struct{ user, email string }{
		{"alice", "Alice@Example.org"},
		{"bob", "bob@example.org"},
		{"carol", "shared@example.org"},
		{"dave", "SHARED@example.org"},
		{"erin", ""},
		{"frank", ""},
	} {
		if _, err := db.CreateAccount(ctx, NewAccount{Username: a.user, Email: a.email,
			Slots: func(int64) (map[string]encryption.Slot, error) { return nil, nil }}); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct {
		email, want string // want: the username, or "" for ErrNotFound
	}{
		{"Alice@Example.org", "alice"},
		{"alice@example.org", "alice"},
		{"ALICE@EXAMPLE.ORG", "alice"},
		{"bob@example.org", "bob"},
		{"bob@example.org ", ""},
		{"bob@example", ""},
		{"nobody@example.org", ""},
		{"shared@example.org", ""},
		{"", ""},
		{"%@example.org", ""},
	} {
		a, err := db.AccountByEmail(ctx, tt.email)
		switch {
		case tt.want == "" && !errors.Is(err, ErrNotFound):
			t.Errorf("%q: %v, %v; want ErrNotFound", tt.email, a, err)
		case tt.want != "" && (err != nil || a.Username != tt.want):
			t.Errorf("%q: %v, %v; want %s", tt.email, a, err, tt.want)
		}
	}
}

// TestAccountByEmailUsesIndex: the lookup by address reads the index of
// migration 0012, not every account.
func TestAccountByEmailUsesIndex(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "coffer.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.read.QueryContext(ctx, `EXPLAIN QUERY PLAN `+accountByEmail, "a@example.org")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if len(plan) != 1 || !strings.Contains(plan[0], "USING INDEX accounts_email") {
		t.Fatalf("query plan %q: want a search of accounts_email", plan)
	}
}
