package auth

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coffer-dav/coffer/encryption"
)

var testKDF = encryption.MinKDF

// memStore is an in-memory Store that counts and times its callers.
type memStore struct {
	mu       sync.Mutex
	creds    map[string]*Credentials
	calls    atomic.Int32
	inFlight atomic.Int32
	maxSeen  atomic.Int32
	hold     time.Duration // how long Credentials takes, to observe concurrency
}

func (m *memStore) Credentials(ctx context.Context, username string) (*Credentials, error) {
	m.calls.Add(1)
	n := m.inFlight.Add(1)
	defer m.inFlight.Add(-1)
	for {
		old := m.maxSeen.Load()
		if n <= old || m.maxSeen.CompareAndSwap(old, n) {
			break
		}
	}
	time.Sleep(m.hold)
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.creds[username]
	if !ok {
		return nil, ErrUnknownUser
	}
	cp := *c
	return &cp, nil
}

func (m *memStore) SetPassword(ctx context.Context, account int64, slot encryption.Slot) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, c := range m.creds {
		if c.AccountID == account {
			c.PasswordSlot = slot
			return nil
		}
	}
	return errors.New("no such account")
}

// newTestService returns a service with one user "alice" whose password is "alice-password".
func newTestService(t *testing.T, o Options) (*Service, *memStore) {
	t.Helper()
	st := &memStore{creds: map[string]*Credentials{}}
	if o.KDF == (encryption.KDFParams{}) {
		o.KDF = testKDF
	}
	if o.ServerSecret == nil {
		o.ServerSecret = make([]byte, 32)
	}
	s, err := New(st, o)
	if err != nil {
		t.Fatal(err)
	}
	e, err := s.Enroll("alice-password")
	if err != nil {
		t.Fatal(err)
	}
	slots, err := e.Slots(1)
	if err != nil {
		t.Fatal(err)
	}
	st.creds["alice"] = &Credentials{AccountID: 1, Username: "alice", PasswordSlot: slots["password"], RecoverySlot: slots["recovery"]}
	return s, st
}

func TestLogin(t *testing.T) {
	s, st := newTestService(t, Options{})
	ctx := context.Background()
	tests := []struct {
		user, password string
		err            error
	}{
		{"alice", "alice-password", nil},
		{"alice", "wrong-password", ErrBadCredentials},
		{"bob", "alice-password", ErrBadCredentials},
		{"alice", "", ErrBadCredentials},
	}
	for _, tt := range tests {
		id, err := s.Login(ctx, tt.user, tt.password)
		if !errors.Is(err, tt.err) {
			t.Fatalf("Login(%s, %s) = %v, want %v", tt.user, tt.password, err, tt.err)
		}
		if err == nil && (id.AccountID != 1 || id.Keys == nil) {
			t.Fatalf("Login(%s) identity = %+v", tt.user, id)
		}
	}
	// A recovery code also unlocks the keys, for the operator's passwd command.
	if _, err := s.Unlock(ctx, "alice", "not-the-code"); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("Unlock with a wrong code = %v", err)
	}
	_ = st
}

func TestLoginCacheSkipsArgon2(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	clock := func() time.Time { return now }
	s, st := newTestService(t, Options{Now: clock, CacheIdle: 2 * time.Hour, CacheMax: 24 * time.Hour})
	ctx := context.Background()
	first, err := s.Login(ctx, "alice", "alice-password")
	if err != nil {
		t.Fatal(err)
	}
	calls := st.calls.Load()
	// A device that polls every 15 minutes for most of a day pays for Argon2 once.
	for i := 0; i < 90; i++ {
		now = now.Add(15 * time.Minute)
		id, err := s.Login(ctx, "alice", "alice-password")
		if err != nil || id != first {
			t.Fatalf("poll %d: %v", i, err)
		}
	}
	if got := st.calls.Load(); got != calls {
		t.Fatalf("cached logins ran %d verifications", got-calls)
	}
	// A wrong password is never answered from the cache.
	if _, err := s.Login(ctx, "alice", "alice-passwore"); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("wrong password = %v", err)
	}
	// Past the whole-life bound the login is verified again.
	now = now.Add(3 * time.Hour)
	calls = st.calls.Load()
	if _, err := s.Login(ctx, "alice", "alice-password"); err != nil {
		t.Fatal(err)
	}
	if st.calls.Load() != calls+1 {
		t.Fatal("an expired cache entry was reused")
	}
}

func TestChangePasswordEndsOldLoginAtOnce(t *testing.T) {
	s, _ := newTestService(t, Options{})
	ctx := context.Background()
	id, err := s.Login(ctx, "alice", "alice-password")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.ChangePassword(ctx, id, "new-password-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Login(ctx, "alice", "alice-password"); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("old password after change = %v, want ErrBadCredentials", err)
	}
	again, err := s.Login(ctx, "alice", "new-password-1")
	if err != nil {
		t.Fatal(err)
	}
	// The same user key comes out: the data stays readable.
	if string(again.Keys.UserKey()) != string(id.Keys.UserKey()) {
		t.Fatal("the new password unwraps a different user key")
	}
}

func TestArgon2ConcurrencyIsBoundedAndLoginsShared(t *testing.T) {
	s, st := newTestService(t, Options{MaxArgon2: 2})
	st.hold = 20 * time.Millisecond
	ctx := context.Background()
	var wg sync.WaitGroup
	// 12 distinct wrong passwords: each needs its own verification.
	for i := 0; i < 12; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			s.Login(ctx, "alice", "wrong-"+string(rune('a'+i)))
		}(i)
	}
	wg.Wait()
	if got := st.maxSeen.Load(); got > 2 {
		t.Fatalf("%d verifications ran at once, want at most 2", got)
	}
	// 20 identical concurrent logins share one verification.
	before := st.calls.Load()
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.Login(ctx, "alice", "alice-password"); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if got := st.calls.Load() - before; got != 1 {
		t.Fatalf("identical logins ran %d verifications, want 1", got)
	}
}

func TestQueueBoundThrottles(t *testing.T) {
	s, st := newTestService(t, Options{MaxArgon2: 1, MaxWaiting: 2})
	st.hold = 100 * time.Millisecond
	ctx := context.Background()
	var wg sync.WaitGroup
	var throttled atomic.Int32
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			_, err := s.Login(ctx, "alice", "wrong-"+string(rune('a'+i)))
			var th *Throttled
			if errors.As(err, &th) {
				throttled.Add(1)
			}
		}(i)
	}
	wg.Wait()
	if throttled.Load() == 0 {
		t.Fatal("no login was throttled with 10 waiting for 1 place and a queue of 2")
	}
}

func TestRehashOnParameterChange(t *testing.T) {
	s, st := newTestService(t, Options{})
	stronger := encryption.KDFParams{Time: 3, MemoryKiB: 19 * 1024, Threads: 1}
	s2, err := New(st, Options{KDF: stronger, ServerSecret: make([]byte, 32)})
	if err != nil {
		t.Fatal(err)
	}
	_ = s
	if _, err := s2.Login(context.Background(), "alice", "alice-password"); err != nil {
		t.Fatal(err)
	}
	if p, _ := encryption.KDFParamsOf(st.creds["alice"].PasswordSlot); p != stronger {
		t.Fatalf("slot not rewrapped: %v", p)
	}
	if _, err := s2.Login(context.Background(), "alice", "alice-password"); err != nil {
		t.Fatal(err)
	}
}

// stampStore is a memStore that also tells the stored slot's stamp, as the real store does.
type stampStore struct{ *memStore }

func (s stampStore) PasswordStamp(ctx context.Context, account int64) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.creds {
		if c.AccountID == account {
			return c.PasswordSlot.KDF, nil
		}
	}
	return "", errors.New("no such account")
}

// TestPasswordSetElsewhereEndsCachedLogins: a password set by another
// process (the CLI) ends the running server's cached logins at once.
func TestPasswordSetElsewhereEndsCachedLogins(t *testing.T) {
	_, st := newTestService(t, Options{})
	s, err := New(stampStore{st}, Options{KDF: testKDF, ServerSecret: make([]byte, 32)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	id, err := s.Login(ctx, "alice", "alice-password")
	if err != nil {
		t.Fatal(err)
	}
	calls := st.calls.Load()
	if _, err := s.Login(ctx, "alice", "alice-password"); err != nil || st.calls.Load() != calls {
		t.Fatalf("a cached login was verified again: %v", err)
	}
	// Another service over the same store stands for the other process.
	other, err := New(st, Options{KDF: testKDF, ServerSecret: make([]byte, 32)})
	if err != nil {
		t.Fatal(err)
	}
	if err := other.ChangePassword(ctx, id, "changed-elsewhere"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Login(ctx, "alice", "alice-password"); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("the old password after a change elsewhere: %v", err)
	}
	if _, err := s.Login(ctx, "alice", "changed-elsewhere"); err != nil {
		t.Fatal(err)
	}
}

// TestUnknownUserCostsAsMuchAsAWrongPassword: an unknown username goes
// through the same Argon2 gate once, against a decoy slot of the configured cost,
// exactly as a wrong password for a known one does, so the answer time
// tells nothing about which usernames exist.
func TestUnknownUserCostsAsMuchAsAWrongPassword(t *testing.T) {
	s, _ := newTestService(t, Options{})
	ctx := context.Background()
	// The decoy slot is of the configured cost, and a password gets as far
	// as the AEAD with it (ErrOpen comes only after the Argon2 run).
	if p, ok := encryption.KDFParamsOf(s.decoy); !ok || p != testKDF {
		t.Fatalf("the decoy slot %q is not of the configured cost %v", s.decoy.KDF, testKDF)
	}
	if _, err := encryption.Unwrap(s.decoy, []byte("alice-password"), make([]byte, 32), encryption.SlotAD(0, "password")); !errors.Is(err, encryption.ErrOpen) {
		t.Fatalf("the decoy slot fails before its Argon2 run: %v", err)
	}
	for _, tt := range []struct{ user, password string }{
		{"alice", "wrong-password"},
		{"nobody-such", "wrong-password"},
	} {
		before := s.Argon2Runs()
		if _, err := s.Login(ctx, tt.user, tt.password); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("%s: %v", tt.user, err)
		}
		if got := s.Argon2Runs() - before; got != 1 {
			t.Fatalf("%s: %d Argon2 runs, want 1", tt.user, got)
		}
	}
}

// TestLoginCacheHardLimit: a device that never stops polling still has its
// login verified again once the cached login is CacheMax old, and not
// before. Only the whole-life bound can end this entry: it is never idle.
func TestLoginCacheHardLimit(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	clock := func() time.Time { return now }
	s, st := newTestService(t, Options{Now: clock, CacheIdle: 2 * time.Hour, CacheMax: 24 * time.Hour})
	ctx := context.Background()
	if _, err := s.Login(ctx, "alice", "alice-password"); err != nil {
		t.Fatal(err)
	}
	start, calls := now, st.calls.Load()
	for now.Sub(start) < 24*time.Hour {
		if _, err := s.Login(ctx, "alice", "alice-password"); err != nil {
			t.Fatal(err)
		}
		now = now.Add(15 * time.Minute)
	}
	if got := st.calls.Load() - calls; got != 0 {
		t.Fatalf("%d verifications within the first 24 hours of polling", got)
	}
	now = start.Add(24*time.Hour + time.Minute)
	if _, err := s.Login(ctx, "alice", "alice-password"); err != nil {
		t.Fatal(err)
	}
	if got := st.calls.Load() - calls; got != 1 {
		t.Fatalf("%d verifications after 24 hours of polling, want 1: the cached login outlived CacheMax", got)
	}
}
