package main

import (
	"bytes"
	"context"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/coffer-dav/coffer/auth"
	"github.com/coffer-dav/coffer/encryption"
	"github.com/coffer-dav/coffer/storage"
)

// phcPattern finds Argon2id PHC strings, wherever they are stored.
var phcPattern = regexp.MustCompile(`\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)`)

// TestDatabaseAloneCannotConfirmPassword: whoever holds the database file
// (with its WAL) but not server.key cannot confirm a user's correct
// password by any means the files offer: no Argon2id hash that a guess can
// be checked against is stored anywhere in them, no key slot opens with the
// password and a made-up server secret, and a server started over the
// database with another secret answers the correct password exactly as a
// wrong one.
func TestDatabaseAloneCannotConfirmPassword(t *testing.T) {
	ctx := context.Background()
	const password = "correct horse battery"
	dir := privateDir(t)
	a, err := openApp(ctx, &config{data: dir, kdf: encryption.MinKDF}, openOptions{create: true})
	if err != nil {
		t.Fatal(err)
	}
	u, err := a.createUser(ctx, newUser{username: "alice", email: "alice@example.org", password: password})
	if err != nil {
		t.Fatal(err)
	}
	// A login stores what a login stores (a rehash, a cache stamp).
	if _, err := a.auth.Login(ctx, "alice", password); err != nil {
		t.Fatal(err)
	}
	a.Close()

	// 1. A hash to check guesses against, in any row or in any byte of the
	// files (a remnant in free space counts too).
	for where, phc := range storedPHCs(t, dir) {
		if confirmsPHC(t, phc, password) {
			t.Errorf("the database alone confirms the password: %s holds its Argon2id hash %s", where, phc)
		} else {
			t.Errorf("%s holds an Argon2id hash %s (of another password?)", where, phc)
		}
	}

	// 2. The password slot, with the correct password and made-up secrets.
	db := readOnlyDB(t, dir)
	var slot encryption.Slot
	if err := db.QueryRow(`SELECT kdf, wrapped FROM key_slots WHERE account_id = ? AND kind = 'password'`, u.account.ID).Scan(&slot.KDF, &slot.Wrapped); err != nil {
		t.Fatal(err)
	}
	db.Close()
	secrets := [][]byte{make([]byte, encryption.KeySize), bytes.Repeat([]byte{0xff}, encryption.KeySize), []byte(slot.KDF), slot.Wrapped}
	if random, err := encryption.RandomBytes(encryption.KeySize); err == nil {
		secrets = append(secrets, random)
	}
	for i, s := range secrets {
		if len(s) < encryption.KeySize {
			s = append(s, make([]byte, encryption.KeySize-len(s))...)
		}
		if _, err := encryption.Unwrap(slot, []byte(password), s, encryption.SlotAD(u.account.ID, "password")); err == nil {
			t.Errorf("the password slot opened with the password and made-up secret %d", i)
		}
	}

	// 3. The server itself, over a copy of the database with another secret.
	other := privateDir(t)
	copyDatabase(t, dir, other)
	fresh, err := encryption.RandomBytes(encryption.KeySize)
	if err != nil {
		t.Fatal(err)
	}
	must(t, os.WriteFile(filepath.Join(other, secretFile), fresh, 0o600))
	// The database's check value of its secret refuses the other one; a
	// database without it (from before the check) is opened.
	if _, err := openApp(ctx, &config{data: other, kdf: encryption.MinKDF}, openOptions{}); err == nil || !strings.Contains(err.Error(), "not this database's") {
		t.Fatalf("another secret: %v", err)
	}
	raw, err := sql.Open("sqlite3", filepath.Join(other, dbFile))
	must(t, err)
	_, err = raw.Exec(`DELETE FROM settings WHERE key = ?`, secretCheckKey)
	must(t, err)
	must(t, raw.Close())
	b, err := openApp(ctx, &config{data: other, kdf: encryption.MinKDF}, openOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	_, right := b.auth.Login(ctx, "alice", password)
	_, wrong := b.auth.Login(ctx, "alice", "wrong horse battery")
	if !errors.Is(right, auth.ErrBadCredentials) || !errors.Is(wrong, auth.ErrBadCredentials) || right.Error() != wrong.Error() {
		t.Errorf("with another server secret the correct password answers %q and a wrong one %q: the answer tells them apart", right, wrong)
	}
}

// TestUpgradeDropsPasswordHash: a database from before the password hash
// was dropped (it still has accounts.password_phc, filled) keeps logging
// in with the password after the upgrade, the column is gone, no byte of
// the files holds the hash (at once, and after the rebuild that the upgrade
// left pending).
func TestUpgradeDropsPasswordHash(t *testing.T) {
	ctx := context.Background()
	const password = "correct horse battery"
	dir := privateDir(t)
	c := &config{data: dir, kdf: encryption.MinKDF}
	openAndClose(t, dir, newUser{username: "alice", password: password})

	// Turn the database back into one from before the migration.
	version := dropMigration(t)
	salt, err := encryption.RandomBytes(16)
	if err != nil {
		t.Fatal(err)
	}
	p := encryption.MinKDF
	hash := p.Argon2id([]byte(password), salt, 32)
	phc := "$argon2id$v=19$" + p.String() + "$" + base64.RawStdEncoding.EncodeToString(salt) + "$" + base64.RawStdEncoding.EncodeToString(hash)
	raw, err := sql.Open("sqlite3", "file:"+filepath.Join(dir, dbFile))
	if err != nil {
		t.Fatal(err)
	}
	// The columns this and later migrations drop come back, for them to drop again.
	for _, c := range []struct{ table, column, def string }{
		{"accounts", "password_phc", "TEXT NOT NULL DEFAULT ''"},
		{"account_events", "mail_tries", "INTEGER NOT NULL DEFAULT 0"},
		{"account_events", "mail_claimed_at", "INTEGER"},
	} {
		if !hasColumn(t, raw, c.table, c.column) {
			if _, err := raw.Exec(`ALTER TABLE ` + c.table + ` ADD COLUMN ` + c.column + ` ` + c.def); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := raw.Exec(`UPDATE accounts SET password_phc = ?`, phc); err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(fmt.Sprintf(`PRAGMA user_version = %d`, version-1)); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	if len(storedPHCs(t, dir)) == 0 {
		t.Fatal("the old database holds no hash to drop: the test is broken")
	}

	a, err := openApp(ctx, c, openOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.auth.Login(ctx, "alice", password); err != nil {
		t.Fatalf("the password after the upgrade: %v", err)
	}
	if _, err := a.auth.Login(ctx, "alice", "wrong horse battery"); !errors.Is(err, auth.ErrBadCredentials) {
		t.Fatalf("a wrong password after the upgrade: %v", err)
	}
	// Already now, before any rebuild: the upgrade checkpointed the pages
	// it zeroed into the file.
	for where, found := range storedPHCs(t, dir) {
		t.Errorf("%s still holds the hash %s right after the upgrade", where, found)
	}
	if where := filesHolding(t, dir, base64.RawStdEncoding.EncodeToString(hash)); where != "" {
		t.Errorf("%s still holds the old hash right after the upgrade", where)
	}
	if pending, err := a.db.(*storage.DB).RebuildPending(ctx); err != nil || !pending {
		t.Errorf("no rebuild pending after the upgrade (%v): the dropped hash may stay in freed space", err)
	}
	must(t, a.db.(*storage.DB).Rebuild(ctx))
	a.Close()
	probe := readOnlyDB(t, dir)
	if hasColumn(t, probe, "accounts", "password_phc") {
		t.Errorf("accounts.password_phc is still there after the upgrade")
	}
	probe.Close()
	for where, found := range storedPHCs(t, dir) {
		t.Errorf("%s still holds the hash %s after the upgrade and the rebuild", where, found)
	}
	for _, piece := range []string{base64.RawStdEncoding.EncodeToString(hash), string(hash)} {
		if where := filesHolding(t, dir, piece); where != "" {
			t.Errorf("%s still holds the old hash's bytes", where)
		}
	}
}

// storedPHCs returns every PHC string in the rows of the database in dir
// (by table and column) and in the raw bytes of its files (by file).
func storedPHCs(t *testing.T, dir string) map[string]string {
	t.Helper()
	found := map[string]string{}
	db := readOnlyDB(t, dir)
	defer db.Close()
	tables, err := db.Query(`SELECT name FROM sqlite_master WHERE type = 'table'`)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for tables.Next() {
		var n string
		must(t, tables.Scan(&n))
		names = append(names, n)
	}
	tables.Close()
	for _, table := range names {
		rows, err := db.Query(`SELECT * FROM "` + table + `"`)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			must(t, rows.Scan(ptrs...))
			for i, v := range vals {
				var s string
				switch v := v.(type) {
				case string:
					s = v
				case []byte:
					s = string(v)
				}
				if m := phcPattern.FindString(s); m != "" {
					found[table+"."+cols[i]] = m
				}
			}
		}
		rows.Close()
	}
	files, err := filepath.Glob(filepath.Join(dir, dbFile+"*"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if m := phcPattern.Find(b); m != nil {
			found["file "+filepath.Base(f)] = string(m)
		}
	}
	return found
}

// confirmsPHC reports whether password is the one the PHC string hashes.
func confirmsPHC(t *testing.T, phc, password string) bool {
	t.Helper()
	m := phcPattern.FindStringSubmatch(phc)
	mem, _ := strconv.ParseUint(m[1], 10, 32)
	passes, _ := strconv.ParseUint(m[2], 10, 32)
	lanes, _ := strconv.ParseUint(m[3], 10, 8)
	salt, err1 := base64.RawStdEncoding.DecodeString(m[4])
	hash, err2 := base64.RawStdEncoding.DecodeString(m[5])
	if err1 != nil || err2 != nil {
		return false
	}
	p := encryption.KDFParams{Time: uint32(passes), MemoryKiB: uint32(mem), Threads: uint8(lanes)}
	return subtle.ConstantTimeCompare(p.Argon2id([]byte(password), salt, uint32(len(hash))), hash) == 1
}

// dropMigration returns the number of the migration that drops the
// password hash, from its file name.
func dropMigration(t *testing.T) int {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "..", "storage", "migrations", "*_drop_password_hash.sql"))
	if err != nil || len(files) != 1 {
		t.Fatalf("no single migration drops the password hash: %v %v", files, err)
	}
	n, err := strconv.Atoi(strings.SplitN(filepath.Base(files[0]), "_", 2)[0])
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// hasColumn reports whether table has the column.
func hasColumn(t *testing.T, db *sql.DB, table, column string) bool {
	t.Helper()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM pragma_table_info(?) WHERE name = ?`, table, column).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n > 0
}

// filesHolding names the first database file in dir that contains piece.
func filesHolding(t *testing.T, dir, piece string) string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, dbFile+"*"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(piece)) {
			return filepath.Base(f)
		}
	}
	return ""
}

// copyDatabase copies the database files (not the secret) from one data
// folder to another.
func copyDatabase(t *testing.T, from, to string) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(from, dbFile+"*"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		must(t, os.WriteFile(filepath.Join(to, filepath.Base(f)), b, 0o600))
	}
}
