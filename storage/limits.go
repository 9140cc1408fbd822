package storage

import (
	"context"
	"fmt"
)

// Counts is what the DAV layer's limits are checked against.
type Counts struct {
	Collections int64 // the user's collections, in both homes
	Objects     int64 // objects in the collection asked for
	Bytes       int64 // the size of those objects
}

// Counts returns the number of the user's collections, and the number and
// size of the objects in collection; a collection of 0, or one that is
// not the user's, counts no objects.
func (s *sqliteSpace) Counts(ctx context.Context, collection int64) (Counts, error) {
	var c Counts
	err := s.db.read.QueryRowContext(ctx, `
		SELECT (SELECT count(*) FROM collections WHERE account_id = ?1),
		       count(o.size), coalesce(sum(o.size), 0)
		FROM objects o JOIN collections c ON c.id = o.collection_id
		WHERE o.collection_id = ?2 AND c.account_id = ?1`, s.user, collection).Scan(&c.Collections, &c.Objects, &c.Bytes)
	if err != nil {
		return Counts{}, fmt.Errorf("storage: counts: %w", err)
	}
	return c, nil
}
