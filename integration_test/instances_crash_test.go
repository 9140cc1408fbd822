package integration_test

import (
	"encoding/xml"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// instanceKills is how many times TestInstanceCrash kills an instance.
const instanceKills = 10

// ackCounter counts the writes each instance acknowledged and wakes who
// waits for a number of them.
type ackCounter struct {
	mu      sync.Mutex
	n       []int
	waiters []ackWaiter
}

// ackWaiter waits until instance's count reaches at.
type ackWaiter struct {
	instance, at int
	done         chan struct{}
}

// add counts one write acknowledged by instance i.
func (a *ackCounter) add(i int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.n[i]++
	kept := a.waiters[:0]
	for _, w := range a.waiters {
		if a.n[w.instance] >= w.at {
			close(w.done)
		} else {
			kept = append(kept, w)
		}
	}
	a.waiters = kept
}

// more returns a channel closed once instance i acknowledged n more writes.
func (a *ackCounter) more(i, n int) <-chan struct{} {
	a.mu.Lock()
	defer a.mu.Unlock()
	w := ackWaiter{instance: i, at: a.n[i] + n, done: make(chan struct{})}
	a.waiters = append(a.waiters, w)
	return w.done
}

// total is the writes acknowledged by all instances.
func (a *ackCounter) total() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	sum := 0
	for _, n := range a.n {
		sum += n
	}
	return sum
}

// syncSnapshot is a sync-token taken during the run and the collection
// as the changes up to it made it: href → ETag.
type syncSnapshot struct {
	token   string
	members map[string]string
}

// TestInstanceCrash is issue 15's acceptance 3: two instances on one
// PostgreSQL database, four writers PUT and DELETE through both, and one
// instance, the two in turn, is killed with SIGKILL under them, 10 times.
// A write whose answer the kill swallowed is sent again to the survivor,
// as a client does; the writers go on there while the killed instance
// restarts on its data folder and database, then on both. After each round
// every path holds its last acknowledged write, with its ETag, read through
// the instance that was not killed, and the change log agrees with the
// objects. Meanwhile a client keeps syncing (sync-collection) through the
// instances in turn, keeping the tokens it got; at the end each token,
// replayed against the final state through either instance, turns the
// collection as it was at that token into exactly the final one: no token
// misses a change.
func TestInstanceCrash(t *testing.T) {
	in := startInstances(t, 2)
	user, password := in.User, in.Password
	cal := "/dav/calendars/" + user + "/calendar/"
	rng := rand.New(rand.NewPCG(2, uint64(time.Now().UnixNano())))
	start := time.Now()

	var mu sync.Mutex
	states := map[string]*pathState{} // path → its last acknowledged write
	acks := &ackCounter{n: make([]int, 2)}
	resent := 0 // requests sent again after a kill swallowed their answer
	// send sends one request to instance i, or to the other when i is
	// down, and again to the survivor when the kill swallows the answer,
	// until one is given. It returns the answer and the instance that gave
	// it; ok is false when the test must stop.
	send := func(hc *http.Client, i int, method, path, body string) (resp *http.Response, instance int, ok bool) {
		for try := 0; try < 100; try++ {
			base, k, up := in.pick(i + try)
			if !up {
				t.Errorf("%s %s: no instance serves", method, path)
				return nil, 0, false
			}
			req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
			req.SetBasicAuth(user, password)
			if method == "REPORT" {
				req.Header.Set("Content-Type", "application/xml; charset=utf-8")
				req.Header.Set("Depth", "0")
			} else if body != "" {
				req.Header.Set("Content-Type", "text/calendar")
			}
			resp, err := hc.Do(req)
			if err == nil {
				return resp, k, true
			}
			mu.Lock()
			resent++
			mu.Unlock()
		}
		t.Errorf("%s %s: no answer in 100 tries", method, path)
		return nil, 0, false
	}

	var snapshots []syncSnapshot // tokens taken during the run
	replica := map[string]string{}
	token := ""
	for round := 0; round < instanceKills; round++ {
		killed := round % 2
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for w := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				hc := &http.Client{Timeout: 10 * time.Second}
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					// Each writer owns a few names and rewrites or deletes
					// them, through the instances in turn.
					path := cal + fmt.Sprintf("w%d-%d.ics", w, i%5)
					del := i%7 == 6
					body := event(fmt.Sprintf("instances-%d-%d", w, i%5), fmt.Sprintf("round %d write %d", round, i))
					method := "PUT"
					if del {
						method, body = "DELETE", ""
					}
					sent := &pathWrite{body: body, deleted: del}
					mu.Lock()
					if states[path] == nil {
						states[path] = &pathState{}
					}
					st := states[path]
					st.inFlight = sent
					mu.Unlock()
					resp, k, ok := send(hc, w+i, method, path, body)
					if !ok {
						return
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					mu.Lock()
					switch {
					case method == "PUT" && (resp.StatusCode == 201 || resp.StatusCode == 204):
						sent.etag = resp.Header.Get("ETag")
						st.confirmed, st.inFlight = sent, nil
					case method == "DELETE" && (resp.StatusCode == 204 || resp.StatusCode == 404):
						st.confirmed, st.inFlight = sent, nil
					default:
						t.Errorf("%s %s on instance %d: %d", method, path, k+1, resp.StatusCode)
					}
					mu.Unlock()
					acks.add(k)
				}
			}()
		}
		// A client syncs through the instances in turn all along.
		syncDone := make(chan struct{})
		go func() {
			defer close(syncDone)
			hc := &http.Client{Timeout: 10 * time.Second}
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				resp, _, ok := send(hc, n, "REPORT", cal, syncCollectionBody(token))
				if !ok {
					return
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 207 {
					t.Errorf("sync-collection from %q: %d\n%s", token, resp.StatusCode, b)
					return
				}
				next, err := applySyncReport(string(b), cal, replica)
				if err != nil {
					t.Error(err)
					return
				}
				token = next
				if n%10 == 5 {
					snapshots = append(snapshots, syncSnapshot{token, maps.Clone(replica)})
				}
			}
		}()

		wait := func(ch <-chan struct{}, what string) {
			t.Helper()
			select {
			case <-ch:
			case <-time.After(60 * time.Second):
				close(stop)
				wg.Wait()
				t.Fatalf("round %d: %s did not come within 60 s", round+1, what)
			}
		}
		wait(acks.more(killed, 10), "10 writes on the instance to kill")
		time.Sleep(time.Duration(rng.IntN(200)) * time.Millisecond) // the kill comes at a random moment
		in.kill(killed)
		wait(acks.more(1-killed, 20), "20 writes on the survivor")
		in.restart(killed)
		wait(acks.more(killed, 20), "20 writes on the restarted instance")
		close(stop)
		wg.Wait()
		<-syncDone
		if t.Failed() {
			t.Fatalf("round %d", round+1)
		}

		survivor := in.server(1-killed).client(t, user, password)
		checkCrashState(t, survivor, cal, states)
		if t.Failed() {
			t.Fatalf("after kill %d (instance %d)", round+1, killed+1)
		}
	}

	// The final state, the same through either instance; the syncing
	// client's copy agrees with it after one more sync.
	var final map[string]string
	for i := range 2 {
		c := in.server(i).client(t, user, password)
		checkCrashState(t, c, cal, states)
		got := memberETags(t, c, cal)
		if i == 0 {
			final = got
		} else if diff := membersDiff(got, final); diff != "" {
			t.Fatalf("instance 2 lists other ETags than instance 1:\n%s", diff)
		}
	}
	// Each token taken during the run turns its copy into the final state.
	missed := 0
	for n, snap := range append(snapshots, syncSnapshot{token, replica}) {
		c := in.server(n%2).client(t, user, password)
		r := c.must(207, "REPORT", cal, syncCollectionBody(snap.token), "Content-Type", "application/xml; charset=utf-8", "Depth", "0")
		if _, err := applySyncReport(r.Body, cal, snap.members); err != nil {
			t.Fatal(err)
		}
		if diff := membersDiff(snap.members, final); diff != "" {
			if missed++; missed <= 3 {
				t.Errorf("the token %s (%d of %d), replayed on instance %d, misses changes:\n%s", snap.token, n+1, len(snapshots)+1, n%2+1, diff)
			}
		}
	}
	if missed > 0 {
		t.Errorf("%d of %d tokens miss changes", missed, len(snapshots)+1)
	}
	t.Logf("%d kills in %v: %d acknowledged writes (%v per instance), %d requests sent again after a kill, %d names, %d tokens replayed",
		instanceKills, time.Since(start).Round(time.Millisecond), acks.total(), acks.n, resent, len(states), len(snapshots)+1)
	if resent == 0 {
		t.Errorf("no request was under way at any of the %d kills", instanceKills)
	}
	if len(snapshots) < instanceKills {
		t.Errorf("only %d tokens were taken during the run", len(snapshots))
	}
}

// syncCollectionBody is a sync-collection REPORT from token ("" for an
// initial sync) asking for ETags.
func syncCollectionBody(token string) string {
	return `<?xml version="1.0" encoding="utf-8"?><sync-collection xmlns="DAV:"><sync-token>` + token +
		`</sync-token><sync-level>1</sync-level><prop><getetag/></prop></sync-collection>`
}

// applySyncReport applies a sync-collection answer to members (href →
// ETag) and returns its new token.
func applySyncReport(body, coll string, members map[string]string) (string, error) {
	var ms multistatus
	if err := xml.Unmarshal([]byte(body), &ms); err != nil {
		return "", fmt.Errorf("sync-collection answer: %v\n%s", err, body)
	}
	if ms.SyncToken == "" {
		return "", fmt.Errorf("sync-collection answer without a token:\n%s", body)
	}
	for _, r := range ms.Responses {
		switch {
		case r.Href == coll:
			return "", fmt.Errorf("sync-collection answer names the collection (truncated?):\n%s", body)
		case strings.Contains(r.Status, " 404 "):
			delete(members, r.Href)
		default:
			etag := propETag(r)
			if etag == "" {
				return "", fmt.Errorf("sync-collection: %s changed without an ETag:\n%s", r.Href, body)
			}
			members[r.Href] = etag
		}
	}
	return ms.SyncToken, nil
}

// propETag is the getetag of a response's 200 propstat. The inner XML
// lost the multistatus's namespace declarations: DAV: is declared again,
// as the default and as "D:", the prefix Coffer writes.
func propETag(r msResponse) string {
	for _, ps := range r.Propstats {
		if !strings.Contains(ps.Status, " 200 ") {
			continue
		}
		var p struct {
			ETag string `xml:"DAV: getetag"`
		}
		if err := xml.Unmarshal([]byte(`<p xmlns="DAV:" xmlns:D="DAV:">`+ps.Prop.Inner+"</p>"), &p); err == nil && p.ETag != "" {
			return strings.TrimSpace(p.ETag)
		}
	}
	return ""
}

// membersDiff describes how got differs from want (href → ETag), one
// line a member; "" when they are equal.
func membersDiff(got, want map[string]string) string {
	var b strings.Builder
	for _, href := range slices.Sorted(maps.Keys(want)) {
		if g, ok := got[href]; !ok {
			fmt.Fprintf(&b, "%s: missing, want %s\n", href, want[href])
		} else if g != want[href] {
			fmt.Fprintf(&b, "%s: ETag %s, want %s\n", href, g, want[href])
		}
	}
	for _, href := range slices.Sorted(maps.Keys(got)) {
		if _, ok := want[href]; !ok {
			fmt.Fprintf(&b, "%s: there, but deleted\n", href)
		}
	}
	return b.String()
}

// memberETags lists a collection with PROPFIND Depth 1: href → ETag.
func memberETags(t *testing.T, c *client, coll string) map[string]string {
	t.Helper()
	r := c.must(207, "PROPFIND", coll, `<?xml version="1.0" encoding="utf-8"?><propfind xmlns="DAV:"><prop><getetag/></prop></propfind>`, "Depth", "1")
	out := map[string]string{}
	for _, resp := range parseMultistatus(t, r.Body).Responses {
		if resp.Href != coll {
			out[resp.Href] = propETag(resp)
		}
	}
	if len(out) == 0 {
		t.Fatalf("%s lists no members", coll)
	}
	return out
}
