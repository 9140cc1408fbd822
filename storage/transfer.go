package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
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
func (s *sqliteSpace) TransferObject(ctx context.Context, from int64, name string, to int64, toName string, o TransferOptions) (*TransferResult, error) {
	if from == to && name == toName {
		return nil, ErrInvalid
	}
	var out *TransferResult
	err := s.db.inTx(ctx, func(tx *sql.Tx) error {
		if o.ReplaceCollection != 0 {
			if !o.Overwrite {
				return ErrPrecondition
			}
			if err := s.deleteTree(ctx, tx, o.ReplaceCollection); err != nil {
				return err
			}
		}
		src, err := s.ref(ctx, tx, from)
		if err != nil {
			return err
		}
		dst, err := s.ref(ctx, tx, to)
		if err != nil {
			return err
		}
		srcMAC := s.seal.objectMAC(src.uid, name)
		row := tx.QueryRowContext(ctx, `SELECT `+sealedColumns+` FROM `+sealedTables+` WHERE o.collection_id = ? AND o.name_mac = ?`, src.id, srcMAC)
		obj, err := s.openRow(ctx, tx, src, row.Scan)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		dstMAC := s.seal.objectMAC(dst.uid, toName)
		var exists bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM objects WHERE collection_id = ? AND name_mac = ?)`, dst.id, dstMAC).Scan(&exists); err != nil {
			return fmt.Errorf("storage: read object: %w", err)
		}
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
		if macs := s.seal.uidLookups(dst, obj); macs != nil {
			// The object being moved away does not conflict with itself.
			skip := []byte{}
			if o.Move && src.id == dst.id {
				skip = srcMAC
			}
			if err := s.checkUID(ctx, tx, dst, macs, dstMAC, skip); err != nil {
				return err
			}
		}
		// The source goes first, so that a rename keeps the UID unique.
		if o.Move {
			if err := s.removeObject(ctx, tx, src, srcMAC); err != nil {
				return err
			}
		}
		// Records are bound to their collection and name: writeObject seals them anew.
		obj.name = toName
		if _, err := s.writeObject(ctx, tx, dst, obj); err != nil {
			return err
		}
		out = &TransferResult{Created: !exists}
		return nil
	})
	return out, err
}

// TransferCollection copies or moves a collection and the collections nested in it.
func (s *sqliteSpace) TransferCollection(ctx context.Context, id int64, home Home, name string, o TransferOptions) (*TransferResult, error) {
	var out *TransferResult
	err := s.db.inTx(ctx, func(tx *sql.Tx) error {
		all, err := s.tree(ctx, tx)
		if err != nil {
			return err
		}
		src := findID(all, id)
		if src == nil {
			return ErrNotFound
		}
		// Neither into itself nor onto one of its ancestors.
		if home == src.Home && (within(name, src.Name) || within(src.Name, name)) {
			return ErrInvalid
		}
		existing := subtree(all, home, name)
		if len(existing) > 0 && !o.Overwrite {
			return ErrPrecondition
		}
		var used int64
		if !o.Move && !o.Shallow && o.Limits.QuotaBytes > 0 {
			if used, err = s.usage(ctx, tx); err != nil {
				return err
			}
		}
		if o.ReplaceObjectIn != 0 {
			if !o.Overwrite {
				return ErrPrecondition
			}
			if err := s.removeNamed(ctx, tx, o.ReplaceObjectIn, path.Base(name)); err != nil {
				return err
			}
		}
		for _, c := range existing {
			if _, err := tx.ExecContext(ctx, `DELETE FROM collections WHERE id = ?`, c.ID); err != nil {
				return fmt.Errorf("storage: replace collection: %w", err)
			}
		}
		moving := subtree(all, src.Home, src.Name)
		if o.Shallow {
			moving = moving[:1]
		}
		for _, c := range moving {
			newName := name + strings.TrimPrefix(c.Name, src.Name)
			if o.Move {
				err = s.renameCollection(ctx, tx, c, home, newName)
			} else {
				err = s.copyCollection(ctx, tx, c, home, newName, !o.Shallow)
			}
			if err != nil {
				return err
			}
		}
		if !o.Move {
			if err := s.checkCopyLimits(ctx, tx, o, int64(len(all)), used); err != nil {
				return err
			}
		}
		out = &TransferResult{Created: len(existing) == 0}
		return nil
	})
	return out, err
}

// removeNamed removes the object name of collection id, if there is one.
func (s *sqliteSpace) removeNamed(ctx context.Context, tx *sql.Tx, id int64, name string) error {
	ref, err := s.ref(ctx, tx, id)
	if err != nil {
		return err
	}
	mac := s.seal.objectMAC(ref.uid, name)
	var exists bool
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM objects WHERE collection_id = ? AND name_mac = ?)`, ref.id, mac).Scan(&exists); err != nil {
		return fmt.Errorf("storage: read object: %w", err)
	}
	if !exists {
		return nil
	}
	return s.removeObject(ctx, tx, ref, mac)
}

// checkCopyLimits refuses a collection COPY, written in tx, that took the
// user's collections beyond their cap from before, or their bytes beyond
// the quota from used; what the copy replaced is credited. A shallow copy
// adds properties only, which the quota does not check, as before.
func (s *sqliteSpace) checkCopyLimits(ctx context.Context, tx *sql.Tx, o TransferOptions, before, used int64) error {
	after, err := s.collectionCount(ctx, tx)
	if err != nil {
		return err
	}
	if err := checkCollections(o.Limits, before, after); err != nil {
		return err
	}
	if o.Shallow || o.Limits.QuotaBytes <= 0 {
		return nil
	}
	now, err := s.usage(ctx, tx)
	if err != nil {
		return err
	}
	return s.checkQuota(ctx, tx, o.Limits, now-used, 0)
}

// tree returns every collection of the user, with names opened.
func (s *sqliteSpace) tree(ctx context.Context, tx *sql.Tx) ([]treeEntry, error) {
	rows, err := tx.QueryContext(ctx, `SELECT `+collectionColumns+` FROM collections WHERE account_id = ? ORDER BY id`, s.user)
	if err != nil {
		return nil, fmt.Errorf("storage: list collections: %w", err)
	}
	var cs []Collection
	var uids [][]byte
	for rows.Next() {
		c, uid, err := s.scanCollectionUID(rows.Scan)
		if err != nil {
			rows.Close()
			return nil, err
		}
		cs, uids = append(cs, *c), append(uids, uid)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if err := s.collectionProps(ctx, tx, `c.account_id = ?`, []any{s.user}, cs, uids); err != nil {
		return nil, err
	}
	out := make([]treeEntry, len(cs))
	for i := range cs {
		out[i] = treeEntry{Collection: cs[i], uid: uids[i]}
	}
	return out, nil
}

// renameCollection gives a collection a new home and name. Its records are
// bound to its random id, not its name, so only the name is sealed anew.
func (s *sqliteSpace) renameCollection(ctx context.Context, tx *sql.Tx, c treeEntry, home Home, name string) error {
	rev, err := s.nextRevision(ctx, tx)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `UPDATE collections SET home = ?, name_mac = ?, name_sealed = ?, revision = ? WHERE id = ?`,
		string(home), s.seal.collectionMAC(home, name), s.seal.sealCollectionName(c.uid, name), rev, c.ID)
	if err != nil {
		return fmt.Errorf("storage: rename collection: %w", err)
	}
	return nil
}

// copyCollection creates a copy of c at home and name, with its members
// when withMembers is set, every record sealed under the copy's new id.
func (s *sqliteSpace) copyCollection(ctx context.Context, tx *sql.Tx, c treeEntry, home Home, name string, withMembers bool) error {
	uid, err := randomID()
	if err != nil {
		return err
	}
	rev, err := s.nextRevision(ctx, tx)
	if err != nil {
		return err
	}
	res, err := tx.ExecContext(ctx,
		`INSERT INTO collections (account_id, home, kind, uid, name_mac, name_sealed, props_sealed, props_bytes, revision, created_rev, created_at) VALUES (?, ?, ?, ?, ?, ?, X'', ?, ?, ?, ?)`,
		s.user, string(home), string(c.Kind), uid, s.seal.collectionMAC(home, name), s.seal.sealCollectionName(uid, name), c.Props.Size(), rev, rev, time.Now().Unix())
	if err != nil {
		return fmt.Errorf("storage: copy collection: %w", err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return err
	}
	if _, err := s.insertProps(ctx, tx, s.collectionOwner(id, uid), c.Props, rev); err != nil {
		return err
	}
	if !withMembers {
		return nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT `+sealedColumns+` FROM `+sealedTables+` WHERE o.collection_id = ?`, c.ID)
	if err != nil {
		return fmt.Errorf("storage: read objects: %w", err)
	}
	var members []*plainObject
	for rows.Next() {
		obj, err := s.openRow(ctx, nil, collectionRef{id: c.ID, uid: c.uid}, rows.Scan)
		if err != nil {
			rows.Close()
			return err
		}
		members = append(members, obj)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	dst := collectionRef{id: id, uid: uid}
	for _, obj := range members {
		if err := s.loadProps(ctx, tx, s.objectOwner(obj.id, c.uid, obj.mac), obj.props); err != nil {
			return err
		}
	}
	for _, obj := range members {
		if _, err := s.writeObject(ctx, tx, dst, obj); err != nil {
			return err
		}
	}
	return nil
}

// sealedColumns are the object columns that openRow reads, from sealedTables.
const (
	sealedColumns = `o.id, o.name_mac, o.name_sealed, o.uid_mac, o.etag, o.ctype_sealed, b.body_sealed, o.props_sealed, o.index_sealed, o.seal_v, o.sealed_rev, o.uid_sealed`
	// A LEFT JOIN, so that a body row gone reads as damage, not as no object.
	sealedTables = `objects o LEFT JOIN object_bodies b ON b.object_id = o.id`
)

// openRow reads a row of sealedColumns and opens every sealed field. With
// a transaction at hand it reads the object's property rows too; without
// one (while other rows are being read), the caller loads them into props.
func (s *sqliteSpace) openRow(ctx context.Context, tx *sql.Tx, ref collectionRef, scan func(...any) error) (*plainObject, error) {
	var mac, name, uidMAC, ctype, body, props, index, uid []byte
	var v, rev int64
	o := &plainObject{}
	if err := scan(&o.id, &mac, &name, &uidMAC, &o.etag, &ctype, &body, &props, &index, &v, &rev, &uid); err != nil {
		return nil, err
	}
	if err := s.seal.openObject(ref, mac, name, uidMAC, ctype, body, index, uid, v, rev, o); err != nil {
		return nil, err
	}
	var err error
	if o.props, err = s.seal.openLegacyProps(s.seal.objectBinding(ref.uid, mac), props); err != nil {
		return nil, fmt.Errorf("storage: open object: %w", err)
	}
	if tx != nil {
		if err := s.loadProps(ctx, tx, s.objectOwner(o.id, ref.uid, mac), o.props); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// writeObject creates or replaces an object from plaintext and logs the change.
func (s *sqliteSpace) writeObject(ctx context.Context, tx *sql.Tx, dst collectionRef, p *plainObject) (*Object, error) {
	name, etag, ctype, body, props := p.name, p.etag, p.ctype, p.body, p.props
	mac := s.seal.objectMAC(dst.uid, name)
	var id, oldSize, oldMeta int64
	var legacy []byte
	replaced := true
	switch err := tx.QueryRowContext(ctx, `SELECT id, size, meta_bytes, props_sealed FROM objects WHERE collection_id = ? AND name_mac = ?`, dst.id, mac).Scan(&id, &oldSize, &oldMeta, &legacy); {
	case errors.Is(err, sql.ErrNoRows):
		replaced = false
	case err != nil:
		return nil, fmt.Errorf("storage: read object: %w", err)
	}
	added := int64(1)
	if replaced {
		added = 0
	}
	oldCharge := oldSize + oldMeta
	meta := int64(len(name)) + props.Size()
	keep := p.keepProps && replaced
	if keep {
		meta = oldMeta // the same name, and the properties stay as they are
	} else {
		legacy = nil
	}
	delta := int64(len(body)) + meta - oldCharge
	if err := s.checkQuota(ctx, tx, p.limits, delta, delta); err != nil {
		return nil, err
	}
	if !replaced {
		if err := checkObjects(ctx, tx, p.limits, dst.id); err != nil {
			return nil, err
		}
	}
	rev, err := s.bumpCounting(ctx, tx, dst.id, added, delta)
	if err != nil {
		return nil, err
	}
	now := time.Now().UTC().Truncate(time.Second)
	sealedName := s.seal.sealObjectName(dst.uid, mac, name)
	c := s.sealContent(dst, mac, rev, p)
	if replaced {
		_, err = tx.ExecContext(ctx,
			`UPDATE objects SET etag = ?, size = ?, meta_bytes = ?, modified_at = ?, revision = ?, uid_mac = ?, name_sealed = ?, ctype_sealed = ?, index_sealed = ?, props_sealed = ?,
			 seal_v = ?, sealed_rev = ?, uid_sealed = ? WHERE id = ?`,
			etag, len(body), meta, now.Unix(), rev, c.uidMAC, sealedName, c.ctype, c.index, legacy, c.v, c.rev, c.uid, id)
		if err == nil {
			// An upsert: a body row found missing is written again.
			_, err = tx.ExecContext(ctx, `INSERT INTO object_bodies (object_id, body_sealed) VALUES (?, ?)
				ON CONFLICT (object_id) DO UPDATE SET body_sealed = excluded.body_sealed`, id, c.body)
		}
		if err == nil && !keep {
			_, err = tx.ExecContext(ctx, `DELETE FROM object_props WHERE object_id = ?`, id)
		}
	} else {
		var res sql.Result
		res, err = tx.ExecContext(ctx,
			`INSERT INTO objects (collection_id, name_mac, etag, size, meta_bytes, modified_at, revision, uid_mac, name_sealed, ctype_sealed, index_sealed, seal_v, sealed_rev, uid_sealed)
			 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			dst.id, mac, etag, len(body), meta, now.Unix(), rev, c.uidMAC, sealedName, c.ctype, c.index, c.v, c.rev, c.uid)
		if err == nil {
			id, err = res.LastInsertId()
		}
		if err == nil {
			_, err = tx.ExecContext(ctx, `INSERT INTO object_bodies (object_id, body_sealed) VALUES (?, ?)`, id, c.body)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("storage: write object: %w", err)
	}
	if !keep {
		if _, err := s.insertProps(ctx, tx, s.objectOwner(id, dst.uid, mac), props, rev); err != nil {
			return nil, err
		}
	}
	if err := s.logChange(ctx, tx, dst.id, mac, sealedName, rev, false); err != nil {
		return nil, err
	}
	return &Object{Name: name, ETag: etag, ContentType: string(ctype), Size: int64(len(body)), Modified: now, Revision: rev, Props: props}, nil
}

// removeObject deletes an object row and logs the deletion.
func (s *sqliteSpace) removeObject(ctx context.Context, tx *sql.Tx, c collectionRef, mac []byte) error {
	var sealedName []byte
	var size int64
	if err := tx.QueryRowContext(ctx, `SELECT name_sealed, size + meta_bytes FROM objects WHERE collection_id = ? AND name_mac = ?`, c.id, mac).Scan(&sealedName, &size); err != nil {
		return fmt.Errorf("storage: read object: %w", err)
	}
	rev, err := s.bumpCounting(ctx, tx, c.id, -1, -size)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM objects WHERE collection_id = ? AND name_mac = ?`, c.id, mac); err != nil {
		return fmt.Errorf("storage: delete object: %w", err)
	}
	return s.logChange(ctx, tx, c.id, mac, sealedName, rev, true)
}

// checkUID fails with a *UIDConflict when another object of the collection
// than self and skip has one of the UID MACs (the forms one UID takes).
func (s *sqliteSpace) checkUID(ctx context.Context, tx *sql.Tx, c collectionRef, uidMACs [][]byte, self, skip []byte) error {
	var otherMAC, otherName []byte
	args := []any{c.id, self, skip}
	for _, m := range uidMACs {
		args = append(args, m)
	}
	err := tx.QueryRowContext(ctx, `SELECT name_mac, name_sealed FROM objects WHERE collection_id = ? AND name_mac <> ? AND name_mac <> ? AND uid_mac IN (?`+strings.Repeat(", ?", len(uidMACs)-1)+`)`,
		args...).Scan(&otherMAC, &otherName)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("storage: check uid: %w", err)
	}
	name, err := s.seal.openObjectName(c.uid, otherMAC, otherName)
	if err != nil {
		return fmt.Errorf("storage: open object name: %w", err)
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
