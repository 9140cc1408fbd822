package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// propOwner names the resource whose properties are read or written: the
// table of its property rows, the columns and values that key them, and
// what its rows are bound to (propBinding). Each property is a row of its
// own, so that setting one writes one row, whatever else is stored.
type propOwner struct {
	table string
	cols  []string // the key columns, before name_mac
	key   []any
	bind  propBinding
}

// PatchObject sets and removes dead properties of an object.
func (s *sqliteSpace) PatchObject(ctx context.Context, collection int64, name string, o PatchOptions) error {
	return s.db.inTx(ctx, func(tx *sql.Tx) error {
		ref, err := s.ref(ctx, tx, collection)
		if err != nil {
			return err
		}
		mac := s.seal.objectMAC(ref.uid, name)
		var id, oldMeta int64
		var sealedName, legacy []byte
		err = tx.QueryRowContext(ctx, `SELECT id, name_sealed, props_sealed, meta_bytes FROM objects WHERE collection_id = ? AND name_mac = ?`, ref.id, mac).Scan(&id, &sealedName, &legacy, &oldMeta)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("storage: read object: %w", err)
		}
		rev, err := s.nextRevision(ctx, tx)
		if err != nil {
			return err
		}
		owner := s.objectOwner(id, ref.uid, mac)
		meta := oldMeta
		if legacy != nil {
			moved, err := s.moveLegacy(ctx, tx, owner, legacy, rev)
			if err != nil {
				return err
			}
			meta = int64(len(name)) + moved // the exact size, where the old one was estimated
		}
		delta, err := s.patchRows(ctx, tx, owner, o.Set, o.Remove, rev)
		if err != nil {
			return err
		}
		meta += delta
		names := int64(len(name))
		if err := checkProps(o.Limits, oldMeta-names, meta-names); err != nil {
			return err
		}
		if err := s.moveCounts(ctx, tx, ref.id, rev, 0, meta-oldMeta); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE objects SET props_sealed = NULL, meta_bytes = ?, revision = ? WHERE id = ?`, meta, rev, id); err != nil {
			return fmt.Errorf("storage: update object: %w", err)
		}
		if err := s.checkQuota(ctx, tx, o.Limits, meta-oldMeta, 0); err != nil {
			return err
		}
		return s.logChange(ctx, tx, ref.id, mac, sealedName, rev, false)
	})
}

// PatchCollection sets and removes properties and raises the revision.
func (s *sqliteSpace) PatchCollection(ctx context.Context, id int64, o PatchOptions) error {
	return s.db.inTx(ctx, func(tx *sql.Tx) error {
		var uid, legacy []byte
		var bytes int64
		err := tx.QueryRowContext(ctx, `SELECT uid, props_sealed, props_bytes FROM collections WHERE id = ? AND account_id = ?`, id, s.user).Scan(&uid, &legacy, &bytes)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("storage: read collection: %w", err)
		}
		rev, err := s.nextRevision(ctx, tx)
		if err != nil {
			return err
		}
		owner := s.collectionOwner(id, uid)
		before := bytes
		if len(legacy) > 0 {
			if bytes, err = s.moveLegacy(ctx, tx, owner, legacy, rev); err != nil {
				return err
			}
		}
		delta, err := s.patchRows(ctx, tx, owner, o.Set, o.Remove, rev)
		if err != nil {
			return err
		}
		if err := checkProps(o.Limits, before, bytes+delta); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE collections SET props_sealed = X'', props_bytes = ?, revision = ? WHERE id = ?`, bytes+delta, rev, id); err != nil {
			return fmt.Errorf("storage: update collection: %w", err)
		}
		return s.checkQuota(ctx, tx, o.Limits, bytes+delta-before, 0)
	})
}

// Props returns the properties of the principal or of a home.
func (s *sqliteSpace) Props(ctx context.Context, scope Scope) (Props, error) {
	p := Props{}
	var legacy []byte
	err := s.db.read.QueryRowContext(ctx, `SELECT props_sealed FROM account_props WHERE account_id = ? AND scope = ?`, s.user, string(scope)).Scan(&legacy)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("storage: read account properties: %w", err)
	}
	if legacy != nil {
		if p, err = s.seal.openLegacyProps(s.seal.scopeBinding(scope), legacy); err != nil {
			return nil, err
		}
	}
	if err := s.loadProps(ctx, s.db.read, s.scopeOwner(scope), p); err != nil {
		return nil, err
	}
	return p, nil
}

// PatchProps sets and removes properties of the principal or of a home.
func (s *sqliteSpace) PatchProps(ctx context.Context, scope Scope, o PatchOptions) error {
	return s.db.inTx(ctx, func(tx *sql.Tx) error {
		rev, err := s.nextRevision(ctx, tx)
		if err != nil {
			return err
		}
		owner := s.scopeOwner(scope)
		before, err := s.scopeBytes(ctx, tx, scope)
		if err != nil {
			return err
		}
		var legacy []byte
		err = tx.QueryRowContext(ctx, `DELETE FROM account_props WHERE account_id = ? AND scope = ? RETURNING props_sealed`, s.user, string(scope)).Scan(&legacy)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("storage: read account properties: %w", err)
		}
		if legacy != nil {
			if _, err := s.moveLegacy(ctx, tx, owner, legacy, rev); err != nil {
				return err
			}
		}
		if _, err = s.patchRows(ctx, tx, owner, o.Set, o.Remove, rev); err != nil {
			return err
		}
		after, err := s.scopeBytes(ctx, tx, scope)
		if err != nil {
			return err
		}
		if err := checkProps(o.Limits, before, after); err != nil {
			return err
		}
		return s.checkQuota(ctx, tx, o.Limits, after-before, 0)
	})
}

// scopeBytes returns the bytes the properties of scope count for, in rows
// and in the whole set sealed before them.
func (s *sqliteSpace) scopeBytes(ctx context.Context, tx *sql.Tx, scope Scope) (int64, error) {
	var n int64
	err := tx.QueryRowContext(ctx, `SELECT coalesce((SELECT sum(bytes) FROM scope_props WHERE account_id = ?1 AND scope = ?2), 0)
		+ coalesce((SELECT sum(bytes) FROM account_props WHERE account_id = ?1 AND scope = ?2), 0)`, s.user, string(scope)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("storage: read account properties: %w", err)
	}
	return n, nil
}

// Usage returns the bytes the user's objects, names and properties take.
func (s *sqliteSpace) Usage(ctx context.Context) (int64, error) {
	return s.usage(ctx, s.db.read)
}

func (s *sqliteSpace) collectionOwner(id int64, uid []byte) propOwner {
	return propOwner{table: "collection_props", cols: []string{"collection_id"}, key: []any{id}, bind: s.seal.collectionBinding(uid)}
}

func (s *sqliteSpace) objectOwner(id int64, coll, mac []byte) propOwner {
	return propOwner{table: "object_props", cols: []string{"object_id"}, key: []any{id}, bind: s.seal.objectBinding(coll, mac)}
}

func (s *sqliteSpace) scopeOwner(scope Scope) propOwner {
	return propOwner{table: "scope_props", cols: []string{"account_id", "scope"}, key: []any{s.user, string(scope)}, bind: s.seal.scopeBinding(scope)}
}

// where is the condition that selects the owner's rows, for o.key.
func (o propOwner) where() string {
	return strings.Join(o.cols, " = ? AND ") + " = ?"
}

// damagedProps reports a property set that does not add up, naming its owner by
// table and row id only.
func damagedProps(o propOwner, why string) error {
	return fmt.Errorf("%w: the properties of %s %v %s", ErrDamaged, o.table, o.key[0], why)
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
func (s *sqliteSpace) readDigest(ctx context.Context, tx *sql.Tx, o propOwner) (propDigest, error) {
	var d propDigest
	var sealed []byte
	var rev int64
	err := tx.QueryRowContext(ctx, `SELECT value_sealed, revision FROM `+o.table+` WHERE `+o.where()+` AND name_mac = X''`, o.key...).Scan(&sealed, &rev)
	if errors.Is(err, sql.ErrNoRows) {
		return d, nil
	}
	if err != nil {
		return d, fmt.Errorf("storage: read properties: %w", err)
	}
	d, err = s.seal.openDigest(o.bind, rev, sealed)
	return d, o.damaged(err)
}

// rowsQuerier is what both *sql.DB and *sql.Tx offer for reading many rows.
type rowsQuerier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// loadProps adds the properties stored in the owner's rows to p.
func (s *sqliteSpace) loadProps(ctx context.Context, q rowsQuerier, o propOwner, p Props) error {
	return s.loadPropRows(ctx, q, `SELECT 0, name_mac, value_sealed, revision FROM `+o.table+` WHERE `+o.where(), o.key,
		func(int64) (propOwner, Props) { return o, p })
}

// loadPropRows reads rows of (owner id, name MAC, sealed value, revision)
// from query and adds each to the set that owner gives for its id; an id
// it has no set for is skipped.
func (s *sqliteSpace) loadPropRows(ctx context.Context, q rowsQuerier, query string, args []any, owner func(id int64) (propOwner, Props)) error {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("storage: read properties: %w", err)
	}
	defer rows.Close()
	type tally struct {
		o     propOwner
		check *propCheck
	}
	sums := map[int64]*tally{}
	for rows.Next() {
		var id, rev int64
		var mac, sealed []byte
		if err := rows.Scan(&id, &mac, &sealed, &rev); err != nil {
			return fmt.Errorf("storage: read properties: %w", err)
		}
		o, p := owner(id)
		if p == nil {
			continue
		}
		t := sums[id]
		if t == nil {
			t = &tally{o: o, check: s.seal.checkProps(o.bind)}
			sums[id] = t
		}
		name, value, ok, err := t.check.open(mac, rev, sealed)
		if err != nil {
			return o.damaged(err)
		}
		if ok {
			p[name] = value
		}
	}
	if err := rows.Err(); err != nil {
		return err
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
func (s *sqliteSpace) insertProps(ctx context.Context, tx *sql.Tx, o propOwner, p Props, rev int64) (int64, error) {
	_, err := s.patchRows(ctx, tx, o, p, nil, rev)
	return p.Size(), err
}

// patchRows applies removals, then settings, to the owner's rows, each
// property its own row, and returns the change of the bytes they count for.
func (s *sqliteSpace) patchRows(ctx context.Context, tx *sql.Tx, o propOwner, set Props, remove []string, rev int64) (int64, error) {
	if len(set) == 0 && len(remove) == 0 {
		return 0, nil
	}
	keyed := func(mac []byte) []any { return append(append([]any{}, o.key...), mac) }
	stored, err := s.readDigest(ctx, tx, o)
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
		var old, oldRev int64
		err := tx.QueryRowContext(ctx, `DELETE FROM `+o.table+` WHERE `+o.where()+` AND name_mac = ? RETURNING bytes, revision`, keyed(mac)...).Scan(&old, &oldRev)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("storage: remove property: %w", err)
		}
		delta -= old
		patch.remove(mac, oldRev)
	}
	upsert := func(mac, sealed []byte, size int64) error {
		cols := strings.Join(o.cols, ", ")
		args := append(keyed(mac), sealed, size, rev)
		_, err := tx.ExecContext(ctx, `INSERT INTO `+o.table+` (`+cols+`, name_mac, value_sealed, bytes, revision) VALUES (`+strings.Repeat("?, ", len(args)-1)+`?)
			ON CONFLICT (`+cols+`, name_mac) DO UPDATE SET value_sealed = excluded.value_sealed, bytes = excluded.bytes, revision = excluded.revision`, args...)
		if err != nil {
			return fmt.Errorf("storage: write property: %w", err)
		}
		return nil
	}
	for name, value := range set {
		mac := s.seal.nameMAC(o.bind, name)
		var old, oldRev int64
		err := tx.QueryRowContext(ctx, `SELECT bytes, revision FROM `+o.table+` WHERE `+o.where()+` AND name_mac = ?`, keyed(mac)...).Scan(&old, &oldRev)
		switch {
		case err == nil:
			patch.remove(mac, oldRev)
		case !errors.Is(err, sql.ErrNoRows):
			return 0, fmt.Errorf("storage: read property: %w", err)
		}
		size := int64(len(name) + len(value))
		if err := upsert(mac, patch.write(mac, rev, name, value), size); err != nil {
			return 0, err
		}
		delta += size - old
	}
	return delta, upsert(digestMAC, patch.sealDigest(rev), 0)
}

// moveLegacy opens a property set sealed whole, as every one was before
// properties had rows, writes it as the owner's rows, and returns the bytes
// it counts for. The caller clears the old value in the same transaction.
func (s *sqliteSpace) moveLegacy(ctx context.Context, tx *sql.Tx, o propOwner, sealed []byte, rev int64) (int64, error) {
	p, err := s.seal.openLegacyProps(o.bind, sealed)
	if err != nil {
		return 0, err
	}
	return s.insertProps(ctx, tx, o, p, rev)
}
