package storage

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/coffer-dav/coffer/encryption"
)

// AppPassword is one stored app password: never its secret, only a keyed
// verifier, the sealed label and the key slot the secret opens.
type AppPassword struct {
	ID          string
	LabelSealed []byte          // sealed under the user key by the caller
	Verifier    []byte          // a keyed MAC of the secret, computed by the caller
	Slot        encryption.Slot // stored in key_slots as "app:<ID>"
	Created     time.Time
	LastUsed    time.Time // zero when never used
}

// appSlotKind is the key slot kind of an app password.
func appSlotKind(id string) string { return "app:" + id }

// CreateAppPassword stores an app password and its key slot in one transaction.
// It fails with ErrExists when the id is taken.
func (db *DB) CreateAppPassword(ctx context.Context, account int64, p AppPassword) error {
	created := p.Created
	if created.IsZero() {
		created = time.Now()
	}
	return db.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx,
			`INSERT INTO app_passwords (account_id, id, label_sealed, verifier, created_at) VALUES (?, ?, ?, ?, ?)`,
			account, p.ID, p.LabelSealed, p.Verifier, created.Unix())
		if err != nil {
			if isUniqueViolation(err) {
				return ErrExists
			}
			return fmt.Errorf("storage: create app password: %w", err)
		}
		return putSlot(ctx, tx, account, appSlotKind(p.ID), p.Slot)
	})
}

// AppPasswords lists an account's app passwords with their key slots, oldest first.
func (db *DB) AppPasswords(ctx context.Context, account int64) ([]AppPassword, error) {
	rows, err := db.read.QueryContext(ctx,
		`SELECT a.id, a.label_sealed, a.verifier, a.created_at, a.last_used_at, s.kdf, s.wrapped
		 FROM app_passwords a JOIN key_slots s ON s.account_id = a.account_id AND s.kind = 'app:' || a.id
		 WHERE a.account_id = ? ORDER BY a.rowid`, account)
	if err != nil {
		return nil, fmt.Errorf("storage: list app passwords: %w", err)
	}
	defer rows.Close()
	var out []AppPassword
	for rows.Next() {
		var p AppPassword
		var created, used int64
		if err := rows.Scan(&p.ID, &p.LabelSealed, &p.Verifier, &created, &used, &p.Slot.KDF, &p.Slot.Wrapped); err != nil {
			return nil, fmt.Errorf("storage: list app passwords: %w", err)
		}
		p.Created = time.Unix(created, 0).UTC()
		if used != 0 {
			p.LastUsed = time.Unix(used, 0).UTC()
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// DeleteAppPassword revokes an app password: its key slot first, then its
// row, then the WAL is checkpointed so that no copy of the slot is left
// there. It fails with ErrNotFound when there is no such app password.
func (db *DB) DeleteAppPassword(ctx context.Context, account int64, id string) error {
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM key_slots WHERE account_id = ? AND kind = ?`, account, appSlotKind(id)); err != nil {
			return fmt.Errorf("storage: delete app password slot: %w", err)
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM app_passwords WHERE account_id = ? AND id = ?`, account, id)
		if err != nil {
			return fmt.Errorf("storage: delete app password: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		return nil
	})
	if err != nil {
		return err
	}
	// secure_delete zeroed the freed cells; the checkpoint carries the zeroed
	// pages into the file and empties the WAL. A full rebuild (Rebuild) is
	// left to account deletion.
	return db.purged(ctx)
}

// TouchAppPassword records when an app password was last used.
func (db *DB) TouchAppPassword(ctx context.Context, account int64, id string, at time.Time) error {
	res, err := db.write.ExecContext(ctx, `UPDATE app_passwords SET last_used_at = ? WHERE account_id = ? AND id = ?`, at.Unix(), account, id)
	if err != nil {
		return fmt.Errorf("storage: record app password use: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}
