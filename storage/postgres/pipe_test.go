package postgres

import (
	"context"
	"errors"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/coffer-dav/coffer/encryption"
	"github.com/coffer-dav/coffer/storage"
	"github.com/coffer-dav/coffer/storage/storagetest"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// roundTrips counts what a pool sends, in statements and in round trips:
// each statement on its own, and each batch, is one round trip (the ping
// of an idle connection is not counted).
type roundTrips struct {
	n      atomic.Int64
	stmts  atomic.Int64                            // the statements, batched or not
	begins atomic.Int64                            // the BEGINs among them
	last   atomic.Pointer[pgx.TraceQueryStartData] // the last statement sent on its own
}

// TraceQueryStart counts a statement sent on its own, and keeps it.
func (r *roundTrips) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	if d.SQL != "-- ping" {
		r.n.Add(1)
		r.stmts.Add(1)
		r.last.Store(&d)
	}
	return ctx
}

// TraceQueryEnd does nothing.
func (r *roundTrips) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// TraceBatchStart counts a batch.
func (r *roundTrips) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	r.n.Add(1)
	return ctx
}

// TraceBatchQuery counts a statement: the batch's statements share its round trip.
func (r *roundTrips) TraceBatchQuery(_ context.Context, _ *pgx.Conn, d pgx.TraceBatchQueryData) {
	r.stmts.Add(1)
	if strings.HasPrefix(d.SQL, "BEGIN") {
		r.begins.Add(1)
	}
}

// TraceBatchEnd does nothing.
func (r *roundTrips) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

// tracedDB opens a new test database whose pool counts its round trips,
// with an account and a collection in it.
func tracedDB(t *testing.T) (*DB, *roundTrips, int64, int64) {
	t.Helper()
	if os.Getenv(storagetest.PostgresEnv) == "" {
		storagetest.Postgres(t) // skips, or fails under CI
	}
	ctx := context.Background()
	cfg, err := pgxpool.ParseConfig(storagetest.Postgres(t))
	if err != nil {
		t.Fatal(err)
	}
	planGeneric(cfg.ConnConfig)
	rt := &roundTrips{}
	cfg.ConnConfig.Tracer = rt
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if _, err := migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	db := &DB{pool: pool}
	db.spaces = storage.NewSpaces(db, storage.SpaceOptions{})
	a, err := db.CreateAccount(ctx, storage.NewAccount{Username: "pipe", Slots: func(int64) (map[string]encryption.Slot, error) { return nil, nil }})
	if err != nil {
		t.Fatal(err)
	}
	var coll int64
	err = db.Update(ctx, a.ID, func(w storage.RowWriter) error {
		coll, err = w.InsertCollection(ctx, &storage.CollectionRow{Account: a.ID, Home: storage.HomeCalendars, Kind: storage.KindCalendar,
			UID: []byte("u"), NameMAC: []byte("c"), NameSealed: []byte("n"), PropsSealed: []byte{}})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return db, rt, a.ID, coll
}

// writeObject is the engine's part of a new object's PUT: a revision, the
// object and its body, the collection's totals, the change.
func writeObject(ctx context.Context, w storage.RowWriter, account, coll int64, mac string) error {
	rev, err := w.NextRevision(ctx, account)
	if err != nil {
		return err
	}
	if err := w.MoveCounts(ctx, coll, rev, 1, 4); err != nil {
		return err
	}
	o := storage.ObjectRow{Collection: coll, NameMAC: []byte(mac), NameSealed: []byte(mac), ETag: "e", CtypeSealed: []byte{},
		BodySealed: []byte("body"), Size: 4, Revision: rev, SealV: 1, SealedRev: rev}
	if _, err := w.InsertObject(ctx, &o); err != nil {
		return err
	}
	if _, _, err := w.LastChange(ctx, coll, []byte(mac)); err != nil {
		return err
	}
	return w.PutChange(ctx, coll, storage.ChangeRow{NameMAC: []byte(mac), NameSealed: []byte(mac), Revision: rev})
}

// TestPipe: an Update's statements run in order, a read sees the writes
// queued before it, a queued write that fails fails the Update and
// commits nothing, a missing account is storage.ErrNotFound whatever fn
// makes of its errors, and a new object's write takes 3 round trips
// where one statement each took 9.
func TestPipe(t *testing.T) {
	db, rt, account, coll := tracedDB(t)
	ctx := context.Background()
	counts := func() storage.Counts {
		t.Helper()
		c, err := db.Reader().Counts(ctx, account, coll)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}

	t.Run("a read sees the queued writes", func(t *testing.T) {
		err := db.Update(ctx, account, func(w storage.RowWriter) error {
			if err := writeObject(ctx, w, account, coll, "a"); err != nil {
				return err
			}
			found, deleted, err := w.LastChange(ctx, coll, []byte("a"))
			if err != nil || !found || deleted {
				t.Errorf("LastChange after the queued PutChange: %v %v %v", found, deleted, err)
			}
			c, err := w.Counts(ctx, account, coll)
			if err != nil || c.Objects != 1 {
				t.Errorf("Counts after the queued MoveCounts: %+v %v", c, err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})

	t.Run("round trips of a new object", func(t *testing.T) {
		before := rt.n.Load()
		if err := db.Update(ctx, account, func(w storage.RowWriter) error { return writeObject(ctx, w, account, coll, "b") }); err != nil {
			t.Fatal(err)
		}
		// [BEGIN, lock, NextRevision], [MoveCounts, InsertObject with
		// its body (its id reserved before), LastChange], [PutChange,
		// COMMIT].
		if n := rt.n.Load() - before; n != 3 {
			t.Errorf("%d round trips, want 3", n)
		}
	})

	t.Run("round trips of a read in a snapshot", func(t *testing.T) {
		before := rt.n.Load()
		err := db.View(ctx, func(r storage.RowReader) error {
			c, err := r.Counts(ctx, account, coll)
			if err == nil && c.Objects != 2 {
				t.Errorf("Counts in a View: %+v", c)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		// [BEGIN, Counts], [COMMIT].
		if n := rt.n.Load() - before; n != 2 {
			t.Errorf("%d round trips, want 2", n)
		}
	})

	t.Run("revisions drawn under the lock", func(t *testing.T) {
		var drawn []int64
		draw := func(w storage.RowWriter) error {
			if _, err := w.Counts(ctx, account, coll); err != nil { // the lock's answer comes with it
				return err
			}
			r1, err := w.NextRevision(ctx, account)
			if err != nil {
				return err
			}
			r2, err := w.NextCountedRevision(ctx, account, coll, 0, 0)
			drawn = append(drawn, r1, r2)
			return err
		}
		for range 2 {
			if err := db.Update(ctx, account, draw); err != nil {
				t.Fatal(err)
			}
		}
		for i := 1; i < len(drawn); i++ {
			if drawn[i] != drawn[i-1]+1 {
				t.Fatalf("revisions drawn %v: each must be one above the one before", drawn)
			}
		}
		c, err := db.Reader().CollectionByID(ctx, account, coll)
		if err != nil || c.Revision != drawn[len(drawn)-1] {
			t.Fatalf("the collection's revision after the writes: %+v %v, want %d", c, err, drawn[len(drawn)-1])
		}
	})

	tests := []struct {
		name    string
		account int64
		fn      func(w storage.RowWriter) error
		want    error
	}{
		{"a drawn revision of a missing collection", account, func(w storage.RowWriter) error {
			if _, err := w.Counts(ctx, account, coll); err != nil {
				return err
			}
			if _, err := w.NextCountedRevision(ctx, account, coll+1000, 1, 1); err != nil {
				return err
			}
			return w.MoveCounts(ctx, coll, 1, 1, 1) // queued behind it: never applied
		}, storage.ErrNotFound},
		{"a queued write of a missing collection", account, func(w storage.RowWriter) error {
			if err := w.MoveCounts(ctx, coll+1000, 1, 1, 1); err != nil {
				return err
			}
			return w.MoveCounts(ctx, coll, 1, 1, 1) // queued behind it: never applied
		}, storage.ErrNotFound},
		{"a failed write, then a read", account, func(w storage.RowWriter) error {
			w.MoveCounts(ctx, coll, 1, 1, 1)
			w.PutChange(ctx, coll+1000, storage.ChangeRow{NameMAC: []byte("x"), NameSealed: []byte("x"), Revision: 1})
			_, err := w.Counts(ctx, account, coll)
			return err
		}, storage.ErrNotFound},
		{"a missing account, errors swallowed", account + 1000, func(w storage.RowWriter) error {
			w.Counts(ctx, account, coll)
			w.MoveCounts(ctx, coll, 1, 1, 1)
			return nil
		}, storage.ErrNotFound},
		{"a missing account, no statement", account + 1000, func(w storage.RowWriter) error { return nil }, storage.ErrNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := counts()
			err := db.Update(ctx, tc.account, tc.fn)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Update = %v, want %v", err, tc.want)
			}
			if after := counts(); after != before {
				t.Fatalf("counts %+v after a failed Update, %+v before", after, before)
			}
			// The connection went back clean: the next Update works.
			if err := db.Update(ctx, account, func(w storage.RowWriter) error { _, err := w.Counts(ctx, account, coll); return err }); err != nil {
				t.Fatalf("the next Update: %v", err)
			}
		})
	}
}

// TestSpacePutStatements: what a PUT through the sealed layer sends in its
// write transaction, counted, so that a statement or round trip added to
// the path fails here.
func TestSpacePutStatements(t *testing.T) {
	db, rt, account, _ := tracedDB(t)
	ctx := context.Background()
	keys, err := encryption.NewKeyring(make([]byte, encryption.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	c, err := db.Space(account, keys).CreateCollection(ctx, storage.NewCollection{Home: storage.HomeCalendars, Name: "cal", Kind: storage.KindCalendar})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name                   string
		body                   string
		statements, roundTrips int64
	}{
		// [BEGIN, lock, PutState: the collection, the object row, the
		// UID holder and the name's last change in one],
		// [NextCountedRevision (drawn from the revision the lock read),
		// InsertObject with its body (its id reserved before), PutChange,
		// COMMIT].
		{"create", "one", 7, 2},
		// [BEGIN, lock, PutState], [NextCountedRevision, UpdateObject
		// with its body, PutChange, COMMIT]: the name held an object, so
		// its last change is no deletion to read.
		{"replace", "two", 7, 2},
	}
	// The first new object reserves a block of ids.
	if _, err := db.Space(account, keys).PutObject(ctx, c.ID, storage.PutOptions{Name: "first.ics", UID: "first", Body: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := db.Space(account, keys)
			if _, err := s.Collection(ctx, storage.HomeCalendars, "cal"); err != nil { // as dav resolves the path first
				t.Fatal(err)
			}
			n, stmts := rt.n.Load(), rt.stmts.Load()
			res, err := s.PutObject(ctx, c.ID, storage.PutOptions{Name: "a.ics", UID: "a", Body: []byte(tc.body)})
			if err != nil {
				t.Fatal(err)
			}
			if got := rt.stmts.Load() - stmts; got != tc.statements {
				t.Errorf("%d statements, want %d", got, tc.statements)
			}
			if got := rt.n.Load() - n; got != tc.roundTrips {
				t.Errorf("%d round trips, want %d", got, tc.roundTrips)
			}
			o, err := s.Object(ctx, c.ID, "a.ics", storage.ReadOptions{Body: true})
			if err != nil || string(o.Body) != tc.body || o.ETag != res.Object.ETag {
				t.Errorf("read back %+v, %v; want body %q, ETag %q", o, err, tc.body, res.Object.ETag)
			}
		})
	}
}

// TestPutAfterDeletion: a PUT that brings a deleted name back, told by its
// PutState that the name's last change is a deletion, takes that deletion
// off the collection's count.
func TestPutAfterDeletion(t *testing.T) {
	db, _, account, _ := tracedDB(t)
	ctx := context.Background()
	keys, err := encryption.NewKeyring(make([]byte, encryption.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	s := db.Space(account, keys)
	c, err := s.CreateCollection(ctx, storage.NewCollection{Home: storage.HomeCalendars, Name: "cal", Kind: storage.KindCalendar})
	if err != nil {
		t.Fatal(err)
	}
	tombstones := func() (n int64) {
		t.Helper()
		if err := db.pool.QueryRow(ctx, `SELECT tombstones FROM collections WHERE id = $1`, c.ID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	steps := []struct {
		name string
		do   func() error
		want int64
	}{
		{"put", func() error {
			_, err := s.PutObject(ctx, c.ID, storage.PutOptions{Name: "a.ics", Body: []byte("1")})
			return err
		}, 0},
		{"delete", func() error { return s.DeleteObject(ctx, c.ID, "a.ics", storage.DeleteOptions{}) }, 1},
		{"put again", func() error {
			_, err := s.PutObject(ctx, c.ID, storage.PutOptions{Name: "a.ics", Body: []byte("2")})
			return err
		}, 0},
		{"put another", func() error {
			_, err := s.PutObject(ctx, c.ID, storage.PutOptions{Name: "b.ics", Body: []byte("3")})
			return err
		}, 0},
	}
	for _, st := range steps {
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if got := tombstones(); got != st.want {
			t.Fatalf("after %s: %d deletions counted, want %d", st.name, got, st.want)
		}
	}
}

// TestObjectIDs: the ids that two instances reserve from one database
// never meet, and the sequence, which an insert without an id draws
// from, has moved past all of them.
func TestObjectIDs(t *testing.T) {
	db, _, _, _ := tracedDB(t)
	ctx := context.Background()
	var one, two objectIDs
	seen := map[int64]bool{}
	for range 3 * idBlock {
		for _, ids := range []*objectIDs{&one, &two} {
			id, err := ids.next(ctx, db.pool)
			if err != nil {
				t.Fatal(err)
			}
			if seen[id] {
				t.Fatalf("id %d handed out twice", id)
			}
			seen[id] = true
		}
	}
	var next int64
	if err := db.pool.QueryRow(ctx, `SELECT nextval(pg_get_serial_sequence('objects', 'id'))`).Scan(&next); err != nil {
		t.Fatal(err)
	}
	for id := range seen {
		if id >= next {
			t.Errorf("id %d handed out, and the sequence is at %d", id, next)
		}
	}
}
