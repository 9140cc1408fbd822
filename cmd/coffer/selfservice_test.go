package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coffer-dav/coffer/auth"
	"github.com/coffer-dav/coffer/encryption"
	"github.com/coffer-dav/coffer/selfservice"
	"github.com/coffer-dav/coffer/storage"
)

// TestAppPasswordSlotsNeedTheirSecret extends
// TestDatabaseAndSecretCannotOpenUserKey to app passwords: with the
// database and the server secret, but no password, recovery code or app
// password, no slot opens, whatever of the files is tried as the credential.
// A revoked app password opens nothing, even with the files.
func TestAppPasswordSlotsNeedTheirSecret(t *testing.T) {
	ctx := context.Background()
	dir := privateDir(t)
	a, err := openApp(ctx, &config{data: dir, kdf: encryption.MinKDF}, openOptions{create: true})
	if err != nil {
		t.Fatal(err)
	}
	u, err := a.createUser(ctx, newUser{username: "alice", email: "alice@example.org", password: "correct horse battery"})
	if err != nil {
		t.Fatal(err)
	}
	id, err := a.auth.Login(ctx, "alice", "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	kept, keptSecret, err := a.auth.CreateAppPassword(ctx, id, "phone")
	if err != nil {
		t.Fatal(err)
	}
	revoked, revokedSecret, err := a.auth.CreateAppPassword(ctx, id, "old laptop")
	if err != nil {
		t.Fatal(err)
	}
	revokedSlot, err := a.db.Slot(ctx, u.account.ID, "app:"+revoked.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.auth.RevokeAppPassword(ctx, id, revoked.ID); err != nil {
		t.Fatal(err)
	}
	a.Close()

	// What the attacker has: the files.
	secret, err := os.ReadFile(filepath.Join(dir, secretFile))
	if err != nil {
		t.Fatal(err)
	}
	db := readOnlyDB(t, dir)
	guesses := []string{"", "alice", "phone", "old laptop", string(secret), kept.ID, revoked.ID}
	rows, err := db.Query(`SELECT id, label_sealed, verifier FROM app_passwords WHERE account_id = ?`, u.account.ID)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var appID string
		var label, verifier []byte
		if err := rows.Scan(&appID, &label, &verifier); err != nil {
			t.Fatal(err)
		}
		guesses = append(guesses, appID, string(label), string(verifier))
	}
	rows.Close()
	slots := map[string]encryption.Slot{}
	rows, err = db.Query(`SELECT kind, kdf, wrapped FROM key_slots WHERE account_id = ?`, u.account.ID)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var kind string
		var s encryption.Slot
		if err := rows.Scan(&kind, &s.KDF, &s.Wrapped); err != nil {
			t.Fatal(err)
		}
		slots[kind] = s
		guesses = append(guesses, s.KDF, string(s.Wrapped))
	}
	rows.Close()
	if _, ok := slots["app:"+kept.ID]; !ok || len(slots) != 3 {
		t.Fatalf("slots: %v", slots)
	}
	for kind, slot := range slots {
		for _, g := range guesses {
			for _, cred := range []string{g, auth.NormalizeSecret(g)} {
				if _, err := encryption.Unwrap(slot, []byte(cred), secret, encryption.SlotAD(u.account.ID, kind)); err == nil {
					t.Fatalf("slot %s opened with %q and the server secret", kind, g)
				}
			}
		}
	}
	// The kept app password opens its own slot, to the same user key.
	key, err := encryption.Unwrap(slots["app:"+kept.ID], []byte(auth.NormalizeSecret(keptSecret)), secret, encryption.SlotAD(u.account.ID, "app:"+kept.ID))
	if err != nil || !bytes.Equal(key, id.Keys.UserKey()) {
		t.Fatalf("the app password does not open its slot: %v", err)
	}
	// The revoked slot is gone from the files, so its secret opens nothing.
	for _, name := range []string{"coffer.db", "coffer.db-wal"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		if bytes.Contains(b, revokedSlot.Wrapped) {
			t.Fatalf("%s still holds the revoked slot", name)
		}
	}
	a, err = openApp(ctx, &config{data: dir, kdf: encryption.MinKDF}, openOptions{create: true})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if _, err := a.auth.Login(ctx, "alice", revokedSecret); !errors.Is(err, auth.ErrBadCredentials) {
		t.Fatalf("revoked app password after a restart = %v", err)
	}
	if _, err := a.auth.Login(ctx, "alice", keptSecret); err != nil {
		t.Fatalf("kept app password after a restart: %v", err)
	}
}

// TestImportCommand: "coffer import" unlocks with the password from
// standard input, imports a single .ics, and restores an export zip into
// a fresh account byte for byte.
func TestImportCommand(t *testing.T) {
	ctx := context.Background()
	dir := privateDir(t)
	c := &config{data: dir, kdf: encryption.MinKDF}
	lim := addLimitFlags(flag.NewFlagSet("import", flag.ContinueOnError))
	openAndClose(t, dir, newUser{username: "alice", password: "alice-password"}, newUser{username: "bob", password: "bob-password"})
	event := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//T//EN\r\nBEGIN:VEVENT\r\nUID:e1\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260301T100000Z\r\nSUMMARY:One\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
	task := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//T//EN\r\nBEGIN:VTODO\r\nUID:t1\r\nDTSTAMP:20260101T000000Z\r\nSUMMARY:Two\r\nEND:VTODO\r\nEND:VCALENDAR\r\n"
	ics := filepath.Join(dir, "in.ics")
	if err := os.WriteFile(ics, []byte(event+task), 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := importFile(ctx, c, lim, "alice", ics, strings.NewReader("wrong-password\n"), &out); !errors.Is(err, auth.ErrBadCredentials) {
		t.Fatalf("import with a wrong password = %v", err)
	}
	if err := importFile(ctx, c, lim, "alice", ics, strings.NewReader("alice-password\n"), &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "imported 2 of 2 objects") {
		t.Fatalf("import said %q", out.String())
	}

	// Export alice, then restore into bob.
	a, err := openApp(ctx, c, openOptions{create: true})
	if err != nil {
		t.Fatal(err)
	}
	alice, err := a.auth.Login(ctx, "alice", "alice-password")
	if err != nil {
		t.Fatal(err)
	}
	acct, err := a.db.AccountByUsername(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	var zip bytes.Buffer
	if err := selfservice.Export(ctx, &zip, a.db.Space(alice.AccountID, alice.Keys), acct, nil, time.Now()); err != nil {
		t.Fatal(err)
	}
	a.Close()
	zipFile := filepath.Join(dir, "export.zip")
	if err := os.WriteFile(zipFile, zip.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := importFile(ctx, c, lim, "bob", zipFile, strings.NewReader("bob-password\n"), &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	a, err = openApp(ctx, c, openOptions{create: true})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	bob, err := a.auth.Login(ctx, "bob", "bob-password")
	if err != nil {
		t.Fatal(err)
	}
	space := a.db.Space(bob.AccountID, bob.Keys)
	for coll, want := range map[string]string{"calendar": event, "tasks": task} {
		cl, err := space.Collection(ctx, storage.HomeCalendars, coll)
		if err != nil {
			t.Fatal(err)
		}
		o, err := space.Object(ctx, cl.ID, map[string]string{"calendar": "e1.ics", "tasks": "t1.ics"}[coll], storage.ReadOptions{Body: true})
		if err != nil {
			t.Fatalf("%s after restore: %v", coll, err)
		}
		if string(o.Body) != want {
			t.Fatalf("%s after restore: %q", coll, o.Body)
		}
	}
}

// TestImportSummary: the last line of an import counts in thousands and
// names the collections written and the first refusal.
func TestImportSummary(t *testing.T) {
	tests := []struct {
		res  selfservice.ImportResult
		want string
	}{
		{selfservice.ImportResult{Objects: 1998, Total: 2000, Written: map[string]int{"tasks": 498, "calendar": 1500}, Refused: []string{"object 7 (line 90): refused (403): every component needs a UID", "object 9"}},
			"imported 1,998 of 2,000 objects for ann (calendar: 1,500, tasks: 498); 2 refused: object 7 (line 90): refused (403): every component needs a UID (and the others listed above)"},
		{selfservice.ImportResult{Total: 3, Skipped: []string{"a", "b", "c"}}, "imported 0 of 3 objects for ann; 3 there already"},
		{selfservice.ImportResult{Objects: 1234567, Total: 1234567, Written: map[string]int{"contacts": 1234567}}, "imported 1,234,567 of 1,234,567 objects for ann (contacts: 1,234,567)"},
	}
	for _, tt := range tests {
		if got := importSummary("ann", &tt.res); got != tt.want {
			t.Errorf("got  %q\nwant %q", got, tt.want)
		}
	}
}
