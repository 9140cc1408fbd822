package main

import (
	"context"
	"time"
)

// pacer hands one device the send times of a fixed-rate load: request n is
// due at start + n × interval, however long the answers before it took, so
// that a device behind its schedule sends at once and its requests' latency
// (taken from the due time, see atSchedule) holds the delay. A zero
// interval sends as fast as answers come.
type pacer struct {
	interval time.Duration
	next     time.Time
}

// newPacer returns a pacer whose first request is due at start.
func newPacer(interval time.Duration, start time.Time) *pacer {
	return &pacer{interval: interval, next: start}
}

// wait sleeps until the next request is due and returns its due time (now,
// without an interval); false when ctx ends first.
func (p *pacer) wait(ctx context.Context) (time.Time, bool) {
	if p.interval <= 0 {
		return time.Now(), ctx.Err() == nil
	}
	due := p.next
	p.next = p.next.Add(p.interval)
	if wait := time.Until(due); wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return due, false
		case <-t.C:
		}
	}
	return due, ctx.Err() == nil
}
