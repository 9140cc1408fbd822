package main

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// population is what a client stored in one collection: names and ETags by index.
type population struct {
	kind  kind
	coll  string
	names []string
	etags []string
	revs  []int
}

// href is the path of the i-th object.
func (p *population) href(i int) string { return p.coll + p.names[i] }

// putOne creates (etag "") or updates (If-Match etag) the i-th object of
// kind k at revision rev. It returns the new ETag, or records a failure
// under op and returns "".
func putOne(ctx context.Context, cl *davClient, rec *recorder, op string, g *generator, k kind, i, rev int, etag string) string {
	cond, val, want := "If-None-Match", "*", http.StatusCreated
	if etag != "" {
		cond, val, want = "If-Match", etag, http.StatusNoContent
	}
	a, err := cl.do(ctx, http.MethodPut, k.collection(cl.user)+g.name(k, i), g.object(k, i, rev), "Content-Type", k.contentType(), cond, val)
	switch {
	case err != nil && ctx.Err() != nil:
		return "" // stopped by the deadline: no answer of the server's
	case err != nil:
		rec.fail(op, a.took, a.status, err.Error())
		return ""
	case a.status != want:
		rec.fail(op, a.took, a.status, "PUT "+k.String())
		return ""
	case a.header.Get("ETag") == "":
		rec.fail(op, a.took, a.status, "PUT without ETag")
		return ""
	}
	rec.ok(op, a.took)
	return a.header.Get("ETag")
}

// populate creates n objects for cl, spread round-robin over kinds, with
// conc requests at a time. It returns the populations and the completion
// time of every PUT.
func populate(ctx context.Context, cl *davClient, rec *recorder, op string, g *generator, kinds []kind, n, conc int) (map[kind]*population, []time.Time, error) {
	pops := map[kind]*population{}
	for j, k := range kinds {
		cnt := n / len(kinds)
		if j < n%len(kinds) {
			cnt++
		}
		p := &population{kind: k, coll: k.collection(cl.user), names: make([]string, cnt), etags: make([]string, cnt), revs: make([]int, cnt)}
		for i := range p.names {
			p.names[i] = g.name(k, i)
		}
		pops[k] = p
	}
	done := make([]time.Time, n)
	jobs := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < max(conc, 1); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				k, i := kinds[j%len(kinds)], j/len(kinds)
				pops[k].etags[i] = putOne(ctx, cl, rec, op, g, k, i, 0, "")
				done[j] = time.Now()
			}
		}()
	}
	for j := 0; j < n && ctx.Err() == nil; j++ {
		select {
		case jobs <- j:
		case <-ctx.Done():
		}
	}
	close(jobs)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return pops, done, fmt.Errorf("stopped after the deadline: %w", err)
	}
	return pops, done, nil
}
