package storage

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/coffer-dav/coffer/encryption"
	"github.com/mattn/go-sqlite3"
)

// Account is an account record: the part of a user's data that stays readable.
type Account struct {
	ID          int64
	Username    string
	Email       string
	DisplayName string
	Created     time.Time
}

// NewAccount describes an account to create.
type NewAccount struct {
	Username    string
	Email       string
	DisplayName string
	// Slots returns the key slots to store, by kind, once the account's id is
	// known (slots bind that id in their associated data).
	Slots func(id int64) (map[string]encryption.Slot, error)
	// Lifecycle, when set, is written in the same transaction (see lifecycle.go).
	Lifecycle *LifecycleStart
}

// CreateAccount creates an account and its key slots in one transaction. It
// fails with ErrExists when the username is taken.
func (db *DB) CreateAccount(ctx context.Context, a NewAccount) (*Account, error) {
	now := time.Now().UTC()
	rev, err := firstRevision()
	if err != nil {
		return nil, err
	}
	var out *Account
	err = db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx,
			`INSERT INTO accounts (username, email, display_name, created_at, revision) VALUES (?, ?, ?, ?, ?)`,
			a.Username, a.Email, a.DisplayName, now.Unix(), rev)
		if err != nil {
			if isUniqueViolation(err) {
				return ErrExists
			}
			return fmt.Errorf("storage: create account: %w", err)
		}
		id, err := res.LastInsertId()
		if err != nil {
			return err
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
			if err := a.Lifecycle.insert(ctx, tx, id); err != nil {
				return err
			}
		}
		out = &Account{ID: id, Username: a.Username, Email: a.Email, DisplayName: a.DisplayName, Created: time.Unix(now.Unix(), 0).UTC()}
		return nil
	})
	return out, err
}

const accountColumns = `id, username, email, display_name, created_at`

// AccountByUsername returns the account with that username, or ErrNotFound.
func (db *DB) AccountByUsername(ctx context.Context, username string) (*Account, error) {
	row := db.read.QueryRowContext(ctx, `SELECT `+accountColumns+` FROM accounts WHERE username = ?`, username)
	a, err := scanAccount(row.Scan)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return a, err
}

// accountByEmail finds at most two accounts with an address, through the
// index accounts_email (migration 0012).
const accountByEmail = `SELECT ` + accountColumns + ` FROM accounts WHERE email <> '' AND lower(email) = lower(?) LIMIT 2`

// AccountByEmail returns the one account with that e-mail address, compared
// without regard to case, or ErrNotFound when none or several have it.
func (db *DB) AccountByEmail(ctx context.Context, email string) (*Account, error) {
	rows, err := db.read.QueryContext(ctx, accountByEmail, email)
	if err != nil {
		return nil, fmt.Errorf("storage: find account by e-mail: %w", err)
	}
	defer rows.Close()
	var found []*Account
	for rows.Next() {
		a, err := scanAccount(rows.Scan)
		if err != nil {
			return nil, err
		}
		found = append(found, a)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(found) != 1 {
		return nil, ErrNotFound
	}
	return found[0], nil
}

// Accounts lists every account, by username.
func (db *DB) Accounts(ctx context.Context) ([]Account, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT `+accountColumns+` FROM accounts ORDER BY username`)
	if err != nil {
		return nil, fmt.Errorf("storage: list accounts: %w", err)
	}
	defer rows.Close()
	var out []Account
	for rows.Next() {
		a, err := scanAccount(rows.Scan)
		if err != nil {
			return nil, err
		}
		out = append(out, *a)
	}
	return out, rows.Err()
}

// CountAccounts returns how many accounts exist.
func (db *DB) CountAccounts(ctx context.Context) (int, error) {
	var n int
	err := db.read.QueryRowContext(ctx, `SELECT count(*) FROM accounts`).Scan(&n)
	return n, err
}

// Slot returns one of an account's key slots, or ErrNotFound.
func (db *DB) Slot(ctx context.Context, account int64, kind string) (encryption.Slot, error) {
	var s encryption.Slot
	err := db.read.QueryRowContext(ctx, `SELECT kdf, wrapped FROM key_slots WHERE account_id = ? AND kind = ?`, account, kind).Scan(&s.KDF, &s.Wrapped)
	if errors.Is(err, sql.ErrNoRows) {
		return s, ErrNotFound
	}
	return s, err
}

// SetPassword replaces an account's password slot, or gives ErrNotFound.
// No hash of the password is stored: opening the slot checks the password.
func (db *DB) SetPassword(ctx context.Context, account int64, slot encryption.Slot) error {
	return db.SetCredentials(ctx, account, map[string]encryption.Slot{"password": slot})
}

// DeleteAccount destroys an account: its key slots first, so that nothing
// left behind can be opened, then its rows, in one transaction. Freed cells
// and pages are zeroed (secure_delete), and the WAL is checkpointed into the
// file, so that neither keeps a copy of a key or record. The rebuild of the
// whole file, which costs what the file holds, is left pending for
// RebuildWhenQuiet: no writer waits for it here.
func (db *DB) DeleteAccount(ctx context.Context, account int64) error {
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM key_slots WHERE account_id = ?`, account); err != nil {
			return fmt.Errorf("storage: delete key slots: %w", err)
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM accounts WHERE id = ?`, account)
		if err != nil {
			return fmt.Errorf("storage: delete account: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		return markRebuild(ctx, tx)
	})
	if err != nil {
		return err
	}
	db.Forget(account)
	return db.purged(ctx)
}

// firstRevision is where a new account's revision counter starts: at a
// random point, so that an account erased and created again under its name
// does not count through the tokens its devices still hold for the old one
// (they get valid-sync-token, not a silent gap), and a start says nothing
// of anyone. The range leaves room for 2^59 changes within the 18 digits a
// token may have.
func firstRevision() (int64, error) {
	b, err := encryption.RandomBytes(8)
	if err != nil {
		return 0, err
	}
	return 1<<40 + int64(binary.BigEndian.Uint64(b)%(1<<50)), nil
}

func putSlot(ctx context.Context, tx *sql.Tx, account int64, kind string, s encryption.Slot) error {
	_, err := tx.ExecContext(ctx,
		`INSERT INTO key_slots (account_id, kind, kdf, wrapped, created_at) VALUES (?, ?, ?, ?, ?)
		 ON CONFLICT (account_id, kind) DO UPDATE SET kdf = excluded.kdf, wrapped = excluded.wrapped, created_at = excluded.created_at`,
		account, kind, s.KDF, s.Wrapped, time.Now().Unix())
	if err != nil {
		return fmt.Errorf("storage: store key slot: %w", err)
	}
	return nil
}

func scanAccount(scan func(...any) error) (*Account, error) {
	var a Account
	var created int64
	if err := scan(&a.ID, &a.Username, &a.Email, &a.DisplayName, &created); err != nil {
		return nil, err
	}
	a.Created = time.Unix(created, 0).UTC()
	return &a, nil
}

func isUniqueViolation(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && (se.ExtendedCode == sqlite3.ErrConstraintUnique || se.ExtendedCode == sqlite3.ErrConstraintPrimaryKey)
}

// PasswordStamp returns the KDF description of an account's password slot
// (a fresh salt at every wrap, so it tells one slot from the next), empty
// when it has none, or ErrNotFound when the account does not exist.
func (db *DB) PasswordStamp(ctx context.Context, account int64) (string, error) {
	var stamp string
	err := db.read.QueryRowContext(ctx,
		`SELECT coalesce((SELECT kdf FROM key_slots WHERE account_id = a.id AND kind = 'password'), '') FROM accounts a WHERE a.id = ?`,
		account).Scan(&stamp)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	return stamp, err
}
