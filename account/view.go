package account

import (
	"context"
	"errors"
	"time"

	"github.com/coffer-dav/coffer/storage"
)

// View is an account as the operator API and the CLI show it.
type View struct {
	Username    string     `json:"username"`
	Email       string     `json:"email"`
	DisplayName string     `json:"display_name"`
	State       State      `json:"state"`
	Permanent   bool       `json:"permanent"`
	Plan        string     `json:"plan,omitempty"`
	TrialEnd    *time.Time `json:"trial_end,omitempty"`
	PaidThrough *time.Time `json:"paid_through,omitempty"`
	Expires     *time.Time `json:"expires,omitempty"`
	DeleteAt    *time.Time `json:"delete_at,omitempty"`
	History     []Event    `json:"history,omitempty"`
}

// View returns an account as the operator sees it, with its history when asked.
func (l *Lifecycle) View(ctx context.Context, account int64, history bool) (*View, error) {
	r, err := l.db.LifecycleRecord(ctx, account)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	st := Compute(*r, l.Now(), l.o.Settings)
	v := &View{Username: r.Username, Email: r.Email, DisplayName: r.DisplayName, State: st.State, Permanent: st.Permanent, Plan: st.Plan,
		TrialEnd: opt(st.TrialEnd), PaidThrough: opt(st.PaidThrough), Expires: opt(st.Expires), DeleteAt: opt(st.DeleteAt)}
	if history {
		if v.History, err = l.History(ctx, account); err != nil {
			return nil, err
		}
	}
	return v, nil
}

func opt(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
