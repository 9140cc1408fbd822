// Package dav is Coffer's WebDAV, CalDAV and CardDAV protocol layer:
// routing, authorisation of paths, PROPFIND/PROPPATCH, MKCALENDAR and
// extended MKCOL, object PUT/GET/DELETE, and the REPORTs, over a
// storage.Space per user.
package dav

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/coffer-dav/coffer/auth"
	"github.com/coffer-dav/coffer/storage"
)

// Options configures NewHandler.
type Options struct {
	Auth            Authenticator // checks Basic credentials; required
	MaxResourceSize int64         // largest object body; default 20 MiB, advertised as max-resource-size
	MaxBodySize     int64         // largest request body of any kind; default 25 MiB
	// QuotaBytes is each user's storage quota (RFC 4331), enforced on PUT,
	// COPY, PROPPATCH and MKCOL with 507 quota-not-exceeded, inside each
	// write's transaction (storage.Limits). Bodies, names and properties
	// count against it. 0 means no quota: then
	// quota-available-bytes is not reported at all (a 404 propstat, which
	// RFC 4331 section 3 allows for unlimited storage), since the DAV
	// layer knows no meaningful free space; quota-used-bytes always is.
	QuotaBytes int64
	// The caps below take their defaults (see limits.go) when zero; the
	// two count limits are off when negative.
	MaxXMLDepth      int   // deepest nesting of an XML request body; default 64
	MaxXMLElements   int   // most elements in an XML request body; default 20000
	MaxMultigetHrefs int   // most hrefs in one multiget; default 1000
	MaxInstances     int   // most recurrence instances examined per object and query; default 10000
	MaxObjects       int64 // most objects in one collection; default 100000
	MaxCollections   int64 // most collections of one user; default 1000
	// MaxPropertiesSize caps the stored properties of one resource (names
	// and values); default 64 KiB.
	MaxPropertiesSize int64
	// ParsedCache bounds the calendar objects kept parsed for repeated
	// queries; 0 means 5,000, negative turns the cache off.
	ParsedCache int
	Logger      *slog.Logger // default slog.Default()
	// PublicURL is the server's root as clients reach it (behind a proxy,
	// the proxy's), e.g. https://dav.example.org/; the .well-known
	// redirects point into it. Empty: they carry the path alone.
	PublicURL string
	Push      PushOptions // WebDAV-Push; off by default
}

// handler serves the DAV tree.
type handler struct {
	auth            Authenticator
	maxResourceSize int64
	maxBodySize     int64
	quota           int64
	limits          limits
	writeLimits     WriteLimits // what PUT's StoreObject applies
	parsed          *parsedCache
	log             *slog.Logger
	refusals        *loginLog // refused and throttled logins, once per address a minute
	davRoot         string    // where the .well-known redirects point
	push            pushConfig
}

// request is the state of one authenticated request.
type request struct {
	h     *handler
	w     http.ResponseWriter
	r     *http.Request
	ctx   context.Context
	acct  *Account
	space storage.Space
	path  resourcePath
	usage *int64 // the user's bytes in use, read once per request
	// settled is the collection that settle read for the request path,
	// until the first look-up of that collection takes it.
	settled *storage.Collection
}

// statusWriter records the status for the access log.
type statusWriter struct {
	http.ResponseWriter
	status int
}

// Defaults and caps.
const (
	defaultMaxResourceSize = 20 << 20
	defaultMaxBodySize     = 25 << 20
	maxXMLBody             = 1 << 20 // PROPFIND, PROPPATCH, MKCOL
	maxReportBody          = 4 << 20 // REPORT, multiget hrefs included
	// davHeader must start with the class "1" (Q2: Thunderbird drops the
	// first token) and must not list calendar-schedule or
	// calendar-auto-schedule (Q3); no class 2 since there is no LOCK.
	// calendar-no-timezone (RFC 7809 section 3.1.1): a TZID that has no
	// VTIMEZONE in the object is read from the server's own zone data.
	davHeader   = "1, 3, access-control, calendar-access, calendar-no-timezone, addressbook, extended-mkcol, sync-collection"
	allowHeader = "OPTIONS, GET, HEAD, PUT, DELETE, PROPFIND, PROPPATCH, REPORT, MKCOL, MKCALENDAR, MOVE, COPY"
)

// NewHandler returns the http.Handler for the whole DAV tree: the
// well-known redirects, the principals and the homes.
func NewHandler(o Options) http.Handler {
	h := &handler{
		auth:            o.Auth,
		maxResourceSize: o.MaxResourceSize,
		maxBodySize:     o.MaxBodySize,
		quota:           max(o.QuotaBytes, 0),
		limits:          newLimits(o),
		log:             o.Logger,
		davRoot:         strings.TrimSuffix(o.PublicURL, "/") + davPrefix,
		push:            newPushConfig(o.Push),
	}
	if h.maxResourceSize <= 0 {
		h.maxResourceSize = defaultMaxResourceSize
	}
	if h.maxBodySize <= 0 {
		h.maxBodySize = defaultMaxBodySize
	}
	if h.maxBodySize < h.maxResourceSize {
		h.maxBodySize = h.maxResourceSize
	}
	h.writeLimits = o.WriteLimits()
	if h.log == nil {
		h.log = slog.Default()
	}
	h.refusals = newLoginLog(h.log)
	switch {
	case o.ParsedCache == 0:
		h.parsed = newParsedCache(5000, 30*time.Minute)
	case o.ParsedCache > 0:
		h.parsed = newParsedCache(o.ParsedCache, 30*time.Minute)
	}
	return h
}

// WriteHeader records the status.
func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

// Write records an implicit 200.
func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// ServeHTTP routes a request.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	sw := &statusWriter{ResponseWriter: w}
	err := h.serve(sw, r, true)
	if err != nil {
		writeError(sw, r, h.log, err)
	}
	h.log.Debug("dav request", "method", r.Method, "path", r.URL.Path, "status", sw.status)
}

// serve answers a request. With deferred, a cached login's check that
// its password still holds is owed to the request (storage.LoginCheck)
// and made with the request path's first read, before anything else is
// read or written; a stale one serves the request again with a login
// that checks on its own, which verifies the password afresh (it may
// only have been rewrapped under new Argon2 costs) or refuses it.
func (h *handler) serve(w http.ResponseWriter, r *http.Request, deferred bool) error {
	p := r.URL.EscapedPath()
	switch strings.TrimSuffix(p, "/") {
	case "/.well-known/caldav", "/.well-known/carddav":
		// RFC 6764 section 5, without authentication; 301 keeps the method
		// for every client (never 303, which turns PROPFIND into GET).
		w.Header().Set("Location", h.davRoot)
		w.WriteHeader(http.StatusMovedPermanently)
		return nil
	}
	if strings.HasPrefix(p, "/.well-known/") {
		return errStatus(http.StatusNotFound, "no such resource")
	}
	if changesData(r.Method) && CrossSite(r) {
		return errCrossSite // before any login: a browser's cached credentials do nothing
	}
	plain := r
	check := &storage.LoginCheck{}
	if deferred {
		var ctx context.Context
		ctx, check = storage.WithLoginCheck(r.Context())
		r = r.WithContext(ctx)
	}
	acct, err := h.login(r)
	if err != nil {
		return err
	}
	settled := func() (bool, error) {
		err := check.Settle(r.Context())
		if errors.Is(err, storage.ErrStaleLogin) {
			return false, h.serve(w, plain, false)
		}
		return err == nil, err
	}
	// refuse answers a request refused before its path was read: a stale
	// login still gets the answer a stale login gets.
	refuse := func(refusal error) error {
		if ok, err := settled(); !ok {
			return err
		}
		return refusal
	}
	if id, ok := strings.CutPrefix(p, pushPrefix); ok {
		if ok, err := settled(); !ok {
			return err
		}
		return h.serveRegistration(w, r, acct, id)
	}
	path, err := parsePath(p)
	if err != nil {
		return refuse(err)
	}
	if path.user != "" && path.user != acct.Username {
		return refuse(errForbiddenUser())
	}
	if r.ContentLength > h.maxBodySize {
		return refuse(errStatus(http.StatusRequestEntityTooLarge, "the request body is too large"))
	}
	if err := checkIfHeader(r); err != nil {
		return refuse(err)
	}
	r.Body = http.MaxBytesReader(w, r.Body, h.maxBodySize)
	ctx := r.Context()
	if h.push.enabled {
		// The change hook reads whom the request's changes must not wake.
		ids, all := PushDontNotify(r.Header)
		ctx = withDontNotify(ctx, ids, all)
	}
	req := &request{h: h, w: w, r: r, ctx: ctx, acct: acct, space: acct.Space}
	if req.path, err = req.settle(path); err != nil {
		return refuse(err)
	}
	if ok, err := settled(); !ok {
		return err
	}
	if req.path.isCollection() && !req.path.trailing {
		// Q25: serve the slash-less form, and name the canonical one.
		w.Header().Set("Content-Location", req.path.href())
	}
	switch r.Method {
	case http.MethodOptions:
		return req.options()
	case http.MethodGet, http.MethodHead:
		return req.get()
	case http.MethodPut:
		return req.put()
	case http.MethodDelete:
		return req.delete()
	case "PROPFIND":
		return req.propfind()
	case "PROPPATCH":
		return req.proppatch()
	case "REPORT":
		return req.report()
	case "MKCOL", "MKCALENDAR":
		return req.mkcol()
	case "COPY", "MOVE":
		return req.copyMove()
	case http.MethodPost:
		return req.post()
	default:
		return errStatus(http.StatusMethodNotAllowed, "the method is not supported here")
	}
}

// login checks the Basic credentials and maps refusals to answers.
func (h *handler) login(r *http.Request) (*Account, error) {
	user, pass, ok := r.BasicAuth()
	if !ok || h.auth == nil {
		return nil, errStatus(http.StatusUnauthorized, "authentication required")
	}
	acct, err := h.auth.Login(r.Context(), user, pass, r.RemoteAddr)
	var throttled *auth.Throttled
	var blocked *auth.Blocked
	switch {
	case err == nil && acct != nil && acct.Space != nil:
		return acct, nil
	case errors.Is(err, auth.ErrNotAUsername):
		h.refusals.note(r.RemoteAddr, "login refused", time.Now(), "reason", "not a possible username")
		return nil, errStatus(http.StatusUnauthorized, "invalid username or password")
	case errors.Is(err, auth.ErrBadCredentials):
		return nil, errStatus(http.StatusUnauthorized, "invalid username or password")
	case errors.As(err, &throttled):
		h.refusals.note(r.RemoteAddr, "login throttled", time.Now(), "retry_after", throttled.RetryAfter.Round(time.Second).String())
		return nil, &Error{Status: http.StatusServiceUnavailable, Message: "too many login attempts; try again later", RetryAfter: throttled.RetryAfter}
	case errors.As(err, &blocked):
		// A blocked account must never look empty: 403 with the reason.
		return nil, errCond(http.StatusForbidden, condNeedPrivileges, blocked.Reason)
	case err == nil:
		return nil, errInternal(errors.New("authenticator returned no account"))
	default:
		return nil, errInternal(err)
	}
}

// options answers OPTIONS on every resource (Q1: principals included).
func (q *request) options() error {
	res, err := q.resolve()
	if err != nil {
		return err
	}
	h := q.w.Header()
	h.Set("DAV", q.h.davHeader(res))
	h.Set("Allow", q.h.allowHeader(res))
	h.Set("Content-Length", "0")
	q.w.WriteHeader(http.StatusOK)
	return nil
}

// readXML reads an XML request body with a cap and parses it; an empty
// body gives nil.
func (q *request) readXML(limit int64) (*node, error) {
	if q.r.ContentLength > limit {
		return nil, errStatus(http.StatusRequestEntityTooLarge, "the request body is too large")
	}
	return parseXMLLimited(http.MaxBytesReader(q.w, q.r.Body, limit), q.h.limits.xml)
}

// storageErr maps storage failures that have a protocol meaning.
func storageErr(err error) error {
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return errStatus(http.StatusNotFound, "no such resource")
	case errors.Is(err, storage.ErrPrecondition):
		return errStatus(http.StatusPreconditionFailed, "the resource has changed")
	case errors.Is(err, storage.ErrExists):
		return errStatus(http.StatusMethodNotAllowed, "the resource already exists")
	case errors.Is(err, storage.ErrInvalid):
		return errStatus(http.StatusForbidden, "the source and the destination overlap")
	case errors.Is(err, storage.ErrLimit):
		return limitErr(err)
	}
	return errInternal(err)
}
