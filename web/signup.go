// Sign-up, the confirmation of a new account's e-mail address, and resending it.

package web

import "net/http"

// signupForm is not written yet.
func (h *Handler) signupForm(q *req) {
	h.render(q, http.StatusNotImplemented, "message.html", "err.unavailable", nil)
}

// signup is not written yet.
func (h *Handler) signup(q *req) {
	h.render(q, http.StatusNotImplemented, "message.html", "err.unavailable", nil)
}

// confirmForm is not written yet.
func (h *Handler) confirmForm(q *req) {
	h.render(q, http.StatusNotImplemented, "message.html", "err.unavailable", nil)
}

// confirm is not written yet.
func (h *Handler) confirm(q *req) {
	h.render(q, http.StatusNotImplemented, "message.html", "err.unavailable", nil)
}

// resendForm is not written yet.
func (h *Handler) resendForm(q *req) {
	h.render(q, http.StatusNotImplemented, "message.html", "err.unavailable", nil)
}

// resend is not written yet.
func (h *Handler) resend(q *req) {
	h.render(q, http.StatusNotImplemented, "message.html", "err.unavailable", nil)
}
