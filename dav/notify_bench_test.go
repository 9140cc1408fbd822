package dav

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/coffer-dav/coffer/push/pushtest"
	"github.com/coffer-dav/coffer/storage"
)

// BenchmarkPutPush measures PUT with push on: the change hook and the
// Notifier run, with no subscription on the calendar, or with 100 whose
// push service never answers (a black hole), so that the sends wait for
// their timeouts while the PUTs go on. Acceptance: the rate with 100
// within 10% of the rate with none.
func BenchmarkPutPush(b *testing.B) {
	for _, subs := range []int{0, 100} {
		b.Run(fmt.Sprintf("subs=%d", subs), func(b *testing.B) {
			r := newNotifyRig(b)
			ctx := context.Background()
			cal, err := r.alice.Collection(ctx, storage.HomeCalendars, "calendar")
			if err != nil {
				b.Fatal(err)
			}
			var endpoints []string
			for range subs {
				s := r.svc.Subscribe()
				endpoints = append(endpoints, s.Endpoint)
				r.svc.SetAnswer(s.Endpoint, pushtest.BlackHole)
				if _, _, err := r.alice.AddSubscription(ctx, storage.PushTarget{Collection: cal.ID}, storage.NewSubscription{
					PushResource: s.Endpoint, PublicKey: s.P256dh, AuthSecret: s.Auth,
					Trigger: storage.PushTrigger{Content: true, ContentDepth: 1}, Expires: time.Now().Add(72 * time.Hour)}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			i := 0
			cpu := processCPU(b)
			for b.Loop() {
				rec := r.do(b, "alice", "PUT", fmt.Sprintf("%sb-%d.ics", calPath, i), benchEvent(i, "Event"), "Content-Type: text/calendar; charset=utf-8", "If-None-Match: *")
				if rec.Code != 201 {
					b.Fatalf("PUT: %d %s", rec.Code, rec.Body)
				}
				i++
			}
			b.StopTimer()
			// CPU time, this process's alone: what the PUTs and the push
			// work beside them cost, much less moved by the machine's other
			// load than the time per PUT.
			b.ReportMetric(float64(processCPU(b)-cpu)/float64(b.N), "cpu-ns/op")
			// The black hole was reached: the sends were under way.
			reached := 0
			for _, e := range endpoints {
				reached += r.svc.Attempts(e)
			}
			if subs > 0 && reached == 0 {
				b.Fatal("no send reached the push service")
			}
			b.ReportMetric(float64(reached), "sends-reached")
			b.ReportMetric(float64(r.n.Stats().QueueDrops), "queue-drops")
		})
	}
}

// processCPU returns the CPU time, user and system, this process has used.
func processCPU(b *testing.B) time.Duration {
	var u syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &u); err != nil {
		b.Fatal(err)
	}
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}
