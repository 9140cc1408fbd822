package postgres

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/coffer-dav/coffer/storage"
	"github.com/coffer-dav/coffer/storage/storagetest"
	"github.com/jackc/pgx/v5"
)

// TestMigrationMovesMailsToOutbox: on a database of the schema before the
// outbox, the mails that waited in account_events' columns (queued, or
// claimed by a sender) move into the outbox with the tries they had, and
// the rest keep their state.
func TestMigrationMovesMailsToOutbox(t *testing.T) {
	dsn := storagetest.Postgres(t)
	ctx := context.Background()
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `CREATE TABLE coffer_schema (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		t.Fatal(err)
	}
	outbox := 0
	for _, m := range ms {
		if m.name == "0004_outbox_push.sql" {
			outbox = m.version
			break
		}
		if _, err := conn.Exec(ctx, m.script); err != nil {
			t.Fatalf("%s: %v", m.name, err)
		}
		if _, err := conn.Exec(ctx, `INSERT INTO coffer_schema (version, name) VALUES ($1, $2)`, m.version, m.name); err != nil {
			t.Fatal(err)
		}
	}
	if outbox == 0 {
		t.Fatal("no migration 0004_outbox_push.sql")
	}
	var id int64
	if err := conn.QueryRow(ctx, `INSERT INTO accounts (username, created_at, revision) VALUES ('alice', 1, 1) RETURNING id`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, fmt.Sprintf(`INSERT INTO account_events (account_id, kind, at, mail, mail_tries, mail_claimed_at) VALUES
		(%[1]d, 'queued', 200, 'queued', 0, NULL),
		(%[1]d, 'sending', 300, 'sending', 3, 250),
		(%[1]d, 'sent', 400, 'sent', 1, NULL),
		(%[1]d, 'failed', 500, 'failed', 10, NULL),
		(%[1]d, 'quiet', 600, 'none', 0, NULL)`, id)); err != nil {
		t.Fatal(err)
	}
	db, err := Open(ctx, dsn, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var cols int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM information_schema.columns WHERE table_name = 'account_events' AND column_name IN ('mail_tries', 'mail_claimed_at')`).Scan(&cols); err != nil || cols != 0 {
		t.Fatalf("%d mail columns left (%v)", cols, err)
	}
	evs, err := db.Events(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range evs {
		got = append(got, e.Kind+"="+e.Mail)
	}
	if want := "[queued=queued sending=queued sent=sent failed=failed quiet=none]"; fmt.Sprint(got) != want {
		t.Fatalf("after the migration: %v, want %s", got, want)
	}
	jobs, err := db.ClaimJobs(ctx, storage.ClaimOptions{Kind: storage.JobMail, Now: time.Unix(1000, 0), Until: time.Unix(2000, 0)})
	if err != nil {
		t.Fatal(err)
	}
	var claimed []string
	for _, j := range jobs {
		claimed = append(claimed, fmt.Sprintf("%d:%d", j.Event, j.Attempts))
	}
	if want := fmt.Sprint([]string{fmt.Sprintf("%d:1", evs[0].ID), fmt.Sprintf("%d:4", evs[1].ID)}); fmt.Sprint(claimed) != want {
		t.Fatalf("claimed %v, want %s (event:attempts)", claimed, want)
	}
}
