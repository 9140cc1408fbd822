package dav

import (
	"errors"
	"mime"
	"net/http"

	"github.com/coffer-dav/coffer/storage"
)

// mkcolRequest is a parsed MKCALENDAR (RFC 4791 section 5.3.1) or
// extended MKCOL (RFC 5689 section 3) body.
type mkcolRequest struct {
	kind  storage.Kind
	props storage.Props // every property of the body except resourcetype
}

// parseMkcol reads the body of MKCOL or MKCALENDAR. A nil body creates a
// calendar (MKCALENDAR) or a plain collection (MKCOL).
func parseMkcol(n *node, calendar bool) (*mkcolRequest, error) {
	m := &mkcolRequest{kind: storage.KindPlain, props: storage.Props{}}
	if calendar {
		m.kind = storage.KindCalendar
	}
	if n == nil {
		return m, nil
	}
	switch {
	case calendar && n.is(nsCalDAV, "mkcalendar"):
	case !calendar && n.is(nsDAV, "mkcol"):
	default:
		return nil, errStatus(http.StatusBadRequest, "unexpected MKCOL/MKCALENDAR body")
	}
	for _, set := range n.children(nsDAV, "set") {
		for _, prop := range set.children(nsDAV, "prop") {
			for _, p := range prop.Kids {
				if p.is(nsDAV, "resourcetype") {
					k, err := kindFromResourcetype(p, calendar)
					if err != nil {
						return nil, err
					}
					m.kind = k
					continue
				}
				// Q26: every other property is stored, unknown ones included.
				m.props[clark(p.Name)] = []byte(serializeElement(p))
			}
		}
	}
	return m, nil
}

// kindFromResourcetype maps a requested resourcetype to a collection kind
// (RFC 5689 section 3.2). DAVx5 sends resourcetype inside MKCALENDAR too.
func kindFromResourcetype(rt *node, calendar bool) (storage.Kind, error) {
	isCal := rt.child(nsCalDAV, "calendar") != nil
	isBook := rt.child(nsCardDAV, "addressbook") != nil
	bad := errCond(http.StatusForbidden, condValidResourcetype, "this resource type cannot be created")
	for _, k := range rt.Kids {
		if !k.is(nsDAV, "collection") && !k.is(nsCalDAV, "calendar") && !k.is(nsCardDAV, "addressbook") {
			return "", bad
		}
	}
	switch {
	case isCal && isBook:
		return "", bad
	case calendar && isBook:
		return "", bad
	case calendar, isCal:
		return storage.KindCalendar, nil
	case isBook:
		return storage.KindAddressBook, nil
	}
	return storage.KindPlain, nil
}

// mkcol answers MKCOL and MKCALENDAR: 201 with no body on success (Q14:
// never 207), 405 when something exists there, 409 without a parent, 415
// for a body that is not XML. Calendars and address books are created at
// <home>/<name>/ only; plain collections nest inside plain collections.
func (q *request) mkcol() error {
	p := q.path
	switch p.kind {
	case pathCollection:
	case pathObject:
		// "<home>/a/b" settled to no collection: an object b, or nothing.
		if _, err := q.resolve(); err == nil {
			return errStatus(http.StatusMethodNotAllowed, "a resource already exists here")
		}
		p = p.asCollection()
	default:
		return errStatus(http.StatusMethodNotAllowed, "a collection already exists here")
	}
	if err := xmlBodyType(q.r); err != nil {
		return err
	}
	body, err := q.readXML(maxXMLBody)
	if err != nil {
		return err
	}
	m, err := parseMkcol(body, q.r.Method == "MKCALENDAR")
	if err != nil {
		return err
	}
	parent := parentColl(p.coll)
	switch {
	case m.kind == storage.KindCalendar && (p.home != storage.HomeCalendars || parent != ""):
		return errCond(http.StatusForbidden, condCalendarLocationOK, "calendars can only be created in the calendar home")
	case m.kind == storage.KindAddressBook && (p.home != storage.HomeAddressBooks || parent != ""):
		return errCond(http.StatusForbidden, condAddressLocationOK, "address books can only be created in the address-book home")
	}
	if parent != "" {
		if err := q.checkParent(p); err != nil {
			return err
		}
	}
	if m.kind != storage.KindCalendar {
		delete(m.props, clark(pnSupportedCompSet))
	}
	for k := range m.props {
		if n := parseClark(k); protectedProps[n] && n != pnSupportedCompSet {
			delete(m.props, k) // computed live properties are never stored
		}
	}
	_, err = q.space.CreateCollection(q.ctx, storage.NewCollection{Home: p.home, Name: p.coll, Kind: m.kind, Props: m.props, Limits: q.h.limits.store})
	if errors.Is(err, storage.ErrExists) {
		return errStatus(http.StatusMethodNotAllowed, "a collection already exists here")
	} else if err != nil {
		return storageErr(err)
	}
	q.w.Header().Set("Location", p.href())
	q.w.Header().Set("Content-Length", "0")
	q.w.WriteHeader(http.StatusCreated)
	return nil
}

// checkParent checks where a nested collection p would go: its parent
// must exist (409, RFC 4918 section 9.3.1) and be a plain collection, and
// no object there may have its name.
func (q *request) checkParent(p resourcePath) error {
	parent, err := q.space.Collection(q.ctx, p.home, parentColl(p.coll))
	if errors.Is(err, storage.ErrNotFound) {
		return errStatus(http.StatusConflict, "the parent collection does not exist")
	} else if err != nil {
		return errInternal(err)
	}
	if parent.Kind != storage.KindPlain {
		return errStatus(http.StatusForbidden, "calendars and address books cannot hold collections")
	}
	op, _ := p.asObject()
	_, err = q.space.Object(q.ctx, parent.ID, op.name, storage.ReadOptions{})
	switch {
	case err == nil:
		return errStatus(http.StatusMethodNotAllowed, "a resource already exists here")
	case !errors.Is(err, storage.ErrNotFound):
		return errInternal(err)
	}
	return nil
}

// xmlBodyType refuses a request body whose declared type is not XML
// (RFC 4918 section 9.3: 415 for a MKCOL body the server does not
// understand). A body without Content-Type is parsed as XML.
func xmlBodyType(r *http.Request) error {
	ct := r.Header.Get("Content-Type")
	if ct == "" || r.ContentLength == 0 {
		return nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err == nil && (mt == "application/xml" || mt == "text/xml") {
		return nil
	}
	return errStatus(http.StatusUnsupportedMediaType, "the request body must be XML")
}
