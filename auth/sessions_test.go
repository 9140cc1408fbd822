package auth

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/coffer-dav/coffer/encryption"
)

// sessionStore is a memStore that keeps sessions in memory.
type sessionStore struct {
	*memStore
	smu      sync.Mutex
	sessions map[string]StoredSession
}

func (s *sessionStore) CreateSession(ctx context.Context, p StoredSession) error {
	s.smu.Lock()
	defer s.smu.Unlock()
	s.sessions[string(p.IDMAC)] = p
	return nil
}

func (s *sessionStore) Session(ctx context.Context, mac []byte) (*StoredSession, error) {
	s.smu.Lock()
	defer s.smu.Unlock()
	p, ok := s.sessions[string(mac)]
	if !ok {
		return nil, ErrNoSession
	}
	p.Username = "alice"
	return &p, nil
}

func (s *sessionStore) TouchSession(ctx context.Context, mac []byte, at time.Time) error {
	s.smu.Lock()
	defer s.smu.Unlock()
	if p, ok := s.sessions[string(mac)]; ok {
		p.Seen = at
		s.sessions[string(mac)] = p
	}
	return nil
}

func (s *sessionStore) DeleteSession(ctx context.Context, mac []byte) error {
	s.smu.Lock()
	defer s.smu.Unlock()
	delete(s.sessions, string(mac))
	return nil
}

func (s *sessionStore) DeleteSessions(ctx context.Context, account int64) error {
	s.smu.Lock()
	defer s.smu.Unlock()
	for k, p := range s.sessions {
		if p.Account == account {
			delete(s.sessions, k)
		}
	}
	return nil
}

func (s *sessionStore) DeleteExpiredSessions(ctx context.Context, now, idleSince time.Time) error {
	s.smu.Lock()
	defer s.smu.Unlock()
	for k, p := range s.sessions {
		if !now.Before(p.Expires) || p.Seen.Before(idleSince) {
			delete(s.sessions, k)
		}
	}
	return nil
}

// TestSessionLife: a session opens alice's keys with its token only, gets
// a fresh id at every sign-in, ends at sign-out on the server, after the
// idle timeout, and at its absolute end even when it is used all along; and
// its slot opens neither with the server secret alone nor under another id.
func TestSessionLife(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	mem, _ := newTestService(t, Options{})
	st := &sessionStore{memStore: mem.store.(*memStore), sessions: map[string]StoredSession{}}
	secret := make([]byte, 32)
	s, err := New(st, Options{KDF: testKDF, ServerSecret: secret, Now: clock, Sessions: SessionOptions{Idle: 30 * time.Minute, Max: 12 * time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	id, err := s.Login(ctx, "alice", "alice-password")
	if err != nil {
		t.Fatal(err)
	}
	sign := func() *Session {
		t.Helper()
		sess, err := s.StartSession(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return sess
	}
	a, b := sign(), sign()
	if a.Token == b.Token || a.CSRF == b.CSRF {
		t.Fatal("two sign-ins share a session id or form token")
	}
	for _, p := range st.sessions {
		if string(p.IDMAC) == a.Token || string(p.Slot.Wrapped) == a.Token {
			t.Fatal("the store holds the session id itself")
		}
		// The server secret and the database without the cookie open nothing.
		if _, err := encryption.Unwrap(p.Slot, secret, secret, encryption.SlotAD(p.Account, sessionSlotKind(p.IDMAC))); err == nil {
			t.Fatal("a session slot opened without its id")
		}
	}
	got, err := s.OpenSession(ctx, a.Token)
	if err != nil || got.Identity.AccountID != 1 || got.Identity.Username != "alice" || got.CSRF != a.CSRF {
		t.Fatalf("OpenSession = %+v, %v", got, err)
	}
	if !encryption.Equal(got.Identity.Keys.UserKey(), id.Keys.UserKey()) {
		t.Fatal("the session opened another key")
	}
	// A session id of the right length that was never issued, and b's slot
	// under a's record: neither opens.
	if _, err := s.OpenSession(ctx, "A"+a.Token[1:]); !errors.Is(err, ErrNoSession) {
		t.Fatalf("a forged id: %v", err)
	}
	ma, mb := s.sessions.idMAC(a.Token), s.sessions.idMAC(b.Token)
	pa := st.sessions[string(ma)]
	pa.Slot = st.sessions[string(mb)].Slot
	st.sessions[string(ma)] = pa
	if _, err := s.OpenSession(ctx, a.Token); !errors.Is(err, ErrNoSession) {
		t.Fatalf("another session's slot opened: %v", err)
	}

	tests := []struct {
		name string
		use  []time.Duration // uses after sign-in
		at   time.Duration   // the last try, after sign-in
		want error
	}{
		{"fresh", nil, time.Minute, nil},
		{"idle too long", nil, 31 * time.Minute, ErrNoSession},
		{"kept alive", []time.Duration{20 * time.Minute, 40 * time.Minute}, 55 * time.Minute, nil},
		{"past its absolute end while in use", everyQuarterHour(12 * time.Hour), 12*time.Hour + time.Minute, ErrNoSession},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := now
			t.Cleanup(func() { now = start })
			sess := sign()
			for _, d := range tt.use {
				now = start.Add(d)
				if _, err := s.OpenSession(ctx, sess.Token); err != nil {
					t.Fatalf("use after %v: %v", d, err)
				}
			}
			now = start.Add(tt.at)
			if _, err := s.OpenSession(ctx, sess.Token); !errors.Is(err, tt.want) {
				t.Fatalf("after %v: %v, want %v", tt.at, err, tt.want)
			}
		})
	}

	// Sign-out ends it on the server; "every browser" ends the rest.
	c := sign()
	if err := s.EndSession(ctx, c.Token); err != nil {
		t.Fatal(err)
	}
	if _, err := s.OpenSession(ctx, c.Token); !errors.Is(err, ErrNoSession) {
		t.Fatalf("after sign-out: %v", err)
	}
	if err := s.EndSessions(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if len(st.sessions) != 0 {
		t.Fatalf("%d sessions left after signing out everywhere", len(st.sessions))
	}
	// An app password is a device's credential: it starts no session.
	if _, err := s.StartSession(ctx, &Identity{AccountID: 1, Username: "alice", Keys: id.Keys, AppPassword: "x"}); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("an app password started a session: %v", err)
	}
}

// everyQuarterHour lists the times of a client that polls every 15 minutes up to d.
func everyQuarterHour(d time.Duration) []time.Duration {
	var out []time.Duration
	for t := 15 * time.Minute; t < d; t += 15 * time.Minute {
		out = append(out, t)
	}
	return out
}
