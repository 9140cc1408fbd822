package dav

import (
	"encoding/xml"
	"errors"
	"mime"
	"net/http"
	"strconv"

	"github.com/coffer-dav/coffer/storage"
)

// mkcolRequest is a parsed MKCALENDAR (RFC 4791 section 5.3.1) or
// extended MKCOL (RFC 5689 section 3) body.
type mkcolRequest struct {
	kind  storage.Kind
	props storage.Props // every property of the body except resourcetype
	// names lists every property of the body in document order, and failed
	// those that cannot be set, with the condition of their 403 propstat.
	names  []xml.Name
	failed map[xml.Name]xml.Name
}

// parseMkcol reads the body of MKCOL or MKCALENDAR. A nil body creates a
// calendar (MKCALENDAR) or a plain collection (MKCOL). A property that
// cannot be set is recorded in failed, not returned as an error: the
// answer names every property (RFC 5689 section 3).
func parseMkcol(n *node, calendar bool) (*mkcolRequest, error) {
	m := &mkcolRequest{kind: storage.KindPlain, props: storage.Props{}, failed: map[xml.Name]xml.Name{}}
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
	var els []*node
	for _, set := range n.children(nsDAV, "set") {
		for _, prop := range set.children(nsDAV, "prop") {
			for _, p := range prop.Kids {
				m.names = append(m.names, p.Name)
				if p.is(nsDAV, "resourcetype") {
					k, err := kindFromResourcetype(p, calendar)
					if err != nil {
						m.failed[p.Name] = condValidResourcetype
						continue
					}
					m.kind = k
					continue
				}
				els = append(els, p)
			}
		}
	}
	// The kind is known only now: resourcetype may come last.
	for _, p := range els {
		switch {
		case p.Name == pnSupportedCompSet && m.kind == storage.KindCalendar:
			// Protected, but set at creation (RFC 4791 section 5.2.3).
		case p.Name == pnSupportedCompSet:
			m.failed[p.Name] = condCannotModify
		default:
			if cond := setFailure(p.Name, p); cond.Local != "" {
				m.failed[p.Name] = cond
			}
		}
		// Q26: every other property is stored, unknown ones included; a
		// later instruction for the same property wins.
		m.props[clark(p.Name)] = []byte(serializeElement(p))
	}
	return m, nil
}

// mkcolResponseRoot names the body of a failed MKCALENDAR (RFC 4791
// section 9.3, mkcalendar-response) or extended MKCOL (RFC 5689 section
// 5.2, mkcol-response).
func mkcolResponseRoot(calendar bool) string {
	if calendar {
		return "C:mkcalendar-response"
	}
	return "D:mkcol-response"
}

// writeMkcolFailure answers a MKCALENDAR or extended MKCOL whose
// properties cannot all be set: 403 and a body with a propstat for each
// property (RFC 5689 sections 3 and 3.5), nothing created.
func writeMkcolFailure(w http.ResponseWriter, calendar bool, pss []*propstat) {
	root := mkcolResponseRoot(calendar)
	b := []byte(xmlDecl + "<" + root + rootNamespaces + ">")
	for _, ps := range pss {
		b = ps.appendTo(b)
	}
	b = append(b, "</"+root+">\n"...)
	w.Header().Set("Content-Type", xmlContentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusForbidden)
	_, _ = w.Write(b)
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
// never 207), 409 without a parent, 415 for a body that is not XML.
// Calendars and address books are created at <home>/<name>/ only; plain
// collections nest inside plain collections. Where something exists
// already, MKCALENDAR and an extended MKCOL (one with a body) fail with
// 403 resource-must-be-null (RFC 4791 section 5.3.1, RFC 5689 section 3);
// a plain MKCOL keeps the 405 of RFC 4918 section 9.3.1, which litmus
// expects. The properties are all set or the collection is not created
// (RFC 5689 section 3): one that cannot be set gives 403 with a
// mkcol-response or mkcalendar-response.
func (q *request) mkcol() error {
	calendar := q.r.Method == "MKCALENDAR"
	if err := xmlBodyType(q.r); err != nil {
		return err
	}
	body, err := q.readXML(maxXMLBody)
	if err != nil {
		return err
	}
	taken := errStatus(http.StatusMethodNotAllowed, "a resource already exists here")
	if calendar || body != nil {
		taken = errCond(http.StatusForbidden, condResourceMustBeNull, "a resource already exists here")
	}
	p := q.path
	switch p.kind {
	case pathCollection:
	case pathObject:
		// "<home>/a/b" settled to no collection: an object b, or nothing.
		if _, err := q.resolve(); err == nil {
			return taken
		}
		p = p.asCollection()
	default:
		return taken
	}
	m, err := parseMkcol(body, calendar)
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
			if asError(err).Status == http.StatusMethodNotAllowed {
				return taken
			}
			return err
		}
	}
	if len(m.failed) > 0 {
		writeMkcolFailure(q.w, calendar, failedPropstats(m.names, m.failed))
		return nil
	}
	_, err = q.space.CreateCollection(q.ctx, storage.NewCollection{Home: p.home, Name: p.coll, Kind: m.kind, Props: m.props, Limits: q.h.limits.store})
	if errors.Is(err, storage.ErrExists) {
		return taken
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
// no object there may have its name (405).
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
