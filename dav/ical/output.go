package ical

import (
	"bytes"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	goical "github.com/emersion/go-ical"
)

// CalendarData is a CALDAV:calendar-data request (RFC 4791 section 9.6):
// which components and properties to return, and how to treat recurrences.
type CalendarData struct {
	Comp               *CompSelect // nil returns every component and property
	Expand             *TimeRange  // RFC 4791 section 9.6.5; both ends required
	LimitRecurrenceSet *TimeRange  // RFC 4791 section 9.6.6
	LimitFreeBusySet   *TimeRange  // RFC 4791 section 9.6.7
}

// CompSelect is a CALDAV:comp element (RFC 4791 section 9.6.1). An element
// with no children selects the whole component.
type CompSelect struct {
	Name     string
	AllProps bool // CALDAV:allprop, section 9.6.3
	Props    []PropSelect
	AllComps bool // CALDAV:allcomp, section 9.6.2
	Comps    []CompSelect
}

// PropSelect is a CALDAV:prop element (RFC 4791 section 9.6.4).
type PropSelect struct {
	Name    string
	NoValue bool // novalue="yes": the property without its value
}

// oprop is a property on its way out.
type oprop struct {
	name   string
	params goical.Params
	value  string
}

// ocomp is a component on its way out, with properties in output order.
type ocomp struct {
	name  string
	props []oprop
	kids  []*ocomp
}

// propRank orders well-known properties first in re-encoded output; the
// rest follow alphabetically.
var propRank = map[string]int{}

// Output line length limit (RFC 5545 section 3.1).
const maxLineOctets = 75

func init() {
	for i, n := range []string{"VERSION", "PRODID", "CALSCALE", "METHOD", "TZID", "UID",
		"RECURRENCE-ID", "DTSTAMP", "CREATED", "LAST-MODIFIED", "SEQUENCE", "DTSTART", "DTEND",
		"DUE", "DURATION", "RRULE", "RDATE", "EXDATE", "TZOFFSETFROM", "TZOFFSETTO", "TZNAME",
		"ACTION", "TRIGGER", "REPEAT", "SUMMARY", "DESCRIPTION", "LOCATION", "STATUS", "TRANSP"} {
		propRank[n] = i + 1
	}
}

// Render produces the calendar-data for obj as req asks. The result is a
// re-encoded iCalendar stream (property order canonicalised); callers that
// need no transformation should send the stored bytes instead.
func Render(obj *Object, req *CalendarData, opts Options) (out []byte, err error) {
	if req == nil {
		req = &CalendarData{}
	}
	for _, tr := range []*TimeRange{req.Expand, req.LimitRecurrenceSet, req.LimitFreeBusySet} {
		if err := tr.validate(); err != nil {
			return nil, err
		}
	}
	err = safeCall(func() error {
		c := newCtx(obj, opts)
		root := toOut(obj.root)
		var e error
		switch {
		case req.Expand != nil:
			root.kids, e = c.expand(*req.Expand)
		case req.LimitRecurrenceSet != nil:
			root.kids, e = c.limitRecurrence(*req.LimitRecurrenceSet)
		}
		if e != nil {
			return e
		}
		if tr := req.LimitFreeBusySet; tr != nil {
			c.limitFreeBusy(root, *tr)
		}
		if req.Comp != nil {
			root = selectComp(root, req.Comp)
		}
		var b bytes.Buffer
		encode(&b, root)
		out = b.Bytes()
		return nil
	})
	return out, err
}

// toOut copies a parsed component into output form.
func toOut(c *goical.Component) *ocomp {
	oc := &ocomp{name: c.Name}
	names := make([]string, 0, len(c.Props))
	for n := range c.Props {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		ri, rj := propRank[names[i]], propRank[names[j]]
		if ri == 0 {
			ri = len(propRank) + 1
		}
		if rj == 0 {
			rj = len(propRank) + 1
		}
		if ri != rj {
			return ri < rj
		}
		return names[i] < names[j]
	})
	for _, n := range names {
		for _, p := range c.Props[n] {
			oc.props = append(oc.props, oprop{name: p.Name, params: p.Params, value: p.Value})
		}
	}
	for _, k := range c.Children {
		oc.kids = append(oc.kids, toOut(k))
	}
	return oc
}

// set replaces every property name with one value (no parameters but VALUE).
func (oc *ocomp) set(name, value string, date bool) {
	var params goical.Params
	if date {
		params = goical.Params{"VALUE": {"DATE"}}
	}
	np := oprop{name: name, params: params, value: value}
	for i, p := range oc.props {
		if p.name == name {
			oc.props[i] = np
			oc.del(name, i+1)
			return
		}
	}
	oc.props = append(oc.props, np)
}

// del removes the properties called name from index from onwards.
func (oc *ocomp) del(name string, from int) {
	out := oc.props[:from]
	for _, p := range oc.props[from:] {
		if p.name != name {
			out = append(out, p)
		}
	}
	oc.props = out
}

// expand implements CALDAV:expand: one component per instance overlapping
// tr, in UTC, without recurrence properties and without VTIMEZONE.
func (c *evalCtx) expand(tr TimeRange) ([]*ocomp, error) {
	if tr.Start.IsZero() || tr.End.IsZero() {
		return nil, errorf(CondValidFilter, "expand needs start and end")
	}
	var kids []*ocomp
	done := map[*series]bool{}
	for _, ch := range c.obj.root.Children {
		switch ch.Name {
		case goical.CompTimezone:
			continue
		case goical.CompEvent, goical.CompToDo, goical.CompJournal:
		default:
			kids = append(kids, toOut(ch))
			continue
		}
		s := c.seriesOf(ch)
		if done[s] {
			continue
		}
		done[s] = true
		var ins []instance
		err := c.each(s, tr.Start, tr.End, func(in *instance) bool {
			if c.instOverlaps(in, tr) {
				ins = append(ins, *in)
			}
			return true
		})
		if err != nil {
			return nil, err
		}
		sort.SliceStable(ins, func(i, j int) bool { return ins[i].start.Before(ins[j].start) })
		for i := range ins {
			kids = append(kids, c.instanceOut(&ins[i]))
		}
	}
	return kids, nil
}

// instanceOut renders one expanded instance.
func (c *evalCtx) instanceOut(in *instance) *ocomp {
	oc := toOut(in.comp)
	for _, n := range []string{"RRULE", "RDATE", "EXDATE", "EXRULE", "RECURRENCE-ID"} {
		oc.del(n, 0)
	}
	dateStr := func(t time.Time) string { return c.floating.wall(c, t).Format("20060102") }
	if in.hasStart {
		if in.date {
			oc.set("DTSTART", dateStr(in.start), true)
		} else {
			oc.set("DTSTART", formatUTC(in.start), false)
		}
	}
	if in.kind == endProp {
		name := "DTEND"
		if in.comp.Name == goical.CompToDo {
			name = "DUE"
		}
		oc.del("DURATION", 0)
		if in.date {
			oc.set(name, dateStr(in.end), true)
		} else {
			oc.set(name, formatUTC(in.end), false)
		}
	}
	if in.recurring {
		if in.ridDate {
			oc.set("RECURRENCE-ID", dateStr(in.rid), true)
		} else {
			oc.set("RECURRENCE-ID", formatUTC(in.rid), false)
		}
	}
	return oc
}

// limitRecurrence implements CALDAV:limit-recurrence-set: masters and
// non-recurring components stay; overrides stay only when they overlap tr,
// their original instance lies in tr, or they change this and future
// instances from before tr's end.
func (c *evalCtx) limitRecurrence(tr TimeRange) ([]*ocomp, error) {
	var kids []*ocomp
	for _, ch := range c.obj.root.Children {
		if ch.Props.Get(goical.PropRecurrenceID) == nil || ch.Name == goical.CompTimezone {
			kids = append(kids, toOut(ch))
			continue
		}
		s := c.seriesOf(ch)
		if s.err != nil {
			return nil, s.err
		}
		keep := false
		for _, o := range s.overrides {
			if o.comp != ch {
				continue
			}
			_, e := tr.bounds()
			keep = c.instOverlaps(&o.inst, tr) || tr.Overlaps(o.rid, time.Time{}) || (o.future && o.rid.Before(e))
		}
		if keep {
			kids = append(kids, toOut(ch))
		}
	}
	return kids, nil
}

// limitFreeBusy implements CALDAV:limit-freebusy-set on VFREEBUSY components.
func (c *evalCtx) limitFreeBusy(root *ocomp, tr TimeRange) {
	for _, k := range root.kids {
		if k.name != goical.CompFreeBusy {
			continue
		}
		var props []oprop
		for _, p := range k.props {
			if p.name != goical.PropFreeBusy {
				props = append(props, p)
				continue
			}
			var keep []string
			for _, el := range strings.Split(p.value, ",") {
				ps, err := c.propPeriods([]goical.Prop{{Name: p.name, Params: p.params, Value: el}})
				if err != nil || len(ps) != 1 || !ps[0].hasEnd {
					continue
				}
				if tr.Overlaps(c.abs(ps[0].start), ps[0].end) {
					keep = append(keep, el)
				}
			}
			if len(keep) > 0 {
				props = append(props, oprop{name: p.name, params: p.params, value: strings.Join(keep, ",")})
			}
		}
		k.props = props
	}
}

// selectComp applies a CALDAV:comp selection to a component.
func selectComp(oc *ocomp, sel *CompSelect) *ocomp {
	if !sel.AllProps && len(sel.Props) == 0 && !sel.AllComps && len(sel.Comps) == 0 {
		return oc
	}
	out := &ocomp{name: oc.name}
	if sel.AllProps {
		out.props = oc.props
	} else {
		for _, p := range oc.props {
			i := slices.IndexFunc(sel.Props, func(ps PropSelect) bool { return strings.EqualFold(ps.Name, p.name) })
			if i < 0 {
				continue
			}
			if sel.Props[i].NoValue {
				p.value = ""
			}
			out.props = append(out.props, p)
		}
	}
	for _, k := range oc.kids {
		if sel.AllComps {
			out.kids = append(out.kids, k)
			continue
		}
		for i := range sel.Comps {
			if strings.EqualFold(sel.Comps[i].Name, k.name) {
				out.kids = append(out.kids, selectComp(k, &sel.Comps[i]))
				break
			}
		}
	}
	return out
}

// encode writes oc as iCalendar with CRLF line ends and folded lines.
func encode(b *bytes.Buffer, oc *ocomp) {
	writeLine(b, "BEGIN:"+oc.name)
	for _, p := range oc.props {
		var l strings.Builder
		l.WriteString(p.name)
		names := make([]string, 0, len(p.params))
		for n := range p.params {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			l.WriteString(";" + n + "=")
			for i, v := range p.params[n] {
				if i > 0 {
					l.WriteByte(',')
				}
				v = strings.NewReplacer(`"`, "", "\r", "", "\n", "").Replace(v)
				if strings.ContainsAny(v, ";:,") {
					l.WriteString(`"` + v + `"`)
				} else {
					l.WriteString(v)
				}
			}
		}
		l.WriteByte(':')
		l.WriteString(strings.NewReplacer("\r", "", "\n", "").Replace(p.value))
		writeLine(b, l.String())
	}
	for _, k := range oc.kids {
		encode(b, k)
	}
	writeLine(b, "END:"+oc.name)
}

// writeLine writes one content line folded at 75 octets without splitting
// UTF-8 sequences.
func writeLine(b *bytes.Buffer, l string) {
	limit := maxLineOctets
	for len(l) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(l[cut]) {
			cut--
		}
		if cut == 0 {
			cut = limit
		}
		b.WriteString(l[:cut])
		b.WriteString("\r\n ")
		l = l[cut:]
		limit = maxLineOctets - 1
	}
	b.WriteString(l)
	b.WriteString("\r\n")
}
