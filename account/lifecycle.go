package account

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"sync"
	"time"

	"github.com/coffer-dav/coffer/auth"
	"github.com/coffer-dav/coffer/encryption"
	"github.com/coffer-dav/coffer/storage"
)

// Options configures a Lifecycle.
type Options struct {
	Settings Settings
	Now      func() time.Time  // the clock; nil means time.Now
	Mailer   Mailer            // nil: events are recorded, not mailed
	TokenKey encryption.MACKey // keys the e-mail confirmation tokens: encryption.Derive(secret, encryption.AccountTokens)
	// LinkBase is the dashboard's root (ending in "/"), for the links in
	// the confirmation mails; nil: the mails give the code alone (CLI use).
	LinkBase *url.URL
	// ServiceName names the service in the mails; empty means Coffer.
	ServiceName string
	Logger      *slog.Logger // nil means slog.Default()
	// OnPurge runs after an account was deleted, e.g. to forget its cached logins.
	OnPurge func(username string)
	// Locks keeps Run's sweeps to one instance at a time; nil: this
	// process is the only one.
	Locks storage.Locks
}

// Store is what the lifecycle keeps in the database: the records and
// history, the mails of the outbox, and erasure.
type Store interface {
	storage.Lifecycle
	storage.Outbox
	// DeleteAccount erases an account: its key slots first, then its rows.
	DeleteAccount(ctx context.Context, account int64) error
}

// Lifecycle runs the account lifecycle over a database.
type Lifecycle struct {
	db Store
	o  Options

	gateMu sync.Mutex
	gates  map[int64]gateVerdict // Gate's recent answers, by account
	// testHookBeforeStep runs between the sweeper's scan and an account's step.
	testHookBeforeStep func(account int64)
}

// Errors of the lifecycle's operations.
var (
	ErrNotFound  = errors.New("account: no such account")
	ErrPurging   = errors.New("account: the account is being deleted")
	ErrBadToken  = errors.New("account: wrong confirmation token")
	ErrConfirmed = errors.New("account: the e-mail address is already confirmed")
)

// FieldError is invalid input, naming the field it is about.
type FieldError struct {
	Field   string
	Message string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Message }

// New returns a Lifecycle over db.
func New(db Store, o Options) (*Lifecycle, error) {
	if o.TokenKey.IsZero() {
		return nil, errors.New("account: no token key")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &Lifecycle{db: db, o: o}, nil
}

// Settings returns the policy in force.
func (l *Lifecycle) Settings() Settings { return l.o.Settings }

// Now returns the lifecycle's clock reading.
func (l *Lifecycle) Now() time.Time { return l.o.Now().UTC() }

// Lookup returns the id of the account with that username, or ErrNotFound.
func (l *Lifecycle) Lookup(ctx context.Context, username string) (int64, error) {
	r, err := l.db.LifecycleRecordByUsername(ctx, username)
	if errors.Is(err, storage.ErrNotFound) {
		return 0, ErrNotFound
	}
	if err != nil {
		return 0, err
	}
	return r.AccountID, nil
}

// Status returns an account's status now. An account that does not exist
// (any more) is purged.
func (l *Lifecycle) Status(ctx context.Context, account int64) (Status, error) {
	r, err := l.db.LifecycleRecord(ctx, account)
	if errors.Is(err, storage.ErrNotFound) {
		return Status{State: StatePurged}, nil
	}
	if err != nil {
		return Status{}, err
	}
	return Compute(*r, l.Now(), l.o.Settings), nil
}

// State returns an account's lifecycle state now; see Status.
func (l *Lifecycle) State(ctx context.Context, account int64) (State, error) {
	st, err := l.Status(ctx, account)
	return st.State, err
}

// History returns an account's notification history, oldest first.
func (l *Lifecycle) History(ctx context.Context, account int64) ([]Event, error) {
	evs, err := l.db.Events(ctx, account)
	if err != nil {
		return nil, err
	}
	out := make([]Event, len(evs))
	for i, e := range evs {
		out[i] = Event{Kind: EventKind(e.Kind), Detail: e.Detail, At: e.At, Mail: e.Mail}
	}
	return out, nil
}

// Record adds an event to an account's history and mails it when SMTP is
// configured. It is for changes made outside this package: kind is one of
// EventPasswordChanged, EventAppPasswordCreated, EventAppPasswordRevoked,
// EventDisplayNameChanged, EventEmailChanged or EventRecoveryCodeReplaced. detail is a short sentence
// for the user, kept and mailed in clear: it must hold no secret and no
// name the user gave (an app password's label stays sealed elsewhere).
func (l *Lifecycle) Record(ctx context.Context, account int64, kind EventKind, detail string) error {
	if !recordable[kind] {
		return fmt.Errorf("account: %q is not an event to record from outside", kind)
	}
	err := l.update(ctx, account, func(t storage.LifecycleTx, r *storage.LifecycleRecord, _ Status) error {
		_, err := t.AddEvent(l.event(r, kind, detail, ""))
		return err
	})
	if err != nil {
		return err
	}
	l.deliver(ctx, account)
	return nil
}

// gateVerdict is one answer of Gate, kept for gateTTL.
type gateVerdict struct {
	username string
	at       time.Time
	err      error
}

// Bounds of Gate's memory.
const (
	gateTTL      = time.Second
	maxGateCache = 100_000
)

// Gate decides whether a verified login may use DAV now. It returns nil,
// *auth.Blocked with a sentence for the user, or auth.ErrBadCredentials when
// the account no longer exists (a login cached before a purge). An answer
// is kept for a second, so that a client's burst of requests reads the
// record once: a change made through this Lifecycle applies at once, one
// made by another process (the CLI) within that second.
func (l *Lifecycle) Gate(ctx context.Context, account int64, username string) error {
	now := l.Now()
	l.gateMu.Lock()
	v, ok := l.gates[account]
	l.gateMu.Unlock()
	if ok && v.username == username && !now.Before(v.at) && now.Sub(v.at) < gateTTL {
		return v.err
	}
	err := l.gate(ctx, account, username, now)
	var blocked *auth.Blocked
	if err == nil || errors.Is(err, auth.ErrBadCredentials) || errors.As(err, &blocked) {
		l.gateMu.Lock()
		if l.gates == nil || len(l.gates) >= maxGateCache {
			l.gates = map[int64]gateVerdict{}
		}
		l.gates[account] = gateVerdict{username: username, at: now, err: err}
		l.gateMu.Unlock()
	}
	return err
}

// forgetGate drops the kept answer of Gate for an account that changed.
func (l *Lifecycle) forgetGate(account int64) {
	l.gateMu.Lock()
	delete(l.gates, account)
	l.gateMu.Unlock()
}

// gate reads the account's record and decides as Gate does.
func (l *Lifecycle) gate(ctx context.Context, account int64, username string, now time.Time) error {
	r, err := l.db.LifecycleRecord(ctx, account)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && r.Username != username) {
		return auth.ErrBadCredentials
	}
	if err != nil {
		return err
	}
	st := Compute(*r, now, l.o.Settings)
	switch st.State {
	case StateTrial, StateActive:
		return nil
	case StatePending:
		return &auth.Blocked{Reason: "This account's e-mail address is not confirmed yet. Confirm it with the message we sent, then sync again."}
	case StateRetention:
		return &auth.Blocked{Reason: fmt.Sprintf("This account's subscription ended on %s. Its data is kept, blocked, and will be deleted on %s unless the subscription is renewed. You can still export it.", date(st.Expires), date(st.DeleteAt))}
	default:
		return &auth.Blocked{Reason: "This account is being deleted."}
	}
}

// update runs fn in a transaction over the account's current record and
// status. It maps a missing account to ErrNotFound.
func (l *Lifecycle) update(ctx context.Context, account int64, fn func(t storage.LifecycleTx, r *storage.LifecycleRecord, st Status) error) error {
	err := l.db.UpdateLifecycle(ctx, account, func(t storage.LifecycleTx, r *storage.LifecycleRecord) error {
		return fn(t, r, Compute(*r, l.Now(), l.o.Settings))
	})
	l.forgetGate(account)
	if errors.Is(err, storage.ErrNotFound) {
		return ErrNotFound
	}
	return err
}

// event builds an event of the account now; it is mailed when SMTP is
// configured and the account has an address.
func (l *Lifecycle) event(r *storage.LifecycleRecord, kind EventKind, detail, onceKey string) storage.NewEvent {
	return storage.NewEvent{Kind: string(kind), Detail: detail, At: l.Now(), OnceKey: onceKey, Mail: l.o.Mailer != nil && r.Email != ""}
}
