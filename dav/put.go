package dav

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/coffer-dav/coffer/storage"
)

// Content types stored for validated objects.
const (
	calendarContentType = "text/calendar; charset=utf-8"
	vcardContentType    = "text/vcard; charset=utf-8"
)

// get answers GET and HEAD: the stored bytes exactly, with a strong ETag.
func (q *request) get() error {
	res, err := q.resolve()
	if err != nil {
		return err
	}
	h := q.w.Header()
	// User content is served on the same origin as /account/: one host
	// and no configuration for self-hosters, so no second origin for the
	// dashboard. Instead no answer is sniffed into another type, and a
	// sandboxed document has an opaque origin: it runs no script and
	// reaches /account/ only as a cross-site request, which that refuses.
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "sandbox")
	if res.path.kind != pathObject {
		// A collection (or a home, a principal, a root) has no content:
		// 204, with neither Content-Length nor Content-Type, so that
		// PROPFIND rightly reports neither DAV:getcontentlength nor
		// DAV:getcontenttype for it (RFC 4918 15.4, 15.5: defined for
		// resources whose GET returns those headers). Reporting a length
		// instead would leave the type: Thunderbird tells items in a
		// listing by their getcontenttype (Q9, clients.md 4.4), so
		// collections carry none. RFC 4918 9.4 leaves a collection's GET
		// open, and no client of clients.md sends one.
		q.w.WriteHeader(http.StatusNoContent)
		return nil
	}
	o, err := q.space.Object(q.ctx, res.coll.ID, res.obj.Name, storage.ReadOptions{Body: true})
	if err != nil {
		return storageErr(err)
	}
	h.Set("ETag", quoteETag(o.ETag))
	h.Set("Last-Modified", o.Modified.UTC().Format(http.TimeFormat))
	if inm := q.r.Header.Get("If-None-Match"); inm != "" && etagListMatches(inm, o.ETag, true) {
		q.w.WriteHeader(http.StatusNotModified)
		return nil
	}
	ct := o.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	h.Set("Content-Type", ct)
	if !inlineType(ct) {
		h.Set("Content-Disposition", "attachment")
	}
	body := o.Body
	if res.coll.Kind == storage.KindCalendar {
		// RFC 7809 section 3.1: the zones the object names without
		// defining are added, unless CalDAV-Timezones says not to.
		body = withZones(q.r, body)
		h.Set("Vary", "CalDAV-Timezones")
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	q.w.WriteHeader(http.StatusOK)
	if q.r.Method != http.MethodHead {
		_, _ = q.w.Write(body)
	}
	return nil
}

// inlineType reports whether a browser may show a body of this media type
// in place: the types it only displays, never runs (calendars and cards,
// plain text, raster images). Any other, HTML, SVG and XML first, goes out
// as an attachment.
func inlineType(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	switch mt {
	case "text/calendar", "text/vcard", "text/x-vcard", "text/plain", "application/octet-stream",
		"image/png", "image/jpeg", "image/gif", "image/webp":
		return true
	}
	return false
}

// put answers PUT on an object (RFC 4791 5.3.2, RFC 6352 6.3.2): it
// validates, never re-encodes, and answers 201 or 204 with a strong ETag.
func (q *request) put() error {
	p := q.path
	switch {
	case p.kind == pathCollection:
		return errStatus(http.StatusMethodNotAllowed, "PUT is not allowed on a collection")
	case p.kind != pathObject:
		return errStatus(http.StatusMethodNotAllowed, "objects can only be stored inside a collection")
	}
	coll, err := q.collection(p.home, p.coll)
	if errors.Is(err, storage.ErrNotFound) {
		return errStatus(http.StatusConflict, "the parent collection does not exist")
	} else if err != nil {
		return errInternal(err)
	}
	if err := supportedType(coll, q.r.Header.Get("Content-Type")); err != nil {
		return err
	}
	tooLarge := errTooLarge(coll)
	if q.r.ContentLength > q.h.maxResourceSize {
		return tooLarge
	}
	body, err := io.ReadAll(http.MaxBytesReader(q.w, q.r.Body, q.h.maxResourceSize))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return tooLarge
		}
		return errStatus(http.StatusBadRequest, "the request body could not be read")
	}
	opts := StoreOptions{User: q.acct.Username, Name: p.name, ContentType: q.r.Header.Get("Content-Type"), Body: body, Limits: q.h.writeLimits}
	if err := q.putPreconditions(coll, &opts); err != nil {
		return err
	}
	res, err := StoreObject(q.ctx, q.space, coll, opts)
	if err != nil {
		return err
	}
	q.w.Header().Set("ETag", quoteETag(res.Object.ETag))
	if res.Created {
		q.w.WriteHeader(http.StatusCreated)
	} else {
		q.w.WriteHeader(http.StatusNoContent)
	}
	return nil
}

// supportedType refuses a PUT whose Content-Type coll does not store
// (RFC 4791 5.3.2.1 supported-calendar-data, RFC 6352 6.3.2.1
// supported-address-data); parameters (charset, version) are not checked.
// Clients send text/calendar with or without a charset (Apple: none) and
// text/vcard with a charset or a version (clients.md 1.4); a missing
// Content-Type is accepted, as some clients send none, and so is
// text/x-vcard, vCard's name before its registration (inlineType knows
// it too), though no client of clients.md sends it. A plain collection
// takes any type.
func supportedType(coll *storage.Collection, contentType string) error {
	if strings.TrimSpace(contentType) == "" {
		return nil
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil && !errors.Is(err, mime.ErrInvalidMediaParameter) {
		mt = ""
	}
	switch {
	case coll.Kind == storage.KindCalendar && mt != "text/calendar":
		return errCond(http.StatusForbidden, condSupportedCalendarData, "a calendar stores text/calendar only")
	case coll.Kind == storage.KindAddressBook && mt != "text/vcard" && mt != "text/x-vcard":
		return errCond(http.StatusForbidden, condSupportedAddressData, "an address book stores text/vcard only")
	}
	return nil
}

// putPreconditions turns If-Match and If-None-Match into the storage
// options, which storage checks atomically with the write. Lists of tags
// (rare) are narrowed to the current tag first.
func (q *request) putPreconditions(coll *storage.Collection, opts *StoreOptions) error {
	failed := errStatus(http.StatusPreconditionFailed, "the resource has changed or exists already")
	if v := strings.TrimSpace(q.r.Header.Get("If-Match")); v != "" {
		if v == "*" {
			opts.IfMatch = "*"
		} else {
			tags := parseETags(v)
			if len(tags) == 0 {
				return failed // only weak or malformed tags: strong comparison never matches
			}
			opts.IfMatch = tags[0]
			if len(tags) > 1 {
				cur, err := q.space.Object(q.ctx, coll.ID, opts.Name, storage.ReadOptions{})
				if errors.Is(err, storage.ErrNotFound) {
					return failed
				} else if err != nil {
					return errInternal(err)
				}
				if !etagListMatches(v, cur.ETag, false) {
					return failed
				}
				opts.IfMatch = cur.ETag
			}
		}
	}
	if v := strings.TrimSpace(q.r.Header.Get("If-None-Match")); v != "" {
		if v == "*" {
			opts.IfNoneMatch = true
		} else {
			cur, err := q.space.Object(q.ctx, coll.ID, opts.Name, storage.ReadOptions{})
			if err == nil && etagListMatches(v, cur.ETag, true) {
				return failed
			} else if err != nil && !errors.Is(err, storage.ErrNotFound) {
				return errInternal(err)
			}
		}
	}
	return nil
}

// parseETags returns the strong entity tags of an If-Match list, unquoted.
func parseETags(v string) []string {
	var out []string
	for _, t := range strings.Split(v, ",") {
		t = strings.TrimSpace(t)
		if strings.HasPrefix(t, "W/") || len(t) < 2 || t[0] != '"' || t[len(t)-1] != '"' {
			continue
		}
		out = append(out, t[1:len(t)-1])
	}
	return out
}

// etagListMatches compares a header's tag list with a stored tag; weak
// comparison (RFC 9110 8.8.3.2) is used for If-None-Match.
func etagListMatches(v, etag string, weak bool) bool {
	for _, t := range strings.Split(v, ",") {
		t = strings.TrimSpace(t)
		if t == "*" {
			return true
		}
		if strings.HasPrefix(t, "W/") {
			if !weak {
				continue
			}
			t = t[2:]
		}
		if len(t) >= 2 && t[0] == '"' && t[len(t)-1] == '"' && t[1:len(t)-1] == etag {
			return true
		}
	}
	return false
}

// delete answers DELETE: 204 for objects and collections (Q14: never 207),
// 403 for homes, principals and roots.
func (q *request) delete() error {
	p := q.path
	switch p.kind {
	case pathObject:
		coll, err := q.collection(p.home, p.coll)
		if err != nil {
			return storageErr(err)
		}
		opts := storage.DeleteOptions{}
		if v := strings.TrimSpace(q.r.Header.Get("If-Match")); v != "" {
			if v == "*" {
				opts.IfMatch = "*"
			} else {
				tags := parseETags(v)
				if len(tags) == 0 {
					return errStatus(http.StatusPreconditionFailed, "the resource has changed")
				}
				opts.IfMatch = tags[0]
			}
		}
		if err := q.space.DeleteObject(q.ctx, coll.ID, p.name, opts); err != nil {
			return storageErr(err)
		}
	case pathCollection:
		coll, err := q.collection(p.home, p.coll)
		if err != nil {
			return storageErr(err)
		}
		if err := q.space.DeleteCollection(q.ctx, coll.ID); err != nil {
			return storageErr(err)
		}
	default:
		return errCond(http.StatusForbidden, condNeedPrivileges, "this resource cannot be deleted")
	}
	q.w.WriteHeader(http.StatusNoContent)
	return nil
}
