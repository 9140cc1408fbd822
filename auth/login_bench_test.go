package auth

import (
	"context"
	"testing"
)

// newBenchService returns a service over an in-memory store with one user,
// alice, whose password is "alice-password", and her cached login.
func newBenchService(b *testing.B) *Service {
	b.Helper()
	st := &memStore{creds: map[string]*Credentials{}}
	s, err := New(st, Options{KDF: testKDF, ServerSecret: make([]byte, 32)})
	if err != nil {
		b.Fatal(err)
	}
	e, err := s.Enroll("alice-password")
	if err != nil {
		b.Fatal(err)
	}
	slots, err := e.Slots(1)
	if err != nil {
		b.Fatal(err)
	}
	st.creds["alice"] = &Credentials{AccountID: 1, Username: "alice", PasswordSlot: slots["password"], RecoverySlot: slots["recovery"]}
	if _, err := s.Login(context.Background(), "alice", "alice-password"); err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkLoginCacheHit measures a DAV request's login once the
// password was verified: a MAC of user and password and a map lookup,
// with no Argon2 run. "parallel" shows the cache's lock under load.
func BenchmarkLoginCacheHit(b *testing.B) {
	ctx := context.Background()
	b.Run("serial", func(b *testing.B) {
		s := newBenchService(b)
		runs := s.Argon2Runs()
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.Login(ctx, "alice", "alice-password"); err != nil {
				b.Fatal(err)
			}
		}
		if s.Argon2Runs() != runs {
			b.Fatalf("cache hits ran Argon2 %d times", s.Argon2Runs()-runs)
		}
	})
	b.Run("parallel", func(b *testing.B) {
		s := newBenchService(b)
		runs := s.Argon2Runs()
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := s.Login(ctx, "alice", "alice-password"); err != nil {
					b.Error(err)
					return
				}
			}
		})
		if s.Argon2Runs() != runs {
			b.Fatalf("cache hits ran Argon2 %d times", s.Argon2Runs()-runs)
		}
	})
}

// BenchmarkLoginCacheMiss measures what a login costs without the cache:
// one Argon2 run at OWASP's floor (the default costs about three times as
// much), for comparison with the hit.
func BenchmarkLoginCacheMiss(b *testing.B) {
	s := newBenchService(b)
	ctx := context.Background()
	for b.Loop() {
		s.Forget("alice")
		if _, err := s.Login(ctx, "alice", "alice-password"); err != nil {
			b.Fatal(err)
		}
	}
}
