package storage

import "context"

// ChangeKind says what part of a resource a committed write changed.
type ChangeKind uint8

// The kinds of change, as WebDAV-Push's triggers tell them apart.
const (
	// ContentChanged: a member was added, changed or removed (for a home:
	// one of its collections).
	ContentChanged ChangeKind = 1 << iota
	// PropsChanged: the resource's own properties changed.
	PropsChanged
	// Removed: the collection is gone, with everything in it.
	Removed
)

// Changed is one resource that a committed write changed.
type Changed struct {
	Account int64
	// Collection is the collection's row id, or 0 when the change is of the
	// principal or of a home, which Scope then names.
	Collection int64
	Scope      Scope
	Kind       ChangeKind
	// Revision is the revision the write gave the collection, from which
	// its sync token is made; 0 for a scope.
	Revision int64
}

// ChangeHook receives the changes of every committed write, with the space
// the write went through (its keys still open), in the writer's goroutine:
// it must not block.
type ChangeHook func(ctx context.Context, s Space, changes []Changed)

// changeRecorder is a transaction's writer that notes what the write changes.
type changeRecorder struct {
	RowWriter
	account int64
	changes []Changed
}

// OnChange sets the hook that hears of every committed write of every
// space; nil stops it.
func (sp *Spaces) OnChange(h ChangeHook) {
	if h == nil {
		sp.hook.Store(nil)
		return
	}
	sp.hook.Store(&h)
}

// hookOf returns the hook, or nil.
func (sp *Spaces) hookOf() ChangeHook {
	if h := sp.hook.Load(); h != nil {
		return *h
	}
	return nil
}

// note adds a change, merging it into an earlier one of the same resource.
func (r *changeRecorder) note(c Changed) {
	c.Account = r.account
	for i := range r.changes {
		p := &r.changes[i]
		if p.Collection == c.Collection && p.Scope == c.Scope {
			p.Kind |= c.Kind
			p.Revision = max(p.Revision, c.Revision)
			return
		}
	}
	r.changes = append(r.changes, c)
}

// InsertCollection notes a new member of the collection's home.
func (r *changeRecorder) InsertCollection(ctx context.Context, c *CollectionRow) (int64, error) {
	id, err := r.RowWriter.InsertCollection(ctx, c)
	if err == nil {
		r.note(Changed{Scope: Scope(c.Home), Kind: ContentChanged})
	}
	return id, err
}

// DeleteCollection notes the collection gone, and its home changed.
func (r *changeRecorder) DeleteCollection(ctx context.Context, account int64, id int64) error {
	c, err := r.RowWriter.CollectionByID(ctx, account, id)
	if err != nil {
		return err
	}
	if err := r.RowWriter.DeleteCollection(ctx, account, id); err != nil {
		return err
	}
	r.note(Changed{Collection: id, Kind: Removed})
	r.note(Changed{Scope: Scope(c.Home), Kind: ContentChanged})
	return nil
}

// RenameCollection notes the homes the collection leaves and enters changed.
func (r *changeRecorder) RenameCollection(ctx context.Context, id int64, home Home, mac, sealed []byte, rev int64) error {
	c, err := r.RowWriter.CollectionByID(ctx, r.account, id)
	if err != nil {
		return err
	}
	if err := r.RowWriter.RenameCollection(ctx, id, home, mac, sealed, rev); err != nil {
		return err
	}
	r.note(Changed{Collection: id, Kind: ContentChanged | PropsChanged, Revision: rev})
	r.note(Changed{Scope: Scope(c.Home), Kind: ContentChanged})
	r.note(Changed{Scope: Scope(home), Kind: ContentChanged})
	return nil
}

// SetCollectionProps notes the collection's properties changed.
func (r *changeRecorder) SetCollectionProps(ctx context.Context, id int64, bytes, rev int64) error {
	if err := r.RowWriter.SetCollectionProps(ctx, id, bytes, rev); err != nil {
		return err
	}
	r.note(Changed{Collection: id, Kind: PropsChanged, Revision: rev})
	return nil
}

// PutChange notes a member of the collection changed.
func (r *changeRecorder) PutChange(ctx context.Context, collection int64, c ChangeRow) error {
	if err := r.RowWriter.PutChange(ctx, collection, c); err != nil {
		return err
	}
	r.note(Changed{Collection: collection, Kind: ContentChanged, Revision: c.Revision})
	return nil
}

// PutProp notes a property of the principal or a home changed; those of
// collections and objects are noted through their revisions.
func (r *changeRecorder) PutProp(ctx context.Context, o PropOwner, p PropRow) error {
	if err := r.RowWriter.PutProp(ctx, o, p); err != nil {
		return err
	}
	r.noteScope(o)
	return nil
}

// DeleteProp notes a property of the principal or a home removed.
func (r *changeRecorder) DeleteProp(ctx context.Context, o PropOwner, mac []byte) (*PropRow, error) {
	row, err := r.RowWriter.DeleteProp(ctx, o, mac)
	if err == nil {
		r.noteScope(o)
	}
	return row, err
}

// noteScope notes a property change of a scope's owner.
func (r *changeRecorder) noteScope(o PropOwner) {
	if o.Table == PropsOfScope {
		r.note(Changed{Scope: o.Scope, Kind: PropsChanged})
	}
}
