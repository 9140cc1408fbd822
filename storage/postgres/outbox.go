package postgres

import (
	"context"
	"errors"
	"sort"
	"time"

	"github.com/coffer-dav/coffer/storage"
	"github.com/jackc/pgx/v5"
)

// jobColumns are what a claim returns of a job.
const jobColumns = `id, account_id, kind, coalesce(event_id, 0), payload_sealed, attempts, claimed_until`

// Enqueue puts a job in the outbox and returns its id.
func (db *DB) Enqueue(ctx context.Context, j storage.NewJob) (int64, error) {
	var id int64
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		id, err = enqueue(ctx, tx, j, 0)
		return err
	})
	return id, err
}

// enqueue writes a job in tx, for event (0 for none), or collapses it
// into the one with its key that waits.
func enqueue(ctx context.Context, tx pgx.Tx, j storage.NewJob, event int64) (int64, error) {
	ev, collapse, payload, next := j.Row(event)
	var id int64
	err := tx.QueryRow(ctx,
		`INSERT INTO outbox (account_id, kind, event_id, collapse_key, payload_sealed, next_try, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
		 ON CONFLICT (account_id, kind, collapse_key) WHERE collapse_key IS NOT NULL AND claimed_until = 0
		 DO UPDATE SET payload_sealed = excluded.payload_sealed, next_try = least(outbox.next_try, excluded.next_try)
		 RETURNING id`,
		j.Account, j.Kind, ev, collapse, payload, next, time.Now().Unix()).Scan(&id)
	if err != nil {
		return 0, dbErr("enqueue", err)
	}
	return id, nil
}

// ClaimJobs claims the due jobs that o selects, those due longest first
// (returned by id), until o.Until. The rows are locked as they are
// picked, and rows another claim holds locked are skipped (SKIP LOCKED):
// concurrent claims, on any instance, take disjoint jobs without waiting
// for one another. A row whose claim another committed meanwhile no
// longer matches when it is locked, since PostgreSQL checks the
// condition again on the row's latest version.
func (db *DB) ClaimJobs(ctx context.Context, o storage.ClaimOptions) ([]storage.Job, error) {
	limit := o.Limit
	if limit <= 0 {
		limit = 100
	}
	now := o.Now.Unix()
	rows, err := db.pool.Query(ctx,
		`UPDATE outbox SET claimed_until = $1, attempts = attempts + 1
		 WHERE id IN (SELECT id FROM outbox WHERE kind = $2 AND next_try <= $3 AND claimed_until < $3 AND ($4::bigint = 0 OR account_id = $4)
		              ORDER BY next_try, id LIMIT $5 FOR UPDATE SKIP LOCKED)
		 RETURNING `+jobColumns,
		o.Until.Unix(), o.Kind, now, o.Account, limit)
	if err != nil {
		return nil, dbErr("claim jobs", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (storage.Job, error) {
		var j storage.Job
		var until int64
		err := row.Scan(&j.ID, &j.Account, &j.Kind, &j.Event, &j.Payload, &j.Attempts, &until)
		j.ClaimedUntil = fromUnix(until)
		return j, err
	})
	if err != nil {
		return nil, dbErr("claim jobs", err)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].ID < out[b].ID })
	return out, nil
}

// FinishJob records the outcome of a claimed job's attempt. A claim that
// was taken over meanwhile, or a job that is gone, is left as it is.
func (db *DB) FinishJob(ctx context.Context, j *storage.Job, o storage.JobOutcome) error {
	end, mail := o.Ends(j.Attempts)
	return db.inTx(ctx, func(tx pgx.Tx) error {
		if !end {
			// A newer job of its collapse key that waits stands for it.
			tag, err := tx.Exec(ctx, `DELETE FROM outbox WHERE id = $1 AND attempts = $2 AND collapse_key IS NOT NULL AND EXISTS (
				SELECT 1 FROM outbox w WHERE w.account_id = outbox.account_id AND w.kind = outbox.kind AND w.collapse_key = outbox.collapse_key AND w.claimed_until = 0)`,
				j.ID, j.Attempts)
			if err != nil {
				return dbErr("finish job", err)
			}
			if tag.RowsAffected() > 0 {
				return nil
			}
			var next int64
			if !o.RetryAt.IsZero() {
				next = o.RetryAt.Unix()
			}
			if _, err := tx.Exec(ctx, `UPDATE outbox SET next_try = $1, claimed_until = 0 WHERE id = $2 AND attempts = $3`, next, j.ID, j.Attempts); err != nil {
				return dbErr("finish job", err)
			}
			return nil
		}
		var event *int64
		err := tx.QueryRow(ctx, `DELETE FROM outbox WHERE id = $1 AND attempts = $2 RETURNING event_id`, j.ID, j.Attempts).Scan(&event)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return dbErr("finish job", err)
		}
		if event != nil {
			if _, err := tx.Exec(ctx, `UPDATE account_events SET mail = $1 WHERE id = $2`, mail, *event); err != nil {
				return dbErr("finish job", err)
			}
		}
		return nil
	})
}
