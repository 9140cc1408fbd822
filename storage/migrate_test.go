package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
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

// TestMigrationMovesBodiesOut: a database written with the 0001 layout
// opens with every object, body, property and UID rule intact, and with
// names and properties counted (0005), at most high until the next write.
func TestMigrationMovesBodiesOut(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "coffer.db")
	db, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
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
	if _, err := s.PatchObject(ctx, c.ID, "03.ics", Props{"{x:}p": []byte("<p xmlns='x:'>v</p>")}, nil); err != nil {
		t.Fatal(err)
	}
	exact, err := s.Counts(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.write.ExecContext(ctx, objectsLayout0001); err != nil {
		t.Fatal(err)
	}
	keys := s.(*sqliteSpace).keys
	user := s.(*sqliteSpace).user
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
		o, err := s.Object(ctx, c.ID, name, true)
		if err != nil || !bytes.Equal(o.Body, body) || o.ContentType != "text/calendar" {
			t.Fatalf("%s after the migration: %v", name, err)
		}
	}
	if o, err := s.Object(ctx, c.ID, "03.ics", false); err != nil || string(o.Props["{x:}p"]) == "" {
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
