package auth

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coffer-dav/coffer/storage"
	"github.com/coffer-dav/coffer/storage/memory"
	"github.com/coffer-dav/coffer/storage/postgres"
	"github.com/coffer-dav/coffer/storage/storagetest"
)

// failingFailures is a LoginFailures store that is down.
type failingFailures struct{}

// errStoreDown is what failingFailures answers.
var errStoreDown = errors.New("the database is down")

func (failingFailures) AddLoginFailures(context.Context, [][]byte, time.Time, time.Time) ([]storage.LoginFailure, error) {
	return nil, errStoreDown
}

func (failingFailures) LoginFailures(context.Context, [][]byte) ([]storage.LoginFailure, error) {
	return nil, errStoreDown
}

func (failingFailures) ForgetLoginFailures(context.Context, time.Time) error { return errStoreDown }

func (failingFailures) ClaimLoginAttempt(context.Context, [][]byte, time.Time, time.Time) ([]storage.LoginFailure, bool, error) {
	return nil, false, errStoreDown
}

func (failingFailures) ReleaseLoginAttempt(context.Context, [][]byte, time.Time) error {
	return errStoreDown
}

// newSharedServices returns n Services over one credential store with
// alice in it, each with its own throttle over store (nil: each its own
// in-memory store), on the clock now.
func newSharedServices(t *testing.T, n int, store func() storage.LoginFailures, now *time.Time) []*Service {
	t.Helper()
	o := Options{KDF: testKDF, ServerSecret: make([]byte, 32), MaxWaiting: 200, Now: func() time.Time { return *now }}
	withStore := func() Options {
		if store != nil {
			o.Throttle.Store = store()
		}
		return o
	}
	first, st := newTestService(t, withStore())
	out := []*Service{first}
	for range n - 1 {
		s, err := New(st, withStore())
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// guessOutcome is how one guess was answered.
type guessOutcome struct {
	throttled  bool
	retryAfter time.Duration
}

// spreadGuesses sends 1,000 wrong passwords for alice from five addresses
// (so that each address's guesses go to every service),
// one every 700 ms of the clock, the i-th to services[i%len(services)],
// and returns the answers.
func spreadGuesses(t *testing.T, services []*Service, now *time.Time) []guessOutcome {
	t.Helper()
	ctx := context.Background()
	out := make([]guessOutcome, 0, 1000)
	for i := range 1000 {
		s := services[i%len(services)]
		_, err := s.LoginFrom(ctx, "alice", fmt.Sprint("guess-", i), fmt.Sprintf("192.0.2.%d:4000", i%5))
		var throttled *Throttled
		switch {
		case errors.As(err, &throttled):
			out = append(out, guessOutcome{true, throttled.RetryAfter})
		case errors.Is(err, ErrBadCredentials):
			out = append(out, guessOutcome{})
		default:
			t.Fatalf("guess %d: %v", i, err)
		}
		*now = now.Add(700 * time.Millisecond)
	}
	return out
}

// summary counts the refusals of outcomes and gives the last Retry-After.
func summary(outcomes []guessOutcome) (refused int, last time.Duration) {
	for _, o := range outcomes {
		if o.throttled {
			refused++
			last = o.retryAfter
		}
	}
	return refused, last
}

// TestSharedThrottleCountsGuessesSpreadOverInstances is issue 15's
// acceptance 2 for the throttle: 1,000 wrong passwords spread over two
// Services that share one store of failures are answered exactly as one
// Service answers them, each guess alike; two Services with a store each
// let through about twice as many.
func TestSharedThrottleCountsGuessesSpreadOverInstances(t *testing.T) {
	start := time.Unix(1_700_000_000, 0)
	now := start
	one := spreadGuesses(t, newSharedServices(t, 1, nil, &now), &now)
	refused, last := summary(one)
	t.Logf("one service: %d of 1,000 guesses refused, %d checked, the last Retry-After %v", refused, len(one)-refused, last)
	if refused < 900 || !one[len(one)-1].throttled {
		t.Fatalf("one service refused %d of 1,000 guesses", refused)
	}

	now = start
	apart := spreadGuesses(t, newSharedServices(t, 2, nil, &now), &now)
	r, l := summary(apart)
	t.Logf("two services, a store each: %d refused, %d checked, the last Retry-After %v", r, 1000-r, l)
	if 1000-r < 3*(1000-refused)/2 {
		t.Fatalf("two services with a store each checked %d guesses, one service %d: spreading should gain without a shared store", 1000-r, 1000-refused)
	}

	stores := map[string]func(t *testing.T) func() storage.LoginFailures{
		"in memory": func(t *testing.T) func() storage.LoginFailures {
			shared := memory.NewLoginFailures(0)
			return func() storage.LoginFailures { return shared }
		},
		"PostgreSQL": func(t *testing.T) func() storage.LoginFailures {
			dsn := storagetest.Postgres(t)
			return func() storage.LoginFailures {
				db, err := postgres.Open(context.Background(), dsn, postgres.Options{})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { db.Close() })
				return db
			}
		},
	}
	for _, name := range []string{"in memory", "PostgreSQL"} {
		t.Run(name, func(t *testing.T) {
			now = start
			store := stores[name](t)
			two := spreadGuesses(t, newSharedServices(t, 2, store, &now), &now)
			r, l := summary(two)
			t.Logf("two services sharing a store: %d of 1,000 guesses refused, the last Retry-After %v", r, l)
			if r != refused || l != last {
				t.Fatalf("two services sharing a store: %d refused, the last Retry-After %v; one service: %d, %v", r, l, refused, last)
			}
			for i := range one {
				if one[i] != two[i] {
					t.Fatalf("guess %d: %+v over two services, %+v over one", i, two[i], one[i])
				}
			}
		})
	}
}

// TestThrottleFailsClosed: when the store of failures is down, a login
// that would run Argon2 is refused as throttled, costs no Argon2 run and
// is logged; a cached login still answers, since it passes no throttle.
func TestThrottleFailsClosed(t *testing.T) {
	var logs bytes.Buffer
	s, _ := newTestService(t, Options{Throttle: ThrottleOptions{Store: failingFailures{}, Logger: slog.New(slog.NewTextHandler(&logs, nil))}})
	ctx := context.Background()
	// A local login (no address) passes no throttle: it fills the cache.
	if _, err := s.Login(ctx, "alice", "alice-password"); err != nil {
		t.Fatal(err)
	}
	runs := s.Argon2Runs()
	var throttled *Throttled
	if _, err := s.LoginFrom(ctx, "alice", "a-guess", "192.0.2.1:4000"); !errors.As(err, &throttled) || throttled.RetryAfter != storeRetry {
		t.Fatalf("a guess with the store down: %v, want throttled for %v", err, storeRetry)
	}
	if s.Argon2Runs() != runs {
		t.Fatal("a login refused for the store ran Argon2")
	}
	if !strings.Contains(logs.String(), "cannot be read") || strings.Contains(logs.String(), "a-guess") || strings.Contains(logs.String(), "192.0.2.1") {
		t.Fatalf("the log: %q", logs.String())
	}
	if _, err := s.LoginFrom(ctx, "alice", "alice-password", "192.0.2.1:4000"); err != nil {
		t.Fatalf("a cached login with the store down: %v", err)
	}
	// A client gone before the store answered is neither refused nor logged.
	logged := logs.Len()
	gone, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.LoginFrom(gone, "alice", "another-guess", "192.0.2.1:4000"); !errors.Is(err, context.Canceled) {
		t.Fatalf("a cancelled guess with the store down: %v", err)
	}
	if logs.Len() != logged {
		t.Fatalf("a cancelled login was logged: %q", logs.String()[logged:])
	}
	// A failure the store cannot count is logged.
	th := NewThrottle(ThrottleOptions{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	a, err := th.Begin("alice", "192.0.2.1", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	th.store = failingFailures{}
	a.End(ErrBadCredentials, time.Now())
	if !strings.Contains(logs.String(), "cannot count a failure") {
		t.Fatalf("the log: %q", logs.String())
	}
}

// TestParallelGuessesOverTwoInstances states what the shared throttle
// does with parallel guesses from one address over two Services that
// share a store. Attempts in flight within the allowance are counted by
// the process that admitted them, so a first burst reaches Argon2 at most
// twice the allowance less one: the attempt that uses it up, and every one
// past it, is claimed in the store, one at a time over all instances. So
// once the backoff ends, each window lets one guess through, as one
// Service does, not one per instance.
func TestParallelGuessesOverTwoInstances(t *testing.T) {
	t.Run("in memory", func(t *testing.T) {
		shared := memory.NewLoginFailures(0)
		parallelGuessesOverTwo(t, func() storage.LoginFailures { return shared })
	})
	t.Run("PostgreSQL", func(t *testing.T) {
		dsn := storagetest.Postgres(t)
		parallelGuessesOverTwo(t, func() storage.LoginFailures {
			db, err := postgres.Open(context.Background(), dsn, postgres.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return db
		})
	})
}

// parallelGuessesOverTwo is TestParallelGuessesOverTwoInstances over the
// stores that store returns, one for each Service.
func parallelGuessesOverTwo(t *testing.T, store func() storage.LoginFailures) {
	now := time.Unix(1_700_000_000, 0)
	services := newSharedServices(t, 2, store, &now)
	ctx := context.Background()
	runs := func() uint64 { return services[0].Argon2Runs() + services[1].Argon2Runs() }
	burst := func(n int) {
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				services[i%2].LoginFrom(ctx, "alice", fmt.Sprint("guess-", i), fmt.Sprintf("192.0.2.1:%d", 4000+i))
			}()
		}
		close(start)
		wg.Wait()
	}
	burst(100)
	first := runs()
	t.Logf("100 parallel guesses over two instances: %d Argon2 runs", first)
	if first > 9 {
		t.Fatalf("100 parallel guesses over two instances ran Argon2 %d times, want at most 9", first)
	}
	for w := range 10 {
		now = now.Add(16 * time.Minute) // past the longest backoff
		before := runs()
		burst(20)
		if n := runs() - before; n != 1 {
			t.Fatalf("window %d after the backoff: %d of 20 parallel guesses over two instances ran Argon2, want 1", w, n)
		}
	}
}
