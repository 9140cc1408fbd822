package dav

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coffer-dav/coffer/storage"
)

// TestDamagedRecordIs503: a record that whoever can write the database
// blanked, deleted or put back from an older version of its row answers
// 503, never 404 (a client deletes what vanished), 500 or an empty or older
// value, and the log line names the object by collection id and name MAC.
// The damage is done with plain SQL on the file, as such a writer would.
func TestDamagedRecordIs503(t *testing.T) {
	tests := []struct {
		name   string
		path   string // the object, under calPath or bookPath
		damage string // SQL with ?1 the object's row id, ?2 its sealed body and ?3 its content type from the first PUT
		method string
		target string
		body   string
		header string
	}{
		{"GET, body row deleted", calPath + "ev1.ics", `DELETE FROM object_bodies WHERE object_id = ?1`, "GET", calPath + "ev1.ics", "", ""},
		{"GET, old body", calPath + "ev1.ics", `UPDATE object_bodies SET body_sealed = ?2 WHERE object_id = ?1`, "GET", calPath + "ev1.ics", "", ""},
		{"calendar-query, index blanked", calPath + "ev1.ics", `UPDATE objects SET index_sealed = NULL WHERE id = ?1`, "REPORT", calPath,
			fmt.Sprintf(bodyDAVx5CalQuery, "VEVENT", `<CAL:time-range start="20250101T000000Z"/>`), "Depth: 1"},
		{"calendar-multiget, old body", calPath + "ev1.ics", `UPDATE object_bodies SET body_sealed = ?2 WHERE object_id = ?1`, "REPORT", calPath,
			fmt.Sprintf(bodyDAVx5CalMultiget, "<href>"+calPath+"ev1.ics</href>"), "Depth: 1"},
		{"PROPFIND depth 1, old content type", bookPath + "card1.vcf", `UPDATE objects SET ctype_sealed = ?3 WHERE id = ?1`, "PROPFIND", bookPath, "", "Depth: 1"},
		{"sync-collection, old content type", bookPath + "card1.vcf", `UPDATE objects SET ctype_sealed = ?3 WHERE id = ?1`, "REPORT", bookPath,
			`<sync-collection xmlns="DAV:"><sync-token/><sync-level>1</sync-level><prop><getetag/><getcontenttype/></prop></sync-collection>`, "Depth: 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "coffer.db")
			db, err := storage.Open(context.Background(), path, storage.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			var logs bytes.Buffer
			ts := &testServer{alice: newTestSpace(t, db, "alice")}
			if err := Provision(context.Background(), ts.alice); err != nil {
				t.Fatal(err)
			}
			ts.h = NewHandler(Options{Auth: &fakeAuth{accounts: map[string]*Account{"alice": {ID: 1, Username: "alice", Space: ts.alice}}},
				Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			body := icsEvent
			if strings.HasPrefix(tt.path, bookPath) {
				body = vcard3
			}
			if rec := ts.do(t, "alice", "PUT", tt.path, body); rec.Code != 201 {
				t.Fatalf("PUT: %d %s", rec.Code, rec.Body)
			}
			raw, err := sql.Open("sqlite3", path) // registered by the storage package
			if err != nil {
				t.Fatal(err)
			}
			defer raw.Close()
			var id, coll int64
			var mac, oldBody, oldType []byte
			if err := raw.QueryRow(`SELECT o.id, o.collection_id, o.name_mac, b.body_sealed, o.ctype_sealed FROM objects o JOIN object_bodies b ON b.object_id = o.id`).
				Scan(&id, &coll, &mac, &oldBody, &oldType); err != nil {
				t.Fatal(err)
			}
			// A second PUT, so that the first one's sealed values are older ones.
			if rec := ts.do(t, "alice", "PUT", tt.path, strings.Replace(body, "\r\nEND:", "\r\nX-V:2\r\nEND:", 1)); rec.Code != 204 {
				t.Fatalf("second PUT: %d %s", rec.Code, rec.Body)
			}
			if _, err := raw.Exec(tt.damage, id, oldBody, oldType); err != nil {
				t.Fatal(err)
			}
			var headers []string
			if tt.header != "" {
				headers = append(headers, tt.header)
			}
			rec := ts.do(t, "alice", tt.method, tt.target, tt.body, headers...)
			if rec.Code != 503 {
				t.Fatalf("%s %s after the damage: %d, want 503; body:\n%s", tt.method, tt.target, rec.Code, rec.Body)
			}
			log := logs.String()
			t.Log(strings.TrimSpace(log))
			if !strings.Contains(log, "status=503") || !strings.Contains(log, fmt.Sprintf("object %x of collection %d", mac, coll)) {
				t.Errorf("the log does not name the object (collection %d, name MAC %x):\n%s", coll, mac, log)
			}
			for _, secret := range []string{"Lunch", "Jane", "X-V"} {
				if strings.Contains(log+rec.Body.String(), secret) {
					t.Errorf("the log or the answer shows content %q:\n%s\n%s", secret, log, rec.Body)
				}
			}
		})
	}
}

// TestDamagedPropertiesAre503: a property row deleted from the file, or put
// back from before the last PROPPATCH, makes the collection's properties
// refuse to open: PROPFIND answers 503, never the set without it, and the
// log names the table and row, not the property.
func TestDamagedPropertiesAre503(t *testing.T) {
	const patch = `<?xml version="1.0" encoding="utf-8"?><d:propertyupdate xmlns:d="DAV:" xmlns:x="urn:example:x"><d:set><d:prop><x:note>%s</x:note></d:prop></d:set></d:propertyupdate>`
	tests := []struct {
		name   string
		damage string // SQL with ?1 the collection's row id, ?2 and ?3 the note's row as the first PROPPATCH left it
	}{
		// The second PROPPATCH wrote the note's row and the digest, at the latest revision.
		{"a row deleted", `DELETE FROM collection_props WHERE collection_id = ?1 AND length(name_mac) > 0 AND revision = (SELECT max(revision) FROM collection_props WHERE collection_id = ?1)`},
		{"a row put back", `UPDATE collection_props SET value_sealed = ?2, revision = ?3 WHERE collection_id = ?1 AND length(name_mac) > 0 AND revision = (SELECT max(revision) FROM collection_props WHERE collection_id = ?1)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "coffer.db")
			db, err := storage.Open(context.Background(), path, storage.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			var logs bytes.Buffer
			ts := &testServer{alice: newTestSpace(t, db, "alice")}
			if err := Provision(context.Background(), ts.alice); err != nil {
				t.Fatal(err)
			}
			ts.h = NewHandler(Options{Auth: &fakeAuth{accounts: map[string]*Account{"alice": {ID: 1, Username: "alice", Space: ts.alice}}},
				Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			if rec := ts.do(t, "alice", "PROPPATCH", calPath, fmt.Sprintf(patch, "first secret")); rec.Code != 207 {
				t.Fatalf("PROPPATCH: %d %s", rec.Code, rec.Body)
			}
			raw, err := sql.Open("sqlite3", path)
			if err != nil {
				t.Fatal(err)
			}
			defer raw.Close()
			var coll, rev int64
			var old []byte
			if err := raw.QueryRow(`SELECT collection_id, value_sealed, revision FROM collection_props WHERE length(name_mac) > 0 ORDER BY revision DESC LIMIT 1`).Scan(&coll, &old, &rev); err != nil {
				t.Fatal(err)
			}
			if rec := ts.do(t, "alice", "PROPPATCH", calPath, fmt.Sprintf(patch, "second secret")); rec.Code != 207 {
				t.Fatalf("second PROPPATCH: %d %s", rec.Code, rec.Body)
			}
			if res, err := raw.Exec(tt.damage, coll, old, rev); err != nil {
				t.Fatal(err)
			} else if n, _ := res.RowsAffected(); n != 1 {
				t.Fatalf("the damage changed %d rows", n)
			}
			rec := ts.do(t, "alice", "PROPFIND", calPath, "", "Depth: 0")
			if rec.Code != 503 {
				t.Fatalf("PROPFIND after the damage: %d, want 503; body:\n%s", rec.Code, rec.Body)
			}
			log := logs.String()
			if !strings.Contains(log, "status=503") || !strings.Contains(log, fmt.Sprintf("properties of collection %d", coll)) {
				t.Errorf("the log does not name the collection's properties:\n%s", log)
			}
			if strings.Contains(log+rec.Body.String(), "secret") {
				t.Errorf("the log or the answer shows a property value:\n%s\n%s", log, rec.Body)
			}
		})
	}
}
