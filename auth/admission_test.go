package auth

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestKnownUsersLogInDuringAFlood is issue 11 point 3: while 100 threads
// send bad logins from ever new addresses, filling the Argon2 queue, three
// users who logged in before and whose cached logins are gone log in
// again, each within 2 s.
func TestKnownUsersLogInDuringAFlood(t *testing.T) {
	s, st := newTestService(t, Options{})
	ctx := context.Background()
	users := []string{"alice", "bob", "carol"}
	for i, name := range users[1:] {
		e, err := s.Enroll(name + "-password")
		if err != nil {
			t.Fatal(err)
		}
		slots, err := e.Slots(int64(i + 2))
		if err != nil {
			t.Fatal(err)
		}
		st.mu.Lock()
		st.creds[name] = &Credentials{AccountID: int64(i + 2), Username: name, PasswordSlot: slots["password"]}
		st.mu.Unlock()
	}
	for _, name := range users {
		if _, err := s.LoginFrom(ctx, name, name+"-password", "203.0.113.1:443"); err != nil {
			t.Fatal(err)
		}
		s.Forget(name) // the cached login expired
	}

	stop := make(chan struct{})
	var flood sync.WaitGroup
	var sent, throttled atomic.Int64
	for w := 0; w < 100; w++ {
		flood.Add(1)
		go func() {
			defer flood.Done()
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				// A new address and an unknown name each time: no
				// address or username ever reaches its allowance.
				_, err := s.LoginFrom(ctx, fmt.Sprintf("guess-%d-%d", w, n), "wrong-password", fmt.Sprintf("10.%d.%d.%d:1", w, n/250%250, n%250))
				if errors.As(err, new(*Throttled)) {
					throttled.Add(1)
				}
				sent.Add(1)
			}
		}()
	}
	// Until the queue is full and turning logins away.
	for deadline := time.Now().Add(10 * time.Second); throttled.Load() == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the flood never filled the queue")
		}
	}
	took := make([]time.Duration, len(users))
	errs := make([]error, len(users))
	var logins sync.WaitGroup
	for i, name := range users {
		logins.Add(1)
		go func() {
			defer logins.Done()
			start := time.Now()
			_, errs[i] = s.LoginFrom(ctx, name, name+"-password", fmt.Sprintf("198.51.100.%d:443", i))
			took[i] = time.Since(start)
		}()
	}
	logins.Wait()
	close(stop)
	flood.Wait()
	t.Logf("fresh logins of known users under a 100-thread flood (%d bad logins, %d throttled): %v", sent.Load(), throttled.Load(), took)
	for i, name := range users {
		if errs[i] != nil || took[i] > 2*time.Second {
			t.Errorf("%s's fresh login under the flood: %v after %v, want success within 2 s", name, errs[i], took[i])
		}
	}
}

// TestAdmissionTakesSourcesInTurn: waiting logins are served one source
// after the other, known ones first, and a source waits with at most its
// share.
func TestAdmissionTakesSourcesInTurn(t *testing.T) {
	a := newAdmission(1, 64)
	ctx := context.Background()
	hold, err := a.acquire(ctx, "x", false)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var served []string
	var wg sync.WaitGroup
	queued := 0
	enqueue := func(src string, known bool) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			release, err := a.acquire(ctx, src, known)
			if err != nil {
				t.Errorf("%s: %v", src, err)
				return
			}
			mu.Lock()
			served = append(served, src)
			mu.Unlock()
			release()
		}()
		// Wait until it is queued, so the order is the test's.
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
			a.mu.Lock()
			n := a.lanes[0].waiting + a.lanes[1].waiting
			a.mu.Unlock()
			if n == queued+1 || time.Now().After(deadline) {
				queued = n
				break
			}
		}
	}
	for _, src := range []string{"flood", "flood", "flood", "flood"} {
		enqueue(src, false)
	}
	if _, err := a.acquire(ctx, "flood", false); !errors.As(err, new(*Throttled)) {
		t.Fatalf("a fifth waiting login of one source: %v", err)
	}
	enqueue("other", false)
	enqueue("known", true)
	hold()
	wg.Wait()
	want := []string{"known", "flood", "other", "flood", "flood", "flood"}
	if fmt.Sprint(served) != fmt.Sprint(want) {
		t.Fatalf("served %v, want %v", served, want)
	}
}

// TestSourceOf: a client counts by its IPv4 address, or by its IPv6 /64.
func TestSourceOf(t *testing.T) {
	for _, tt := range []struct{ addr, want string }{
		{"192.0.2.7:4000", "192.0.2.7"},
		{"192.0.2.7", "192.0.2.7"},
		{"[2001:db8:1:2:aaaa::1]:443", "2001:db8:1:2::/64"},
		{"[2001:db8:1:2:bbbb:cccc:dddd:eeee]:80", "2001:db8:1:2::/64"},
		{"2001:db8:1:3::9", "2001:db8:1:3::/64"},
		{"[::ffff:192.0.2.7]:1", "::ffff:192.0.2.7"},
		{"", ""},
		{"not an address", "not an address"},
	} {
		if got := sourceOf(tt.addr); got != tt.want {
			t.Errorf("sourceOf(%q) = %q, want %q", tt.addr, got, tt.want)
		}
	}
}

// TestOneIPv6SubnetHasOneAllowance: guesses from 100 addresses of one /64
// share the allowance of one address.
func TestOneIPv6SubnetHasOneAllowance(t *testing.T) {
	s, _ := newTestService(t, Options{})
	ctx := context.Background()
	for i := 0; i < 100; i++ {
		s.LoginFrom(ctx, "alice", fmt.Sprint("guess-", i), fmt.Sprintf("[2001:db8:5:6::%x]:443", i+1))
	}
	if runs := s.Argon2Runs(); runs != 5 {
		t.Fatalf("100 guesses from one /64 ran Argon2 %d times, want 5", runs)
	}
}
