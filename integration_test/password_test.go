package integration_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
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

	// The attacker's copy: the database, and a secret of their own. On
	// PostgreSQL the copy is the database itself, read row by row.
	stolen := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(stolen, 0o700); err != nil {
		t.Fatal(err)
	}
	phc := regexp.MustCompile(`\$argon2id\$v=19\$m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+`)
	hexPHC := hex.EncodeToString([]byte("$argon2id$v=19$")) // as bytea prints it
	if onPostgres() {
		shareDatabase(t, s.data, stolen)
		for table, rows := range postgresRows(t, databaseFor(t, s.data)) {
			if m := phc.FindString(rows); m != "" || strings.Contains(rows, hexPHC) {
				t.Errorf("table %s holds an Argon2id password hash %s: guesses can be checked against it offline", table, m)
			}
		}
	} else {
		files, err := filepath.Glob(filepath.Join(s.data, "coffer.db*"))
		if err != nil || len(files) == 0 {
			t.Fatalf("no database files: %v", err)
		}
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
	const forget = `DELETE FROM settings WHERE key = 'server_secret_check'`
	if onPostgres() {
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, databaseFor(t, stolen))
		if err != nil {
			t.Fatal(err)
		}
		_, err = conn.Exec(ctx, forget)
		conn.Close(ctx)
		if err != nil {
			t.Fatal(err)
		}
	} else {
		db, err := sql.Open("sqlite3", "file:"+filepath.Join(stolen, "coffer.db"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(forget); err != nil {
			t.Fatal(err)
		}
		db.Close()
	}
	other := startServer(t, stolen)
	right := other.client(t, s.User, s.Password).do("PROPFIND", home, "", "Depth", "0")
	wrong := other.client(t, s.User, s.Password+"-wrong").do("PROPFIND", home, "", "Depth", "0")
	if right.Status != 401 || wrong.Status != 401 || right.Body != wrong.Body {
		t.Errorf("under another secret the correct password gets %d %q and a wrong one %d %q: the answers tell them apart",
			right.Status, right.Body, wrong.Status, wrong.Body)
	}
}

// postgresRows returns every row of every table of the database at dsn as
// text (bytea as hex), by table.
func postgresRows(t *testing.T, dsn string) map[string]string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	texts := func(query string) []string {
		rows, err := conn.Query(ctx, query)
		if err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		got, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		return got
	}
	tables := texts(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`)
	if len(tables) == 0 {
		t.Fatal("the database has no tables")
	}
	out := map[string]string{}
	for _, table := range tables {
		out[table] = strings.Join(texts(`SELECT t::text FROM `+pgx.Identifier{table}.Sanitize()+` t`), "\n")
	}
	return out
}
