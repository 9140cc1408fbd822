package postgres

import (
	"context"
	"strings"
	"testing"

	"github.com/coffer-dav/coffer/storage"
	"github.com/jackc/pgx/v5"
)

// TestLookupPlans: the look-ups of objects by name and by UID that every
// PUT makes find their rows through both columns of the unique index even
// in the generic plan of an empty table, which is the plan a pooled
// connection caches on a fresh database and keeps until the next ANALYZE.
// A plan that used the index on collection_id alone, filtering the key,
// would make each PUT read its whole collection.
func TestLookupPlans(t *testing.T) {
	db, _, _, coll := tracedDB(t)
	ctx := context.Background()
	sent := &roundTrips{}
	cfg := db.pool.Config()
	cfg.ConnConfig.Tracer = sent
	conn, err := pgx.ConnectConfig(ctx, cfg.ConnConfig)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	r := reader{q: conn}
	tests := []struct {
		name string
		keys []string
		read func() error
	}{
		{"object by name", []string{"name_mac"}, func() error {
			_, err := r.Objects(ctx, coll, storage.ObjectQuery{NameMACs: [][]byte{[]byte("n")}})
			return err
		}},
		{"objects by name with bodies", []string{"name_mac"}, func() error {
			_, err := r.Objects(ctx, coll, storage.ObjectQuery{NameMACs: [][]byte{[]byte("n"), []byte("m")}, Body: true})
			return err
		}},
		{"what a PUT checks", []string{"name_mac", "uid_mac"}, func() error {
			_, err := r.PutState(ctx, storage.PutQuery{Account: 1, Collection: coll, NameMAC: []byte("n"),
				UIDMACs: [][]byte{[]byte("u"), []byte("v")}, Counts: true, Usage: true})
			return err
		}},
		{"holder of a UID", []string{"uid_mac"}, func() error {
			_, _, err := r.UIDHolder(ctx, coll, [][]byte{[]byte("u"), []byte("v")}, [][]byte{[]byte("n")})
			if err == storage.ErrNotFound {
				err = nil
			}
			return err
		}},
	}
	if _, err := conn.Exec(ctx, `SET plan_cache_mode = force_generic_plan`); err != nil {
		t.Fatal(err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.read(); err != nil {
				t.Fatal(err)
			}
			st := sent.last.Load()
			rows, err := conn.Query(ctx, "EXPLAIN "+st.SQL, st.Args...)
			if err != nil {
				t.Fatal(err)
			}
			lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				t.Fatal(err)
			}
			plan := strings.Join(lines, "\n")
			for _, key := range tc.keys {
				found := false
				for _, l := range lines {
					if strings.Contains(l, "Index Cond:") && strings.Contains(l, "collection_id") && strings.Contains(l, key) {
						found = true
					}
				}
				if !found {
					t.Errorf("no index condition on collection_id and %s in the generic plan:\n%s", key, plan)
				}
			}
		})
	}
}
