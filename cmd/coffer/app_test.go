package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/pem"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coffer-dav/coffer/auth"
	"github.com/coffer-dav/coffer/dav"
	"github.com/coffer-dav/coffer/encryption"
	"github.com/coffer-dav/coffer/storage"
)

// TestDatabaseAndSecretCannotOpenUserKey: an attacker holding the database
// file, the server secret and the escrow public key, but not the password,
// the recovery code or the offline escrow private key, cannot open any key
// slot, whatever they try as the credential: a forgotten password with none
// of those means the data is gone. (TestAppPasswordSlotsNeedTheirSecret
// extends this to app passwords; a dashboard session's slot is tried here.)
func TestDatabaseAndSecretCannotOpenUserKey(t *testing.T) {
	for _, withEscrow := range []bool{false, true} {
		t.Run(map[bool]string{false: "without escrow", true: "with escrow"}[withEscrow], func(t *testing.T) {
			testDatabaseAndSecretCannotOpenUserKey(t, withEscrow)
		})
	}
}

func testDatabaseAndSecretCannotOpenUserKey(t *testing.T, withEscrow bool) {
	ctx := context.Background()
	dir := privateDir(t)
	c := &config{data: dir, kdf: encryption.MinKDF}
	var escrowPriv *encryption.EscrowPrivateKey
	var pubPEM []byte
	if withEscrow {
		keys := t.TempDir()
		c.escrowPublicKey = filepath.Join(keys, "escrow.pub")
		if err := escrowKeygen(filepath.Join(keys, "escrow.key"), c.escrowPublicKey, io.Discard); err != nil {
			t.Fatal(err)
		}
		var err error
		if escrowPriv, err = loadEscrowPrivateKey(filepath.Join(keys, "escrow.key")); err != nil {
			t.Fatal(err)
		}
		if pubPEM, err = os.ReadFile(c.escrowPublicKey); err != nil {
			t.Fatal(err)
		}
	}
	a, err := openApp(ctx, c, openOptions{create: true})
	if err != nil {
		t.Fatal(err)
	}
	u, err := a.createUser(ctx, newUser{username: "alice", email: "alice@example.org", password: "correct horse battery"})
	if err != nil {
		t.Fatal(err)
	}
	// A signed-in dashboard: its slot is in the database, its id only in a cookie.
	id, err := a.auth.Login(ctx, "alice", "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	sess, err := a.auth.StartSession(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	a.Close()

	// What the attacker has: the files.
	secret, err := os.ReadFile(filepath.Join(dir, secretFile))
	if err != nil {
		t.Fatal(err)
	}
	db := readOnlyDB(t, dir)
	var email string
	if err := db.QueryRow(`SELECT email FROM accounts WHERE id = ?`, u.account.ID).Scan(&email); err != nil {
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
	var sessionMAC []byte
	if err := db.QueryRow(`SELECT id_mac FROM sessions WHERE account_id = ?`, u.account.ID).Scan(&sessionMAC); err != nil {
		t.Fatal(err)
	}
	sessionKind := storage.SessionSlotKind(sessionMAC)
	wantSlots := []string{"password", "recovery", sessionKind}
	if withEscrow {
		wantSlots = append(wantSlots, "escrow")
	}
	if len(slots) != len(wantSlots) {
		t.Fatalf("slots: %v, want %v", slots, wantSlots)
	}
	// Everything in the files that could stand in for a credential.
	guesses := []string{"", "alice", email, string(secret), string(pubPEM), string(sessionMAC), sessionKind}
	for _, s := range slots {
		guesses = append(guesses, s.KDF, string(s.Wrapped))
	}
	// Escrow private keys the attacker could make: a fresh one, and the
	// public key's and the server secret's bytes taken as private keys.
	var fakes []*encryption.EscrowPrivateKey
	fresh, err := encryption.GenerateEscrowKey()
	if err != nil {
		t.Fatal(err)
	}
	fakes = append(fakes, fresh)
	for _, raw := range [][]byte{secret, escrowPubBytes(t, pubPEM)} {
		if raw == nil {
			continue
		}
		k, err := encryption.ParseEscrowPrivateKey(pem.EncodeToMemory(&pem.Block{Type: "COFFER ESCROW PRIVATE KEY", Bytes: raw}))
		if err != nil {
			t.Fatal(err)
		}
		fakes = append(fakes, k)
	}
	for _, kind := range wantSlots {
		slot, ok := slots[kind]
		if !ok {
			t.Fatalf("no %s slot", kind)
		}
		ad := encryption.SlotAD(u.account.ID, kind)
		for _, g := range guesses {
			for _, cred := range []string{g, auth.NormalizeSecret(g)} {
				if _, err := encryption.Unwrap(slot, []byte(cred), secret, ad); err == nil {
					t.Fatalf("slot %s opened with %q and the server secret", kind, g)
				}
			}
		}
		for i, k := range fakes {
			// As stored, and relabelled with the made-up key's fingerprint
			// so that the attempt reaches the decryption.
			forged := slot
			if f := strings.Split(slot.KDF, "$"); len(f) == 4 {
				f[2] = k.Public().Fingerprint()
				forged.KDF = strings.Join(f, "$")
			}
			for _, s := range []encryption.Slot{slot, forged} {
				if _, err := encryption.OpenEscrow(s, k, secret, ad); err == nil {
					t.Fatalf("slot %s opened with made-up escrow key %d", kind, i)
				}
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
	key4, err := encryption.Unwrap(slots[sessionKind], []byte(sess.Token), secret, encryption.SlotAD(u.account.ID, sessionKind))
	if err != nil || string(key) != string(key4) {
		t.Fatalf("the session's cookie does not open the same key: %v", err)
	}
	if withEscrow {
		key3, err := encryption.OpenEscrow(slots["escrow"], escrowPriv, secret, encryption.SlotAD(u.account.ID, "escrow"))
		if err != nil || string(key) != string(key3) {
			t.Fatalf("the escrow private key does not open the same key: %v", err)
		}
	}
}

// escrowPubBytes returns the raw public key of a PEM file, or nil.
func escrowPubBytes(t *testing.T, pubPEM []byte) []byte {
	t.Helper()
	if pubPEM == nil {
		return nil
	}
	k, err := encryption.ParseEscrowPublicKey(pubPEM)
	if err != nil {
		t.Fatal(err)
	}
	return k.Bytes()
}

func TestUsernameRules(t *testing.T) {
	ctx := context.Background()
	a, _ := testApp(t)
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

// TestServerSecretFile: the server secret is never silently replaced, is
// written so that a crash leaves no empty file, and is refused when group
// or others may read it or its folder. Before, a missing server.key next to
// a database was replaced by a new one that opened no key slot.
func TestServerSecretFile(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		prepare func(t *testing.T, dir string)
		wantErr []string // parts of the error, {dir} for the folder; none: opens
	}{
		{"fresh folder", func(*testing.T, string) {}, nil},
		{"database without its secret", func(t *testing.T, dir string) {
			openAndClose(t, dir)
			must(t, os.Remove(filepath.Join(dir, secretFile)))
		}, []string{"exists without its server secret", "{dir}/" + dbFile, "{dir}/" + secretFile}},
		{"empty secret from a crash, no database", func(t *testing.T, dir string) {
			must(t, os.WriteFile(filepath.Join(dir, secretFile), nil, 0o600))
		}, nil},
		{"empty secret next to a database", func(t *testing.T, dir string) {
			openAndClose(t, dir)
			must(t, os.WriteFile(filepath.Join(dir, secretFile), nil, 0o600))
		}, []string{"exists without its server secret"}},
		{"world-readable secret", func(t *testing.T, dir string) {
			openAndClose(t, dir)
			must(t, os.Chmod(filepath.Join(dir, secretFile), 0o644))
		}, []string{"mode 0644", "chmod 600"}},
		{"another folder's secret", func(t *testing.T, dir string) {
			openAndClose(t, dir, newUser{username: "alice", password: "correct horse battery"})
			other := privateDir(t)
			openAndClose(t, other)
			b, err := os.ReadFile(filepath.Join(other, secretFile))
			must(t, err)
			must(t, os.WriteFile(filepath.Join(dir, secretFile), b, 0o600))
		}, []string{"is not this database's", "{dir}/" + secretFile}},
		{"the same secret again", func(t *testing.T, dir string) {
			openAndClose(t, dir, newUser{username: "alice", password: "correct horse battery"})
			openAndClose(t, dir)
		}, nil},
		{"group-readable folder", func(t *testing.T, dir string) {
			must(t, os.Chmod(dir, 0o750))
		}, []string{"mode 0750", "chmod 700"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := privateDir(t)
			tt.prepare(t, dir)
			before, _ := os.ReadFile(filepath.Join(dir, secretFile))
			a, err := openApp(ctx, &config{data: dir, kdf: encryption.MinKDF}, openOptions{create: true})
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				a.Close()
				b, err := os.ReadFile(filepath.Join(dir, secretFile))
				if err != nil || len(b) != encryption.KeySize {
					t.Fatalf("server secret: %d bytes, %v", len(b), err)
				}
				entries, _ := os.ReadDir(dir)
				for _, e := range entries {
					if strings.Contains(e.Name(), ".tmp") {
						t.Errorf("left behind %s", e.Name())
					}
				}
				return
			}
			if err == nil {
				a.Close()
				t.Fatal("opened")
			}
			for _, w := range tt.wantErr {
				w = strings.ReplaceAll(w, "{dir}", dir)
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if after, _ := os.ReadFile(filepath.Join(dir, secretFile)); !bytes.Equal(before, after) {
				t.Error("the server secret was changed")
			}
		})
	}
}

// openAndClose opens the data folder once, creating its database and secret
// and then the users.
func openAndClose(t *testing.T, dir string, users ...newUser) {
	t.Helper()
	a, err := openApp(context.Background(), &config{data: dir, kdf: encryption.MinKDF}, openOptions{create: true})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	for _, u := range users {
		if _, err := a.createUser(context.Background(), u); err != nil {
			t.Fatal(err)
		}
	}
}

// privateDir is a new data folder that only its owner may access, as
// serve creates one: t.TempDir's folders are open to all (mode 0755).
func privateDir(tb testing.TB) string {
	tb.Helper()
	dir := filepath.Join(tb.TempDir(), "data")
	if err := os.Mkdir(dir, 0o700); err != nil {
		tb.Fatal(err)
	}
	return dir
}

// testApp opens a new app in a private folder, closed when the test ends,
// and returns it with the folder.
func testApp(tb testing.TB) (*app, string) {
	tb.Helper()
	dir := privateDir(tb)
	a, err := openApp(context.Background(), &config{data: dir, kdf: encryption.MinKDF}, openOptions{create: true})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { a.Close() })
	return a, dir
}

// readOnlyDB opens the database file in dir read-only, closed when the
// test ends at the latest.
func readOnlyDB(tb testing.TB, dir string) *sql.DB {
	tb.Helper()
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(dir, dbFile)+"?mode=ro")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// quietLog is a logger that writes nowhere.
var quietLog = slog.New(slog.NewTextHandler(io.Discard, nil))

// mounted is DAV, the self-service endpoints and the dashboard (nil: none)
// over the app, as serve mounts them.
func mounted(a *app, dashboard http.Handler) http.Handler {
	return a.withSelfService(quietLog, routes(dav.NewHandler(dav.Options{Auth: davLogins{a}, Logger: quietLog}), dashboard))
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestConfirmDelete: on a terminal, user delete goes on only when the
// username is typed again.
func TestConfirmDelete(t *testing.T) {
	for _, tt := range []struct {
		typed string
		ok    bool
	}{{"alice\n", true}, {"  alice  \n", true}, {"alice", true}, {"y\n", false}, {"\n", false}, {"", false}, {"alicex\n", false}} {
		var out bytes.Buffer
		err := confirmDelete(strings.NewReader(tt.typed), &out, "alice")
		if (err == nil) != tt.ok || !strings.Contains(out.String(), "Type the username") {
			t.Errorf("typed %q: %v (asked %q), want ok=%v", tt.typed, err, out.String(), tt.ok)
		}
	}
}
