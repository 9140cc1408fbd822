package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/coffer-dav/coffer/encryption"
)

// PatchObject sets and removes dead properties of an object.
func (s *sqliteSpace) PatchObject(ctx context.Context, collection int64, name string, set Props, remove []string) (*Object, error) {
	err := s.db.inTx(ctx, func(tx *sql.Tx) error {
		ref, err := s.ref(ctx, tx, collection)
		if err != nil {
			return err
		}
		mac := s.objectMAC(ref.uid, name)
		var sealedName, sealed []byte
		var oldMeta int64
		err = tx.QueryRowContext(ctx, `SELECT name_sealed, props_sealed, meta_bytes FROM objects WHERE collection_id = ? AND name_mac = ?`, ref.id, mac).Scan(&sealedName, &sealed, &oldMeta)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("storage: read object: %w", err)
		}
		ad := s.ad(ref.uid, mac, fieldObjectProps)
		props, err := s.openProps(ad, sealed)
		if err != nil {
			return err
		}
		patch(props, set, remove)
		if sealed, err = s.sealPropsAD(ad, props); err != nil {
			return err
		}
		meta := int64(len(name)) + props.Size()
		rev, err := s.bumpCounting(ctx, tx, ref.id, 0, meta-oldMeta)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE objects SET props_sealed = ?, meta_bytes = ?, revision = ? WHERE collection_id = ? AND name_mac = ?`, sealed, meta, rev, ref.id, mac); err != nil {
			return fmt.Errorf("storage: update object: %w", err)
		}
		return logChange(ctx, tx, ref.id, mac, sealedName, rev, false)
	})
	if err != nil {
		return nil, err
	}
	return s.Object(ctx, collection, name, false)
}

// Props returns the properties of the principal or of a home.
func (s *sqliteSpace) Props(ctx context.Context, scope Scope) (Props, error) {
	var sealed []byte
	err := s.db.read.QueryRowContext(ctx, `SELECT props_sealed FROM account_props WHERE account_id = ? AND scope = ?`, s.user, string(scope)).Scan(&sealed)
	if errors.Is(err, sql.ErrNoRows) {
		return Props{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("storage: read account properties: %w", err)
	}
	return s.openProps(s.scopeAD(scope), sealed)
}

// PatchProps sets and removes properties of the principal or of a home.
func (s *sqliteSpace) PatchProps(ctx context.Context, scope Scope, set Props, remove []string) (Props, error) {
	var out Props
	err := s.db.inTx(ctx, func(tx *sql.Tx) error {
		var sealed []byte
		err := tx.QueryRowContext(ctx, `SELECT props_sealed FROM account_props WHERE account_id = ? AND scope = ?`, s.user, string(scope)).Scan(&sealed)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("storage: read account properties: %w", err)
		}
		props, err := s.openProps(s.scopeAD(scope), sealed)
		if err != nil {
			return err
		}
		patch(props, set, remove)
		if len(props) == 0 {
			_, err = tx.ExecContext(ctx, `DELETE FROM account_props WHERE account_id = ? AND scope = ?`, s.user, string(scope))
		} else {
			if sealed, err = s.sealPropsAD(s.scopeAD(scope), props); err != nil {
				return err
			}
			_, err = tx.ExecContext(ctx, `INSERT INTO account_props (account_id, scope, props_sealed, bytes) VALUES (?, ?, ?, ?)
				ON CONFLICT (account_id, scope) DO UPDATE SET props_sealed = excluded.props_sealed, bytes = excluded.bytes`, s.user, string(scope), sealed, props.Size())
		}
		if err != nil {
			return fmt.Errorf("storage: write account properties: %w", err)
		}
		out = props
		return nil
	})
	return out, err
}

// Usage returns the bytes the user's objects, names and properties take.
func (s *sqliteSpace) Usage(ctx context.Context) (int64, error) {
	var n int64
	err := s.db.read.QueryRowContext(ctx,
		`SELECT coalesce((SELECT sum(object_bytes + props_bytes) FROM collections WHERE account_id = ?1), 0)
		      + coalesce((SELECT sum(bytes) FROM account_props WHERE account_id = ?1), 0)`, s.user).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("storage: usage: %w", err)
	}
	return n, nil
}

func (s *sqliteSpace) scopeAD(scope Scope) encryption.AD {
	return s.ad(nil, []byte(scope), fieldAccountProps)
}

// patch applies removals, then settings, to p.
func patch(p Props, set Props, remove []string) {
	for _, k := range remove {
		delete(p, k)
	}
	for k, v := range set {
		p[k] = v
	}
}
