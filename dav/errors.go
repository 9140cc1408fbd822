package dav

import (
	"encoding/xml"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/coffer-dav/coffer/storage"
)

// Error is a DAV error answer: an HTTP status, optionally a precondition or
// postcondition element (RFC 4918 section 16) and a human-readable message.
// Handlers return it; only writeError turns it into a response.
type Error struct {
	Status       int           // HTTP status code
	Precondition xml.Name      // condition element inside DAV:error; zero for none
	Href         string        // href carried inside the condition (no-uid-conflict), already canonical
	Message      string        // a sentence for the user; never a property value or body
	RetryAfter   time.Duration // sent as Retry-After when non-zero (503 throttling)
	Err          error         // the cause, logged for 5xx answers only
}

// Error implements the error interface.
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "dav: %d", e.Status)
	if e.Precondition.Local != "" {
		fmt.Fprintf(&b, " {%s}%s", e.Precondition.Space, e.Precondition.Local)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.Err != nil {
		b.WriteString(": " + e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Namespaces used in requests and responses.
const (
	nsDAV     = "DAV:"
	nsCalDAV  = "urn:ietf:params:xml:ns:caldav"
	nsCardDAV = "urn:ietf:params:xml:ns:carddav"
	nsCS      = "http://calendarserver.org/ns/"
	nsApple   = "http://apple.com/ns/ical/"
	nsCoffer  = "http://coffer.invalid/ns/"
)

// Conditions used in DAV:error bodies.
var (
	// RFC 3744 section 7.1.1.
	condNeedPrivileges = xml.Name{Space: nsDAV, Local: "need-privileges"}
	// RFC 4918 section 16.
	condPropfindFiniteDepth = xml.Name{Space: nsDAV, Local: "propfind-finite-depth"}
	// RFC 4918 section 16.
	condCannotModify = xml.Name{Space: nsDAV, Local: "cannot-modify-protected-property"}
	// RFC 4331 section 6.
	condQuotaNotExceeded = xml.Name{Space: nsDAV, Local: "quota-not-exceeded"}
	// RFC 4331 section 6: no room on the disk, as opposed to the user's quota.
	condSufficientDiskSpace = xml.Name{Space: nsDAV, Local: "sufficient-disk-space"}
	// RFC 6578 section 3.2.
	condValidSyncToken = xml.Name{Space: nsDAV, Local: "valid-sync-token"}
	// RFC 3253 section 3.6.
	condSupportedReport = xml.Name{Space: nsDAV, Local: "supported-report"}
	// RFC 5689 section 3.3.
	condValidResourcetype = xml.Name{Space: nsDAV, Local: "valid-resourcetype"}
	// RFC 4791 section 5.3.1 (MKCALENDAR) and, through RFC 5689 section 3,
	// extended MKCOL: nothing may exist at the Request-URI.
	condResourceMustBeNull = xml.Name{Space: nsDAV, Local: "resource-must-be-null"}
	// RFC 4791 section 5.3.2.1.
	condValidCalendarData     = xml.Name{Space: nsCalDAV, Local: "valid-calendar-data"}
	condValidCalendarObject   = xml.Name{Space: nsCalDAV, Local: "valid-calendar-object-resource"}
	condSupportedComponent    = xml.Name{Space: nsCalDAV, Local: "supported-calendar-component"}
	condCalendarNoUIDConflict = xml.Name{Space: nsCalDAV, Local: "no-uid-conflict"}
	condSupportedCalendarData = xml.Name{Space: nsCalDAV, Local: "supported-calendar-data"}
	condCalendarMaxSize       = xml.Name{Space: nsCalDAV, Local: "max-resource-size"}
	// RFC 4791 section 5.3.1.1.
	condCalendarLocationOK = xml.Name{Space: nsCalDAV, Local: "calendar-collection-location-ok"}
	// RFC 6352 section 6.3.2.1.
	condValidAddressData     = xml.Name{Space: nsCardDAV, Local: "valid-address-data"}
	condAddressNoUIDConflict = xml.Name{Space: nsCardDAV, Local: "no-uid-conflict"}
	condAddressMaxSize       = xml.Name{Space: nsCardDAV, Local: "max-resource-size"}
	// RFC 6352 section 6.3.1.1.
	condAddressLocationOK = xml.Name{Space: nsCardDAV, Local: "addressbook-collection-location-ok"}
	// RFC 6352 section 8.6.
	condAddressSupportedFilter = xml.Name{Space: nsCardDAV, Local: "supported-filter"}
)

// errStatus returns an Error with a status and a message only.
func errStatus(status int, msg string) *Error {
	return &Error{Status: status, Message: msg}
}

// errCond returns an Error with a status, a condition and a message.
func errCond(status int, cond xml.Name, msg string) *Error {
	return &Error{Status: status, Precondition: cond, Message: msg}
}

// errInternal wraps a storage or other server failure; the cause is logged,
// never sent. A write refused for a full disk is no failure of the request:
// it is 507 sufficient-disk-space, and can be retried once space returns. A
// damaged record is 503.
func errInternal(err error) *Error {
	if errors.Is(err, storage.ErrFull) {
		return &Error{Status: http.StatusInsufficientStorage, Precondition: condSufficientDiskSpace, Message: "the server's disk is full; try again later", Err: err}
	}
	if errors.Is(err, storage.ErrDamaged) {
		// A record of the database was altered outside Coffer. The cause,
		// logged, names the object by collection id and name MAC. 503 and
		// not 404 or an empty answer: a client that saw the object vanish
		// would delete its own copy, maybe the last one.
		return &Error{Status: http.StatusServiceUnavailable, Message: "a stored record is damaged; the operator has been told", Err: err}
	}
	return &Error{Status: http.StatusInternalServerError, Message: "internal server error", Err: err}
}

// errForbiddenUser is the answer for any path of another user: it reveals
// nothing about whether that user exists.
func errForbiddenUser() *Error {
	return errCond(http.StatusForbidden, condNeedPrivileges, "you have no access to this resource")
}

// asError converts any error into an *Error; unknown errors become 500.
func asError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return errInternal(err)
}

// writeError is the one place that writes error answers: an XML DAV:error
// body (Q13: DAVx5 reads error elements only from XML responses).
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	e := asError(err)
	h := w.Header()
	switch e.Status {
	case http.StatusUnauthorized:
		h.Set("WWW-Authenticate", `Basic realm="Coffer", charset="UTF-8"`)
	case http.StatusMethodNotAllowed:
		h.Set("Allow", allowHeader)
	case http.StatusServiceUnavailable:
		if e.RetryAfter > 0 {
			h.Set("Retry-After", RetryAfter(e.RetryAfter))
		}
	}
	if e.Status >= 500 && e.Err != nil && r.Context().Err() == nil {
		// Method, path, status and error only: never a body, a property
		// value or a credential. A 5xx without a cause is an answer chosen
		// on purpose (throttling), not a failure, and is not logged here;
		// nor is one after the client hung up (the request log says so).
		log.Error("dav request failed", "method", r.Method, "path", r.URL.Path, "status", e.Status, "err", e.Err)
	}
	body := errorBody(e)
	h.Set("Content-Type", xmlContentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(e.Status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// errorBody renders the DAV:error element (RFC 4918 section 8.7).
func errorBody(e *Error) []byte {
	var b strings.Builder
	b.WriteString(xmlDecl)
	b.WriteString(`<D:error` + rootNamespaces + ` xmlns:CO="` + nsCoffer + `">`)
	if e.Precondition.Local != "" {
		p := prefixFor(e.Precondition.Space)
		open := "<" + p + e.Precondition.Local
		if p == "" {
			open += ` xmlns="` + escapeString(e.Precondition.Space) + `"`
		}
		if e.Href != "" {
			b.WriteString(open + "><D:href>" + escapeString(e.Href) + "</D:href></" + p + e.Precondition.Local + ">")
		} else {
			b.WriteString(open + "/>")
		}
	}
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	b.WriteString("<CO:message>" + escapeString(msg) + "</CO:message>")
	b.WriteString("</D:error>\n")
	return []byte(b.String())
}

// RetryAfter writes a wait as a Retry-After value (RFC 9110 section 10.2.3):
// whole seconds, rounded up.
func RetryAfter(d time.Duration) string {
	return strconv.FormatInt(int64((d+time.Second-1)/time.Second), 10)
}
