package main

import (
	"context"
	"errors"
	"time"

	"github.com/coffer-dav/coffer/auth"
	"github.com/coffer-dav/coffer/storage"
)

// CreateSession stores a dashboard session and its key slot.
func (s credentialStore) CreateSession(ctx context.Context, p auth.StoredSession) error {
	return s.db.CreateSession(ctx, storage.Session{IDMAC: p.IDMAC, Account: p.Account, Slot: p.Slot, Created: p.Created, Seen: p.Seen, Expires: p.Expires})
}

// Session reads a dashboard session by the keyed hash of its id.
func (s credentialStore) Session(ctx context.Context, idMAC []byte) (*auth.StoredSession, error) {
	p, err := s.db.SessionByMAC(ctx, idMAC)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, auth.ErrNoSession
	}
	if err != nil {
		return nil, err
	}
	return &auth.StoredSession{IDMAC: p.IDMAC, Account: p.Account, Username: p.Username, Slot: p.Slot, Created: p.Created, Seen: p.Seen, Expires: p.Expires}, nil
}

// TouchSession records a session's last use.
func (s credentialStore) TouchSession(ctx context.Context, idMAC []byte, at time.Time) error {
	return s.db.TouchSession(ctx, idMAC, at)
}

// DeleteSession ends one session.
func (s credentialStore) DeleteSession(ctx context.Context, idMAC []byte) error {
	return s.db.DeleteSession(ctx, idMAC)
}

// DeleteSessions ends every session of an account.
func (s credentialStore) DeleteSessions(ctx context.Context, account int64) error {
	return s.db.DeleteSessions(ctx, account)
}

// DeleteExpiredSessions ends the sessions past their end or idle.
func (s credentialStore) DeleteExpiredSessions(ctx context.Context, now, idleSince time.Time) error {
	return s.db.DeleteExpiredSessions(ctx, now, idleSince)
}
