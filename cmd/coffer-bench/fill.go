package main

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// fillProgressEvery is how often the fill scenario reports its progress.
const fillProgressEvery = 30 * time.Second

// fillSetup creates --users users; the run then stores --n objects for
// each, with about --c PUTs under way at any time, and reports the rate. It
// creates no devices and no app passwords: it only fills a data folder,
// for instance for the startup scenario.
func (e *env) fillSetup(ctx context.Context) (*result, runFunc, error) {
	start := time.Now()
	users, err := e.users.make(ctx, e.c.prefix, e.c.users)
	if err != nil {
		return nil, nil, err
	}
	setup := &result{Extra: map[string]any{
		"setup_s":          round(time.Since(start).Seconds()),
		"users":            float64(len(users)),
		"objects_per_user": float64(e.c.n),
		"kinds":            e.c.kinds,
	}}
	return setup, func(ctx context.Context, run int, rec *recorder, res *result) error {
		return e.fillRun(ctx, users, rec, res)
	}, nil
}

// fillRun stores --n objects for each user. min(--c, users) workers take
// one user at a time: each logs in once, then stores the user's objects
// with --c/workers PUTs at a time. Of a finished user only the latencies
// (in rec) and the completion times are kept, 16 bytes an object.
func (e *env) fillRun(ctx context.Context, users []creds, rec *recorder, res *result) error {
	workers := min(e.c.conc, len(users))
	per := max(e.c.conc/workers, 1)
	total := len(users) * e.c.n
	start := time.Now()
	var (
		mu       sync.Mutex
		done     = make([]time.Duration, 0, total) // completion times, from start
		firstErr error
		wg       sync.WaitGroup
	)
	jobs := make(chan creds)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for cr := range jobs {
				times, err := e.fillUser(ctx, cr, rec, per)
				mu.Lock()
				for _, t := range times {
					if !t.IsZero() {
						done = append(done, t.Sub(start))
					}
				}
				if err != nil && firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
		}()
	}
	stopProgress := e.fillProgress(start, total, rec)
feed:
	for _, cr := range users {
		select {
		case jobs <- cr:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	stopProgress()
	elapsed := time.Since(start)
	res.Elapsed = elapsed.Seconds()
	puts, putErrors := rec.count("put")
	stored := puts - putErrors
	first, last := offsetRates(done)
	res.Extra["objects"] = float64(stored)
	res.Extra["objects_per_s"] = round(float64(stored) / elapsed.Seconds())
	res.Extra["errors"] = float64(rec.errorCount())
	res.Extra["first_tenth_per_s"] = round(first)
	res.Extra["last_tenth_per_s"] = round(last)
	if first > 0 {
		res.Extra["last_over_first"] = round(last / first)
	}
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	if firstErr != nil {
		return fmt.Errorf("fill stopped with %d of %d objects stored: %w", stored, total, firstErr)
	}
	return nil
}

// fillUser logs in as cr once (the one Argon2 run of the user's requests),
// then stores the user's objects with conc PUTs at a time. It returns the
// PUTs' completion times (zero for those not sent) and an error only when
// the deadline stopped it; a failed login is recorded and skips the user.
func (e *env) fillUser(ctx context.Context, cr creds, rec *recorder, conc int) ([]time.Time, error) {
	cl := e.client(cr)
	a, err := cl.do(ctx, "PROPFIND", e.kinds[0].collection(cr.user), []byte(bodyPoll), "Depth", "0", "Content-Type", "application/xml; charset=utf-8")
	if !expect(ctx, rec, "login", a, err, http.StatusMultiStatus) {
		return nil, ctx.Err()
	}
	rec.ok("login", a.took)
	_, times, err := populate(ctx, cl, rec, "put", e.gen, e.kinds, e.c.n, conc)
	return times, err
}

// fillProgress writes a line to e.progress every fillProgressEvery until
// the returned function is called: objects stored so far, the recent rate
// and the errors.
func (e *env) fillProgress(start time.Time, total int, rec *recorder) (stop func()) {
	quit := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(fillProgressEvery)
		defer t.Stop()
		prev, prevAt := 0, start
		for {
			select {
			case <-quit:
				return
			case now := <-t.C:
				n, _ := rec.count("put")
				rate := float64(n-prev) / now.Sub(prevAt).Seconds()
				fmt.Fprintf(e.progress, "fill: %d of %d PUTs (%.1f%%) after %s, %.0f/s lately, %d errors\n",
					n, total, 100*float64(n)/float64(max(total, 1)), now.Sub(start).Round(time.Second), rate, rec.errorCount())
				prev, prevAt = n, now
			}
		}
	}()
	return func() { close(quit); wg.Wait() }
}
