package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/coffer-dav/coffer/storage"
	"github.com/jackc/pgx/v5"
)

// lifecycleTx is PostgreSQL's write transaction over one account's
// lifecycle; it holds the account row's lock until it ends.
type lifecycleTx struct {
	ctx     context.Context
	tx      pgx.Tx
	account int64
}

// lifecycleColumns reads a lifecycle record; an account without a
// lifecycle row reads as permanent and confirmed at its creation.
const lifecycleColumns = `a.id, a.username, a.email, a.display_name,
	coalesce(l.permanent, true), coalesce(l.registered_at, a.created_at), coalesce(l.confirmed_at, CASE WHEN l.account_id IS NULL THEN a.created_at END),
	l.trial_end, l.paid_through, coalesce(l.plan, ''), l.purging_at`

const lifecycleFrom = ` FROM accounts a LEFT JOIN account_lifecycle l ON l.account_id = a.id`

// eventColumns read an event, with its mail's state as its outbox job
// tells it while there is one.
const eventColumns = `e.id, e.account_id, e.kind, e.detail, e.at,
	CASE WHEN o.id IS NULL THEN e.mail WHEN o.claimed_until <> 0 THEN 'sending' ELSE 'queued' END`

// eventFrom joins the events to their mails' jobs.
const eventFrom = ` FROM account_events e LEFT JOIN outbox o ON o.event_id = e.id`

// LifecycleRecord returns one account's lifecycle record, or storage.ErrNotFound.
func (db *DB) LifecycleRecord(ctx context.Context, account int64) (*storage.LifecycleRecord, error) {
	return queryLifecycle(db.pool.QueryRow(ctx, `SELECT `+lifecycleColumns+lifecycleFrom+` WHERE a.id = $1`, account))
}

// LifecycleRecordByUsername returns the lifecycle record of the account
// with that username, or storage.ErrNotFound.
func (db *DB) LifecycleRecordByUsername(ctx context.Context, username string) (*storage.LifecycleRecord, error) {
	return queryLifecycle(db.pool.QueryRow(ctx, `SELECT `+lifecycleColumns+lifecycleFrom+` WHERE a.username = $1`, username))
}

// LifecycleRecords lists the lifecycle records of every account, by id.
func (db *DB) LifecycleRecords(ctx context.Context) ([]storage.LifecycleRecord, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+lifecycleColumns+lifecycleFrom+` ORDER BY a.id`)
	if err != nil {
		return nil, fmt.Errorf("postgres: list lifecycles: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (storage.LifecycleRecord, error) {
		r, err := scanLifecycle(row)
		if err != nil {
			return storage.LifecycleRecord{}, err
		}
		return *r, nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: list lifecycles: %w", err)
	}
	return out, nil
}

// UpdateLifecycle runs fn in a transaction with the account's current
// record, read inside it under a lock on the account row, so that
// updates of one account, from any instance, run one after another. It
// fails with storage.ErrNotFound when the account does not exist, and
// commits nothing when fn fails.
func (db *DB) UpdateLifecycle(ctx context.Context, account int64, fn func(t storage.LifecycleTx, r *storage.LifecycleRecord) error) error {
	return db.inTx(ctx, func(tx pgx.Tx) error {
		// The lock first, in a statement of its own: the read after it takes
		// a new snapshot (READ COMMITTED), which holds what the previous
		// holder committed. (A locking read of the join would see the
		// lifecycle row as it was before it waited.) NO KEY UPDATE keeps
		// other updaters out but lets rows that refer to the account
		// (sessions, slots) be written meanwhile.
		var one int
		err := tx.QueryRow(ctx, `SELECT 1 FROM accounts WHERE id = $1 FOR NO KEY UPDATE`, account).Scan(&one)
		if errors.Is(err, pgx.ErrNoRows) {
			return storage.ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("postgres: lock account: %w", err)
		}
		r, err := queryLifecycle(tx.QueryRow(ctx, `SELECT `+lifecycleColumns+lifecycleFrom+` WHERE a.id = $1`, account))
		if err != nil {
			return err
		}
		return fn(&lifecycleTx{ctx: ctx, tx: tx, account: account}, r)
	})
}

// Save writes the lifecycle fields of r.
func (t *lifecycleTx) Save(r *storage.LifecycleRecord) error {
	return saveLifecycle(t.ctx, t.tx, t.account, r)
}

// AddEvent records an event. It reports false, and records nothing, when
// an event with the same OnceKey was recorded before.
func (t *lifecycleTx) AddEvent(e storage.NewEvent) (bool, error) {
	return addEvent(t.ctx, t.tx, t.account, e)
}

// AddPayment records an applied payment. When the transaction id was
// applied before, it records nothing and returns the account it was applied to.
func (t *lifecycleTx) AddPayment(transaction, plan string, paidThrough, at time.Time) (applied bool, owner int64, err error) {
	tag, err := t.tx.Exec(t.ctx,
		`INSERT INTO payments (transaction_id, account_id, plan, paid_through, applied_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (transaction_id) DO NOTHING`,
		transaction, t.account, plan, paidThrough.Unix(), at.Unix())
	if err != nil {
		return false, 0, fmt.Errorf("postgres: record payment: %w", err)
	}
	if tag.RowsAffected() == 1 {
		return true, t.account, nil
	}
	if err := t.tx.QueryRow(t.ctx, `SELECT account_id FROM payments WHERE transaction_id = $1`, transaction).Scan(&owner); err != nil {
		return false, 0, fmt.Errorf("postgres: read payment: %w", err)
	}
	return false, owner, nil
}

// RedeemVoucher marks a voucher redeemed by the account and returns what
// it grants. It fails with storage.ErrNotFound for an unknown code and
// storage.ErrVoucherUsed for one redeemed before.
func (t *lifecycleTx) RedeemVoucher(codeHash []byte, at time.Time) (plan string, days int, err error) {
	err = t.tx.QueryRow(t.ctx,
		`UPDATE vouchers SET redeemed_by = $1, redeemed_at = $2 WHERE code_hash = $3 AND redeemed_at IS NULL RETURNING plan, days`,
		t.account, at.Unix(), codeHash).Scan(&plan, &days)
	if errors.Is(err, pgx.ErrNoRows) {
		var n int
		if err := t.tx.QueryRow(t.ctx, `SELECT count(*) FROM vouchers WHERE code_hash = $1`, codeHash).Scan(&n); err != nil {
			return "", 0, fmt.Errorf("postgres: read voucher: %w", err)
		}
		if n > 0 {
			return "", 0, storage.ErrVoucherUsed
		}
		return "", 0, storage.ErrNotFound
	}
	if err != nil {
		return "", 0, fmt.Errorf("postgres: redeem voucher: %w", err)
	}
	return plan, days, nil
}

// SetEmail changes the account's e-mail address.
func (t *lifecycleTx) SetEmail(email string) error {
	if _, err := t.tx.Exec(t.ctx, `UPDATE accounts SET email = $1 WHERE id = $2`, email, t.account); err != nil {
		return fmt.Errorf("postgres: set e-mail: %w", err)
	}
	return nil
}

// SetDisplayName changes the account's display name.
func (t *lifecycleTx) SetDisplayName(name string) error {
	if _, err := t.tx.Exec(t.ctx, `UPDATE accounts SET display_name = $1 WHERE id = $2`, name, t.account); err != nil {
		return fmt.Errorf("postgres: set display name: %w", err)
	}
	return nil
}

// CreateVouchers stores new vouchers in one transaction; it fails with
// storage.ErrExists, and stores none, when a code is taken.
func (db *DB) CreateVouchers(ctx context.Context, vs []storage.Voucher, at time.Time) error {
	return db.inTx(ctx, func(tx pgx.Tx) error {
		for _, v := range vs {
			_, err := tx.Exec(ctx, `INSERT INTO vouchers (code_hash, plan, days, created_at) VALUES ($1, $2, $3, $4)`, v.CodeHash, v.Plan, v.Days, at.Unix())
			if isUniqueViolation(err) {
				return storage.ErrExists
			}
			if err != nil {
				return fmt.Errorf("postgres: create voucher: %w", err)
			}
		}
		return nil
	})
}

// Events returns an account's notification history, oldest first.
func (db *DB) Events(ctx context.Context, account int64) ([]storage.Event, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+eventColumns+eventFrom+` WHERE e.account_id = $1 ORDER BY e.id`, account)
	if err != nil {
		return nil, fmt.Errorf("postgres: read events: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (storage.Event, error) { return scanEvent(row) })
	if err != nil {
		return nil, fmt.Errorf("postgres: read events: %w", err)
	}
	return out, nil
}

// Event returns one recorded event, or storage.ErrNotFound.
func (db *DB) Event(ctx context.Context, id int64) (*storage.Event, error) {
	e, err := scanEvent(db.pool.QueryRow(ctx, `SELECT `+eventColumns+eventFrom+` WHERE e.id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, storage.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: read event: %w", err)
	}
	return &e, nil
}

// OnceKeys returns the once-keys recorded so far, by account.
func (db *DB) OnceKeys(ctx context.Context) (map[int64]map[string]bool, error) {
	rows, err := db.pool.Query(ctx, `SELECT account_id, once_key FROM account_events WHERE once_key IS NOT NULL`)
	if err != nil {
		return nil, fmt.Errorf("postgres: read once-keys: %w", err)
	}
	defer rows.Close()
	out := map[int64]map[string]bool{}
	for rows.Next() {
		var id int64
		var key string
		if err := rows.Scan(&id, &key); err != nil {
			return nil, fmt.Errorf("postgres: read once-keys: %w", err)
		}
		if out[id] == nil {
			out[id] = map[string]bool{}
		}
		out[id][key] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: read once-keys: %w", err)
	}
	return out, nil
}

// Setting returns a server-wide setting; ok is false when it was never set.
func (db *DB) Setting(ctx context.Context, key string) (value string, ok bool, err error) {
	err = db.pool.QueryRow(ctx, `SELECT value FROM settings WHERE key = $1`, key).Scan(&value)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("postgres: read setting: %w", err)
	}
	return value, true, nil
}

// PutSetting stores a server-wide setting.
func (db *DB) PutSetting(ctx context.Context, key, value string) error {
	_, err := db.pool.Exec(ctx, `INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value)
	if err != nil {
		return fmt.Errorf("postgres: store setting: %w", err)
	}
	return nil
}

// saveLifecycle writes an account's lifecycle row.
func saveLifecycle(ctx context.Context, tx pgx.Tx, account int64, r *storage.LifecycleRecord) error {
	_, err := tx.Exec(ctx,
		`INSERT INTO account_lifecycle (account_id, permanent, registered_at, confirmed_at, trial_end, paid_through, plan, purging_at)
		 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		 ON CONFLICT (account_id) DO UPDATE SET permanent = excluded.permanent, registered_at = excluded.registered_at,
		   confirmed_at = excluded.confirmed_at, trial_end = excluded.trial_end, paid_through = excluded.paid_through,
		   plan = excluded.plan, purging_at = excluded.purging_at`,
		account, r.Permanent, r.Registered.Unix(), nullTime(r.Confirmed), nullTime(r.TrialEnd), nullTime(r.PaidThrough), r.Plan, nullTime(r.Purging))
	if err != nil {
		return fmt.Errorf("postgres: save lifecycle: %w", err)
	}
	return nil
}

// addEvent records an event unless its once-key was recorded before, and
// queues its mail in the outbox in the same transaction.
func addEvent(ctx context.Context, tx pgx.Tx, account int64, e storage.NewEvent) (bool, error) {
	mail := storage.MailNone
	if e.Mail {
		mail = storage.MailQueued
	}
	var once any
	if e.OnceKey != "" {
		once = e.OnceKey
	}
	var id int64
	err := tx.QueryRow(ctx,
		`INSERT INTO account_events (account_id, kind, detail, at, once_key, mail) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (account_id, once_key) DO NOTHING RETURNING id`,
		account, e.Kind, e.Detail, e.At.Unix(), once, mail).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("postgres: record event: %w", err)
	}
	if e.Mail {
		if _, err := enqueue(ctx, tx, storage.NewJob{Account: account, Kind: storage.JobMail}, id); err != nil {
			return false, err
		}
	}
	return true, nil
}

// queryLifecycle reads one lifecycle record, or storage.ErrNotFound.
func queryLifecycle(row pgx.Row) (*storage.LifecycleRecord, error) {
	r, err := scanLifecycle(row)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, storage.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: read lifecycle: %w", err)
	}
	return r, nil
}

// scanLifecycle reads one row of lifecycleColumns.
func scanLifecycle(row pgx.Row) (*storage.LifecycleRecord, error) {
	var r storage.LifecycleRecord
	var registered int64
	var confirmed, trial, paid, purging *int64
	if err := row.Scan(&r.AccountID, &r.Username, &r.Email, &r.DisplayName, &r.Permanent, &registered, &confirmed, &trial, &paid, &r.Plan, &purging); err != nil {
		return nil, err
	}
	r.Registered = fromUnix(registered)
	r.Confirmed, r.TrialEnd, r.PaidThrough, r.Purging = fromNull(confirmed), fromNull(trial), fromNull(paid), fromNull(purging)
	return &r, nil
}

// scanEvent reads one row of eventColumns.
func scanEvent(row pgx.Row) (storage.Event, error) {
	var e storage.Event
	var at int64
	if err := row.Scan(&e.ID, &e.AccountID, &e.Kind, &e.Detail, &at, &e.Mail); err != nil {
		return storage.Event{}, err
	}
	e.At = fromUnix(at)
	return e, nil
}
