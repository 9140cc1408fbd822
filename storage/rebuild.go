package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/mattn/go-sqlite3"
)

// RebuildOptions configures RebuildWhenQuiet.
type RebuildOptions struct {
	// Quiet is how long no write may have come before a pending rebuild
	// runs; 0 means one minute.
	Quiet time.Duration
	// MaxDelay bounds how long a pending rebuild waits for a quiet moment;
	// 0 means 24 hours.
	MaxDelay time.Duration
	// Report, when set, is told how long each rebuild took, or why it failed.
	Report func(took time.Duration, err error)
}

// rebuildKey is the setting that records an erase whose freed pages wait
// for a rebuild of the file. Its value is the time of the latest such
// erase, so that a rebuild clears only the erases it covered.
const rebuildKey = "rebuild_pending"

// markRebuild records in tx that the file is to be rebuilt.
func markRebuild(ctx context.Context, tx *sql.Tx) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
		rebuildKey, strconv.FormatInt(time.Now().UnixNano(), 10))
	if err != nil {
		return fmt.Errorf("storage: mark rebuild: %w", err)
	}
	return nil
}

// RebuildPending reports whether an erase waits for the file to be rebuilt.
func (db *DB) RebuildPending(ctx context.Context) (bool, error) {
	_, ok, err := db.Setting(ctx, rebuildKey)
	return ok, err
}

// busyTimeoutMS is how long a connection waits for a lock held by another.
const busyTimeoutMS = 10000

// checkpointWait bounds how long a purge retries its checkpoint before it
// leaves it to RebuildWhenQuiet.
const checkpointWait = 2 * time.Second

// errCheckpointBusy reports readers that kept the WAL from being emptied.
var errCheckpointBusy = errors.New("storage: readers kept the WAL from being emptied")

// checkpoint copies the WAL into the database file and truncates it, so
// that the pages an erase zeroed replace the old ones in the file and no
// earlier copy stays in the WAL. It costs what the WAL holds, not what the
// file holds. A reader in the middle of a transaction keeps the WAL from
// being truncated, and SQLite then reports busy in its answer rather than
// failing: each try waits for no lock and gives the write connection back,
// so writers go on between tries, and after checkpointWait it gives up
// with errCheckpointBusy.
func (db *DB) checkpoint(ctx context.Context) error {
	deadline := time.Now().Add(checkpointWait)
	for {
		done, err := db.tryCheckpoint(ctx)
		if err != nil || done {
			return err
		}
		if time.Now().After(deadline) {
			return errCheckpointBusy
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// tryCheckpoint runs one TRUNCATE checkpoint without waiting for locks and
// reports whether it emptied the WAL.
func (db *DB) tryCheckpoint(ctx context.Context) (bool, error) {
	conn, err := db.write.Conn(ctx)
	if err != nil {
		return false, fmt.Errorf("storage: checkpoint: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "PRAGMA busy_timeout = 0"); err != nil {
		return false, fmt.Errorf("storage: checkpoint: %w", err)
	}
	defer conn.ExecContext(context.Background(), "PRAGMA busy_timeout = "+strconv.Itoa(busyTimeoutMS))
	var busy, frames, copied int
	err = conn.QueryRowContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &frames, &copied)
	var se sqlite3.Error
	if errors.As(err, &se) && (se.Code == sqlite3.ErrBusy || se.Code == sqlite3.ErrLocked) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("storage: checkpoint: %w", err)
	}
	return busy == 0, nil
}

// purged checkpoints after a purge committed. When readers keep the WAL
// from being emptied, the purge stays pending: a rebuild is marked, and
// RebuildWhenQuiet retries the checkpoint at each tick until it passes.
// The purge itself has happened; the caller is not told of the delay.
func (db *DB) purged(ctx context.Context) error {
	err := db.checkpoint(ctx)
	if !errors.Is(err, errCheckpointBusy) {
		return err
	}
	db.walDirty.Store(true)
	return db.inTx(ctx, func(tx *sql.Tx) error { return markRebuild(ctx, tx) })
}

// Rebuild rewrites the whole database file (VACUUM), which also drops the
// stale copies of records that moving cells between pages can leave in a
// page's unused space, and clears the pending mark of the erases it covered.
// Every write waits for it, for a time that grows with the file.
func (db *DB) Rebuild(ctx context.Context) error {
	conn, err := db.write.Conn(ctx) // the one write connection: no write of ours runs between the steps
	if err != nil {
		return fmt.Errorf("storage: rebuild: %w", err)
	}
	defer conn.Close()
	var mark string
	err = conn.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, rebuildKey).Scan(&mark)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("storage: rebuild: %w", err)
	}
	for _, q := range []string{"PRAGMA wal_checkpoint(TRUNCATE)", "VACUUM"} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("storage: rebuild: %s: %w", q, err)
		}
	}
	// Only the erases the VACUUM covered: one by another process since the
	// mark was read has changed it.
	if _, err := conn.ExecContext(ctx, `DELETE FROM settings WHERE key = ? AND value = ?`, rebuildKey, mark); err != nil {
		return fmt.Errorf("storage: rebuild: %w", err)
	}
	conn.Close() // the checkpoint below lets writers go between its tries
	if err := db.checkpoint(ctx); errors.Is(err, errCheckpointBusy) {
		db.walDirty.Store(true)
	} else if err != nil {
		return fmt.Errorf("storage: rebuild: %w", err)
	}
	return nil
}

// RebuildWhenQuiet runs a pending rebuild once no write has come for
// o.Quiet, or once it has waited o.MaxDelay, until ctx ends. Erases by
// other processes (the CLI) are seen through the mark they leave.
func (db *DB) RebuildWhenQuiet(ctx context.Context, o RebuildOptions) {
	if o.Quiet <= 0 {
		o.Quiet = time.Minute
	}
	if o.MaxDelay <= 0 {
		o.MaxDelay = 24 * time.Hour
	}
	tick := time.NewTicker(min(max(o.Quiet/4, 10*time.Millisecond), 15*time.Second))
	defer tick.Stop()
	var since time.Time     // when this loop first saw the pending mark
	var notBefore time.Time // after a failure (a VACUUM needs room for a copy of the file): not again for an hour
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if db.walDirty.Load() {
			if err := db.checkpoint(ctx); err == nil {
				db.walDirty.Store(false)
			}
		}
		pending, err := db.RebuildPending(ctx)
		if err != nil || !pending {
			since = time.Time{}
			continue
		}
		if since.IsZero() {
			since = time.Now()
		}
		if time.Now().Before(notBefore) {
			continue
		}
		quiet := time.Since(time.Unix(0, db.lastWrite.Load())) >= o.Quiet
		if !quiet && time.Since(since) < o.MaxDelay {
			continue
		}
		start := time.Now()
		err = db.Rebuild(ctx)
		if ctx.Err() != nil {
			return
		}
		since = time.Time{}
		if err != nil {
			notBefore = time.Now().Add(time.Hour)
		}
		if o.Report != nil {
			o.Report(time.Since(start), err)
		}
	}
}
