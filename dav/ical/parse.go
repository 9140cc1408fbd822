package ical

import (
	"bytes"
	"io"
	"strings"
	"sync"
	"time"

	goical "github.com/emersion/go-ical"
)

// Default limits used when the corresponding Options field is zero.
const (
	DefaultMaxInstances = 10000   // recurrence instances examined per object
	DefaultMaxSteps     = 2000000 // expansion work steps per object
)

// Parser limits applied before go-ical sees the bytes, so that its recursive
// and quadratic paths stay bounded.
const (
	maxNesting     = 16       // BEGIN depth
	maxParamBytes  = 4096     // parameter section of one content line
	maxParamSquare = 1 << 26  // sum of squared parameter section lengths
	maxLineBytes   = 1 << 20  // one unfolded content line
	maxObjectBytes = 32 << 20 // whole object
)

// Options tunes evaluation; the zero value is ready to use.
type Options struct {
	// Location resolves floating and all-day values (the calendar's
	// calendar-timezone); nil means UTC.
	Location *time.Location
	// Zone, when set, replaces Location: the zone a query names for its
	// floating and all-day values (RFC 4791 section 7.3).
	Zone *Zone
	// MaxInstances caps the recurrence instances examined per object;
	// 0 means DefaultMaxInstances.
	MaxInstances int
	// MaxSteps caps the recurrence expansion work per object (candidate
	// periods and days examined); 0 means DefaultMaxSteps.
	MaxSteps int
}

// Object is a parsed calendar object resource; it is safe for concurrent use.
type Object struct {
	root  *goical.Component
	tzdef map[string]*goical.Component // embedded VTIMEZONE by TZID

	zoneMu sync.Mutex
	named  map[string]*zone // TZIDs resolved so far; nil for a name that is no zone
}

// Parse parses one iCalendar object; malformed input yields an *Error with
// condition valid-calendar-data, never a panic.
func Parse(data []byte) (obj *Object, err error) {
	if err := precheck(data); err != nil {
		return nil, err
	}
	defer func() {
		if r := recover(); r != nil {
			obj, err = nil, dataErrorf("malformed iCalendar content line")
		}
	}()
	dec := goical.NewDecoder(bytes.NewReader(data))
	cal, err := dec.Decode()
	if err != nil {
		return nil, dataErrorf("%v", err)
	}
	if _, err := dec.Decode(); err != io.EOF {
		return nil, dataErrorf("exactly one VCALENDAR is allowed")
	}
	obj = &Object{root: cal.Component, tzdef: map[string]*goical.Component{}}
	for _, c := range cal.Children {
		if c.Name != goical.CompTimezone {
			continue
		}
		if p := c.Props.Get(goical.PropTimezoneID); p != nil && p.Value != "" {
			if _, dup := obj.tzdef[p.Value]; !dup {
				obj.tzdef[p.Value] = c
			}
		}
	}
	return obj, nil
}

// Calendar returns the parsed VCALENDAR, for checks of its structure; it
// must not be changed.
func (o *Object) Calendar() *goical.Component { return o.root }

// Components returns the names of the top-level components other than
// VTIMEZONE, in order of first appearance.
func (o *Object) Components() []string {
	var out []string
	seen := map[string]bool{}
	for _, c := range o.root.Children {
		if c.Name == goical.CompTimezone || seen[c.Name] {
			continue
		}
		seen[c.Name] = true
		out = append(out, c.Name)
	}
	return out
}

// precheck scans the raw bytes for nesting depth and line shapes that would
// make go-ical recurse deeply or run in quadratic time.
func precheck(data []byte) error {
	if len(data) > maxObjectBytes {
		return dataErrorf("object larger than %d bytes", maxObjectBytes)
	}
	depth, square := 0, 0
	var line []byte
	flush := func() error {
		if len(line) == 0 {
			return nil
		}
		l := line
		line = line[:0]
		if n := paramSection(l); n > 0 {
			if n > maxParamBytes {
				return dataErrorf("parameter section longer than %d bytes", maxParamBytes)
			}
			square += n * n
			if square > maxParamSquare {
				return dataErrorf("too many long parameters")
			}
		}
		switch {
		case hasPrefixFold(l, "BEGIN:"):
			depth++
			if depth > maxNesting {
				return dataErrorf("components nested deeper than %d", maxNesting)
			}
		case hasPrefixFold(l, "END:"):
			depth--
		}
		return nil
	}
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		var raw []byte
		if i < 0 {
			raw, data = data, nil
		} else {
			raw, data = data[:i], data[i+1:]
		}
		raw = bytes.TrimSuffix(raw, []byte{'\r'})
		if len(raw) > 0 && (raw[0] == ' ' || raw[0] == '\t') {
			line = append(line, raw[1:]...)
		} else {
			if err := flush(); err != nil {
				return err
			}
			line = append(line, raw...)
		}
		if len(line) > maxLineBytes {
			return dataErrorf("content line longer than %d bytes", maxLineBytes)
		}
	}
	return flush()
}

// paramSection returns the length of the parameter part of a content line
// (from the first ';' before the value colon), or 0 when there is none.
func paramSection(l []byte) int {
	semi := bytes.IndexByte(l, ';')
	colon := bytes.IndexByte(l, ':')
	if semi < 0 || (colon >= 0 && colon < semi) {
		return 0
	}
	quoted := false
	for i := semi; i < len(l); i++ {
		switch l[i] {
		case '"':
			quoted = !quoted
		case ':':
			if !quoted {
				return i - semi
			}
		}
	}
	return len(l) - semi
}

// hasPrefixFold reports whether b starts with the ASCII prefix p, ignoring case.
func hasPrefixFold(b []byte, p string) bool {
	return len(b) >= len(p) && strings.EqualFold(string(b[:len(p)]), p)
}

// safeCall runs f and converts a panic into a valid-calendar-data error.
func safeCall(f func() error) (err error) {
	defer func() {
		if recover() != nil {
			err = dataErrorf("internal evaluation failure")
		}
	}()
	return f()
}
