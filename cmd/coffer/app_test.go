package main

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coffer-dav/coffer/encryption"
)

// TestDatabaseAndSecretCannotOpenUserKey: an attacker holding the database
// file and the server secret, but neither the password nor the recovery
// code, cannot unwrap any key slot, whatever they try as the credential.
func TestDatabaseAndSecretCannotOpenUserKey(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	c := &config{data: dir, kdf: encryption.MinKDF}
	a, err := openApp(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	u, err := a.createUser(ctx, newUser{username: "alice", email: "alice@example.org", password: "correct horse battery"})
	if err != nil {
		t.Fatal(err)
	}
	a.Close()

	// What the attacker has: the files.
	secret, err := os.ReadFile(filepath.Join(dir, secretFile))
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(dir, "coffer.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var phc, email string
	if err := db.QueryRow(`SELECT password_phc, email FROM accounts WHERE id = ?`, u.account.ID).Scan(&phc, &email); err != nil {
		t.Fatal(err)
	}
	rows, err := db.Query(`SELECT kind, kdf, wrapped FROM key_slots WHERE account_id = ?`, u.account.ID)
	if err != nil {
		t.Fatal(err)
	}
	slots := map[string]encryption.Slot{}
	for rows.Next() {
		var kind string
		var s encryption.Slot
		if err := rows.Scan(&kind, &s.KDF, &s.Wrapped); err != nil {
			t.Fatal(err)
		}
		slots[kind] = s
	}
	rows.Close()
	if len(slots) != 2 {
		t.Fatalf("slots: %v", slots)
	}
	// Everything in the files that could stand in for a credential.
	guesses := []string{"", "alice", email, phc, string(secret), strings.Split(phc, "$")[5], slots["password"].KDF, string(slots["password"].Wrapped), string(slots["recovery"].Wrapped)}
	for kind, slot := range slots {
		for _, g := range guesses {
			if _, err := encryption.Unwrap(slot, []byte(g), secret, encryption.SlotAD(u.account.ID, kind)); err == nil {
				t.Fatalf("slot %s opened with %q and the server secret", kind, g)
			}
		}
	}
	// The real credentials do open it, so the guesses failed for the right reason.
	key, err := encryption.Unwrap(slots["password"], []byte("correct horse battery"), secret, encryption.SlotAD(u.account.ID, "password"))
	if err != nil {
		t.Fatal(err)
	}
	key2, err := encryption.Unwrap(slots["recovery"], []byte(strings.ReplaceAll(u.recoveryCode, "-", "")), secret, encryption.SlotAD(u.account.ID, "recovery"))
	if err != nil || string(key) != string(key2) {
		t.Fatalf("recovery code does not open the same key: %v", err)
	}
}

func TestUsernameRules(t *testing.T) {
	ctx := context.Background()
	a, err := openApp(ctx, &config{data: t.TempDir(), kdf: encryption.MinKDF})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	tests := []struct {
		name string
		ok   bool
	}{
		{"alice", true},
		{"a.b-c_d+e@example.org", true},
		{"", false},
		{"Alice", false},
		{"../x", false},
		{"a/b", false},
		{"a b", false},
		{"a%40b", false},
		{strings.Repeat("a", 65), false},
	}
	for _, tt := range tests {
		_, err := a.createUser(ctx, newUser{username: tt.name, password: "long enough password"})
		if (err == nil) != tt.ok {
			t.Errorf("createUser(%q) = %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
	if _, err := a.createUser(ctx, newUser{username: "alice", password: "long enough password"}); err == nil {
		t.Error("a second alice was created")
	}
}
