package postgres

import (
	"context"
	"fmt"
	"hash/fnv"
	"sync"
)

// lockSpace is the first key of every advisory lock TryLock takes, so that
// they cannot meet the migrations' lock or another program's.
const lockSpace int32 = 0x636f66 // "cof"

// TryLock takes a session-level advisory lock on a connection of its own,
// which it keeps until the release, so that one holder at a time runs a
// job across every instance on the database. A holder that dies loses
// its connection and with it the lock.
func (db *DB) TryLock(ctx context.Context, name string) (func(), bool, error) {
	h := fnv.New32a()
	h.Write([]byte(name))
	key := int32(h.Sum32())
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("postgres: lock %s: %w", name, err)
	}
	var ok bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1, $2)`, lockSpace, key).Scan(&ok); err != nil {
		conn.Release()
		return nil, false, fmt.Errorf("postgres: lock %s: %w", name, err)
	}
	if !ok {
		conn.Release()
		return nil, false, nil
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			// A failed unlock leaves the lock on the connection: close it,
			// which ends the session and the lock with it.
			if _, err := conn.Exec(context.Background(), `SELECT pg_advisory_unlock($1, $2)`, lockSpace, key); err != nil {
				conn.Conn().Close(context.Background())
			}
			conn.Release()
		})
	}, true, nil
}
