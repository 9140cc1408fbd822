package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/coffer-dav/coffer/storage"
	"github.com/jackc/pgx/v5"
)

// CreateAppPassword stores an app password and its key slot ("app:<id>")
// in one transaction, or fails with storage.ErrExists when the account has
// one with that id.
func (db *DB) CreateAppPassword(ctx context.Context, account int64, p storage.AppPassword) error {
	created := p.Created
	if created.IsZero() {
		created = time.Now()
	}
	return db.inTx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx,
			`INSERT INTO app_passwords (account_id, id, label_sealed, verifier, created_at) VALUES ($1, $2, $3, $4, $5)`,
			account, p.ID, p.LabelSealed, p.Verifier, created.Unix())
		if isUniqueViolation(err) {
			return storage.ErrExists
		}
		if err != nil {
			return fmt.Errorf("postgres: create app password: %w", err)
		}
		return putSlot(ctx, tx, account, "app:"+p.ID, p.Slot)
	})
}

// AppPasswords lists an account's app passwords with their key slots, in
// the order they were created.
func (db *DB) AppPasswords(ctx context.Context, account int64) ([]storage.AppPassword, error) {
	rows, err := db.pool.Query(ctx,
		`SELECT a.id, a.label_sealed, a.verifier, a.created_at, a.last_used_at, s.kdf, s.wrapped
		 FROM app_passwords a JOIN key_slots s ON s.account_id = a.account_id AND s.kind = 'app:' || a.id
		 WHERE a.account_id = $1 ORDER BY a.seq`, account)
	if err != nil {
		return nil, fmt.Errorf("postgres: list app passwords: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (storage.AppPassword, error) {
		var p storage.AppPassword
		var created, used int64
		if err := row.Scan(&p.ID, &p.LabelSealed, &p.Verifier, &created, &used, &p.Slot.KDF, &p.Slot.Wrapped); err != nil {
			return p, err
		}
		p.Created = fromUnix(created)
		if used != 0 {
			p.LastUsed = fromUnix(used)
		}
		return p, nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: list app passwords: %w", err)
	}
	return out, nil
}

// DeleteAppPassword revokes an app password: its key slot, then its row,
// in one transaction. It fails with storage.ErrNotFound when the account
// has no app password with that id.
func (db *DB) DeleteAppPassword(ctx context.Context, account int64, id string) error {
	return db.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM key_slots WHERE account_id = $1 AND kind = $2`, account, "app:"+id); err != nil {
			return fmt.Errorf("postgres: delete app password slot: %w", err)
		}
		tag, err := tx.Exec(ctx, `DELETE FROM app_passwords WHERE account_id = $1 AND id = $2`, account, id)
		if err != nil {
			return fmt.Errorf("postgres: delete app password: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return storage.ErrNotFound
		}
		return nil
	})
}

// TouchAppPassword records when an app password was last used, or fails
// with storage.ErrNotFound.
func (db *DB) TouchAppPassword(ctx context.Context, account int64, id string, at time.Time) error {
	tag, err := db.pool.Exec(ctx, `UPDATE app_passwords SET last_used_at = $1 WHERE account_id = $2 AND id = $3`, at.Unix(), account, id)
	if err != nil {
		return fmt.Errorf("postgres: record app password use: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return storage.ErrNotFound
	}
	return nil
}
