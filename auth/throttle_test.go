package auth

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coffer-dav/coffer/storage/memory"
)

// errAbandoned settles an attempt that neither failed nor succeeded.
var errAbandoned = errors.New("abandoned")

// check reports whether a login would be admitted now, leaving no trace.
func check(th *Throttle, username, addr string, now time.Time) error {
	a, err := th.Begin(username, addr, now)
	if err == nil {
		a.End(errAbandoned, now)
	}
	return err
}

// records returns how many records th keeps in memory: failure records in
// its in-memory store, and records with attempts in flight.
func records(th *Throttle) int {
	return th.store.(*memory.LoginFailures).Len() + len(th.inflight)
}

// fail records a failed login, if it is admitted.
func fail(th *Throttle, username, addr string, now time.Time) {
	if a, err := th.Begin(username, addr, now); err == nil {
		a.End(ErrBadCredentials, now)
	}
}

func TestThrottleBackoff(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	th := NewThrottle(ThrottleOptions{Free: 3, Base: time.Second, Max: time.Minute, UserFree: 100})
	var throttled *Throttled
	for i := 0; i < 3; i++ {
		if err := check(th, "alice", "10.0.0.1", now); err != nil {
			t.Fatalf("failure %d throttled already: %v", i, err)
		}
		fail(th, "alice", "10.0.0.1", now)
	}
	// Past the free failures, the delay doubles with each one.
	var waits []time.Duration
	for i := 0; i < 8; i++ {
		err := check(th, "alice", "10.0.0.1", now)
		if !errors.As(err, &throttled) {
			t.Fatalf("step %d: not throttled: %v", i, err)
		}
		waits = append(waits, throttled.RetryAfter)
		now = now.Add(throttled.RetryAfter)
		if err := check(th, "alice", "10.0.0.1", now); err != nil {
			t.Fatalf("step %d: still throttled after Retry-After: %v", i, err)
		}
		fail(th, "alice", "10.0.0.1", now)
	}
	for i := 1; i < len(waits); i++ {
		if waits[i] < waits[i-1] || waits[i] > time.Minute+time.Second {
			t.Fatalf("delays %v do not grow up to the cap", waits)
		}
	}
	if waits[len(waits)-1] != time.Minute+time.Second {
		t.Fatalf("delays %v never reach the cap", waits)
	}
	// The same address is throttled for other usernames too.
	if err := check(th, "bob", "10.0.0.1", now); !errors.As(err, &throttled) {
		t.Fatalf("another user from the failing address: %v", err)
	}
	// Another address is not, even for the attacked username.
	if err := check(th, "alice", "10.0.0.2", now); err != nil {
		t.Fatalf("a clean address is throttled: %v", err)
	}
}

// TestThrottleUsernameFromManyAddresses is issue 11 point 4: past
// UserFree failures of a username from any addresses, every attempt on it
// waits, from addresses that never failed too, and the wait grows with
// the total.
func TestThrottleUsernameFromManyAddresses(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	th := NewThrottle(ThrottleOptions{Free: 5, UserFree: 10, Base: time.Second, Max: time.Hour})
	// A distributed guesser: one failure from each of many addresses.
	for i := 0; i < 10; i++ {
		fail(th, "alice", fmt.Sprintf("10.1.0.%d", i), now)
	}
	var throttled *Throttled
	var waits []time.Duration
	for i := 0; i < 5; i++ {
		err := check(th, "alice", fmt.Sprintf("192.0.2.%d", i), now)
		if !errors.As(err, &throttled) {
			t.Fatalf("attempt %d on alice, from a new address, past 10 failures: %v", i, err)
		}
		waits = append(waits, throttled.RetryAfter)
		now = now.Add(throttled.RetryAfter)
		fail(th, "alice", fmt.Sprintf("198.51.100.%d", i), now)
	}
	for i := 1; i < len(waits); i++ {
		if waits[i] <= waits[i-1] {
			t.Fatalf("waits %v do not grow with the failures", waits)
		}
	}
	// Other usernames from the same addresses are not held back.
	if err := check(th, "bob", "192.0.2.1", now); err != nil {
		t.Fatalf("bob from an address that only tried alice: %v", err)
	}
}

func TestThrottleMemoryIsBounded(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	th := NewThrottle(ThrottleOptions{MaxKeys: 1000})
	for i := 0; i < 20000; i++ {
		now = now.Add(time.Millisecond)
		fail(th, fmt.Sprintf("user%d", i), fmt.Sprintf("addr%d", i), now)
	}
	if n := records(th); n > 1000+2 {
		t.Fatalf("%d keys kept, bound 1000", n)
	}
	// 1,000 failures from one address against one account keep two keys.
	th = NewThrottle(ThrottleOptions{})
	for i := 0; i < 1000; i++ {
		fail(th, "alice", "10.0.0.1", now)
	}
	if n := records(th); n != 2 {
		t.Fatalf("%d keys for one address and one user", n)
	}
}

func TestLoginFromThrottlesFailuresButNotCachedLogins(t *testing.T) {
	s, st := newTestService(t, Options{Throttle: ThrottleOptions{Free: 3}})
	ctx := context.Background()
	// A device that logged in before the attack keeps working from anywhere.
	if _, err := s.LoginFrom(ctx, "alice", "alice-password", "10.0.0.9:5000"); err != nil {
		t.Fatal(err)
	}
	var throttled *Throttled
	for i := 0; i < 3; i++ {
		if _, err := s.LoginFrom(ctx, "alice", fmt.Sprint("guess-", i), "192.0.2.1:4000"); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("guess %d: %v", i, err)
		}
	}
	before := st.calls.Load()
	for i := 0; i < 100; i++ {
		if _, err := s.LoginFrom(ctx, "alice", fmt.Sprint("more-", i), "192.0.2.1:4001"); !errors.As(err, &throttled) {
			t.Fatalf("guess past the free ones: %v", err)
		}
	}
	if st.calls.Load() != before {
		t.Fatal("throttled guesses still ran a verification")
	}
	if _, err := s.LoginFrom(ctx, "alice", "alice-password", "10.0.0.9:5000"); err != nil {
		t.Fatalf("the cached device is throttled: %v", err)
	}
	if _, err := s.LoginFrom(ctx, "alice", "alice-password", "198.51.100.7:1"); err != nil {
		t.Fatalf("a correct login from a clean address: %v", err)
	}
	// Local commands (no address) are not throttled.
	if _, err := s.Login(ctx, "alice", "not-it"); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("local login: %v", err)
	}
}

// TestLoginRefusesImpossibleUsernames is issue 11 point 1: a name that
// cannot be a username is refused before any throttle entry, store call or
// Argon2 run.
func TestLoginRefusesImpossibleUsernames(t *testing.T) {
	s, st := newTestService(t, Options{})
	ctx := context.Background()
	for _, tt := range []struct {
		name, username string
	}{
		{"1 MiB", strings.Repeat("a", 1<<20)},
		{"65 characters", strings.Repeat("a", 65)},
		{"empty", ""},
		{"upper case", "Alice"},
		{"leading dot", ".alice"},
		{"a NUL", "al\x00ice"},
		{"a space", "al ice"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			calls, runs := st.calls.Load(), s.Argon2Runs()
			_, err := s.LoginFrom(ctx, tt.username, "some-password", "192.0.2.1:4000")
			if !errors.Is(err, ErrBadCredentials) || !errors.Is(err, ErrNotAUsername) {
				t.Fatalf("login: %v, want ErrNotAUsername", err)
			}
			if st.calls.Load() != calls || s.Argon2Runs() != runs {
				t.Fatal("an impossible username reached the store or Argon2")
			}
			if n := records(s.throttle); n != 0 {
				t.Fatalf("an impossible username left %d throttle records", n)
			}
		})
	}
	// A possible one goes on to the check, and is counted.
	if _, err := s.LoginFrom(ctx, strings.Repeat("a", 64), "some-password", "192.0.2.1:4000"); !errors.Is(err, ErrBadCredentials) || errors.Is(err, ErrNotAUsername) {
		t.Fatalf("a possible username: %v", err)
	}
	if records(s.throttle) == 0 {
		t.Fatal("a failed login left no throttle record")
	}
}

// TestThrottleRecordsHaveAFixedSize is issue 11 point 1: failures with huge
// names keep records of a fixed size, whatever the names' length.
func TestThrottleRecordsHaveAFixedSize(t *testing.T) {
	th := NewThrottle(ThrottleOptions{})
	now := time.Unix(1_000_000, 0)
	name := []byte(strings.Repeat("x", 100<<10))
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := 0; i < 1000; i++ {
		copy(name, fmt.Sprintf("%08d", i)) // a new 100 KB name each time, the caller's copy is garbage
		fail(th, string(name), fmt.Sprintf("10.2.%d.%d", i/250, i%250), now)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(th)
	grew := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("1,000 failures with 100 KB usernames: the heap grew by %d KiB", grew>>10)
	if grew > 2<<20 {
		t.Fatalf("1,000 failures with 100 KB usernames kept %d KiB", grew>>10)
	}
}

// TestThrottleCountsAttemptsInFlight is issue 11 point 2: attempts admitted
// and not yet settled count as failures, so parallel guesses from one
// address get no more than the allowance past the check.
func TestThrottleCountsAttemptsInFlight(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	th := NewThrottle(ThrottleOptions{Free: 5})
	var admitted []*Attempt
	for i := 0; i < 100; i++ {
		if a, err := th.Begin("alice", "10.0.0.1", now); err == nil {
			admitted = append(admitted, a)
		}
	}
	if len(admitted) != 5 {
		t.Fatalf("%d of 100 attempts in flight admitted, want 5", len(admitted))
	}
	// Settled as successes, they leave nothing behind; as failures, the backoff.
	for _, a := range admitted[:2] {
		a.End(nil, now)
	}
	if err := check(th, "alice", "10.0.0.1", now); err != nil {
		t.Fatalf("after two successes: %v", err)
	}
	for _, a := range admitted[2:] {
		a.End(ErrBadCredentials, now)
	}
	for i := 0; i < 2; i++ {
		fail(th, "alice", "10.0.0.1", now)
	}
	var throttled *Throttled
	if err := check(th, "alice", "10.0.0.1", now); !errors.As(err, &throttled) {
		t.Fatalf("after five failures: %v", err)
	}
}

// TestParallelGuessesReachArgon2AtMostTheAllowance is issue 11 point 2: 100
// parallel guesses from one new address run Argon2 at most 5 times.
func TestParallelGuessesReachArgon2AtMostTheAllowance(t *testing.T) {
	s, _ := newTestService(t, Options{MaxWaiting: 200})
	ctx := context.Background()
	var wg sync.WaitGroup
	var mu sync.Mutex
	results := map[string]int{}
	start := make(chan struct{})
	for i := 0; i < 100; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, err := s.LoginFrom(ctx, "alice", fmt.Sprint("guess-", i), fmt.Sprintf("192.0.2.1:%d", 4000+i))
			var throttled *Throttled
			mu.Lock()
			defer mu.Unlock()
			switch {
			case errors.Is(err, ErrBadCredentials):
				results["401"]++
			case errors.As(err, &throttled):
				results["503"]++
			default:
				results[fmt.Sprint(err)]++
			}
		}()
	}
	close(start)
	wg.Wait()
	runs := s.Argon2Runs()
	t.Logf("100 parallel guesses from one address: %d Argon2 runs, answers %v", runs, results)
	if runs > 5 || results["401"] > 5 || results["401"]+results["503"] != 100 {
		t.Fatalf("100 parallel guesses: %d Argon2 runs, answers %v; want at most 5 runs, the rest 503", runs, results)
	}
}

// TestSpreadGuessingIsSlowedButNotTheOwnersDevices is issue 11 point 4: one
// guess from each of 100 addresses against a username past 50 failures is
// throttled, not checked; the owner's cached login and app password still
// answer at once, from any address.
func TestSpreadGuessingIsSlowedButNotTheOwnersDevices(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	s, _ := newAppTestService(t, Options{Now: func() time.Time { return now }})
	ctx := context.Background()
	alice, err := s.LoginFrom(ctx, "alice", "alice-password", "203.0.113.7:443") // the laptop, cached
	if err != nil {
		t.Fatal(err)
	}
	_, phone, err := s.CreateAppPassword(ctx, alice, "phone")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 51; i++ {
		fail(s.throttle, "alice", fmt.Sprintf("10.3.0.%d", i), now)
	}
	runs := s.Argon2Runs()
	answers := map[string]int{}
	for i := 0; i < 100; i++ {
		_, err := s.LoginFrom(ctx, "alice", fmt.Sprint("guess-", i), fmt.Sprintf("10.4.%d.%d:5000", i/200, i%200))
		var throttled *Throttled
		switch {
		case errors.As(err, &throttled):
			answers["503"]++
		case errors.Is(err, ErrBadCredentials):
			answers["401"]++
		default:
			answers[fmt.Sprint(err)]++
		}
	}
	t.Logf("100 guesses from 100 addresses past 51 failures: answers %v, %d Argon2 runs", answers, s.Argon2Runs()-runs)
	if answers["503"] != 100 || s.Argon2Runs() != runs {
		t.Fatalf("100 spread guesses: answers %v, %d Argon2 runs; want all 503, none checked", answers, s.Argon2Runs()-runs)
	}
	for _, tt := range []struct{ device, password string }{{"cached laptop", "alice-password"}, {"app password", phone}} {
		if _, err := s.LoginFrom(ctx, "alice", tt.password, "198.51.100.9:1"); err != nil {
			t.Errorf("alice's %s from a new address: %v", tt.device, err)
		}
	}
	if s.Argon2Runs() != runs {
		t.Errorf("alice's own devices ran Argon2")
	}
}
