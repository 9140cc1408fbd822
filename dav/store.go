package dav

import (
	"context"
	"errors"
	"mime"
	"net/http"

	"github.com/coffer-dav/coffer/dav/ical"
	"github.com/coffer-dav/coffer/storage"
)

// WriteLimits are the caps StoreObject applies to one object: those of a
// handler, from Options.WriteLimits. The zero value stands for the
// defaults of Options.
type WriteLimits struct {
	maxResourceSize int64
	calendar        ical.Options   // caps of the recurrence expansion that indexing does
	store           storage.Limits // checked by the engine in the write's transaction
}

// StoreOptions describes one object to store as PUT stores it.
type StoreOptions struct {
	User        string // the owner's username, for the href a UID conflict names
	Name        string // the object's name in the collection
	ContentType string // as the client sent it; only a plain collection keeps it
	Body        []byte
	IfMatch     string // entity tag without quotes, or "*"; empty for no condition
	IfNoneMatch bool   // If-None-Match: *
	Limits      WriteLimits
}

// WriteLimits returns the caps a handler built from o applies to every
// object it stores, with the defaults filled in.
func (o Options) WriteLimits() WriteLimits {
	l := newLimits(o)
	size := o.MaxResourceSize
	if size <= 0 {
		size = defaultMaxResourceSize
	}
	return WriteLimits{maxResourceSize: size, calendar: l.calendar, store: l.store}
}

// Storage returns the limits the storage engine checks inside the
// transaction of a write: the quota and the counts and sizes it keeps.
func (l WriteLimits) Storage() storage.Limits {
	if l == (WriteLimits{}) {
		l = Options{}.WriteLimits()
	}
	return l.store
}

// StoreObject validates one object and stores it in coll exactly as PUT
// does (RFC 4791 5.3.2, RFC 6352 6.3.2), never re-encoded: into a calendar
// only valid iCalendar with a UID of its own and the components the
// calendar accepts, indexed for queries; into an address book only a valid
// vCard; into a plain collection anything, with the client's content type.
// Every refusal is an *Error with the HTTP status and the condition PUT
// answers with: the size limit, validity, UID conflicts, If-Match and
// If-None-Match, and the limits, which the storage engine checks in the
// write's own transaction.
func StoreObject(ctx context.Context, space storage.Space, coll *storage.Collection, o StoreOptions) (*storage.PutResult, error) {
	l := o.Limits
	if l == (WriteLimits{}) {
		l = Options{}.WriteLimits()
	}
	if int64(len(o.Body)) > l.maxResourceSize {
		return nil, errTooLarge(coll)
	}
	// A replace in a calendar or address book keeps its UID (RFC 4791
	// 5.3.2.1, RFC 6352 6.3.2.1), checked in the write's transaction.
	opts := storage.PutOptions{Name: o.Name, Body: o.Body, IfMatch: o.IfMatch, IfNoneMatch: o.IfNoneMatch, KeepUID: coll.Kind != storage.KindPlain, Limits: l.store}
	var err error
	switch coll.Kind {
	case storage.KindCalendar:
		var obj *ical.Object
		opts.UID, obj, err = validateCalendar(o.Body, supportedComponents(coll))
		opts.ContentType = calendarContentType
		if err == nil {
			opts.Index, err = calendarIndex(obj, coll, l.calendar)
		}
	case storage.KindAddressBook:
		opts.UID, err = validateVCard(o.Body)
		opts.ContentType = vcardContentType
	default:
		opts.ContentType = o.ContentType
		if _, _, perr := mime.ParseMediaType(opts.ContentType); perr != nil {
			opts.ContentType = "application/octet-stream"
		}
	}
	if err != nil {
		return nil, asError(err)
	}
	res, err := space.PutObject(ctx, coll.ID, opts)
	switch {
	case err == nil:
		return res, nil
	case uidConflict(err, o.User, coll, o.Name) != nil:
		return nil, uidConflict(err, o.User, coll, o.Name)
	case errors.Is(err, storage.ErrPrecondition):
		return nil, errStatus(http.StatusPreconditionFailed, "the resource has changed or exists already")
	case errors.Is(err, storage.ErrNotFound):
		return nil, errStatus(http.StatusConflict, "the parent collection does not exist")
	}
	return nil, storageErr(err)
}

// errTooLarge is the answer for a body beyond the size limit of objects
// in coll (RFC 4791 5.3.2.1, RFC 6352 6.3.2.1).
func errTooLarge(coll *storage.Collection) *Error {
	cond := condCalendarMaxSize
	if coll.Kind == storage.KindAddressBook {
		cond = condAddressMaxSize
	}
	return errCond(http.StatusForbidden, cond, "the resource exceeds the size limit")
}

// uidConflict maps a *storage.UIDConflict of a write of name to 403
// no-uid-conflict with the href of the object of user's collection coll
// that holds the UID: another object, or the one written, which held
// another UID (RFC 4791 5.3.2.1, RFC 6352 6.3.2.1); nil for any other error.
func uidConflict(err error, user string, coll *storage.Collection, name string) *Error {
	var conflict *storage.UIDConflict
	if !errors.As(err, &conflict) {
		return nil
	}
	cond := condCalendarNoUIDConflict
	if coll.Kind == storage.KindAddressBook {
		cond = condAddressNoUIDConflict
	}
	msg := "another resource in this collection has the same UID"
	if conflict.Name == name {
		msg = "the resource has another UID; an object of a new UID needs a new name"
	}
	e := errCond(http.StatusForbidden, cond, msg)
	e.Href = objectHref(user, coll.Home, coll.Name, conflict.Name)
	return e
}

// StorageError returns the answer DAV gives for an error of a storage
// call: a refusal for one of the limits, a missing resource, a failed
// precondition, or a server failure; an *Error stays as it is.
func StorageError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return asError(storageErr(err))
}
