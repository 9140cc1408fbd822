package storage

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// BenchmarkSubscriptions reads and opens the 100 subscriptions of one
// collection: what a delivery costs per change before it sends anything.
func BenchmarkSubscriptions(b *testing.B) {
	_, s, _ := testSpace(b)
	ctx := context.Background()
	c, err := s.CreateCollection(ctx, NewCollection{Home: HomeCalendars, Name: "work", Kind: KindCalendar})
	if err != nil {
		b.Fatal(err)
	}
	to := PushTarget{Collection: c.ID}
	for i := range 100 {
		if _, _, err := s.AddSubscription(ctx, to, NewSubscription{PushResource: fmt.Sprintf("https://push.example/device/%d", i),
			PublicKey: make([]byte, 65), AuthSecret: make([]byte, 16), Trigger: PushTrigger{Content: true, ContentDepth: 1}, Expires: time.Now().Add(time.Hour)}); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		subs, err := s.Subscriptions(ctx, to)
		if err != nil || len(subs) != 100 {
			b.Fatalf("%d subscriptions, %v", len(subs), err)
		}
	}
}
