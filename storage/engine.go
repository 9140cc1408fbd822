package storage

import (
	"context"
	"errors"
)

// An engine is a store of opaque rows: the sealed layer (Spaces) over it
// turns them into a user's collections, objects and properties. An engine
// holds SQL only. It never sees a key, a plaintext name, body or property,
// and never seals or opens anything; every []byte it is given it keeps as
// it is, nil (NULL) and empty alike, and gives back the same. Row ids are
// the engine's; revisions are drawn by NextRevision inside the writing
// transaction, never ahead of it, so a revision a reader sees belongs to a
// committed write and no later commit can carry a lower one.
//
// Engines answer ErrNotFound for a row that is not there, ErrExists for a
// collection name MAC already taken by the account, and wrap ErrFull when
// the database has no room; the sealed layer turns rows into everything
// else.

// CollectionRow is one row of a user's collections.
type CollectionRow struct {
	ID           int64
	Account      int64
	Home         Home
	Kind         Kind
	UID          []byte // the random id every record of the collection is bound to
	NameMAC      []byte
	NameSealed   []byte
	PropsSealed  []byte // a property set sealed whole, as stored before property rows; empty for none
	PropsBytes   int64  // what the collection's properties count for
	Revision     int64
	CreatedRev   int64 // the revision it was created at
	ForgottenRev int64 // the newest revision of a deletion dropped from its change log
	Created      int64 // Unix seconds
	ObjectCount  int64
	ObjectBytes  int64 // what its objects count for (Object.Charge)
}

// ObjectRow is one row of a collection's objects, with its body row.
type ObjectRow struct {
	ID          int64
	Collection  int64
	NameMAC     []byte
	NameSealed  []byte
	UIDMAC      []byte // nil for no UID
	ETag        string
	CtypeSealed []byte
	BodySealed  []byte // only when asked for; nil when the body row is missing
	PropsSealed []byte // a property set sealed whole, as stored before property rows; nil for none
	IndexSealed []byte
	UIDSealed   []byte
	Size        int64 // the body's length
	MetaBytes   int64 // what its name and properties count for
	Modified    int64 // Unix seconds
	Revision    int64
	SealV       int64     // the seal version of its content
	SealedRev   int64     // the revision its content was sealed at
	Props       []PropRow // only when asked for (ObjectQuery.Props): its property rows
}

// ObjectQuery selects objects of one collection.
type ObjectQuery struct {
	NameMACs   [][]byte // these names only; nil for all, ordered by revision
	Body       bool     // read the body rows too
	Props      bool     // read each object's property rows too (ObjectRow.Props)
	LegacyOnly bool     // only rows in seal version 0, with ID above After, by ID, at most Limit
	After      int64
	Limit      int
}

// PutQuery asks for what a write of one object checks before it writes.
type PutQuery struct {
	Account    int64
	Collection int64
	NameMAC    []byte   // the object's name
	UIDMACs    [][]byte // the forms of its UID; nil for no UID check
	Counts     bool     // read Counts of the account and the collection
	Usage      bool     // read the account's Usage
}

// PutState is what a PutQuery asks for, read in one snapshot.
type PutState struct {
	UID        []byte     // the collection's random id
	Current    *ObjectRow // the row, without body, at NameMAC; nil for none
	HolderMAC  []byte     // an object other than NameMAC's with one of UIDMACs; nil for none
	HolderName []byte     // its sealed name
	Counts     Counts     // when asked for
	Usage      int64      // when asked for
	// LastDeleted is whether the collection's change log holds a
	// deletion as the last change of NameMAC (never when Current is set).
	LastDeleted bool
}

// ChangeRow is a collection's latest change of one object name, with what
// the object row holds now when there is one.
type ChangeRow struct {
	NameMAC    []byte
	NameSealed []byte // as the change log holds it
	Revision   int64
	Deleted    bool
	// Object is the object's row now (without body and properties), or nil
	// when there is none.
	Object *ObjectRow
}

// PropTable names whose property rows a PropOwner keys.
type PropTable int

// The owners of property rows.
const (
	PropsOfCollection PropTable = iota + 1 // keyed by the collection's row id
	PropsOfObject                          // keyed by the object's row id
	PropsOfScope                           // keyed by the account and a Scope
)

// PropOwner names the resource whose property rows are read or written.
type PropOwner struct {
	Table PropTable
	ID    int64 // the collection's or the object's row id, or the account for a scope
	Scope Scope // for PropsOfScope
}

// PropRow is one property row: one property, or the owner's digest row,
// whose name MAC is empty.
type PropRow struct {
	Owner       int64 // the owner's ID, in reads of several owners
	NameMAC     []byte
	ValueSealed []byte
	Bytes       int64
	Revision    int64
}

// Engine runs reads and writes of rows.
type Engine interface {
	// Reader returns a reader whose every call sees the latest commit.
	Reader() RowReader
	// View runs fn over one consistent snapshot, read only.
	View(ctx context.Context, fn func(RowReader) error) error
	// Update runs fn in one transaction, after every earlier write of the
	// account has committed and before any later one, and returns once it
	// is durable; an error from fn undoes all of it.
	Update(ctx context.Context, account int64, fn func(RowWriter) error) error
}

// RowReader reads rows.
type RowReader interface {
	PushRowReader
	// Collections lists an account's collections in home, or in both for
	// "", by row id.
	Collections(ctx context.Context, account int64, home Home) ([]CollectionRow, error)
	// CollectionNamed returns the account's collection with a name MAC
	// and its property rows, or ErrNotFound.
	CollectionNamed(ctx context.Context, account int64, mac []byte) (*CollectionRow, []PropRow, error)
	// CollectionByID returns the account's collection with a row id, or ErrNotFound.
	CollectionByID(ctx context.Context, account int64, id int64) (*CollectionRow, error)
	// CollectionProps returns the property rows of the given collections.
	CollectionProps(ctx context.Context, ids []int64) ([]PropRow, error)
	// Objects returns the object rows that q selects; a name with none has no row.
	Objects(ctx context.Context, collection int64, q ObjectQuery) ([]ObjectRow, error)
	// Props returns the property rows of one owner.
	Props(ctx context.Context, o PropOwner) ([]PropRow, error)
	// Prop returns one property row of an owner, or ErrNotFound.
	Prop(ctx context.Context, o PropOwner, mac []byte) (*PropRow, error)
	// Changes returns the account's collection row and its change log
	// after revision since, by revision, both as of one moment, or
	// ErrNotFound when the account has no such collection.
	Changes(ctx context.Context, account, collection, since int64) (*CollectionRow, []ChangeRow, error)
	// UIDHolder returns the name MAC and sealed name of an object of the
	// collection, other than those named in except, whose UID MAC is one
	// of uidMACs; ErrNotFound when there is none.
	UIDHolder(ctx context.Context, collection int64, uidMACs, except [][]byte) (mac, nameSealed []byte, err error)
	// ScopeLegacy returns the property set of an account's scope sealed
	// whole, as stored before property rows, or nil.
	ScopeLegacy(ctx context.Context, account int64, scope Scope) ([]byte, error)
	// ScopeBytes returns what the properties of an account's scope count
	// for, in rows and sealed whole.
	ScopeBytes(ctx context.Context, account int64, scope Scope) (int64, error)
	// Usage returns what all of an account's collections, objects and
	// properties count for.
	Usage(ctx context.Context, account int64) (int64, error)
	// Counts returns the account's collections, and the objects and bytes
	// of one of them (0 for none, or one not the account's).
	Counts(ctx context.Context, account int64, collection int64) (Counts, error)
}

// RowWriter reads and writes rows in one transaction.
type RowWriter interface {
	RowReader
	PushRowWriter
	// PutState returns what q asks for, or ErrNotFound when q.Collection
	// is not the account's: in one statement where a round trip costs,
	// else as ReadPutState does.
	PutState(ctx context.Context, q PutQuery) (*PutState, error)
	// NextRevision raises the account's revision counter and returns it.
	NextRevision(ctx context.Context, account int64) (int64, error)
	// InsertCollection adds a collection row and returns its id, or ErrExists.
	InsertCollection(ctx context.Context, c *CollectionRow) (int64, error)
	// DeleteCollection removes an account's collection row and every row
	// that belongs to it.
	DeleteCollection(ctx context.Context, account int64, id int64) error
	// RenameCollection gives a collection a new home, name and revision,
	// which is also its CreatedRev from then on: a token taken before it
	// came to stand at this name must not hold there.
	RenameCollection(ctx context.Context, id int64, home Home, mac, sealed []byte, rev int64) error
	// SetCollectionProps notes a collection's property bytes and
	// revision, and empties its PropsSealed.
	SetCollectionProps(ctx context.Context, id int64, bytes, rev int64) error
	// MoveCounts sets a collection's revision and moves its object count
	// and bytes by the given amounts.
	MoveCounts(ctx context.Context, collection int64, rev, objects, bytes int64) error
	// NextCountedRevision is NextRevision, then MoveCounts of a collection
	// with that revision, and returns it.
	NextCountedRevision(ctx context.Context, account, collection, objects, bytes int64) (int64, error)
	// InsertObject adds an object row and its body row, and returns its id.
	InsertObject(ctx context.Context, o *ObjectRow) (int64, error)
	// UpdateObject writes every field of the object row o.ID but its
	// collection and name MAC, and writes (or adds) its body row.
	UpdateObject(ctx context.Context, o *ObjectRow) error
	// SetObjectMeta sets an object's meta bytes and revision and clears
	// its PropsSealed.
	SetObjectMeta(ctx context.Context, id int64, meta, rev int64) error
	// ResealObject writes the content of a row still in seal version 0:
	// SealV, SealedRev, CtypeSealed, IndexSealed, UIDSealed, UIDMAC and the
	// body; false when the row is gone or no longer in version 0.
	ResealObject(ctx context.Context, o *ObjectRow) (bool, error)
	// DeleteObject removes an object row and everything that belongs to it.
	DeleteObject(ctx context.Context, collection int64, mac []byte) error
	// ClearProps removes every property row of an owner.
	ClearProps(ctx context.Context, o PropOwner) error
	// PutProp adds or replaces one property row of an owner.
	PutProp(ctx context.Context, o PropOwner, p PropRow) error
	// DeleteProp removes one property row and returns it, or ErrNotFound.
	DeleteProp(ctx context.Context, o PropOwner, mac []byte) (*PropRow, error)
	// TakeScopeLegacy removes and returns the property set of an account's
	// scope sealed whole, or nil.
	TakeScopeLegacy(ctx context.Context, account int64, scope Scope) ([]byte, error)
	// LastChange returns whether a collection's change log holds an entry
	// for a name MAC, and whether it is a deletion.
	LastChange(ctx context.Context, collection int64, mac []byte) (found, deleted bool, err error)
	// PutChange adds or replaces the change log entry of c.NameMAC.
	PutChange(ctx context.Context, collection int64, c ChangeRow) error
	// AddTombstones moves a collection's count of deletions in its change
	// log by step and returns the new count.
	AddTombstones(ctx context.Context, collection int64, step int64) (int64, error)
	// ForgetTombstones removes the oldest n deletions of a collection's
	// change log, lowers its count of them, and raises its ForgottenRev to
	// the newest revision removed.
	ForgetTombstones(ctx context.Context, collection int64, n int64) error
}

// ReadPutState reads what q asks for with r's other reads, one after the
// other: the PutState of an engine without round trips.
func ReadPutState(ctx context.Context, r RowWriter, q PutQuery) (*PutState, error) {
	c, err := r.CollectionByID(ctx, q.Account, q.Collection)
	if err != nil {
		return nil, err
	}
	st := &PutState{UID: c.UID}
	rows, err := r.Objects(ctx, q.Collection, ObjectQuery{NameMACs: [][]byte{q.NameMAC}})
	if err != nil {
		return nil, err
	}
	if len(rows) > 0 {
		st.Current = &rows[0]
	}
	if q.UIDMACs != nil {
		st.HolderMAC, st.HolderName, err = r.UIDHolder(ctx, q.Collection, q.UIDMACs, [][]byte{q.NameMAC})
		if err != nil && !errors.Is(err, ErrNotFound) {
			return nil, err
		}
	}
	if st.Current == nil { // a live object's name has no deletion as its last change
		if _, st.LastDeleted, err = r.LastChange(ctx, q.Collection, q.NameMAC); err != nil {
			return nil, err
		}
	}
	if q.Counts {
		if st.Counts, err = r.Counts(ctx, q.Account, q.Collection); err != nil {
			return nil, err
		}
	}
	if q.Usage {
		if st.Usage, err = r.Usage(ctx, q.Account); err != nil {
			return nil, err
		}
	}
	return st, nil
}
