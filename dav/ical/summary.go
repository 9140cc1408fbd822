package ical

import (
	"encoding/binary"
	"errors"
	"strings"
	"time"

	goical "github.com/emersion/go-ical"
)

// Summary is the index record of one object: enough to skip objects that
// cannot match a time-range without parsing them.
type Summary struct {
	Component string    // first component other than VTIMEZONE, e.g. VEVENT
	UID       string    // UID of that component
	Recurring bool      // it has RRULE or RDATE
	Never     bool      // no time-range can match (e.g. VJOURNAL without DTSTART)
	Start     time.Time // earliest time a match can touch; zero: unbounded in the past
	End       time.Time // latest time a match can touch; zero with Unbounded
	Unbounded bool      // matches can reach arbitrarily far into the future
	Floating  bool      // bounds depend on the default location (widened to cover any zone)
}

// Summary encoding.
const (
	summaryVersion = 1
	sumRecurring   = 1 << 0
	sumNever       = 1 << 1
	sumUnbounded   = 1 << 2
	sumHasStart    = 1 << 3
	sumHasEnd      = 1 << 4
	sumFloating    = 1 << 5
	// floatPad widens bounds that depend on the default location so that the
	// summary holds for every zone (offsets span UTC-12 to UTC+14).
	floatPad = 26 * time.Hour
)

// errSummary reports a malformed encoded summary.
var errSummary = errors.New("ical: malformed summary encoding")

// Summarize computes the Summary of obj with floating and all-day values read
// in defaultLoc (nil: UTC) and then widened to hold in any zone. It walks
// every RDATE and override and a COUNT rule in full, as a query may have
// to; past the caps of opts it fails with ErrTooManyInstances or
// ErrTooComplex, since queries on such an object would fail the same way.
func Summarize(obj *Object, defaultLoc *time.Location, opts Options) (sum Summary, err error) {
	opts.Location, opts.Zone = defaultLoc, nil
	err = safeCall(func() error {
		c := newCtx(obj, opts)
		sum, err = c.summarize()
		return err
	})
	return sum, err
}

// summarize walks every top-level component and widens the bounds.
func (c *evalCtx) summarize() (Summary, error) {
	var sum Summary
	var lo, hi time.Time
	openLo, openHi, any := false, false, false
	widen := func(a, b time.Time) {
		if !any || a.Before(lo) {
			lo = a
		}
		if !any || b.After(hi) {
			hi = b
		}
		any = true
	}
	done := map[*series]bool{}
	for _, ch := range c.obj.root.Children {
		if ch.Name == goical.CompTimezone {
			continue
		}
		if sum.Component == "" {
			sum.Component = ch.Name
			sum.UID = propValue(ch, goical.PropUID)
		}
		switch ch.Name {
		case goical.CompFreeBusy:
			if a, b, ok, err := c.freeBusyBounds(ch); err != nil {
				return sum, err
			} else if ok {
				widen(a, b)
			}
			continue
		case goical.CompEvent, goical.CompToDo, goical.CompJournal:
		default:
			continue
		}
		s := c.seriesOf(ch)
		if done[s] {
			continue
		}
		done[s] = true
		if s.err != nil {
			return sum, s.err
		}
		if s.recurring() {
			sum.Recurring = true
		}
		var hint time.Time
		if s.rule != nil && s.recurring() && s.rule.count == 0 {
			// Bounded by UNTIL or infinite: no need to walk it.
			hint = c.abs(s.mt.start).Add(24 * time.Hour)
			if s.rule.until == "" {
				openHi = true
			} else {
				u := s.mt.start.z.abs(c, s.untilWall)
				widen(u, u.Add(s.slack))
			}
		}
		pad := c.alarmPad(s)
		err := c.each(s, time.Time{}, hint, func(in *instance) bool {
			a, b, ol, oh, ok := c.instanceBounds(in)
			if !ok {
				return true
			}
			openLo, openHi = openLo || ol, openHi || oh
			widen(a.Add(-pad), b.Add(pad))
			return true
		})
		if err != nil {
			return sum, err
		}
	}
	switch {
	case !any && !openLo && !openHi:
		sum.Never = true
	default:
		if c.usedFloating {
			sum.Floating = true
			lo, hi = lo.Add(-floatPad), hi.Add(floatPad)
		}
		if !openLo && any {
			sum.Start = lo.UTC()
		}
		if openHi {
			sum.Unbounded = true
		} else if any {
			sum.End = hi.UTC()
		}
	}
	return sum, nil
}

// instanceBounds returns the span in which a time-range can match the
// instance, per the RFC 4791 section 9.9 tables; ol/oh mark open ends.
func (c *evalCtx) instanceBounds(in *instance) (a, b time.Time, ol, oh, ok bool) {
	day := func(t time.Time) time.Time { return t.Add(25 * time.Hour) }
	switch {
	case in.hasStart:
		a, b = in.start, in.start
		if in.kind != endNone {
			a, b = minTime(a, in.end), maxTime(b, in.end)
		}
		if in.date {
			b = maxTime(b, day(in.start))
		}
		return a, b, false, false, true
	case in.comp.Name == goical.CompJournal || in.comp.Name == goical.CompEvent:
		return a, b, false, false, false
	case in.kind == endProp:
		return in.end, in.end, false, false, true
	}
	completed, hasCompleted := c.utcProp(in.comp, goical.PropCompleted)
	created, hasCreated := c.utcProp(in.comp, goical.PropCreated)
	switch {
	case hasCompleted && hasCreated:
		return minTime(created, completed), maxTime(created, completed), false, false, true
	case hasCompleted:
		return completed, completed, false, false, true
	case hasCreated:
		return created, created, false, true, true
	}
	return a, b, true, true, true
}

// alarmPad returns how far alarms of the series' components reach beyond
// their instances, so that VALARM time-ranges stay covered.
func (c *evalCtx) alarmPad(s *series) time.Duration {
	var pad time.Duration
	comps := []*goical.Component{s.master}
	for _, o := range s.overrides {
		comps = append(comps, o.comp)
	}
	for _, comp := range comps {
		if comp == nil {
			continue
		}
		for _, a := range comp.Children {
			if a.Name != goical.CompAlarm {
				continue
			}
			tp := a.Props.Get(goical.PropTrigger)
			if tp == nil {
				continue
			}
			p := 48 * time.Hour
			if d, err := parseDur(tp.Value); err == nil {
				p += absDur(d.approx())
			} else if d, err := c.propDT(tp); err == nil {
				p += absDur(c.abs(d).Sub(c.abs(s.mt.start)))
			}
			if r := a.Props.Get(goical.PropRepeat); r != nil {
				if d := a.Props.Get(goical.PropDuration); d != nil {
					n, err1 := r.Int()
					dd, err2 := parseDur(d.Value)
					if err1 == nil && err2 == nil && n > 0 {
						p += time.Duration(min(n, 10000)) * absDur(dd.approx())
					}
				}
			}
			pad = max(pad, p)
		}
	}
	return pad
}

// freeBusyBounds returns the span of a VFREEBUSY component.
func (c *evalCtx) freeBusyBounds(comp *goical.Component) (a, b time.Time, ok bool, err error) {
	start, okS, err := c.propDTOf(comp, goical.PropDateTimeStart)
	if err != nil {
		return a, b, false, err
	}
	end, okE, err := c.propDTOf(comp, goical.PropDateTimeEnd)
	if err != nil {
		return a, b, false, err
	}
	if okS && okE {
		return c.abs(start), c.abs(end), true, nil
	}
	ps, err := c.propPeriods(comp.Props.Values(goical.PropFreeBusy))
	if err != nil {
		return a, b, false, err
	}
	for _, p := range ps {
		if !p.hasEnd {
			continue
		}
		s := c.abs(p.start)
		if !ok || s.Before(a) {
			a = s
		}
		if !ok || p.end.After(b) {
			b = p.end
		}
		ok = true
	}
	return a, b, ok, nil
}

// MayOverlap reports whether a comp-filter time-range [start, end) on the
// summarised component could match; zero bounds are open. It never
// answers false for an object that Match would accept.
func (s Summary) MayOverlap(start, end time.Time) bool {
	if s.Never {
		return false
	}
	if !end.IsZero() && !s.Start.IsZero() && end.Before(s.Start) {
		return false
	}
	if !start.IsZero() && !s.Unbounded && !s.End.IsZero() && start.After(s.End) {
		return false
	}
	return true
}

// MarshalBinary encodes the summary compactly (version, flags, component,
// varint Unix seconds, UID).
func (s Summary) MarshalBinary() ([]byte, error) {
	var flags byte
	for _, f := range []struct {
		on  bool
		bit byte
	}{{s.Recurring, sumRecurring}, {s.Never, sumNever}, {s.Unbounded, sumUnbounded},
		{!s.Start.IsZero(), sumHasStart}, {!s.End.IsZero(), sumHasEnd}, {s.Floating, sumFloating}} {
		if f.on {
			flags |= f.bit
		}
	}
	b := []byte{summaryVersion, flags}
	b = binary.AppendUvarint(b, uint64(len(s.Component)))
	b = append(b, s.Component...)
	if !s.Start.IsZero() {
		b = binary.AppendVarint(b, s.Start.Unix())
	}
	if !s.End.IsZero() {
		b = binary.AppendVarint(b, s.End.Unix())
	}
	b = binary.AppendUvarint(b, uint64(len(s.UID)))
	return append(b, s.UID...), nil
}

// UnmarshalBinary decodes a summary written by MarshalBinary.
func (s *Summary) UnmarshalBinary(b []byte) error {
	if len(b) < 2 || b[0] != summaryVersion {
		return errSummary
	}
	flags := b[1]
	b = b[2:]
	str := func() (string, bool) {
		n, k := binary.Uvarint(b)
		if k <= 0 || n > uint64(len(b)-k) {
			return "", false
		}
		v := string(b[k : k+int(n)])
		b = b[k+int(n):]
		return v, true
	}
	num := func() (time.Time, bool) {
		v, k := binary.Varint(b)
		if k <= 0 {
			return time.Time{}, false
		}
		b = b[k:]
		return time.Unix(v, 0).UTC(), true
	}
	var out Summary
	var ok bool
	if out.Component, ok = str(); !ok {
		return errSummary
	}
	if flags&sumHasStart != 0 {
		if out.Start, ok = num(); !ok {
			return errSummary
		}
	}
	if flags&sumHasEnd != 0 {
		if out.End, ok = num(); !ok {
			return errSummary
		}
	}
	if out.UID, ok = str(); !ok || len(b) != 0 {
		return errSummary
	}
	out.Recurring = flags&sumRecurring != 0
	out.Never = flags&sumNever != 0
	out.Unbounded = flags&sumUnbounded != 0
	out.Floating = flags&sumFloating != 0
	out.Component = strings.ToUpper(out.Component)
	*s = out
	return nil
}

// minTime returns the earlier of a and b.
func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// maxTime returns the later of a and b.
func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
