package dav

import (
	"errors"
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

// mkcol answers MKCOL and MKCALENDAR at <home>/<name>/: 201 with no body
// on success (Q14: never 207), 405 when it exists.
func (q *request) mkcol() error {
	p := q.path
	switch p.kind {
	case pathCollection:
	case pathObject:
		return errStatus(http.StatusForbidden, "collections cannot be nested")
	default:
		return errStatus(http.StatusMethodNotAllowed, "a collection already exists here")
	}
	body, err := q.readXML(maxXMLBody)
	if err != nil {
		return err
	}
	m, err := parseMkcol(body, q.r.Method == "MKCALENDAR")
	if err != nil {
		return err
	}
	switch {
	case m.kind == storage.KindCalendar && p.home != storage.HomeCalendars:
		return errCond(http.StatusForbidden, condCalendarLocationOK, "calendars can only be created in the calendar home")
	case m.kind == storage.KindAddressBook && p.home != storage.HomeAddressBooks:
		return errCond(http.StatusForbidden, condAddressLocationOK, "address books can only be created in the address-book home")
	}
	if m.kind != storage.KindCalendar {
		delete(m.props, clark(pnSupportedCompSet))
	}
	for k := range m.props {
		if n := parseClark(k); protectedProps[n] && n != pnSupportedCompSet {
			delete(m.props, k) // computed live properties are never stored
		}
	}
	_, err = q.space.CreateCollection(q.ctx, storage.NewCollection{Home: p.home, Name: p.coll, Kind: m.kind, Props: m.props})
	if errors.Is(err, storage.ErrExists) {
		return errStatus(http.StatusMethodNotAllowed, "a collection already exists here")
	} else if err != nil {
		return errInternal(err)
	}
	q.w.Header().Set("Location", p.href())
	q.w.Header().Set("Content-Length", "0")
	q.w.WriteHeader(http.StatusCreated)
	return nil
}
