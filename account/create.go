package account

import (
	"context"
	"errors"

	"github.com/coffer-dav/coffer/auth"
)

// Creator creates an account with its key hierarchy and default
// collections; the coffer binary implements it (the keys are not this
// package's business).
type Creator interface {
	CreateAccount(ctx context.Context, a NewAccount) (*Created, error)
}

// NewAccount is an account to create.
type NewAccount struct {
	Username    string
	Email       string
	DisplayName string
	Password    string // wraps the user key
	Start       Start
}

// Created is a created account and what is shown once about it.
type Created struct {
	ID           int64
	Username     string
	RecoveryCode string
}

// ErrExists reports a username that is taken.
var ErrExists = errors.New("account: the username is taken")

// CreateResult is what creating an account through the operator shows once.
type CreateResult struct {
	Username          string `json:"username"`
	State             State  `json:"state"`
	Password          string `json:"password,omitempty"`           // only when generated
	RecoveryCode      string `json:"recovery_code"`                // shown once
	ConfirmationToken string `json:"confirmation_token,omitempty"` // only when no e-mail goes out
}

// CreatePending creates an account that waits for its e-mail address to be
// confirmed, and sends the confirmation token by e-mail. Without SMTP, the
// token is returned, for the operator to pass on. A missing password is
// generated and returned.
func (l *Lifecycle) CreatePending(ctx context.Context, c Creator, a NewAccount) (*CreateResult, error) {
	if err := CheckEmail(a.Email); err != nil {
		return nil, err
	}
	if err := CheckDisplayName(a.DisplayName); err != nil {
		return nil, err
	}
	out := &CreateResult{}
	if a.Password == "" {
		p, err := auth.NewSecret(15)
		if err != nil {
			return nil, err
		}
		a.Password, out.Password = p, p
	} else if err := auth.CheckPassword(a.Password, a.Username, a.Email, a.DisplayName); err != nil {
		return nil, &FieldError{"password", err.Error()}
	}
	a.Start = StartPending
	created, err := c.CreateAccount(ctx, a)
	if err != nil {
		return nil, err
	}
	l.deliver(ctx, created.ID)
	out.Username, out.RecoveryCode = created.Username, created.RecoveryCode
	st, err := l.Status(ctx, created.ID)
	if err != nil {
		return nil, err
	}
	out.State = st.State
	if l.o.Mailer == nil {
		if out.ConfirmationToken, err = l.ConfirmationToken(ctx, created.ID); err != nil {
			return nil, err
		}
	}
	return out, nil
}
