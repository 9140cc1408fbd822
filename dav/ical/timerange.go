package ical

import (
	"strings"
	"time"

	goical "github.com/emersion/go-ical"
)

// TimeRange is a CALDAV:time-range (RFC 4791 section 9.9); a zero Start or
// End leaves that side open.
type TimeRange struct {
	Start time.Time
	End   time.Time
}

// Sentinels standing in for open range ends.
var (
	farPast   = time.Date(-10000, 1, 1, 0, 0, 0, 0, time.UTC)
	farFuture = time.Date(100000, 1, 1, 0, 0, 0, 0, time.UTC)
)

// bounds returns the range with open ends replaced by sentinels.
func (tr TimeRange) bounds() (s, e time.Time) {
	s, e = tr.Start, tr.End
	if s.IsZero() {
		s = farPast
	}
	if e.IsZero() {
		e = farFuture
	}
	return s, e
}

// Overlaps reports whether [start, end) intersects the range; a zero end
// means a single instant at start.
func (tr TimeRange) Overlaps(start, end time.Time) bool {
	s, e := tr.bounds()
	if end.IsZero() || !end.After(start) {
		return !s.After(start) && e.After(start)
	}
	return s.Before(end) && e.After(start)
}

// instOverlaps applies the RFC 4791 section 9.9 table for the component
// type of the instance.
func (c *evalCtx) instOverlaps(in *instance, tr TimeRange) bool {
	s, e := tr.bounds()
	switch in.comp.Name {
	case goical.CompEvent:
		return eventOverlaps(in, s, e)
	case goical.CompToDo:
		return c.todoOverlaps(in, s, e)
	case goical.CompJournal:
		if !in.hasStart {
			return false
		}
		if in.date {
			return s.Before(in.start.AddDate(0, 0, 1)) && e.After(in.start)
		}
		return !s.After(in.start) && e.After(in.start)
	}
	return false
}

// eventOverlaps is the VEVENT table of RFC 4791 section 9.9.
func eventOverlaps(in *instance, s, e time.Time) bool {
	if !in.hasStart {
		return false
	}
	switch {
	case in.kind == endProp: // DTEND
		return s.Before(in.end) && e.After(in.start)
	case in.kind == endDuration && in.durPos: // DURATION > 0
		return s.Before(in.end) && e.After(in.start)
	case in.kind == endDuration: // DURATION <= 0
		return !s.After(in.start) && e.After(in.start)
	case !in.date: // DATE-TIME DTSTART alone: zero length
		return !s.After(in.start) && e.After(in.start)
	default: // DATE DTSTART alone: one day
		return s.Before(in.start.AddDate(0, 0, 1)) && e.After(in.start)
	}
}

// todoOverlaps is the VTODO table of RFC 4791 section 9.9.
func (c *evalCtx) todoOverlaps(in *instance, s, e time.Time) bool {
	switch {
	case in.hasStart && in.kind == endDuration: // DTSTART + DURATION
		return !s.After(in.end) && (e.After(in.start) || !e.Before(in.end))
	case in.hasStart && in.kind == endProp: // DTSTART + DUE
		return (s.Before(in.end) || !s.After(in.start)) && (e.After(in.start) || !e.Before(in.end))
	case in.hasStart: // DTSTART only
		return !s.After(in.start) && e.After(in.start)
	case in.kind == endProp: // DUE only
		return s.Before(in.end) && !e.Before(in.end)
	}
	completed, hasCompleted := c.utcProp(in.comp, goical.PropCompleted)
	created, hasCreated := c.utcProp(in.comp, goical.PropCreated)
	switch {
	case hasCompleted && hasCreated:
		return (!s.After(created) || !s.After(completed)) && (!e.Before(created) || !e.Before(completed))
	case hasCompleted:
		return !s.After(completed) && !e.Before(completed)
	case hasCreated:
		return e.After(created)
	}
	return true
}

// utcProp parses a date-time property; ok is false when absent or invalid.
func (c *evalCtx) utcProp(comp *goical.Component, name string) (time.Time, bool) {
	d, ok, err := c.propDTOf(comp, name)
	if !ok || err != nil {
		return time.Time{}, false
	}
	return c.abs(d), true
}

// compOverlaps evaluates a comp-filter time-range on a top-level component
// (VEVENT, VTODO, VJOURNAL or VFREEBUSY), per instance for recurring ones.
func (c *evalCtx) compOverlaps(comp *goical.Component, tr TimeRange) (bool, error) {
	switch comp.Name {
	case goical.CompEvent, goical.CompToDo, goical.CompJournal:
	case goical.CompFreeBusy:
		return c.freeBusyOverlaps(comp, tr)
	default:
		return false, nil
	}
	s := c.seriesOf(comp)
	if o := s.byComp[comp]; o != nil && !o.future && s.err == nil {
		// An override supplies its own instance alone, as each reports it:
		// walking the whole series for every override would cost the
		// series' size once per override. The walk of the series counts
		// the override's instance already, so here it costs a step only.
		if o.cancelled {
			return false, nil
		}
		if !c.b.step(1) {
			return false, c.b.err
		}
		return c.instOverlaps(&o.inst, tr), nil
	}
	found := false
	err := c.each(s, tr.Start, tr.End, func(in *instance) bool {
		if in.comp != comp && !(comp == s.master && in.recurring) {
			return true
		}
		if c.instOverlaps(in, tr) {
			found = true
			return false
		}
		return true
	})
	if found {
		return true, nil
	}
	return false, err
}

// freeBusyOverlaps is the VFREEBUSY table of RFC 4791 section 9.9.
func (c *evalCtx) freeBusyOverlaps(comp *goical.Component, tr TimeRange) (bool, error) {
	s, e := tr.bounds()
	start, okS, err := c.propDTOf(comp, goical.PropDateTimeStart)
	if err != nil {
		return false, err
	}
	end, okE, err := c.propDTOf(comp, goical.PropDateTimeEnd)
	if err != nil {
		return false, err
	}
	if okS && okE {
		return !s.After(c.abs(end)) && e.After(c.abs(start)), nil
	}
	ps, err := c.propPeriods(comp.Props.Values(goical.PropFreeBusy))
	if err != nil {
		return false, err
	}
	for _, p := range ps {
		if p.hasEnd && s.Before(p.end) && e.After(c.abs(p.start)) {
			return true, nil
		}
	}
	return false, nil
}

// alarmOverlaps evaluates a time-range on a VALARM inside parent: any
// trigger time (with repetitions) of any parent instance in the range.
func (c *evalCtx) alarmOverlaps(parent, alarm *goical.Component, tr TimeRange) (bool, error) {
	s, e := tr.bounds()
	tp := alarm.Props.Get(goical.PropTrigger)
	if tp == nil {
		return false, nil
	}
	repeat, every := 0, time.Duration(0)
	if p := alarm.Props.Get(goical.PropRepeat); p != nil {
		if d := alarm.Props.Get(goical.PropDuration); d != nil {
			n, err1 := p.Int()
			dd, err2 := parseDur(d.Value)
			if err1 == nil && err2 == nil && n > 0 && dd.approx() > 0 {
				repeat, every = min(n, 10000), dd.approx()
			}
		}
	}
	hit := func(t time.Time) bool {
		for i := 0; i <= repeat; i++ {
			if !c.b.step(1) {
				return false
			}
			x := t.Add(time.Duration(i) * every)
			if !s.After(x) && e.After(x) {
				return true
			}
			if !x.Before(e) {
				return false
			}
		}
		return false
	}
	if strings.EqualFold(tp.Params.Get("VALUE"), "DATE-TIME") || (len(tp.Value) > 0 && tp.Value[0] != 'P' && tp.Value[0] != '-' && tp.Value[0] != '+') {
		d, err := c.propDT(tp)
		if err != nil {
			return false, err
		}
		return hit(c.abs(d)), c.b.err
	}
	off, err := parseDur(tp.Value)
	if err != nil {
		return false, err
	}
	related := strings.EqualFold(tp.Params.Get("RELATED"), "END")
	slack := absDur(off.approx()) + time.Duration(repeat)*every + 48*time.Hour
	var lo, hi time.Time
	if !tr.Start.IsZero() {
		lo = tr.Start.Add(-slack)
	}
	if !tr.End.IsZero() {
		hi = tr.End.Add(slack)
	}
	if parent.Name != goical.CompEvent && parent.Name != goical.CompToDo {
		return false, nil
	}
	found := false
	s2 := c.seriesOf(parent)
	err = c.each(s2, lo, hi, func(in *instance) bool {
		if in.comp != parent && !(parent == s2.master && in.recurring) {
			return true
		}
		base, ok := in.start, in.hasStart
		if related {
			base, ok = in.end, in.kind != endNone
			if !ok && in.hasStart { // no end: the end equals the start (or the day's end)
				base, ok = in.start, true
				if in.date {
					base = in.start.AddDate(0, 0, 1)
				}
			}
		}
		if !ok {
			return true
		}
		t := c.addDur(dt{wall: base, z: utcZone}, off)
		if hit(t) {
			found = true
			return false
		}
		return c.b.err == nil
	})
	if found {
		return true, nil
	}
	return false, err
}
