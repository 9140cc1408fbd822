package storage

import (
	"compress/gzip"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/coffer-dav/coffer/encryption"
)

// openLegacyFixture opens a copy of the database written by the code
// before seal version 1 (testdata/README.md), migrated on open.
func openLegacyFixture(t *testing.T) (*DB, Space) {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "legacy-0006.db.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "coffer.db")
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, zr); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := Open(context.Background(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	key := sha256.Sum256([]byte("coffer legacy fixture"))
	keys, err := encryption.NewKeyring(key[:])
	if err != nil {
		t.Fatal(err)
	}
	return db, db.Space(1, keys)
}

// TestLegacyDatabaseReads: a database written before content was bound
// to its revision still reads after the migration, bodies, types, index
// entries and properties included; its UID rule still holds, in the
// collections and across a copy; and a write moves a row to the new form.
func TestLegacyDatabaseReads(t *testing.T) {
	db, s := openLegacyFixture(t)
	ctx := context.Background()
	coll := func(home Home, name string) *Collection {
		c, err := s.Collection(ctx, home, name)
		if err != nil {
			t.Fatalf("%s/%s: %v", home, name, err)
		}
		return c
	}
	work, home, book := coll(HomeCalendars, "work"), coll(HomeCalendars, "home"), coll(HomeAddressBooks, "contacts")
	objects := []struct {
		coll        *Collection
		name, ctype string
		body, index string
		prop        bool
	}{
		{work, "e1.ics", "text/calendar", "BODY E1", "INDEX E1", false},
		{work, "e2.ics", "text/calendar", "BODY E2", "INDEX E2", true},
		{home, "e1-copy.ics", "text/calendar", "BODY E1", "INDEX E1", false},
		{book, "c1.vcf", "text/vcard", "BODY C1", "", false},
	}
	for _, o := range objects {
		got, err := s.Object(ctx, o.coll.ID, o.name, ReadOptions{Body: true})
		if err != nil || string(got.Body) != o.body || got.ContentType != o.ctype || (len(got.Props) > 0) != o.prop {
			t.Errorf("%s: %+v, %v", o.name, got, err)
			continue
		}
		all, _, err := s.Index(ctx, o.coll.ID)
		if err != nil {
			t.Fatalf("index of %s: %v", o.coll.Name, err)
		}
		for _, e := range all {
			if e.Name == o.name && string(e.Index) != o.index {
				t.Errorf("%s: index %q, want %q", o.name, e.Index, o.index)
			}
		}
	}
	uidRule := []struct {
		coll      *Collection
		uid, with string
	}{
		{work, "uid-e1", "e1.ics"},
		{home, "uid-e1", "e1-copy.ics"},
		{book, "uid-c1", "c1.vcf"},
	}
	for _, r := range uidRule {
		var conflict *UIDConflict
		if _, err := s.PutObject(ctx, r.coll.ID, PutOptions{Name: "dup", UID: r.uid, Body: []byte("dup")}); !errors.As(err, &conflict) || conflict.Name != r.with {
			t.Errorf("%s in %s: %v, want a conflict with %s", r.uid, r.coll.Name, err, r.with)
		}
	}
	// A copy of an old row onto a collection that has its UID in an old row.
	var conflict *UIDConflict
	if _, err := s.TransferObject(ctx, work.ID, "e1.ics", home.ID, "again.ics", TransferOptions{}); !errors.As(err, &conflict) {
		t.Errorf("copy of e1 next to its old copy: %v", err)
	}
	// A write seals the row anew; its UID MAC then differs from its old copy's.
	res, err := s.PutObject(ctx, work.ID, PutOptions{Name: "e1.ics", UID: "uid-e1", ContentType: "text/calendar", Body: []byte("BODY E1 v2")})
	if err != nil {
		t.Fatal(err)
	}
	var v int64
	var a, b []byte
	if err := db.read.QueryRow(`SELECT o.seal_v, o.uid_mac, c.uid_mac FROM objects o, objects c WHERE o.collection_id = ? AND o.etag = ? AND c.collection_id = ?`,
		work.ID, res.Object.ETag, home.ID).Scan(&v, &a, &b); err != nil {
		t.Fatal(err)
	}
	if v != sealCurrent || string(a) == string(b) {
		t.Errorf("after a write: seal_v %d, uid_mac the same as the old copy's: %v", v, string(a) == string(b))
	}
	// An old row holds only the old MAC, not its UID: into a calendar or
	// address book the DAV layer passes the UID it parsed from the body.
	if _, err := s.TransferObject(ctx, home.ID, "e1-copy.ics", work.ID, "again.ics", TransferOptions{UID: "uid-e1"}); !errors.As(err, &conflict) || conflict.Name != "e1.ics" {
		t.Errorf("copy of the old copy next to the rewritten e1: %v", err)
	}
}

// TestLegacyKeepUID: KeepUID compares UIDs whatever form their MACs take
// in a row: an old row against a UID given, and an old row, whose UID is
// known only by its MAC, against a row written since.
func TestLegacyKeepUID(t *testing.T) {
	_, s := openLegacyFixture(t)
	ctx := context.Background()
	work, err := s.Collection(ctx, HomeCalendars, "work")
	if err != nil {
		t.Fatal(err)
	}
	home, err := s.Collection(ctx, HomeCalendars, "home")
	if err != nil {
		t.Fatal(err)
	}
	// home's copy of e1 written anew: its UID MAC is bound to home.
	if _, err := s.PutObject(ctx, home.ID, PutOptions{Name: "e1-copy.ics", UID: "uid-e1", KeepUID: true, Body: []byte("BODY E1")}); err != nil {
		t.Fatalf("an old row rewritten with its own UID: %v", err)
	}
	tests := []struct {
		name     string
		write    func() error
		conflict string // the object a *UIDConflict names; "" for success
	}{
		{"an old row and another UID", func() error {
			_, err := s.PutObject(ctx, work.ID, PutOptions{Name: "e2.ics", UID: "uid-other", KeepUID: true, Body: []byte("x")})
			return err
		}, "e2.ics"},
		{"an old source over a new row of another UID", func() error {
			_, err := s.TransferObject(ctx, work.ID, "e2.ics", home.ID, "e1-copy.ics", TransferOptions{Overwrite: true, KeepUID: true})
			return err
		}, "e1-copy.ics"},
		{"an old source over a new row of its UID", func() error {
			_, err := s.TransferObject(ctx, work.ID, "e1.ics", home.ID, "e1-copy.ics", TransferOptions{Overwrite: true, KeepUID: true})
			return err
		}, ""},
		{"an old row and its UID", func() error {
			_, err := s.PutObject(ctx, work.ID, PutOptions{Name: "e2.ics", UID: "uid-e2", KeepUID: true, Body: []byte("BODY E2 v2")})
			return err
		}, ""},
	}
	for _, tc := range tests {
		err := tc.write()
		var conflict *UIDConflict
		switch {
		case tc.conflict == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.conflict != "" && (!errors.As(err, &conflict) || conflict.Name != tc.conflict):
			t.Errorf("%s: %v, want a conflict naming %s", tc.name, err, tc.conflict)
		}
	}
}
