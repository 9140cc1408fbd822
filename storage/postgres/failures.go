package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/coffer-dav/coffer/storage"
	"github.com/jackc/pgx/v5"
)

// The PostgreSQL database holds the throttle's records for every instance.
var _ storage.LoginFailures = (*DB)(nil)

// AddLoginFailures counts one failure at now on each id in one statement:
// INSERT … ON CONFLICT DO UPDATE takes each row's lock, so concurrent
// failures from any instance are all counted, and the ids go in byte order,
// so two calls naming the same ids cannot deadlock.
func (db *DB) AddLoginFailures(ctx context.Context, ids [][]byte, now, since time.Time) ([]storage.LoginFailure, error) {
	rows, err := db.pool.Query(ctx,
		`INSERT INTO login_failures AS f (id, failures, last_us)
		 SELECT id, 1, $2 FROM unnest($1::bytea[]) AS u(id) ORDER BY id
		 ON CONFLICT (id) DO UPDATE SET
		   failures = CASE WHEN f.last_us < $3 THEN 1 ELSE f.failures + 1 END,
		   last_us = greatest(f.last_us, $2)
		 RETURNING id, failures, last_us, claimed_us`, ids, now.UnixMicro(), since.UnixMicro())
	if err != nil {
		return nil, fmt.Errorf("postgres: count login failures: %w", err)
	}
	out, err := failureRecords(rows, ids)
	if err != nil {
		return nil, fmt.Errorf("postgres: count login failures: %w", err)
	}
	return out, nil
}

// LoginFailures returns the records of ids, in their order.
func (db *DB) LoginFailures(ctx context.Context, ids [][]byte) ([]storage.LoginFailure, error) {
	rows, err := db.pool.Query(ctx, `SELECT id, failures, last_us, claimed_us FROM login_failures WHERE id = ANY($1::bytea[])`, ids)
	if err != nil {
		return nil, fmt.Errorf("postgres: read login failures: %w", err)
	}
	out, err := failureRecords(rows, ids)
	if err != nil {
		return nil, fmt.Errorf("postgres: read login failures: %w", err)
	}
	return out, nil
}

// ClaimLoginAttempt claims the attempt past the allowance on every id, in
// one transaction that locks the ids' rows in byte order (making those it
// lacks), so that of two instances claiming at once one wins.
func (db *DB) ClaimLoginAttempt(ctx context.Context, ids [][]byte, now, until time.Time) ([]storage.LoginFailure, bool, error) {
	var out []storage.LoginFailure
	claimed := false
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx,
			`INSERT INTO login_failures (id, failures, last_us)
			 SELECT id, 0, 0 FROM unnest($1::bytea[]) AS u(id) ORDER BY id
			 ON CONFLICT (id) DO NOTHING`, ids); err != nil {
			return err
		}
		rows, err := tx.Query(ctx,
			`SELECT id, failures, last_us, claimed_us FROM login_failures WHERE id = ANY($1::bytea[]) ORDER BY id FOR UPDATE`, ids)
		if err != nil {
			return err
		}
		rs, err := failureRecords(rows, ids)
		if err != nil {
			return err
		}
		for _, r := range rs {
			if r.Claimed.After(now) {
				return nil
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE login_failures SET claimed_us = $2 WHERE id = ANY($1::bytea[])`, ids, until.UnixMicro()); err != nil {
			return err
		}
		for i := range rs {
			rs[i].Claimed = until
		}
		out, claimed = rs, true
		return nil
	})
	if err != nil {
		return nil, false, fmt.Errorf("postgres: claim a login attempt: %w", err)
	}
	return out, claimed, nil
}

// ReleaseLoginAttempt ends the claim made with until; the rows stay until
// ForgetLoginFailures.
func (db *DB) ReleaseLoginAttempt(ctx context.Context, ids [][]byte, until time.Time) error {
	if _, err := db.pool.Exec(ctx, `UPDATE login_failures SET claimed_us = 0 WHERE id = ANY($1::bytea[]) AND claimed_us = $2`, ids, until.UnixMicro()); err != nil {
		return fmt.Errorf("postgres: release a login attempt: %w", err)
	}
	return nil
}

// ForgetLoginFailures drops the records last failed before before, but
// for a claim that runs past it.
func (db *DB) ForgetLoginFailures(ctx context.Context, before time.Time) error {
	if _, err := db.pool.Exec(ctx, `DELETE FROM login_failures WHERE last_us < $1 AND claimed_us < $1`, before.UnixMicro()); err != nil {
		return fmt.Errorf("postgres: forget login failures: %w", err)
	}
	return nil
}

// failureRecords reads rows of (id, failures, last_us, claimed_us) into the order of ids.
func failureRecords(rows pgx.Rows, ids [][]byte) ([]storage.LoginFailure, error) {
	defer rows.Close()
	at := make(map[string]int, len(ids))
	for i, id := range ids {
		at[string(id)] = i
	}
	out := make([]storage.LoginFailure, len(ids))
	for rows.Next() {
		var id []byte
		var failures int
		var last, claimed int64
		if err := rows.Scan(&id, &failures, &last, &claimed); err != nil {
			return nil, err
		}
		if i, ok := at[string(id)]; ok {
			out[i] = storage.LoginFailure{Failures: failures, Last: fromMicro(last), Claimed: fromMicro(claimed)}
		}
	}
	return out, rows.Err()
}

// fromMicro returns the UTC time of Unix microseconds, and the zero time for 0.
func fromMicro(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}
