package ical

import (
	"bytes"
	"sort"
	"strings"
	"time"

	goical "github.com/emersion/go-ical"
)

// BusyPeriod is one FREEBUSY period (RFC 5545 section 3.8.2.6) in UTC.
type BusyPeriod struct {
	Start time.Time
	End   time.Time
	Type  string // FBTYPE: BUSY, BUSY-TENTATIVE or BUSY-UNAVAILABLE
}

// Free-busy types (RFC 5545 section 3.2.9).
const (
	FBBusy            = "BUSY"             // opaque confirmed time
	FBBusyTentative   = "BUSY-TENTATIVE"   // STATUS:TENTATIVE events
	FBBusyUnavailable = "BUSY-UNAVAILABLE" // from VFREEBUSY components only
)

// FreeBusy computes the busy time of objs within tr for a free-busy-query
// (RFC 4791 section 7.10): opaque, non-cancelled VEVENT instances (tentative
// ones as BUSY-TENTATIVE) and the busy periods of VFREEBUSY components,
// clipped to tr and merged per type. Both ends of tr are required. The caps
// in opts apply per object.
func FreeBusy(objs []*Object, tr TimeRange, opts Options) ([]BusyPeriod, error) {
	if tr.Start.IsZero() || tr.End.IsZero() || !tr.End.After(tr.Start) {
		return nil, errorf(CondValidFilter, "free-busy-query needs a time-range with start and end")
	}
	var all []BusyPeriod
	for _, obj := range objs {
		err := safeCall(func() error {
			c := newCtx(obj, opts)
			return c.busy(tr, &all)
		})
		if err != nil {
			return nil, err
		}
	}
	return mergeBusy(all), nil
}

// busy appends the busy periods of one object.
func (c *evalCtx) busy(tr TimeRange, out *[]BusyPeriod) error {
	add := func(s, e time.Time, typ string) {
		if s.Before(tr.Start) {
			s = tr.Start
		}
		if e.After(tr.End) {
			e = tr.End
		}
		if e.After(s) {
			*out = append(*out, BusyPeriod{Start: s.UTC(), End: e.UTC(), Type: typ})
		}
	}
	done := map[*series]bool{}
	for _, ch := range c.obj.root.Children {
		switch ch.Name {
		case goical.CompFreeBusy:
			for _, p := range ch.Props.Values(goical.PropFreeBusy) {
				typ := strings.ToUpper(p.Params.Get(goical.ParamFreeBusyType))
				if typ == "" {
					typ = FBBusy
				}
				if typ == "FREE" {
					continue
				}
				ps, err := c.propPeriods([]goical.Prop{p})
				if err != nil {
					return err
				}
				for _, pe := range ps {
					if pe.hasEnd {
						add(c.abs(pe.start), pe.end, typ)
					}
				}
			}
		case goical.CompEvent:
			s := c.seriesOf(ch)
			if done[s] {
				continue
			}
			done[s] = true
			err := c.each(s, tr.Start, tr.End, func(in *instance) bool {
				if !in.hasStart || !c.instOverlaps(in, tr) {
					return true
				}
				if strings.EqualFold(propValue(in.comp, goical.PropTransparency), "TRANSPARENT") {
					return true
				}
				typ := FBBusy
				switch strings.ToUpper(propValue(in.comp, goical.PropStatus)) {
				case "CANCELLED":
					return true
				case "TENTATIVE":
					typ = FBBusyTentative
				}
				end := in.end
				switch {
				case in.kind == endNone && in.date:
					end = c.floating.abs(c, c.floating.wall(c, in.start).AddDate(0, 0, 1))
				case in.kind == endNone:
					return true
				}
				add(in.start, end, typ)
				return true
			})
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// mergeBusy sorts periods and merges overlapping or touching ones of the
// same type.
func mergeBusy(ps []BusyPeriod) []BusyPeriod {
	sort.Slice(ps, func(i, j int) bool {
		if ps[i].Type != ps[j].Type {
			return ps[i].Type < ps[j].Type
		}
		return ps[i].Start.Before(ps[j].Start)
	})
	var out []BusyPeriod
	for _, p := range ps {
		if n := len(out); n > 0 && out[n-1].Type == p.Type && !p.Start.After(out[n-1].End) {
			if p.End.After(out[n-1].End) {
				out[n-1].End = p.End
			}
			continue
		}
		out = append(out, p)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	return out
}

// EncodeFreeBusy renders the reply to a free-busy-query: a VCALENDAR with
// one VFREEBUSY holding DTSTAMP, DTSTART, DTEND and the periods, in UTC.
func EncodeFreeBusy(tr TimeRange, periods []BusyPeriod, stamp time.Time) []byte {
	fb := &ocomp{name: goical.CompFreeBusy, props: []oprop{
		{name: "DTSTAMP", value: formatUTC(stamp)},
		{name: "DTSTART", value: formatUTC(tr.Start)},
		{name: "DTEND", value: formatUTC(tr.End)},
	}}
	for _, p := range periods {
		var params goical.Params
		if p.Type != FBBusy {
			params = goical.Params{goical.ParamFreeBusyType: {p.Type}}
		}
		fb.props = append(fb.props, oprop{name: goical.PropFreeBusy, params: params,
			value: formatUTC(p.Start) + "/" + formatUTC(p.End)})
	}
	cal := &ocomp{name: goical.CompCalendar, props: []oprop{
		{name: "VERSION", value: "2.0"},
		{name: "PRODID", value: "-//Coffer//CalDAV free-busy//EN"},
	}, kids: []*ocomp{fb}}
	var b bytes.Buffer
	encode(&b, cal)
	return b.Bytes()
}
