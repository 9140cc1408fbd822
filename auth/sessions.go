package auth

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"time"

	"github.com/coffer-dav/coffer/encryption"
)

// StoredSession is a dashboard session as a store keeps it: a keyed hash of
// its id and the user key wrapped under the id, never the id itself.
type StoredSession struct {
	IDMAC    []byte
	Account  int64
	Username string // filled in by Session; ignored by CreateSession
	Slot     encryption.Slot
	Created  time.Time
	Seen     time.Time
	Expires  time.Time // the absolute end
}

// SessionStore keeps dashboard sessions. A Store that also implements it
// enables sessions; the Service finds it by a type assertion.
type SessionStore interface {
	// CreateSession stores a session and its key slot together.
	CreateSession(ctx context.Context, s StoredSession) error
	// Session returns the session whose id hashes to idMAC, or ErrNoSession.
	Session(ctx context.Context, idMAC []byte) (*StoredSession, error)
	// TouchSession records that a session was seen.
	TouchSession(ctx context.Context, idMAC []byte, at time.Time) error
	// DeleteSession removes a session's key slot and record.
	DeleteSession(ctx context.Context, idMAC []byte) error
	// DeleteSessions removes every session of an account.
	DeleteSessions(ctx context.Context, account int64) error
	// DeleteExpiredSessions removes the sessions past their end or idle since idleSince.
	DeleteExpiredSessions(ctx context.Context, now, idleSince time.Time) error
}

// SessionOptions bounds the life of a dashboard session.
type SessionOptions struct {
	Idle time.Duration // ended when not seen for this long; zero means 30 minutes
	Max  time.Duration // ended this long after sign-in whatever happens; zero means 12 hours
}

// Session is a live dashboard session: its id (for the cookie only), the
// identity with the keys its slot opened, and its form token.
type Session struct {
	Token    string // the id, 256 random bits; only the browser's cookie holds it
	Identity *Identity
	CSRF     string // the form token, derived from the id
	Expires  time.Time
}

// sessionState is the Service's handle on sessions.
type sessionState struct {
	store SessionStore      // nil: sessions are off
	mac   encryption.MACKey // keys the id hash, derived from the server secret
	o     SessionOptions
}

// Session errors.
var (
	ErrSessionsOff = errors.New("auth: sessions are not available")
	ErrNoSession   = errors.New("auth: no such session, or it has ended")
)

// sessionTokenBytes is the size of a session id.
const sessionTokenBytes = 32

// sessionSeenResolution is how often a session's last use is written.
const sessionSeenResolution = time.Minute

// newSessionState derives the id-hash key and picks up the store's session support.
func newSessionState(store Store, serverSecret []byte, o SessionOptions) (*sessionState, error) {
	key, err := encryption.Derive(serverSecret, encryption.SessionID)
	if err != nil {
		return nil, err
	}
	if o.Idle <= 0 {
		o.Idle = 30 * time.Minute
	}
	if o.Max <= 0 {
		o.Max = 12 * time.Hour
	}
	ss, _ := store.(SessionStore)
	return &sessionState{store: ss, mac: key, o: o}, nil
}

// sessionSlotKind is the key slot kind of the session whose id hashes to
// idMAC; storage names the slot the same way.
func sessionSlotKind(idMAC []byte) string { return "session:" + hex.EncodeToString(idMAC) }

// idMAC is the keyed hash under which a session id is stored.
func (st *sessionState) idMAC(token string) []byte {
	m := st.mac.NewHash()
	m.Write([]byte(token))
	return m.Sum(nil)
}

// csrfToken derives a session's form token from its id: only the holder
// of the cookie can compute it, and it ends with the session.
func csrfToken(token string) string {
	return base64.RawURLEncoding.EncodeToString(encryption.FormToken([]byte(token)))
}

// StartSession begins a dashboard session for an identity that signed in
// with its account password. The user key is wrapped under the new id and
// the server secret, so the session opens the keys only with its cookie.
func (s *Service) StartSession(ctx context.Context, id *Identity) (*Session, error) {
	st := s.sessions
	if st.store == nil {
		return nil, ErrSessionsOff
	}
	if id.AppPassword != "" {
		return nil, ErrBadCredentials // an app password is a device's, not a person's sign-in
	}
	raw, err := encryption.RandomBytes(sessionTokenBytes)
	if err != nil {
		return nil, err
	}
	token := base64.RawURLEncoding.EncodeToString(raw)
	mac := st.idMAC(token)
	slot, err := encryption.WrapSecret(id.Keys.UserKey(), []byte(token), s.o.ServerSecret, encryption.SlotAD(id.AccountID, sessionSlotKind(mac)))
	if err != nil {
		return nil, err
	}
	now := s.o.Now().UTC()
	stored := StoredSession{IDMAC: mac, Account: id.AccountID, Slot: slot, Created: now, Seen: now, Expires: now.Add(st.o.Max)}
	if err := st.store.CreateSession(ctx, stored); err != nil {
		return nil, err
	}
	return &Session{Token: token, Identity: s.sessionIdentity(id.AccountID, id.Username, id.Keys), CSRF: csrfToken(token), Expires: stored.Expires}, nil
}

// OpenSession returns the live session of a cookie's id with the keys its
// slot opens, or ErrNoSession when there is none, it has ended, or it was
// idle too long (then it is deleted).
func (s *Service) OpenSession(ctx context.Context, token string) (*Session, error) {
	st := s.sessions
	if st.store == nil {
		return nil, ErrSessionsOff
	}
	if len(token) != base64.RawURLEncoding.EncodedLen(sessionTokenBytes) {
		return nil, ErrNoSession
	}
	mac := st.idMAC(token)
	stored, err := st.store.Session(ctx, mac)
	if err != nil {
		return nil, err
	}
	now := s.o.Now().UTC()
	if !now.Before(stored.Expires) || now.Sub(stored.Seen) >= st.o.Idle {
		if err := st.store.DeleteSession(ctx, mac); err != nil {
			return nil, err
		}
		return nil, ErrNoSession
	}
	key, err := encryption.Unwrap(stored.Slot, []byte(token), s.o.ServerSecret, encryption.SlotAD(stored.Account, sessionSlotKind(mac)))
	if err != nil {
		return nil, ErrNoSession
	}
	keys, err := encryption.NewKeyring(key)
	if err != nil {
		return nil, err
	}
	if now.Sub(stored.Seen) >= sessionSeenResolution {
		if err := st.store.TouchSession(ctx, mac, now); err != nil {
			return nil, err
		}
	}
	return &Session{Token: token, Identity: s.sessionIdentity(stored.Account, stored.Username, keys), CSRF: csrfToken(token), Expires: stored.Expires}, nil
}

// EndSession ends the session of a cookie's id on the server: its key
// slot and record are deleted. An unknown id is not an error.
func (s *Service) EndSession(ctx context.Context, token string) error {
	if s.sessions.store == nil {
		return ErrSessionsOff
	}
	return s.sessions.store.DeleteSession(ctx, s.sessions.idMAC(token))
}

// EndSessions ends every session of an account ("sign out of every browser").
func (s *Service) EndSessions(ctx context.Context, account int64) error {
	if s.sessions.store == nil {
		return ErrSessionsOff
	}
	return s.sessions.store.DeleteSessions(ctx, account)
}

// sweepSessions deletes the sessions that have ended or been idle too long.
func (s *Service) sweepSessions(ctx context.Context, now time.Time) {
	if s.sessions.store == nil {
		return
	}
	now = now.UTC()
	_ = s.sessions.store.DeleteExpiredSessions(ctx, now, now.Add(-s.sessions.o.Idle))
}

// sessionIdentity is the identity a session acts as.
func (s *Service) sessionIdentity(account int64, username string, keys *encryption.Keyring) *Identity {
	return &Identity{AccountID: account, Username: username, Keys: keys}
}
