// The push subscriptions on the overview, and their removal.

package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/coffer-dav/coffer/storage"
)

// pushRow is one push subscription as the overview shows it: where it is,
// and the host of the push service the device uses. The push resource
// itself works like a credential (whoever has it can message the device),
// and the keys are the device's: the page shows neither.
type pushRow struct {
	ID      string // the subscription's id, which the remove form posts
	Where   string // the collection's name, or the home or account, in words
	Service string // the push service's host, e.g. "fcm.googleapis.com"
	Created time.Time
	Expires time.Time
	Expired bool // past its expiry; the sweeper drops it soon
}

// maxPushID bounds the id a remove form may post; ids are shorter.
const maxPushID = 64

// pushScopes are the targets that are no collection, in the order the
// overview lists them, with the words that name them.
var pushScopes = []struct {
	scope storage.Scope
	key   string
}{
	{storage.ScopePrincipal, "push.where.principal"},
	{storage.ScopeCalendars, "push.where.calendars"},
	{storage.ScopeAddressBooks, "push.where.addressbooks"},
}

// pushRows lists the subscriptions of one target, named where.
func (h *Handler) pushRows(ctx context.Context, q *req, space storage.Space, t storage.PushTarget, where string) ([]pushRow, error) {
	subs, err := space.Subscriptions(ctx, t)
	if err != nil {
		return nil, err
	}
	now := h.o.Now()
	rows := make([]pushRow, 0, len(subs))
	for _, s := range subs {
		rows = append(rows, pushRow{ID: s.ID, Where: where, Service: q.lang.pushService(s.PushResource),
			Created: s.Created, Expires: s.Expires, Expired: !s.Expires.After(now)})
	}
	return rows, nil
}

// scopePushRows lists the subscriptions of the principal and the homes.
func (h *Handler) scopePushRows(ctx context.Context, q *req, space storage.Space) ([]pushRow, error) {
	var rows []pushRow
	for _, sc := range pushScopes {
		r, err := h.pushRows(ctx, q, space, storage.PushTarget{Scope: sc.scope}, q.lang.T(sc.key))
		if err != nil {
			return nil, err
		}
		rows = append(rows, r...)
	}
	return rows, nil
}

// pushService names a push resource by its host alone; one that is no
// URL with a host is named as unknown.
func (l *lang) pushService(resource string) string {
	u, err := url.Parse(resource)
	if err != nil || u.Hostname() == "" {
		return l.T("push.service.unknown")
	}
	return u.Hostname()
}

// removePush ends one of the account's push subscriptions: its device
// gets no more messages, until it registers again.
func (h *Handler) removePush(q *req) {
	id := q.r.PostFormValue("id")
	err := storage.ErrNotFound
	if id != "" && len(id) <= maxPushID {
		space := h.o.Store.Space(q.s.Identity.AccountID, q.s.Identity.Keys)
		err = space.DeleteSubscription(q.r.Context(), id)
	}
	switch {
	case errors.Is(err, storage.ErrNotFound):
		h.overviewPage(q, http.StatusNotFound, "err.push.unknown")
	case err != nil:
		h.fail(q, "push subscription not removed", err)
	default:
		seeOther(q, "/?done=notice.push.removed")
	}
}
