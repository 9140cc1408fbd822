// The settings page: display name, password and recovery code.

package web

import "net/http"

// settings is not written yet.
func (h *Handler) settings(q *req) {
	h.render(q, http.StatusNotImplemented, "message.html", "err.unavailable", nil)
}

// setName is not written yet.
func (h *Handler) setName(q *req) {
	h.render(q, http.StatusNotImplemented, "message.html", "err.unavailable", nil)
}

// setPassword is not written yet.
func (h *Handler) setPassword(q *req) {
	h.render(q, http.StatusNotImplemented, "message.html", "err.unavailable", nil)
}

// newRecoveryCode is not written yet.
func (h *Handler) newRecoveryCode(q *req) {
	h.render(q, http.StatusNotImplemented, "message.html", "err.unavailable", nil)
}
