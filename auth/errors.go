// Package auth verifies credentials: a password by opening its key slot
// (Argon2id and the server secret; no hash of the password is stored), app
// passwords, the verified-login cache, the bound on concurrent Argon2 runs,
// and the user key that a login yields.
package auth

import (
	"errors"
	"time"
)

// ErrBadCredentials reports an unknown user or a wrong password. Callers
// answer 401 and cannot tell which of the two it was.
var ErrBadCredentials = errors.New("auth: invalid credentials")

// Throttled reports that logins are refused for a while; callers answer 503
// with Retry-After (DAVx5 backs off on 503 and gives up on 429).
type Throttled struct {
	RetryAfter time.Duration
}

func (e *Throttled) Error() string {
	return "auth: too many attempts, retry after " + e.RetryAfter.String()
}

// Blocked reports an account whose data is kept but not served; callers
// answer 403 with Reason, never 404.
type Blocked struct {
	Reason string // a sentence for the user
}

func (e *Blocked) Error() string { return "auth: account blocked: " + e.Reason }
