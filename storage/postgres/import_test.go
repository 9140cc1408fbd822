package postgres_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/coffer-dav/coffer/encryption"
	"github.com/coffer-dav/coffer/storage"
	"github.com/coffer-dav/coffer/storage/postgres"
	"github.com/coffer-dav/coffer/storage/storagetest"
	"github.com/jackc/pgx/v5"
)

// source is a SQLite database filled with one of everything, and what a
// copy of it must show.
type source struct {
	db       *storage.DB
	keys     *encryption.Keyring
	alice    int64
	calendar int64
	token    int64 // a sync token of the calendar taken before the copy
	objects  map[string]storage.Object
}

// fillSource makes a SQLite database with accounts (one deleted, so that
// the AUTOINCREMENT ids run ahead of the rows), key slots, an app
// password, a session, lifecycle records, events, a voucher, settings,
// collections (one deleted), objects with UIDs, properties and bodies,
// deletions in the change log, and scope properties.
func fillSource(t *testing.T) *source {
	t.Helper()
	ctx := context.Background()
	db, err := storage.Open(ctx, filepath.Join(t.TempDir(), "coffer.db"), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	key, _ := encryption.NewUserKey()
	keys, err := encryption.NewKeyring(key)
	if err != nil {
		t.Fatal(err)
	}
	slots := func(int64) (map[string]encryption.Slot, error) {
		return map[string]encryption.Slot{"password": {KDF: "secret$salt", Wrapped: []byte("wrapped")}, "recovery": {KDF: "secret$other", Wrapped: []byte{}}}, nil
	}
	now := time.Now().UTC().Truncate(time.Second)
	var ids []int64
	for _, name := range []string{"alice", "bob", "carol"} {
		a, err := db.CreateAccount(ctx, storage.NewAccount{Username: name, Email: name + "@example.org", Slots: slots,
			Lifecycle: &storage.LifecycleStart{Record: storage.LifecycleRecord{Registered: now, TrialEnd: now.Add(time.Hour), Plan: "trial"},
				Events: []storage.NewEvent{{Kind: "created", At: now, OnceKey: "created", Mail: true}, {Kind: "note", At: now}}}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, a.ID)
	}
	s := &source{db: db, keys: keys, alice: ids[0], objects: map[string]storage.Object{}}
	if err := db.CreateAppPassword(ctx, s.alice, storage.AppPassword{ID: "ap1", LabelSealed: []byte("label"), Verifier: []byte("v"),
		Slot: encryption.Slot{KDF: "secret$x", Wrapped: []byte("w")}, Created: now}); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateSession(ctx, storage.Session{IDMAC: []byte("session-mac"), Account: s.alice,
		Slot: encryption.Slot{KDF: "secret$y", Wrapped: []byte("w")}, Created: now, Seen: now, Expires: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateVouchers(ctx, []storage.Voucher{{CodeHash: []byte("hash"), Plan: "year", Days: 365}}, now); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{"server_secret_check": "check", "rebuild_pending": "1"} {
		if err := db.PutSetting(ctx, k, v); err != nil {
			t.Fatal(err)
		}
	}
	sp := db.Space(s.alice, keys)
	cal, err := sp.CreateCollection(ctx, storage.NewCollection{Home: storage.HomeCalendars, Name: "work", Kind: storage.KindCalendar,
		Props: storage.Props{"{DAV:}displayname": []byte("Work")}})
	if err != nil {
		t.Fatal(err)
	}
	s.calendar = cal.ID
	gone, err := sp.CreateCollection(ctx, storage.NewCollection{Home: storage.HomeAddressBooks, Name: "old", Kind: storage.KindAddressBook})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"a.ics", "b.ics", "c.ics", "d.ics"} {
		if _, err := sp.PutObject(ctx, cal.ID, storage.PutOptions{Name: name, UID: "uid-" + name, ContentType: "text/calendar",
			Body: []byte("BEGIN:VCALENDAR " + name), Index: []byte("index " + name)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := sp.PutObject(ctx, cal.ID, storage.PutOptions{Name: "plain.txt", Body: []byte{}}); err != nil {
		t.Fatal(err)
	}
	if err := sp.PatchObject(ctx, cal.ID, "a.ics", storage.PatchOptions{Set: storage.Props{"{x:}p": []byte("value")}}); err != nil {
		t.Fatal(err)
	}
	if err := sp.PatchProps(ctx, storage.ScopePrincipal, storage.PatchOptions{Set: storage.Props{"{x:}me": []byte("card")}}); err != nil {
		t.Fatal(err)
	}
	if err := sp.DeleteObject(ctx, cal.ID, "b.ics", storage.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	// Push subscriptions on the calendar and on the calendars home (one
	// ended, so that their order numbers run ahead of the rows), and a
	// push job beside the mails.
	for i, to := range []storage.PushTarget{{Collection: cal.ID}, {Scope: storage.ScopeCalendars}, {Collection: cal.ID}} {
		sub, _, err := sp.AddSubscription(ctx, to, storage.NewSubscription{PushResource: fmt.Sprintf("https://push.example/%d", i),
			PublicKey: []byte("p256dh"), AuthSecret: []byte("auth"), Trigger: storage.PushTrigger{Content: true, ContentDepth: 1}, Expires: now.Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		if i == 2 {
			if err := sp.DeleteSubscription(ctx, sub.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := db.Enqueue(ctx, storage.NewJob{Account: s.alice, Kind: storage.JobPush, Payload: []byte("sealed push")}); err != nil {
		t.Fatal(err)
	}
	_, s.token, err = sp.Changes(ctx, cal.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := sp.DeleteObject(ctx, cal.ID, "c.ics", storage.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := sp.DeleteCollection(ctx, gone.ID); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteAccount(ctx, ids[2]); err != nil {
		t.Fatal(err)
	}
	objs, err := sp.Objects(ctx, cal.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		got, err := sp.Object(ctx, cal.ID, o.Name, storage.ReadOptions{Body: true})
		if err != nil {
			t.Fatal(err)
		}
		s.objects[o.Name] = *got
	}
	return s
}

// openTarget opens a fresh PostgreSQL database.
func openTarget(t *testing.T) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(context.Background(), storagetest.Postgres(t), postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// importAll exports src and imports it into dst.
func importAll(t *testing.T, src *storage.DB, dst *postgres.DB, o postgres.ImportOptions) (*postgres.ImportResult, error) {
	t.Helper()
	ctx := context.Background()
	e, err := src.Export(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	return dst.ImportFrom(ctx, e, o)
}

func TestImportFromCopiesEverything(t *testing.T) {
	src := fillSource(t)
	dst := openTarget(t)
	ctx := context.Background()
	var checked storage.SpaceCheck
	res, err := importAll(t, src.db, dst, postgres.ImportOptions{Check: func(ctx context.Context, c *postgres.Copy) error {
		a, err := c.AccountByUsername(ctx, "alice")
		if err != nil {
			return err
		}
		if _, err := c.Slot(ctx, a.ID, "password"); err != nil {
			return err
		}
		checked, err = storage.CheckSpace(ctx, c.Space(a.ID, src.keys))
		return err
	}})
	if err != nil {
		t.Fatal(err)
	}
	if checked.Collections != 1 || checked.Objects != len(src.objects) {
		t.Errorf("check read %+v, want 1 collection and %d objects", checked, len(src.objects))
	}
	rows := map[string]int64{}
	for _, tc := range res.Tables {
		rows[tc.Table] = tc.Rows
	}
	for _, tt := range []struct {
		table string
		rows  int64
	}{
		{"accounts", 2}, {"key_slots", 2*2 + 2}, {"app_passwords", 1}, {"sessions", 1}, {"account_lifecycle", 2},
		{"account_events", 4}, {"vouchers", 1}, {"settings", 1}, {"collections", 1}, {"objects", 3}, {"object_bodies", 3},
		{"changes", 5}, {"scope_props", 2}, {"outbox", 3}, {"push_subscriptions", 2},
	} {
		if rows[tt.table] != tt.rows {
			t.Errorf("%s: copied %d rows, want %d", tt.table, rows[tt.table], tt.rows)
		}
	}
	if _, ok, _ := dst.Setting(ctx, "rebuild_pending"); ok {
		t.Error("the SQLite rebuild mark was copied")
	}
	if v, ok, _ := dst.Setting(ctx, "server_secret_check"); !ok || v != "check" {
		t.Errorf("server_secret_check = %q, %v", v, ok)
	}

	sp := dst.Space(src.alice, src.keys)
	for name, want := range src.objects {
		got, err := sp.Object(ctx, src.calendar, name, storage.ReadOptions{Body: true})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got.ETag != want.ETag || got.Revision != want.Revision || !bytes.Equal(got.Body, want.Body) || string(got.Props["{x:}p"]) != string(want.Props["{x:}p"]) {
			t.Errorf("%s: got %+v, want %+v", name, got, want)
		}
	}
	// A token from before the copy still answers the changes since.
	changes, _, err := sp.Changes(ctx, src.calendar, src.token)
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 1 || changes[0].Name != "c.ics" || !changes[0].Deleted {
		t.Errorf("changes since the old token: %+v, want the deletion of c.ics", changes)
	}
	// The copy is writable, and new ids and revisions come after the old.
	put, err := sp.PutObject(ctx, src.calendar, storage.PutOptions{Name: "new.ics", UID: "uid-new", Body: []byte("x")})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range src.objects {
		if put.Object.Revision <= o.Revision {
			t.Errorf("a new write got revision %d, not above %d", put.Object.Revision, o.Revision)
		}
	}
	c, err := sp.CreateCollection(ctx, storage.NewCollection{Home: storage.HomeCalendars, Name: "new", Kind: storage.KindCalendar})
	if err != nil {
		t.Fatal(err)
	}
	if c.ID <= src.calendar+1 {
		t.Errorf("a new collection got id %d, which the source gave (to a deleted one) already", c.ID)
	}
	a, err := dst.CreateAccount(ctx, storage.NewAccount{Username: "dave", Slots: func(int64) (map[string]encryption.Slot, error) { return nil, nil }})
	if err != nil {
		t.Fatal(err)
	}
	if a.ID <= 3 {
		t.Errorf("a new account got id %d, which the source gave (to a deleted one) already", a.ID)
	}
	if err := dst.CreateAppPassword(ctx, src.alice, storage.AppPassword{ID: "ap2", LabelSealed: []byte("l"), Verifier: []byte("v"),
		Slot: encryption.Slot{KDF: "secret$z", Wrapped: []byte("w")}, Created: time.Now()}); err != nil {
		t.Fatal(err)
	}
	aps, err := dst.AppPasswords(ctx, src.alice)
	if err != nil || len(aps) != 2 || aps[0].ID != "ap1" {
		t.Errorf("app passwords after a new one: %+v, %v; want ap1 first", aps, err)
	}
	// The subscriptions open in the copy, and a new one comes after them.
	if _, _, err := sp.AddSubscription(ctx, storage.PushTarget{Collection: src.calendar}, storage.NewSubscription{PushResource: "https://push.example/new",
		PublicKey: []byte("k"), AuthSecret: []byte("a"), Expires: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		to   storage.PushTarget
		want string
	}{
		{storage.PushTarget{Collection: src.calendar}, "[https://push.example/0 https://push.example/new]"},
		{storage.PushTarget{Scope: storage.ScopeCalendars}, "[https://push.example/1]"},
	} {
		subs, err := sp.Subscriptions(ctx, c.to)
		var got []string
		for _, sub := range subs {
			got = append(got, sub.PushResource)
		}
		if err != nil || fmt.Sprint(got) != c.want {
			t.Errorf("subscriptions of %+v in the copy: %v, %v; want %s", c.to, got, err, c.want)
		}
	}
	// The jobs are there to claim, and a new one gets an id after theirs.
	jobs, err := dst.ClaimJobs(ctx, storage.ClaimOptions{Kind: storage.JobPush, Now: time.Now(), Until: time.Now().Add(time.Minute)})
	if err != nil || len(jobs) != 1 || string(jobs[0].Payload) != "sealed push" {
		t.Fatalf("push jobs in the copy: %+v, %v", jobs, err)
	}
	if mails, err := dst.ClaimJobs(ctx, storage.ClaimOptions{Kind: storage.JobMail, Now: time.Now(), Until: time.Now().Add(time.Minute)}); err != nil || len(mails) != 2 {
		t.Fatalf("mail jobs in the copy: %d, %v", len(mails), err)
	}
	if id, err := dst.Enqueue(ctx, storage.NewJob{Account: src.alice, Kind: storage.JobPush}); err != nil || id <= jobs[0].ID {
		t.Errorf("a new job got id %d (%v), not after %d", id, err, jobs[0].ID)
	}
}

func TestImportFromIsAllOrNothing(t *testing.T) {
	src := fillSource(t)
	ctx := context.Background()
	failure := errors.New("check failed")
	tests := []struct {
		name  string
		check func(ctx context.Context, c *postgres.Copy) error
		want  error
	}{
		{"a failing check", func(context.Context, *postgres.Copy) error { return failure }, failure},
		{"a wrong key", func(ctx context.Context, c *postgres.Copy) error {
			other, _ := encryption.NewKeyring(make([]byte, encryption.KeySize))
			_, err := storage.CheckSpace(ctx, c.Space(src.alice, other))
			return err
		}, storage.ErrDamaged},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := openTarget(t)
			if _, err := importAll(t, src.db, dst, postgres.ImportOptions{Check: tt.check}); !errors.Is(err, tt.want) {
				t.Fatalf("import: %v, want %v", err, tt.want)
			}
			if n, err := dst.CountAccounts(ctx); err != nil || n != 0 {
				t.Errorf("after a failed import: %d accounts, %v", n, err)
			}
			// The empty target takes the import then.
			if _, err := importAll(t, src.db, dst, postgres.ImportOptions{}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestImportFromRefusesANonEmptyDatabase(t *testing.T) {
	src := fillSource(t)
	ctx := context.Background()
	tests := []struct {
		name string
		fill func(t *testing.T, db *postgres.DB)
	}{
		{"an account", func(t *testing.T, db *postgres.DB) {
			if _, err := db.CreateAccount(ctx, storage.NewAccount{Username: "x", Slots: func(int64) (map[string]encryption.Slot, error) { return nil, nil }}); err != nil {
				t.Fatal(err)
			}
		}},
		{"a setting", func(t *testing.T, db *postgres.DB) {
			if err := db.PutSetting(ctx, "k", "v"); err != nil {
				t.Fatal(err)
			}
		}},
		{"an earlier import", func(t *testing.T, db *postgres.DB) {
			if _, err := importAll(t, src.db, db, postgres.ImportOptions{}); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := openTarget(t)
			tt.fill(t, dst)
			before, _ := dst.CountAccounts(ctx)
			if _, err := importAll(t, src.db, dst, postgres.ImportOptions{}); !errors.Is(err, postgres.ErrNotEmpty) {
				t.Fatalf("import into a database with %s: %v, want ErrNotEmpty", tt.name, err)
			}
			if after, _ := dst.CountAccounts(ctx); after != before {
				t.Errorf("the refused import changed the accounts: %d, then %d", before, after)
			}
		})
	}
}

// TestImportCoversThePostgresSchema: every table of the PostgreSQL schema
// but the engine's own (the schema versions, the shared login throttle)
// is one an import fills, with exactly the columns the export gives, so
// that a column added on one side only fails here rather than being left
// at its default by every migration.
func TestImportCoversThePostgresSchema(t *testing.T) {
	dsn := storagetest.Postgres(t)
	ctx := context.Background()
	db, err := postgres.Open(ctx, dsn, postgres.Options{}) // makes the schema
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT table_name::text, column_name::text FROM information_schema.columns WHERE table_schema = current_schema()`)
	if err != nil {
		t.Fatal(err)
	}
	have := map[string][]string{}
	for rows.Next() {
		var table, column string
		if err := rows.Scan(&table, &column); err != nil {
			t.Fatal(err)
		}
		have[table] = append(have[table], column)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	ownTables := map[string]bool{"coffer_schema": true, "login_failures": true}
	for _, tb := range storage.ExportTables() {
		want := tb.ColumnNames()
		got := have[tb.Name]
		slices.Sort(want)
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("table %s: PostgreSQL has columns %v, the export gives %v", tb.Name, got, want)
		}
		delete(have, tb.Name)
	}
	for table := range have {
		if !ownTables[table] {
			t.Errorf("table %s is in the PostgreSQL schema, but no import fills it", table)
		}
	}
}
