// Changing the e-mail address: the new one takes effect once its own link is followed.

package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/coffer-dav/coffer/account"
)

// emailConfirmData is the e-mail confirmation page's hidden token.
type emailConfirmData struct {
	Token string
}

// setEmail mails a confirmation link to a new address; the address
// changes when that link is followed.
func (h *Handler) setEmail(q *req) {
	email := strings.TrimSpace(q.r.PostFormValue("email"))
	if account.CheckEmail(email) != nil {
		h.settingsPage(q, http.StatusBadRequest, "err.email.invalid", "")
		return
	}
	err := h.o.Life.RequestEmailChange(q.r.Context(), q.s.Identity.AccountID, email)
	var fe *account.FieldError
	switch {
	case err == nil:
		seeOther(q, "/settings?done=notice.email.sent")
	case errors.As(err, &fe):
		h.settingsPage(q, http.StatusBadRequest, "err.email.same", "")
	case errors.Is(err, account.ErrThrottled):
		h.settingsPage(q, http.StatusTooManyRequests, "err.email.throttled", "")
	case errors.Is(err, account.ErrNoMail):
		h.settingsPage(q, http.StatusServiceUnavailable, "err.email.nomail", "")
	default:
		// The mail server refused or could not be reached. Its answer
		// may quote the address (a refused recipient): that is cut out.
		h.o.Logger.Warn("e-mail change link not sent", "account", q.s.Identity.AccountID, "err", withoutAddresses(err.Error()))
		h.settingsPage(q, http.StatusServiceUnavailable, "err.email.send", "")
	}
}

// withoutAddresses replaces every word of s that holds an "@" with
// "[address]", so that a log line keeps no e-mail address.
func withoutAddresses(s string) string {
	words := strings.Fields(s)
	for i, w := range words {
		if strings.Contains(w, "@") {
			words[i] = "[address]"
		}
	}
	return strings.Join(words, " ")
}

// emailConfirmForm shows the new address's link page: one button, so that
// a mail scanner that fetches the link changes nothing.
func (h *Handler) emailConfirmForm(q *req) {
	t := q.r.URL.Query().Get("t")
	if t == "" {
		h.render(q, http.StatusBadRequest, "message.html", "err.emailconfirm.bad", nil)
		return
	}
	h.render(q, http.StatusOK, "emailconfirm.html", "", emailConfirmData{Token: t})
}

// emailConfirm sets the new address its token carries.
func (h *Handler) emailConfirm(q *req) {
	_, err := h.o.Life.ConfirmEmailChange(q.r.Context(), q.r.PostFormValue("t"))
	switch {
	case err == nil && q.s != nil:
		seeOther(q, "/settings?done=notice.email.changed")
	case err == nil:
		seeOther(q, "/signin?done=notice.email.changed")
	case errors.Is(err, account.ErrTokenExpired):
		h.render(q, http.StatusGone, "message.html", "err.emailconfirm.expired", nil)
	case errors.Is(err, account.ErrBadToken), errors.Is(err, account.ErrPurging):
		h.render(q, http.StatusBadRequest, "message.html", "err.emailconfirm.bad", nil)
	default:
		h.fail(q, "e-mail change not confirmed", err)
	}
}
