package ical

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	goical "github.com/emersion/go-ical"
)

// Time zones by reference (RFC 7809 section 3.1): a client may leave out
// the VTIMEZONE of a zone the server knows, and the server then supplies
// the definition to clients that did not ask to go without. The
// definitions are built from the zone data compiled into the binary.

// Years whose onsets a generated definition describes; a rule still in
// force in the last year recurs without end.
const (
	genFirstYear = 1970
	genLastYear  = 2100
)

// onset is one change of a zone's offset or abbreviation.
type onset struct {
	wall     time.Time // local time of the change, in the offset before it (as UTC fields)
	at       time.Time // the instant
	from, to int       // offsets before and after, seconds east of UTC
	name     string    // abbreviation after
	dst      bool      // daylight saving time after
}

// onsetRun is a run of onsets of one kind in consecutive years, on the
// same month, weekday and local time: one observance (RFC 5545 3.6.5).
type onsetRun struct {
	key    string
	onsets []onset
}

// genDefs caches generated observance lines by location name.
var genDefs sync.Map

// ZoneDefinition returns a VTIMEZONE for loc under the name tzid, its
// lines ended by eol: a STANDARD or DAYLIGHT observance for each run of
// onsets since 1970, with a yearly RRULE where the run follows one.
func ZoneDefinition(tzid string, loc *time.Location, eol string) string {
	var lines []string
	if v, ok := genDefs.Load(loc.String()); ok {
		lines = v.([]string)
	} else {
		lines = observanceLines(loc)
		genDefs.Store(loc.String(), lines)
	}
	var b strings.Builder
	b.WriteString("BEGIN:VTIMEZONE" + eol + "TZID:" + tzid + eol)
	for _, l := range lines {
		b.WriteString(l + eol)
	}
	b.WriteString("END:VTIMEZONE" + eol)
	return b.String()
}

// zoneOnsets lists the onsets of loc from genFirstYear through
// genLastYear. It steps a day at a time and finds each change to the
// second: past the table of the zone data, Go computes zones from its
// rule a year at a time, and ZoneBounds then reports year ends too.
func zoneOnsets(loc *time.Location) []onset {
	var out []onset
	type state struct {
		name string
		off  int
		dst  bool
	}
	at := func(u int64) state {
		t := time.Unix(u, 0).In(loc)
		name, off := t.Zone()
		return state{name, off, t.IsDST()}
	}
	const day = 24 * 60 * 60
	u := time.Date(genFirstYear, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	end := time.Date(genLastYear+1, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	for cur := at(u); u < end; u += day {
		next := at(u + day)
		if next == cur {
			continue
		}
		lo, hi := u, u+day // cur holds at lo, next at hi
		for hi-lo > 1 {
			mid := lo + (hi-lo)/2
			if at(mid) == cur {
				lo = mid
			} else {
				hi = mid
			}
		}
		after := at(hi)
		out = append(out, onset{
			wall: time.Unix(hi+int64(cur.off), 0).UTC(),
			at:   time.Unix(hi, 0).UTC(), from: cur.off, to: after.off, name: after.name, dst: after.dst,
		})
		cur = after
		if after != next { // a second change within the day
			u = hi - day + 1
		}
	}
	return out
}

// observanceLines renders the observances of loc, without the VTIMEZONE
// frame and TZID.
func observanceLines(loc *time.Location) []string {
	ons := zoneOnsets(loc)
	if len(ons) == 0 {
		t := time.Date(genFirstYear, 1, 1, 0, 0, 0, 0, loc)
		name, off := t.Zone()
		return []string{"BEGIN:STANDARD", "DTSTART:19700101T000000", "TZOFFSETFROM:" + formatOffset(off),
			"TZOFFSETTO:" + formatOffset(off), "TZNAME:" + name, "END:STANDARD"}
	}
	var runs []*onsetRun
	open := map[string]*onsetRun{}
	for _, o := range ons {
		key := fmt.Sprintf("%v|%d|%d|%s|%d|%d|%s", o.dst, o.from, o.to, o.name, o.wall.Month(), o.wall.Weekday(), o.wall.Format("150405"))
		if r := open[key]; r != nil && r.onsets[len(r.onsets)-1].wall.Year() == o.wall.Year()-1 {
			r.onsets = append(r.onsets, o)
			continue
		}
		r := &onsetRun{key: key, onsets: []onset{o}}
		open[key] = r
		runs = append(runs, r)
	}
	var out []string
	for _, r := range runs {
		out = append(out, r.lines()...)
	}
	return out
}

// lines renders one run as an observance.
func (r *onsetRun) lines() []string {
	first, last := r.onsets[0], r.onsets[len(r.onsets)-1]
	kind := "STANDARD"
	if first.dst {
		kind = "DAYLIGHT"
	}
	out := []string{"BEGIN:" + kind, "DTSTART:" + first.wall.Format("20060102T150405"),
		"TZOFFSETFROM:" + formatOffset(first.from), "TZOFFSETTO:" + formatOffset(first.to), "TZNAME:" + first.name}
	if len(r.onsets) > 1 {
		if byday, ok := r.byDay(); ok {
			rule := "RRULE:FREQ=YEARLY;BYMONTH=" + strconv.Itoa(int(first.wall.Month())) + ";" + byday
			if last.wall.Year() < genLastYear {
				rule += ";UNTIL=" + last.at.Format("20060102T150405Z")
			}
			out = append(out, rule)
		} else {
			for _, o := range r.onsets[1:] {
				out = append(out, "RDATE:"+o.wall.Format("20060102T150405"))
			}
		}
	}
	return append(out, "END:"+kind)
}

// byDay finds the yearly rule of a run (RFC 5545 section 3.3.10): the
// last, or the nth, weekday of the month, or a weekday within a week of
// days of the month (BYMONTHDAY) once every day of that week was seen.
func (r *onsetRun) byDay() (string, bool) {
	wd := [...]string{"SU", "MO", "TU", "WE", "TH", "FR", "SA"}[r.onsets[0].wall.Weekday()]
	allLast, nth := true, (r.onsets[0].wall.Day()-1)/7+1
	lo, hi := 31, 1
	for _, o := range r.onsets {
		d := o.wall.Day()
		if d <= daysIn(o.wall.Year(), o.wall.Month())-7 {
			allLast = false
		}
		if (d-1)/7+1 != nth {
			nth = 0
		}
		lo, hi = min(lo, d), max(hi, d)
	}
	switch {
	case allLast:
		return "BYDAY=-1" + wd, true
	case nth != 0:
		return "BYDAY=" + strconv.Itoa(nth) + wd, true
	case hi-lo == 6:
		days := make([]string, 0, 7)
		for d := lo; d <= hi; d++ {
			days = append(days, strconv.Itoa(d))
		}
		return "BYDAY=" + wd + ";BYMONTHDAY=" + strings.Join(days, ","), true
	}
	return "", false
}

// formatOffset writes a UTC offset as RFC 5545 section 3.3.14 does.
func formatOffset(off int) string {
	sign := "+"
	if off < 0 {
		sign, off = "-", -off
	}
	s := fmt.Sprintf("%s%02d%02d", sign, off/3600, off/60%60)
	if off%60 != 0 {
		s += fmt.Sprintf("%02d", off%60)
	}
	return s
}

// AddZoneDefinitions returns body with a VTIMEZONE added for each TZID it
// uses without defining, where the server's zone data knows the name (RFC
// 7809 section 3.1). Every byte of body is kept; the definitions go
// before its first component, with its line ends. changed is false, and
// body is returned as it is, when none is missing.
func AddZoneDefinitions(body []byte) (out []byte, changed bool) {
	if !hasTZIDParam(body) {
		return body, false
	}
	used, defined, insertAt := scanZones(body)
	if insertAt < 0 {
		return body, false
	}
	eol := "\n"
	if bytes.Contains(body, []byte("\r\n")) {
		eol = "\r\n"
	}
	var add strings.Builder
	for _, id := range used {
		if defined[id] {
			continue
		}
		if loc, ok := ResolveTZID(id); ok {
			add.WriteString(ZoneDefinition(id, loc, eol))
		}
	}
	if add.Len() == 0 {
		return body, false
	}
	out = make([]byte, 0, len(body)+add.Len())
	out = append(out, body[:insertAt]...)
	out = append(out, add.String()...)
	return append(out, body[insertAt:]...), true
}

// hasTZIDParam reports whether b holds "TZID=" in any case, as a TZID
// parameter would.
func hasTZIDParam(b []byte) bool {
	for i := 4; i < len(b); i++ {
		if b[i] == '=' && strings.EqualFold(string(b[i-4:i]), "TZID") {
			return true
		}
	}
	return false
}

// scanZones reads the raw lines of a calendar: the TZID parameters used,
// in order of first use, the TZIDs its VTIMEZONEs define (nil for none),
// and the offset of the first line of its first component (-1 for none).
func scanZones(body []byte) (used []string, defined map[string]bool, insertAt int) {
	var seen map[string]bool
	insertAt = -1
	depth, inZone := 0, false // inZone: in a VTIMEZONE of the calendar
	var line []byte
	lineStart, start := 0, 0
	handle := func(l []byte, at int) {
		switch {
		case hasPrefixFold(l, "BEGIN:"):
			if depth == 1 {
				if insertAt < 0 {
					insertAt = at
				}
				inZone = strings.EqualFold(strings.TrimSpace(string(l[len("BEGIN:"):])), "VTIMEZONE")
			}
			depth++
			return
		case hasPrefixFold(l, "END:"):
			depth--
			return
		}
		if depth == 2 && inZone && (hasPrefixFold(l, "TZID:") || hasPrefixFold(l, "TZID;")) {
			if i := bytes.IndexByte(l, ':'); i >= 0 {
				if defined == nil {
					defined = map[string]bool{}
				}
				defined[string(l[i+1:])] = true
			}
			return
		}
		if !hasTZIDParam(l) {
			return
		}
		for _, id := range tzidParams(string(l)) {
			if !seen[id] {
				if seen == nil {
					seen = map[string]bool{}
				}
				seen[id] = true
				used = append(used, id)
			}
		}
	}
	for pos := 0; pos <= len(body); {
		next := bytes.IndexByte(body[pos:], '\n')
		var raw []byte
		if next < 0 {
			raw, next = body[pos:], len(body)+1
		} else {
			raw, next = body[pos:pos+next], pos+next+1
		}
		raw = bytes.TrimSuffix(raw, []byte{'\r'})
		if len(raw) > 0 && (raw[0] == ' ' || raw[0] == '\t') {
			line = append(line, raw[1:]...)
		} else {
			if len(line) > 0 {
				handle(line, start)
			}
			line = append(line[:0], raw...)
			start = lineStart
		}
		lineStart, pos = next, next
	}
	if len(line) > 0 {
		handle(line, start)
	}
	return used, defined, insertAt
}

// tzidParams returns the TZID parameter values of an unfolded content
// line (RFC 5545 section 3.2.19), quoted or not.
func tzidParams(l string) []string {
	var out []string
	i := strings.IndexAny(l, ";:")
	for i >= 0 && i < len(l) && l[i] == ';' {
		j := i + 1
		quoted := false
		for ; j < len(l); j++ {
			if l[j] == '"' {
				quoted = !quoted
			} else if !quoted && (l[j] == ';' || l[j] == ':') {
				break
			}
		}
		name, value, _ := strings.Cut(l[i+1:j], "=")
		if strings.EqualFold(name, "TZID") {
			out = append(out, strings.Trim(value, `"`))
		}
		i = j
	}
	return out
}

// UnknownTZID returns a TZID parameter of the object that neither an
// embedded VTIMEZONE defines nor the server's zone data knows (RFC 7809
// section 3.1: a client may leave out the VTIMEZONE of a zone the server
// knows); ok is false when every TZID can be resolved.
func (o *Object) UnknownTZID() (tzid string, ok bool) {
	checked := map[string]bool{}
	var walk func(c *goical.Component) (string, bool)
	walk = func(c *goical.Component) (string, bool) {
		if c.Name == goical.CompTimezone {
			return "", false
		}
		for _, props := range c.Props {
			for _, p := range props {
				for _, id := range p.Params[goical.ParamTimezoneID] {
					if checked[id] {
						continue
					}
					checked[id] = true
					if _, defined := o.tzdef[id]; defined {
						continue
					}
					if _, known := ResolveTZID(id); !known {
						return id, true
					}
				}
			}
		}
		for _, k := range c.Children {
			if id, ok := walk(k); ok {
				return id, true
			}
		}
		return "", false
	}
	return walk(o.root)
}
