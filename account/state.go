// Package account runs the account lifecycle (pending, trial, active,
// retention, purged): states computed from dates and recorded events, the
// sweeper that moves accounts on, sends reminders and purges, the
// notification history and its e-mail, and the operator API.
package account

import (
	"time"

	"github.com/coffer-dav/coffer/storage"
)

// State is where an account stands in its lifecycle.
type State string

// The lifecycle states.
const (
	StatePending   State = "pending"   // the e-mail address is not confirmed yet: no DAV access
	StateTrial     State = "trial"     // a free trial runs
	StateActive    State = "active"    // paid through a date, or permanent
	StateRetention State = "retention" // ended: the data is kept, blocked, until it is deleted
	StatePurged    State = "purged"    // deleted, or being deleted
)

// Status is an account's state with the dates that explain it. Zero times
// mean "does not apply".
type Status struct {
	State       State
	Permanent   bool // never expires (self-hosted, or the lifecycle is off)
	Plan        string
	TrialEnd    time.Time
	PaidThrough time.Time
	Expires     time.Time // when the trial or the paid period ends
	DeleteAt    time.Time // when the data is deleted (pending and retention)
}

// Compute derives an account's status at now from its record.
func Compute(r storage.LifecycleRecord, now time.Time, s Settings) Status {
	st := Status{Permanent: r.Permanent || s.Off, Plan: r.Plan, TrialEnd: r.TrialEnd, PaidThrough: r.PaidThrough}
	switch {
	case !r.Purging.IsZero():
		st.State = StatePurged
		return st
	case r.Confirmed.IsZero():
		st.State = StatePending
		if !s.Off {
			st.DeleteAt = r.Registered.Add(s.Pending)
		}
		return st
	case st.Permanent:
		st.State = StateActive
		return st
	}
	st.Expires = later(r.TrialEnd, r.PaidThrough)
	if st.Expires.IsZero() {
		// Neither a trial nor a payment: it ended when it was confirmed.
		st.Expires = r.Confirmed
	}
	switch {
	case now.Before(r.PaidThrough):
		st.State = StateActive
	case now.Before(r.TrialEnd):
		st.State = StateTrial
	default:
		st.State = StateRetention
		st.DeleteAt = st.Expires.Add(s.Retention)
	}
	return st
}

// PurgeDue reports whether the account's data is to be deleted at now.
func (st Status) PurgeDue(now time.Time) bool {
	return st.State == StatePurged || (!st.DeleteAt.IsZero() && !now.Before(st.DeleteAt))
}

// Blocked reports whether DAV access is refused in this state.
func (st Status) Blocked() bool {
	return st.State != StateTrial && st.State != StateActive
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
