package memory_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/coffer-dav/coffer/storage"
	"github.com/coffer-dav/coffer/storage/memory"
	"github.com/coffer-dav/coffer/storage/storagetest"
)

// TestLoginFailuresContract runs the LoginFailures contract in memory, one
// store playing both instances (the Services of one process that share it).
func TestLoginFailuresContract(t *testing.T) {
	storagetest.LoginFailures(t, func(t *testing.T) storage.LoginFailures { return memory.NewLoginFailures(0) })
}

// TestLoginFailuresBounded: past the bound, old records go, and then the
// oldest half, also when all of them come from one moment.
func TestLoginFailuresBounded(t *testing.T) {
	ctx := context.Background()
	for _, step := range []time.Duration{time.Millisecond, 0} {
		f := memory.NewLoginFailures(1000)
		now := time.Unix(1_000_000, 0)
		for i := range 20000 {
			now = now.Add(step)
			if _, err := f.AddLoginFailures(ctx, [][]byte{fmt.Appendf(nil, "id-%d", i)}, now, now.Add(-time.Hour)); err != nil {
				t.Fatal(err)
			}
		}
		if n := f.Len(); n > 1001 {
			t.Fatalf("step %v: %d records kept, bound 1000", step, n)
		}
	}
}
