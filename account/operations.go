package account

import (
	"context"
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode"

	"github.com/coffer-dav/coffer/auth"
	"github.com/coffer-dav/coffer/encryption"
	"github.com/coffer-dav/coffer/storage"
)

// Start says how a new account begins its life.
type Start int

// How accounts begin.
const (
	// StartDefault is a confirmed account whose trial starts at once, or a
	// permanent one when the lifecycle is off ("coffer user add").
	StartDefault Start = iota
	// StartPermanent is a self-hosted account that never expires.
	StartPermanent
	// StartPending waits until its e-mail address is confirmed (double opt-in).
	StartPending
)

// Payment is a payment to apply: a plan, and either the date it pays
// through or a number of days to add.
type Payment struct {
	TransactionID string
	Plan          string
	PaidThrough   time.Time
	Days          int
}

// More errors of the lifecycle's operations.
var (
	ErrPending          = errors.New("account: the e-mail address is not confirmed yet")
	ErrVoucherUsed      = errors.New("account: the voucher was already redeemed")
	ErrOtherTransaction = errors.New("account: the transaction id was applied to another account")
)

// maxDays bounds days granted at once (a hundred years).
const maxDays = 36600

// Begin returns the lifecycle row and first events of a new account, for
// storage.NewAccount.Lifecycle: they are written with the account.
func (l *Lifecycle) Begin(start Start, email string) *storage.LifecycleStart {
	now := l.Now()
	r := storage.LifecycleRecord{Email: email, Registered: now}
	var evs []storage.NewEvent
	switch {
	case start == StartPending:
		detail := "Confirm your e-mail address to start using the account."
		if !l.o.Settings.Off {
			detail = fmt.Sprintf("Confirm your e-mail address by %s to start using the account.", date(now.Add(l.o.Settings.Pending)))
		}
		evs = append(evs, l.event(&r, EventRegistered, detail, ""))
	case start == StartPermanent || l.o.Settings.Off:
		r.Permanent, r.Confirmed = true, now
		evs = append(evs, l.event(&r, EventRegistered, "The account never expires.", ""))
	default:
		r.Confirmed, r.TrialEnd = now, now.Add(l.o.Settings.Trial)
		evs = append(evs, l.event(&r, EventRegistered, "", ""),
			l.event(&r, EventTrialStarted, fmt.Sprintf("The free trial runs until %s.", date(r.TrialEnd)), ""))
	}
	return &storage.LifecycleStart{Record: r, Events: evs}
}

// ConfirmationToken returns the token that confirms a pending account's
// e-mail address. It is derived, never stored: a keyed MAC of the account.
func (l *Lifecycle) ConfirmationToken(ctx context.Context, account int64) (string, error) {
	r, err := l.db.LifecycleRecord(ctx, account)
	if errors.Is(err, storage.ErrNotFound) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", err
	}
	return l.token(r), nil
}

// Confirm confirms a pending account's e-mail address with its token; the
// trial starts then (or the account becomes permanent when the lifecycle is off).
func (l *Lifecycle) Confirm(ctx context.Context, account int64, token string) error {
	err := l.update(ctx, account, func(t storage.LifecycleTx, r *storage.LifecycleRecord, st Status) error {
		switch {
		case st.State == StatePurged:
			return ErrPurging
		case !r.Confirmed.IsZero():
			return ErrConfirmed
		case !encryption.Equal([]byte(strings.ToLower(strings.TrimSpace(token))), []byte(l.token(r))):
			return ErrBadToken
		}
		now := l.Now()
		r.Confirmed = now
		evs := []storage.NewEvent{l.event(r, EventEmailConfirmed, "", "")}
		if l.o.Settings.Off || r.Permanent {
			r.Permanent = true
		} else {
			r.TrialEnd = now.Add(l.o.Settings.Trial)
			evs = append(evs, l.event(r, EventTrialStarted, fmt.Sprintf("The free trial runs until %s.", date(r.TrialEnd)), ""))
		}
		return saveWith(t, r, evs...)
	})
	if err == nil {
		l.deliver(ctx, account)
	}
	return err
}

// ApplyPayment applies a payment. A transaction id applied before changes
// nothing: applied is then false. Only the transaction id, the plan and the
// dates are stored.
func (l *Lifecycle) ApplyPayment(ctx context.Context, account int64, p Payment) (applied bool, st Status, err error) {
	if err := checkPayment(p, l.Now()); err != nil {
		return false, Status{}, err
	}
	err = l.update(ctx, account, func(t storage.LifecycleTx, r *storage.LifecycleRecord, cur Status) error {
		if err := renewable(cur); err != nil {
			return err
		}
		now := l.Now()
		through := p.PaidThrough
		if p.Days > 0 {
			through = later(now, later(r.PaidThrough, r.TrialEnd)).Add(time.Duration(p.Days) * Day)
		}
		ok, owner, err := t.AddPayment(p.TransactionID, p.Plan, through, now)
		if err != nil {
			return err
		}
		if !ok {
			st = cur
			if owner != account {
				return ErrOtherTransaction
			}
			return nil
		}
		applied = true
		kind := EventSubscriptionPurchased
		if cur.State == StateActive && now.Before(r.PaidThrough) {
			kind = EventSubscriptionExtended
			if p.Plan != r.Plan {
				kind = EventSubscriptionUpgraded
			}
		}
		r.PaidThrough, r.Plan = through, p.Plan
		st = Compute(*r, now, l.o.Settings)
		return saveWith(t, r, l.event(r, kind, fmt.Sprintf("Plan %s, paid through %s.", p.Plan, date(through)), ""))
	})
	if applied {
		l.deliver(ctx, account)
	}
	return applied, st, err
}

// CreateVouchers creates count vouchers that each grant days of plan, and
// returns their codes; only hashes of the codes are stored.
func (l *Lifecycle) CreateVouchers(ctx context.Context, plan string, days, count int) ([]string, error) {
	if err := checkPlan(plan); err != nil {
		return nil, err
	}
	if days < 1 || days > maxDays {
		return nil, &FieldError{"days", fmt.Sprintf("want 1 to %d days", maxDays)}
	}
	if count < 1 || count > 1000 {
		return nil, &FieldError{"count", "want 1 to 1000 vouchers"}
	}
	codes := make([]string, count)
	vs := make([]storage.Voucher, count)
	for i := range codes {
		code, err := auth.NewSecret(10)
		if err != nil {
			return nil, err
		}
		codes[i] = code
		vs[i] = storage.Voucher{CodeHash: voucherHash(code), Plan: plan, Days: days}
	}
	if err := l.db.CreateVouchers(ctx, vs, l.Now()); err != nil {
		return nil, err
	}
	return codes, nil
}

// RedeemVoucher redeems a voucher for an account: it adds the voucher's days
// of its plan, after the trial or paid period that runs.
func (l *Lifecycle) RedeemVoucher(ctx context.Context, account int64, code string) (Status, error) {
	if strings.TrimSpace(code) == "" {
		return Status{}, &FieldError{"code", "the voucher code is missing"}
	}
	var st Status
	err := l.update(ctx, account, func(t storage.LifecycleTx, r *storage.LifecycleRecord, cur Status) error {
		if err := renewable(cur); err != nil {
			return err
		}
		now := l.Now()
		plan, days, err := t.RedeemVoucher(voucherHash(code), now)
		switch {
		case errors.Is(err, storage.ErrNotFound):
			return &FieldError{"code", "no such voucher"}
		case errors.Is(err, storage.ErrVoucherUsed):
			return ErrVoucherUsed
		case err != nil:
			return err
		}
		r.PaidThrough = later(now, later(r.PaidThrough, r.TrialEnd)).Add(time.Duration(days) * Day)
		r.Plan = plan
		st = Compute(*r, now, l.o.Settings)
		return saveWith(t, r, l.event(r, EventVoucherRedeemed, fmt.Sprintf("Plan %s, paid through %s.", plan, date(r.PaidThrough)), ""))
	})
	if err == nil {
		l.deliver(ctx, account)
	}
	return st, err
}

// SetDisplayName changes an account's display name and records it.
func (l *Lifecycle) SetDisplayName(ctx context.Context, account int64, name string) error {
	if err := CheckDisplayName(name); err != nil {
		return err
	}
	err := l.update(ctx, account, func(t storage.LifecycleTx, r *storage.LifecycleRecord, _ Status) error {
		if err := t.SetDisplayName(name); err != nil {
			return err
		}
		_, err := t.AddEvent(l.event(r, EventDisplayNameChanged, "", ""))
		return err
	})
	if err == nil {
		l.deliver(ctx, account)
	}
	return err
}

// SetEmail changes an account's e-mail address and records it; the
// notification goes to the new address.
func (l *Lifecycle) SetEmail(ctx context.Context, account int64, email string) error {
	return l.setEmail(ctx, account, email, nil)
}

// setEmail is SetEmail after check, when given, accepted the record in the
// transaction of the change.
func (l *Lifecycle) setEmail(ctx context.Context, account int64, email string, check func(r *storage.LifecycleRecord, st Status) error) error {
	if err := CheckEmail(email); err != nil {
		return err
	}
	err := l.update(ctx, account, func(t storage.LifecycleTx, r *storage.LifecycleRecord, st Status) error {
		if check != nil {
			if err := check(r, st); err != nil {
				return err
			}
		}
		if err := t.SetEmail(email); err != nil {
			return err
		}
		r.Email = email
		_, err := t.AddEvent(l.event(r, EventEmailChanged, "", ""))
		return err
	})
	if err == nil {
		l.deliver(ctx, account)
	}
	return err
}

// Delete purges an account now: the decision is recorded first, so that no
// renewal can slip in, then its key slots and rows go and the database is
// checkpointed (storage.DB.DeleteAccount).
func (l *Lifecycle) Delete(ctx context.Context, account int64) error {
	var username string
	err := l.update(ctx, account, func(t storage.LifecycleTx, r *storage.LifecycleRecord, _ Status) error {
		username = r.Username
		if r.Purging.IsZero() {
			r.Purging = l.Now()
		}
		return t.Save(r)
	})
	if err != nil {
		return err
	}
	return l.finishPurge(ctx, account, username)
}

// finishPurge deletes an account whose purge was decided.
func (l *Lifecycle) finishPurge(ctx context.Context, account int64, username string) error {
	err := l.db.DeleteAccount(ctx, account)
	l.forgetGate(account)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return err
	}
	if l.o.OnPurge != nil {
		l.o.OnPurge(username)
	}
	l.o.Logger.Info("account purged", "account", account)
	return nil
}

// CheckEmail reports whether s is a bare e-mail address.
func CheckEmail(s string) error {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s || len(s) > 254 {
		return &FieldError{"email", "want a bare e-mail address such as alice@example.org"}
	}
	return nil
}

// CheckDisplayName reports whether s is acceptable as a display name.
func CheckDisplayName(s string) error {
	if len(s) > 200 || strings.IndexFunc(s, unicode.IsControl) >= 0 {
		return &FieldError{"display_name", "want at most 200 characters and no control characters"}
	}
	return nil
}

func checkPlan(plan string) error {
	if plan == "" || len(plan) > 64 || strings.IndexFunc(plan, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.')
	}) >= 0 {
		return &FieldError{"plan", "want 1 to 64 letters, digits, '-', '_' or '.'"}
	}
	return nil
}

func checkPayment(p Payment, now time.Time) error {
	if p.TransactionID == "" || len(p.TransactionID) > 200 || strings.IndexFunc(p.TransactionID, func(r rune) bool { return r <= ' ' || r == 0x7f }) >= 0 {
		return &FieldError{"transaction_id", "want 1 to 200 printable characters without spaces"}
	}
	if err := checkPlan(p.Plan); err != nil {
		return err
	}
	switch {
	case p.Days != 0 && !p.PaidThrough.IsZero():
		return &FieldError{"paid_through", "give either paid_through or days, not both"}
	case p.Days < 0 || p.Days > maxDays:
		return &FieldError{"days", fmt.Sprintf("want 1 to %d days", maxDays)}
	case p.Days == 0 && p.PaidThrough.IsZero():
		return &FieldError{"paid_through", "give paid_through (a date) or days"}
	case p.Days == 0 && !p.PaidThrough.After(now):
		return &FieldError{"paid_through", "the date must be in the future"}
	}
	return nil
}

// renewable refuses renewals of accounts being deleted or not yet confirmed.
func renewable(st Status) error {
	switch st.State {
	case StatePurged:
		return ErrPurging
	case StatePending:
		return ErrPending
	}
	return nil
}

func saveWith(t storage.LifecycleTx, r *storage.LifecycleRecord, evs ...storage.NewEvent) error {
	if err := t.Save(r); err != nil {
		return err
	}
	for _, e := range evs {
		if _, err := t.AddEvent(e); err != nil {
			return err
		}
	}
	return nil
}

func (l *Lifecycle) token(r *storage.LifecycleRecord) string {
	m := l.o.TokenKey.NewHash()
	fmt.Fprintf(m, "coffer confirm\x00%d\x00%s\x00%d", r.AccountID, r.Username, r.Registered.Unix())
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(m.Sum(nil)[:15]))
}

func voucherHash(code string) []byte {
	h := sha256.Sum256([]byte("coffer voucher\x00" + auth.NormalizeSecret(code)))
	return h[:]
}

// ParseDate reads a date as the API and the CLI accept it: RFC 3339, or a
// day such as 2026-03-01 meaning its end (UTC).
func ParseDate(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	d, err := time.Parse("2006-01-02", s)
	if err != nil {
		return time.Time{}, err
	}
	return d.Add(Day - time.Second), nil
}
