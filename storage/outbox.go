package storage

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"time"
)

// The outbox holds everything that is sent later, whatever it is: the
// e-mails of recorded events and the pushes of changes. Each job is a
// row with its kind, an opaque payload, the attempts made and the time
// it is due. A sender claims due jobs for a while (the claim's lease);
// a claim is the sender's alone, on every instance, and one whose lease
// ran out (its sender died) is due again. An attempt ends in FinishJob:
// done (the job goes), retried at a later time, or given up after its
// attempts.
//
// A producer may give jobs a collapse key: while a job with the key waits
// unclaimed, another of its account and kind with the key is the same
// job, its payload replaced and due at the earlier of the two times, so
// that changes within a short window go out as one message with the
// latest payload. A job claimed already is left to its sender; should it
// come back for a retry while a newer one waits, the newer one stands
// for it.
//
// Storage never opens a payload. A producer whose payload holds user data
// seals it before Enqueue; a job is run by a worker that may hold no
// user key (a push retried after its request ended), so that is the
// producer's choice of key. A mail's payload is empty: the job names its
// event, whose state (Event.Mail) follows the job.

// Job kinds.
const (
	JobMail = "mail" // the e-mail of an account event (Job.Event)
	JobPush = "push" // a WebDAV-Push message
)

// NewJob is a job to put in the outbox.
type NewJob struct {
	Account int64
	Kind    string
	Payload []byte    // opaque; sealed by the producer where it holds user data
	NextTry time.Time // when it is first due; zero: at once
	// Collapse is the job's collapse key, opaque and readable (a keyed
	// MAC, where it names user data); nil for none.
	Collapse []byte
}

// Row returns the values that an engine stores for the job, queued for
// event (0 for none): the event and collapse key, NULL for none; the
// payload, empty for none; and when it is due, in Unix seconds, 0 for at
// once.
func (j NewJob) Row(event int64) (ev, collapse any, payload []byte, next int64) {
	if event != 0 {
		ev = event
	}
	if len(j.Collapse) > 0 {
		collapse = j.Collapse
	}
	payload = j.Payload
	if payload == nil {
		payload = []byte{}
	}
	return ev, collapse, payload, unixOrZero(j.NextTry)
}

// Job is a claimed job.
type Job struct {
	ID      int64
	Account int64
	Kind    string
	Event   int64 // the event a mail tells of; 0 for other kinds
	Payload []byte
	// Attempts counts the claims of the job, this one included; it is also
	// what FinishJob knows the claim by.
	Attempts     int
	ClaimedUntil time.Time // the claim's lease: past it, another sender may take the job
}

// ClaimOptions select the jobs a claim takes.
type ClaimOptions struct {
	Kind    string
	Account int64     // of this account only; 0 for every account
	Now     time.Time // jobs due at Now, not claimed or with a lease that ran out before it
	Until   time.Time // the lease of the claim; after Now
	Limit   int       // at most this many; 0 means 100
}

// JobOutcome is what became of a claimed job's attempt.
type JobOutcome struct {
	Done bool // sent: the job ends (a mail's event reads sent)
	// RetryAt is when a job not done is due again, unless it has had
	// MaxAttempts attempts (0: no bound): then it is given up and ends (a
	// mail's event reads failed).
	RetryAt     time.Time
	MaxAttempts int
}

// Mail delivery states of an Event.
const (
	MailNone    = "none"    // no e-mail
	MailQueued  = "queued"  // in the outbox
	MailSending = "sending" // claimed by a sender
	MailSent    = "sent"
	MailFailed  = "failed" // given up
)

// defaultClaim is how many jobs a claim takes when ClaimOptions.Limit is 0.
const defaultClaim = 100

// limit returns how many jobs the claim takes.
func (o ClaimOptions) limit() int {
	if o.Limit <= 0 {
		return defaultClaim
	}
	return o.Limit
}

// Ends tells engines what FinishJob writes for an attempt that was the
// job's attempts-th: whether the job ends, and if so the state a mail's
// event takes.
func (o JobOutcome) Ends(attempts int) (end bool, mail string) {
	switch {
	case o.Done:
		return true, MailSent
	case o.MaxAttempts > 0 && attempts >= o.MaxAttempts:
		return true, MailFailed
	}
	return false, ""
}

// jobColumns are what a claim returns of a job.
const jobColumns = `id, account_id, kind, coalesce(event_id, 0), payload_sealed, attempts, claimed_until`

// scanJob reads one row of jobColumns.
func scanJob(scan func(...any) error) (Job, error) {
	var j Job
	var until int64
	if err := scan(&j.ID, &j.Account, &j.Kind, &j.Event, &j.Payload, &j.Attempts, &until); err != nil {
		return Job{}, err
	}
	j.ClaimedUntil = time.Unix(until, 0).UTC()
	return j, nil
}

// sortJobs orders claimed jobs by id, the order they were queued in.
func sortJobs(js []Job) {
	sort.Slice(js, func(a, b int) bool { return js[a].ID < js[b].ID })
}

// unixOrZero returns the Unix seconds of t, 0 for the zero time.
func unixOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

// Enqueue puts a job in the outbox and returns its id.
func (db *DB) Enqueue(ctx context.Context, j NewJob) (int64, error) {
	var id int64
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		id, err = enqueue(ctx, tx, j, 0)
		return err
	})
	return id, err
}

// enqueue writes a job in tx, for event (0 for none), or collapses it
// into the one with its key that waits.
func enqueue(ctx context.Context, tx *sql.Tx, j NewJob, event int64) (int64, error) {
	ev, collapse, payload, next := j.Row(event)
	var id int64
	err := tx.QueryRowContext(ctx,
		`INSERT INTO outbox (account_id, kind, event_id, collapse_key, payload_sealed, next_try, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
		 ON CONFLICT (account_id, kind, collapse_key) WHERE collapse_key IS NOT NULL AND claimed_until = 0
		 DO UPDATE SET payload_sealed = excluded.payload_sealed, next_try = min(next_try, excluded.next_try)
		 RETURNING id`,
		j.Account, j.Kind, ev, collapse, payload, next, time.Now().Unix()).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("storage: enqueue: %w", err)
	}
	return id, nil
}

// ClaimJobs claims the due jobs that o selects, those due longest first
// (returned by id), until o.Until. SQLite's one writer runs claims one
// after another, so that two never take the same job.
func (db *DB) ClaimJobs(ctx context.Context, o ClaimOptions) ([]Job, error) {
	var out []Job
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx,
			`UPDATE outbox SET claimed_until = ?, attempts = attempts + 1
			 WHERE id IN (SELECT id FROM outbox WHERE kind = ? AND next_try <= ? AND claimed_until < ? AND (? = 0 OR account_id = ?) ORDER BY next_try, id LIMIT ?)
			 RETURNING `+jobColumns,
			o.Until.Unix(), o.Kind, o.Now.Unix(), o.Now.Unix(), o.Account, o.Account, o.limit())
		if err != nil {
			return fmt.Errorf("storage: claim jobs: %w", err)
		}
		defer rows.Close()
		out = nil // a retried batch starts afresh
		for rows.Next() {
			j, err := scanJob(rows.Scan)
			if err != nil {
				return fmt.Errorf("storage: claim jobs: %w", err)
			}
			out = append(out, j)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	sortJobs(out)
	return out, nil
}

// FinishJob records the outcome of a claimed job's attempt. A claim that
// was taken over meanwhile (its lease ran out and another sender claimed
// the job), or a job that is gone, is left as it is.
func (db *DB) FinishJob(ctx context.Context, j *Job, o JobOutcome) error {
	end, mail := o.Ends(j.Attempts)
	return db.inTx(ctx, func(tx *sql.Tx) error {
		if !end {
			// A newer job of its collapse key that waits stands for it.
			res, err := tx.ExecContext(ctx, `DELETE FROM outbox WHERE id = ? AND attempts = ? AND collapse_key IS NOT NULL AND EXISTS (
				SELECT 1 FROM outbox w WHERE w.account_id = outbox.account_id AND w.kind = outbox.kind AND w.collapse_key = outbox.collapse_key AND w.claimed_until = 0)`,
				j.ID, j.Attempts)
			if err != nil {
				return fmt.Errorf("storage: finish job: %w", err)
			}
			if n, _ := res.RowsAffected(); n > 0 {
				return nil
			}
			_, err = tx.ExecContext(ctx, `UPDATE outbox SET next_try = ?, claimed_until = 0 WHERE id = ? AND attempts = ?`,
				unixOrZero(o.RetryAt), j.ID, j.Attempts)
			return err
		}
		var event sql.NullInt64
		err := tx.QueryRowContext(ctx, `DELETE FROM outbox WHERE id = ? AND attempts = ? RETURNING event_id`, j.ID, j.Attempts).Scan(&event)
		if err == sql.ErrNoRows {
			return nil
		}
		if err != nil {
			return fmt.Errorf("storage: finish job: %w", err)
		}
		if event.Valid {
			_, err = tx.ExecContext(ctx, `UPDATE account_events SET mail = ? WHERE id = ?`, mail, event.Int64)
		}
		return err
	})
}
