package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/coffer-dav/coffer/account"
	"github.com/coffer-dav/coffer/auth"
	"github.com/coffer-dav/coffer/dav"
	"github.com/coffer-dav/coffer/encryption"
	"github.com/coffer-dav/coffer/storage"
)

// app is an opened data folder: the database, the server secret and the
// login service built on them.
type app struct {
	db     *storage.DB
	secret []byte
	auth   *auth.Service
	life   *account.Lifecycle // the account lifecycle; see account.go
	now    func() time.Time   // the lifecycle's clock; nil means time.Now (tests set it)
}

// secretFile is the server secret's name inside the data folder. It is kept
// out of the database so that a copy of the database alone opens nothing.
const secretFile = "server.key"

// openApp opens (and on first use creates) the data folder.
func openApp(ctx context.Context, c *config) (*app, error) {
	if err := os.MkdirAll(c.data, 0o700); err != nil {
		return nil, fmt.Errorf("create data folder: %w", err)
	}
	secret, err := loadSecret(filepath.Join(c.data, secretFile))
	if err != nil {
		return nil, err
	}
	db, err := storage.Open(ctx, filepath.Join(c.data, dbFile), storage.Options{})
	if err != nil {
		return nil, err
	}
	escrow, err := loadEscrowPublicKey(c.escrowPublicKey)
	if err != nil {
		db.Close()
		return nil, err
	}
	a := &app{db: db, secret: secret}
	a.auth, err = auth.New(credentialStore{db}, auth.Options{KDF: c.kdf, ServerSecret: secret, Escrow: escrow})
	if err != nil {
		db.Close()
		return nil, err
	}
	// The stored policy; commands with lifecycle flags reconfigure it.
	s, _, err := account.LoadSettings(ctx, db)
	if err == nil {
		a.life, err = newLifecycle(a, s, nil, slog.Default())
	}
	if err != nil {
		db.Close()
		return nil, err
	}
	return a, nil
}

func (a *app) Close() error { return a.db.Close() }

// loadSecret reads the server secret, creating it (mode 0600) on first start.
func loadSecret(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		if len(b) != encryption.KeySize {
			return nil, fmt.Errorf("server secret %s has %d bytes, want %d", path, len(b), encryption.KeySize)
		}
		return b, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read server secret: %w", err)
	}
	b, err = encryption.RandomBytes(encryption.KeySize)
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create server secret: %w", err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return nil, fmt.Errorf("write server secret: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, fmt.Errorf("write server secret: %w", err)
	}
	return b, f.Close()
}

// newUser describes an account to create.
type newUser struct {
	username, email, displayName, password string
	start                                  account.Start // how its lifecycle begins
}

// errUserExists reports a username that is taken.
var errUserExists = errors.New("already exists")

// createdUser is what the operator is shown once.
type createdUser struct {
	account      *storage.Account
	recoveryCode string
}

// createUser creates an account with its key slots and default collections.
func (a *app) createUser(ctx context.Context, u newUser) (*createdUser, error) {
	if err := auth.CheckUsername(u.username); err != nil {
		return nil, fmt.Errorf("username %q: %w", u.username, err)
	}
	e, err := a.auth.Enroll(u.password)
	if err != nil {
		return nil, err
	}
	if u.displayName == "" {
		u.displayName = u.username
	}
	acct, err := a.db.CreateAccount(ctx, storage.NewAccount{
		Username: u.username, Email: u.email, DisplayName: u.displayName, PasswordPHC: e.PasswordPHC, Slots: e.Slots,
		Lifecycle: a.life.Begin(u.start, u.email),
	})
	if errors.Is(err, storage.ErrExists) {
		return nil, fmt.Errorf("user %q %w", u.username, errUserExists)
	}
	if err != nil {
		return nil, err
	}
	keys, err := e.Keys()
	if err != nil {
		return nil, err
	}
	if err := dav.Provision(ctx, a.db.Space(acct.ID, keys)); err != nil {
		return nil, fmt.Errorf("create default collections: %w", err)
	}
	a.life.Flush(ctx, acct.ID)
	return &createdUser{account: acct, recoveryCode: e.RecoveryCode}, nil
}

// credentialStore adapts the database to what auth needs.
type credentialStore struct{ db *storage.DB }

func (s credentialStore) Credentials(ctx context.Context, username string) (*auth.Credentials, error) {
	a, err := s.db.AccountByUsername(ctx, username)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, auth.ErrUnknownUser
	}
	if err != nil {
		return nil, err
	}
	c := &auth.Credentials{AccountID: a.ID, Username: a.Username, Email: a.Email, DisplayName: a.DisplayName, PasswordPHC: a.PasswordPHC}
	if c.PasswordSlot, err = s.db.Slot(ctx, a.ID, "password"); err != nil {
		return nil, err
	}
	if c.RecoverySlot, err = s.db.Slot(ctx, a.ID, "recovery"); err != nil && !errors.Is(err, storage.ErrNotFound) {
		return nil, err
	}
	if c.EscrowSlot, err = s.db.Slot(ctx, a.ID, "escrow"); err != nil && !errors.Is(err, storage.ErrNotFound) {
		return nil, err
	}
	return c, nil
}

// SetCredentials stores a password hash and key slots together, for recovery and escrow.
func (s credentialStore) SetCredentials(ctx context.Context, account int64, phc string, slots map[string]encryption.Slot) error {
	return s.db.SetCredentials(ctx, account, phc, slots)
}

// PasswordPHC lets auth notice a password set by another process.
func (s credentialStore) PasswordPHC(ctx context.Context, account int64) (string, error) {
	return s.db.PasswordPHC(ctx, account)
}

func (s credentialStore) SetPassword(ctx context.Context, account int64, phc string, slot encryption.Slot) error {
	return s.db.SetPassword(ctx, account, phc, slot)
}

// davLogins adapts the login service to what the DAV layer needs.
type davLogins struct{ a *app }

func (l davLogins) Login(ctx context.Context, username, password, remoteAddr string) (*dav.Account, error) {
	id, err := l.a.auth.LoginFrom(ctx, username, password, remoteAddr)
	if err != nil {
		return nil, err
	}
	// On every request, cached logins included: pending and retention
	// accounts get 403 with a reason, purged ones 401.
	if err := l.a.life.Gate(ctx, id.AccountID, id.Username); err != nil {
		return nil, err
	}
	return &dav.Account{ID: id.AccountID, Username: id.Username, Email: id.Email, DisplayName: id.DisplayName, Space: l.a.db.Space(id.AccountID, id.Keys)}, nil
}
