package dav

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/coffer-dav/coffer/storage"
)

// syncFixture is a calendar of a given size, with a sync token taken just
// before one more change.
type syncFixture struct {
	ts    *testServer
	token string // answers with exactly one change
}

// syncBody is the sync-collection request DAVx5 sends (clients.md 2.5.7).
const syncBody = `<?xml version="1.0" encoding="UTF-8"?><sync-collection xmlns="DAV:"><sync-token>%s</sync-token><sync-level>1</sync-level><prop><getetag/></prop></sync-collection>`

// benchEvent returns the n-th event of a fixture calendar.
func benchEvent(n int, summary string) string {
	return fmt.Sprintf("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bench//EN\r\nBEGIN:VEVENT\r\nUID:bench-%d@example.org\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260101T%02d0000Z\r\nDURATION:PT1H\r\nSUMMARY:%s %d\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n", n, n%24, summary, n)
}

// newSyncFixture builds a calendar of size objects, takes a token, then
// changes one object through the handler.
func newSyncFixture(tb testing.TB, size int) *syncFixture {
	ts := newTestServer(tb)
	ctx := context.Background()
	cal, err := ts.alice.Collection(ctx, storage.HomeCalendars, "calendar")
	if err != nil {
		tb.Fatal(err)
	}
	for i := 0; i < size; i++ {
		_, err := ts.alice.PutObject(ctx, cal.ID, storage.PutOptions{
			Name: fmt.Sprintf("bench-%d.ics", i), UID: fmt.Sprintf("bench-%d@example.org", i),
			ContentType: "text/calendar", Body: []byte(benchEvent(i, "Event")),
		})
		if err != nil {
			tb.Fatal(err)
		}
	}
	first := parseMS(tb, ts.do(tb, "alice", "REPORT", calPath, fmt.Sprintf(syncBody, ""), "Depth: 1"))
	if len(first.Responses) != size {
		tb.Fatalf("initial sync lists %d of %d objects", len(first.Responses), size)
	}
	rec := ts.do(tb, "alice", "PUT", calPath+"bench-7.ics", benchEvent(7, "Changed"), "Content-Type: text/calendar")
	if rec.Code != 204 {
		tb.Fatalf("PUT change: %d %s", rec.Code, rec.Body)
	}
	return &syncFixture{ts: ts, token: first.SyncToken}
}

// incrementalSync runs the sync-collection REPORT of the fixture and checks
// that it reports exactly the one change.
func (f *syncFixture) incrementalSync(tb testing.TB) {
	rec := f.ts.do(tb, "alice", "REPORT", calPath, fmt.Sprintf(syncBody, f.token), "Depth: 1")
	if rec.Code != 207 {
		tb.Fatalf("sync-collection: %d %s", rec.Code, rec.Body)
	}
	body := rec.Body.String()
	if n := strings.Count(body, "<D:response>"); n != 1 || !strings.Contains(body, calPath+"bench-7.ics") {
		tb.Fatalf("incremental sync reports %d responses, want only bench-7.ics:\n%.2000s", n, body)
	}
}

// TestIncrementalSyncReportsOnlyTheChange: after one change in a collection
// of many objects, sync-collection returns that change alone.
func TestIncrementalSyncReportsOnlyTheChange(t *testing.T) {
	newSyncFixture(t, 500).incrementalSync(t)
}

// BenchmarkIncrementalSync measures a sync-collection with one change on
// collections of 100 and 10,000 objects; its cost must grow with the
// number of changes, not with the collection (issue 3: within 1.5 times).
func BenchmarkIncrementalSync(b *testing.B) {
	// The fixtures belong to the parent, which outlives every run of the
	// sub-benchmarks: building 10,000 durable writes once is enough.
	for _, size := range []int{100, 10000} {
		f := newSyncFixture(b, size)
		b.Run(fmt.Sprintf("objects=%d", size), func(b *testing.B) {
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				f.incrementalSync(b)
			}
		})
	}
}
