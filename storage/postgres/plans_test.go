package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/coffer-dav/coffer/encryption"
	"github.com/coffer-dav/coffer/storage"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
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

// TestPlansKept: the statements of the common requests (PUT with and
// without limits, GET, a sync) are planned once per connection and then
// run from PostgreSQL's generic plan. A statement that the server plans
// afresh at each run (its custom plans keep counting past the five it
// tries first) costs its planning on every request: the PutState of a PUT
// once took four times as long to plan as to run.
func TestPlansKept(t *testing.T) {
	db, _, account, _ := tracedDB(t)
	ctx := context.Background()
	cfg := db.pool.Config()
	cfg.MaxConns, cfg.MinConns = 1, 0
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	one := &DB{pool: pool}
	one.spaces = storage.NewSpaces(one, storage.SpaceOptions{})
	keys, err := encryption.NewKeyring(make([]byte, encryption.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	s := one.Space(account, keys)
	c, err := s.CreateCollection(ctx, storage.NewCollection{Home: storage.HomeCalendars, Name: "plans", Kind: storage.KindCalendar})
	if err != nil {
		t.Fatal(err)
	}
	limits := []storage.Limits{{}, {QuotaBytes: 1 << 30}, {MaxObjects: 1 << 20}, {QuotaBytes: 1 << 30, MaxObjects: 1 << 20}}
	for i := range 12 {
		for j, l := range limits {
			name := fmt.Sprintf("%d-%d.ics", i, j)
			if _, err := s.PutObject(ctx, c.ID, storage.PutOptions{Name: name, UID: name, Body: []byte("x"), Limits: l}); err != nil {
				t.Fatal(err)
			}
			if _, err := s.PutObject(ctx, c.ID, storage.PutOptions{Name: name, UID: name, Body: []byte("y"), Limits: l}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.Collection(ctx, storage.HomeCalendars, "plans"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Object(ctx, c.ID, fmt.Sprintf("%d-0.ics", i), storage.ReadOptions{Body: true}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.Changes(ctx, c.ID, 0); err != nil {
			t.Fatal(err)
		}
	}
	rows, err := pool.Query(ctx, `SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	generic := 0
	for rows.Next() {
		var stmt string
		var gen, custom int64
		if err := rows.Scan(&stmt, &gen, &custom); err != nil {
			t.Fatal(err)
		}
		if gen > 0 {
			generic++
		}
		if custom > 5 {
			t.Errorf("planned afresh %d times (%d from the generic plan): %s", custom, gen, strings.Join(strings.Fields(stmt), " "))
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if generic < 5 {
		t.Errorf("only %d statements ran from their generic plan: the requests did not run", generic)
	}
}

// TestCollectionNamedMakesLoginCheck: the read of a request's collection
// makes the login check that the request owes for the account, in its
// own statement and round trip; a missing collection or another account's
// check leaves the check owed.
func TestCollectionNamedMakesLoginCheck(t *testing.T) {
	db, rt, account, _ := tracedDB(t) // no password slot: the stamp is ""
	tests := []struct {
		name    string
		account int64  // whose check is owed
		stamp   string // the login's
		mac     string
		made    bool
		err     error // Settle's, once made
	}{
		{"current", account, "", "c", true, nil},
		{"stale", account, "other", "c", true, storage.ErrStaleLogin},
		{"no collection", account, "", "none", false, nil},
		{"another account's", account + 1, "", "c", false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, check := storage.WithLoginCheck(context.Background())
			check.Owe(tt.account, tt.stamp, func(context.Context) (string, error) { return "read", nil }, nil)
			n := rt.n.Load()
			_, _, err := db.Reader().CollectionNamed(ctx, account, []byte(tt.mac))
			if (err == nil) != (tt.mac == "c") {
				t.Fatalf("CollectionNamed: %v", err)
			}
			if got := rt.n.Load() - n; got != 1 {
				t.Errorf("%d round trips, want 1", got)
			}
			if made := !check.Owed(tt.account); made != tt.made {
				t.Fatalf("made: %v, want %v", made, tt.made)
			}
			if tt.made {
				if err := check.Settle(ctx); !errors.Is(err, tt.err) {
					t.Errorf("Settle = %v, want %v", err, tt.err)
				}
			}
		})
	}
}
