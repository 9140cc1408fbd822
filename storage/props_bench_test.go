package storage

import (
	"bytes"
	"context"
	"fmt"
	"testing"
)

// BenchmarkPatchOneProperty sets one small property of a collection that
// already holds none, or 60 KB in 30 others: with one row per property the
// two cost about the same.
func BenchmarkPatchOneProperty(b *testing.B) {
	for _, stored := range []int{0, 30} {
		b.Run(fmt.Sprintf("stored=%dKB", stored*2), func(b *testing.B) {
			_, s, _ := testSpace(b)
			ctx := context.Background()
			c, err := s.CreateCollection(ctx, NewCollection{Home: HomeCalendars, Name: "c", Kind: KindCalendar})
			if err != nil {
				b.Fatal(err)
			}
			many := Props{}
			for i := range stored {
				many[fmt.Sprintf("{urn:x}p%02d", i)] = bytes.Repeat([]byte{'a'}, 2000)
			}
			if err := s.PatchCollection(ctx, c.ID, PatchOptions{Set: many}); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := range b.N {
				if err := s.PatchCollection(ctx, c.ID, PatchOptions{Set: Props{"{DAV:}displayname": []byte(fmt.Sprint(i))}}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
