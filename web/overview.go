// The overview page and the notification history.

package web

import "net/http"

// overview shows the account at a glance.
func (h *Handler) overview(q *req) {
	h.render(q, http.StatusOK, "overview.html", done(q), nil)
}

// notifications is not written yet.
func (h *Handler) notifications(q *req) {
	h.render(q, http.StatusNotImplemented, "message.html", "err.unavailable", nil)
}
