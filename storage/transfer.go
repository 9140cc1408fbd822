package storage

import (
	"bytes"
	"context"
	"errors"
	"path"
	"strings"
	"time"
)

// treeEntry is a collection with the random id its records are bound to.
type treeEntry struct {
	Collection
	uid []byte
}

// plainObject is an object's content before sealing.
type plainObject struct {
	name      string
	uid       string // the UID, "" for none, when uidKnown
	uidKnown  bool   // false for a legacy row with a UID: only its legacyMAC is known
	legacyMAC []byte // the UID MAC of a legacy row, not bound to its collection
	etag      string
	ctype     []byte
	body      []byte
	index     []byte
	props     Props
	id        int64  // the row it was read from, if any
	mac       []byte // its name MAC there
	// keepProps says that a replace keeps the properties already stored
	// (PUT); props is then unused.
	keepProps bool
	// limits are the quota and the object count the write must meet.
	limits Limits
}

// TransferObject copies or moves an object with its properties in one transaction.
func (s *sealedSpace) TransferObject(ctx context.Context, from int64, name string, to int64, toName string, o TransferOptions) (*TransferResult, error) {
	if from == to && name == toName {
		return nil, ErrInvalid
	}
	var out *TransferResult
	err := s.update(ctx, func(w RowWriter) error {
		if o.ReplaceCollection != 0 {
			if !o.Overwrite {
				return ErrPrecondition
			}
			if err := s.deleteTree(ctx, w, o.ReplaceCollection); err != nil {
				return err
			}
		}
		src, err := s.ref(ctx, w, from)
		if err != nil {
			return err
		}
		dst, err := s.ref(ctx, w, to)
		if err != nil {
			return err
		}
		srcMAC := s.seal.objectMAC(src.uid, name)
		rows, err := w.Objects(ctx, src.id, ObjectQuery{NameMACs: [][]byte{srcMAC}, Body: true})
		if err != nil {
			return err
		}
		if len(rows) == 0 {
			return ErrNotFound
		}
		obj, err := s.openRow(src, &rows[0])
		if err != nil {
			return err
		}
		if err := s.loadProps(ctx, w, s.objectOwner(obj.id, src.uid, srcMAC), obj.props); err != nil {
			return err
		}
		dstMAC := s.seal.objectMAC(dst.uid, toName)
		there, err := s.objectRow(ctx, w, dst.id, dstMAC)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		exists := there != nil
		if exists && !o.Overwrite {
			return ErrPrecondition
		}
		if o.UID != "" {
			obj.uid, obj.uidKnown = o.UID, true
		}
		obj.limits = o.Limits
		if o.Move {
			obj.limits.QuotaBytes = 0 // a move adds nothing but a name
		}
		if exists && o.KeepUID {
			if err := s.keepsUID(dst, there, obj); err != nil {
				return err
			}
		}
		if macs := s.seal.uidLookups(dst, obj); macs != nil {
			except := [][]byte{dstMAC}
			if o.Move && src.id == dst.id {
				except = append(except, srcMAC) // the object being moved away does not conflict with itself
			}
			if err := s.checkUID(ctx, w, dst, macs, except...); err != nil {
				return err
			}
		}
		// The source goes first, so that a rename keeps the UID unique.
		if o.Move {
			if err := s.removeObject(ctx, w, src, &rows[0]); err != nil {
				return err
			}
		}
		// Records are bound to their collection and name: writeObject seals them anew.
		obj.name = toName
		if _, err := s.writeObject(ctx, w, dst, there, obj, nil); err != nil {
			return err
		}
		out = &TransferResult{Created: !exists}
		return nil
	})
	return out, err
}

// TransferCollection copies or moves a collection and the collections nested in it.
func (s *sealedSpace) TransferCollection(ctx context.Context, id int64, home Home, name string, o TransferOptions) (*TransferResult, error) {
	var out *TransferResult
	err := s.update(ctx, func(w RowWriter) error {
		all, src, err := s.treeOf(ctx, w, id)
		if err != nil {
			return err
		}
		// Neither onto itself, nor into itself, nor onto one of its ancestors.
		if home == src.Home && (name == src.Name || within(name, src.Name) || within(src.Name, name)) {
			return ErrInvalid
		}
		existing := subtree(all, home, name)
		if len(existing) > 0 && !o.Overwrite {
			return ErrPrecondition
		}
		var used int64
		if !o.Move && !o.Shallow && o.Limits.QuotaBytes > 0 {
			if used, err = w.Usage(ctx, s.user); err != nil {
				return err
			}
		}
		if o.ReplaceObjectIn != 0 {
			if !o.Overwrite {
				return ErrPrecondition
			}
			if err := s.removeNamed(ctx, w, o.ReplaceObjectIn, path.Base(name)); err != nil {
				return err
			}
		}
		for _, c := range existing {
			if err := w.DeleteCollection(ctx, s.user, c.ID); err != nil {
				return err
			}
		}
		moving := subtree(all, src.Home, src.Name)
		if o.Shallow {
			moving = moving[:1]
		}
		for _, c := range moving {
			newName := name + strings.TrimPrefix(c.Name, src.Name)
			if o.Move {
				err = s.renameCollection(ctx, w, c, home, newName)
			} else {
				err = s.copyCollection(ctx, w, c, home, newName, !o.Shallow)
			}
			if err != nil {
				return err
			}
		}
		if !o.Move {
			if err := s.checkCopyLimits(ctx, w, o, int64(len(all)), used); err != nil {
				return err
			}
		}
		out = &TransferResult{Created: len(existing) == 0}
		return nil
	})
	return out, err
}

// removeNamed removes the object name of collection id, if there is one.
func (s *sealedSpace) removeNamed(ctx context.Context, w RowWriter, id int64, name string) error {
	ref, err := s.ref(ctx, w, id)
	if err != nil {
		return err
	}
	row, err := s.objectRow(ctx, w, ref.id, s.seal.objectMAC(ref.uid, name))
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	return s.removeObject(ctx, w, ref, row)
}

// checkCopyLimits refuses a collection COPY, written in w, that took the
// user's collections beyond their cap from before, or their bytes beyond
// the quota from used; what the copy replaced is credited. A shallow copy
// adds properties only, which the quota does not check, as before.
func (s *sealedSpace) checkCopyLimits(ctx context.Context, w RowWriter, o TransferOptions, before, used int64) error {
	after, err := s.collectionCount(ctx, w)
	if err != nil {
		return err
	}
	if err := checkCollections(o.Limits, before, after); err != nil {
		return err
	}
	if o.Shallow || o.Limits.QuotaBytes <= 0 {
		return nil
	}
	now, err := w.Usage(ctx, s.user)
	if err != nil {
		return err
	}
	return s.checkQuota(ctx, w, o.Limits, now-used, 0)
}

// treeOf returns every collection of the user, with names and properties
// opened, and the one with row id id among them, or ErrNotFound.
func (s *sealedSpace) treeOf(ctx context.Context, w RowWriter, id int64) ([]treeEntry, *treeEntry, error) {
	rows, err := w.Collections(ctx, s.user, "")
	if err != nil {
		return nil, nil, err
	}
	all, err := s.openCollections(ctx, w, rows)
	if err != nil {
		return nil, nil, err
	}
	src := findID(all, id)
	if src == nil {
		return nil, nil, ErrNotFound
	}
	return all, src, nil
}

// renameCollection gives a collection a new home and name. Its records are
// bound to its random id, not its name, so only the name is sealed anew.
func (s *sealedSpace) renameCollection(ctx context.Context, w RowWriter, c treeEntry, home Home, name string) error {
	rev, err := w.NextRevision(ctx, s.user)
	if err != nil {
		return err
	}
	return w.RenameCollection(ctx, c.ID, home, s.seal.collectionMAC(home, name), s.seal.sealCollectionName(c.uid, name), rev)
}

// copyCollection creates a copy of c at home and name, with its members
// when withMembers is set, every record sealed under the copy's new id.
func (s *sealedSpace) copyCollection(ctx context.Context, w RowWriter, c treeEntry, home Home, name string, withMembers bool) error {
	uid, err := randomID()
	if err != nil {
		return err
	}
	id, _, err := s.insertCollection(ctx, w, home, name, c.Kind, uid, c.Props, time.Now())
	if err != nil {
		return err
	}
	if !withMembers {
		return nil
	}
	src := collectionRef{id: c.ID, uid: c.uid}
	rows, err := w.Objects(ctx, c.ID, ObjectQuery{Body: true, Props: true})
	if err != nil {
		return err
	}
	members := make([]*plainObject, len(rows))
	for i := range rows {
		if members[i], err = s.openRow(src, &rows[i]); err != nil {
			return err
		}
	}
	plain := make([]*Object, len(members))
	for i, m := range members {
		plain[i] = &Object{Props: m.props}
	}
	if err := s.objectProps(src, rows, plain); err != nil {
		return err
	}
	dst := collectionRef{id: id, uid: uid}
	for _, obj := range members {
		if _, err := s.writeObject(ctx, w, dst, nil, obj, nil); err != nil {
			return err
		}
	}
	return nil
}

// openRow opens every sealed field of an object row read with its body;
// the caller adds the property rows to its props.
func (s *sealedSpace) openRow(ref collectionRef, row *ObjectRow) (*plainObject, error) {
	o := &plainObject{id: row.ID, etag: row.ETag}
	if err := s.seal.openObject(ref, row.NameMAC, row.NameSealed, row.UIDMAC, row.CtypeSealed, row.BodySealed, row.IndexSealed, row.UIDSealed, row.SealV, row.SealedRev, o); err != nil {
		return nil, err
	}
	var err error
	if o.props, err = s.seal.openLegacyProps(s.seal.objectBinding(ref.uid, row.NameMAC), row.PropsSealed); err != nil {
		return nil, err
	}
	return o, nil
}

// writeObject creates or replaces (when current, the row at its name, is
// not nil) an object from plaintext and logs the change. pre, when not
// nil, holds the usage and counts that p's limits check and the change
// log's last entry of the name, read in this transaction before its
// first write.
func (s *sealedSpace) writeObject(ctx context.Context, w RowWriter, dst collectionRef, current *ObjectRow, p *plainObject, pre *PutState) (*Object, error) {
	name, etag, ctype, body, props := p.name, p.etag, p.ctype, p.body, p.props
	mac := s.seal.objectMAC(dst.uid, name)
	replaced := current != nil
	var oldCharge, oldMeta int64
	var legacy []byte
	added := int64(1)
	if replaced {
		added, oldCharge, oldMeta, legacy = 0, current.Size+current.MetaBytes, current.MetaBytes, current.PropsSealed
	}
	meta := int64(len(name)) + props.Size()
	keep := p.keepProps && replaced
	if keep {
		meta = oldMeta // the same name, and the properties stay as they are
	} else {
		legacy = nil
	}
	delta := int64(len(body)) + meta - oldCharge
	usage := func() (int64, error) { return w.Usage(ctx, s.user) }
	counts := func() (Counts, error) { return w.Counts(ctx, s.user, dst.id) }
	if pre != nil {
		usage = func() (int64, error) { return pre.Usage, nil }
		counts = func() (Counts, error) { return pre.Counts, nil }
	}
	if err := quotaCheck(p.limits, delta, delta, usage); err != nil {
		return nil, err
	}
	if !replaced {
		if err := objectsCheck(p.limits, counts); err != nil {
			return nil, err
		}
	}
	rev, err := s.bumpCounting(ctx, w, dst.id, added, delta)
	if err != nil {
		return nil, err
	}
	now := time.Now().UTC().Truncate(time.Second)
	c := s.sealContent(dst, mac, rev, p)
	row := &ObjectRow{Collection: dst.id, NameMAC: mac, NameSealed: s.seal.sealObjectName(dst.uid, mac, name), UIDMAC: c.uidMAC, ETag: etag,
		CtypeSealed: c.ctype, BodySealed: c.body, PropsSealed: legacy, IndexSealed: c.index, UIDSealed: c.uid,
		Size: int64(len(body)), MetaBytes: meta, Modified: now.Unix(), Revision: rev, SealV: c.v, SealedRev: c.rev}
	if replaced {
		row.ID = current.ID
		err = w.UpdateObject(ctx, row)
		if err == nil && !keep {
			err = w.ClearProps(ctx, PropOwner{Table: PropsOfObject, ID: row.ID})
		}
	} else {
		row.ID, err = w.InsertObject(ctx, row)
	}
	if err != nil {
		return nil, err
	}
	if !keep {
		if _, err := s.insertProps(ctx, w, s.objectOwner(row.ID, dst.uid, mac), props, rev); err != nil {
			return nil, err
		}
	}
	past := pastUnknown
	switch {
	case replaced:
		past = pastLive
	case pre != nil && pre.LastDeleted:
		past = pastDeleted
	case pre != nil:
		past = pastLive
	}
	if err := s.logChange(ctx, w, dst.id, mac, row.NameSealed, rev, false, past); err != nil {
		return nil, err
	}
	return &Object{Name: name, ETag: etag, ContentType: string(ctype), Size: int64(len(body)), Modified: now, Revision: rev, Props: props}, nil
}

// removeObject deletes an object row and logs the deletion.
func (s *sealedSpace) removeObject(ctx context.Context, w RowWriter, c collectionRef, row *ObjectRow) error {
	rev, err := s.bumpCounting(ctx, w, c.id, -1, -(row.Size + row.MetaBytes))
	if err != nil {
		return err
	}
	if err := w.DeleteObject(ctx, c.id, row.NameMAC); err != nil {
		return err
	}
	return s.logChange(ctx, w, c.id, row.NameMAC, row.NameSealed, rev, true, pastLive)
}

// checkUID fails with a *UIDConflict when an object of the collection
// other than those of except has one of the UID MACs (the forms one UID
// takes).
func (s *sealedSpace) checkUID(ctx context.Context, w RowWriter, c collectionRef, uidMACs [][]byte, except ...[]byte) error {
	otherMAC, otherName, err := w.UIDHolder(ctx, c.id, uidMACs, except)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	return s.uidConflict(c, otherMAC, otherName)
}

// uidConflict is the *UIDConflict naming the object of collection c with
// name MAC otherMAC and sealed name otherName.
func (s *sealedSpace) uidConflict(c collectionRef, otherMAC, otherName []byte) error {
	name, err := s.seal.openObjectName(c.uid, otherMAC, otherName)
	if err != nil {
		return damaged(c.id, otherMAC, recordName, err)
	}
	return &UIDConflict{Name: name}
}

// keepsUID fails with a *UIDConflict naming row's object when p, about
// to replace it in collection c, has not its UID: row has one and p
// another or none (RFC 4791 5.3.2.1, RFC 6352 6.3.2.1). A row without a
// UID may take any. The UID MACs are compared, in both of their forms;
// when p's UID is known only in the legacy form and row's is bound to c,
// row's UID is opened to compare legacy forms.
func (s *sealedSpace) keepsUID(c collectionRef, row *ObjectRow, p *plainObject) error {
	if len(row.UIDMAC) == 0 {
		return nil
	}
	for _, m := range s.seal.uidLookups(c, p) {
		if bytes.Equal(m, row.UIDMAC) {
			return nil
		}
	}
	if !p.uidKnown {
		uid, known, err := s.seal.openUID(c, row.NameMAC, row.SealV, row.SealedRev, row.UIDSealed, row.UIDMAC)
		if err != nil {
			return err
		}
		if known && bytes.Equal(s.seal.legacyUIDMAC(uid), p.legacyMAC) {
			return nil
		}
	}
	name, err := s.seal.openObjectName(c.uid, row.NameMAC, row.NameSealed)
	if err != nil {
		return damaged(c.id, row.NameMAC, recordName, err)
	}
	return &UIDConflict{Name: name}
}

// findID returns the collection with id, or nil.
func findID(all []treeEntry, id int64) *treeEntry {
	for i := range all {
		if all[i].ID == id {
			return &all[i]
		}
	}
	return nil
}

// subtree returns the collection named name in home and those nested in it,
// the collection itself first.
func subtree(all []treeEntry, home Home, name string) []treeEntry {
	var top, below []treeEntry
	for _, c := range all {
		switch {
		case c.Home != home:
		case c.Name == name:
			top = append(top, c)
		case within(c.Name, name):
			below = append(below, c)
		}
	}
	return append(top, below...)
}

// within reports whether name is nested below parent.
func within(name, parent string) bool { return strings.HasPrefix(name, parent+"/") }
