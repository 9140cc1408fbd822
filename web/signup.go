// Sign-up, the confirmation of a new account's e-mail address, and resending it.

package web

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/coffer-dav/coffer/account"
	"github.com/coffer-dav/coffer/auth"
	"github.com/coffer-dav/coffer/storage"
)

// signupData is the sign-up page: the values typed so far (never the
// passwords), the field an error is about, and whether the mail went out.
type signupData struct {
	Username, DisplayName, Email string
	Field                        string // the field of the error shown; "" for none
	Sent                         bool   // the account was created: "check your mail"
}

// confirmData is a confirmation page's hidden fields.
type confirmData struct {
	User, Token string
}

// signupForm shows the sign-up form, or (?sent=1) the page that asks to
// check the mail; a 404 page when sign-up is off.
func (h *Handler) signupForm(q *req) {
	switch {
	case !h.o.Signup:
		h.render(q, http.StatusNotFound, "message.html", "err.nosignup", nil)
	case q.s != nil:
		seeOther(q, "/")
	default:
		h.render(q, http.StatusOK, "signup.html", "", signupData{Sent: q.r.URL.Query().Get("sent") == "1"})
	}
}

// signup creates a pending account and mails its confirmation link. A field
// error shows the form again with what was typed, but no password.
func (h *Handler) signup(q *req) {
	if !h.o.Signup {
		h.render(q, http.StatusNotFound, "message.html", "err.nosignup", nil)
		return
	}
	f := q.r.PostForm
	d := signupData{Username: strings.ToLower(strings.TrimSpace(f.Get("username"))),
		DisplayName: strings.TrimSpace(f.Get("display_name")), Email: strings.TrimSpace(f.Get("email"))}
	pw := f.Get("password")
	bad := func(status int, field, msg string) {
		d.Field = field
		h.render(q, status, "signup.html", msg, d)
	}
	switch {
	case auth.CheckUsername(d.Username) != nil:
		bad(http.StatusBadRequest, "username", "err.signup.username")
		return
	case account.CheckDisplayName(d.DisplayName) != nil:
		bad(http.StatusBadRequest, "display_name", "err.signup.displayname")
		return
	case account.CheckEmail(d.Email) != nil:
		bad(http.StatusBadRequest, "email", "err.email.invalid")
		return
	}
	if msg := passwordProblem(pw, f.Get("password2"), d.Username, d.Email, d.DisplayName); msg != "" {
		bad(http.StatusBadRequest, "password", msg)
		return
	}
	_, err := h.o.Life.CreatePending(q.r.Context(), h.o.Creator, account.NewAccount{
		Username: d.Username, Email: d.Email, DisplayName: d.DisplayName, Password: pw})
	var fe *account.FieldError
	switch {
	case errors.Is(err, account.ErrExists):
		bad(http.StatusConflict, "username", "err.signup.taken")
	case errors.As(err, &fe):
		bad(http.StatusBadRequest, fe.Field, map[string]string{"username": "err.signup.username", "display_name": "err.signup.displayname",
			"email": "err.email.invalid", "password": "err.password.weak"}[fe.Field])
	case err != nil:
		h.fail(q, "sign-up failed", err)
	default:
		h.o.Logger.Info("account signed up")
		seeOther(q, "/signup?sent=1")
	}
}

// passwordProblem returns the message key of what is wrong with a new
// password and its repetition, or "": auth.CheckPassword's rule, with the
// account's details as hints.
func passwordProblem(pw, again string, hints ...string) string {
	switch {
	case len(pw) < 8:
		return "err.password.short"
	case len(pw) > 1024:
		return "err.password.long"
	case pw != again:
		return "err.password.mismatch"
	case auth.CheckPassword(pw, hints...) != nil:
		return "err.password.weak"
	}
	return ""
}

// confirmForm shows the confirmation link's page: one button, so that a
// mail scanner that fetches the link confirms nothing.
func (h *Handler) confirmForm(q *req) {
	v := q.r.URL.Query()
	d := confirmData{User: v.Get("u"), Token: v.Get("t")}
	if d.User == "" || d.Token == "" {
		h.render(q, http.StatusBadRequest, "message.html", "err.confirm.bad", nil)
		return
	}
	h.render(q, http.StatusOK, "confirm.html", "", d)
}

// confirm confirms a pending account's address, which starts its trial,
// and sends the browser to sign in.
func (h *Handler) confirm(q *req) {
	ctx := q.r.Context()
	user, token := q.r.PostFormValue("u"), q.r.PostFormValue("t")
	id, err := h.o.Life.Lookup(ctx, user)
	if err == nil {
		err = h.o.Life.Confirm(ctx, id, token)
	}
	switch {
	case err == nil:
		seeOther(q, "/signin?done=notice.confirmed")
	case errors.Is(err, account.ErrConfirmed):
		// Only the right token learns that it was used already.
		if t, terr := h.o.Life.ConfirmationToken(ctx, id); terr == nil && sameToken(t, strings.ToLower(strings.TrimSpace(token))) {
			h.render(q, http.StatusConflict, "message.html", "err.confirm.used", nil)
			return
		}
		h.render(q, http.StatusBadRequest, "message.html", "err.confirm.bad", nil)
	case errors.Is(err, account.ErrNotFound), errors.Is(err, account.ErrBadToken), errors.Is(err, account.ErrPurging):
		h.render(q, http.StatusBadRequest, "message.html", "err.confirm.bad", nil)
	default:
		h.fail(q, "confirmation failed", err)
	}
}

// resendForm asks for the username or e-mail address of a pending account.
func (h *Handler) resendForm(q *req) {
	h.render(q, http.StatusOK, "resend.html", done(q), nil)
}

// resend sends a pending account's confirmation mail again, through the
// lifecycle's durable, throttled mail queue. The answer is the same whether
// the account exists, waits for confirmation, or was throttled, and it comes
// before any lookup: the work runs after it, so that not even the answer's
// timing tells whether a pending account has that name.
func (h *Handler) resend(q *req) {
	login := strings.TrimSpace(q.r.PostFormValue("login"))
	if login == "" || len(login) > 254 {
		h.render(q, http.StatusBadRequest, "resend.html", "err.resend.empty", nil)
		return
	}
	select {
	case h.resends <- struct{}{}:
		h.background.Add(1)
		go func() {
			defer func() { <-h.resends; h.background.Done() }()
			ctx, cancel := context.WithTimeout(context.WithoutCancel(q.r.Context()), time.Minute)
			defer cancel()
			h.resendNow(ctx, login)
		}()
	default:
		// More resends at once than a person makes: this one is dropped,
		// and the answer stays the same.
		h.o.Logger.Warn("dashboard: a confirmation resend was dropped: too many at once")
	}
	seeOther(q, "/resend?done=notice.resent")
}

// resendNow finds the account a resend names, by username or e-mail
// address, and has the lifecycle send its confirmation again.
func (h *Handler) resendNow(ctx context.Context, login string) {
	var id int64
	var err error
	if strings.Contains(login, "@") {
		var a *storage.Account
		if a, err = h.o.Store.AccountByEmail(ctx, login); err == nil {
			id = a.ID
		}
		if errors.Is(err, storage.ErrNotFound) {
			// An address is also a possible username.
			id, err = h.o.Life.Lookup(ctx, strings.ToLower(login))
		}
	} else {
		id, err = h.o.Life.Lookup(ctx, strings.ToLower(login))
	}
	if err == nil {
		err = h.o.Life.ResendConfirmation(ctx, id)
	}
	switch {
	case err == nil, errors.Is(err, account.ErrNotFound), errors.Is(err, storage.ErrNotFound), errors.Is(err, account.ErrThrottled),
		errors.Is(err, account.ErrConfirmed), errors.Is(err, account.ErrPurging), errors.Is(err, account.ErrNoMail):
	default:
		h.o.Logger.Error("dashboard: confirmation not resent", "err", err)
	}
}
