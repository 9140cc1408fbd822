package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/coffer-dav/coffer/encryption"
)

// SetCredentials stores key slots by kind, replacing those of the same
// kinds, in one transaction: a recovery replaces the password and the
// recovery code together. It gives ErrNotFound for an unknown account.
func (db *DB) SetCredentials(ctx context.Context, account int64, slots map[string]encryption.Slot) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		var one int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM accounts WHERE id = ?`, account).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("storage: set credentials: %w", err)
		}
		for kind, s := range slots {
			if err := putSlot(ctx, tx, account, kind, s); err != nil {
				return err
			}
		}
		return nil
	})
}
