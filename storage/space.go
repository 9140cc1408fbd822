package storage

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Home names one of a user's two collection homes.
type Home string

// The two homes every user has.
const (
	HomeCalendars    Home = "calendars"
	HomeAddressBooks Home = "addressbooks"
)

// Kind says what a collection holds.
type Kind string

// Collection kinds.
const (
	KindCalendar    Kind = "calendar"
	KindAddressBook Kind = "addressbook"
	KindPlain       Kind = "plain" // a generic WebDAV collection
)

// Props maps a property, in Clark notation ("{DAV:}displayname"), to its
// stored value. Storage treats values as opaque bytes; the DAV layer owns
// their encoding.
type Props map[string][]byte

// Collection is one collection of a user, with its properties decrypted.
type Collection struct {
	ID       int64
	Home     Home
	Name     string // the path under the home; plain collections nest, as in "a/b"
	Kind     Kind
	Props    Props
	Revision int64 // rises with every change to a member or to the properties
	Created  time.Time
}

// Object is one stored resource. Body is nil unless it was asked for.
type Object struct {
	Name        string // the path segment under the collection
	ETag        string // strong entity tag, without quotes
	ContentType string
	Size        int64
	Modified    time.Time
	Revision    int64 // the collection revision at which it last changed
	Props       Props // dead properties
	Body        []byte
}

// ReadOptions say what a read of objects returns besides their metadata.
type ReadOptions struct {
	Body bool // the objects' bodies too
}

// Change is one entry of a collection's change log.
type Change struct {
	Name     string
	Revision int64
	Deleted  bool
	ETag     string // empty when Deleted
}

// NewCollection describes a collection to create.
type NewCollection struct {
	Home   Home
	Name   string
	Kind   Kind
	Props  Props
	Limits Limits // the collection count, the properties cap and the quota
}

// PutOptions describes an object write and its preconditions, which are
// checked in the same transaction as the write.
type PutOptions struct {
	Name        string
	UID         string // the iCalendar or vCard UID, unique within the collection; empty for none
	ContentType string
	Body        []byte
	IfMatch     string // entity tag without quotes, or "*"; empty for no condition
	IfNoneMatch bool   // If-None-Match: *
	Index       []byte // an opaque query index entry, sealed like the body; nil for none
	Limits      Limits // the quota and the object count; a replace is credited
	// KeepUID says that a replace must keep the UID of the object it
	// replaces, if that has one (RFC 4791 5.3.2.1, RFC 6352 6.3.2.1): a
	// *UIDConflict naming the object otherwise.
	KeepUID bool
}

// IndexEntry is the query index entry of one object.
type IndexEntry struct {
	Name  string
	ETag  string
	Index []byte // as given in PutOptions.Index; shared, must not be modified
}

// PutResult tells what a write did.
type PutResult struct {
	Object  Object
	Created bool
}

// DeleteOptions describes an object deletion and its precondition.
type DeleteOptions struct {
	IfMatch string // entity tag without quotes, or "*"; empty for no condition
}

// Scope names where properties of the account itself live.
type Scope string

// The scopes of account properties.
const (
	ScopePrincipal    Scope = "principal"
	ScopeCalendars    Scope = Scope(HomeCalendars)
	ScopeAddressBooks Scope = Scope(HomeAddressBooks)
)

// TransferOptions describes a COPY or MOVE.
type TransferOptions struct {
	Move      bool // remove the source
	Overwrite bool // replace an existing destination; otherwise it gives ErrPrecondition
	Shallow   bool // for collections: copy the collection and its properties only (Depth: 0)
	// UID is the object's UID as the protocol layer read it from the body,
	// when it did (into a calendar or address book); it is what the
	// destination's UID rule checks. Empty: the UID stored with the object.
	UID string
	// KeepUID says that an object replaced at the destination (Overwrite)
	// must have had the UID of the one that replaces it, if it had one
	// (RFC 4791 5.3.2.1, RFC 6352 6.3.2.1): a *UIDConflict naming it
	// otherwise.
	KeepUID bool
	// Limits apply to a COPY (the quota, and the object or collection
	// count); a MOVE adds nothing and is not checked.
	Limits Limits
	// ReplaceCollection is, for an object, the collection that stands where
	// it goes (an object put in the place of a collection), removed with
	// everything in it in the same transaction; 0 for none. It needs Overwrite.
	ReplaceCollection int64
	// ReplaceObjectIn is, for a collection, the collection holding an
	// object that stands where it goes (an object of the destination's last
	// name), removed in the same transaction; 0 for none. It needs Overwrite.
	ReplaceObjectIn int64
}

// PatchOptions describes a change of a resource's properties: removals,
// then settings.
type PatchOptions struct {
	Set    Props
	Remove []string
	Limits Limits // the properties cap and the quota
}

// TransferResult tells what a COPY or MOVE did.
type TransferResult struct {
	Created bool // the destination did not exist before
}

// Space is one user's data, opened with that user's keys. Every value that
// crosses it is plaintext; sealing happens inside. It is the seam where a
// second storage engine can go. A write given Limits checks them inside
// its own transaction and, refused, fails with a *LimitError and changes
// nothing.
type Space interface {
	// Collections lists the collections in home, ordered by creation.
	Collections(ctx context.Context, home Home) ([]Collection, error)
	// Collection returns one collection, or ErrNotFound.
	Collection(ctx context.Context, home Home, name string) (*Collection, error)
	// CreateCollection creates a collection, or fails with ErrExists or a *LimitError.
	CreateCollection(ctx context.Context, c NewCollection) (*Collection, error)
	// PatchCollection sets and removes properties and raises the revision;
	// it may fail with a *LimitError.
	PatchCollection(ctx context.Context, id int64, o PatchOptions) error
	// DeleteCollection removes a collection, the collections nested in it,
	// and everything in them.
	DeleteCollection(ctx context.Context, id int64) error
	// TransferCollection copies or moves a collection, with the collections
	// nested in it, to home and name, in one transaction; it may fail with a
	// *LimitError.
	TransferCollection(ctx context.Context, id int64, home Home, name string, o TransferOptions) (*TransferResult, error)

	// Objects lists the objects of a collection, without bodies.
	Objects(ctx context.Context, collection int64) ([]Object, error)
	// Object returns one object, or ErrNotFound.
	Object(ctx context.Context, collection int64, name string, o ReadOptions) (*Object, error)
	// ObjectsNamed returns the objects with the given names, in the order
	// asked and nil where a name has none.
	ObjectsNamed(ctx context.Context, collection int64, names []string, o ReadOptions) ([]*Object, error)
	// PutObject creates or replaces an object. It fails with ErrPrecondition,
	// a *UIDConflict or a *LimitError and then changes nothing.
	PutObject(ctx context.Context, collection int64, o PutOptions) (*PutResult, error)
	// DeleteObject removes an object, or fails with ErrNotFound or ErrPrecondition.
	DeleteObject(ctx context.Context, collection int64, name string, o DeleteOptions) error
	// PatchObject sets and removes dead properties of an object. It records
	// a change but keeps the ETag, which covers the body only. It may fail
	// with a *LimitError.
	PatchObject(ctx context.Context, collection int64, name string, o PatchOptions) error
	// TransferObject copies or moves an object with its properties, in one
	// transaction, recording changes on both sides. It fails with
	// ErrNotFound, ErrPrecondition, a *UIDConflict or a *LimitError and then
	// changes nothing.
	TransferObject(ctx context.Context, from int64, name string, to int64, toName string, o TransferOptions) (*TransferResult, error)
	// Index returns the index entries of every object of a collection and
	// the revision they reflect.
	Index(ctx context.Context, collection int64) ([]IndexEntry, int64, error)
	// Changes returns the latest change of every object that changed after
	// revision since, oldest first, and the collection's current revision.
	// A since beyond the current revision gives ErrBadRevision.
	Changes(ctx context.Context, collection int64, since int64) ([]Change, int64, error)

	// Props returns the properties of the principal or of a home.
	Props(ctx context.Context, scope Scope) (Props, error)
	// PatchProps sets and removes properties of the principal or of a home;
	// it may fail with a *LimitError.
	PatchProps(ctx context.Context, scope Scope, o PatchOptions) error
	// Usage returns the bytes the user's objects, names and properties take.
	Usage(ctx context.Context) (int64, error)
	// Counts returns the number of the user's collections and the number
	// and size of the objects in one of them (0 for none).
	Counts(ctx context.Context, collection int64) (Counts, error)

	// PushSubscriptions: the collections' push subscriptions and topics (push.go).
	PushSubscriptions
}

// Errors returned by Space.
var (
	ErrNotFound     = errors.New("storage: not found")
	ErrExists       = errors.New("storage: already exists")
	ErrPrecondition = errors.New("storage: precondition failed")
	ErrBadRevision  = errors.New("storage: unknown revision")
	ErrInvalid      = errors.New("storage: invalid request") // e.g. moving a collection into itself
	// ErrFull wraps a write that failed because the disk (or the
	// database's size limit) is full; it changed nothing, and the same
	// write succeeds once space returns.
	ErrFull = errors.New("storage: the disk is full")
	// ErrDamaged wraps a read that found a record of an object missing or
	// failing to open: a sealed value blanked, put back from an older copy
	// or moved from another row by whoever can write the database. It is
	// never answered with an empty or an older value.
	ErrDamaged = errors.New("storage: a record is damaged")
)

// DamagedError names the object whose record is damaged, by its
// collection's row id and its name MAC, never by its name or content.
type DamagedError struct {
	Collection int64
	NameMAC    []byte
	Field      string // the record: body, index, content type, uid or name
	Err        error  // what failed; nil when the record is missing
}

// Error names the object by name MAC and collection id, and the record.
func (e *DamagedError) Error() string {
	what := "is missing"
	if e.Err != nil {
		what = "fails to open: " + e.Err.Error()
	}
	return fmt.Sprintf("storage: object %x of collection %d: its %s %s", e.NameMAC, e.Collection, e.Field, what)
}

// Is makes a DamagedError match ErrDamaged.
func (e *DamagedError) Is(target error) bool { return target == ErrDamaged }

// Unwrap returns the cause.
func (e *DamagedError) Unwrap() error { return e.Err }

// UIDConflict reports that another object in the collection has the same UID.
type UIDConflict struct {
	Name string // the other object's name
}

func (e *UIDConflict) Error() string { return fmt.Sprintf("storage: UID already used by %q", e.Name) }

// Size returns the bytes the properties count for against the quota: their
// names and values.
func (p Props) Size() int64 {
	var n int64
	for k, v := range p {
		n += int64(len(k) + len(v))
	}
	return n
}

// Charge returns the bytes the object counts for against the quota and
// its collection's total: body, name and dead properties.
func (o *Object) Charge() int64 { return o.Size + int64(len(o.Name)) + o.Props.Size() }
