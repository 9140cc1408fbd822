package ical

import (
	"strings"
	"time"

	goical "github.com/emersion/go-ical"
)

// dt is a parsed DATE or DATE-TIME value (RFC 5545 sections 3.3.4, 3.3.5).
type dt struct {
	wall time.Time // civil date and time, held in time.UTC as a neutral container
	z    *zone     // zone giving the value its absolute meaning; utcZone for "Z" values
	date bool      // VALUE=DATE
}

// dur is an iCalendar duration (RFC 5545 section 3.3.6): days are nominal
// (they follow the wall clock), seconds are exact.
type dur struct {
	days int
	secs int64
}

// period is one element of an RDATE or FREEBUSY list: a start, and an end
// when the element was a PERIOD.
type period struct {
	start  dt
	end    time.Time // absolute end; zero when the element is a plain date or date-time
	hasEnd bool
}

// Bounds on parsed durations, so arithmetic can never overflow.
const (
	maxDurDays = 3660000
	maxDurSecs = int64(maxDurDays) * 86400
)

// abs returns the absolute instant of d.
func (c *evalCtx) abs(d dt) time.Time { return d.z.abs(c, d.wall) }

// parseCivil parses YYYYMMDD, YYYYMMDDTHHMMSS or YYYYMMDDTHHMMSSZ.
func parseCivil(s string) (t time.Time, date, utc, ok bool) {
	num := func(s string) (int, bool) {
		n := 0
		for i := 0; i < len(s); i++ {
			if s[i] < '0' || s[i] > '9' {
				return 0, false
			}
			n = n*10 + int(s[i]-'0')
		}
		return n, true
	}
	if len(s) != 8 && len(s) != 15 && len(s) != 16 {
		return
	}
	y, ok1 := num(s[0:4])
	mo, ok2 := num(s[4:6])
	d, ok3 := num(s[6:8])
	if !ok1 || !ok2 || !ok3 || y < 1 || mo < 1 || mo > 12 || d < 1 || d > daysIn(y, time.Month(mo)) {
		return
	}
	if len(s) == 8 {
		return time.Date(y, time.Month(mo), d, 0, 0, 0, 0, time.UTC), true, false, true
	}
	if s[8] != 'T' && s[8] != 't' {
		return
	}
	h, ok1 := num(s[9:11])
	mi, ok2 := num(s[11:13])
	se, ok3 := num(s[13:15])
	if !ok1 || !ok2 || !ok3 || h > 23 || mi > 59 || se > 60 {
		return
	}
	if se == 60 {
		se = 59 // leap second: clamp
	}
	if len(s) == 16 {
		if s[15] != 'Z' && s[15] != 'z' {
			return
		}
		utc = true
	}
	return time.Date(y, time.Month(mo), d, h, mi, se, 0, time.UTC), false, utc, true
}

// parseValue parses one DATE or DATE-TIME string with an optional TZID.
func (c *evalCtx) parseValue(s, tzid string) (dt, error) {
	t, date, utc, ok := parseCivil(strings.TrimSpace(s))
	if !ok {
		return dt{}, dataErrorf("invalid DATE or DATE-TIME value")
	}
	d := dt{wall: t, z: c.floating, date: date}
	switch {
	case utc:
		d.z = utcZone
	case !date && tzid != "":
		d.z = c.zone(tzid)
	}
	if d.z == c.floating {
		c.usedFloating = true
	}
	return d, nil
}

// propDT parses a single-valued DATE or DATE-TIME property.
func (c *evalCtx) propDT(p *goical.Prop) (dt, error) {
	v := p.Value
	if i := strings.IndexByte(v, ','); i >= 0 {
		v = v[:i] // lenient: first element of an unexpected list
	}
	return c.parseValue(v, p.Params.Get("TZID"))
}

// propDTOf parses the named property of comp; ok is false when it is absent.
func (c *evalCtx) propDTOf(comp *goical.Component, name string) (d dt, ok bool, err error) {
	p := comp.Props.Get(name)
	if p == nil {
		return dt{}, false, nil
	}
	d, err = c.propDT(p)
	return d, err == nil, err
}

// propPeriods parses a comma-separated list of DATE, DATE-TIME or PERIOD
// values (RDATE, EXDATE, FREEBUSY), all properties of that name together.
func (c *evalCtx) propPeriods(props []goical.Prop) ([]period, error) {
	var out []period
	for i := range props {
		p := &props[i]
		tzid := p.Params.Get("TZID")
		for _, el := range strings.Split(p.Value, ",") {
			el = strings.TrimSpace(el)
			if el == "" {
				continue
			}
			if !c.b.step(1) {
				return nil, c.b.err
			}
			startS, endS, isPeriod := strings.Cut(el, "/")
			start, err := c.parseValue(startS, tzid)
			if err != nil {
				return nil, err
			}
			pe := period{start: start}
			if isPeriod {
				if strings.HasPrefix(endS, "P") || strings.HasPrefix(endS, "+P") || strings.HasPrefix(endS, "-P") {
					d, err := parseDur(endS)
					if err != nil {
						return nil, err
					}
					pe.end = c.addDur(start, d)
				} else {
					e, err := c.parseValue(endS, tzid)
					if err != nil {
						return nil, err
					}
					pe.end = c.abs(e)
				}
				pe.hasEnd = true
			}
			out = append(out, pe)
		}
	}
	return out, nil
}

// addDur adds d to the value v: days on the wall clock of v's zone, then
// seconds on the absolute time line.
func (c *evalCtx) addDur(v dt, d dur) time.Time {
	w := v.wall
	if d.days != 0 {
		w = w.AddDate(0, 0, d.days)
	}
	return v.z.abs(c, w).Add(time.Duration(d.secs) * time.Second)
}

// parseDur parses an RFC 5545 duration such as -P1W, P1DT2H or PT15M.
func parseDur(s string) (dur, error) {
	bad := dataErrorf("invalid DURATION value")
	s = strings.TrimSpace(s)
	neg := false
	switch {
	case strings.HasPrefix(s, "-"):
		neg, s = true, s[1:]
	case strings.HasPrefix(s, "+"):
		s = s[1:]
	}
	if !strings.HasPrefix(s, "P") && !strings.HasPrefix(s, "p") {
		return dur{}, bad
	}
	s = s[1:]
	var d dur
	inTime, any := false, false
	for len(s) > 0 {
		if s[0] == 'T' || s[0] == 't' {
			if inTime {
				return dur{}, bad
			}
			inTime = true
			s = s[1:]
			continue
		}
		n, i := int64(0), 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			n = n*10 + int64(s[i]-'0')
			if n > maxDurSecs {
				return dur{}, bad
			}
			i++
		}
		if i == 0 || i == len(s) {
			return dur{}, bad
		}
		unit := s[i] | 0x20
		s = s[i+1:]
		any = true
		switch {
		case unit == 'w' && !inTime:
			d.days += int(n) * 7
		case unit == 'd' && !inTime:
			d.days += int(n)
		case unit == 'h' && inTime:
			d.secs += n * 3600
		case unit == 'm' && inTime:
			d.secs += n * 60
		case unit == 's' && inTime:
			d.secs += n
		default:
			return dur{}, bad
		}
		if d.days > maxDurDays || d.secs > maxDurSecs {
			return dur{}, bad
		}
	}
	if !any {
		return dur{}, bad
	}
	if neg {
		d.days, d.secs = -d.days, -d.secs
	}
	return d, nil
}

// approx returns the duration as an exact time.Duration, counting a day as 24 hours.
func (d dur) approx() time.Duration {
	return time.Duration(int64(d.days)*86400+d.secs) * time.Second
}

// positive reports whether the duration is longer than zero.
func (d dur) positive() bool { return d.approx() > 0 }

// unescapeText undoes TEXT escaping (RFC 5545 section 3.3.11).
func unescapeText(s string) string {
	if !strings.ContainsRune(s, '\\') {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if ch == '\\' && i+1 < len(s) {
			i++
			switch s[i] {
			case 'n', 'N':
				b.WriteByte('\n')
			default:
				b.WriteByte(s[i])
			}
			continue
		}
		b.WriteByte(ch)
	}
	return b.String()
}

// daysIn returns the number of days in month m of year y.
func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// formatUTC formats t as an RFC 5545 UTC DATE-TIME.
func formatUTC(t time.Time) string { return t.UTC().Format("20060102T150405Z") }
