package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// legacyUpgrade is one row of seal version 0, opened, to seal anew.
type legacyUpgrade struct {
	id, rev int64
	obj     *plainObject
}

// upgradeBatch bounds the rows, bodies included, that one transaction of
// upgradeLegacy holds in memory and seals.
const upgradeBatch = 100

// upgradeLegacy seals anew, in the current version and bound to their
// current revision, the content of the rows of a collection still in seal
// version 0, so that their body, content type and index entry can no
// longer be rolled back alone. Revision, ETag and change log stay as they
// are: nothing a client sees changes. A row that fails to open stays as it
// is, for its reads to report. Such a row's UID is not known, only its
// legacy MAC, which stays until the object is next written.
func (s *sqliteSpace) upgradeLegacy(ctx context.Context, ref collectionRef) error {
	if s.db.legacySeal {
		return nil
	}
	for after := int64(0); ; {
		var n int
		err := s.db.inTx(ctx, func(tx *sql.Tx) error {
			batch, last, err := s.openLegacy(ctx, tx, ref, after)
			if err != nil {
				return err
			}
			n, after = len(batch), last
			for _, u := range batch {
				if err := s.resealContent(ctx, tx, ref, u); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil || n < upgradeBatch {
			return err
		}
	}
}

// openLegacy opens up to upgradeBatch rows of seal version 0 after row id
// after, and returns them, skipping damaged ones, and the last id read.
func (s *sqliteSpace) openLegacy(ctx context.Context, tx *sql.Tx, ref collectionRef, after int64) ([]legacyUpgrade, int64, error) {
	rows, err := tx.QueryContext(ctx, `SELECT o.id, o.revision, `+sealedColumns+` FROM `+sealedTables+`
		WHERE o.collection_id = ? AND o.seal_v = ? AND o.id > ? ORDER BY o.id LIMIT ?`, ref.id, sealLegacy, after, upgradeBatch)
	if err != nil {
		return nil, 0, fmt.Errorf("storage: read old rows: %w", err)
	}
	defer rows.Close()
	var out []legacyUpgrade
	last := after
	for rows.Next() {
		u := legacyUpgrade{}
		u.obj, err = s.openRow(ctx, nil, ref, func(dest ...any) error { return rows.Scan(append([]any{&u.id, &u.rev}, dest...)...) })
		if u.id > last {
			last = u.id
		}
		switch {
		case errors.Is(err, ErrDamaged):
			continue
		case err != nil:
			return nil, 0, err
		}
		out = append(out, u)
	}
	return out, last, rows.Err()
}

// resealContent writes one opened legacy row's content sealed anew.
func (s *sqliteSpace) resealContent(ctx context.Context, tx *sql.Tx, ref collectionRef, u legacyUpgrade) error {
	mac := s.seal.objectMAC(ref.uid, u.obj.name)
	c := s.sealContent(ref, mac, u.rev, u.obj)
	res, err := tx.ExecContext(ctx, `UPDATE objects SET seal_v = ?, sealed_rev = ?, ctype_sealed = ?, index_sealed = ?, uid_sealed = ?, uid_mac = ?
		WHERE id = ? AND seal_v = ?`, c.v, c.rev, c.ctype, c.index, c.uid, c.uidMAC, u.id, sealLegacy)
	if err != nil {
		return fmt.Errorf("storage: upgrade object: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("storage: upgrade object: %w", err)
	}
	if n == 0 {
		return nil // written meanwhile, in the current form
	}
	if _, err := tx.ExecContext(ctx, `UPDATE object_bodies SET body_sealed = ? WHERE object_id = ?`, c.body, u.id); err != nil {
		return fmt.Errorf("storage: upgrade object body: %w", err)
	}
	return nil
}
