package storage

import (
	"context"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math/bits"
	"strings"

	"github.com/coffer-dav/coffer/encryption"
)

// propOwner names the resource whose properties are read or written: the
// table of its property rows, the columns and values that key them, and the
// associated data its values are sealed under. Each property is a row of
// its own, so that setting one writes one row, whatever else is stored.
//
// Each value is bound to its owner, its name and the revision that wrote
// it, so it cannot be moved. What binding alone cannot catch is a row put
// back, revision and all, from an older copy, or one deleted; for that the
// owner has one more row, under the empty name MAC, holding a digest of the
// set: the sum, modulo 2^256, of a keyed hash of each row's name MAC and
// revision. A patch moves the sum by the rows it touches alone, so it stays
// as cheap as the patch; a read adds up what it finds and compares.
type propOwner struct {
	table string
	cols  []string // the key columns, before name_mac
	key   []any
	ad    encryption.AD
}

// propDigest is the sum of a property set's row terms, modulo 2^256, in
// big-endian order.
type propDigest [32]byte

// Record fields of property rows. The fields of whole property sets sealed
// before rows existed (fieldCollectionProps and its kind) open legacy values.
const (
	fieldCollectionProp = "collection.prop"
	fieldObjectProp     = "object.prop"
	fieldAccountProp    = "account.prop"
)

// PatchObject sets and removes dead properties of an object.
func (s *sqliteSpace) PatchObject(ctx context.Context, collection int64, name string, o PatchOptions) error {
	return s.db.inTx(ctx, func(tx *sql.Tx) error {
		ref, err := s.ref(ctx, tx, collection)
		if err != nil {
			return err
		}
		mac := s.objectMAC(ref.uid, name)
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
			moved, err := s.moveLegacy(ctx, tx, owner, s.ad(ref.uid, mac, fieldObjectProps), legacy, rev)
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
			if bytes, err = s.moveLegacy(ctx, tx, owner, s.ad(uid, nil, fieldCollectionProps), legacy, rev); err != nil {
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
		if p, err = s.openProps(s.scopeAD(scope), legacy); err != nil {
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
			if _, err := s.moveLegacy(ctx, tx, owner, s.scopeAD(scope), legacy, rev); err != nil {
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

func (s *sqliteSpace) scopeAD(scope Scope) encryption.AD {
	return s.ad(nil, []byte(scope), fieldAccountProps)
}

func (s *sqliteSpace) collectionOwner(id int64, uid []byte) propOwner {
	return propOwner{table: "collection_props", cols: []string{"collection_id"}, key: []any{id}, ad: s.ad(uid, nil, fieldCollectionProp)}
}

func (s *sqliteSpace) objectOwner(id int64, coll, mac []byte) propOwner {
	return propOwner{table: "object_props", cols: []string{"object_id"}, key: []any{id}, ad: s.ad(coll, mac, fieldObjectProp)}
}

func (s *sqliteSpace) scopeOwner(scope Scope) propOwner {
	return propOwner{table: "scope_props", cols: []string{"account_id", "scope"}, key: []any{s.user, string(scope)}, ad: s.ad(nil, []byte(scope), fieldAccountProp)}
}

// where is the condition that selects the owner's rows, for o.key.
func (o propOwner) where() string {
	return strings.Join(o.cols, " = ? AND ") + " = ?"
}

// nameMAC is the lookup key of a property's row. It is bound to the owner,
// so the same property on two resources does not show.
func (s *sqliteSpace) nameMAC(o propOwner, name string) []byte {
	return s.keys.MAC("property", o.ad.Collection, o.ad.Object, []byte(o.ad.Field), []byte(name))
}

// rowAD binds a property's value to its owner, its name and the revision
// that wrote it.
func (o propOwner) rowAD(mac []byte, rev int64) encryption.AD {
	ad := o.ad
	ad.Part, ad.Revision = mac, rev
	return ad
}

// sealProp seals a property's name and value for its row.
func (s *sqliteSpace) sealProp(o propOwner, mac []byte, rev int64, name string, value []byte) []byte {
	plain := binary.AppendUvarint(make([]byte, 0, binary.MaxVarintLen64+len(name)+len(value)), uint64(len(name)))
	plain = append(append(plain, name...), value...)
	return s.keys.Seal(o.rowAD(mac, rev), plain)
}

// openProp opens a row sealed by sealProp and checks that its name is the
// one its lookup key stands for.
func (s *sqliteSpace) openProp(o propOwner, mac []byte, rev int64, sealed []byte) (string, []byte, error) {
	plain, err := s.keys.Open(o.rowAD(mac, rev), sealed)
	if err != nil {
		return "", nil, damagedProps(o, "hold a value that does not open")
	}
	n, k := binary.Uvarint(plain)
	if k <= 0 || n > uint64(len(plain)-k) {
		return "", nil, damagedProps(o, "hold a malformed value")
	}
	name := string(plain[k : k+int(n)])
	if !encryption.Equal(mac, s.nameMAC(o, name)) {
		return "", nil, damagedProps(o, "hold a name that does not match its key")
	}
	return name, plain[k+int(n):], nil
}

// term is a row's share of its owner's digest.
func (s *sqliteSpace) term(o propOwner, mac []byte, rev int64) propDigest {
	var r [8]byte
	binary.BigEndian.PutUint64(r[:], uint64(rev))
	return propDigest(s.keys.MAC("property-set", o.ad.Collection, o.ad.Object, []byte(o.ad.Field), mac, r[:]))
}

// add returns d + t modulo 2^256.
func (d propDigest) add(t propDigest) propDigest {
	var carry uint64
	for i := 24; i >= 0; i -= 8 {
		var sum uint64
		sum, carry = bits.Add64(binary.BigEndian.Uint64(d[i:]), binary.BigEndian.Uint64(t[i:]), carry)
		binary.BigEndian.PutUint64(d[i:], sum)
	}
	return d
}

// sub returns d - t modulo 2^256.
func (d propDigest) sub(t propDigest) propDigest {
	var borrow uint64
	for i := 24; i >= 0; i -= 8 {
		var diff uint64
		diff, borrow = bits.Sub64(binary.BigEndian.Uint64(d[i:]), binary.BigEndian.Uint64(t[i:]), borrow)
		binary.BigEndian.PutUint64(d[i:], diff)
	}
	return d
}

// digestMAC is the name MAC of the digest row; every property's is 32 bytes.
var digestMAC = []byte{}

// damagedProps reports a property set that does not add up, naming its owner by
// table and row id only.
func damagedProps(o propOwner, why string) error {
	return fmt.Errorf("%w: the properties of %s %v %s", ErrDamaged, o.table, o.key[0], why)
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
	return s.openDigest(o, rev, sealed)
}

func (s *sqliteSpace) openDigest(o propOwner, rev int64, sealed []byte) (propDigest, error) {
	var d propDigest
	plain, err := s.keys.Open(o.rowAD(digestMAC, rev), sealed)
	if err != nil || len(plain) != len(d) {
		return d, damagedProps(o, "have a digest that does not open")
	}
	copy(d[:], plain)
	return d, nil
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
		o           propOwner
		sum, stored propDigest
		digest      bool
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
			t = &tally{o: o}
			sums[id] = t
		}
		if len(mac) == 0 {
			if t.stored, err = s.openDigest(o, rev, sealed); err != nil {
				return err
			}
			t.digest = true
			continue
		}
		name, value, err := s.openProp(o, mac, rev, sealed)
		if err != nil {
			return err
		}
		p[name] = value
		t.sum = t.sum.add(s.term(o, mac, rev))
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for _, t := range sums {
		if !t.digest {
			return damagedProps(t.o, "have lost their digest")
		}
		if !encryption.Equal(t.sum[:], t.stored[:]) {
			return damagedProps(t.o, "do not match their digest: a row was removed or put back from an older copy")
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
	digest, err := s.readDigest(ctx, tx, o)
	if err != nil {
		return 0, err
	}
	var delta int64
	for _, name := range remove {
		if _, again := set[name]; again {
			continue
		}
		mac := s.nameMAC(o, name)
		var old, oldRev int64
		err := tx.QueryRowContext(ctx, `DELETE FROM `+o.table+` WHERE `+o.where()+` AND name_mac = ? RETURNING bytes, revision`, keyed(mac)...).Scan(&old, &oldRev)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("storage: remove property: %w", err)
		}
		delta -= old
		digest = digest.sub(s.term(o, mac, oldRev))
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
		mac := s.nameMAC(o, name)
		var old, oldRev int64
		err := tx.QueryRowContext(ctx, `SELECT bytes, revision FROM `+o.table+` WHERE `+o.where()+` AND name_mac = ?`, keyed(mac)...).Scan(&old, &oldRev)
		switch {
		case err == nil:
			digest = digest.sub(s.term(o, mac, oldRev))
		case !errors.Is(err, sql.ErrNoRows):
			return 0, fmt.Errorf("storage: read property: %w", err)
		}
		size := int64(len(name) + len(value))
		if err := upsert(mac, s.sealProp(o, mac, rev, name, value), size); err != nil {
			return 0, err
		}
		delta += size - old
		digest = digest.add(s.term(o, mac, rev))
	}
	return delta, upsert(digestMAC, s.keys.Seal(o.rowAD(digestMAC, rev), digest[:]), 0)
}

// moveLegacy opens a property set sealed whole, as every one was before
// properties had rows, writes it as the owner's rows, and returns the bytes
// it counts for. The caller clears the old value in the same transaction.
func (s *sqliteSpace) moveLegacy(ctx context.Context, tx *sql.Tx, o propOwner, ad encryption.AD, sealed []byte, rev int64) (int64, error) {
	p, err := s.openProps(ad, sealed)
	if err != nil {
		return 0, err
	}
	return s.insertProps(ctx, tx, o, p, rev)
}

// openProps opens a property set sealed whole (the form from before rows);
// nil or empty opens to an empty set.
func (s *sqliteSpace) openProps(ad encryption.AD, sealed []byte) (Props, error) {
	p := Props{}
	if len(sealed) == 0 {
		return p, nil
	}
	plain, err := s.keys.Open(ad, sealed)
	if err != nil {
		return nil, fmt.Errorf("storage: open properties: %w", err)
	}
	if err := json.Unmarshal(plain, &p); err != nil {
		return nil, fmt.Errorf("storage: decode properties: %w", err)
	}
	return p, nil
}
