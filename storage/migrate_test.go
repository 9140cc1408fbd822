package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/coffer-dav/coffer/encryption"
)

// objectsLayout0001 turns the objects of a current database back into the
// WITHOUT ROWID table of migration 0001, bodies inline, at schema version 3.
const objectsLayout0001 = `
CREATE TABLE objects_old (
    collection_id INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
    name_mac      BLOB    NOT NULL,
    name_sealed   BLOB    NOT NULL,
    uid_mac       BLOB,
    etag          TEXT    NOT NULL,
    ctype_sealed  BLOB    NOT NULL,
    size          INTEGER NOT NULL,
    body_sealed   BLOB    NOT NULL,
    props_sealed  BLOB,
    index_sealed  BLOB,
    modified_at   INTEGER NOT NULL,
    revision      INTEGER NOT NULL,
    PRIMARY KEY (collection_id, name_mac)
) WITHOUT ROWID;
INSERT INTO objects_old SELECT o.collection_id, o.name_mac, o.name_sealed, o.uid_mac, o.etag, o.ctype_sealed, o.size,
    b.body_sealed, o.props_sealed, o.index_sealed, o.modified_at, o.revision
    FROM objects o JOIN object_bodies b ON b.object_id = o.id;
DROP TABLE object_bodies;
DROP TABLE objects;
ALTER TABLE objects_old RENAME TO objects;
CREATE UNIQUE INDEX objects_uid ON objects (collection_id, uid_mac) WHERE uid_mac IS NOT NULL;
ALTER TABLE collections DROP COLUMN props_bytes;
ALTER TABLE account_props DROP COLUMN bytes;
PRAGMA user_version = 3;
`

// revisionsShared undoes the per-account revisions: one counter for the
// whole database again, at the given value, as before that migration.
const revisionsShared = `
CREATE TABLE revision_counter (id INTEGER PRIMARY KEY CHECK (id = 1), value INTEGER NOT NULL);
INSERT INTO revision_counter (id, value) VALUES (1, %d);
ALTER TABLE accounts DROP COLUMN revision;
`

// droppedColumnsBack brings back the columns that later migrations drop
// (0010: the password hash; 0013: the mail columns of account_events), so
// that a database turned back to an older version runs those migrations
// again; undoPropertyRows runs it.
const droppedColumnsBack = `ALTER TABLE accounts ADD COLUMN password_phc TEXT NOT NULL DEFAULT '';
` + mailColumnsBack

// mailColumnsBack brings back the mail columns of account_events that
// migration 0013 moves into the outbox and drops.
const mailColumnsBack = `ALTER TABLE account_events ADD COLUMN mail_tries INTEGER NOT NULL DEFAULT 0;
ALTER TABLE account_events ADD COLUMN mail_claimed_at INTEGER;
`

// TestMigrationMovesBodiesOut: a database written with the 0001 layout
// opens with every object, body, property and UID rule intact, and with
// names and properties counted (0006), at most high until the next write.
func TestMigrationMovesBodiesOut(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "coffer.db")
	db, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	db.legacySeal = true // rows as the code of that time wrote them
	s := newUserSpace(t, db, "alice")
	c := mustCollection(t, s, "work")
	want := map[string][]byte{}
	for i := range 20 {
		name := fmt.Sprintf("%02d.ics", i)
		body := bytes.Repeat([]byte(fmt.Sprintf("object %d ", i)), 50*i+1) // up to ~10 KB: overflow pages
		if _, err := s.PutObject(ctx, c.ID, PutOptions{Name: name, UID: name, Body: body, ContentType: "text/calendar"}); err != nil {
			t.Fatal(err)
		}
		want[name] = body
	}
	if err := s.PatchObject(ctx, c.ID, "03.ics", PatchOptions{Set: Props{"{x:}p": []byte("<p xmlns='x:'>v</p>")}}); err != nil {
		t.Fatal(err)
	}
	exact, err := s.Counts(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	undoPropertyRows(t, db, s)
	if _, err := db.write.ExecContext(ctx, fmt.Sprintf(revisionsShared, 100)+objectsLayout0001); err != nil {
		t.Fatal(err)
	}
	keys := s.(*sealedSpace).seal.keys
	user := s.(*sealedSpace).user
	db.Close()

	db, err = Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s = db.Space(user, keys)
	objs, err := s.Objects(ctx, c.ID)
	if err != nil || len(objs) != len(want) {
		t.Fatalf("after the migration: %d objects (%v), want %d", len(objs), err, len(want))
	}
	for name, body := range want {
		o, err := s.Object(ctx, c.ID, name, ReadOptions{Body: true})
		if err != nil || !bytes.Equal(o.Body, body) || o.ContentType != "text/calendar" {
			t.Fatalf("%s after the migration: %v", name, err)
		}
	}
	if o, err := s.Object(ctx, c.ID, "03.ics", ReadOptions{}); err != nil || string(o.Props["{x:}p"]) == "" {
		t.Fatalf("dead property lost: %+v, %v", o, err)
	}
	if k, err := s.Counts(ctx, c.ID); err != nil || k.Bytes < exact.Bytes || k.Bytes > exact.Bytes+21*100 {
		t.Fatalf("after the migration the collection counts %+v (%v), exactly %d", k, err, exact.Bytes)
	}
	var conflict *UIDConflict
	if _, err := s.PutObject(ctx, c.ID, PutOptions{Name: "new.ics", UID: "05.ics", Body: []byte("x")}); !errors.As(err, &conflict) {
		t.Fatalf("UID rule lost: %v", err)
	}
}

// TestMigrationKeepsSyncTokens: tokens handed out while one counter served
// the whole database still answer with exactly the changes after them once
// each account counts on its own, and a collection created afterwards still
// refuses them.
func TestMigrationKeepsSyncTokens(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "coffer.db")
	db, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	db.legacySeal = true // rows as the code of that time wrote them
	alice, bob := newUserSpace(t, db, "alice"), newUserSpace(t, db, "bob")
	c := mustCollection(t, alice, "work")
	put := func(s Space, coll int64, name string) int64 {
		t.Helper()
		o, err := s.PutObject(ctx, coll, PutOptions{Name: name, Body: []byte(name)})
		if err != nil {
			t.Fatal(err)
		}
		return o.Object.Revision
	}
	put(alice, c.ID, "a.ics")
	t1 := put(alice, c.ID, "b.ics")
	bc := mustCollection(t, bob, "home")
	put(bob, bc.ID, "x.ics")
	t2 := put(alice, c.ID, "c.ics")

	// Back to the shared counter.
	names, err := migrations.ReadDir("migrations")
	if err != nil {
		t.Fatal(err)
	}
	version := 0
	for _, e := range names {
		if n, ok := strings.CutSuffix(e.Name(), "_account_revisions.sql"); ok {
			version, _ = strconv.Atoi(n)
		}
	}
	// The shared counter stood above every stored revision.
	var shared int64
	if err := db.read.QueryRowContext(ctx, `SELECT max(revision) + 50 FROM collections`).Scan(&shared); err != nil {
		t.Fatal(err)
	}
	// The later migrations (property sizes, property rows, sealed revisions) are undone too,
	// so that all run again.
	undoPropertyRows(t, db, alice, bob)
	undoLater := "ALTER TABLE objects DROP COLUMN meta_bytes; ALTER TABLE collections DROP COLUMN props_bytes; ALTER TABLE account_props DROP COLUMN bytes;"
	if _, err := db.write.ExecContext(ctx, undoLater+fmt.Sprintf(revisionsShared, shared)+fmt.Sprintf("PRAGMA user_version = %d;", version-1)); err != nil || version == 0 {
		t.Fatalf("downgrade to version %d: %v", version-1, err)
	}
	aliceKeys, aliceID := alice.(*sealedSpace).seal.keys, alice.(*sealedSpace).user
	bobKeys, bobID := bob.(*sealedSpace).seal.keys, bob.(*sealedSpace).user
	db.Close()

	db, err = Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	alice, bob = db.Space(aliceID, aliceKeys), db.Space(bobID, bobKeys)
	if rev := put(alice, c.ID, "d.ics"); rev != shared+1 {
		t.Errorf("first revision after the migration: %d, want %d", rev, shared+1)
	}
	if err := alice.DeleteObject(ctx, c.ID, "a.ics", DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	later := mustCollection(t, alice, "later")
	tests := []struct {
		name  string
		coll  int64
		since int64
		want  string // name, "-" for a deletion, in revision order
		err   error
	}{
		{"initial", c.ID, 0, "b c d a-", nil},
		{"old token", c.ID, t1, "c d a-", nil},
		{"newer old token", c.ID, t2, "d a-", nil},
		{"old token on a newer collection", later.ID, t1, "", ErrBadRevision},
	}
	for _, tt := range tests {
		changes, _, err := alice.Changes(ctx, tt.coll, tt.since)
		var got []string
		for _, ch := range changes {
			n := strings.TrimSuffix(ch.Name, ".ics")
			if ch.Deleted {
				n += "-"
			}
			got = append(got, n)
		}
		if !errors.Is(err, tt.err) || strings.Join(got, " ") != tt.want {
			t.Errorf("%s: %q, %v; want %q, %v", tt.name, got, err, tt.want, tt.err)
		}
	}
	if rev := put(bob, bc.ID, "y.ics"); rev != shared+1 {
		t.Errorf("bob's first revision after the migration: %d, want %d", rev, shared+1)
	}
}

// migrationNumber returns the number of the migration whose file name ends
// in suffix.
func migrationNumber(t *testing.T, suffix string) int {
	t.Helper()
	names, err := migrations.ReadDir("migrations")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range names {
		if n, ok := strings.CutSuffix(e.Name(), suffix); ok {
			v, err := strconv.Atoi(n)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
	}
	t.Fatalf("no migration *%s", suffix)
	return 0
}

// TestMigrationDropsPasswordHash: a database from before the password
// hash was dropped loses the column and every byte of the hashes it held
// (in the file and the WAL, at once), keeps its accounts and key slots, and
// has a rebuild pending; a database without accounts gets no rebuild.
func TestMigrationDropsPasswordHash(t *testing.T) {
	ctx := context.Background()
	version := migrationNumber(t, "_drop_password_hash.sql")
	path := filepath.Join(t.TempDir(), "coffer.db")
	db, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if pending, err := db.RebuildPending(ctx); err != nil || pending {
		t.Fatalf("a new database has a rebuild pending (%v)", err)
	}
	id := newUserSpace(t, db, "alice").(*sealedSpace).user
	before := encryption.Slot{KDF: "argon2id$v=19$m=19456,t=2,p=1$c2FsdA", Wrapped: []byte("wrapped key")}
	if err := db.SetPassword(ctx, id, before); err != nil {
		t.Fatal(err)
	}
	const hash = "$argon2id$v=19$m=19456,t=2,p=1$U2FsdFNhbHRTYWx0U2FsdA$SGFzaEhhc2hIYXNoSGFzaEhhc2hIYXNoSGFzaEhhc2g"
	if _, err := db.write.ExecContext(ctx, droppedColumnsBack+fmt.Sprintf("UPDATE accounts SET password_phc = '%s'; DELETE FROM settings WHERE key = '%s'; PRAGMA user_version = %d;", hash, rebuildKey, version-1)); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if b, _ := os.ReadFile(path); !bytes.Contains(b, []byte(hash)) {
		t.Fatal("the old database does not hold the hash: the test is broken")
	}

	db, err = Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.read.QueryRowContext(ctx, `SELECT count(*) FROM pragma_table_info('accounts') WHERE name = 'password_phc'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("accounts.password_phc after the migration: %d, %v", n, err)
	}
	for _, f := range []string{path, path + "-wal"} {
		if b, _ := os.ReadFile(f); bytes.Contains(b, []byte(hash[30:])) {
			t.Errorf("%s still holds the dropped hash", filepath.Base(f))
		}
	}
	if a, err := db.AccountByUsername(ctx, "alice"); err != nil || a.ID != id {
		t.Fatalf("alice after the migration: %+v, %v", a, err)
	}
	after, err := db.Slot(ctx, id, "password")
	if err != nil || after.KDF != before.KDF || !bytes.Equal(after.Wrapped, before.Wrapped) {
		t.Errorf("the password slot changed in the migration: %v", err)
	}
	if pending, err := db.RebuildPending(ctx); err != nil || !pending {
		t.Errorf("no rebuild pending after dropping the hashes (%v)", err)
	}
}
