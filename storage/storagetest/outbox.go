package storagetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/coffer-dav/coffer/storage"
)

// claimAll claims every job of kind due at now, of every account, for a
// minute.
func claimAll(t *testing.T, e storage.Outbox, kind string, now time.Time) []storage.Job {
	t.Helper()
	jobs, err := e.ClaimJobs(context.Background(), storage.ClaimOptions{Kind: kind, Now: now, Until: now.Add(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	return jobs
}

// jobIDs lists the ids of jobs, in their order.
func jobIDs(jobs []storage.Job) string {
	ids := make([]int64, len(jobs))
	for i, j := range jobs {
		ids[i] = j.ID
	}
	return fmt.Sprint(ids)
}

// mailStates lists the mail state of each of an account's events.
func mailStates(t *testing.T, e Engine, account int64) string {
	t.Helper()
	evs, err := e.Events(context.Background(), account)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, ev := range evs {
		out = append(out, ev.Mail)
	}
	return fmt.Sprint(out)
}

// testOutboxMail: an event's mail is queued with it, in its transaction,
// and its state follows the job: queued, sending while claimed, sent when
// done, failed when given up; an event without mail has none.
func testOutboxMail(t *testing.T, e Engine) {
	ctx := context.Background()
	a := mustAccount(t, e, "alice", "alice@example.org")
	b := mustAccount(t, e, "bob", "bob@example.org")
	addEvents(t, e, a.ID, storage.NewEvent{Kind: "one", Detail: "d1", At: t0, Mail: true}, storage.NewEvent{Kind: "quiet", At: t0})
	addEvents(t, e, b.ID, storage.NewEvent{Kind: "two", At: t0, Mail: true})
	addEvents(t, e, a.ID, storage.NewEvent{Kind: "three", At: t0, Mail: true})
	// A once-event recorded a second time queues no second mail.
	addEvents(t, e, a.ID, storage.NewEvent{Kind: "once", At: t0, OnceKey: "k", Mail: true}, storage.NewEvent{Kind: "once", At: t0, OnceKey: "k", Mail: true})
	ea, eb := eventIDs(t, e, a.ID), eventIDs(t, e, b.ID)
	if got := mailStates(t, e, a.ID); got != "[queued none queued queued]" {
		t.Fatalf("alice's mails = %s", got)
	}
	// A push job is not a mail; a claim of another account's takes none of alice's.
	if _, err := e.Enqueue(ctx, storage.NewJob{Account: a.ID, Kind: storage.JobPush, Payload: []byte("p")}); err != nil {
		t.Fatal(err)
	}
	until := t0.Add(time.Minute)
	bobs, err := e.ClaimJobs(ctx, storage.ClaimOptions{Kind: storage.JobMail, Account: b.ID, Now: t0, Until: until})
	if err != nil || len(bobs) != 1 || bobs[0].Event != eb[0] || bobs[0].Account != b.ID || bobs[0].Kind != storage.JobMail ||
		bobs[0].Attempts != 1 || len(bobs[0].Payload) != 0 || !bobs[0].ClaimedUntil.Equal(until) {
		t.Fatalf("bob's claim = %+v, %v", bobs, err)
	}
	jobs, err := e.ClaimJobs(ctx, storage.ClaimOptions{Kind: storage.JobMail, Account: a.ID, Now: t0, Until: until, Limit: 2})
	if err != nil || len(jobs) != 2 || jobs[0].Event != ea[0] || jobs[1].Event != ea[2] || jobs[0].Account != a.ID {
		t.Fatalf("alice's claim of two = %+v, %v", jobs, err)
	}
	if got := mailStates(t, e, a.ID); got != "[sending none sending queued]" {
		t.Fatalf("alice's mails while claimed = %s", got)
	}
	ev, err := e.Event(ctx, ea[0])
	if err != nil || ev.ID != ea[0] || ev.AccountID != a.ID || ev.Kind != "one" || ev.Detail != "d1" || !ev.At.Equal(t0) || ev.Mail != storage.MailSending {
		t.Fatalf("Event = %+v, %v", ev, err)
	}
	if _, err := e.Event(ctx, ea[3]+eb[0]+100); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("a missing event: %v", err)
	}
	for _, c := range []struct {
		job  *storage.Job
		o    storage.JobOutcome
		want string
	}{
		{&jobs[0], storage.JobOutcome{Done: true}, "[sent none sending queued]"},
		{&jobs[1], storage.JobOutcome{RetryAt: t0, MaxAttempts: 2}, "[sent none queued queued]"},
	} {
		if err := e.FinishJob(ctx, c.job, c.o); err != nil {
			t.Fatal(err)
		}
		if got := mailStates(t, e, a.ID); got != c.want {
			t.Fatalf("after %+v: %s, want %s", c.o, got, c.want)
		}
	}
	again := claimAll(t, e, storage.JobMail, t0.Add(time.Second))
	if len(again) != 2 || again[0].Event != ea[2] || again[0].Attempts != 2 || again[1].Event != ea[3] || again[1].Attempts != 1 {
		t.Fatalf("the second claim = %+v", again)
	}
	if err := e.FinishJob(ctx, &again[0], storage.JobOutcome{RetryAt: t0, MaxAttempts: 2}); err != nil {
		t.Fatal(err)
	}
	if got := mailStates(t, e, a.ID); got != "[sent none failed sending]" {
		t.Fatalf("after the last try: %s", got)
	}
	if got := mailStates(t, e, b.ID); got != "[sending]" {
		t.Fatalf("bob's mails = %s", got)
	}
	if left := claimAll(t, e, storage.JobMail, t0.Add(time.Hour)); jobIDs(left) != jobIDs([]storage.Job{bobs[0], again[1]}) {
		t.Fatalf("due after an hour: %+v", left)
	}
}

// testOutboxClaims: a job is due from its NextTry, a claim holds it
// until its lease ends, a retry makes it due again at RetryAt, and the
// attempts count every claim; claims take the oldest first, up to
// their limit, payloads as they were given.
func testOutboxClaims(t *testing.T, e Engine) {
	ctx := context.Background()
	a := mustAccount(t, e, "alice", "")
	payloads := [][]byte{nil, {}, []byte("sealed \x00 bytes"), bytes.Repeat([]byte{0xff}, 4096)}
	var ids []int64
	for i, p := range payloads {
		id, err := e.Enqueue(ctx, storage.NewJob{Account: a.ID, Kind: storage.JobPush, Payload: p, NextTry: t0.Add(time.Duration(i) * time.Second)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	for i := 1; i < len(ids); i++ {
		if ids[i] <= ids[i-1] {
			t.Fatalf("ids %v do not rise", ids)
		}
	}
	claim := func(now, until time.Time, limit int) []storage.Job {
		t.Helper()
		jobs, err := e.ClaimJobs(ctx, storage.ClaimOptions{Kind: storage.JobPush, Now: now, Until: until, Limit: limit})
		if err != nil {
			t.Fatal(err)
		}
		return jobs
	}
	want := func(idx ...int) string {
		out := make([]int64, len(idx))
		for i, x := range idx {
			out[i] = ids[x]
		}
		return fmt.Sprint(out)
	}
	if got := claim(t0.Add(-time.Second), t0, 0); len(got) != 0 {
		t.Fatalf("claimed before anything was due: %s", jobIDs(got))
	}
	first := claim(t0.Add(time.Second), t0.Add(time.Minute), 0)
	if jobIDs(first) != want(0, 1) {
		t.Fatalf("due at t0+1s: %s, want %s", jobIDs(first), want(0, 1))
	}
	for i, j := range first {
		if !bytes.Equal(j.Payload, payloads[i]) || len(j.Payload) != len(payloads[i]) || j.Attempts != 1 || j.Kind != storage.JobPush || j.Event != 0 {
			t.Fatalf("job %d: %d attempts, kind %s, event %d, payload of %d bytes", i, j.Attempts, j.Kind, j.Event, len(j.Payload))
		}
	}
	if got := claim(t0.Add(10*time.Second), t0.Add(time.Minute), 1); jobIDs(got) != want(2) || !bytes.Equal(got[0].Payload, payloads[2]) {
		t.Fatalf("a claim of one: %s", jobIDs(got))
	}
	// Claimed jobs stay with their claim while its lease lasts, up to its
	// last second; the rest is due.
	if got := claim(t0.Add(time.Minute), t0.Add(2*time.Hour+30*time.Minute), 0); jobIDs(got) != want(3) || !bytes.Equal(got[0].Payload, payloads[3]) {
		t.Fatalf("while the leases last: %s, want %s", jobIDs(got), want(3))
	}
	// Past the lease, a job is due again, and its attempts count on.
	late := claim(t0.Add(time.Minute+time.Second), t0.Add(3*time.Minute), 0)
	if jobIDs(late) != want(0, 1, 2) || late[0].Attempts != 2 {
		t.Fatalf("after the leases: %s", jobIDs(late))
	}
	steps := []struct {
		name string
		job  storage.Job
		o    storage.JobOutcome
	}{
		{"done", late[0], storage.JobOutcome{Done: true}},
		{"retry in an hour", late[1], storage.JobOutcome{RetryAt: t0.Add(time.Hour), MaxAttempts: 5}},
		{"retry without a bound", late[2], storage.JobOutcome{RetryAt: t0.Add(2 * time.Hour)}},
	}
	for _, s := range steps {
		if err := e.FinishJob(ctx, &s.job, s.o); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
	}
	if got := claim(t0.Add(time.Hour-time.Second), t0.Add(2*time.Hour), 0); len(got) != 0 {
		t.Fatalf("due before the retries: %s", jobIDs(got))
	}
	if got := claim(t0.Add(time.Hour), t0.Add(time.Hour+time.Minute), 0); jobIDs(got) != want(1) || got[0].Attempts != 3 {
		t.Fatalf("due at the first retry: %s", jobIDs(got))
	}
	got := claim(t0.Add(3*time.Hour), t0.Add(4*time.Hour), 0)
	if jobIDs(got) != want(1, 2, 3) {
		t.Fatalf("due later: %s, want %s", jobIDs(got), want(1, 2, 3))
	}
	// Job 1 is at its fourth claim, job 2 at its third, job 3 at its
	// second. A bound of 4 gives up the first; no bound, or a bound not
	// reached, retries.
	if got[0].Attempts != 4 || got[1].Attempts != 3 || got[2].Attempts != 2 {
		t.Fatalf("attempts = %d, %d, %d", got[0].Attempts, got[1].Attempts, got[2].Attempts)
	}
	for i, o := range []storage.JobOutcome{{RetryAt: t0, MaxAttempts: 4}, {RetryAt: t0}, {RetryAt: t0, MaxAttempts: 3}} {
		if err := e.FinishJob(ctx, &got[i], o); err != nil {
			t.Fatal(err)
		}
	}
	if left := claim(t0.Add(5*time.Hour), t0.Add(6*time.Hour), 0); jobIDs(left) != want(2, 3) {
		t.Fatalf("after a give-up and two retries: %s, want %s", jobIDs(left), want(2, 3))
	}
}

// testOutboxLostClaim: a sender whose lease ran out and whose job
// another sender claimed finishes nothing: neither the job's end nor its
// retry, which stay the new claim's.
func testOutboxLostClaim(t *testing.T, e Engine) {
	ctx := context.Background()
	a := mustAccount(t, e, "alice", "")
	addEvents(t, e, a.ID, storage.NewEvent{Kind: "k", At: t0, Mail: true})
	old := claimAll(t, e, storage.JobMail, t0)
	taken := claimAll(t, e, storage.JobMail, t0.Add(2*time.Minute))
	if len(old) != 1 || len(taken) != 1 || taken[0].ID != old[0].ID || taken[0].Attempts != 2 {
		t.Fatalf("claims = %+v, %+v", old, taken)
	}
	for _, o := range []storage.JobOutcome{{Done: true}, {MaxAttempts: 1}, {RetryAt: t0}} {
		if err := e.FinishJob(ctx, &old[0], o); err != nil {
			t.Fatal(err)
		}
		if got := mailStates(t, e, a.ID); got != "[sending]" {
			t.Fatalf("after the lost claim's %+v: %s", o, got)
		}
	}
	if again := claimAll(t, e, storage.JobMail, t0.Add(2*time.Minute+30*time.Second)); len(again) != 0 {
		t.Fatalf("the lost claim's retry freed the job: %+v", again)
	}
	if err := e.FinishJob(ctx, &taken[0], storage.JobOutcome{Done: true}); err != nil {
		t.Fatal(err)
	}
	if got := mailStates(t, e, a.ID); got != "[sent]" {
		t.Fatalf("after the claim's end: %s", got)
	}
	// A job that is gone finishes as nothing.
	if err := e.FinishJob(ctx, &taken[0], storage.JobOutcome{Done: true}); err != nil {
		t.Fatal(err)
	}
}

// testOutboxDelete: an account's jobs go with it, and a lifecycle
// transaction that fails queues no mail.
func testOutboxDelete(t *testing.T, e Engine) {
	ctx := context.Background()
	a := mustAccount(t, e, "alice", "")
	b := mustAccount(t, e, "bob", "")
	addEvents(t, e, a.ID, storage.NewEvent{Kind: "k", At: t0, Mail: true})
	addEvents(t, e, b.ID, storage.NewEvent{Kind: "k", At: t0, Mail: true})
	for _, acct := range []int64{a.ID, b.ID} {
		if _, err := e.Enqueue(ctx, storage.NewJob{Account: acct, Kind: storage.JobPush}); err != nil {
			t.Fatal(err)
		}
	}
	failed := errors.New("no")
	err := e.UpdateLifecycle(ctx, b.ID, func(tx storage.LifecycleTx, r *storage.LifecycleRecord) error {
		if _, err := tx.AddEvent(storage.NewEvent{Kind: "undone", At: t0, Mail: true}); err != nil {
			return err
		}
		return failed
	})
	if !errors.Is(err, failed) {
		t.Fatal(err)
	}
	if err := e.DeleteAccount(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{storage.JobMail, storage.JobPush} {
		jobs := claimAll(t, e, kind, t0)
		if len(jobs) != 1 || jobs[0].Account != b.ID {
			t.Fatalf("%s jobs after alice's delete and bob's rollback: %+v", kind, jobs)
		}
	}
}

// testRacingClaims: senders on both instances race for every job, in
// small claims, twice: first the queued jobs, then (past the lease) the
// claimed ones; each round, every job goes to exactly one sender.
func testRacingClaims(t *testing.T, a, b Engine) {
	ctx := context.Background()
	acct := mustAccount(t, a, "alice", "")
	var evs []storage.NewEvent
	for i := range 30 {
		evs = append(evs, storage.NewEvent{Kind: fmt.Sprint("k", i), At: t0, Mail: true})
	}
	addEvents(t, a, acct.ID, evs...)
	for round, now := range []time.Time{t0, t0.Add(time.Hour)} {
		claims := map[int64]int{}
		var mu sync.Mutex
		var wg sync.WaitGroup
		for s := range 8 {
			wg.Go(func() {
				for {
					jobs, err := pick(s, a, b).ClaimJobs(ctx, storage.ClaimOptions{Kind: storage.JobMail, Now: now, Until: now.Add(time.Minute), Limit: 3})
					if err != nil {
						t.Error(err)
						return
					}
					if len(jobs) == 0 {
						return
					}
					mu.Lock()
					for _, j := range jobs {
						claims[j.ID]++
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if len(claims) != len(evs) {
			t.Errorf("round %d: %d of %d jobs claimed", round, len(claims), len(evs))
		}
		for id, n := range claims {
			if n != 1 {
				t.Errorf("round %d: job %d claimed %d times", round, id, n)
			}
		}
	}
	// A job finished on one instance is gone for the other.
	jobs := claimAll(t, a, storage.JobMail, t0.Add(2*time.Hour))
	if len(jobs) != len(evs) {
		t.Fatalf("the third claim took %d jobs", len(jobs))
	}
	if err := a.FinishJob(ctx, &jobs[0], storage.JobOutcome{Done: true}); err != nil {
		t.Fatal(err)
	}
	if again := claimAll(t, b, storage.JobMail, t0.Add(48*time.Hour)); len(again) != len(evs)-1 || again[0].ID == jobs[0].ID {
		t.Fatalf("after a finish on the other instance: %d jobs, first %+v", len(again), again[0])
	}
}

// testOutboxCollapse: a job given with the collapse key of one that waits
// unclaimed is that job, its payload replaced and due at the earlier
// time; one claimed already is left to its sender, and should it come
// back for a retry while a newer one waits, the newer one stands for it.
// Keys apart, accounts apart, kinds apart and jobs without a key never
// collapse.
func testOutboxCollapse(t *testing.T, e Engine) {
	ctx := context.Background()
	a := mustAccount(t, e, "alice", "")
	b := mustAccount(t, e, "bob", "")
	enqueue := func(acct int64, kind, key, payload string, next time.Time) int64 {
		t.Helper()
		var collapse []byte
		if key != "" {
			collapse = []byte(key)
		}
		id, err := e.Enqueue(ctx, storage.NewJob{Account: acct, Kind: kind, Payload: []byte(payload), NextTry: next, Collapse: collapse})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	claim := func(kind string, now time.Time) string {
		t.Helper()
		jobs, err := e.ClaimJobs(ctx, storage.ClaimOptions{Kind: kind, Now: now, Until: now.Add(time.Minute)})
		if err != nil {
			t.Fatal(err)
		}
		out := ""
		for _, j := range jobs {
			out += fmt.Sprintf("[%d %s %d]", j.ID, j.Payload, j.Attempts)
		}
		return out
	}
	first := enqueue(a.ID, storage.JobPush, "k", "1", t0.Add(10*time.Second))
	for _, c := range []struct {
		payload string
		next    time.Time
	}{{"2", t0.Add(20 * time.Second)}, {"3", t0.Add(5 * time.Second)}} {
		if id := enqueue(a.ID, storage.JobPush, "k", c.payload, c.next); id != first {
			t.Fatalf("job %s of key k has id %d, want %d", c.payload, id, first)
		}
	}
	apart := map[int64]string{first: "the first"}
	for _, c := range []struct {
		name      string
		acct      int64
		kind, key string
	}{
		{"another key", a.ID, storage.JobPush, "k2"},
		{"another account", b.ID, storage.JobPush, "k"},
		{"another kind", a.ID, "other", "k"},
		{"no key", a.ID, storage.JobPush, ""},
		{"no key again", a.ID, storage.JobPush, ""},
	} {
		id := enqueue(c.acct, c.kind, c.key, c.name, t0.Add(time.Hour))
		if prev, ok := apart[id]; ok {
			t.Fatalf("%s collapsed into %s", c.name, prev)
		}
		apart[id] = c.name
	}
	// Due at the earliest time given, with the latest payload.
	if got := claim(storage.JobPush, t0.Add(4*time.Second)); got != "" {
		t.Fatalf("due at t0+4s: %s", got)
	}
	if got, want := claim(storage.JobPush, t0.Add(5*time.Second)), fmt.Sprintf("[%d 3 1]", first); got != want {
		t.Fatalf("due at t0+5s: %s, want %s", got, want)
	}
	// Claimed, it is left to its sender: a new job of its key waits apart,
	// and collapses with the next.
	second := enqueue(a.ID, storage.JobPush, "k", "4", t0.Add(30*time.Second))
	if second == first {
		t.Fatal("a job collapsed into a claimed one")
	}
	if id := enqueue(a.ID, storage.JobPush, "k", "5", t0.Add(40*time.Second)); id != second {
		t.Fatalf("the next job of key k has id %d, want %d", id, second)
	}
	// The claimed one comes back for a retry: the waiting one stands for it.
	if err := e.FinishJob(ctx, &storage.Job{ID: first, Attempts: 1}, storage.JobOutcome{RetryAt: t0.Add(6 * time.Second)}); err != nil {
		t.Fatal(err)
	}
	if got, want := claim(storage.JobPush, t0.Add(30*time.Second)), fmt.Sprintf("[%d 5 1]", second); got != want {
		t.Fatalf("due at t0+30s: %s, want %s", got, want)
	}
	// A retry with nothing newer waiting keeps its job, which collapses again.
	if err := e.FinishJob(ctx, &storage.Job{ID: second, Attempts: 1}, storage.JobOutcome{RetryAt: t0.Add(50 * time.Second)}); err != nil {
		t.Fatal(err)
	}
	if id := enqueue(a.ID, storage.JobPush, "k", "6", t0.Add(time.Hour)); id != second {
		t.Fatalf("after a retry the job of key k has id %d, want %d", id, second)
	}
	if got, want := claim(storage.JobPush, t0.Add(50*time.Second)), fmt.Sprintf("[%d 6 2]", second); got != want {
		t.Fatalf("due at t0+50s: %s, want %s", got, want)
	}
}
