package integration_test

import (
	"database/sql"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3" // to run PRAGMA integrity_check on the data folder
)

// crashKills is how many times the crash test kills the server.
const crashKills = 20

// ackedWrite is a write the server acknowledged, and what it must keep.
type ackedWrite struct {
	path, etag, body string
	deleted          bool
}

// TestCrashSafety keeps parallel writers busy and kills the server with
// SIGKILL at random moments, many times over. After each restart every
// acknowledged write is present with its ETag, no object is half-present,
// the change log agrees with the objects, and the database is intact.
func TestCrashSafety(t *testing.T) {
	s := startServer(t, "")
	user, password, data := s.User, s.Password, s.data
	cal := "/dav/calendars/" + user + "/calendar/"
	rng := rand.New(rand.NewPCG(1, uint64(time.Now().UnixNano())))

	var mu sync.Mutex
	acks := 0                                 // acknowledged requests over all rounds
	acked := map[string]ackedWrite{}          // path → the last acknowledged state
	attempted := map[string]map[string]bool{} // path → every body ever sent
	for round := 0; round < crashKills; round++ {
		base := strings.TrimSuffix(s.URL, "/")
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for w := 0; w < 4; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				hc := &http.Client{Timeout: 10 * time.Second}
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					// Each writer owns a few names and rewrites or deletes them.
					name := fmt.Sprintf("w%d-%d.ics", w, i%5)
					path := cal + name
					del := i%7 == 6
					body := event(fmt.Sprintf("crash-%d-%d", w, i%5), fmt.Sprintf("round %d write %d", round, i))
					method := "PUT"
					if del {
						method, body = "DELETE", ""
					} else {
						mu.Lock()
						if attempted[path] == nil {
							attempted[path] = map[string]bool{}
						}
						attempted[path][body] = true
						mu.Unlock()
					}
					req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
					req.SetBasicAuth(user, password)
					req.Header.Set("Content-Type", "text/calendar")
					resp, err := hc.Do(req)
					if err != nil {
						return // the server was killed under us
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					mu.Lock()
					acks++
					switch {
					case method == "PUT" && (resp.StatusCode == 201 || resp.StatusCode == 204):
						acked[path] = ackedWrite{path: path, etag: resp.Header.Get("ETag"), body: body}
					case method == "DELETE" && (resp.StatusCode == 204 || resp.StatusCode == 404):
						acked[path] = ackedWrite{path: path, deleted: true}
					default:
						t.Errorf("%s %s: %d", method, path, resp.StatusCode)
					}
					mu.Unlock()
				}
			}(w)
		}
		time.Sleep(time.Duration(50+rng.IntN(250)) * time.Millisecond)
		s.Kill()
		close(stop)
		wg.Wait()

		s = startServer(t, data)
		c := s.client(t, user, password)
		mu.Lock()
		checkCrashState(t, c, cal, acked, attempted)
		mu.Unlock()
		if t.Failed() {
			t.Fatalf("after kill %d", round+1)
		}
	}
	s.Stop()
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(data, "coffer.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var result string
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&result); err != nil || result != "ok" {
		t.Fatalf("integrity_check: %q, %v", result, err)
	}
	t.Logf("%d kills, %d acknowledged writes, %d names", crashKills, acks, len(acked))
	if len(acked) < 10 || acks < 5*crashKills {
		t.Fatalf("only %d writes to %d names were acknowledged: the writers did not get going", acks, len(acked))
	}
}

// checkCrashState compares the calendar after a restart with what was acknowledged.
func checkCrashState(t *testing.T, c *client, cal string, acked map[string]ackedWrite, attempted map[string]map[string]bool) {
	t.Helper()
	// Every acknowledged write is there, or, if a later unacknowledged write
	// to the same name may have landed, that write is there whole.
	listing := map[string]bool{}
	for _, h := range c.listing(t, cal) {
		listing[h] = true
	}
	for path, a := range acked {
		r := c.do("GET", path, "")
		switch {
		case r.Status == 200 && !attempted[path][r.Body]:
			t.Errorf("%s holds a body that was never sent (half-written?)", path)
		case a.deleted && r.Status == 404, !a.deleted && r.Status == 200 && r.Header.Get("ETag") == a.etag:
		case r.Status == 200 || r.Status == 404:
			// A write after the last acknowledged one reached the disk but
			// its answer was lost to the kill: allowed, as it is whole.
		default:
			t.Errorf("%s: status %d after restart", path, r.Status)
		}
		if (r.Status == 200) != listing[path] {
			t.Errorf("%s: GET %d but listed %v", path, r.Status, listing[path])
		}
	}
	// The change log agrees with the objects: an initial sync lists exactly
	// the objects a PROPFIND lists.
	sync := c.must(207, "REPORT", cal, `<sync-collection xmlns="DAV:"><sync-token/><sync-level>1</sync-level><prop><getetag/></prop></sync-collection>`, "Depth", "1")
	var synced, listed []string
	for _, r := range parseMultistatus(t, sync.Body).Responses {
		if r.Status == "" {
			synced = append(synced, r.Href)
		}
	}
	for h := range listing {
		listed = append(listed, h)
	}
	sort.Strings(synced)
	sort.Strings(listed)
	if strings.Join(synced, " ") != strings.Join(listed, " ") {
		t.Errorf("sync-collection lists %v, PROPFIND lists %v", synced, listed)
	}
}
