// Changing the e-mail address: the new one takes effect once its own link is followed.

package web

import "net/http"

// setEmail is not written yet.
func (h *Handler) setEmail(q *req) {
	h.render(q, http.StatusNotImplemented, "message.html", "err.unavailable", nil)
}

// emailConfirmForm is not written yet.
func (h *Handler) emailConfirmForm(q *req) {
	h.render(q, http.StatusNotImplemented, "message.html", "err.unavailable", nil)
}

// emailConfirm is not written yet.
func (h *Handler) emailConfirm(q *req) {
	h.render(q, http.StatusNotImplemented, "message.html", "err.unavailable", nil)
}
