package storage

import (
	"context"
	"time"

	"github.com/coffer-dav/coffer/encryption"
)

// The role interfaces: each names one job of the database, so that a
// package takes only the roles it uses and a second engine implements
// them one by one. Space is the role of one user's collections and objects.

// Accounts creates, finds, counts and erases accounts.
type Accounts interface {
	// CreateAccount creates an account with its key slots, or fails with ErrExists.
	CreateAccount(ctx context.Context, a NewAccount) (*Account, error)
	// AccountByUsername returns an account, or ErrNotFound.
	AccountByUsername(ctx context.Context, username string) (*Account, error)
	// AccountByEmail returns the one account with an address, or ErrNotFound.
	AccountByEmail(ctx context.Context, email string) (*Account, error)
	// Accounts lists every account, by username.
	Accounts(ctx context.Context) ([]Account, error)
	// CountAccounts returns how many accounts there are.
	CountAccounts(ctx context.Context) (int, error)
	// DeleteAccount erases an account: its key slots first, then its rows.
	DeleteAccount(ctx context.Context, account int64) error
}

// Credentials holds the key slots that open a user key, and what tells a
// process that another one changed the password.
type Credentials interface {
	// Slot returns an account's key slot of a kind, or ErrNotFound.
	Slot(ctx context.Context, account int64, kind string) (encryption.Slot, error)
	// SetPassword replaces the password slot.
	SetPassword(ctx context.Context, account int64, slot encryption.Slot) error
	// SetCredentials replaces several slots together.
	SetCredentials(ctx context.Context, account int64, slots map[string]encryption.Slot) error
	// PasswordStamp names the current password slot, so that a cached login
	// made before another process changed it is noticed.
	PasswordStamp(ctx context.Context, account int64) (string, error)
}

// AppPasswords holds the app passwords' verifiers, sealed labels and key slots.
type AppPasswords interface {
	// CreateAppPassword stores an app password and its key slot.
	CreateAppPassword(ctx context.Context, account int64, p AppPassword) error
	// AppPasswords lists an account's app passwords.
	AppPasswords(ctx context.Context, account int64) ([]AppPassword, error)
	// DeleteAppPassword removes an app password's key slot and record, or fails with ErrNotFound.
	DeleteAppPassword(ctx context.Context, account int64, id string) error
	// TouchAppPassword records an app password's last use.
	TouchAppPassword(ctx context.Context, account int64, id string, at time.Time) error
}

// Sessions holds the dashboard's sessions and their key slots.
type Sessions interface {
	// CreateSession stores a session and its key slot.
	CreateSession(ctx context.Context, s Session) error
	// SessionByMAC returns the session whose id hashes to idMAC, or ErrNotFound.
	SessionByMAC(ctx context.Context, idMAC []byte) (*Session, error)
	// TouchSession records a session's last use.
	TouchSession(ctx context.Context, idMAC []byte, at time.Time) error
	// DeleteSession ends one session: its key slot, then its row.
	DeleteSession(ctx context.Context, idMAC []byte) error
	// DeleteSessions ends every session of an account.
	DeleteSessions(ctx context.Context, account int64) error
	// DeleteExpiredSessions ends the sessions past their lifetime or idle since idleSince.
	DeleteExpiredSessions(ctx context.Context, now, idleSince time.Time) error
}

// Lifecycle holds the accounts' lifecycle records, their history and the vouchers.
type Lifecycle interface {
	// LifecycleRecord returns an account's record, or ErrNotFound.
	LifecycleRecord(ctx context.Context, account int64) (*LifecycleRecord, error)
	// LifecycleRecordByUsername returns an account's record, or ErrNotFound.
	LifecycleRecordByUsername(ctx context.Context, username string) (*LifecycleRecord, error)
	// LifecycleRecords lists every account's record.
	LifecycleRecords(ctx context.Context) ([]LifecycleRecord, error)
	// UpdateLifecycle runs fn in one write transaction with the account's
	// record as read inside it, or fails with ErrNotFound.
	UpdateLifecycle(ctx context.Context, account int64, fn func(t LifecycleTx, r *LifecycleRecord) error) error
	// CreateVouchers stores vouchers by the hashes of their codes.
	CreateVouchers(ctx context.Context, vs []Voucher, at time.Time) error
	// Events returns an account's history, oldest first.
	Events(ctx context.Context, account int64) ([]Event, error)
	// Event returns one recorded event, or ErrNotFound.
	Event(ctx context.Context, id int64) (*Event, error)
	// OnceKeys returns the once-keys recorded, by account.
	OnceKeys(ctx context.Context) (map[int64]map[string]bool, error)
}

// LifecycleTx is a write transaction over one account's lifecycle.
type LifecycleTx interface {
	// Save writes the lifecycle fields of r.
	Save(r *LifecycleRecord) error
	// AddEvent records an event; false when its OnceKey was recorded before.
	AddEvent(e NewEvent) (bool, error)
	// AddPayment records a payment once per transaction id.
	AddPayment(transaction, plan string, paidThrough, at time.Time) (applied bool, owner int64, err error)
	// RedeemVoucher marks a voucher used and returns what it grants.
	RedeemVoucher(codeHash []byte, at time.Time) (plan string, days int, err error)
	// SetEmail changes the account's address.
	SetEmail(email string) error
	// SetDisplayName changes the account's display name.
	SetDisplayName(name string) error
}

// Outbox holds what is sent later, of every kind (outbox.go): the mails
// of recorded events and the pushes of changes, each job claimed by one
// sender at a time across every instance.
type Outbox interface {
	// Enqueue puts a job in the outbox and returns its id.
	Enqueue(ctx context.Context, j NewJob) (int64, error)
	// ClaimJobs claims the due jobs o selects, those due longest first, and
	// returns them by id; no two claims running at once take the same job.
	ClaimJobs(ctx context.Context, o ClaimOptions) ([]Job, error)
	// FinishJob records a claimed attempt's outcome; a claim taken over
	// since is left as it is.
	FinishJob(ctx context.Context, j *Job, o JobOutcome) error
}

// Settings holds the operator's stored settings, by key.
type Settings interface {
	// Setting returns a setting; ok is false when none is stored.
	Setting(ctx context.Context, key string) (value string, ok bool, err error)
	// PutSetting stores a setting.
	PutSetting(ctx context.Context, key, value string) error
}

// LoginFailures holds the failed-login throttle's records, each named by
// an opaque id (a keyed hash of an address or a username), so that the
// instances that share it throttle as one. Every call takes distinct ids.
type LoginFailures interface {
	// AddLoginFailures counts one failure at now on each id, atomically
	// (concurrent calls, from any instance, are all counted), starting a
	// record afresh whose last failure came before since, and returns the
	// records after the count, in the order of ids.
	AddLoginFailures(ctx context.Context, ids [][]byte, now, since time.Time) ([]LoginFailure, error)
	// LoginFailures returns the records of ids, in their order; an id
	// without one gets the zero LoginFailure.
	LoginFailures(ctx context.Context, ids [][]byte) ([]LoginFailure, error)
	// ForgetLoginFailures drops the records whose last failure came before before.
	ForgetLoginFailures(ctx context.Context, before time.Time) error
	// ClaimLoginAttempt claims, on every id at once, the one attempt in
	// flight that is past the allowance, until until or its release, and
	// returns the records as the claim found them; false when a claim of
	// another attempt on any of them still runs at now.
	ClaimLoginAttempt(ctx context.Context, ids [][]byte, now, until time.Time) ([]LoginFailure, bool, error)
	// ReleaseLoginAttempt ends the claim on ids that ClaimLoginAttempt made
	// with until; a later claim stays.
	ReleaseLoginAttempt(ctx context.Context, ids [][]byte, until time.Time) error
}

// LoginFailure is one id's failed-login record: how many failures it
// counts, when the latest came (to the microsecond), and the claim of an
// attempt in flight.
type LoginFailure struct {
	Failures int
	Last     time.Time
	Claimed  time.Time // until when an attempt past the allowance is claimed; zero when none is
}

// The SQLite database plays every role.
var (
	_ Accounts     = (*DB)(nil)
	_ Credentials  = (*DB)(nil)
	_ AppPasswords = (*DB)(nil)
	_ Sessions     = (*DB)(nil)
	_ Lifecycle    = (*DB)(nil)
	_ Outbox       = (*DB)(nil)
	_ PushExpiry   = (*DB)(nil)
	_ Settings     = (*DB)(nil)
)

// Locks hands out named locks that one holder at a time has, across every
// instance on the database, for jobs that must not run twice at once.
type Locks interface {
	// TryLock takes the named lock when no one holds it and returns its
	// release; ok is false, and nothing is held, when someone else does.
	TryLock(ctx context.Context, name string) (release func(), ok bool, err error)
}

// Database is one open database in every role a server uses: the
// account-side roles and users' spaces.
type Database interface {
	Accounts
	Credentials
	AppPasswords
	Sessions
	Lifecycle
	Outbox
	PushExpiry
	Settings
	Locks
	// Space opens the data of one account with that account's keys.
	Space(account int64, keys *encryption.Keyring) Space
	// OnChange sets the hook that hears of every committed write to a space.
	OnChange(h ChangeHook)
	// Close releases the database.
	Close() error
}

// The SQLite database plays every role.
var _ Database = (*DB)(nil)
