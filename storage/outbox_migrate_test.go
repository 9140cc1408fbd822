package storage

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

// TestMigrationMovesMailsToOutbox: the mails that waited in
// account_events' columns (queued, or claimed by a sender) move into the
// outbox with the tries they had, and the rest keep their state; run
// again over a database that has the outbox, the migration adds no second
// job for a mail that has one.
func TestMigrationMovesMailsToOutbox(t *testing.T) {
	ctx := context.Background()
	version := migrationNumber(t, "_outbox_push.sql")
	path := filepath.Join(t.TempDir(), "coffer.db")
	db, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	id := newUserSpace(t, db, "alice").(*sealedSpace).user
	// One mail as 0013 left it: in the outbox, with two attempts made.
	if err := db.UpdateLifecycle(ctx, id, func(tx LifecycleTx, _ *LifecycleRecord) error {
		_, err := tx.AddEvent(NewEvent{Kind: "moved before", At: time.Unix(100, 0), Mail: true})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.write.ExecContext(ctx, `UPDATE outbox SET attempts = 2`); err != nil {
		t.Fatal(err)
	}
	old := mailColumnsBack + fmt.Sprintf(`
		INSERT INTO account_events (account_id, kind, at, mail, mail_tries, mail_claimed_at) VALUES
			(%[1]d, 'queued', 200, 'queued', 0, NULL),
			(%[1]d, 'sending', 300, 'sending', 3, 250),
			(%[1]d, 'sent', 400, 'sent', 1, NULL),
			(%[1]d, 'failed', 500, 'failed', 10, NULL),
			(%[1]d, 'quiet', 600, 'none', 0, NULL);
		PRAGMA user_version = %[2]d;`, id, version-1)
	if _, err := db.write.ExecContext(ctx, old); err != nil {
		t.Fatal(err)
	}
	db.Close()

	db, err = Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var cols int
	if err := db.read.QueryRowContext(ctx, `SELECT count(*) FROM pragma_table_info('account_events') WHERE name IN ('mail_tries', 'mail_claimed_at')`).Scan(&cols); err != nil || cols != 0 {
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
	if want := "[moved before=queued queued=queued sending=queued sent=sent failed=failed quiet=none]"; fmt.Sprint(got) != want {
		t.Fatalf("after the migration: %v, want %s", got, want)
	}
	jobs, err := db.ClaimJobs(ctx, ClaimOptions{Kind: JobMail, Now: time.Unix(1000, 0), Until: time.Unix(2000, 0)})
	if err != nil {
		t.Fatal(err)
	}
	var claimed []string
	for _, j := range jobs {
		claimed = append(claimed, fmt.Sprintf("%d:%d", j.Event, j.Attempts))
	}
	if want := fmt.Sprint([]string{fmt.Sprintf("%d:3", evs[0].ID), fmt.Sprintf("%d:1", evs[1].ID), fmt.Sprintf("%d:4", evs[2].ID)}); fmt.Sprint(claimed) != want {
		t.Fatalf("claimed %v, want %s (event:attempts)", claimed, want)
	}
	// The mail that had failed three times is given up at its fourth.
	if err := db.FinishJob(ctx, &jobs[2], JobOutcome{RetryAt: time.Unix(1000, 0), MaxAttempts: 4}); err != nil {
		t.Fatal(err)
	}
	if e, err := db.Event(ctx, evs[2].ID); err != nil || e.Mail != MailFailed {
		t.Fatalf("after its fourth try: %+v, %v", e, err)
	}
}
