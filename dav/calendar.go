package dav

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/coffer-dav/coffer/dav/ical"
	"github.com/coffer-dav/coffer/storage"
)

// Conditions of calendar queries (RFC 4791 sections 7.8 and 9.7) and of
// our own caps on recurrence expansion.
var (
	condValidFilter        = xml.Name{Space: nsCalDAV, Local: "valid-filter"}            // RFC 4791 7.8
	condSupportedCollation = xml.Name{Space: nsCalDAV, Local: "supported-collation"}     // RFC 4791 7.8
	condSupportedCalData   = xml.Name{Space: nsCalDAV, Local: "supported-calendar-data"} // RFC 4791 9.6
	condTooManyInstances   = xml.Name{Space: nsCoffer, Local: "too-many-instances"}      // ours: expansion cap
	condMaxInstances       = xml.Name{Space: nsCalDAV, Local: "max-instances"}           // RFC 4791 5.3.2.1
	pnCalendarTimezone     = xml.Name{Space: nsCalDAV, Local: "calendar-timezone"}       // RFC 4791 5.2.2
	pnCalendarTimezoneID   = xml.Name{Space: nsCalDAV, Local: "calendar-timezone-id"}    // RFC 7809 5.2
	condQueryValidTimezone = xml.Name{Space: nsCalDAV, Local: "valid-timezone"}          // RFC 7809, of a query timezone-id
	errNoCalendarTimeRange = errStatus(http.StatusBadRequest, "free-busy-query needs a time-range with a start and an end")
)

// calendarLocation returns the zone in which a calendar's floating and
// all-day values are read: its calendar-timezone-id, else the TZID of its
// calendar-timezone, else UTC (clients.md, time zones).
func calendarLocation(c *storage.Collection) *time.Location {
	if id := storedText(c, pnCalendarTimezoneID); id != "" {
		if loc, ok := ical.ResolveTZID(id); ok {
			return loc
		}
	}
	for _, line := range strings.Split(storedText(c, pnCalendarTimezone), "\n") {
		if tzid, ok := strings.CutPrefix(strings.TrimSpace(line), "TZID:"); ok {
			if loc, ok := ical.ResolveTZID(tzid); ok {
				return loc
			}
		}
	}
	return time.UTC
}

// storedText returns the text content of a stored collection property.
func storedText(c *storage.Collection, name xml.Name) string {
	v, ok := c.Props[clark(name)]
	if !ok {
		return ""
	}
	n, err := parseXML(bytes.NewReader(v))
	if err != nil || n == nil {
		return ""
	}
	return n.text()
}

// calendarIndex computes the query index entry of a calendar object: its
// component type, UID and the span of its instances, so that queries skip
// what cannot match without opening the body.
//
// An object whose RDATEs, overrides and instances within that span pass the
// instance cap is refused with 403 max-instances: every time-range query
// on it would fail, however narrow.
func calendarIndex(obj *ical.Object, coll *storage.Collection, opts ical.Options) ([]byte, error) {
	sum, err := ical.Summarize(obj, calendarLocation(coll), opts)
	if errors.Is(err, ical.ErrTooManyInstances) || errors.Is(err, ical.ErrTooComplex) {
		return nil, errCond(http.StatusForbidden, condMaxInstances, fmt.Sprintf(
			"the recurrence set has more dates, overrides or instances than the server evaluates (%d)", opts.MaxInstances))
	}
	if err != nil {
		return nil, calendarError(err)
	}
	return sum.MarshalBinary()
}

// oversized reports whether obj is one that calendarIndex now refuses,
// stored in coll before PUT checked it.
func (q *request) oversized(coll *storage.Collection, obj *ical.Object) bool {
	_, err := calendarIndex(obj, coll, q.h.limits.calendar)
	return err != nil && asError(err).Precondition == condMaxInstances
}

// parseCalendarQueryFilter reads the filter of a calendar-query (RFC 4791 9.7).
func parseCalendarQueryFilter(n *node) (*ical.Filter, error) {
	if n == nil {
		return nil, errCond(http.StatusBadRequest, condValidFilter, "calendar-query needs a filter")
	}
	f, err := ical.ParseFilter([]byte(serializeElement(n)))
	if err != nil {
		return nil, calendarError(err)
	}
	return f, nil
}

// parseQueryZone reads the zone a calendar-query names for its floating
// and all-day values: a CALDAV:timezone element holding a VCALENDAR with
// one VTIMEZONE (RFC 4791 sections 7.3 and 9.8; 403 valid-calendar-data
// otherwise), or a CALDAV:timezone-id naming a zone of the server's zone
// data (RFC 7809 timezone-id; 403 valid-timezone otherwise). nil means
// neither: the calendar's own zone applies.
func parseQueryZone(query *node) (*ical.Zone, error) {
	tz, id := query.child(nsCalDAV, "timezone"), query.child(nsCalDAV, "timezone-id")
	switch {
	case tz != nil && id != nil:
		return nil, errStatus(http.StatusBadRequest, "calendar-query takes a timezone or a timezone-id, not both")
	case tz != nil:
		return checkCalendarTimezone(tz.text())
	case id != nil:
		z, ok := ical.ZoneNamed(id.text())
		if !ok {
			return nil, errCond(http.StatusForbidden, condQueryValidTimezone, "the server knows no time zone of that name")
		}
		return z, nil
	}
	return nil, nil
}

// parseCalendarDataRequest reads a calendar-data element of a request's
// prop (RFC 4791 9.6); nil means the stored bytes, unchanged.
func parseCalendarDataRequest(prop *node) (*ical.CalendarData, error) {
	n := prop.child(nsCalDAV, "calendar-data")
	if n == nil || (len(n.Kids) == 0 && len(n.Attr) == 0) {
		return nil, nil
	}
	d := xml.NewDecoder(strings.NewReader(serializeElement(n)))
	for {
		tok, err := d.Token()
		if err != nil {
			return nil, errStatus(http.StatusBadRequest, "malformed calendar-data element")
		}
		if start, ok := tok.(xml.StartElement); ok {
			cd, err := ical.DecodeCalendarData(d, start)
			if err != nil {
				return nil, calendarError(err)
			}
			if cd.Comp == nil && cd.Expand == nil && cd.LimitRecurrenceSet == nil && cd.LimitFreeBusySet == nil {
				return nil, nil
			}
			return cd, nil
		}
	}
}

// calendarError turns an error of package ical into a DAV error value.
func calendarError(err error) error {
	var ie *ical.Error
	switch {
	case errors.Is(err, ical.ErrTooManyInstances), errors.Is(err, ical.ErrTooComplex):
		return errCond(http.StatusForbidden, condTooManyInstances,
			"a recurring event needs more instances than the server evaluates; narrow the time range")
	case errors.As(err, &ie):
		cond := map[string]xml.Name{
			ical.CondValidFilter:           condValidFilter,
			ical.CondSupportedCollation:    condSupportedCollation,
			ical.CondValidCalendarData:     condValidCalendarData,
			ical.CondSupportedCalendarData: condSupportedCalData,
		}[ie.Condition]
		if cond.Local == "" {
			cond = condValidFilter
		}
		return errCond(http.StatusForbidden, cond, ie.Message)
	}
	return errInternal(err)
}

// candidate is an object that may match a calendar query.
type candidate struct {
	storage.IndexEntry
	certain bool // the index alone proves the match
}

// calendarCandidates returns the objects of a calendar that may match the
// filter, from the sealed index alone. With exact set, the filter is
// nothing but a VEVENT time-range, and candidates the index proves to
// match are marked certain.
func (q *request) calendarCandidates(coll *storage.Collection, comp string, tr ical.TimeRange, filtered, exact bool) ([]candidate, error) {
	entries, _, err := q.space.Index(q.ctx, coll.ID)
	if err != nil {
		return nil, errInternal(err)
	}
	out := make([]candidate, 0, len(entries))
	for _, e := range entries {
		c := candidate{IndexEntry: e}
		var sum ical.Summary
		if filtered && e.Index != nil && sum.UnmarshalBinary(e.Index) == nil {
			if comp != "" && sum.Component != comp {
				continue
			}
			if !sum.MayOverlap(tr.Start, tr.End) {
				continue
			}
			c.certain = exact && certainMatch(sum, tr)
		}
		out = append(out, c)
	}
	return out, nil
}

// certainMatch reports whether a VEVENT time-range surely matches an
// object with this summary. The summary's bounds are never narrower than
// the object's instances (they are widened for alarms and floating
// times), so bounds inside the range put an instance inside it; and an
// open-ended series has instances after any start.
func certainMatch(sum ical.Summary, tr ical.TimeRange) bool {
	switch {
	case sum.Never || sum.Component != "VEVENT":
		return false
	case sum.Recurring:
		// A series whose expansion hit the cap is also marked open-ended;
		// at worst a client then lists one event too many, never one too few.
		return sum.Unbounded && tr.End.IsZero()
	case sum.Unbounded || sum.Start.IsZero() || sum.End.IsZero():
		return false
	}
	return (tr.Start.IsZero() || !sum.Start.Before(tr.Start)) && (tr.End.IsZero() || sum.End.Before(tr.End))
}

// plainVEventRange returns the time-range of a filter that asks for
// nothing but VEVENTs overlapping it, as DAVx5 and iOS list a calendar.
func plainVEventRange(f *ical.Filter) bool {
	top := f.Comp
	if !strings.EqualFold(top.Name, "VCALENDAR") || top.IsNotDefined || top.TimeRange != nil || len(top.Props) > 0 || len(top.Comps) != 1 {
		return false
	}
	ev := top.Comps[0]
	return strings.EqualFold(ev.Name, "VEVENT") && !ev.IsNotDefined && ev.TimeRange != nil && len(ev.Props) == 0 && len(ev.Comps) == 0
}

// fromIndexOnly lists the properties a certain candidate can be answered
// with from its index entry, without opening the object.
var fromIndexOnly = map[xml.Name]bool{pnGetetag: true, pnGetcontenttype: true, pnResourcetype: true}

// calendarQuery answers calendar-query (RFC 4791 7.8): the index rules
// out what cannot match, and every candidate is evaluated in full,
// recurrences included, so that no instance in the range is missed (Q18).
func (q *request) calendarQuery(res *resource, rr *reportRequest, ms *multistatus) error {
	opts := q.h.limits.calendar
	opts.Location, opts.Zone = calendarLocation(res.coll), rr.calZone
	// The index's bounds of floating values hold in any zone, so the
	// query's zone needs no other index.
	comp, tr, filtered := rr.calFilter.Prefilter()
	cands, err := q.calendarCandidates(res.coll, comp, tr, filtered, plainVEventRange(rr.calFilter))
	if err != nil {
		return err
	}
	if res.path.kind == pathObject { // the query names one object
		cands = slices.DeleteFunc(cands, func(c candidate) bool { return c.Name != res.obj.Name })
	}
	names := withETag(rr.names)
	cheap := true
	for _, n := range names {
		cheap = cheap && fromIndexOnly[n]
	}
	// An object stored before PUT checked its size fails any query on the
	// cap; it is left out and named, so that the rest of the calendar
	// still answers. A cap hit by an object within it means the query
	// asks too much, and stays 403.
	var skipped []string
	skip := func(e storage.IndexEntry, err error) bool {
		if asError(err).Precondition != condTooManyInstances {
			return false
		}
		if obj, _ := q.parsedObject(res.coll, e); obj == nil || !q.oversized(res.coll, obj) {
			return false
		}
		skipped = append(skipped, objectResource(res, storage.Object{Name: e.Name}).path.href())
		return true
	}
	defer func() {
		if len(skipped) > 0 {
			ms.description = fmt.Sprintf("left out, with more recurrence dates, overrides or instances than the server evaluates (%d): %s",
				opts.MaxInstances, strings.Join(skipped, " "))
		}
	}()
	for _, e := range cands {
		if cheap {
			// The index entry answers; the object is opened only to be
			// evaluated, and kept parsed for the client's next poll.
			if !e.certain {
				ok, err := q.matchCached(res.coll, e.IndexEntry, rr.calFilter, opts)
				if err != nil && skip(e.IndexEntry, err) {
					continue
				} else if err != nil {
					return err
				}
				if !ok {
					continue
				}
			}
			o := storage.Object{Name: e.Name, ETag: e.ETag, ContentType: calendarContentType}
			r, err := q.objectResponse(objectResource(res, o), names, rr)
			if err != nil && skip(e.IndexEntry, err) {
				continue
			} else if err != nil {
				return err
			}
			ms.responses = append(ms.responses, r)
			continue
		}
		o, err := q.space.Object(q.ctx, res.coll.ID, e.Name, storage.ReadOptions{Body: true})
		if errors.Is(err, storage.ErrNotFound) {
			continue
		} else if err != nil {
			return errInternal(err)
		}
		obj, err := ical.Parse(o.Body)
		if err != nil {
			continue // stored before validation was this strict: never matches
		}
		ok, err := ical.Match(obj, rr.calFilter, opts)
		if err != nil && skip(e.IndexEntry, calendarError(err)) {
			continue
		} else if err != nil {
			return calendarError(err)
		}
		if ok {
			r, err := q.objectResponse(objectResource(res, *o), names, rr)
			if err != nil && skip(e.IndexEntry, err) {
				continue
			} else if err != nil {
				return err
			}
			ms.responses = append(ms.responses, r)
		}
	}
	return nil
}

// matchCached evaluates the filter on one object, parsed from the cache
// when the same version was parsed before.
func (q *request) matchCached(coll *storage.Collection, e storage.IndexEntry, f *ical.Filter, opts ical.Options) (bool, error) {
	obj, err := q.parsedObject(coll, e)
	if obj == nil {
		return false, err
	}
	ok, err := ical.Match(obj, f, opts)
	if err != nil {
		return false, calendarError(err)
	}
	return ok, nil
}

// parsedObject returns the object of an index entry parsed, from the cache
// when the same version was parsed before, and keeps it there. It is nil
// for an object deleted meanwhile, or stored before validation was this
// strict, which never matches.
func (q *request) parsedObject(coll *storage.Collection, e storage.IndexEntry) (*ical.Object, error) {
	key := parsedKey{account: q.acct.ID, collection: coll.ID, name: e.Name, etag: e.ETag}
	if obj := q.h.parsed.get(key); obj != nil {
		return obj, nil
	}
	o, err := q.space.Object(q.ctx, coll.ID, e.Name, storage.ReadOptions{Body: true})
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, errInternal(err)
	}
	obj, err := ical.Parse(o.Body)
	if err != nil {
		return nil, nil
	}
	// A body read after the index may be newer; cache it under its own ETag.
	key.etag = o.ETag
	q.h.parsed.put(key, obj)
	return obj, nil
}

// renderCalendarData returns the calendar-data of an object as the request
// asks: the stored bytes, or a selection or expansion of them.
func renderCalendarData(body []byte, coll *storage.Collection, cd *ical.CalendarData, opts ical.Options) ([]byte, error) {
	if cd == nil {
		return body, nil
	}
	obj, err := ical.Parse(body)
	if err != nil {
		return nil, calendarError(err)
	}
	opts.Location = calendarLocation(coll)
	out, err := ical.Render(obj, cd, opts)
	if err != nil {
		return nil, calendarError(err)
	}
	return out, nil
}

// freeBusy answers free-busy-query (RFC 4791 7.10) with a VFREEBUSY of the
// calendar's busy time in the range.
func (q *request) freeBusy(res *resource, n *node) error {
	trn := n.child(nsCalDAV, "time-range")
	if trn == nil {
		return errNoCalendarTimeRange
	}
	tr, err := parseTimeRangeNode(trn)
	if err != nil {
		return err
	}
	if tr.Start.IsZero() || tr.End.IsZero() {
		return errNoCalendarTimeRange
	}
	opts := q.h.limits.calendar
	opts.Location = calendarLocation(res.coll)
	cands, err := q.calendarCandidates(res.coll, "", tr, true, false)
	if err != nil {
		return err
	}
	var objs []*ical.Object
	for _, e := range cands {
		o, err := q.space.Object(q.ctx, res.coll.ID, e.Name, storage.ReadOptions{Body: true})
		if errors.Is(err, storage.ErrNotFound) {
			continue
		} else if err != nil {
			return errInternal(err)
		}
		if obj, err := ical.Parse(o.Body); err == nil {
			objs = append(objs, obj)
		}
	}
	periods, err := ical.FreeBusy(objs, tr, opts)
	if errors.Is(err, ical.ErrTooManyInstances) || errors.Is(err, ical.ErrTooComplex) {
		// Objects stored before PUT checked their size are left out, as
		// calendarQuery leaves them out.
		kept := objs[:0]
		for _, obj := range objs {
			if !q.oversized(res.coll, obj) {
				kept = append(kept, obj)
			}
		}
		periods, err = ical.FreeBusy(kept, tr, opts)
	}
	if err != nil {
		return calendarError(err)
	}
	q.w.Header().Set("Content-Type", calendarContentType)
	q.w.WriteHeader(http.StatusOK)
	q.w.Write(ical.EncodeFreeBusy(tr, periods, time.Now().UTC()))
	return nil
}

// parseTimeRangeNode reads a time-range element (RFC 4791 9.9).
func parseTimeRangeNode(n *node) (ical.TimeRange, error) {
	var tr ical.TimeRange
	for _, a := range []struct {
		name string
		to   *time.Time
	}{{"start", &tr.Start}, {"end", &tr.End}} {
		v := n.attr(a.name)
		if v == "" {
			continue
		}
		t, err := time.Parse("20060102T150405Z", v)
		if err != nil {
			return tr, errCond(http.StatusBadRequest, condValidFilter, "a time-range needs UTC date-times like 20260101T000000Z")
		}
		*a.to = t
	}
	if tr.Start.IsZero() && tr.End.IsZero() {
		return tr, errCond(http.StatusBadRequest, condValidFilter, "a time-range needs a start or an end")
	}
	if !tr.Start.IsZero() && !tr.End.IsZero() && !tr.End.After(tr.Start) {
		return tr, errCond(http.StatusBadRequest, condValidFilter, "a time-range must end after it starts")
	}
	return tr, nil
}
