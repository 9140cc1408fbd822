package storage

import (
	"context"
	"errors"
	"fmt"
)

// propOwner names the resource whose properties are read or written: its
// rows, as the engine keys them, and what they are bound to
// (propBinding). Each property is a row of its own, so that setting one
// writes one row, whatever else is stored.
type propOwner struct {
	row  PropOwner
	bind propBinding
}

// PatchObject sets and removes dead properties of an object.
func (s *sealedSpace) PatchObject(ctx context.Context, collection int64, name string, o PatchOptions) error {
	return s.update(ctx, func(w RowWriter) error {
		ref, err := s.ref(ctx, w, collection)
		if err != nil {
			return err
		}
		mac := s.seal.objectMAC(ref.uid, name)
		row, err := s.objectRow(ctx, w, ref.id, mac)
		if err != nil {
			return err
		}
		rev, err := w.NextRevision(ctx, s.user)
		if err != nil {
			return err
		}
		owner := s.objectOwner(row.ID, ref.uid, mac)
		oldMeta := row.MetaBytes
		meta := oldMeta
		if row.PropsSealed != nil {
			moved, err := s.moveLegacy(ctx, w, owner, row.PropsSealed, rev)
			if err != nil {
				return err
			}
			meta = int64(len(name)) + moved // the exact size, where the old one was estimated
		}
		delta, err := s.patchRows(ctx, w, owner, o.Set, o.Remove, rev)
		if err != nil {
			return err
		}
		meta += delta
		names := int64(len(name))
		if err := checkProps(o.Limits, oldMeta-names, meta-names); err != nil {
			return err
		}
		if err := w.MoveCounts(ctx, ref.id, rev, 0, meta-oldMeta); err != nil {
			return err
		}
		if err := w.SetObjectMeta(ctx, row.ID, meta, rev); err != nil {
			return err
		}
		if err := s.checkQuota(ctx, w, o.Limits, meta-oldMeta, 0); err != nil {
			return err
		}
		return s.logChange(ctx, w, ref.id, mac, row.NameSealed, rev, false, pastLive)
	})
}

// PatchCollection sets and removes properties and raises the revision.
func (s *sealedSpace) PatchCollection(ctx context.Context, id int64, o PatchOptions) error {
	return s.update(ctx, func(w RowWriter) error {
		c, err := w.CollectionByID(ctx, s.user, id)
		if err != nil {
			return err
		}
		rev, err := w.NextRevision(ctx, s.user)
		if err != nil {
			return err
		}
		owner := s.collectionOwner(id, c.UID)
		before, bytes := c.PropsBytes, c.PropsBytes
		if len(c.PropsSealed) > 0 {
			if bytes, err = s.moveLegacy(ctx, w, owner, c.PropsSealed, rev); err != nil {
				return err
			}
		}
		delta, err := s.patchRows(ctx, w, owner, o.Set, o.Remove, rev)
		if err != nil {
			return err
		}
		if err := checkProps(o.Limits, before, bytes+delta); err != nil {
			return err
		}
		if err := w.SetCollectionProps(ctx, id, bytes+delta, rev); err != nil {
			return err
		}
		return s.checkQuota(ctx, w, o.Limits, bytes+delta-before, 0)
	})
}

// Props returns the properties of the principal or of a home.
func (s *sealedSpace) Props(ctx context.Context, scope Scope) (Props, error) {
	r := s.sp.eng.Reader()
	legacy, err := r.ScopeLegacy(ctx, s.user, scope)
	if err != nil {
		return nil, err
	}
	p := Props{}
	if legacy != nil {
		if p, err = s.seal.openLegacyProps(s.seal.scopeBinding(scope), legacy); err != nil {
			return nil, err
		}
	}
	if err := s.loadProps(ctx, r, s.scopeOwner(scope), p); err != nil {
		return nil, err
	}
	return p, nil
}

// PatchProps sets and removes properties of the principal or of a home.
func (s *sealedSpace) PatchProps(ctx context.Context, scope Scope, o PatchOptions) error {
	return s.update(ctx, func(w RowWriter) error {
		rev, err := w.NextRevision(ctx, s.user)
		if err != nil {
			return err
		}
		owner := s.scopeOwner(scope)
		before, err := w.ScopeBytes(ctx, s.user, scope)
		if err != nil {
			return err
		}
		legacy, err := w.TakeScopeLegacy(ctx, s.user, scope)
		if err != nil {
			return err
		}
		if legacy != nil {
			if _, err := s.moveLegacy(ctx, w, owner, legacy, rev); err != nil {
				return err
			}
		}
		if _, err = s.patchRows(ctx, w, owner, o.Set, o.Remove, rev); err != nil {
			return err
		}
		after, err := w.ScopeBytes(ctx, s.user, scope)
		if err != nil {
			return err
		}
		if err := checkProps(o.Limits, before, after); err != nil {
			return err
		}
		return s.checkQuota(ctx, w, o.Limits, after-before, 0)
	})
}

// Usage returns the bytes the user's objects, names and properties take.
func (s *sealedSpace) Usage(ctx context.Context) (int64, error) {
	return s.sp.eng.Reader().Usage(ctx, s.user)
}

func (s *sealedSpace) collectionOwner(id int64, uid []byte) propOwner {
	return propOwner{row: PropOwner{Table: PropsOfCollection, ID: id}, bind: s.seal.collectionBinding(uid)}
}

func (s *sealedSpace) objectOwner(id int64, coll, mac []byte) propOwner {
	return propOwner{row: PropOwner{Table: PropsOfObject, ID: id}, bind: s.seal.objectBinding(coll, mac)}
}

func (s *sealedSpace) scopeOwner(scope Scope) propOwner {
	return propOwner{row: PropOwner{Table: PropsOfScope, ID: s.user, Scope: scope}, bind: s.seal.scopeBinding(scope)}
}

// String names the owner by its kind and row id only.
func (o propOwner) String() string {
	switch o.row.Table {
	case PropsOfCollection:
		return fmt.Sprintf("collection %d", o.row.ID)
	case PropsOfObject:
		return fmt.Sprintf("object %d", o.row.ID)
	}
	return fmt.Sprintf("account %d (%s)", o.row.ID, o.row.Scope)
}

// damagedProps reports a property set that does not add up, naming its
// owner by kind and row id only.
func damagedProps(o propOwner, why string) error {
	return fmt.Errorf("%w: the properties of %s %s", ErrDamaged, o, why)
}

// damaged names the owner in a propDamage from the sealer; other errors,
// and nil, pass as they are.
func (o propOwner) damaged(err error) error {
	var why propDamage
	if errors.As(err, &why) {
		return damagedProps(o, string(why))
	}
	return err
}

// readDigest returns the owner's digest as stored, zero when it has none.
func (s *sealedSpace) readDigest(ctx context.Context, r RowReader, o propOwner) (propDigest, error) {
	var d propDigest
	row, err := r.Prop(ctx, o.row, digestMAC)
	if errors.Is(err, ErrNotFound) {
		return d, nil
	}
	if err != nil {
		return d, err
	}
	d, err = s.seal.openDigest(o.bind, row.Revision, row.ValueSealed)
	return d, o.damaged(err)
}

// loadProps adds the properties stored in the owner's rows to p.
func (s *sealedSpace) loadProps(ctx context.Context, r RowReader, o propOwner, p Props) error {
	rows, err := r.Props(ctx, o.row)
	if err != nil {
		return err
	}
	return s.openPropRows(rows, func(int64) (propOwner, Props) { return o, p })
}

// openPropRows opens property rows and adds each to the set that owner
// gives for its owner's id; an id it has no set for is skipped.
func (s *sealedSpace) openPropRows(rows []PropRow, owner func(id int64) (propOwner, Props)) error {
	type tally struct {
		o     propOwner
		check *propCheck
	}
	sums := map[int64]*tally{}
	for _, row := range rows {
		o, p := owner(row.Owner)
		if p == nil {
			continue
		}
		t := sums[row.Owner]
		if t == nil {
			t = &tally{o: o, check: s.seal.checkProps(o.bind)}
			sums[row.Owner] = t
		}
		name, value, ok, err := t.check.open(row.NameMAC, row.Revision, row.ValueSealed)
		if err != nil {
			return o.damaged(err)
		}
		if ok {
			p[name] = value
		}
	}
	for _, t := range sums {
		if err := t.check.done(); err != nil {
			return t.o.damaged(err)
		}
	}
	return nil
}

// insertProps writes p as the rows of an owner that has none, and returns
// the bytes they count for.
func (s *sealedSpace) insertProps(ctx context.Context, w RowWriter, o propOwner, p Props, rev int64) (int64, error) {
	_, err := s.patchRows(ctx, w, o, p, nil, rev)
	return p.Size(), err
}

// patchRows applies removals, then settings, to the owner's rows, each
// property its own row, and returns the change of the bytes they count for.
func (s *sealedSpace) patchRows(ctx context.Context, w RowWriter, o propOwner, set Props, remove []string, rev int64) (int64, error) {
	if len(set) == 0 && len(remove) == 0 {
		return 0, nil
	}
	stored, err := s.readDigest(ctx, w, o)
	if err != nil {
		return 0, err
	}
	patch := s.seal.patchProps(o.bind, stored)
	var delta int64
	for _, name := range remove {
		if _, again := set[name]; again {
			continue
		}
		mac := s.seal.nameMAC(o.bind, name)
		old, err := w.DeleteProp(ctx, o.row, mac)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return 0, err
		}
		delta -= old.Bytes
		patch.remove(mac, old.Revision)
	}
	for name, value := range set {
		mac := s.seal.nameMAC(o.bind, name)
		var oldBytes int64
		switch old, err := w.Prop(ctx, o.row, mac); {
		case err == nil:
			oldBytes = old.Bytes
			patch.remove(mac, old.Revision)
		case !errors.Is(err, ErrNotFound):
			return 0, err
		}
		size := int64(len(name) + len(value))
		if err := w.PutProp(ctx, o.row, PropRow{NameMAC: mac, ValueSealed: patch.write(mac, rev, name, value), Bytes: size, Revision: rev}); err != nil {
			return 0, err
		}
		delta += size - oldBytes
	}
	return delta, w.PutProp(ctx, o.row, PropRow{NameMAC: digestMAC, ValueSealed: patch.sealDigest(rev), Revision: rev})
}

// moveLegacy opens a property set sealed whole, as every one was before
// properties had rows, writes it as the owner's rows, and returns the bytes
// it counts for. The caller clears the old value in the same transaction.
func (s *sealedSpace) moveLegacy(ctx context.Context, w RowWriter, o propOwner, sealed []byte, rev int64) (int64, error) {
	p, err := s.seal.openLegacyProps(o.bind, sealed)
	if err != nil {
		return 0, err
	}
	return s.insertProps(ctx, w, o, p, rev)
}
