package postgres

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/coffer-dav/coffer/encryption"
	"github.com/coffer-dav/coffer/storage"
	"github.com/jackc/pgx/v5"
)

const accountColumns = `id, username, email, display_name, created_at`

// CreateAccount creates an account, its key slots and its lifecycle start
// in one transaction, or fails with storage.ErrExists when the username is taken.
func (db *DB) CreateAccount(ctx context.Context, a storage.NewAccount) (*storage.Account, error) {
	now := time.Now().Unix()
	rev, err := firstRevision()
	if err != nil {
		return nil, err
	}
	var out *storage.Account
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		var id int64
		err := tx.QueryRow(ctx,
			`INSERT INTO accounts (username, email, display_name, created_at, revision) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
			a.Username, a.Email, a.DisplayName, now, rev).Scan(&id)
		if isUniqueViolation(err) {
			return storage.ErrExists
		}
		if err != nil {
			return fmt.Errorf("postgres: create account: %w", err)
		}
		slots, err := a.Slots(id)
		if err != nil {
			return err
		}
		for kind, s := range slots {
			if err := putSlot(ctx, tx, id, kind, s); err != nil {
				return err
			}
		}
		if a.Lifecycle != nil {
			if err := saveLifecycle(ctx, tx, id, &a.Lifecycle.Record); err != nil {
				return err
			}
			for _, e := range a.Lifecycle.Events {
				if _, err := addEvent(ctx, tx, id, e); err != nil {
					return err
				}
			}
		}
		out = &storage.Account{ID: id, Username: a.Username, Email: a.Email, DisplayName: a.DisplayName, Created: fromUnix(now)}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// AccountByUsername returns the account with that username, or storage.ErrNotFound.
func (db *DB) AccountByUsername(ctx context.Context, username string) (*storage.Account, error) {
	a, err := scanAccount(db.pool.QueryRow(ctx, `SELECT `+accountColumns+` FROM accounts WHERE username = $1`, username))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, storage.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: find account: %w", err)
	}
	return a, nil
}

// AccountByEmail returns the one account with that e-mail address, its
// ASCII letters compared without regard to case, or storage.ErrNotFound
// when none or several have it.
func (db *DB) AccountByEmail(ctx context.Context, email string) (*storage.Account, error) {
	rows, err := db.pool.Query(ctx,
		`SELECT `+accountColumns+` FROM accounts WHERE email <> '' AND lower(email COLLATE "C") = lower($1::text COLLATE "C") LIMIT 2`, email)
	if err != nil {
		return nil, fmt.Errorf("postgres: find account by e-mail: %w", err)
	}
	found, err := collectAccounts(rows)
	if err != nil {
		return nil, fmt.Errorf("postgres: find account by e-mail: %w", err)
	}
	if len(found) != 1 {
		return nil, storage.ErrNotFound
	}
	return &found[0], nil
}

// Accounts lists every account, by username (byte for byte).
func (db *DB) Accounts(ctx context.Context) ([]storage.Account, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+accountColumns+` FROM accounts ORDER BY username`)
	if err != nil {
		return nil, fmt.Errorf("postgres: list accounts: %w", err)
	}
	out, err := collectAccounts(rows)
	if err != nil {
		return nil, fmt.Errorf("postgres: list accounts: %w", err)
	}
	return out, nil
}

// CountAccounts returns how many accounts exist.
func (db *DB) CountAccounts(ctx context.Context) (int, error) {
	var n int
	if err := db.pool.QueryRow(ctx, `SELECT count(*) FROM accounts`).Scan(&n); err != nil {
		return 0, fmt.Errorf("postgres: count accounts: %w", err)
	}
	return n, nil
}

// DeleteAccount erases an account in one transaction: its key slots first,
// then its row, which takes every other row of the account with it (ON
// DELETE CASCADE). It fails with storage.ErrNotFound for an unknown
// account. What PostgreSQL keeps of the deleted rows until VACUUM, and in
// its WAL, is the operator's part of the promise. This instance's sealed
// layer forgets what it cached of the account.
func (db *DB) DeleteAccount(ctx context.Context, account int64) error {
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM key_slots WHERE account_id = $1`, account); err != nil {
			return fmt.Errorf("postgres: delete key slots: %w", err)
		}
		tag, err := tx.Exec(ctx, `DELETE FROM accounts WHERE id = $1`, account)
		if err != nil {
			return fmt.Errorf("postgres: delete account: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return storage.ErrNotFound
		}
		return nil
	})
	if err != nil {
		return err
	}
	// The opened index entries this instance cached must not outlive the
	// data; another instance's go with their least recent use.
	db.spaces.Forget(account)
	return nil
}

// Slot returns one of an account's key slots, or storage.ErrNotFound.
func (db *DB) Slot(ctx context.Context, account int64, kind string) (encryption.Slot, error) {
	var s encryption.Slot
	err := db.pool.QueryRow(ctx, `SELECT kdf, wrapped FROM key_slots WHERE account_id = $1 AND kind = $2`, account, kind).Scan(&s.KDF, &s.Wrapped)
	if errors.Is(err, pgx.ErrNoRows) {
		return encryption.Slot{}, storage.ErrNotFound
	}
	if err != nil {
		return encryption.Slot{}, fmt.Errorf("postgres: read key slot: %w", err)
	}
	return s, nil
}

// SetPassword replaces an account's password slot, or gives storage.ErrNotFound.
func (db *DB) SetPassword(ctx context.Context, account int64, slot encryption.Slot) error {
	return db.SetCredentials(ctx, account, map[string]encryption.Slot{"password": slot})
}

// SetCredentials stores key slots by kind, replacing those of the same
// kinds, in one transaction. It gives storage.ErrNotFound for an unknown account.
func (db *DB) SetCredentials(ctx context.Context, account int64, slots map[string]encryption.Slot) error {
	return db.inTx(ctx, func(tx pgx.Tx) error {
		var one int
		err := tx.QueryRow(ctx, `SELECT 1 FROM accounts WHERE id = $1`, account).Scan(&one)
		if errors.Is(err, pgx.ErrNoRows) {
			return storage.ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("postgres: set credentials: %w", err)
		}
		for kind, s := range slots {
			if err := putSlot(ctx, tx, account, kind, s); err != nil {
				if isForeignKeyViolation(err) {
					return storage.ErrNotFound // deleted meanwhile
				}
				return err
			}
		}
		return nil
	})
}

// stampQuery reads the stamp of account $1 (see PasswordStamp): no row when
// the account is gone.
const stampQuery = `SELECT coalesce((SELECT kdf FROM key_slots WHERE account_id = a.id AND kind = 'password'), '') FROM accounts a WHERE a.id = $1`

// PasswordStamp returns the KDF description of an account's password slot,
// empty when it has none, or storage.ErrNotFound for an unknown account.
func (db *DB) PasswordStamp(ctx context.Context, account int64) (string, error) {
	var stamp string
	err := db.pool.QueryRow(ctx, stampQuery, account).Scan(&stamp)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", storage.ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("postgres: read password stamp: %w", err)
	}
	return stamp, nil
}

// firstRevision is where a new account's revision counter starts: at a
// random point, as in the SQLite engine (storage.firstRevision), so that an
// account erased and created again under its name does not count through
// the tokens its devices still hold for the old one.
func firstRevision() (int64, error) {
	b, err := encryption.RandomBytes(8)
	if err != nil {
		return 0, err
	}
	return 1<<40 + int64(binary.BigEndian.Uint64(b)%(1<<50)), nil
}

// putSlot stores a key slot, replacing the one of the same kind.
func putSlot(ctx context.Context, tx pgx.Tx, account int64, kind string, s encryption.Slot) error {
	_, err := tx.Exec(ctx,
		`INSERT INTO key_slots (account_id, kind, kdf, wrapped, created_at) VALUES ($1, $2, $3, $4, $5)
		 ON CONFLICT (account_id, kind) DO UPDATE SET kdf = excluded.kdf, wrapped = excluded.wrapped, created_at = excluded.created_at`,
		account, kind, s.KDF, s.Wrapped, time.Now().Unix())
	if err != nil {
		return fmt.Errorf("postgres: store key slot: %w", err)
	}
	return nil
}

// scanAccount reads one row of accountColumns.
func scanAccount(row pgx.Row) (*storage.Account, error) {
	var a storage.Account
	var created int64
	if err := row.Scan(&a.ID, &a.Username, &a.Email, &a.DisplayName, &created); err != nil {
		return nil, err
	}
	a.Created = fromUnix(created)
	return &a, nil
}

// collectAccounts reads rows of accountColumns and closes them.
func collectAccounts(rows pgx.Rows) ([]storage.Account, error) {
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (storage.Account, error) {
		a, err := scanAccount(row)
		if err != nil {
			return storage.Account{}, err
		}
		return *a, nil
	})
}
