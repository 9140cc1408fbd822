package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/coffer-dav/coffer/storage"
	"github.com/jackc/pgx/v5"
)

// CreateSession stores a session and its key slot in one transaction, or
// fails with storage.ErrExists when its id is taken.
func (db *DB) CreateSession(ctx context.Context, s storage.Session) error {
	return db.inTx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx,
			`INSERT INTO sessions (id_mac, account_id, created_at, seen_at, expires_at) VALUES ($1, $2, $3, $4, $5)`,
			s.IDMAC, s.Account, s.Created.Unix(), s.Seen.Unix(), s.Expires.Unix())
		if isUniqueViolation(err) {
			return storage.ErrExists
		}
		if err != nil {
			return fmt.Errorf("postgres: create session: %w", err)
		}
		return putSlot(ctx, tx, s.Account, storage.SessionSlotKind(s.IDMAC), s.Slot)
	})
}

// SessionByMAC returns the session whose id hashes to idMAC, with its
// account's username and its key slot, or storage.ErrNotFound.
func (db *DB) SessionByMAC(ctx context.Context, idMAC []byte) (*storage.Session, error) {
	s := &storage.Session{IDMAC: idMAC}
	var created, seen, expires int64
	err := db.pool.QueryRow(ctx,
		`SELECT s.account_id, a.username, s.created_at, s.seen_at, s.expires_at, k.kdf, k.wrapped
		 FROM sessions s JOIN accounts a ON a.id = s.account_id
		 JOIN key_slots k ON k.account_id = s.account_id AND k.kind = $1
		 WHERE s.id_mac = $2`, storage.SessionSlotKind(idMAC), idMAC).
		Scan(&s.Account, &s.Username, &created, &seen, &expires, &s.Slot.KDF, &s.Slot.Wrapped)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, storage.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: read session: %w", err)
	}
	s.Created, s.Seen, s.Expires = fromUnix(created), fromUnix(seen), fromUnix(expires)
	return s, nil
}

// TouchSession records that a session was seen at at; an unknown session
// is not an error.
func (db *DB) TouchSession(ctx context.Context, idMAC []byte, at time.Time) error {
	if _, err := db.pool.Exec(ctx, `UPDATE sessions SET seen_at = $1 WHERE id_mac = $2`, at.Unix(), idMAC); err != nil {
		return fmt.Errorf("postgres: record session use: %w", err)
	}
	return nil
}

// DeleteSession ends one session, its key slot with it. Deleting a session
// that is gone already is not an error.
func (db *DB) DeleteSession(ctx context.Context, idMAC []byte) error {
	return db.deleteSessions(ctx, `id_mac = $1`, idMAC)
}

// DeleteSessions ends every session of an account.
func (db *DB) DeleteSessions(ctx context.Context, account int64) error {
	return db.deleteSessions(ctx, `account_id = $1`, account)
}

// DeleteExpiredSessions ends every session past its absolute end, or not
// seen since idleSince.
func (db *DB) DeleteExpiredSessions(ctx context.Context, now, idleSince time.Time) error {
	return db.deleteSessions(ctx, `expires_at <= $1 OR seen_at < $2`, now.Unix(), idleSince.Unix())
}

// deleteSessions deletes the sessions that where selects and their key
// slots in one statement, so that exactly the slots of the rows it deleted
// go, even while other instances create sessions that match where.
func (db *DB) deleteSessions(ctx context.Context, where string, args ...any) error {
	_, err := db.pool.Exec(ctx,
		`WITH gone AS (DELETE FROM sessions WHERE `+where+` RETURNING account_id, id_mac)
		 DELETE FROM key_slots k USING gone g WHERE k.account_id = g.account_id AND k.kind = 'session:' || encode(g.id_mac, 'hex')`,
		args...)
	if err != nil {
		return fmt.Errorf("postgres: delete sessions: %w", err)
	}
	return nil
}
