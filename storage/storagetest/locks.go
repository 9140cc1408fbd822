package storagetest

import (
	"context"
	"testing"

	"github.com/coffer-dav/coffer/storage"
)

// Locks runs the contract of named locks with two handles on one
// database, as two instances hold them: a lock has one holder at a time,
// across the handles, until its release; names are independent.
func Locks(t *testing.T, open func(t *testing.T) (storage.Locks, storage.Locks)) {
	ctx := context.Background()
	a, b := open(t)
	try := func(t *testing.T, l storage.Locks, name string, want bool) func() {
		t.Helper()
		release, ok, err := l.TryLock(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		if ok != want {
			t.Fatalf("TryLock(%q) = %v, want %v", name, ok, want)
		}
		if ok && release == nil {
			t.Fatalf("TryLock(%q) granted without a release", name)
		}
		return release
	}
	release := try(t, a, "sweeper", true)
	steps := []struct {
		name string
		l    storage.Locks
		lock string
		want bool
	}{
		{"held: the other instance waits", b, "sweeper", false},
		{"held: the same handle is refused too", a, "sweeper", false},
		{"another name is free", b, "mail", true},
	}
	var held []func()
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			if r := try(t, s.l, s.lock, s.want); r != nil {
				held = append(held, r)
			}
		})
	}
	release()
	release() // a second release is harmless
	t.Run("released: the other instance takes it", func(t *testing.T) {
		held = append(held, try(t, b, "sweeper", true))
		try(t, a, "sweeper", false)
	})
	for _, r := range held {
		r()
	}
	t.Run("all released: free again", func(t *testing.T) {
		try(t, a, "sweeper", true)()
		try(t, a, "mail", true)()
	})
}
