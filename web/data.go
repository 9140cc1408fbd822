// The "your data" page: the export, erasure and the user's rights.

package web

import (
	"net/http"
	"strings"

	"github.com/coffer-dav/coffer/selfservice"
)

// dataPage is the "your data" page's content.
type dataPage struct {
	Username string // what the erase form asks to be typed
	Support  string // the operator's support address; empty: none
}

// data shows the export, the erase form and the user's rights.
func (h *Handler) data(q *req) {
	h.renderData(q, http.StatusOK, done(q))
}

// renderData writes the data page with a notice or error.
func (h *Handler) renderData(q *req, status int, msg string) {
	h.render(q, status, "data.html", msg, dataPage{Username: q.s.Identity.Username, Support: h.o.Operator.Support})
}

// export sends the account's export zip: every collection as .ics or .vcf,
// the originals, and the account and its history as JSON. It works in
// retention too.
func (h *Handler) export(q *req) {
	ctx := q.r.Context()
	id := q.s.Identity
	acct, err := h.o.Store.AccountByUsername(ctx, id.Username)
	if err != nil {
		h.fail(q, "export: account not read", err)
		return
	}
	history, err := h.o.Life.History(ctx, id.AccountID)
	if err != nil {
		h.fail(q, "export: history not read", err)
		return
	}
	now := h.o.Now().UTC()
	hd := q.w.Header()
	hd.Set("Content-Type", "application/zip")
	hd.Set("Content-Disposition", `attachment; filename="`+selfservice.ExportFilename(acct.Username, now)+`"`)
	q.w.WriteHeader(http.StatusOK)
	if err := selfservice.Export(ctx, q.w, h.o.Store.Space(id.AccountID, id.Keys), acct, history, now); err != nil {
		// The status is sent already: cut the connection, so that the
		// browser sees a broken download rather than a short zip.
		h.o.Logger.Error("dashboard: export failed", "account", id.AccountID, "err", err)
		panic(http.ErrAbortHandler)
	}
}

// erase deletes the account and all of its data at once, after the person
// typed the username and the account password (an app password will not
// do). Its sessions and their key slots go with it.
func (h *Handler) erase(q *req) {
	ctx := q.r.Context()
	who := q.s.Identity
	if strings.TrimSpace(q.r.PostFormValue("erase_username")) != who.Username {
		h.renderData(q, http.StatusBadRequest, "err.erase.username")
		return
	}
	pw := q.r.PostFormValue("erase_password")
	if pw == "" {
		h.renderData(q, http.StatusBadRequest, "err.erase.password")
		return
	}
	if h.checkLogin(q, loginCheck{username: who.Username, password: pw, wrong: "err.erase.password",
		render: func(status int, msg string) { h.renderData(q, status, msg) }}) == nil {
		return
	}
	// Forget cached logins before and after: no request may act on cached
	// keys meanwhile.
	h.o.Auth.Forget(who.Username)
	err := h.o.Store.DeleteAccount(ctx, who.AccountID)
	h.o.Auth.Forget(who.Username)
	if err != nil {
		h.fail(q, "erase failed", err)
		return
	}
	h.o.Logger.Info("account erased by its holder on the dashboard", "account", who.AccountID)
	h.setCookie(q.w, sessionCookie, "", -1)
	q.s = nil // the page is a signed-out one now
	h.render(q, http.StatusOK, "message.html", "notice.erased", nil)
}
