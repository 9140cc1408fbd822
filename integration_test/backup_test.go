package integration_test

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestBackupWhileWritingAndRestore makes an online backup while writers go
// on, restores it into a fresh data folder, and syncs against it: every
// write acknowledged before the backup started is there with its ETag, and
// the backup holds no plaintext.
func TestBackupWhileWritingAndRestore(t *testing.T) {
	if onPostgres() {
		// With --database the commands refuse, pointing to PostgreSQL's tools.
		s := startServer(t, "")
		for _, args := range [][]string{
			{"backup", filepath.Join(t.TempDir(), "backup"), "--data", s.data},
			{"restore", t.TempDir(), "--data", filepath.Join(t.TempDir(), "restored")},
		} {
			if out, err := coffer(t, "", args...); err == nil || !strings.Contains(out, "pg_dump") {
				t.Errorf("%s with --database: %v\n%s\nwant a refusal naming pg_dump", args[0], err, out)
			}
		}
	}
	sqliteOnly(t, "backups are pg_dump's job (coffer backup and restore refuse, checked above)")
	s := startServer(t, "")
	c := s.client(t, s.User, s.Password)
	cal := "/dav/calendars/" + s.User + "/calendar/"
	before := map[string]string{}
	for i := 0; i < 30; i++ {
		p := fmt.Sprintf("%sbefore-%d.ics", cal, i)
		before[p] = c.must(201, "PUT", p, event(fmt.Sprintf("before-%d", i), "BACKUP-MARKER-SUMMARY"), "Content-Type", "text/calendar").Header.Get("ETag")
	}
	// Writers keep going during the backup.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var during atomic.Int32
	for w := 0; w < 2; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				req, _ := http.NewRequest("PUT", strings.TrimSuffix(s.URL, "/")+fmt.Sprintf("%sduring-%d-%d.ics", cal, w, i), strings.NewReader(event(fmt.Sprintf("during-%d-%d", w, i), "x")))
				req.SetBasicAuth(s.User, s.Password)
				req.Header.Set("Content-Type", "text/calendar")
				if resp, err := http.DefaultClient.Do(req); err == nil {
					resp.Body.Close()
					if resp.StatusCode == 201 {
						during.Add(1)
					}
				}
			}
		}(w)
	}
	time.Sleep(100 * time.Millisecond)
	dest := filepath.Join(t.TempDir(), "backup")
	out, err := coffer(t, "", "backup", dest, "--data", s.data)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatalf("backup: %v\n%s", err, out)
	}
	if during.Load() == 0 {
		t.Fatal("no write went on during the backup")
	}
	for _, name := range []string{"coffer.db", "server.key"} {
		b, err := os.ReadFile(filepath.Join(dest, name))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), "BACKUP-MARKER-SUMMARY") {
			t.Fatalf("the backup's %s holds plaintext", name)
		}
	}
	s.Stop()

	restored := filepath.Join(t.TempDir(), "restored")
	if out, err := coffer(t, "", "restore", dest, "--data", restored); err != nil {
		t.Fatalf("restore: %v\n%s", err, out)
	}
	if out, err := coffer(t, "", "restore", dest, "--data", restored); err == nil {
		t.Fatalf("a second restore over existing data succeeded without --force:\n%s", out)
	}
	s2 := startServer(t, restored)
	c2 := s2.client(t, s.User, s.Password)
	for p, etag := range before {
		if r := c2.must(200, "GET", p, ""); r.Header.Get("ETag") != etag {
			t.Errorf("%s: ETag %s after restore, %s before", p, r.Header.Get("ETag"), etag)
		}
	}
	// A client syncs against the restored server.
	sync := c2.must(207, "REPORT", cal, `<sync-collection xmlns="DAV:"><sync-token/><sync-level>1</sync-level><prop><getetag/></prop></sync-collection>`, "Depth", "1")
	if n := len(parseMultistatus(t, sync.Body).Responses); n < len(before) {
		t.Fatalf("sync lists %d objects after restore, want at least %d", n, len(before))
	}
	c2.must(201, "PUT", cal+"after.ics", event("after-restore", "new"), "Content-Type", "text/calendar")
}
