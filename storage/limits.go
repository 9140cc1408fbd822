package storage

import (
	"context"
	"fmt"
)

// Counts is what the DAV layer's limits are checked against.
type Counts struct {
	Collections int64 // the user's collections, in both homes
	Objects     int64 // objects in the collection asked for
	Bytes       int64 // what those objects and the collection's properties count for (Object.Charge, Props.Size)
}

// Counts returns the number of the user's collections, and the number and
// size of the objects in collection; a collection of 0, or one that is
// not the user's, counts no objects.
func (s *sqliteSpace) Counts(ctx context.Context, collection int64) (Counts, error) {
	var c Counts
	// The totals are kept on the collection row with every write.
	err := s.db.read.QueryRowContext(ctx, `
		SELECT (SELECT count(*) FROM collections WHERE account_id = ?1),
		       coalesce((SELECT object_count FROM collections WHERE id = ?2 AND account_id = ?1), 0),
		       coalesce((SELECT object_bytes + props_bytes FROM collections WHERE id = ?2 AND account_id = ?1), 0)`, s.user, collection).Scan(&c.Collections, &c.Objects, &c.Bytes)
	if err != nil {
		return Counts{}, fmt.Errorf("storage: counts: %w", err)
	}
	return c, nil
}
