package auth

import (
	"context"
	"encoding/base32"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/coffer-dav/coffer/encryption"
	"github.com/coffer-dav/coffer/storage"
)

// Credentials is what a login needs of an account record.
type Credentials struct {
	AccountID    int64
	Username     string
	Email        string
	DisplayName  string
	PasswordSlot encryption.Slot // opening it is the password check: no hash of the password is kept
	RecoverySlot encryption.Slot
	EscrowSlot   encryption.Slot // empty when the account has none
}

// Store reads and updates the credential records of accounts.
type Store interface {
	// Credentials returns the account's credentials, or ErrUnknownUser.
	Credentials(ctx context.Context, username string) (*Credentials, error)
	// SetPassword replaces the password slot.
	SetPassword(ctx context.Context, account int64, slot encryption.Slot) error
}

// PasswordStamper is a Store that can tell cheaply which password slot an
// account holds now, and whether it still exists. With it, a login cached
// before the password was set by another process (coffer user passwd, user
// recover) is verified again, and one of an account deleted by another
// process (coffer user delete) is refused.
type PasswordStamper interface {
	// PasswordStamp returns the KDF description of the account's password
	// slot (every wrap draws a new salt, so it changes with each new slot),
	// empty when it has none, or an error when the account is gone.
	PasswordStamp(ctx context.Context, account int64) (string, error)
}

// ErrUnknownUser is what a Store returns for a username it does not hold.
var ErrUnknownUser = errors.New("auth: unknown user")

// ErrNotAUsername is a login refused because its name breaks the username
// rule; it is ErrBadCredentials to callers, and costs no Argon2 run and no
// throttle entry.
var ErrNotAUsername = fmt.Errorf("%w: not a possible username", ErrBadCredentials)

// usernamePattern is the one username rule, of account creation and of login.
var usernamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._@+-]{0,63}$`)

// Identity is a verified user and the keys their credential unlocked.
type Identity struct {
	AccountID   int64
	Username    string
	Email       string
	DisplayName string
	Keys        *encryption.Keyring
	AppPassword string // the id of the app password that logged in; empty for the account password
	stamp       string // the password slot's KDF description this login was verified against; empty for app passwords
}

// Options configures a Service.
type Options struct {
	KDF          encryption.KDFParams // Argon2id cost; zero means encryption.DefaultKDF
	ServerSecret []byte               // kept outside the database; enters every key-wrapping key
	// CacheIdle is how long a verified login is reused without being seen;
	// it must outlast the clients' 15-minute poll. Zero means 2 hours.
	CacheIdle time.Duration
	// CacheMax bounds a cached login's whole life, so that a device that keeps
	// syncing pays for Argon2 about once a day. Zero means 24 hours.
	CacheMax time.Duration
	// CacheEntries bounds the cached logins; beyond it the least recently
	// used goes. Zero means 10,000.
	CacheEntries int
	// MaxArgon2 bounds concurrent Argon2 runs (each takes the KDF's memory). Zero means 2.
	MaxArgon2 int
	// MaxWaiting bounds the logins queued for Argon2 in each of its two
	// lanes (known usernames, the rest); beyond it logins are throttled.
	// Zero means 64.
	MaxWaiting int
	Now        func() time.Time // the clock; nil means time.Now
	Throttle   ThrottleOptions  // backoff for failed logins from one address or on one username; its Store, when set, is shared with the other instances
	// Escrow, when set, is the operator's escrow public key: every user key
	// also gets a slot sealed to it, at enrollment or at the next login.
	Escrow *encryption.EscrowPublicKey
	// Sessions bounds the life of dashboard sessions.
	Sessions SessionOptions
}

// Service verifies logins and hands out the keys they unlock.
type Service struct {
	o          Options
	store      Store
	gate       *admission // the Argon2 places, handed out fairly
	flight     singleflight.Group
	decoy      encryption.Slot   // a password slot tried for unknown users, so they cost as much as known ones
	macKey     encryption.MACKey // keys the cache, so that no password is kept in memory
	mu         sync.Mutex
	cache      map[string]*cacheEntry
	byUser     map[string]map[string]struct{}
	gens       map[string]uint64 // per user, raised by Forget, so a login verified before it is not cached after it
	apps       *appState         // app passwords: see apppasswords.go
	sessions   *sessionState     // dashboard sessions: see sessions.go
	argon2Runs atomic.Uint64     // Argon2 verifications started
	throttle   *Throttle         // failed logins, per address and username
}

// queueSlot is where a login waits for Argon2: its source (address or
// IPv6 /64), and whether its username is known.
type queueSlot struct {
	source string
	known  bool
}

// cacheEntry is one verified login.
type cacheEntry struct {
	id       *Identity
	created  time.Time
	lastUsed time.Time
}

// New returns a Service over store.
func New(store Store, o Options) (*Service, error) {
	if o.KDF == (encryption.KDFParams{}) {
		o.KDF = encryption.DefaultKDF
	}
	if err := o.KDF.Validate(); err != nil {
		return nil, err
	}
	if len(o.ServerSecret) < encryption.KeySize {
		return nil, errors.New("auth: server secret is too short")
	}
	if o.CacheIdle == 0 {
		o.CacheIdle = 2 * time.Hour
	}
	if o.CacheMax == 0 {
		o.CacheMax = 24 * time.Hour
	}
	if o.MaxArgon2 <= 0 {
		o.MaxArgon2 = 2
	}
	if o.MaxWaiting <= 0 {
		o.MaxWaiting = 64
	}
	if o.CacheEntries <= 0 {
		o.CacheEntries = 10000
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	// The decoy is tried like a real slot but opens with no password: its
	// wrapped key is random bytes, so building it costs no Argon2 run at start-up.
	decoy, err := encryption.DecoySlot(o.KDF)
	if err != nil {
		return nil, err
	}
	apps, err := newAppState(store, o.ServerSecret)
	if err != nil {
		return nil, err
	}
	sessions, err := newSessionState(store, o.ServerSecret, o.Sessions)
	if err != nil {
		return nil, err
	}
	if o.Throttle.Store != nil && o.Throttle.IDKey.IsZero() {
		// Instances that share the store must name its records alike.
		if o.Throttle.IDKey, err = encryption.Derive(o.ServerSecret, encryption.ThrottleID); err != nil {
			return nil, err
		}
	}
	return &Service{
		o: o, store: store, gate: newAdmission(o.MaxArgon2, o.MaxWaiting), decoy: decoy, macKey: encryption.RandomMACKey(),
		cache: map[string]*cacheEntry{}, byUser: map[string]map[string]struct{}{}, gens: map[string]uint64{},
		apps: apps, sessions: sessions, throttle: NewThrottle(o.Throttle),
	}, nil
}

// Login verifies a username and password (or app password) and returns
// the identity with its keys. A recent verified login is answered from
// memory without Argon2; an app password is checked without Argon2.
func (s *Service) Login(ctx context.Context, username, password string) (*Identity, error) {
	return s.LoginFrom(ctx, username, password, "")
}

// LoginFrom is Login for a client at addr ("host:port" or a bare host),
// whose failed logins are throttled per address and per username. A
// verified login in the cache and an app password are answered before any
// throttling, so a user's own syncing devices keep working while someone
// else guesses.
func (s *Service) LoginFrom(ctx context.Context, username, password, addr string) (*Identity, error) {
	if CheckUsername(username) != nil {
		return nil, ErrNotAUsername
	}
	key := s.cacheKey(username, password)
	if id := s.cached(key); id != nil && s.current(ctx, key, id) {
		s.touchApp(ctx, id, time.Time{})
		return id, nil
	}
	// App passwords are compared normalised (case, dashes, spaces), so
	// their logins are cached under the normalised form: every spelling
	// of one app password is one entry. Only an app-password login is
	// answered from it, never one checked against the account password.
	appKey := s.cacheKey(username, "\x00app\x00"+NormalizeSecret(password))
	if id := s.cached(appKey); id != nil && id.AppPassword != "" && s.current(ctx, appKey, id) {
		s.touchApp(ctx, id, time.Time{})
		return id, nil
	}
	src := sourceOf(addr)
	gen := s.generation(username)
	// An app password costs no Argon2 and is checked before the throttle:
	// guesses on the username never slow down the user's own devices.
	if id, err := s.verifyApp(ctx, username, password); !errors.Is(err, errNotAppPassword) {
		if err == nil {
			s.remember(appKey, id, gen)
			s.throttle.Recognise(username, s.o.Now())
		}
		return id, err
	}
	// A username that logged in well lately waits in a lane of its own;
	// so do local commands (no address).
	q := queueSlot{source: src, known: src == "" || s.throttle.Known(username, s.o.Now())}
	var attempt *Attempt
	if src != "" {
		a, err := s.throttle.begin(ctx, username, src, s.o.Now())
		if err != nil {
			return nil, err
		}
		attempt = a
	}
	// Identical concurrent logins share one verification.
	v, err, _ := s.flight.Do(key, func() (any, error) {
		if id := s.cached(key); id != nil {
			return id, nil
		}
		id, err := s.verify(ctx, username, password, q)
		if err != nil {
			return nil, err
		}
		s.remember(key, id, gen)
		return id, nil
	})
	if attempt != nil {
		attempt.end(ctx, err, s.o.Now())
	}
	if err != nil {
		return nil, err
	}
	return v.(*Identity), nil
}

// Unlock opens a user's keys with either the password or the recovery code,
// for administrative changes such as setting a new password.
func (s *Service) Unlock(ctx context.Context, username, secret string) (*Identity, error) {
	id, err := s.Login(ctx, username, secret)
	if !errors.Is(err, ErrBadCredentials) {
		return id, err
	}
	id, _, err = s.unlockRecovery(ctx, username, secret)
	return id, err
}

// Enrollment is what a new account stores: key slots for its password and
// recovery code around a fresh user key. No hash of the password is kept:
// opening the password slot, whose wrapping key also takes the server
// secret, is the only check of a password.
type Enrollment struct {
	RecoveryCode string // shown to the user once, never stored
	svc          *Service
	password     string
	userKey      []byte
}

// Enroll prepares the credentials of a new account.
func (s *Service) Enroll(password string) (*Enrollment, error) {
	if err := CheckPassword(password); err != nil {
		return nil, err
	}
	key, err := encryption.NewUserKey()
	if err != nil {
		return nil, err
	}
	code, err := NewSecret(16)
	if err != nil {
		return nil, err
	}
	return &Enrollment{RecoveryCode: code, svc: s, password: password, userKey: key}, nil
}

// Slots wraps the user key under the password, the recovery code and the
// escrow key when there is one, bound to account id.
func (e *Enrollment) Slots(id int64) (map[string]encryption.Slot, error) {
	pw, err := encryption.WrapPassword(e.userKey, []byte(e.password), e.svc.o.ServerSecret, e.svc.o.KDF, encryption.SlotAD(id, "password"))
	if err != nil {
		return nil, err
	}
	rc, err := e.svc.recoverySlot(id, e.userKey, e.RecoveryCode)
	if err != nil {
		return nil, err
	}
	slots := map[string]encryption.Slot{"password": pw, "recovery": rc}
	if e.svc.o.Escrow != nil {
		if slots["escrow"], err = e.svc.escrowSlot(id, e.userKey); err != nil {
			return nil, err
		}
	}
	return slots, nil
}

// Keys returns the keyring of the enrolled account's user key.
func (e *Enrollment) Keys() (*encryption.Keyring, error) { return encryption.NewKeyring(e.userKey) }

// ChangePassword rewraps the user key under a new password and forgets every
// cached login of the user, so the old password stops working at once.
func (s *Service) ChangePassword(ctx context.Context, id *Identity, password string) error {
	if err := CheckPassword(password); err != nil {
		return err
	}
	if _, err := s.setPassword(ctx, id.AccountID, id.Keys, password); err != nil {
		return err
	}
	s.Forget(id.Username)
	return nil
}

// Forget drops every cached login of a user, and keeps logins verified
// before it from being cached after it.
func (s *Service) Forget(username string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gens[username]++
	for k := range s.byUser[username] {
		delete(s.cache, k)
	}
	delete(s.byUser, username)
}

// CheckUsername reports whether name can be a username: 1 to 64 lower-case
// letters, digits and . _ @ + -, starting with a letter or digit.
func CheckUsername(name string) error {
	if len(name) > 64 || !usernamePattern.MatchString(name) {
		return errors.New("use 1 to 64 lower-case letters, digits and . _ @ + -, starting with a letter or digit")
	}
	return nil
}

// CheckPassword reports whether a password is acceptable for a new
// credential: 8 to 1024 characters, and not common or easily guessed (see
// strength.go), also from hints such as the account's username and e-mail.
func CheckPassword(password string, hints ...string) error {
	if len(password) < 8 {
		return errors.New("the password must have at least 8 characters")
	}
	if len(password) > 1024 {
		return errors.New("the password must have at most 1024 characters")
	}
	return checkStrength(password, hints)
}

// NewSecret returns a random secret of n bytes, written in groups of base32
// letters that are easy to read out and type.
func NewSecret(n int) (string, error) {
	b, err := encryption.RandomBytes(n)
	if err != nil {
		return "", err
	}
	s := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b)
	var groups []string
	for len(s) > 5 {
		groups = append(groups, s[:5])
		s = s[5:]
	}
	return strings.Join(append(groups, s), "-"), nil
}

// NormalizeSecret removes the grouping and case from a typed secret.
func NormalizeSecret(s string) string {
	return strings.ToUpper(strings.NewReplacer("-", "", " ", "").Replace(s))
}

// verify runs the slow path: one Argon2id run derives the wrapping key of
// the password slot, and the slot opening is the password check. No hash
// of the password is stored, so the database alone cannot confirm a guess:
// the wrapping key also takes the server secret. A wrong password and an
// unknown username (tried against the decoy slot) both cost that one run
// and get the same ErrBadCredentials.
func (s *Service) verify(ctx context.Context, username, password string, q queueSlot) (*Identity, error) {
	release, err := s.acquire(ctx, q)
	if err != nil {
		return nil, err
	}
	defer release()
	c, err := s.store.Credentials(ctx, username)
	if errors.Is(err, ErrUnknownUser) {
		// An unknown user costs one Argon2 run, as a wrong password does.
		encryption.Unwrap(s.decoy, []byte(password), s.o.ServerSecret, encryption.SlotAD(0, "password"))
		return nil, ErrBadCredentials
	}
	if err != nil {
		return nil, err
	}
	raw, err := encryption.Unwrap(c.PasswordSlot, []byte(password), s.o.ServerSecret, encryption.SlotAD(c.AccountID, "password"))
	if errors.Is(err, encryption.ErrOpen) {
		return nil, ErrBadCredentials
	}
	if err != nil {
		return nil, fmt.Errorf("auth: password slot of account %d: %w", c.AccountID, err)
	}
	keys, err := encryption.NewKeyring(raw)
	if err != nil {
		return nil, err
	}
	stamp := c.PasswordSlot.KDF
	if p, ok := encryption.KDFParamsOf(c.PasswordSlot); !ok || p != s.o.KDF {
		// The cost parameters changed: rewrap the slot under the new ones.
		if stamp, err = s.setPassword(ctx, c.AccountID, keys, password); err != nil {
			return nil, err
		}
	}
	s.ensureEscrow(ctx, c, keys)
	return &Identity{AccountID: c.AccountID, Username: c.Username, Email: c.Email, DisplayName: c.DisplayName, Keys: keys, stamp: stamp}, nil
}

// current reports whether a cached login still holds: its account still
// exists (it may have been deleted by another process, the CLI), and for a
// password login the stored password slot is still the one it was
// verified against. A stale one is dropped from the cache. When ctx
// carries a storage.LoginCheck, the check is owed to it instead, and
// made with the request's first read or when the request settles it:
// an engine can then make it in a statement the request sends anyway.
func (s *Service) current(ctx context.Context, key string, id *Identity) bool {
	stamper, ok := s.store.(PasswordStamper)
	if !ok {
		return true
	}
	if c := storage.LoginCheckOf(ctx); c != nil {
		c.Owe(id.AccountID, id.stamp, func(ctx context.Context) (string, error) {
			return stamper.PasswordStamp(ctx, id.AccountID)
		}, func() { s.forget(key, id) })
		return true
	}
	stamp, err := stamper.PasswordStamp(ctx, id.AccountID)
	if err == nil && (id.stamp == "" || stamp == id.stamp) {
		return true
	}
	s.forget(key, id)
	return false
}

// forget drops a cached login.
func (s *Service) forget(key string, id *Identity) {
	s.mu.Lock()
	delete(s.cache, key)
	delete(s.byUser[id.Username], key)
	s.mu.Unlock()
}

// setPassword stores a new password slot and returns its stamp (see
// PasswordStamper).
func (s *Service) setPassword(ctx context.Context, account int64, keys *encryption.Keyring, password string) (string, error) {
	slot, err := s.passwordSlot(account, keys, password)
	if err != nil {
		return "", err
	}
	return slot.KDF, s.store.SetPassword(ctx, account, slot)
}

// passwordSlot wraps the user key under the password.
func (s *Service) passwordSlot(account int64, keys *encryption.Keyring, password string) (encryption.Slot, error) {
	return encryption.WrapPassword(keys.UserKey(), []byte(password), s.o.ServerSecret, s.o.KDF, encryption.SlotAD(account, "password"))
}

// acquire takes one of the Argon2 places in q's turn, or throttles when
// q's lane or its source's share of it is full.
func (s *Service) acquire(ctx context.Context, q queueSlot) (func(), error) {
	release, err := s.gate.acquire(ctx, q.source, q.known)
	if err != nil {
		return nil, err
	}
	s.argon2Runs.Add(1)
	return release, nil
}

func (s *Service) cacheKey(username, password string) string {
	m := s.macKey.NewHash()
	m.Write([]byte(username))
	m.Write([]byte{0})
	m.Write([]byte(password))
	return string(m.Sum(nil))
}

func (s *Service) cached(key string) *Identity {
	now := s.o.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.cache[key]
	if e == nil {
		return nil
	}
	if now.Sub(e.lastUsed) > s.o.CacheIdle || now.Sub(e.created) > s.o.CacheMax {
		delete(s.cache, key)
		delete(s.byUser[e.id.Username], key)
		return nil
	}
	e.lastUsed = now
	return e.id
}

// generation returns the user's Forget count, to pass to remember.
func (s *Service) generation(username string) uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.gens[username]
}

// Sweep drops expired cached logins, and deletes ended and idle dashboard
// sessions, every interval until ctx ends, so that keyrings and session
// slots nobody uses go even when no new login comes to trigger it.
func (s *Service) Sweep(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			now := s.o.Now()
			s.mu.Lock()
			s.sweepLocked(now)
			s.mu.Unlock()
			s.sweepSessions(ctx, now)
		}
	}
}

// sweepLocked drops the expired entries; s.mu is held.
func (s *Service) sweepLocked(now time.Time) {
	for k, e := range s.cache {
		if now.Sub(e.lastUsed) > s.o.CacheIdle || now.Sub(e.created) > s.o.CacheMax {
			delete(s.cache, k)
			delete(s.byUser[e.id.Username], k)
		}
	}
}

// cacheLen is the number of cached logins.
func (s *Service) cacheLen() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.cache)
}

func (s *Service) remember(key string, id *Identity, gen uint64) {
	now := s.o.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gens[id.Username] != gen {
		return // the user's logins were forgotten while this one was verified
	}
	// Drop expired entries now and then, so the cache holds only live
	// logins; when it is full all the same, the least recently used goes.
	if len(s.cache) > 0 && len(s.cache)%256 == 0 {
		s.sweepLocked(now)
	}
	if _, ok := s.cache[key]; !ok && len(s.cache) >= s.o.CacheEntries {
		oldest, at := "", time.Time{}
		for k, e := range s.cache {
			if oldest == "" || e.lastUsed.Before(at) {
				oldest, at = k, e.lastUsed
			}
		}
		delete(s.byUser[s.cache[oldest].id.Username], oldest)
		delete(s.cache, oldest)
	}
	s.cache[key] = &cacheEntry{id: id, created: now, lastUsed: now}
	if s.byUser[id.Username] == nil {
		s.byUser[id.Username] = map[string]struct{}{}
	}
	s.byUser[id.Username][key] = struct{}{}
}
