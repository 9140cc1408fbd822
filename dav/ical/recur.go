package ical

import (
	"strings"
	"time"

	goical "github.com/emersion/go-ical"
)

// endKind says where an instance's end came from, as the RFC 4791 section
// 9.9 tables distinguish.
type endKind int

// compTimes holds the parsed scheduling properties of one component.
type compTimes struct {
	start    dt
	hasStart bool
	end      dt // DTEND (VEVENT) or DUE (VTODO)
	hasEnd   bool
	dur      dur
	hasDur   bool
}

// instance is one occurrence of a component, with absolute times.
type instance struct {
	comp      *goical.Component // supplies the occurrence's properties
	recurring bool              // part of a recurrence set (master with RRULE/RDATE, or an override)
	rid       time.Time         // original start, when recurring
	ridDate   bool
	hasStart  bool
	start     time.Time
	date      bool // DTSTART is a DATE
	kind      endKind
	end       time.Time // meaningful when kind != endNone
	durPos    bool      // DURATION > 0 (for endDuration)
}

// override is a component with RECURRENCE-ID (RFC 5545 section 3.8.4.4).
type override struct {
	comp      *goical.Component
	rid       time.Time
	ridDate   bool
	future    bool // RANGE=THISANDFUTURE
	cancelled bool
	inst      instance
}

// series is the recurrence set of one UID: its master (possibly absent) and
// the overrides in the same object.
type series struct {
	master    *goical.Component
	mt        compTimes
	rule      *rrule
	untilWall time.Time
	rdates    []period
	rdateSet  map[int64]bool
	exAbs     map[int64]bool
	exDays    map[time.Time]bool
	overrides []*override
	byRID     map[int64]*override
	byComp    map[*goical.Component]*override
	future    []*override // THISANDFUTURE overrides, in RID order
	slack     time.Duration
	err       error
}

// End kinds.
const (
	endNone     endKind = iota // neither end property nor DURATION
	endProp                    // DTEND or DUE
	endDuration                // DURATION
)

// recurring reports whether the master carries a recurrence rule or dates.
func (s *series) recurring() bool {
	return s.master != nil && s.mt.hasStart && (s.rule != nil || len(s.rdates) > 0)
}

// times parses DTSTART, DTEND or DUE, and DURATION of comp.
func (c *evalCtx) times(comp *goical.Component) (compTimes, error) {
	var t compTimes
	var err error
	if t.start, t.hasStart, err = c.propDTOf(comp, goical.PropDateTimeStart); err != nil {
		return t, err
	}
	endName := goical.PropDateTimeEnd
	if comp.Name == goical.CompToDo {
		endName = goical.PropDue
	}
	if t.end, t.hasEnd, err = c.propDTOf(comp, endName); err != nil {
		return t, err
	}
	if p := comp.Props.Get(goical.PropDuration); p != nil && !t.hasEnd {
		if t.dur, err = parseDur(p.Value); err != nil {
			return t, err
		}
		t.hasDur = true
	}
	return t, nil
}

// instanceAt builds the occurrence of a component whose start is wall time w
// in the zone of t.start.
func (c *evalCtx) instanceAt(comp *goical.Component, t *compTimes, w time.Time) instance {
	in := instance{comp: comp}
	if !t.hasStart {
		if t.hasEnd {
			in.kind, in.end = endProp, c.abs(t.end)
		}
		return in
	}
	z := t.start.z
	in.hasStart, in.date = true, t.start.date
	in.start = z.abs(c, w)
	switch {
	case t.hasDur:
		in.kind, in.durPos = endDuration, t.dur.positive()
		in.end = c.addDur(dt{wall: w, z: z, date: t.start.date}, t.dur)
	case t.hasEnd:
		in.kind = endProp
		if t.end.z == z {
			in.end = z.abs(c, w.Add(t.end.wall.Sub(t.start.wall)))
		} else {
			in.end = in.start.Add(c.abs(t.end).Sub(c.abs(t.start)))
		}
	}
	return in
}

// seriesOf returns the recurrence set that component comp (a child of the
// VCALENDAR) belongs to.
func (c *evalCtx) seriesOf(comp *goical.Component) *series {
	if c.series == nil {
		c.series = map[*goical.Component]*series{}
		groups := map[string]*series{}
		for _, ch := range c.obj.root.Children {
			if ch.Name == goical.CompTimezone {
				continue
			}
			uid := ""
			if p := ch.Props.Get(goical.PropUID); p != nil {
				uid = p.Value
			}
			key := ch.Name + "\x00" + uid
			s := groups[key]
			if s == nil || uid == "" {
				s = &series{}
				groups[key] = s
			}
			if ch.Props.Get(goical.PropRecurrenceID) != nil {
				s.overrides = append(s.overrides, &override{comp: ch})
			} else if s.master == nil {
				s.master = ch
			} else {
				s = &series{master: ch} // a second master: its own set
			}
			c.series[ch] = s
		}
	}
	s := c.series[comp]
	if s == nil {
		s = &series{master: comp}
		c.series[comp] = s
	}
	if s.byRID == nil {
		s.err = c.prepare(s)
	}
	return s
}

// prepare parses the master's recurrence data and the overrides.
func (c *evalCtx) prepare(s *series) error {
	s.byRID = map[int64]*override{}
	if len(s.overrides) > 0 {
		s.byComp = make(map[*goical.Component]*override, len(s.overrides))
	}
	s.rdateSet = map[int64]bool{}
	s.exAbs = map[int64]bool{}
	s.exDays = map[time.Time]bool{}
	span := 48 * time.Hour
	if m := s.master; m != nil {
		mt, err := c.times(m)
		if err != nil {
			return err
		}
		s.mt = mt
		if mt.hasStart {
			if p := m.Props.Get(goical.PropRecurrenceRule); p != nil {
				r, err := parseRRule(p.Value)
				if err != nil {
					return err
				}
				s.rule = r
				if r.until != "" {
					s.untilWall = c.untilWall(r.until, mt.start)
				}
			}
			if s.rdates, err = c.propPeriods(m.Props.Values(goical.PropRecurrenceDates)); err != nil {
				return err
			}
			for _, p := range s.rdates {
				s.rdateSet[c.abs(p.start).Unix()] = true
				if p.hasEnd {
					span = max(span, p.end.Sub(c.abs(p.start))+48*time.Hour)
				}
			}
			ex, err := c.propPeriods(m.Props.Values(goical.PropExceptionDates))
			if err != nil {
				return err
			}
			for _, e := range ex {
				if e.start.date {
					s.exDays[e.start.wall] = true
				}
				s.exAbs[c.abs(e.start).Unix()] = true
			}
			base := c.instanceAt(m, &s.mt, mt.start.wall)
			if base.kind != endNone {
				span = max(span, absDur(base.end.Sub(base.start))+48*time.Hour)
			}
		}
	}
	for _, o := range s.overrides {
		p := o.comp.Props.Get(goical.PropRecurrenceID)
		rid, err := c.propDT(p)
		if err != nil {
			return err
		}
		o.rid, o.ridDate = c.abs(rid), rid.date
		o.future = strings.EqualFold(p.Params.Get("RANGE"), "THISANDFUTURE")
		o.cancelled = strings.EqualFold(propValue(o.comp, goical.PropStatus), "CANCELLED")
		ot, err := c.times(o.comp)
		if err != nil {
			return err
		}
		if !ot.hasStart { // lenient: an override without DTSTART keeps its original start
			ot.start, ot.hasStart = rid, true
			if !ot.hasEnd && !ot.hasDur {
				ot.end, ot.hasEnd, ot.dur, ot.hasDur = s.mt.end, s.mt.hasEnd, s.mt.dur, s.mt.hasDur
			}
		}
		o.inst = c.instanceAt(o.comp, &ot, ot.start.wall)
		o.inst.recurring, o.inst.rid, o.inst.ridDate = true, o.rid, o.ridDate
		s.byRID[o.rid.Unix()] = o
		s.byComp[o.comp] = o
		if o.future {
			s.future = append(s.future, o)
			length := time.Duration(0)
			if o.inst.kind != endNone {
				length = absDur(o.inst.end.Sub(o.inst.start))
			}
			span = max(span, absDur(o.inst.start.Sub(o.rid))+length+48*time.Hour)
		}
	}
	for i := 1; i < len(s.future); i++ {
		for j := i; j > 0 && s.future[j].rid.Before(s.future[j-1].rid); j-- {
			s.future[j], s.future[j-1] = s.future[j-1], s.future[j]
		}
	}
	s.slack = span
	return nil
}

// untilWall converts an RRULE UNTIL to the wall clock of DTSTART.
func (c *evalCtx) untilWall(raw string, start dt) time.Time {
	t, date, utc, _ := parseCivil(raw)
	switch {
	case utc:
		return start.z.wall(c, t)
	case date && !start.date:
		return t.Add(24*time.Hour - time.Second)
	}
	return t
}

// each calls fn for every instance of the series that may start before hi
// and end after lo (zero bounds are open); it may also report instances
// outside that window. It stops early when fn returns false.
func (c *evalCtx) each(s *series, lo, hi time.Time, fn func(*instance) bool) error {
	if s.err != nil {
		return s.err
	}
	stopped := false
	emit := func(in *instance) bool {
		if !c.b.instance() {
			stopped = true
			return false
		}
		if !fn(in) {
			stopped = true
			return false
		}
		return true
	}
	if m := s.master; m != nil {
		if !s.recurring() {
			in := c.instanceAt(m, &s.mt, s.mt.start.wall)
			if !emit(&in) {
				return c.b.err
			}
		} else {
			z := s.mt.start.z
			occur := func(w time.Time, pe *period) bool {
				rid := z.abs(c, w)
				if pe != nil {
					rid = c.abs(pe.start)
				}
				if s.exAbs[rid.Unix()] || s.exDays[truncDay(w)] {
					return true
				}
				if o := s.byRID[rid.Unix()]; o != nil {
					return true // replaced; reported with the overrides
				}
				in := c.instanceAt(m, &s.mt, w)
				if pe != nil {
					in.start = rid
					if pe.hasEnd {
						in.kind, in.end = endProp, pe.end
					}
				}
				in.recurring, in.rid, in.ridDate = true, rid, s.mt.start.date
				c.applyFuture(s, &in)
				return emit(&in)
			}
			start := s.mt.start.wall
			if !occur(start, nil) {
				return c.b.err
			}
			if s.rule != nil {
				var from, limit time.Time
				if !lo.IsZero() {
					from = z.wall(c, lo.Add(-s.slack))
				}
				if !hi.IsZero() {
					limit = z.wall(c, hi).Add(24 * time.Hour)
				}
				it := s.rule.iter(start, s.mt.start.date, s.untilWall, &c.b)
				it.each(from, limit, func(w time.Time) bool {
					if w.Equal(start) || s.rdateSet[z.abs(c, w).Unix()] {
						return true
					}
					return occur(w, nil)
				})
				if stopped || c.b.err != nil {
					return c.b.err
				}
			}
			startAbs := c.abs(s.mt.start)
			for i := range s.rdates {
				p := &s.rdates[i]
				if c.abs(p.start).Equal(startAbs) {
					continue
				}
				w := p.start.wall
				if p.start.z != z {
					w = z.wall(c, c.abs(p.start))
				}
				if !occur(w, p) {
					return c.b.err
				}
			}
		}
	}
	for _, o := range s.overrides {
		if o.cancelled {
			continue
		}
		in := o.inst
		if !emit(&in) {
			return c.b.err
		}
	}
	return c.b.err
}

// applyFuture applies the latest RANGE=THISANDFUTURE override at or before
// the instance's RECURRENCE-ID: the instance moves by the same offset and
// takes the override's length and properties.
func (c *evalCtx) applyFuture(s *series, in *instance) {
	var best *override
	for _, o := range s.future {
		if !o.rid.After(in.rid) {
			best = o
		}
	}
	if best == nil {
		return
	}
	delta := best.inst.start.Sub(best.rid)
	in.comp = best.comp
	in.start = in.rid.Add(delta)
	in.kind, in.durPos = best.inst.kind, best.inst.durPos
	if best.inst.kind != endNone {
		in.end = in.start.Add(best.inst.end.Sub(best.inst.start))
	}
}

// absDur returns the absolute value of d.
func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// propValue returns the raw value of the first property name of comp, trimmed, or "".
func propValue(comp *goical.Component, name string) string {
	if p := comp.Props.Get(name); p != nil {
		return strings.TrimSpace(p.Value)
	}
	return ""
}
