package storage

import (
	"bytes"
	"context"
	"fmt"
	"testing"
)

// BenchmarkObjectsNamed reads batches of 10 objects with their bodies, as
// a multiget of DAVx5 does, from a collection of 1,000 contacts of about
// 1.5 KB, one in ten with a 60 KB photo.
func BenchmarkObjectsNamed(b *testing.B) {
	_, s, _ := testSpace(b)
	ctx := context.Background()
	c, err := s.CreateCollection(ctx, NewCollection{Home: HomeAddressBooks, Name: "contacts", Kind: KindAddressBook})
	if err != nil {
		b.Fatal(err)
	}
	names := make([]string, 1000)
	for i := range names {
		names[i] = fmt.Sprintf("card-%04d.vcf", i)
		body := bytes.Repeat([]byte("NOTE:a line of a contact of about twenty properties\r\n"), 28)
		if i%10 == 0 {
			body = append(body, bytes.Repeat([]byte(" QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5\r\n"), 850)...)
		}
		if _, err := s.PutObject(ctx, c.ID, PutOptions{Name: names[i], Body: body, ContentType: "text/vcard"}); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		lo := (i * 10) % len(names)
		objs, err := s.ObjectsNamed(ctx, c.ID, names[lo:lo+10], ReadOptions{Body: true})
		if err != nil || objs[9] == nil {
			b.Fatalf("batch at %d: %v", lo, err)
		}
	}
}
