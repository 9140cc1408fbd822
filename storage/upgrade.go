package storage

import (
	"context"
	"errors"
)

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
func (s *sealedSpace) upgradeLegacy(ctx context.Context, ref collectionRef) error {
	if s.sp.legacySeal {
		return nil
	}
	for after := int64(0); ; {
		var n int
		err := s.update(ctx, func(w RowWriter) error {
			rows, err := w.Objects(ctx, ref.id, ObjectQuery{Body: true, LegacyOnly: true, After: after, Limit: upgradeBatch})
			if err != nil {
				return err
			}
			n = len(rows)
			for i := range rows {
				after = max(after, rows[i].ID)
				if err := s.resealContent(ctx, w, ref, &rows[i]); err != nil {
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

// resealContent writes one legacy row's content sealed anew, bound to its
// revision. A row that fails to open stays as it is.
func (s *sealedSpace) resealContent(ctx context.Context, w RowWriter, ref collectionRef, row *ObjectRow) error {
	obj, err := s.openRow(ref, row)
	if errors.Is(err, ErrDamaged) {
		return nil
	}
	if err != nil {
		return err
	}
	c := s.sealContent(ref, row.NameMAC, row.Revision, obj)
	_, err = w.ResealObject(ctx, &ObjectRow{ID: row.ID, SealV: c.v, SealedRev: c.rev, CtypeSealed: c.ctype, IndexSealed: c.index, UIDSealed: c.uid, UIDMAC: c.uidMAC, BodySealed: c.body})
	return err
}
