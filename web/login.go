// Checking a password typed into a form, through the DAV login throttle.

package web

import (
	"errors"
	"net/http"

	"github.com/coffer-dav/coffer/auth"
	"github.com/coffer-dav/coffer/dav"
)

// loginCheck says what a form's password must be and how a refusal is shown.
type loginCheck struct {
	username, password string
	app                bool   // a live app password counts; else only the account password
	wrong              string // the message key of a wrong password
	wrongStatus        int    // its status; 0 means 403
	// render shows a refusal on the form's own page: the wrong password,
	// or "err.throttled" with 503 (Retry-After is set already).
	render func(status int, msg string)
}

// checkLogin checks a form's password through the login throttle that DAV
// uses, and returns the login, or nil once the refusal is shown. Signed in,
// the password must be the session's account's; other failures are logged
// and answered with 503.
func (h *Handler) checkLogin(q *req, c loginCheck) *auth.Identity {
	id, err := h.o.Auth.LoginFrom(q.r.Context(), c.username, c.password, q.r.RemoteAddr)
	var throttled *auth.Throttled
	var blocked *auth.Blocked
	switch {
	case errors.As(err, &throttled):
		q.w.Header().Set("Retry-After", dav.RetryAfter(throttled.RetryAfter))
		c.render(http.StatusServiceUnavailable, "err.throttled")
		return nil
	case errors.Is(err, auth.ErrBadCredentials), errors.As(err, &blocked),
		err == nil && (id.AppPassword != "") != c.app,
		err == nil && q.s != nil && id.AccountID != q.s.Identity.AccountID:
		status := c.wrongStatus
		if status == 0 {
			status = http.StatusForbidden
		}
		c.render(status, c.wrong)
		return nil
	case err != nil:
		h.fail(q, "password not checked", err)
		return nil
	}
	return id
}
