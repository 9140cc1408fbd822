package auth

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkThrottle measures the throttle's part of a login that reaches
// Argon2 (Begin, then End), over the in-memory store: a failure and a
// success, each from one of 1,000 addresses.
func BenchmarkThrottle(b *testing.B) {
	addrs := make([]string, 1000)
	for i := range addrs {
		addrs[i] = fmt.Sprintf("10.5.%d.%d", i/250, i%250)
	}
	for _, tt := range []struct {
		name string
		err  error
	}{{"failure", ErrBadCredentials}, {"success", nil}} {
		b.Run(tt.name, func(b *testing.B) {
			th := NewThrottle(ThrottleOptions{Free: 1 << 30, UserFree: 1 << 30})
			now := time.Unix(1_000_000, 0)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				a, err := th.Begin("alice", addrs[i%len(addrs)], now)
				if err != nil {
					b.Fatal(err)
				}
				a.End(tt.err, now)
				i++
			}
		})
	}
}
