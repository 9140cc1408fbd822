package integration_test

import (
	"crypto/rand"
	"database/sql"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestDatabaseWithoutSecretConfirmsNoPassword: the real binary's database,
// taken without its server.key, holds no Argon2id hash of the password, and
// a server refuses to start over it with another secret; one started after
// the attacker removed the database's check value of its secret answers the
// correct password exactly as a wrong one: 401, the same body.
func TestDatabaseWithoutSecretConfirmsNoPassword(t *testing.T) {
	s := startServer(t, "")
	home := "/dav/calendars/" + s.User + "/"
	s.client(t, s.User, s.Password).must(207, "PROPFIND", home, "", "Depth", "0")
	s.Stop()

	// The attacker's copy: the database files, and a secret of their own.
	stolen := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(stolen, 0o700); err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(s.data, "coffer.db*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no database files: %v", err)
	}
	phc := regexp.MustCompile(`\$argon2id\$v=19\$m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+`)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if m := phc.Find(b); m != nil {
			t.Errorf("%s holds an Argon2id password hash %s: guesses can be checked against it offline", filepath.Base(f), m)
		}
		if err := os.WriteFile(filepath.Join(stolen, filepath.Base(f)), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	secret := make([]byte, 32)
	rand.Read(secret)
	if err := os.WriteFile(filepath.Join(stolen, "server.key"), secret, 0o600); err != nil {
		t.Fatal(err)
	}
	// The database keeps a check value of its secret, so a server refuses
	// another one with a clear message; the attacker, who can write their
	// copy, deletes the check value first.
	if out, err := coffer(t, "", "user", "list", "--data", stolen); err == nil || !strings.Contains(out, "is not this database's") {
		t.Errorf("another secret: %v\n%s", err, out)
	}
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(stolen, "coffer.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`DELETE FROM settings WHERE key = 'server_secret_check'`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	other := startServer(t, stolen)
	right := other.client(t, s.User, s.Password).do("PROPFIND", home, "", "Depth", "0")
	wrong := other.client(t, s.User, s.Password+"-wrong").do("PROPFIND", home, "", "Depth", "0")
	if right.Status != 401 || wrong.Status != 401 || right.Body != wrong.Body {
		t.Errorf("under another secret the correct password gets %d %q and a wrong one %d %q: the answers tell them apart",
			right.Status, right.Body, wrong.Status, wrong.Body)
	}
}
