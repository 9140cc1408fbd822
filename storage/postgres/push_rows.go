package postgres

import (
	"context"
	"time"

	"github.com/coffer-dav/coffer/storage"
	"github.com/jackc/pgx/v5"
)

const subscriptionColumns = `account_id, id, collection_id, resource_mac, subscription_sealed, expires_at, created_at`

// Subscriptions returns the subscription rows of a collection, oldest first.
func (r reader) Subscriptions(ctx context.Context, collection int64) ([]storage.SubscriptionRow, error) {
	rows, err := r.q.Query(ctx, `SELECT `+subscriptionColumns+` FROM push_subscriptions WHERE collection_id = $1 ORDER BY seq`, collection)
	if err != nil {
		return nil, dbErr("read push subscriptions", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (storage.SubscriptionRow, error) {
		var s storage.SubscriptionRow
		err := row.Scan(&s.Account, &s.ID, &s.Collection, &s.ResourceMAC, &s.Sealed, &s.Expires, &s.Created)
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
	_, err := w.q.Exec(ctx,
		`INSERT INTO push_subscriptions (`+subscriptionColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7)
		 ON CONFLICT (account_id, id) DO UPDATE SET resource_mac = excluded.resource_mac,
		   subscription_sealed = excluded.subscription_sealed, expires_at = excluded.expires_at`,
		s.Account, s.ID, s.Collection, s.ResourceMAC, s.Sealed, s.Expires, s.Created)
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
