package dav

import (
	"context"

	"github.com/coffer-dav/coffer/storage"
)

// Account is the authenticated user a request acts for.
type Account struct {
	ID          int64
	Username    string // appears in URLs; never changes
	Email       string // may be empty
	DisplayName string
	Space       storage.Space // the user's data, opened with the user's keys
}

// Authenticator checks a username and password. It returns
// auth.ErrBadCredentials, *auth.Throttled or *auth.Blocked on refusal.
type Authenticator interface {
	Login(ctx context.Context, username, password, remoteAddr string) (*Account, error)
}
