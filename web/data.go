// The "your data" page: the export, erasure and the user's rights.

package web

import "net/http"

// data is not written yet.
func (h *Handler) data(q *req) {
	h.render(q, http.StatusNotImplemented, "message.html", "err.unavailable", nil)
}

// export is not written yet.
func (h *Handler) export(q *req) {
	h.render(q, http.StatusNotImplemented, "message.html", "err.unavailable", nil)
}

// erase is not written yet.
func (h *Handler) erase(q *req) {
	h.render(q, http.StatusNotImplemented, "message.html", "err.unavailable", nil)
}
