package dav

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/coffer-dav/coffer/encryption"
	"github.com/coffer-dav/coffer/encryption/webpush"
	"github.com/coffer-dav/coffer/push"
	"github.com/coffer-dav/coffer/storage"
)

// A message that its push service asks to retry (a 5xx, a 429, a
// timeout) waits in the outbox, sealed under the Notifier's RetryKey: it
// is sent again after the request that made the change ended, by
// whichever instance claims it, and none holds the user's key then.

// retryPayload is what a retry job holds, sealed under the retry key.
type retryPayload struct {
	ID       string        `json:"id"`
	Endpoint string        `json:"endpoint"`
	P256dh   []byte        `json:"p256dh"`
	Auth     []byte        `json:"auth"`
	Payload  []byte        `json:"payload"`
	TTL      time.Duration `json:"ttl"`
	Urgency  push.Urgency  `json:"urgency"`
	Topic    string        `json:"topic"`
}

// Bounds of the retries.
const (
	maxBackoff = time.Hour
	retryLease = 2 * time.Minute
	retryField = "outbox/push" // the associated data's field of a sealed retry
)

// deliver sends one message; a retry goes into the outbox.
func (n *Notifier) deliver(ctx context.Context, m outgoing) {
	r := n.o.Sender.Send(ctx, m.sub, m.msg)
	if n.settle(ctx, m.account, m.id, r) || n.o.MaxAttempts < 2 {
		return
	}
	n.queue(ctx, m, n.o.Now().Add(n.backoff(1, r.RetryAfter)))
}

// queue puts a message into the outbox, due at next, sealed under the
// retry key.
func (n *Notifier) queue(ctx context.Context, m outgoing, next time.Time) error {
	payload, err := json.Marshal(retryPayload{ID: m.id, Endpoint: m.sub.Endpoint, P256dh: m.sub.P256dh, Auth: m.sub.Auth,
		Payload: m.msg.Payload, TTL: m.msg.TTL, Urgency: m.msg.Urgency, Topic: m.msg.Topic})
	if err != nil {
		return err
	}
	sealed := n.o.RetryKey.Seal(retryAD(m.account), payload)
	// One waiting retry per subscription: a later message replaces the
	// earlier one's (the latest sync-token is what the device needs). The
	// subscription's random id is readable in its own row already.
	if _, err := n.o.Outbox.Enqueue(ctx, storage.NewJob{Account: m.account, Kind: storage.JobPush, Payload: sealed,
		NextTry: next, Collapse: []byte(m.id)}); err != nil {
		n.o.Logger.Warn("push: queueing a message failed", "account", m.account, "err", err)
		return err
	}
	return nil
}

// QueuePushes puts the messages that changes made through space call for
// into the outbox, due at once, for a serving instance's Notifier to send
// (within its RetryPoll): the push path of writes made by a command beside
// the server (coffer import), which sends nothing itself. o needs Outbox
// and RetryKey only. It returns how many messages it queued.
func QueuePushes(ctx context.Context, o NotifyOptions, space storage.Space, changes []storage.Changed) (int, error) {
	if o.Outbox == nil || o.RetryKey == nil {
		return 0, errors.New("dav: queueing pushes needs the outbox and the retry key")
	}
	o.defaults()
	n := &Notifier{o: o}
	byTarget := map[pendingKey][]pushChange{}
	var order []pendingKey
	for _, c := range changes {
		pc, ok := pushChangeOf(c)
		if !ok {
			continue
		}
		k := pendingKey{account: c.Account, target: c.Target()}
		if _, seen := byTarget[k]; !seen {
			order = append(order, k)
		}
		byTarget[k] = append(byTarget[k], pc)
	}
	queued := 0
	for _, k := range order {
		msgs, err := n.messages(ctx, space, k, byTarget[k])
		if err != nil {
			return queued, err
		}
		for _, m := range msgs {
			if err := n.queue(ctx, m, o.Now()); err != nil {
				return queued, err
			}
			queued++
		}
	}
	return queued, nil
}

// releaseRetry gives back a retry's claim, first sending with it what
// waited for the push service.
func (n *Notifier) releaseRetry(ctx context.Context, origin string) {
	for m, ok := n.next(origin); ok; m, ok = n.next(origin) {
		n.deliver(ctx, m)
	}
}

// takeRetry claims a sender of the push service's share for a retry from
// the outbox; false when the share is in use (the retry then stays in the
// outbox).
func (n *Notifier) takeRetry(origin string) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.busy[origin] >= n.share() {
		return false
	}
	n.busy[origin]++
	return true
}

// backoff is the wait before the attempt after the attempts-th: what the
// push service asked for, else exponential from Backoff, at most an hour.
func (n *Notifier) backoff(attempts int, asked time.Duration) time.Duration {
	if asked > 0 {
		return min(asked, maxBackoff)
	}
	d := n.o.Backoff
	for i := 1; i < attempts && d < maxBackoff; i++ {
		d *= 2
	}
	return min(d, maxBackoff)
}

// retryAD binds a sealed retry to its account.
func retryAD(account int64) encryption.AD {
	return encryption.AD{User: account, Field: retryField}
}

// runRetries claims the due push retries of the outbox until ctx ends.
func (n *Notifier) runRetries(ctx context.Context) {
	t := time.NewTicker(n.o.RetryPoll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		n.RetryDue(ctx)
	}
}

// RetryDue sends the push retries that are due now, and returns how many
// it claimed.
func (n *Notifier) RetryDue(ctx context.Context) int {
	now := n.o.Now()
	jobs, err := n.o.Outbox.ClaimJobs(ctx, storage.ClaimOptions{Kind: storage.JobPush, Now: now, Until: now.Add(retryLease), Limit: 50})
	if err != nil {
		if ctx.Err() == nil {
			n.o.Logger.Warn("push: claiming retries failed", "err", err)
		}
		return 0
	}
	for i := range jobs {
		n.retry(ctx, &jobs[i])
	}
	return len(jobs)
}

// retry sends one claimed retry and records its outcome. The first send
// was not a claim, so the job's attempts are one behind the sends.
func (n *Notifier) retry(ctx context.Context, j *storage.Job) {
	done := storage.JobOutcome{Done: true}
	plain, err := n.o.RetryKey.Open(retryAD(j.Account), j.Payload)
	var p retryPayload
	if err == nil {
		err = json.Unmarshal(plain, &p)
	}
	if err != nil {
		n.o.Logger.Warn("push: a retry does not open; dropped", "account", j.Account, "job", j.ID)
		n.finish(ctx, j, done)
		return
	}
	origin, _ := webpush.Origin(p.Endpoint)
	if !n.takeRetry(origin) {
		n.deferred.Add(1)
		n.finish(ctx, j, storage.JobOutcome{RetryAt: n.o.Now().Add(n.backoff(j.Attempts, 0)), MaxAttempts: n.o.MaxAttempts - 1})
		return
	}
	r := n.o.Sender.Send(ctx, push.Subscription{Endpoint: p.Endpoint, P256dh: p.P256dh, Auth: p.Auth},
		push.Message{Payload: p.Payload, TTL: p.TTL, Urgency: p.Urgency, Topic: p.Topic})
	defer n.releaseRetry(ctx, origin)
	if n.settle(ctx, j.Account, p.ID, r) {
		if r.Outcome == push.Delivered {
			n.retriesDone.Add(1)
		}
		n.finish(ctx, j, done)
		return
	}
	n.finish(ctx, j, storage.JobOutcome{RetryAt: n.o.Now().Add(n.backoff(j.Attempts+1, r.RetryAfter)), MaxAttempts: n.o.MaxAttempts - 1})
}

// finish records a retry's outcome.
func (n *Notifier) finish(ctx context.Context, j *storage.Job, o storage.JobOutcome) {
	if err := n.o.Outbox.FinishJob(ctx, j, o); err != nil {
		n.o.Logger.Warn("push: recording a retry failed", "job", strconv.FormatInt(j.ID, 10), "err", err)
	}
}
