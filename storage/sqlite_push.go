package storage

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

const subscriptionColumns = `account_id, id, collection_id, scope, resource_mac, subscription_sealed, expires_at, created_at`

// Subscriptions returns the subscription rows of an account's target, oldest first.
func (r sqliteRows) Subscriptions(ctx context.Context, account int64, t PushTarget) ([]SubscriptionRow, error) {
	q, args := `SELECT `+subscriptionColumns+` FROM push_subscriptions WHERE collection_id = ? AND account_id = ? ORDER BY seq`, []any{t.Collection, account}
	if t.Collection == 0 {
		q, args = `SELECT `+subscriptionColumns+` FROM push_subscriptions WHERE account_id = ? AND collection_id IS NULL AND scope = ? ORDER BY seq`, []any{account, string(t.Scope)}
	}
	rows, err := r.q.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("storage: read push subscriptions: %w", err)
	}
	defer rows.Close()
	var out []SubscriptionRow
	for rows.Next() {
		var s SubscriptionRow
		var coll sql.NullInt64
		var scope string
		if err := rows.Scan(&s.Account, &s.ID, &coll, &scope, &s.ResourceMAC, &s.Sealed, &s.Expires, &s.Created); err != nil {
			return nil, fmt.Errorf("storage: read push subscriptions: %w", err)
		}
		s.Target = PushTarget{Collection: coll.Int64, Scope: Scope(scope)}
		out = append(out, s)
	}
	return out, rows.Err()
}

// PutSubscription adds a subscription row, or replaces the one with its
// account and id.
func (r sqliteRows) PutSubscription(ctx context.Context, s *SubscriptionRow) error {
	var coll any
	if s.Target.Collection != 0 {
		coll = s.Target.Collection
	}
	_, err := r.q.ExecContext(ctx,
		`INSERT INTO push_subscriptions (`+subscriptionColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		 ON CONFLICT (account_id, id) DO UPDATE SET resource_mac = excluded.resource_mac,
		   subscription_sealed = excluded.subscription_sealed, expires_at = excluded.expires_at`,
		s.Account, s.ID, coll, string(s.Target.Scope), s.ResourceMAC, s.Sealed, s.Expires, s.Created)
	if err != nil {
		return fmt.Errorf("storage: write push subscription: %w", err)
	}
	return nil
}

// DeleteSubscription removes an account's subscription row, or fails with ErrNotFound.
func (r sqliteRows) DeleteSubscription(ctx context.Context, account int64, id string) error {
	res, err := r.q.ExecContext(ctx, `DELETE FROM push_subscriptions WHERE account_id = ? AND id = ?`, account, id)
	if err != nil {
		return fmt.Errorf("storage: delete push subscription: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// DropExpiredSubscriptions removes every subscription whose expiry is not
// after now.
func (db *DB) DropExpiredSubscriptions(ctx context.Context, now time.Time) (int64, error) {
	var n int64
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM push_subscriptions WHERE expires_at <= ?`, now.Unix())
		if err != nil {
			return fmt.Errorf("storage: drop expired push subscriptions: %w", err)
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}

// DropSubscription removes one subscription of an account, if it is there.
func (db *DB) DropSubscription(ctx context.Context, account int64, id string) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM push_subscriptions WHERE account_id = ? AND id = ?`, account, id)
		return err
	})
}
