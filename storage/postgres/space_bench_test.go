package postgres_test

import (
	"context"
	"encoding/binary"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/coffer-dav/coffer/encryption"
	"github.com/coffer-dav/coffer/storage"
	"github.com/coffer-dav/coffer/storage/postgres"
	"github.com/coffer-dav/coffer/storage/storagetest"
)

// benchAccount opens a fresh database and creates an account on it.
func benchAccount(b *testing.B) (*postgres.DB, int64) {
	b.Helper()
	db, err := postgres.Open(context.Background(), storagetest.Postgres(b), postgres.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	a, err := db.CreateAccount(context.Background(), storage.NewAccount{Username: "bench",
		Slots: func(int64) (map[string]encryption.Slot, error) { return nil, nil }})
	if err != nil {
		b.Fatal(err)
	}
	return db, a.ID
}

// BenchmarkEngineWrite measures one object write as the sealed layer
// makes it: a revision, the object and its body, the change and the
// collection's totals, in one Update.
func BenchmarkEngineWrite(b *testing.B) {
	db, acct := benchAccount(b)
	ctx := context.Background()
	var coll int64
	if err := db.Update(ctx, acct, func(w storage.RowWriter) error {
		c := storage.CollectionRow{Account: acct, Home: storage.HomeCalendars, Kind: storage.KindCalendar, UID: []byte("u"), NameMAC: []byte("m"), NameSealed: []byte("n"), PropsSealed: []byte{}}
		var err error
		coll, err = w.InsertCollection(ctx, &c)
		return err
	}); err != nil {
		b.Fatal(err)
	}
	body := make([]byte, 2048)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		err := db.Update(ctx, acct, func(w storage.RowWriter) error {
			rev, err := w.NextRevision(ctx, acct)
			if err != nil {
				return err
			}
			mac := binary.BigEndian.AppendUint64(nil, uint64(i))
			o := storage.ObjectRow{Collection: coll, NameMAC: mac, NameSealed: mac, ETag: "e", CtypeSealed: []byte{}, BodySealed: body, Size: 2048, Revision: rev, SealV: 1, SealedRev: rev}
			if _, err := w.InsertObject(ctx, &o); err != nil {
				return err
			}
			if err := w.PutChange(ctx, coll, storage.ChangeRow{NameMAC: mac, NameSealed: mac, Revision: rev}); err != nil {
				return err
			}
			return w.MoveCounts(ctx, coll, rev, 1, 2048)
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSpacePut measures PutObject through the sealed layer, and
// BenchmarkSpaceGet a read of one object with its body.
func BenchmarkSpacePut(b *testing.B) { benchSpace(b, false) }

// BenchmarkSpaceGet measures Object with its body through the sealed layer.
func BenchmarkSpaceGet(b *testing.B) { benchSpace(b, true) }

func benchSpace(b *testing.B, read bool) {
	db, acct := benchAccount(b)
	ctx := context.Background()
	keys, err := encryption.NewKeyring(make([]byte, encryption.KeySize))
	if err != nil {
		b.Fatal(err)
	}
	s := db.Space(acct, keys)
	c, err := s.CreateCollection(ctx, storage.NewCollection{Home: storage.HomeCalendars, Name: "c", Kind: storage.KindCalendar})
	if err != nil {
		b.Fatal(err)
	}
	body := make([]byte, 2048)
	if read {
		for i := range 100 {
			if _, err := s.PutObject(ctx, c.ID, storage.PutOptions{Name: strconv.Itoa(i) + ".ics", Body: body}); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if read {
			_, err = s.Object(ctx, c.ID, strconv.Itoa(i%100)+".ics", storage.ReadOptions{Body: true})
		} else {
			_, err = s.PutObject(ctx, c.ID, storage.PutOptions{Name: strconv.Itoa(i) + ".ics", UID: strconv.Itoa(i), Body: body})
		}
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEngineWriteParallel measures engine writes from parallel
// goroutines: all to one account, whose writes follow one another under
// its row lock, or each to an account of its own.
func BenchmarkEngineWriteParallel(b *testing.B) {
	for _, shared := range []bool{true, false} {
		name := "an account each"
		if shared {
			name = "one account"
		}
		b.Run(name, func(b *testing.B) {
			db, first := benchAccount(b)
			ctx := context.Background()
			var next atomic.Int64
			b.RunParallel(func(pb *testing.PB) {
				acct := first
				if !shared {
					a, err := db.CreateAccount(ctx, storage.NewAccount{Username: "bench" + strconv.FormatInt(next.Add(1), 10),
						Slots: func(int64) (map[string]encryption.Slot, error) { return nil, nil }})
					if err != nil {
						b.Error(err)
						return
					}
					acct = a.ID
				}
				var coll int64
				err := db.Update(ctx, acct, func(w storage.RowWriter) error {
					mac := binary.BigEndian.AppendUint64(nil, uint64(next.Add(1)))
					c := storage.CollectionRow{Account: acct, Home: storage.HomeCalendars, Kind: storage.KindCalendar, UID: mac, NameMAC: mac, NameSealed: mac, PropsSealed: []byte{}}
					var err error
					coll, err = w.InsertCollection(ctx, &c)
					return err
				})
				if err != nil {
					b.Error(err)
					return
				}
				for pb.Next() {
					err := db.Update(ctx, acct, func(w storage.RowWriter) error {
						rev, err := w.NextRevision(ctx, acct)
						if err != nil {
							return err
						}
						mac := binary.BigEndian.AppendUint64(nil, uint64(next.Add(1)))
						o := storage.ObjectRow{Collection: coll, NameMAC: mac, NameSealed: mac, ETag: "e", CtypeSealed: []byte{}, BodySealed: mac, Size: 8, Revision: rev, SealV: 1, SealedRev: rev}
						if _, err := w.InsertObject(ctx, &o); err != nil {
							return err
						}
						if err := w.PutChange(ctx, coll, storage.ChangeRow{NameMAC: mac, NameSealed: mac, Revision: rev}); err != nil {
							return err
						}
						return w.MoveCounts(ctx, coll, rev, 1, 8)
					})
					if err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
