package dav

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/coffer-dav/coffer/dav/ical"
	"github.com/coffer-dav/coffer/storage"
)

// transfer is a parsed COPY (RFC 4918 section 9.8) or MOVE (section 9.9)
// request.
type transfer struct {
	move      bool
	dest      resourcePath // settled against storage, like a request path
	overwrite bool         // Overwrite: T, the default (section 10.6)
	depth     string       // "0", "1" or "infinity" (the default)
}

// copyMove answers COPY and MOVE of objects and collections within the
// user's own space: 201 when the destination is new, 204 when it was
// replaced, never 207 (Q14). Storage does each transfer atomically and
// logs the change on both sides.
func (q *request) copyMove() error {
	t, err := q.parseTransfer()
	if err != nil {
		return err
	}
	src, err := q.resolve()
	if err != nil {
		return err
	}
	var replaced, created bool
	switch src.path.kind {
	case pathObject:
		replaced, created, err = q.transferObject(src, t)
	case pathCollection:
		replaced, created, err = q.transferCollection(src, t)
	default:
		return errCond(http.StatusForbidden, condNeedPrivileges, "this resource cannot be copied or moved")
	}
	if err != nil {
		return err
	}
	if created && !replaced {
		q.w.Header().Set("Location", t.dest.href())
		q.w.Header().Set("Content-Length", "0")
		q.w.WriteHeader(http.StatusCreated)
		return nil
	}
	q.w.WriteHeader(http.StatusNoContent)
	return nil
}

// parseTransfer reads the Destination, Overwrite and Depth headers.
func (q *request) parseTransfer() (*transfer, error) {
	t := &transfer{move: q.r.Method == "MOVE", overwrite: true}
	switch strings.ToUpper(strings.TrimSpace(q.r.Header.Get("Overwrite"))) {
	case "", "T":
	case "F":
		t.overwrite = false
	default:
		return nil, errStatus(http.StatusBadRequest, "the Overwrite header must be T or F")
	}
	d, err := depth(q.r, "infinity")
	if err != nil {
		return nil, err
	}
	t.depth = d
	dest, err := q.parseDestination(q.r.Header.Get("Destination"))
	if err != nil {
		return nil, err
	}
	if t.dest, err = q.settle(dest); err != nil {
		return nil, err
	}
	return t, nil
}

// parseDestination decodes a Destination header (RFC 4918 section 10.3),
// an absolute URL on this server or an absolute path, with the rules of
// request paths. Anything outside the user's own homes is refused.
func (q *request) parseDestination(v string) (resourcePath, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return resourcePath{}, errStatus(http.StatusBadRequest, "COPY and MOVE need a Destination header")
	}
	u, err := url.Parse(v)
	if err != nil || u.Opaque != "" || u.RawQuery != "" || u.Fragment != "" {
		return resourcePath{}, errStatus(http.StatusBadRequest, "the Destination header is not a URL")
	}
	if u.Scheme != "" || u.Host != "" {
		if (u.Scheme != "http" && u.Scheme != "https") || !q.sameHost(u.Host) {
			return resourcePath{}, errStatus(http.StatusBadGateway, "the Destination is on another server")
		}
	}
	p, err := parsePath(u.EscapedPath())
	if err != nil {
		switch e := asError(err); e.Status {
		case http.StatusBadRequest:
			return p, err
		case http.StatusRequestURITooLong:
			// The request's own URI is fine: the name it asks for is not.
			return p, errStatus(http.StatusForbidden, e.Message)
		}
		return p, errCond(http.StatusForbidden, condNeedPrivileges, "nothing can be copied or moved there")
	}
	if p.user != q.acct.Username {
		return p, errForbiddenUser()
	}
	if p.kind != pathCollection && p.kind != pathObject {
		return p, errCond(http.StatusForbidden, condNeedPrivileges, "nothing can be copied or moved there")
	}
	return p, nil
}

// sameHost reports whether host names this server as the client reached
// it, directly or through a proxy that sets X-Forwarded-Host.
func (q *request) sameHost(host string) bool {
	if strings.EqualFold(host, q.r.Host) {
		return true
	}
	fwd := q.r.Header.Get("X-Forwarded-Host")
	return fwd != "" && strings.EqualFold(host, strings.TrimSpace(strings.Split(fwd, ",")[0]))
}

// transferObject copies or moves one object. Into a calendar or address
// book the object must be valid there, as for PUT. An existing collection
// at the destination is deleted first when Overwrite allows it.
func (q *request) transferObject(src *resource, t *transfer) (replaced, created bool, err error) {
	dest, ok := t.dest.asObject()
	if !ok {
		return false, false, errStatus(http.StatusForbidden, "objects can only be stored inside a collection")
	}
	if dest.home == src.path.home && dest.coll == src.coll.Name && dest.name == src.obj.Name {
		return false, false, errStatus(http.StatusForbidden, "the source and the destination are the same")
	}
	to, err := q.space.Collection(q.ctx, dest.home, dest.coll)
	if errors.Is(err, storage.ErrNotFound) {
		return false, false, errStatus(http.StatusConflict, "the destination collection does not exist")
	} else if err != nil {
		return false, false, errInternal(err)
	}
	var blocking *storage.Collection // a collection where the object goes
	if t.dest.kind == pathCollection {
		blocking, err = q.space.Collection(q.ctx, t.dest.home, t.dest.coll)
		if errors.Is(err, storage.ErrNotFound) {
			blocking = nil
		} else if err != nil {
			return false, false, errInternal(err)
		}
		if blocking != nil && !t.overwrite {
			return false, false, errStatus(http.StatusPreconditionFailed, "the destination exists and Overwrite is F")
		}
	}
	var uid string // the UID the destination's rule checks, when parsed here
	if to.Kind != storage.KindPlain && to.ID != src.coll.ID {
		if uid, err = q.validateFor(to, src); err != nil {
			return false, false, err
		}
	}
	// A collection in the way goes in the transfer's own transaction, so
	// that a refusal (a limit) leaves it there; what it held is credited.
	// An object replaced in a calendar or address book keeps its UID (RFC
	// 4791 5.3.2.1, RFC 6352 6.3.2.1), checked in the transfer's transaction.
	opts := storage.TransferOptions{Move: t.move, Overwrite: t.overwrite, UID: uid, KeepUID: to.Kind != storage.KindPlain, Limits: q.h.limits.store}
	if blocking != nil {
		opts.ReplaceCollection = blocking.ID
	}
	res, err := q.space.TransferObject(q.ctx, src.coll.ID, src.obj.Name, to.ID, dest.name, opts)
	if err != nil {
		if e := uidConflict(err, q.acct.Username, to, dest.name); e != nil {
			return false, false, e
		}
		return false, false, storageErr(err)
	}
	t.dest = dest
	return blocking != nil, res.Created, nil
}

// validateFor checks that an object may go into a calendar or address
// book: the rules of PUT (RFC 4791 5.3.2.1, RFC 6352 6.3.2.1). It returns
// the object's UID, which the destination's UID rule checks.
func (q *request) validateFor(to *storage.Collection, src *resource) (uid string, err error) {
	o, err := q.space.Object(q.ctx, src.coll.ID, src.obj.Name, storage.ReadOptions{Body: true})
	if err != nil {
		return "", storageErr(err)
	}
	switch to.Kind {
	case storage.KindCalendar:
		var obj *ical.Object
		if uid, obj, err = validateCalendar(o.Body, supportedComponents(to)); err == nil {
			_, err = calendarIndex(obj, to, q.h.limits.calendar) // max-instances, as for PUT
		}
	case storage.KindAddressBook:
		uid, err = validateVCard(o.Body)
	}
	return uid, err
}

// transferCollection copies or moves a collection with the collections
// nested in it. Calendars and address books stay top-level in their own
// home; plain collections go anywhere a plain collection may be created.
func (q *request) transferCollection(src *resource, t *transfer) (replaced, created bool, err error) {
	shallow := false
	switch {
	case t.depth == "1", t.move && t.depth != "infinity":
		return false, false, errStatus(http.StatusBadRequest, "Depth must be 0 or infinity for COPY and infinity for MOVE of a collection")
	case t.depth == "0":
		shallow = true
	}
	dest := t.dest.asCollection()
	c := src.coll
	if dest.home == c.Home && (dest.coll == c.Name || strings.HasPrefix(dest.coll, c.Name+"/") || strings.HasPrefix(c.Name, dest.coll+"/")) {
		return false, false, errStatus(http.StatusForbidden, "a collection cannot be copied or moved onto itself, into itself or onto its parent")
	}
	parent := parentColl(dest.coll)
	switch {
	case c.Kind == storage.KindCalendar && (dest.home != storage.HomeCalendars || parent != ""):
		return false, false, errCond(http.StatusForbidden, condCalendarLocationOK, "calendars can only be in the calendar home")
	case c.Kind == storage.KindAddressBook && (dest.home != storage.HomeAddressBooks || parent != ""):
		return false, false, errCond(http.StatusForbidden, condAddressLocationOK, "address books can only be in the address-book home")
	}
	// An object of the destination's name in the parent collection.
	var blockingIn *storage.Collection
	if parent != "" {
		err := q.checkParent(dest)
		if e := asError(err); err != nil && e.Status == http.StatusMethodNotAllowed {
			if !t.overwrite {
				return false, false, errStatus(http.StatusPreconditionFailed, "the destination exists and Overwrite is F")
			}
			if blockingIn, err = q.space.Collection(q.ctx, dest.home, parent); err != nil {
				return false, false, storageErr(err)
			}
		} else if err != nil {
			return false, false, err
		}
	}
	// An object in the way goes in the transfer's own transaction, so that
	// a refusal (a limit) leaves it there.
	opts := storage.TransferOptions{Move: t.move, Overwrite: t.overwrite, Shallow: shallow, Limits: q.h.limits.store}
	if blockingIn != nil {
		opts.ReplaceObjectIn = blockingIn.ID
	}
	res, err := q.space.TransferCollection(q.ctx, c.ID, dest.home, dest.coll, opts)
	if err != nil {
		return false, false, storageErr(err)
	}
	t.dest = dest
	return blockingIn != nil, res.Created, nil
}
