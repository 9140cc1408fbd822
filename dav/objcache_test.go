package dav

import (
	"fmt"
	"testing"
	"time"

	"github.com/coffer-dav/coffer/dav/ical"
)

func TestParsedCache(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	c := newParsedCache(3, time.Minute)
	c.now = func() time.Time { return now }
	obj, err := ical.Parse([]byte(icsEvent))
	if err != nil {
		t.Fatal(err)
	}
	k := func(acct int64, name, etag string) parsedKey {
		return parsedKey{account: acct, collection: 1, name: name, etag: etag}
	}
	c.put(k(1, "a", "e1"), obj)
	tests := []struct {
		name string
		key  parsedKey
		hit  bool
	}{
		{"same version", k(1, "a", "e1"), true},
		{"changed object", k(1, "a", "e2"), false},
		{"another user's same name and tag", k(2, "a", "e1"), false},
	}
	for _, tt := range tests {
		if got := c.get(tt.key) != nil; got != tt.hit {
			t.Errorf("%s: hit = %v", tt.name, got)
		}
	}
	// Beyond the bound the least recently used go.
	for i := 0; i < 5; i++ {
		c.put(k(1, fmt.Sprint("n", i), "e"), obj)
	}
	if c.order.Len() != 3 || c.get(k(1, "a", "e1")) != nil || c.get(k(1, "n4", "e")) == nil {
		t.Fatalf("bound not kept: %d entries", c.order.Len())
	}
	// Idle entries are not served.
	now = now.Add(2 * time.Minute)
	if c.get(k(1, "n4", "e")) != nil {
		t.Fatal("an idle entry was served")
	}
	var off *parsedCache
	off.put(k(1, "x", "y"), obj)
	if off.get(k(1, "x", "y")) != nil {
		t.Fatal("a disabled cache served an entry")
	}
}
