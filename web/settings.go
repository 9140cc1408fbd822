// The settings page: display name, password and recovery code.

package web

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/coffer-dav/coffer/account"
	"github.com/coffer-dav/coffer/auth"
)

// settingsData is the settings page: the account's name and address, and
// a new recovery code when one was just made (shown once).
type settingsData struct {
	DisplayName string
	Email       string
	Recovery    string
}

// settings shows the settings page.
func (h *Handler) settings(q *req) {
	h.settingsPage(q, http.StatusOK, done(q), "")
}

// settingsPage renders the settings page with a message and, once, a new
// recovery code.
func (h *Handler) settingsPage(q *req, status int, msg, recovery string) {
	v, err := h.o.Life.View(q.r.Context(), q.s.Identity.AccountID, false)
	if err != nil {
		h.fail(q, "settings not read", err)
		return
	}
	h.render(q, status, "settings.html", msg, settingsData{DisplayName: v.DisplayName, Email: v.Email, Recovery: recovery})
}

// setName changes the display name.
func (h *Handler) setName(q *req) {
	err := h.o.Life.SetDisplayName(q.r.Context(), q.s.Identity.AccountID, strings.TrimSpace(q.r.PostFormValue("display_name")))
	var fe *account.FieldError
	switch {
	case errors.As(err, &fe):
		h.settingsPage(q, http.StatusBadRequest, "err.signup.displayname", "")
	case err != nil:
		h.fail(q, "display name not changed", err)
	default:
		seeOther(q, "/settings?done=notice.name.saved")
	}
}

// setPassword changes the password after checking the current one. Every
// session of the account ends, and this browser gets a new one: a browser
// signed in with the old password is signed out. App passwords keep working.
func (h *Handler) setPassword(q *req) {
	f := q.r.PostForm
	v, err := h.o.Life.View(q.r.Context(), q.s.Identity.AccountID, false)
	if err != nil {
		h.fail(q, "settings not read", err)
		return
	}
	if msg := passwordProblem(f.Get("new_password"), f.Get("new_password2"), v.Username, v.Email, v.DisplayName); msg != "" {
		h.settingsPage(q, http.StatusBadRequest, msg, "")
		return
	}
	id := h.currentPassword(q, f.Get("current_password"))
	if id == nil {
		return
	}
	ctx := q.r.Context()
	if err := h.o.Auth.ChangePassword(ctx, id, f.Get("new_password")); err != nil {
		h.fail(q, "password not changed", err)
		return
	}
	if err := h.o.Life.Record(ctx, id.AccountID, account.EventPasswordChanged, ""); err != nil {
		h.o.Logger.Error("recording an account event failed", "account", id.AccountID, "kind", account.EventPasswordChanged, "err", err)
	}
	if err := h.o.Auth.EndSessions(ctx, id.AccountID); err != nil {
		h.fail(q, "sessions not ended after a password change", err)
		return
	}
	s, err := h.o.Auth.StartSession(ctx, id)
	if err != nil {
		h.setCookie(q.w, sessionCookie, "", -1)
		seeOther(q, "/signin?done=notice.password.changed")
		return
	}
	h.setCookie(q.w, sessionCookie, s.Token, int(time.Until(s.Expires).Seconds()))
	seeOther(q, "/settings?done=notice.password.changed")
}

// newRecoveryCode replaces the recovery code after checking the password,
// and shows the new one once.
func (h *Handler) newRecoveryCode(q *req) {
	id := h.currentPassword(q, q.r.PostFormValue("recovery_password"))
	if id == nil {
		return
	}
	ctx := q.r.Context()
	code, err := h.o.Auth.NewRecoveryCode(ctx, id)
	if err != nil {
		h.fail(q, "recovery code not replaced", err)
		return
	}
	if err := h.o.Life.Record(ctx, id.AccountID, account.EventRecoveryCodeReplaced, ""); err != nil {
		h.o.Logger.Error("recording an account event failed", "account", id.AccountID, "kind", account.EventRecoveryCodeReplaced, "err", err)
	}
	h.settingsPage(q, http.StatusOK, "notice.recovery.new", code)
}

// currentPassword checks the signed-in account's password through the
// login throttle, and returns its login (with the keys), or nil after
// rendering why not. An app password is not the account's password.
func (h *Handler) currentPassword(q *req, pw string) *auth.Identity {
	if pw == "" {
		h.settingsPage(q, http.StatusBadRequest, "err.password.current", "")
		return nil
	}
	return h.checkLogin(q, loginCheck{username: q.s.Identity.Username, password: pw, wrong: "err.password.current",
		render: func(status int, msg string) { h.settingsPage(q, status, msg, "") }})
}
