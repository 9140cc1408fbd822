package ical

import (
	"time"

	goical "github.com/emersion/go-ical"
)

// budget counts instances and work steps against the Options caps. Once a
// cap is hit, err is set and every later call fails.
type budget struct {
	instances, maxInstances int
	steps, maxSteps         int
	err                     error
}

// evalCtx is the per-call evaluation state for one object: the default
// zone, recurrence series and the budget. It is not shared between goroutines.
type evalCtx struct {
	obj      *Object
	floating *zone
	series   map[*goical.Component]*series
	b        budget
	// usedFloating records that a value was read in the default location.
	usedFloating bool
}

// newCtx prepares evaluation of obj under opts.
func newCtx(obj *Object, opts Options) *evalCtx {
	loc := opts.Location
	if loc == nil {
		loc = time.UTC
	}
	b := budget{maxInstances: opts.MaxInstances, maxSteps: opts.MaxSteps}
	if b.maxInstances <= 0 {
		b.maxInstances = DefaultMaxInstances
	}
	if b.maxSteps <= 0 {
		b.maxSteps = DefaultMaxSteps
	}
	floating := &zone{name: loc.String(), loc: loc}
	if opts.Zone != nil {
		floating = opts.Zone.z
	}
	return &evalCtx{obj: obj, floating: floating, b: b}
}

// step charges n work steps; it returns false once the budget is exhausted.
func (b *budget) step(n int) bool {
	if b.err != nil {
		return false
	}
	b.steps += n
	if b.steps > b.maxSteps {
		b.err = ErrTooComplex
		return false
	}
	return true
}

// instance charges one examined instance; it returns false past the cap.
func (b *budget) instance() bool {
	if b.err != nil {
		return false
	}
	b.instances++
	if b.instances > b.maxInstances {
		b.err = ErrTooManyInstances
		return false
	}
	return b.step(1)
}
