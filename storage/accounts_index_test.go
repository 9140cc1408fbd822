package storage

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

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
