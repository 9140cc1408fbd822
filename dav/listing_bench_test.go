package dav

import (
	"strings"
	"testing"
)

// listingBody is the PROPFIND DAVx5 sends to list a collection before an
// initial sync (clients.md 2.5.7).
const listingBody = `<?xml version="1.0" encoding="UTF-8"?><propfind xmlns="DAV:"><prop><resourcetype/><getetag/></prop></propfind>`

// BenchmarkListing measures a PROPFIND Depth 1 of a calendar of 10,000
// objects, the first request of an initial sync.
func BenchmarkListing(b *testing.B) {
	f := newSyncFixture(b, 10_000)
	b.ResetTimer()
	for b.Loop() {
		rec := f.ts.do(b, "alice", "PROPFIND", calPath, listingBody, "Depth: 1")
		if rec.Code != 207 || strings.Count(rec.Body.String(), "<D:response>") != 10_001 {
			b.Fatalf("listing: %d, %d responses", rec.Code, strings.Count(rec.Body.String(), "<D:response>"))
		}
	}
}
