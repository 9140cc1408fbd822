package storagetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/coffer-dav/coffer/storage"
)

// failureCase is one behaviour of the LoginFailures role.
type failureCase struct {
	name string
	run  func(t *testing.T, a, b storage.LoginFailures)
}

// failureCases are the behaviours LoginFailures and LoginFailuresInstances
// check; with one store, it plays both parts.
var failureCases = []failureCase{
	{"login failures/count and read", testFailuresCount},
	{"login failures/the latest failure counts", testFailuresLatest},
	{"login failures/start afresh", testFailuresAfresh},
	{"login failures/forget", testFailuresForget},
	{"login failures/concurrent failures all count", testFailuresConcurrent},
	{"login failures/claims", testFailuresClaims},
	{"login failures/one claim of many at once", testFailuresClaimRace},
}

// LoginFailures runs the contract of the LoginFailures role against the
// stores open makes, one fresh, empty store for each case; the cases for
// two instances run with the store in both places.
func LoginFailures(t *testing.T, open func(t *testing.T) storage.LoginFailures) {
	for _, c := range failureCases {
		t.Run(c.name, func(t *testing.T) {
			s := open(t)
			c.run(t, s, s)
		})
	}
}

// LoginFailuresInstances runs the contract with two stores on one fresh,
// empty database, as two instances have them: what one counts, the other
// reads, and their concurrent failures all count.
func LoginFailuresInstances(t *testing.T, open func(t *testing.T) (a, b storage.LoginFailures)) {
	for _, c := range failureCases {
		t.Run(c.name, func(t *testing.T) {
			a, b := open(t)
			c.run(t, a, b)
		})
	}
}

// failureID returns a distinct opaque id of 16 bytes.
func failureID(n int) []byte { return fmt.Appendf(nil, "throttle-id-%04d", n) }

// failureAt is a moment with microseconds, which the stores keep.
func failureAt(s int) time.Time { return time.Unix(1_700_000_000+int64(s), 123_456_000).UTC() }

// wantFailures fails the test unless rs are the failures and last times given.
func wantFailures(t *testing.T, what string, rs []storage.LoginFailure, want ...storage.LoginFailure) {
	t.Helper()
	if len(rs) != len(want) {
		t.Fatalf("%s: %d records, want %d", what, len(rs), len(want))
	}
	for i := range rs {
		if rs[i].Failures != want[i].Failures || !rs[i].Last.Equal(want[i].Last) {
			t.Fatalf("%s: record %d is %d failures, last %v; want %d, last %v", what, i, rs[i].Failures, rs[i].Last, want[i].Failures, want[i].Last)
		}
	}
}

// read returns the records of ids, failing the test on an error.
func read(t *testing.T, s storage.LoginFailures, ids ...[]byte) []storage.LoginFailure {
	t.Helper()
	rs, err := s.LoginFailures(context.Background(), ids)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// add counts a failure on ids, failing the test on an error.
func add(t *testing.T, s storage.LoginFailures, now, since time.Time, ids ...[]byte) []storage.LoginFailure {
	t.Helper()
	rs, err := s.AddLoginFailures(context.Background(), ids, now, since)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

func testFailuresCount(t *testing.T, a, b storage.LoginFailures) {
	x, y, z := failureID(1), failureID(2), failureID(3)
	none := failureAt(-3600)
	wantFailures(t, "unknown ids", read(t, a, x, y), storage.LoginFailure{}, storage.LoginFailure{})
	wantFailures(t, "first failure", add(t, a, failureAt(0), none, x, y),
		storage.LoginFailure{Failures: 1, Last: failureAt(0)}, storage.LoginFailure{Failures: 1, Last: failureAt(0)})
	wantFailures(t, "second failure, on the other instance", add(t, b, failureAt(1), none, y, z),
		storage.LoginFailure{Failures: 2, Last: failureAt(1)}, storage.LoginFailure{Failures: 1, Last: failureAt(1)})
	wantFailures(t, "read, in the order asked", read(t, a, z, failureID(9), x, y),
		storage.LoginFailure{Failures: 1, Last: failureAt(1)}, storage.LoginFailure{},
		storage.LoginFailure{Failures: 1, Last: failureAt(0)}, storage.LoginFailure{Failures: 2, Last: failureAt(1)})
}

func testFailuresLatest(t *testing.T, a, b storage.LoginFailures) {
	x := failureID(1)
	none := failureAt(-3600)
	add(t, a, failureAt(5), none, x)
	// A failure that reaches the store late counts, and leaves the later time.
	wantFailures(t, "a late failure", add(t, b, failureAt(3), none, x), storage.LoginFailure{Failures: 2, Last: failureAt(5)})
	wantFailures(t, "read", read(t, a, x), storage.LoginFailure{Failures: 2, Last: failureAt(5)})
}

func testFailuresAfresh(t *testing.T, a, b storage.LoginFailures) {
	x, y := failureID(1), failureID(2)
	for i := range 3 {
		add(t, a, failureAt(i), failureAt(-3600), x)
	}
	add(t, a, failureAt(10), failureAt(-3600), y)
	// x last failed at 2, before since: it starts again at one; y did not.
	wantFailures(t, "after since", add(t, b, failureAt(100), failureAt(5), x, y),
		storage.LoginFailure{Failures: 1, Last: failureAt(100)}, storage.LoginFailure{Failures: 2, Last: failureAt(100)})
}

func testFailuresForget(t *testing.T, a, b storage.LoginFailures) {
	x, y := failureID(1), failureID(2)
	add(t, a, failureAt(0), failureAt(-3600), x)
	add(t, a, failureAt(10), failureAt(-3600), y)
	if err := b.ForgetLoginFailures(context.Background(), failureAt(10)); err != nil {
		t.Fatal(err)
	}
	wantFailures(t, "after forgetting", read(t, a, x, y), storage.LoginFailure{}, storage.LoginFailure{Failures: 1, Last: failureAt(10)})
}

// testFailuresConcurrent: N failures at once, spread over both stores and
// naming the same two ids in both orders, count N on each.
func testFailuresConcurrent(t *testing.T, a, b storage.LoginFailures) {
	const n = 200
	x, y := failureID(1), failureID(2)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, ids := a, [][]byte{x, y}
			if i%2 == 1 {
				s, ids = b, [][]byte{y, x}
			}
			if _, err := s.AddLoginFailures(context.Background(), ids, failureAt(i%7), failureAt(-3600)); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for _, s := range []storage.LoginFailures{a, b} {
		wantFailures(t, fmt.Sprintf("%d concurrent failures", n), read(t, s, x, y),
			storage.LoginFailure{Failures: n, Last: failureAt(6)}, storage.LoginFailure{Failures: n, Last: failureAt(6)})
	}
}

// claim claims ids at now until until, failing the test on an error.
func claim(t *testing.T, s storage.LoginFailures, now, until time.Time, ids ...[]byte) bool {
	t.Helper()
	rs, ok, err := s.ClaimLoginAttempt(context.Background(), ids, now, until)
	if err != nil {
		t.Fatal(err)
	}
	if ok && len(rs) != len(ids) {
		t.Fatalf("a claim of %d ids returned %d records", len(ids), len(rs))
	}
	return ok
}

func testFailuresClaims(t *testing.T, a, b storage.LoginFailures) {
	ctx := context.Background()
	x, y, z := failureID(1), failureID(2), failureID(3)
	add(t, a, failureAt(0), failureAt(-3600), x)
	if !claim(t, a, failureAt(1), failureAt(61), x, y) {
		t.Fatal("a first claim failed")
	}
	if claim(t, b, failureAt(2), failureAt(62), y, z) {
		t.Fatal("a claim on an id claimed by another attempt succeeded")
	}
	if !claim(t, b, failureAt(2), failureAt(62), z) {
		t.Fatal("a claim on another id failed")
	}
	// The claim leaves the count alone, and a forgetting does not take it.
	wantFailures(t, "a claimed record", read(t, b, x), storage.LoginFailure{Failures: 1, Last: failureAt(0)})
	if err := b.ForgetLoginFailures(ctx, failureAt(30)); err != nil {
		t.Fatal(err)
	}
	if claim(t, b, failureAt(3), failureAt(63), y) {
		t.Fatal("a forgetting took a running claim")
	}
	// A release with another claim's time keeps the claim; its own ends it.
	if err := b.ReleaseLoginAttempt(ctx, [][]byte{x, y}, failureAt(99)); err != nil {
		t.Fatal(err)
	}
	if claim(t, b, failureAt(3), failureAt(63), x) {
		t.Fatal("a release of another claim ended this one")
	}
	if err := b.ReleaseLoginAttempt(ctx, [][]byte{x, y}, failureAt(61)); err != nil {
		t.Fatal(err)
	}
	if !claim(t, b, failureAt(4), failureAt(64), x, y) {
		t.Fatal("a claim after the release failed")
	}
	// A claim never released ends at its time.
	if !claim(t, a, failureAt(64), failureAt(124), y, z) {
		t.Fatal("a claim past the end of the last one failed")
	}
	// The claim returns the records as it found them.
	add(t, b, failureAt(125), failureAt(-3600), x)
	rs, ok, err := a.ClaimLoginAttempt(ctx, [][]byte{failureID(9), x}, failureAt(126), failureAt(186))
	if err != nil || !ok {
		t.Fatalf("a claim: %v, %v", ok, err)
	}
	wantFailures(t, "a claim's records", rs, storage.LoginFailure{}, storage.LoginFailure{Failures: 2, Last: failureAt(125)})
	if !rs[1].Claimed.Equal(failureAt(186)) {
		t.Fatalf("a claim's record is claimed until %v, want %v", rs[1].Claimed, failureAt(186))
	}
	// A failure on a record that only held a claim counts from one.
	wantFailures(t, "a failure after a claim", add(t, a, failureAt(70), failureAt(-3600), z), storage.LoginFailure{Failures: 1, Last: failureAt(70)})
}

// testFailuresClaimRace: of 50 claims at once, over both stores, on the
// same ids in both orders, one succeeds.
func testFailuresClaimRace(t *testing.T, a, b storage.LoginFailures) {
	const n = 50
	x, y := failureID(1), failureID(2)
	var wg sync.WaitGroup
	var mu sync.Mutex
	won := 0
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, ids := a, [][]byte{x, y}
			if i%2 == 1 {
				s, ids = b, [][]byte{y, x}
			}
			_, ok, err := s.ClaimLoginAttempt(context.Background(), ids, failureAt(0), failureAt(60+i))
			if err != nil {
				t.Error(err)
				return
			}
			if ok {
				mu.Lock()
				won++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if won != 1 {
		t.Fatalf("%d of %d claims at once succeeded, want 1", won, n)
	}
}
