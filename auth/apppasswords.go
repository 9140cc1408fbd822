package auth

import (
	"context"
	"crypto/subtle"
	"encoding/base32"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/coffer-dav/coffer/encryption"
)

// StoredAppPassword is an app password as a store keeps it: never the secret.
type StoredAppPassword struct {
	ID       string
	Label    []byte          // sealed under the user key
	Verifier []byte          // HMAC-SHA256 of the secret under a key derived from the server secret
	Slot     encryption.Slot // the user key wrapped under the secret, kind "app:<ID>"
	Created  time.Time
	LastUsed time.Time // zero when never used
}

// AppPasswordStore keeps app passwords. A Store that also implements it
// enables app passwords; the Service finds it by a type assertion.
type AppPasswordStore interface {
	// AppPasswords lists an account's app passwords, oldest first.
	AppPasswords(ctx context.Context, account int64) ([]StoredAppPassword, error)
	// AddAppPassword stores an app password and its key slot together.
	AddAppPassword(ctx context.Context, account int64, p StoredAppPassword) error
	// DeleteAppPassword removes the key slot, then the record; ErrUnknownAppPassword when absent.
	DeleteAppPassword(ctx context.Context, account int64, id string) error
	// TouchAppPassword records the last use; ErrUnknownAppPassword when absent.
	TouchAppPassword(ctx context.Context, account int64, id string, at time.Time) error
}

// AppPasswordInfo describes an app password to its owner; it never holds the secret.
type AppPasswordInfo struct {
	ID       string    `json:"id"`
	Label    string    `json:"label"`
	Created  time.Time `json:"created"`
	LastUsed time.Time `json:"last_used,omitzero"`
}

// appState is the Service's bookkeeping of app-password use.
type appState struct {
	store    AppPasswordStore  // nil: app passwords are off
	verifier encryption.MACKey // the key of verifiers, derived from the server secret
	mu       sync.Mutex
	recorded map[appRef]time.Time // when each app password's last use was last written
}

// appRef names one app password of one account.
type appRef struct {
	account int64
	id      string
}

// App password errors.
var (
	ErrAppPasswordsOff     = errors.New("auth: app passwords are not available")
	ErrUnknownAppPassword  = errors.New("auth: no such app password")
	ErrTooManyAppPasswords = fmt.Errorf("auth: at most %d app passwords per account", MaxAppPasswords)
	// errNotAppPassword sends a login on to the password check.
	errNotAppPassword = errors.New("auth: not an app password")
)

// App password parameters.
const (
	MaxAppPasswords  = 100 // per account
	MaxLabelLength   = 100 // characters
	appSecretBytes   = 20  // 160 bits
	appSecretChars   = 32  // base32 letters of appSecretBytes
	appUseResolution = time.Hour
)

// errLabel reports an unusable label.
var errLabel = errors.New("the label must have 1 to 100 characters and no control characters")

// newAppState derives the verifier key and picks up the store's app-password support.
func newAppState(store Store, serverSecret []byte) (*appState, error) {
	key, err := encryption.Derive(serverSecret, encryption.AppPasswordVerifier)
	if err != nil {
		return nil, err
	}
	ap, _ := store.(AppPasswordStore)
	return &appState{store: ap, verifier: key, recorded: map[appRef]time.Time{}}, nil
}

// CheckLabel reports whether an app password label is acceptable.
func CheckLabel(label string) error {
	if label == "" || !utf8.ValidString(label) || utf8.RuneCountInString(label) > MaxLabelLength {
		return errLabel
	}
	for _, r := range label {
		if r < 0x20 || r == 0x7f {
			return errLabel
		}
	}
	return nil
}

// CreateAppPassword creates an app password for the identity's account and
// returns it with its secret, which is shown once and never stored.
func (s *Service) CreateAppPassword(ctx context.Context, id *Identity, label string) (AppPasswordInfo, string, error) {
	if s.apps.store == nil {
		return AppPasswordInfo{}, "", ErrAppPasswordsOff
	}
	if err := CheckLabel(label); err != nil {
		return AppPasswordInfo{}, "", err
	}
	have, err := s.apps.store.AppPasswords(ctx, id.AccountID)
	if err != nil {
		return AppPasswordInfo{}, "", err
	}
	if len(have) >= MaxAppPasswords {
		return AppPasswordInfo{}, "", ErrTooManyAppPasswords
	}
	raw, err := encryption.RandomBytes(10)
	if err != nil {
		return AppPasswordInfo{}, "", err
	}
	appID := strings.ToLower(base32.StdEncoding.EncodeToString(raw))
	secret, err := NewSecret(appSecretBytes)
	if err != nil {
		return AppPasswordInfo{}, "", err
	}
	norm := NormalizeSecret(secret)
	slot, err := encryption.WrapSecret(id.Keys.UserKey(), []byte(norm), s.o.ServerSecret, encryption.SlotAD(id.AccountID, "app:"+appID))
	if err != nil {
		return AppPasswordInfo{}, "", err
	}
	now := s.o.Now().UTC().Truncate(time.Second)
	p := StoredAppPassword{
		ID:       appID,
		Label:    id.Keys.Seal(labelAD(id.AccountID, appID), []byte(label)),
		Verifier: s.appVerifier(id.AccountID, appID, norm),
		Slot:     slot,
		Created:  now,
	}
	if err := s.apps.store.AddAppPassword(ctx, id.AccountID, p); err != nil {
		return AppPasswordInfo{}, "", err
	}
	return AppPasswordInfo{ID: appID, Label: label, Created: now}, secret, nil
}

// AppPasswords lists the identity's app passwords, oldest first, with their
// labels opened.
func (s *Service) AppPasswords(ctx context.Context, id *Identity) ([]AppPasswordInfo, error) {
	if s.apps.store == nil {
		return nil, ErrAppPasswordsOff
	}
	stored, err := s.apps.store.AppPasswords(ctx, id.AccountID)
	if err != nil {
		return nil, err
	}
	out := make([]AppPasswordInfo, 0, len(stored))
	for _, p := range stored {
		label, err := id.Keys.Open(labelAD(id.AccountID, p.ID), p.Label)
		if err != nil {
			return nil, fmt.Errorf("auth: label of app password %s: %w", p.ID, err)
		}
		out = append(out, AppPasswordInfo{ID: p.ID, Label: string(label), Created: p.Created, LastUsed: p.LastUsed})
	}
	return out, nil
}

// RevokeAppPassword deletes an app password's key slot and record, and
// forgets every cached login of the user, so that it stops working at once.
func (s *Service) RevokeAppPassword(ctx context.Context, id *Identity, appID string) error {
	if s.apps.store == nil {
		return ErrAppPasswordsOff
	}
	err := s.apps.store.DeleteAppPassword(ctx, id.AccountID, appID)
	// Forget even on failure: a half-done revocation must not leave a cached login.
	s.Forget(id.Username)
	s.apps.mu.Lock()
	delete(s.apps.recorded, appRef{id.AccountID, appID})
	s.apps.mu.Unlock()
	return err
}

// Argon2Runs returns how many Argon2 verifications the Service has started,
// for metrics and for tests that show a path avoids Argon2.
func (s *Service) Argon2Runs() uint64 { return s.argon2Runs.Load() }

// verifyApp checks a credential against the user's app passwords with one
// HMAC each, without Argon2 and without a place in the Argon2 queue. A credential
// that is not one of them gives errNotAppPassword, and the caller goes on
// to the password check, which makes unknown users and wrong app passwords
// cost the same as a wrong password.
func (s *Service) verifyApp(ctx context.Context, username, password string) (*Identity, error) {
	norm := NormalizeSecret(password)
	if s.apps.store == nil || !looksLikeAppSecret(norm) {
		return nil, errNotAppPassword
	}
	c, err := s.store.Credentials(ctx, username)
	if errors.Is(err, ErrUnknownUser) {
		return nil, errNotAppPassword
	}
	if err != nil {
		return nil, err
	}
	stored, err := s.apps.store.AppPasswords(ctx, c.AccountID)
	if err != nil {
		return nil, err
	}
	var match *StoredAppPassword
	for i := range stored {
		want := s.appVerifier(c.AccountID, stored[i].ID, norm)
		if subtle.ConstantTimeCompare(want, stored[i].Verifier) == 1 {
			match = &stored[i]
		}
	}
	if match == nil {
		return nil, errNotAppPassword
	}
	raw, err := encryption.Unwrap(match.Slot, []byte(norm), s.o.ServerSecret, encryption.SlotAD(c.AccountID, "app:"+match.ID))
	if err != nil {
		return nil, fmt.Errorf("auth: app password slot %s of account %d: %w", match.ID, c.AccountID, err)
	}
	keys, err := encryption.NewKeyring(raw)
	if err != nil {
		return nil, err
	}
	id := &Identity{AccountID: c.AccountID, Username: c.Username, Email: c.Email, DisplayName: c.DisplayName, Keys: keys, AppPassword: match.ID}
	s.touchApp(ctx, id, match.LastUsed)
	s.ensureEscrow(ctx, c, keys)
	return id, nil
}

// touchApp records an app password's use, at most once per hour per app
// password, so that a syncing device does not write on every request.
// Recording is best effort: a failure never refuses a login.
func (s *Service) touchApp(ctx context.Context, id *Identity, stored time.Time) {
	if id.AppPassword == "" || s.apps.store == nil {
		return
	}
	now := s.o.Now()
	ref := appRef{id.AccountID, id.AppPassword}
	s.apps.mu.Lock()
	last, ok := s.apps.recorded[ref]
	if !ok || stored.After(last) {
		last = stored
	}
	if now.Sub(last) < appUseResolution {
		s.apps.mu.Unlock()
		return
	}
	s.apps.recorded[ref] = now
	s.apps.mu.Unlock()
	_ = s.apps.store.TouchAppPassword(ctx, id.AccountID, id.AppPassword, now.UTC())
}

// appVerifier is the stored verifier of an app password: an HMAC bound to
// the account and the app password's id.
func (s *Service) appVerifier(account int64, appID, norm string) []byte {
	m := s.apps.verifier.NewHash()
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(account))
	m.Write(b[:])
	writeString(m, appID)
	writeString(m, norm)
	return m.Sum(nil)
}

// labelAD binds a sealed label to its account and app password.
func labelAD(account int64, appID string) encryption.AD {
	return encryption.AD{User: account, Object: []byte(appID), Field: "app-password.label"}
}

// looksLikeAppSecret reports whether a normalized credential has the shape
// of an app password: 32 base32 letters.
func looksLikeAppSecret(norm string) bool {
	if len(norm) != appSecretChars {
		return false
	}
	for i := 0; i < len(norm); i++ {
		c := norm[i]
		if (c < 'A' || c > 'Z') && (c < '2' || c > '7') {
			return false
		}
	}
	return true
}

// writeString writes a length-prefixed string, so that concatenations are unambiguous.
func writeString(m interface{ Write([]byte) (int, error) }, s string) {
	var l [4]byte
	binary.BigEndian.PutUint32(l[:], uint32(len(s)))
	m.Write(l[:])
	m.Write([]byte(s))
}
