// Connecting a device, and the app passwords.

package web

import "net/http"

// devices is not written yet.
func (h *Handler) devices(q *req) {
	h.render(q, http.StatusNotImplemented, "message.html", "err.unavailable", nil)
}

// addDevice is not written yet.
func (h *Handler) addDevice(q *req) {
	h.render(q, http.StatusNotImplemented, "message.html", "err.unavailable", nil)
}

// deviceProfile is not written yet.
func (h *Handler) deviceProfile(q *req) {
	h.render(q, http.StatusNotImplemented, "message.html", "err.unavailable", nil)
}

// appPasswords is not written yet.
func (h *Handler) appPasswords(q *req) {
	h.render(q, http.StatusNotImplemented, "message.html", "err.unavailable", nil)
}

// addAppPassword is not written yet.
func (h *Handler) addAppPassword(q *req) {
	h.render(q, http.StatusNotImplemented, "message.html", "err.unavailable", nil)
}

// revokeAppPassword is not written yet.
func (h *Handler) revokeAppPassword(q *req) {
	h.render(q, http.StatusNotImplemented, "message.html", "err.unavailable", nil)
}
