package dav

import (
	"encoding/xml"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/coffer-dav/coffer/dav/ical"
	"github.com/coffer-dav/coffer/dav/vcard"
	"github.com/coffer-dav/coffer/storage"
)

// reportKind names the REPORTs this server runs.
type reportKind int

// Supported REPORTs.
const (
	reportCalendarMultiget reportKind = iota // RFC 4791 section 7.9
	reportAddressMultiget                    // RFC 6352 section 8.7
	reportSyncCollection                     // RFC 6578 section 3.2
	reportCalendarQuery                      // RFC 4791 section 7.8
	reportAddressQuery                       // RFC 6352 section 8.6
	reportFreeBusy                           // RFC 4791 section 7.10
)

// reportRequest is a parsed REPORT body.
type reportRequest struct {
	kind      reportKind
	names     []xml.Name         // DAV:prop children
	hrefs     []string           // multiget
	syncToken string             // sync-collection
	limit     int                // sync-collection DAV:limit/DAV:nresults; 0 for none
	calFilter *ical.Filter       // calendar-query
	calZone   *ical.Zone         // calendar-query timezone or timezone-id; nil for the calendar's own
	calData   *ical.CalendarData // calendar-data selection or expansion; nil for the stored bytes
	addrData  *vcard.AddressData // address-data version and selection
	addrQuery *vcard.Query       // addressbook-query
	body      *node              // the whole request, for free-busy-query
}

// parseReport reads a REPORT body and names the report.
func parseReport(n *node) (*reportRequest, error) {
	if n == nil {
		return nil, errStatus(http.StatusBadRequest, "REPORT needs a body")
	}
	rr := &reportRequest{names: propList(n.child(nsDAV, "prop")), body: n}
	// sync-collection carries either kind of data; each answer uses its own.
	if n.Name.Space == nsCalDAV || n.Name.Space == nsDAV {
		cd, err := parseCalendarDataRequest(n.child(nsDAV, "prop"))
		if err != nil {
			return nil, err
		}
		rr.calData = cd
	}
	if n.Name.Space == nsCardDAV || n.Name.Space == nsDAV {
		ad, err := parseAddressDataRequest(n.child(nsDAV, "prop"))
		if err != nil {
			return nil, err
		}
		rr.addrData = ad
	}
	switch {
	case n.is(nsCalDAV, "calendar-multiget"), n.is(nsCardDAV, "addressbook-multiget"):
		rr.kind = reportCalendarMultiget
		if n.Name.Space == nsCardDAV {
			rr.kind = reportAddressMultiget
		}
		for _, h := range n.children(nsDAV, "href") {
			rr.hrefs = append(rr.hrefs, strings.TrimSpace(h.text()))
		}
	case n.is(nsDAV, "sync-collection"):
		rr.kind = reportSyncCollection
		rr.syncToken = strings.TrimSpace(n.child(nsDAV, "sync-token").text())
		// Q11: OS X sends no sync-level; treat it as 1. A collection has no
		// sub-collections, so "infinite" means the same.
		switch lvl := strings.TrimSpace(n.child(nsDAV, "sync-level").text()); lvl {
		case "", "1", "infinite", "infinity":
		default:
			return nil, errStatus(http.StatusBadRequest, "invalid sync-level")
		}
		if nr := n.child(nsDAV, "limit").child(nsDAV, "nresults"); nr != nil {
			v, err := strconv.Atoi(strings.TrimSpace(nr.text()))
			if err != nil || v <= 0 {
				return nil, errStatus(http.StatusBadRequest, "invalid nresults limit")
			}
			rr.limit = v
		}
	case n.is(nsCalDAV, "calendar-query"):
		rr.kind = reportCalendarQuery
		f, err := parseCalendarQueryFilter(n.child(nsCalDAV, "filter"))
		if err != nil {
			return nil, err
		}
		rr.calFilter = f
		if rr.calZone, err = parseQueryZone(n); err != nil {
			return nil, err
		}
	case n.is(nsCalDAV, "free-busy-query"):
		rr.kind = reportFreeBusy
	case n.is(nsCardDAV, "addressbook-query"):
		rr.kind = reportAddressQuery
		aq, err := parseAddressQuery(n)
		if err != nil {
			return nil, err
		}
		rr.addrQuery = aq
	default:
		return nil, errCond(http.StatusForbidden, condSupportedReport, "this report is not supported")
	}
	return rr, nil
}

// report answers REPORT (RFC 3253 section 3.6). Depth is ignored for
// multiget and sync-collection (Q10: Thunderbird sends Depth: 1).
func (q *request) report() error {
	body, err := q.readXML(maxReportBody)
	if err != nil {
		return err
	}
	rr, err := parseReport(body)
	if err != nil {
		return err
	}
	if rr.addrData != nil && rr.addrData.Version == "" {
		rr.addrData.Version = cardVersionFor(q.r.UserAgent())
	}
	if err := q.h.limits.checkMultiget(rr); err != nil {
		return err
	}
	res, err := q.resolve()
	if err != nil {
		return err
	}
	notHere := errCond(http.StatusForbidden, condSupportedReport, "this report is not supported on this resource")
	// kind is that of the collection the request names, or of the one
	// holding the object it names: queries and multigets run on a
	// calendar or address object too, for that one object (RFC 4791
	// sections 7.8 and 7.9, RFC 6352 sections 8.6 and 8.7).
	kind := storage.Kind("")
	if res.coll != nil && (res.path.kind == pathCollection || res.path.kind == pathObject) {
		kind = res.coll.Kind
	}
	onObject := res.path.kind == pathObject
	switch rr.kind {
	case reportCalendarMultiget, reportCalendarQuery, reportFreeBusy:
		if kind != storage.KindCalendar || (onObject && rr.kind == reportFreeBusy) {
			return notHere
		}
	case reportAddressMultiget, reportAddressQuery:
		if kind != storage.KindAddressBook {
			return notHere
		}
	case reportSyncCollection:
		if res.path.kind == pathHome {
			return q.syncHome(res, rr)
		}
		if kind == "" || onObject {
			return notHere
		}
	}
	if rr.kind == reportFreeBusy {
		return q.freeBusy(res, rr.body)
	}
	ms := &multistatus{}
	switch rr.kind {
	case reportCalendarMultiget, reportAddressMultiget:
		err = q.multiget(res, rr, ms)
	case reportSyncCollection:
		err = q.syncCollection(res, rr, ms)
	case reportCalendarQuery:
		err = q.calendarQuery(res, rr, ms)
	case reportAddressQuery:
		err = q.addressQuery(res, rr, ms)
	}
	if err != nil {
		return err
	}
	writeMultistatus(q.w, ms)
	return nil
}

// wantsData reports whether calendar-data or address-data is asked for.
func wantsData(names []xml.Name) bool {
	for _, n := range names {
		if n == pnCalendarData || n == pnAddressData {
			return true
		}
	}
	return false
}

// withETag adds getetag to the requested names when missing: every member
// reported needs one (Q15).
func withETag(names []xml.Name) []xml.Name {
	for _, n := range names {
		if n == pnGetetag {
			return names
		}
	}
	return append([]xml.Name{pnGetetag}, names...)
}

// objectResponse renders a member with the requested properties;
// calendar-data and address-data carry the stored bytes exactly, unless
// the request asks for a selection or an expansion of calendar data, and
// are escaped only when the document is written.
func (q *request) objectResponse(res *resource, names []xml.Name, rr *reportRequest) (*response, error) {
	r := &response{href: res.path.href()}
	for _, n := range names {
		switch {
		case n == pnCalendarData && res.coll.Kind == storage.KindCalendar && res.obj.Body != nil:
			opts := q.h.limits.calendar
			opts.Zone = rr.calZone
			data, err := renderCalendarData(res.obj.Body, res.coll, rr.calData, opts)
			if err != nil {
				return nil, err
			}
			r.addText(http.StatusOK, n, withZones(q.r, data))
		case n == pnAddressData && res.coll.Kind == storage.KindAddressBook && res.obj.Body != nil:
			data, err := renderAddressData(res.obj.Body, rr.addrData)
			if err != nil {
				return nil, err
			}
			r.addText(http.StatusOK, n, data)
		default:
			if v, ok := q.prop(res, n); ok {
				r.add(http.StatusOK, v)
			} else {
				r.add(http.StatusNotFound, elem(n, ""))
			}
		}
	}
	return r, nil
}

// multiget answers calendar-multiget and addressbook-multiget. Hrefs are
// resolved like request paths; anything outside this collection, another
// user's included, is a plain 404 for that href and reveals nothing.
func (q *request) multiget(res *resource, rr *reportRequest, ms *multistatus) error {
	names := withETag(rr.names)
	data := wantsData(names)
	// The hrefs of this collection are read in one go; the others are 404.
	ours := make([]bool, len(rr.hrefs))
	var objNames []string
	for i, h := range rr.hrefs {
		p, err := parseHref(h)
		ours[i] = err == nil && p.kind == pathObject && !p.trailing && p.user == q.acct.Username &&
			p.home == res.path.home && p.coll == res.coll.Name &&
			(res.path.kind != pathObject || p.name == res.path.name) // on an object, that object alone
		if ours[i] {
			objNames = append(objNames, p.name)
		}
	}
	objs, err := q.space.ObjectsNamed(q.ctx, res.coll.ID, objNames, storage.ReadOptions{Body: data})
	if errors.Is(err, storage.ErrNotFound) { // the collection went meanwhile
		objs, err = make([]*storage.Object, len(objNames)), nil
	}
	if err != nil {
		return errInternal(err)
	}
	for i, h := range rr.hrefs {
		var o *storage.Object
		if ours[i] {
			o, objs = objs[0], objs[1:]
		}
		if o == nil {
			ms.responses = append(ms.responses, &response{href: h, status: http.StatusNotFound})
			continue
		}
		r, err := q.objectResponse(objectResource(res, *o), names, rr)
		if err != nil {
			return err
		}
		ms.responses = append(ms.responses, r)
	}
	return nil
}

// syncCollection answers sync-collection (RFC 6578) from the change log:
// an empty token lists everything, deletions are 404 responses, and a
// DAV:limit truncates with a 507 for the collection itself.
func (q *request) syncCollection(res *resource, rr *reportRequest, ms *multistatus) error {
	invalidToken := errCond(http.StatusForbidden, condValidSyncToken, "the sync token is not valid; start again with an empty token")
	since, ok := parseSyncToken(rr.syncToken)
	if !ok {
		return invalidToken
	}
	changes, rev, err := q.space.Changes(q.ctx, res.coll.ID, since)
	if errors.Is(err, storage.ErrBadRevision) {
		return invalidToken
	} else if err != nil {
		return errInternal(err)
	}
	if since == 0 {
		live := changes[:0:0]
		for _, c := range changes {
			if !c.Deleted {
				live = append(live, c)
			}
		}
		changes = live
	}
	truncated := rr.limit > 0 && len(changes) > rr.limit
	if truncated {
		changes = changes[:rr.limit]
		rev = changes[len(changes)-1].Revision
	}
	names := withETag(rr.names)
	data := wantsData(names)
	for _, c := range changes {
		href := objectHref(q.acct.Username, res.coll.Home, res.coll.Name, c.Name)
		if c.Deleted {
			ms.responses = append(ms.responses, &response{href: href, status: http.StatusNotFound})
			continue
		}
		o, err := q.space.Object(q.ctx, res.coll.ID, c.Name, storage.ReadOptions{Body: data})
		if errors.Is(err, storage.ErrNotFound) {
			// Deleted after Changes ran; the next sync reports it again.
			if since != 0 {
				ms.responses = append(ms.responses, &response{href: href, status: http.StatusNotFound})
			}
			continue
		} else if err != nil {
			return errInternal(err)
		}
		r, err := q.objectResponse(objectResource(res, *o), names, rr)
		if err != nil {
			return err
		}
		ms.responses = append(ms.responses, r)
	}
	if truncated {
		ms.responses = append(ms.responses, &response{href: res.path.href(), status: http.StatusInsufficientStorage})
	}
	ms.syncToken = syncToken(rev)
	return nil
}

// syncHome answers sync-collection on a home, which is advertised there
// for Apple (Q5): its members are its top-level collections, and one of
// them has changed when its revision (which rises with every change to
// its members or properties) passed the token's, or when the token does
// not know its name. A home keeps no log of the collections removed from
// it, so a token from before a collection went (deleted, or moved away)
// gets valid-sync-token: the client starts over and notices the
// collection gone. That is the one case a home token is refused (RFC 6578
// section 3.2: invalidate only when necessary).
func (q *request) syncHome(res *resource, rr *reportRequest) error {
	since, known, ok := parseHomeToken(rr.syncToken)
	if !ok {
		return errCond(http.StatusForbidden, condValidSyncToken, "the sync token is not valid for this home; start again with an empty token")
	}
	kids, err := q.members(res)
	if err != nil {
		return err
	}
	present := make(map[string]bool, len(kids))
	for _, k := range kids {
		present[memberDigest(k.coll.Name)] = true
	}
	for d := range known {
		if !present[d] {
			return errCond(http.StatusForbidden, condValidSyncToken, "a collection was removed from this home since the token; start again with an empty token")
		}
	}
	ms := &multistatus{syncToken: homeToken(kids)}
	for _, k := range kids {
		if known[memberDigest(k.coll.Name)] && k.coll.Revision <= since {
			continue
		}
		r := &response{href: k.path.href()}
		q.addProps(r, k, rr.names)
		ms.responses = append(ms.responses, r)
	}
	writeMultistatus(q.w, ms)
	return nil
}
