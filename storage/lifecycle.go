package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// LifecycleRecord is an account record with the dates its lifecycle state is
// computed from. Zero times stand for NULL.
type LifecycleRecord struct {
	AccountID   int64
	Username    string
	Email       string
	DisplayName string
	Permanent   bool // self-hosted: never expires
	Registered  time.Time
	Confirmed   time.Time // zero while the e-mail is unconfirmed
	TrialEnd    time.Time // zero: no trial
	PaidThrough time.Time // zero: never paid
	Plan        string
	Purging     time.Time // set once a purge was decided
}

// LifecycleStart is the lifecycle row and the first events of an account
// that CreateAccount writes in the same transaction as the account.
type LifecycleStart struct {
	Record LifecycleRecord // only the lifecycle fields are used
	Events []NewEvent
}

// NewEvent is a notification to record.
type NewEvent struct {
	Kind    string
	Detail  string
	At      time.Time
	OnceKey string // non-empty: the event is recorded at most once per account with this key
	Mail    bool   // queue an e-mail for it
}

// Event is one recorded notification.
type Event struct {
	ID        int64
	AccountID int64
	Kind      string
	Detail    string
	At        time.Time
	Mail      string // delivery state: MailNone, MailQueued, MailSending, MailSent or MailFailed
}

// Voucher is a voucher to create, known by the hash of its code.
type Voucher struct {
	CodeHash []byte
	Plan     string
	Days     int
}

// lifecycleTx is SQLite's write transaction over one account's lifecycle.
type lifecycleTx struct {
	ctx     context.Context
	tx      *sql.Tx
	account int64
}

// Lifecycle errors.
var (
	ErrVoucherUsed = errors.New("storage: voucher already redeemed")
)

const lifecycleColumns = `a.id, a.username, a.email, a.display_name,
	coalesce(l.permanent, 1), coalesce(l.registered_at, a.created_at), coalesce(l.confirmed_at, CASE WHEN l.account_id IS NULL THEN a.created_at END),
	l.trial_end, l.paid_through, coalesce(l.plan, ''), l.purging_at`

const lifecycleFrom = ` FROM accounts a LEFT JOIN account_lifecycle l ON l.account_id = a.id`

// LifecycleRecord returns one account's lifecycle record, or ErrNotFound.
func (db *DB) LifecycleRecord(ctx context.Context, account int64) (*LifecycleRecord, error) {
	return queryLifecycle(db.read.QueryRowContext(ctx, `SELECT `+lifecycleColumns+lifecycleFrom+` WHERE a.id = ?`, account))
}

// LifecycleRecordByUsername returns the lifecycle record of the account with
// that username, or ErrNotFound.
func (db *DB) LifecycleRecordByUsername(ctx context.Context, username string) (*LifecycleRecord, error) {
	return queryLifecycle(db.read.QueryRowContext(ctx, `SELECT `+lifecycleColumns+lifecycleFrom+` WHERE a.username = ?`, username))
}

// LifecycleRecords lists the lifecycle records of every account.
func (db *DB) LifecycleRecords(ctx context.Context) ([]LifecycleRecord, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT `+lifecycleColumns+lifecycleFrom+` ORDER BY a.id`)
	if err != nil {
		return nil, fmt.Errorf("storage: list lifecycles: %w", err)
	}
	defer rows.Close()
	var out []LifecycleRecord
	for rows.Next() {
		r, err := scanLifecycle(rows.Scan)
		if err != nil {
			return nil, err
		}
		out = append(out, *r)
	}
	return out, rows.Err()
}

// UpdateLifecycle runs fn in a write transaction with the account's current
// record, read inside that transaction. It fails with ErrNotFound when the
// account does not exist.
func (db *DB) UpdateLifecycle(ctx context.Context, account int64, fn func(t LifecycleTx, r *LifecycleRecord) error) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		r, err := queryLifecycle(tx.QueryRowContext(ctx, `SELECT `+lifecycleColumns+lifecycleFrom+` WHERE a.id = ?`, account))
		if err != nil {
			return err
		}
		return fn(&lifecycleTx{ctx: ctx, tx: tx, account: account}, r)
	})
}

// Save writes the lifecycle fields of r.
func (t *lifecycleTx) Save(r *LifecycleRecord) error {
	return saveLifecycle(t.ctx, t.tx, t.account, r)
}

// AddEvent records an event. It reports false, and records nothing, when an
// event with the same OnceKey was recorded before.
func (t *lifecycleTx) AddEvent(e NewEvent) (bool, error) {
	return addEvent(t.ctx, t.tx, t.account, e)
}

// AddPayment records an applied payment. When the transaction id was applied
// before, it records nothing and returns the account it was applied to.
func (t *lifecycleTx) AddPayment(transaction, plan string, paidThrough, at time.Time) (applied bool, owner int64, err error) {
	res, err := t.tx.ExecContext(t.ctx,
		`INSERT INTO payments (transaction_id, account_id, plan, paid_through, applied_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (transaction_id) DO NOTHING`,
		transaction, t.account, plan, paidThrough.Unix(), at.Unix())
	if err != nil {
		return false, 0, fmt.Errorf("storage: record payment: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return true, t.account, nil
	}
	err = t.tx.QueryRowContext(t.ctx, `SELECT account_id FROM payments WHERE transaction_id = ?`, transaction).Scan(&owner)
	return false, owner, err
}

// RedeemVoucher marks a voucher redeemed by the account and returns what it
// grants. It fails with ErrNotFound for an unknown code and ErrVoucherUsed
// for one redeemed before.
func (t *lifecycleTx) RedeemVoucher(codeHash []byte, at time.Time) (plan string, days int, err error) {
	err = t.tx.QueryRowContext(t.ctx,
		`UPDATE vouchers SET redeemed_by = ?, redeemed_at = ? WHERE code_hash = ? AND redeemed_at IS NULL RETURNING plan, days`,
		t.account, at.Unix(), codeHash).Scan(&plan, &days)
	if errors.Is(err, sql.ErrNoRows) {
		var n int
		if err := t.tx.QueryRowContext(t.ctx, `SELECT count(*) FROM vouchers WHERE code_hash = ?`, codeHash).Scan(&n); err != nil {
			return "", 0, err
		}
		if n > 0 {
			return "", 0, ErrVoucherUsed
		}
		return "", 0, ErrNotFound
	}
	if err != nil {
		return "", 0, fmt.Errorf("storage: redeem voucher: %w", err)
	}
	return plan, days, nil
}

// SetEmail changes the account's e-mail address.
func (t *lifecycleTx) SetEmail(email string) error {
	_, err := t.tx.ExecContext(t.ctx, `UPDATE accounts SET email = ? WHERE id = ?`, email, t.account)
	return err
}

// SetDisplayName changes the account's display name.
func (t *lifecycleTx) SetDisplayName(name string) error {
	_, err := t.tx.ExecContext(t.ctx, `UPDATE accounts SET display_name = ? WHERE id = ?`, name, t.account)
	return err
}

// CreateVouchers stores new vouchers; it fails with ErrExists when a code is taken.
func (db *DB) CreateVouchers(ctx context.Context, vs []Voucher, at time.Time) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		for _, v := range vs {
			_, err := tx.ExecContext(ctx, `INSERT INTO vouchers (code_hash, plan, days, created_at) VALUES (?, ?, ?, ?)`, v.CodeHash, v.Plan, v.Days, at.Unix())
			if isUniqueViolation(err) {
				return ErrExists
			}
			if err != nil {
				return fmt.Errorf("storage: create voucher: %w", err)
			}
		}
		return nil
	})
}

// eventColumns read an event, with its mail's state as its outbox job
// tells it while there is one.
const eventColumns = `e.id, e.account_id, e.kind, e.detail, e.at,
	CASE WHEN o.id IS NULL THEN e.mail WHEN o.claimed_until <> 0 THEN 'sending' ELSE 'queued' END`

// eventFrom joins the events to their mails' jobs.
const eventFrom = ` FROM account_events e LEFT JOIN outbox o ON o.event_id = e.id`

// Events returns an account's notification history, oldest first.
func (db *DB) Events(ctx context.Context, account int64) ([]Event, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT `+eventColumns+eventFrom+` WHERE e.account_id = ? ORDER BY e.id`, account)
	if err != nil {
		return nil, fmt.Errorf("storage: read events: %w", err)
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		e, err := scanEvent(rows.Scan)
		if err != nil {
			return nil, err
		}
		out = append(out, *e)
	}
	return out, rows.Err()
}

// Event returns one recorded event, or ErrNotFound.
func (db *DB) Event(ctx context.Context, id int64) (*Event, error) {
	e, err := scanEvent(db.read.QueryRowContext(ctx, `SELECT `+eventColumns+eventFrom+` WHERE e.id = ?`, id).Scan)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return e, err
}

// scanEvent reads one row of eventColumns.
func scanEvent(scan func(...any) error) (*Event, error) {
	var e Event
	var at int64
	if err := scan(&e.ID, &e.AccountID, &e.Kind, &e.Detail, &at, &e.Mail); err != nil {
		return nil, err
	}
	e.At = time.Unix(at, 0).UTC()
	return &e, nil
}

// OnceKeys returns the once-keys recorded so far, by account, so that a
// sweeper can skip accounts with nothing new to record.
func (db *DB) OnceKeys(ctx context.Context) (map[int64]map[string]bool, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT account_id, once_key FROM account_events WHERE once_key IS NOT NULL`)
	if err != nil {
		return nil, fmt.Errorf("storage: read once-keys: %w", err)
	}
	defer rows.Close()
	out := map[int64]map[string]bool{}
	for rows.Next() {
		var id int64
		var key string
		if err := rows.Scan(&id, &key); err != nil {
			return nil, err
		}
		if out[id] == nil {
			out[id] = map[string]bool{}
		}
		out[id][key] = true
	}
	return out, rows.Err()
}

// Setting returns a server-wide setting; ok is false when it was never set.
func (db *DB) Setting(ctx context.Context, key string) (value string, ok bool, err error) {
	err = db.read.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, key).Scan(&value)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	return value, err == nil, err
}

// PutSetting stores a server-wide setting.
func (db *DB) PutSetting(ctx context.Context, key, value string) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value)
		return err
	})
}

// insert writes the lifecycle row and first events of a new account.
func (s *LifecycleStart) insert(ctx context.Context, tx *sql.Tx, account int64) error {
	if err := saveLifecycle(ctx, tx, account, &s.Record); err != nil {
		return err
	}
	for _, e := range s.Events {
		if _, err := addEvent(ctx, tx, account, e); err != nil {
			return err
		}
	}
	return nil
}

func saveLifecycle(ctx context.Context, tx *sql.Tx, account int64, r *LifecycleRecord) error {
	_, err := tx.ExecContext(ctx,
		`INSERT INTO account_lifecycle (account_id, permanent, registered_at, confirmed_at, trial_end, paid_through, plan, purging_at)
		 VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		 ON CONFLICT (account_id) DO UPDATE SET permanent = excluded.permanent, registered_at = excluded.registered_at,
		   confirmed_at = excluded.confirmed_at, trial_end = excluded.trial_end, paid_through = excluded.paid_through,
		   plan = excluded.plan, purging_at = excluded.purging_at`,
		account, r.Permanent, r.Registered.Unix(), nullTime(r.Confirmed), nullTime(r.TrialEnd), nullTime(r.PaidThrough), r.Plan, nullTime(r.Purging))
	if err != nil {
		return fmt.Errorf("storage: save lifecycle: %w", err)
	}
	return nil
}

// addEvent records an event unless its once-key was recorded before, and
// queues its mail in the outbox in the same transaction.
func addEvent(ctx context.Context, tx *sql.Tx, account int64, e NewEvent) (bool, error) {
	mail := MailNone
	if e.Mail {
		mail = MailQueued
	}
	var once any
	if e.OnceKey != "" {
		once = e.OnceKey
	}
	res, err := tx.ExecContext(ctx,
		`INSERT INTO account_events (account_id, kind, detail, at, once_key, mail) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (account_id, once_key) DO NOTHING`,
		account, e.Kind, e.Detail, e.At.Unix(), once, mail)
	if err != nil {
		return false, fmt.Errorf("storage: record event: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return false, nil
	}
	if e.Mail {
		id, err := res.LastInsertId()
		if err != nil {
			return false, err
		}
		if _, err := enqueue(ctx, tx, NewJob{Account: account, Kind: JobMail}, id); err != nil {
			return false, err
		}
	}
	return true, nil
}

func queryLifecycle(row *sql.Row) (*LifecycleRecord, error) {
	r, err := scanLifecycle(row.Scan)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return r, err
}

func scanLifecycle(scan func(...any) error) (*LifecycleRecord, error) {
	var r LifecycleRecord
	var registered int64
	var confirmed, trial, paid, purging sql.NullInt64
	if err := scan(&r.AccountID, &r.Username, &r.Email, &r.DisplayName, &r.Permanent, &registered, &confirmed, &trial, &paid, &r.Plan, &purging); err != nil {
		return nil, err
	}
	r.Registered = time.Unix(registered, 0).UTC()
	r.Confirmed, r.TrialEnd, r.PaidThrough, r.Purging = fromNull(confirmed), fromNull(trial), fromNull(paid), fromNull(purging)
	return &r, nil
}

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.Unix()
}

func fromNull(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return time.Unix(n.Int64, 0).UTC()
}
