package integration_test

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// rebuiltLine is the server's log line after a background rebuild.
var rebuiltLine = regexp.MustCompile(`msg="database rebuilt" took=(\S+)`)

// TestEraseDoesNotStallWriters: erasing an account while another user
// writes, with 40 MB in the database. The erase used to rebuild the whole
// file (VACUUM) inside its request, and every writer waited for it (0.4 s at
// 40 MB, growing with the file). Now the rebuild waits for a quiet moment,
// and the server logs how long it took: no write during the erase may wait
// even half as long as that rebuild.
func TestEraseDoesNotStallWriters(t *testing.T) {
	sqliteOnly(t, "no file rebuild (VACUUM) follows an erase; autovacuum reclaims the rows")
	s := startServerWith(t, "", "--rebuild-quiet", "1s")
	addUser(t, s.data, "bob", "bob-password")
	addUser(t, s.data, "carol", "carol-password")
	bob := s.client(t, "bob", "bob-password")
	carol := s.client(t, "carol", "carol-password")
	files := "/dav/addressbooks/bob/files/"
	bob.must(201, "MKCOL", files, "")
	chunk := make([]byte, 768<<10)
	for i := range 40 { // 40 MB of base64
		rand.Read(chunk)
		bob.must(201, "PUT", fmt.Sprintf("%sbig-%02d.bin", files, i), base64.StdEncoding.EncodeToString(chunk), "Content-Type", "application/octet-stream")
	}
	carol.must(201, "PUT", "/dav/calendars/carol/calendar/a.ics", event("carol-a", "Erased soon"), "Content-Type", "text/calendar")

	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		stall time.Duration
		puts  int
	)
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			start := time.Now()
			bob.must(201, "PUT", fmt.Sprintf("%sw-%d.txt", files, i), "small write", "Content-Type", "text/plain")
			mu.Lock()
			stall, puts = max(stall, time.Since(start)), puts+1
			mu.Unlock()
		}
	}()
	time.Sleep(200 * time.Millisecond)
	start := time.Now()
	carol.must(200, "POST", "/account/erase", `{"password": "carol-password"}`, "Content-Type", "application/json")
	erase := time.Since(start)
	time.Sleep(200 * time.Millisecond)
	close(stop)
	wg.Wait()
	carol.must(401, "PROPFIND", "/dav/calendars/carol/", "", "Depth", "0")

	// The rebuild follows once the writes have stopped.
	var took time.Duration
	deadline := time.Now().Add(30 * time.Second)
	for took == 0 {
		if m := rebuiltLine.FindStringSubmatch(s.output()); m != nil {
			var err error
			if took, err = time.ParseDuration(m[1]); err != nil {
				t.Fatalf("rebuild line %q: %v", m[0], err)
			}
		} else if time.Now().After(deadline) {
			t.Fatalf("no rebuild within 30s of the erase:\n%s", s.output())
		} else {
			time.Sleep(50 * time.Millisecond)
		}
	}
	t.Logf("erase answered in %v; the longest of %d writes meanwhile took %v; the rebuild took %v", erase, puts, stall, took)
	if stall >= took/2 {
		t.Errorf("a write waited %v during the erase; the rebuild takes %v", stall, took)
	}
	if n := strings.Count(s.output(), `msg="database rebuilt"`); n != 1 {
		t.Errorf("%d rebuilds for one erase, want 1", n)
	}
}
