package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"
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
	db     storage.Database
	secret []byte
	auth   *auth.Service
	life   *account.Lifecycle // the account lifecycle; see account.go
	now    func() time.Time   // the lifecycle's clock; nil means time.Now (tests set it)
	lock   *folderLock        // serve's lock on the data folder; nil for other commands
}

// openOptions say how a command opens the data folder.
type openOptions struct {
	create bool // make the folder, database and secret when missing (serve only)
	lock   bool // hold the folder's exclusive lock until Close (serve only)
}

// secretFile is the server secret's name inside the data folder. It is kept
// out of the database so that a copy of the database alone opens nothing.
const secretFile = "server.key"

// openApp opens the data folder. Without o.create it refuses a folder that
// holds no database: a mistyped --data must not quietly start a new one.
func openApp(ctx context.Context, c *config, o openOptions) (*app, error) {
	if o.create {
		if err := os.MkdirAll(c.data, 0o700); err != nil {
			return nil, fmt.Errorf("create data folder: %w", err)
		}
	} else if c.usesPostgres() {
		if err := requireSecret(c.data); err != nil {
			return nil, err
		}
	} else if err := requireDatabase(c.data); err != nil {
		return nil, err
	}
	if err := syscall.Access(c.data, 2 /* W_OK */); err != nil {
		return nil, fmt.Errorf("the data folder %s is read-only for this user (%v): coffer writes its database there", absPath(c.data), err)
	}
	var lock *folderLock
	if o.lock {
		var err error
		if lock, err = lockFolder(c.data); err != nil {
			return nil, err
		}
	}
	a, err := openLocked(ctx, c)
	if err != nil {
		lock.release()
		return nil, err
	}
	a.lock = lock
	return a, nil
}

// requireDatabase refuses a data folder without a database, naming the
// absolute path it looked at.
func requireDatabase(dir string) error {
	path := filepath.Join(dir, dbFile)
	_, err := os.Stat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("no Coffer database at %s: check --data (or COFFER_DATA); only coffer serve and coffer restore create one", absPath(path))
	case errors.Is(err, os.ErrPermission):
		return fmt.Errorf("cannot read %s: permission denied; run as the user that runs coffer serve", absPath(path))
	}
	return err
}

// openLocked opens the database and secret of a folder already checked.
func openLocked(ctx context.Context, c *config) (*app, error) {
	secret, err := loadSecret(c.data)
	if err != nil {
		return nil, err
	}
	db, err := openDatabase(ctx, c)
	if err != nil {
		return nil, err
	}
	if err := checkSecret(ctx, db, secret, c.data); err != nil {
		db.Close()
		return nil, err
	}
	escrow, err := loadEscrowPublicKey(c.escrowPublicKey)
	if err != nil {
		db.Close()
		return nil, err
	}
	a := &app{db: db, secret: secret}
	ao := auth.Options{KDF: c.kdf, ServerSecret: secret, Escrow: escrow}
	if shared, ok := db.(storage.LoginFailures); ok {
		// The instances on one database throttle failed logins as one.
		ao.Throttle.Store = shared
	}
	a.auth, err = auth.New(credentialStore{db}, ao)
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

// secretCheckKey is the setting that holds the database's check value of
// its server secret.
const secretCheckKey = "server_secret_check"

// checkSecret refuses a server secret that is not the database's: another
// secret would open none of its key slots, and every login would fail as
// if the password were wrong. The first open stores the check value (a
// database from before the check takes the secret it is opened with).
func checkSecret(ctx context.Context, db storage.Settings, secret []byte, dir string) error {
	want, err := encryption.SecretCheckValue(secret)
	if err != nil {
		return err
	}
	got, ok, err := db.Setting(ctx, secretCheckKey)
	switch {
	case err != nil:
		return err
	case !ok:
		return db.PutSetting(ctx, secretCheckKey, want)
	case got != want:
		return fmt.Errorf("the server secret %s is not this database's: it would open none of its key slots; use the server.key that belongs with this database (every instance of one service shares it)", absPath(filepath.Join(dir, secretFile)))
	}
	return nil
}

// Close closes the database, then releases the folder's lock.
func (a *app) Close() error {
	err := a.db.Close()
	a.lock.release()
	return err
}

// loadSecret reads the server secret of the data folder dir, creating it on
// first start. It refuses a database without its secret (a new secret would
// open none of its key slots) and a folder or secret that group or others
// may access.
func loadSecret(dir string) ([]byte, error) {
	if err := checkPrivate(dir); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, secretFile)
	b, err := os.ReadFile(path)
	switch {
	case err == nil && len(b) == encryption.KeySize:
		return b, checkPrivate(path)
	case err == nil && len(b) > 0:
		return nil, fmt.Errorf("server secret %s has %d bytes, want %d", absPath(path), len(b), encryption.KeySize)
	case err != nil && !errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("read server secret: %w", err)
	}
	// Missing, or empty: an older version that crashed while writing it.
	db := filepath.Join(dir, dbFile)
	if _, err := os.Stat(db); err == nil {
		return nil, fmt.Errorf("the database %s exists without its server secret %s: a new secret would open none of its key slots; put back server.key from the backup of this folder", absPath(db), absPath(path))
	}
	b, err = encryption.RandomBytes(encryption.KeySize)
	if err != nil {
		return nil, err
	}
	return b, writeSecret(dir, path, b)
}

// writeSecret writes b to path so that a crash leaves either no file or the
// whole one: a synced temporary file, renamed, then the folder synced.
func writeSecret(dir, path string, b []byte) error {
	return writePrivate(dir, path, b, "server secret")
}

// writePrivate writes b to path, mode 0600 (os.CreateTemp's), so that a
// crash leaves either no file or the whole one: a synced temporary file,
// renamed, then the folder synced. what names the file in errors.
func writePrivate(dir, path string, b []byte, what string) error {
	f, err := os.CreateTemp(dir, filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("create %s: %w", what, err)
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", what, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", what, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", what, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", what, err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// checkPrivate refuses a file or folder that group or others may access:
// the server secret and the folder that holds it are the owner's alone.
func checkPrivate(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		want := "chmod 600"
		if fi.IsDir() {
			want = "chmod 700"
		}
		return fmt.Errorf("%s has mode %04o: group or others may access it, and it holds the server secret; run %s %s", absPath(path), perm, want, absPath(path))
	}
	return nil
}

// absPath is path made absolute for messages, or path when that fails.
func absPath(path string) string {
	if a, err := filepath.Abs(path); err == nil {
		return a
	}
	return path
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
		Username: u.username, Email: u.email, DisplayName: u.displayName, Slots: e.Slots,
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
type credentialStore struct{ db storage.Database }

func (s credentialStore) Credentials(ctx context.Context, username string) (*auth.Credentials, error) {
	a, err := s.db.AccountByUsername(ctx, username)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, auth.ErrUnknownUser
	}
	if err != nil {
		return nil, err
	}
	c := &auth.Credentials{AccountID: a.ID, Username: a.Username, Email: a.Email, DisplayName: a.DisplayName}
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

// SetCredentials stores key slots together, for recovery and escrow.
func (s credentialStore) SetCredentials(ctx context.Context, account int64, slots map[string]encryption.Slot) error {
	return s.db.SetCredentials(ctx, account, slots)
}

// PasswordStamp lets auth notice a password set by another process.
func (s credentialStore) PasswordStamp(ctx context.Context, account int64) (string, error) {
	return s.db.PasswordStamp(ctx, account)
}

func (s credentialStore) SetPassword(ctx context.Context, account int64, slot encryption.Slot) error {
	return s.db.SetPassword(ctx, account, slot)
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
