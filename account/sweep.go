package account

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/coffer-dav/coffer/storage"
)

// SweepReport says what one sweep did.
type SweepReport struct {
	Events      int `json:"events"`       // reminders and state changes recorded
	Purged      int `json:"purged"`       // accounts deleted
	MailsSent   int `json:"mails_sent"`   // e-mails delivered
	MailsFailed int `json:"mails_failed"` // e-mails that failed this time (retried next sweep)
	PushExpired int `json:"push_expired"` // push subscriptions dropped at their expiry
}

// Sweep moves every account on: it records the state changes and reminders
// that are due, purges the accounts whose time is up, and sends the e-mails
// that wait. Each account's step runs in its own transaction that re-reads
// the account, and each sweeper event has a unique key, so sweeps may run
// concurrently and repeatedly: nothing happens twice, and an account renewed
// after the scan is not purged.
func (l *Lifecycle) Sweep(ctx context.Context) (SweepReport, error) {
	var rep SweepReport
	if !l.o.Settings.Off {
		recs, err := l.db.LifecycleRecords(ctx)
		if err != nil {
			return rep, err
		}
		done, err := l.db.OnceKeys(ctx)
		if err != nil {
			return rep, err
		}
		now := l.Now()
		for _, r := range recs {
			st := Compute(r, now, l.o.Settings)
			if !st.PurgeDue(now) && !anyNew(dueEvents(r, st, now, l.o.Settings), done[r.AccountID]) {
				continue
			}
			if l.testHookBeforeStep != nil {
				l.testHookBeforeStep(r.AccountID)
			}
			n, purge, err := l.step(ctx, r.AccountID)
			if errors.Is(err, ErrNotFound) {
				continue // purged by another sweeper meanwhile
			}
			if err != nil {
				return rep, fmt.Errorf("sweep account %d: %w", r.AccountID, err)
			}
			rep.Events += n
			if purge {
				if err := l.finishPurge(ctx, r.AccountID, r.Username); err != nil {
					return rep, err
				}
				rep.Purged++
			}
		}
	}
	rep.MailsSent, rep.MailsFailed = l.deliver(ctx, 0)
	if pe, ok := l.db.(storage.PushExpiry); ok {
		// Expired push subscriptions go without a user key: their expiry
		// is readable for this.
		n, err := pe.DropExpiredSubscriptions(ctx, l.Now())
		if err != nil {
			return rep, fmt.Errorf("drop expired push subscriptions: %w", err)
		}
		rep.PushExpired = int(n)
	}
	return rep, nil
}

// Run sweeps every interval until ctx ends.
func (l *Lifecycle) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if rep, err := l.sweepOnce(ctx); err != nil {
			if ctx.Err() == nil {
				l.o.Logger.Error("sweep", "err", err)
			}
		} else if rep != (SweepReport{}) {
			l.o.Logger.Info("sweep", "events", rep.Events, "purged", rep.Purged, "mails_sent", rep.MailsSent, "mails_failed", rep.MailsFailed, "push_expired", rep.PushExpired)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// sweepLock names the lock that keeps sweeps to one instance at a time.
const sweepLock = "account-sweeper"

// sweepOnce sweeps unless another instance is sweeping now, under the
// lock of Options.Locks.
func (l *Lifecycle) sweepOnce(ctx context.Context) (SweepReport, error) {
	if l.o.Locks == nil {
		return l.Sweep(ctx)
	}
	release, ok, err := l.o.Locks.TryLock(ctx, sweepLock)
	if err != nil || !ok {
		return SweepReport{}, err
	}
	defer release()
	return l.Sweep(ctx)
}

// step records what is due for one account, deciding inside the transaction
// from the record as it is now. A due purge is recorded (purging_at) before
// it is carried out, and renewals refuse an account marked so.
func (l *Lifecycle) step(ctx context.Context, account int64) (events int, purge bool, err error) {
	err = l.update(ctx, account, func(t storage.LifecycleTx, r *storage.LifecycleRecord, st Status) error {
		now := l.Now()
		for _, e := range dueEvents(*r, st, now, l.o.Settings) {
			e.Mail = l.o.Mailer != nil && r.Email != ""
			ok, err := t.AddEvent(e)
			if err != nil {
				return err
			}
			if ok {
				events++
			}
		}
		if !st.PurgeDue(now) {
			return nil
		}
		purge = true
		if !r.Purging.IsZero() {
			return nil
		}
		r.Purging = now
		return t.Save(r)
	})
	return events, purge, err
}

// dueEvents lists the sweeper's events that are due at now. Each carries a
// once-key of its kind and due date; the database keeps it to one. Of the
// reminders for one date only the latest due offset is given, so a sweeper
// that was down does not send a stale reminder next to a current one.
func dueEvents(r storage.LifecycleRecord, st Status, now time.Time, s Settings) []storage.NewEvent {
	var out []storage.NewEvent
	add := func(kind EventKind, due time.Time, detail string) {
		out = append(out, storage.NewEvent{Kind: string(kind), Detail: detail, At: now, OnceKey: string(kind) + ":" + due.UTC().Format(time.RFC3339)})
	}
	switch st.State {
	case StateTrial, StateActive:
		if st.Permanent || st.Expires.IsZero() {
			break
		}
		if due, ok := reminderDue(st.Expires, now, s.Reminders); ok {
			what := "subscription"
			if st.State == StateTrial {
				what = "free trial"
			}
			add(EventSubscriptionExpiring, due, fmt.Sprintf("The %s ends on %s.", what, date(st.Expires)))
		}
	case StateRetention:
		if !r.TrialEnd.IsZero() && !r.PaidThrough.After(r.TrialEnd) {
			add(EventTrialEnded, r.TrialEnd, fmt.Sprintf("The free trial ended on %s.", date(r.TrialEnd)))
		}
		add(EventRetentionStarted, st.Expires, fmt.Sprintf("The data is kept, blocked, until %s, and then deleted unless the subscription is renewed.", date(st.DeleteAt)))
		if due, ok := reminderDue(st.DeleteAt, now, s.Reminders); ok {
			add(EventDeletionScheduled, due, fmt.Sprintf("The data will be deleted on %s unless the subscription is renewed.", date(st.DeleteAt)))
		}
	}
	return out
}

// reminderDue returns the due time of the latest reminder before deadline
// that is due at now, if any, and none once the deadline passed.
func reminderDue(deadline, now time.Time, offsets []time.Duration) (time.Time, bool) {
	if !now.Before(deadline) {
		return time.Time{}, false
	}
	sorted := append([]time.Duration(nil), offsets...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
	for _, o := range sorted {
		if due := deadline.Add(-o); !now.Before(due) {
			return due, true
		}
	}
	return time.Time{}, false
}

// anyNew reports whether any of evs is not yet recorded; the scan uses it
// to leave alone the accounts with nothing to do (the step decides again).
func anyNew(evs []storage.NewEvent, done map[string]bool) bool {
	for _, e := range evs {
		if !done[e.OnceKey] {
			return true
		}
	}
	return false
}
