package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coffer-dav/coffer/storage"
)

// TestUpdatesTogether: Updates of one account that wait while another
// (a) runs share one transaction (b, c, d), each in its savepoint. One whose fn fails
// is undone alone, and the revision it drew goes to the next; a
// statement that fails on the server spoils the transaction, and then
// each runs again alone, with the outcome it would have had alone.
func TestUpdatesTogether(t *testing.T) {
	tests := []struct {
		name    string
		fails   string // how the third fails: "fn" (its fn), "server" (a queued statement), "swallowed" (a statement whose failure its fn ignores)
		runs    int32  // how often b and d, which wait together with c, ran
		begins  int64  // the transactions begun
		objects []string
	}{
		{"a write that fails undoes its own", "fn", 1, 2, []string{"a", "b", "d"}},
		{"a statement that fails on the server", "server", 2, 5, []string{"a", "b", "d"}},
		{"a failed statement, its failure ignored", "swallowed", 2, 5, []string{"a", "b", "d"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, rt, account, coll := tracedDB(t)
			ctx := context.Background()
			var before int64
			if err := db.pool.QueryRow(ctx, `SELECT revision FROM accounts WHERE id = $1`, account).Scan(&before); err != nil {
				t.Fatal(err)
			}
			rt.begins.Store(0)
			release := make(chan struct{})
			var held atomic.Bool
			runs := map[string]*atomic.Int32{}
			failed := errors.New("the fn failed")
			fns := map[string]func(w storage.RowWriter) error{}
			for _, name := range []string{"a", "b", "c", "d"} {
				runs[name] = &atomic.Int32{}
				fns[name] = func(w storage.RowWriter) error {
					runs[name].Add(1)
					if err := writeObject(ctx, w, account, coll, name); err != nil {
						return err
					}
					switch {
					case name == "a" && held.CompareAndSwap(false, true):
						<-release // the others come meanwhile
					case name == "c" && tt.fails == "server":
						return w.MoveCounts(ctx, coll+1000, 0, 1, 1) // fails with the next statement
					case name == "c" && tt.fails == "swallowed":
						o := storage.ObjectRow{Collection: coll, NameMAC: []byte("a"), NameSealed: []byte("a"), ETag: "e", CtypeSealed: []byte{}, SealV: 1}
						w.InsertObject(ctx, &o) // a's name: the unique index refuses it
						return nil
					case name == "c":
						return failed
					}
					return nil
				}
			}
			outcomes := map[string]chan error{}
			start := func(name string) {
				outcomes[name] = make(chan error, 1)
				go func() { outcomes[name] <- db.Update(ctx, account, fns[name]) }()
			}
			start("a")
			for !held.Load() {
				time.Sleep(time.Millisecond)
			}
			for i, name := range []string{"b", "c", "d"} {
				start(name)
				for db.gates.waitingAt(account) < i+1 {
					time.Sleep(time.Millisecond)
				}
			}
			close(release)
			for _, name := range []string{"a", "b", "c", "d"} {
				err := <-outcomes[name]
				switch {
				case name != "c" && err != nil:
					t.Errorf("update %s: %v", name, err)
				case name == "c" && tt.fails == "server" && !errors.Is(err, storage.ErrNotFound):
					t.Errorf("update c, whose statement fails: %v, want not found", err)
				case name == "c" && tt.fails == "swallowed" && err == nil:
					t.Errorf("update c, whose statement fails: no error")
				case name == "c" && tt.fails == "fn" && err != failed:
					t.Errorf("update c, whose fn fails: %v", err)
				}
				if (name == "b" || name == "d") && runs[name].Load() != tt.runs {
					t.Errorf("update %s ran %d times, want %d", name, runs[name].Load(), tt.runs)
				}
			}
			if n := rt.begins.Load(); n != tt.begins {
				t.Errorf("%d transactions, want %d", n, tt.begins)
			}
			rows, err := db.pool.Query(ctx, `SELECT name_mac, revision FROM objects WHERE collection_id = $1 ORDER BY revision`, coll)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			want := before
			for rows.Next() {
				var mac []byte
				var rev int64
				if err := rows.Scan(&mac, &rev); err != nil {
					t.Fatal(err)
				}
				got = append(got, string(mac))
				if want++; rev != want {
					t.Errorf("object %s has revision %d, want %d: the revisions skip or repeat", mac, rev, want)
				}
			}
			if rows.Err() != nil {
				t.Fatal(rows.Err())
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.objects) {
				t.Errorf("objects %v, want %v", got, tt.objects)
			}
			var after int64
			if err := db.pool.QueryRow(ctx, `SELECT revision FROM accounts WHERE id = $1`, account).Scan(&after); err != nil {
				t.Fatal(err)
			}
			if after != want {
				t.Errorf("the account's revision is %d, want %d", after, want)
			}
		})
	}
}
