package web

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/coffer-dav/coffer/account"
	"github.com/coffer-dav/coffer/storage"
)

// signinForm shows the sign-in form; a signed-in browser goes to its overview.
func (h *Handler) signinForm(q *req) {
	if q.s != nil {
		seeOther(q, "/")
		return
	}
	h.render(q, http.StatusOK, "signin.html", done(q), nil)
}

// signin checks the password, through the DAV login throttle, and starts
// a session with a new id. The name may be the username or the e-mail address.
func (h *Handler) signin(q *req) {
	name := strings.TrimSpace(q.r.PostFormValue("username"))
	if strings.Contains(name, "@") {
		// An e-mail address stands for its account's username; one that
		// is unknown, or shared by two accounts, is tried as typed and fails.
		if a, err := h.o.Store.AccountByEmail(q.r.Context(), name); err == nil {
			name = a.Username
		} else if !errors.Is(err, storage.ErrNotFound) {
			h.fail(q, "sign-in lookup failed", err)
			return
		}
	}
	id := h.checkLogin(q, loginCheck{username: name, password: q.r.PostFormValue("password"),
		wrong: "err.credentials", wrongStatus: http.StatusUnauthorized,
		render: func(status int, msg string) { h.render(q, status, "signin.html", msg, nil) }})
	if id == nil {
		return
	}
	// A pending account confirms its address first; one in retention may
	// still sign in, to download or erase its data.
	st, err := h.o.Life.Status(q.r.Context(), id.AccountID)
	switch {
	case err != nil:
		h.fail(q, "sign-in state not read", err)
		return
	case st.State == account.StatePending:
		h.render(q, http.StatusForbidden, "signin.html", "err.pending", nil)
		return
	case st.State == account.StatePurged:
		h.render(q, http.StatusUnauthorized, "signin.html", "err.credentials", nil)
		return
	}
	s, err := h.o.Auth.StartSession(q.r.Context(), id)
	if err != nil {
		h.fail(q, "session not started", err)
		return
	}
	h.setCookie(q.w, formCookie, "", -1)
	h.setCookie(q.w, sessionCookie, s.Token, int(time.Until(s.Expires).Seconds()))
	seeOther(q, "/")
}

// signout ends this session on the server.
func (h *Handler) signout(q *req) {
	h.end(q, h.o.Auth.EndSession(q.r.Context(), q.s.Token))
}

// signoutAll ends every session of the account, in every browser.
func (h *Handler) signoutAll(q *req) {
	h.end(q, h.o.Auth.EndSessions(q.r.Context(), q.s.Identity.AccountID))
}

// end finishes a sign-out: the cookie goes, and the browser to sign-in.
func (h *Handler) end(q *req, err error) {
	if err != nil {
		h.fail(q, "sign-out failed", err)
		return
	}
	h.setCookie(q.w, sessionCookie, "", -1)
	seeOther(q, "/signin?done=notice.signedout")
}
