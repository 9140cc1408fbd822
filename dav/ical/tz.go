package ical

import (
	"strings"
	"sync"
	"time"

	goical "github.com/emersion/go-ical"
	_ "time/tzdata" // the binary carries its own zone database
)

// zone turns wall-clock times of one TZID into absolute instants. Exactly
// one of loc and vtz is set.
type zone struct {
	name string
	loc  *time.Location // IANA, Windows-mapped or the default location
	vtz  *vtimezone     // an embedded VTIMEZONE definition
}

// observance is one STANDARD or DAYLIGHT sub-component of a VTIMEZONE
// (RFC 5545 section 3.6.5).
type observance struct {
	start  time.Time // DTSTART, local time in the "from" offset
	from   int       // TZOFFSETFROM, seconds east of UTC
	to     int       // TZOFFSETTO, seconds east of UTC
	rule   *rrule
	until  time.Time // rule UNTIL as local wall time; zero for none
	rdates []time.Time
}

// transition is one onset: from instant at (Unix seconds) the offset is off.
type transition struct {
	at  int64
	off int
}

// vtimezone evaluates an embedded VTIMEZONE. It is shared by every object
// that carries the same definition, and so are the onsets it computes.
type vtimezone struct {
	obs       []observance
	first     int // offset before the earliest onset
	firstYear int // no onset happens before this year
	lastYear  int // no onset happens after this year

	mu    sync.Mutex
	years map[int][]transition // onsets by year, complete ones only
}

// zoneShare is the process-wide set of built VTIMEZONE definitions, by
// content: the events of a calendar mostly carry the same few definitions,
// and their onsets need computing once, not once per object and query.
type zoneShare struct {
	mu sync.Mutex
	m  map[string]*vtimezone
}

// utcZone is the zone of DATE-TIME values written with a "Z" suffix.
var utcZone = &zone{name: "UTC", loc: time.UTC}

// ianaCache holds successful IANA lookups; the set of names is finite.
var ianaCache sync.Map

// sharedZones holds the definitions built so far.
var sharedZones = zoneShare{m: map[string]*vtimezone{}}

// Bounds for VTIMEZONE evaluation.
const (
	maxZonesPerObject = 256
	maxYearsBack      = 400
	maxSharedZones    = 1024
	maxYearsPerZone   = 4096
)

// ResolveTZID maps a TZID that names a zone (IANA, a Windows zone name as
// Outlook writes it, or a prefixed form like /mozilla.org/.../Europe/Berlin)
// to a location; ok is false for unknown names.
func ResolveTZID(tzid string) (loc *time.Location, ok bool) {
	tzid = strings.Trim(strings.TrimSpace(tzid), `"`)
	if tzid == "" || len(tzid) > 200 {
		return nil, false
	}
	if loc := loadIANA(tzid); loc != nil {
		return loc, true
	}
	if name, ok := windowsZones[strings.ToLower(tzid)]; ok {
		if loc := loadIANA(name); loc != nil {
			return loc, true
		}
	}
	if strings.Contains(tzid, "/") {
		parts := strings.Split(strings.Trim(tzid, "/"), "/")
		for n := min(3, len(parts)-1); n >= 1; n-- {
			if loc := loadIANA(strings.Join(parts[len(parts)-n:], "/")); loc != nil {
				return loc, true
			}
		}
	}
	return nil, false
}

// loadIANA loads an IANA zone by exact name, refusing the process-local zone.
func loadIANA(name string) *time.Location {
	if v, ok := ianaCache.Load(name); ok {
		return v.(*time.Location)
	}
	if name == "Local" || strings.ContainsAny(name, "\\\x00") || strings.Contains(name, "..") {
		return nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil || loc == time.Local {
		return nil
	}
	ianaCache.Store(name, loc)
	return loc
}

// zone resolves a TZID as namedZone does; anything else is treated as
// floating (the default location).
func (c *evalCtx) zone(tzid string) *zone {
	if z := c.obj.namedZone(tzid); z != nil {
		return z
	}
	return c.floating
}

// namedZone resolves a TZID that names a zone: an embedded VTIMEZONE
// first, then IANA and Windows names; nil for any other name. The answer
// does not depend on the evaluation, so the object keeps it for the next.
func (o *Object) namedZone(tzid string) *zone {
	o.zoneMu.Lock()
	z, ok := o.named[tzid]
	o.zoneMu.Unlock()
	if ok {
		return z
	}
	if def, ok := o.tzdef[tzid]; ok {
		if v := sharedZones.get(def); v != nil {
			z = &zone{name: tzid, vtz: v}
		}
	}
	if z == nil {
		if loc, ok := ResolveTZID(tzid); ok {
			z = &zone{name: tzid, loc: loc}
		}
	}
	o.zoneMu.Lock()
	defer o.zoneMu.Unlock()
	if o.named == nil {
		o.named = map[string]*zone{}
	}
	if len(o.named) < maxZonesPerObject {
		o.named[tzid] = z
	}
	return z
}

// abs converts a wall time in z to an absolute instant (in UTC).
func (z *zone) abs(c *evalCtx, w time.Time) time.Time {
	if z.vtz != nil {
		return z.vtz.abs(c, w)
	}
	if z.loc == time.UTC {
		return w
	}
	y, m, d := w.Date()
	h, mi, s := w.Clock()
	return time.Date(y, m, d, h, mi, s, 0, z.loc).UTC()
}

// wall converts an absolute instant to the wall time of z.
func (z *zone) wall(c *evalCtx, t time.Time) time.Time {
	if z.vtz != nil {
		return time.Unix(t.Unix()+int64(z.vtz.offsetAt(c, t.Unix())), 0).UTC()
	}
	lt := t.In(z.loc)
	y, m, d := lt.Date()
	h, mi, s := lt.Clock()
	return time.Date(y, m, d, h, mi, s, 0, time.UTC)
}

// get returns the built definition def, building it on first use; nil
// when it has no observance that can be used. Past maxSharedZones distinct
// definitions, new ones are built for the caller alone.
func (s *zoneShare) get(def *goical.Component) *vtimezone {
	key := zoneKey(def)
	s.mu.Lock()
	v, ok := s.m[key]
	s.mu.Unlock()
	if ok {
		return v
	}
	v = buildVTimezone(def)
	if v == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if have, ok := s.m[key]; ok {
		return have
	}
	if len(s.m) < maxSharedZones {
		s.m[key] = v
	}
	return v
}

// zoneKey names a VTIMEZONE by everything buildVTimezone reads of it.
func zoneKey(def *goical.Component) string {
	var b strings.Builder
	for _, sub := range def.Children {
		if sub.Name != goical.CompTimezoneStandard && sub.Name != goical.CompTimezoneDaylight {
			continue
		}
		b.WriteString(sub.Name)
		for _, name := range [...]string{goical.PropDateTimeStart, goical.PropTimezoneOffsetFrom, goical.PropTimezoneOffsetTo, goical.PropRecurrenceRule, goical.PropRecurrenceDates} {
			for _, p := range sub.Props.Values(name) {
				b.WriteString("\x00" + name + ":" + p.Value)
			}
		}
		b.WriteString("\x01")
	}
	return b.String()
}

// buildVTimezone reads the observances of a VTIMEZONE; nil when it has none
// that can be used.
func buildVTimezone(def *goical.Component) *vtimezone {
	v := &vtimezone{years: map[int][]transition{}}
	var earliest *observance
	for _, sub := range def.Children {
		if sub.Name != goical.CompTimezoneStandard && sub.Name != goical.CompTimezoneDaylight {
			continue
		}
		var o observance
		var ok1, ok2, ok3 bool
		if p := sub.Props.Get(goical.PropDateTimeStart); p != nil {
			t, date, utc, ok := parseCivil(p.Value)
			o.start, ok1 = t, ok && !date && !utc
		}
		if p := sub.Props.Get(goical.PropTimezoneOffsetFrom); p != nil {
			o.from, ok2 = parseOffset(p.Value)
		}
		if p := sub.Props.Get(goical.PropTimezoneOffsetTo); p != nil {
			o.to, ok3 = parseOffset(p.Value)
		}
		if !ok1 || !ok2 || !ok3 {
			continue
		}
		last := o.start.Year()
		if p := sub.Props.Get(goical.PropRecurrenceRule); p != nil {
			if r, err := parseRRule(p.Value); err == nil {
				o.rule = r
				last = maxYear
				if r.until != "" {
					if t, date, utc, _ := parseCivil(r.until); utc {
						o.until = t.Add(time.Duration(o.from) * time.Second)
					} else if date {
						o.until = t.Add(24*time.Hour - time.Second)
					} else {
						o.until = t
					}
					last = o.until.Year()
				}
			}
		}
		for _, p := range sub.Props.Values(goical.PropRecurrenceDates) {
			for _, el := range strings.Split(p.Value, ",") {
				el, _, _ = strings.Cut(strings.TrimSpace(el), "/")
				if t, _, utc, ok := parseCivil(el); ok {
					if utc {
						t = t.Add(time.Duration(o.from) * time.Second)
					}
					o.rdates = append(o.rdates, t)
					last = max(last, t.Year())
				}
			}
		}
		v.lastYear = max(v.lastYear, last)
		v.obs = append(v.obs, o)
		if earliest == nil || o.start.Before(earliest.start) {
			earliest = &v.obs[len(v.obs)-1]
		}
	}
	if len(v.obs) == 0 {
		return nil
	}
	v.first = earliest.from
	v.firstYear = earliest.start.Year()
	return v
}

// parseOffset parses a UTC offset such as +0100, -0530 or +013045.
func parseOffset(s string) (int, bool) {
	s = strings.TrimSpace(s)
	if len(s) != 5 && len(s) != 7 {
		return 0, false
	}
	sign := 1
	switch s[0] {
	case '-':
		sign = -1
	case '+':
	default:
		return 0, false
	}
	n := 0
	for i := 1; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	h := int(s[1]-'0')*10 + int(s[2]-'0')
	m := int(s[3]-'0')*10 + int(s[4]-'0')
	if len(s) == 7 {
		n = int(s[5]-'0')*10 + int(s[6]-'0')
	}
	if h > 23 || m > 59 || n > 59 {
		return 0, false
	}
	return sign * (h*3600 + m*60 + n), true
}

// transitions returns the onsets whose instant falls in year y (UTC),
// sorted. A year is computed under c's budget and kept only when complete.
func (v *vtimezone) transitions(c *evalCtx, y int) []transition {
	v.mu.Lock()
	defer v.mu.Unlock()
	if tr, ok := v.years[y]; ok {
		return tr
	}
	lo := time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC)
	hi := time.Date(y+1, 1, 1, 0, 0, 0, 0, time.UTC)
	wlo, whi := lo.Add(-36*time.Hour), hi.Add(36*time.Hour)
	var out []transition
	add := func(o *observance, w time.Time) {
		at := w.Unix() - int64(o.from)
		if at >= lo.Unix() && at < hi.Unix() {
			out = append(out, transition{at: at, off: o.to})
		}
	}
	for i := range v.obs {
		o := &v.obs[i]
		if o.start.After(whi) {
			continue
		}
		if !o.start.Before(wlo) {
			add(o, o.start)
		}
		for _, r := range o.rdates {
			if !r.Before(wlo) && r.Before(whi) {
				add(o, r)
			}
		}
		if o.rule != nil {
			it := o.rule.iter(o.start, false, o.until, &c.b)
			it.each(wlo, whi, func(w time.Time) bool {
				if w.Before(whi) && !w.Equal(o.start) {
					add(o, w)
				}
				return true
			})
		}
	}
	sortTransitions(out)
	if c.b.err == nil && len(v.years) < maxYearsPerZone {
		v.years[y] = out
	}
	return out
}

// sortTransitions sorts onsets by instant (insertion sort; lists are tiny).
func sortTransitions(t []transition) {
	for i := 1; i < len(t); i++ {
		for j := i; j > 0 && t[j].at < t[j-1].at; j-- {
			t[j], t[j-1] = t[j-1], t[j]
		}
	}
}

// offsetAt returns the UTC offset in effect at Unix time u.
func (v *vtimezone) offsetAt(c *evalCtx, u int64) int {
	y := time.Unix(u, 0).UTC().Year()
	start := min(y, v.lastYear+1)
	for yy := start; yy >= v.firstYear-1 && start-yy <= maxYearsBack; yy-- {
		tr := v.transitions(c, yy)
		for i := len(tr) - 1; i >= 0; i-- {
			if tr[i].at <= u {
				return tr[i].off
			}
		}
		if c.b.err != nil {
			break
		}
	}
	return v.first
}

// abs converts a wall time to an instant. A time that occurs twice takes the
// first occurrence; a time in a gap is read with the offset before the gap
// (RFC 5545 section 3.3.5).
func (v *vtimezone) abs(c *evalCtx, w time.Time) time.Time {
	u := w.Unix()
	g := v.offsetAt(c, u)
	o1 := v.offsetAt(c, u-int64(g))
	o2 := v.offsetAt(c, u-int64(o1))
	best, found, maxOff := 0, false, g
	for _, o := range [...]int{g, o1, o2} {
		maxOff = max(maxOff, o)
		if v.offsetAt(c, u-int64(o)) == o && (!found || o > best) {
			best, found = o, true
		}
	}
	if !found {
		best = v.offsetAt(c, u-int64(maxOff))
	}
	return time.Unix(u-int64(best), 0).UTC()
}
