package postgres

import (
	"context"
	"time"

	"github.com/coffer-dav/coffer/storage"
	"github.com/jackc/pgx/v5"
)

const subscriptionColumns = `account_id, id, collection_id, scope, resource_mac, subscription_sealed, expires_at, created_at`

// Subscriptions returns the subscription rows of an account's target, oldest first.
func (r reader) Subscriptions(ctx context.Context, account int64, t storage.PushTarget) ([]storage.SubscriptionRow, error) {
	q, args := `SELECT `+subscriptionColumns+` FROM push_subscriptions WHERE collection_id = $1 AND account_id = $2 ORDER BY seq`, []any{t.Collection, account}
	if t.Collection == 0 {
		q, args = `SELECT `+subscriptionColumns+` FROM push_subscriptions WHERE account_id = $1 AND collection_id IS NULL AND scope = $2 ORDER BY seq`, []any{account, string(t.Scope)}
	}
	rows, err := r.q.Query(ctx, q, args...)
	if err != nil {
		return nil, dbErr("read push subscriptions", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (storage.SubscriptionRow, error) {
		var s storage.SubscriptionRow
		var coll *int64
		var scope string
		err := row.Scan(&s.Account, &s.ID, &coll, &scope, &s.ResourceMAC, &s.Sealed, &s.Expires, &s.Created)
		s.Target.Scope = storage.Scope(scope)
		if coll != nil {
			s.Target.Collection = *coll
		}
		return s, err
	})
	if err != nil {
		return nil, dbErr("read push subscriptions", err)
	}
	return out, nil
}

// PutSubscription adds a subscription row, or replaces the one with its
// account and id.
func (w writer) PutSubscription(ctx context.Context, s *storage.SubscriptionRow) error {
	var coll any
	if s.Target.Collection != 0 {
		coll = s.Target.Collection
	}
	_, err := w.q.Exec(ctx,
		`INSERT INTO push_subscriptions (`+subscriptionColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		 ON CONFLICT (account_id, id) DO UPDATE SET resource_mac = excluded.resource_mac,
		   subscription_sealed = excluded.subscription_sealed, expires_at = excluded.expires_at`,
		s.Account, s.ID, coll, string(s.Target.Scope), s.ResourceMAC, s.Sealed, s.Expires, s.Created)
	if err != nil {
		return dbErr("write push subscription", err)
	}
	return nil
}

// DeleteSubscription removes an account's subscription row, or fails
// with storage.ErrNotFound.
func (w writer) DeleteSubscription(ctx context.Context, account int64, id string) error {
	tag, err := w.q.Exec(ctx, `DELETE FROM push_subscriptions WHERE account_id = $1 AND id = $2`, account, id)
	if err != nil {
		return dbErr("delete push subscription", err)
	}
	if tag.RowsAffected() == 0 {
		return storage.ErrNotFound
	}
	return nil
}

// DropExpiredSubscriptions removes every subscription whose expiry is not
// after now.
func (db *DB) DropExpiredSubscriptions(ctx context.Context, now time.Time) (int64, error) {
	tag, err := db.pool.Exec(ctx, `DELETE FROM push_subscriptions WHERE expires_at <= $1`, now.Unix())
	if err != nil {
		return 0, dbErr("drop expired push subscriptions", err)
	}
	return tag.RowsAffected(), nil
}

// DropSubscription removes one subscription of an account, if it is there.
func (db *DB) DropSubscription(ctx context.Context, account int64, id string) error {
	if _, err := db.pool.Exec(ctx, `DELETE FROM push_subscriptions WHERE account_id = $1 AND id = $2`, account, id); err != nil {
		return dbErr("drop push subscription", err)
	}
	return nil
}
