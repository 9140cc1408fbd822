package storage

import (
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/coffer-dav/coffer/encryption"
)

// Session is one signed-in browser of the dashboard as the database holds
// it: a keyed hash of its id, never the id, and the key slot the id opens.
type Session struct {
	IDMAC    []byte
	Account  int64
	Username string // read with the session; not written by CreateSession
	Slot     encryption.Slot
	Created  time.Time
	Seen     time.Time
	Expires  time.Time // the absolute end of the session
}

// SessionSlotKind is the key slot kind of the session whose id hashes to idMAC.
func SessionSlotKind(idMAC []byte) string { return "session:" + hex.EncodeToString(idMAC) }

// CreateSession stores a session and its key slot in one transaction.
func (db *DB) CreateSession(ctx context.Context, s Session) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx,
			`INSERT INTO sessions (id_mac, account_id, created_at, seen_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
			s.IDMAC, s.Account, s.Created.Unix(), s.Seen.Unix(), s.Expires.Unix())
		if err != nil {
			if isUniqueViolation(err) {
				return ErrExists
			}
			return fmt.Errorf("storage: create session: %w", err)
		}
		return putSlot(ctx, tx, s.Account, SessionSlotKind(s.IDMAC), s.Slot)
	})
}

// SessionByMAC returns the session whose id hashes to idMAC, with its key
// slot, or ErrNotFound.
func (db *DB) SessionByMAC(ctx context.Context, idMAC []byte) (*Session, error) {
	s := &Session{IDMAC: idMAC}
	var created, seen, expires int64
	err := db.read.QueryRowContext(ctx,
		`SELECT s.account_id, a.username, s.created_at, s.seen_at, s.expires_at, k.kdf, k.wrapped
		 FROM sessions s JOIN accounts a ON a.id = s.account_id
		 JOIN key_slots k ON k.account_id = s.account_id AND k.kind = ?
		 WHERE s.id_mac = ?`, SessionSlotKind(idMAC), idMAC).
		Scan(&s.Account, &s.Username, &created, &seen, &expires, &s.Slot.KDF, &s.Slot.Wrapped)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("storage: read session: %w", err)
	}
	s.Created, s.Seen, s.Expires = time.Unix(created, 0).UTC(), time.Unix(seen, 0).UTC(), time.Unix(expires, 0).UTC()
	return s, nil
}

// TouchSession records that a session was seen at at.
func (db *DB) TouchSession(ctx context.Context, idMAC []byte, at time.Time) error {
	if _, err := db.write.ExecContext(ctx, `UPDATE sessions SET seen_at = ? WHERE id_mac = ?`, at.Unix(), idMAC); err != nil {
		return fmt.Errorf("storage: record session use: %w", err)
	}
	return nil
}

// DeleteSession ends one session: its key slot, then its row, then a
// checkpoint, so that no copy of the slot stays in the WAL. Deleting a
// session that is gone already is not an error.
func (db *DB) DeleteSession(ctx context.Context, idMAC []byte) error {
	return db.deleteSessions(ctx, `SELECT account_id, id_mac FROM sessions WHERE id_mac = ?`, idMAC)
}

// DeleteSessions ends every session of an account.
func (db *DB) DeleteSessions(ctx context.Context, account int64) error {
	return db.deleteSessions(ctx, `SELECT account_id, id_mac FROM sessions WHERE account_id = ?`, account)
}

// DeleteExpiredSessions ends every session past its absolute end, or not
// seen since idleSince.
func (db *DB) DeleteExpiredSessions(ctx context.Context, now, idleSince time.Time) error {
	return db.deleteSessions(ctx, `SELECT account_id, id_mac FROM sessions WHERE expires_at <= ? OR seen_at < ?`, now.Unix(), idleSince.Unix())
}

// deleteSessions deletes the slots and rows of the sessions that query
// selects (account_id, id_mac), in one transaction, and checkpoints when
// any went.
func (db *DB) deleteSessions(ctx context.Context, query string, args ...any) error {
	deleted := 0
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, query, args...)
		if err != nil {
			return fmt.Errorf("storage: find sessions: %w", err)
		}
		type ref struct {
			account int64
			mac     []byte
		}
		var refs []ref
		for rows.Next() {
			var r ref
			if err := rows.Scan(&r.account, &r.mac); err != nil {
				rows.Close()
				return fmt.Errorf("storage: find sessions: %w", err)
			}
			refs = append(refs, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("storage: find sessions: %w", err)
		}
		for _, r := range refs {
			if _, err := tx.ExecContext(ctx, `DELETE FROM key_slots WHERE account_id = ? AND kind = ?`, r.account, SessionSlotKind(r.mac)); err != nil {
				return fmt.Errorf("storage: delete session slot: %w", err)
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE id_mac = ?`, r.mac); err != nil {
				return fmt.Errorf("storage: delete session: %w", err)
			}
		}
		deleted = len(refs)
		return nil
	})
	if err != nil || deleted == 0 {
		return err
	}
	return db.purged(ctx)
}
