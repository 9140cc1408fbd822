package ical

import (
	"strings"
	"testing"
	"time"
)

// calendar wraps component lines in a VCALENDAR with CRLF line ends.
func calendar(lines ...string) string {
	all := append([]string{"BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN"}, lines...)
	all = append(all, "END:VCALENDAR")
	return strings.Join(all, "\r\n") + "\r\n"
}

// mustParse parses an object or fails the test.
func mustParse(t testing.TB, s string) *Object {
	t.Helper()
	o, err := Parse([]byte(s))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return o
}

// utc parses a UTC date-time literal such as 20060104T000000Z ("" is zero).
func utc(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse("20060102T150405Z", s)
	if err != nil {
		panic(err)
	}
	return t
}

// rangeFilter builds VCALENDAR > comp with a time-range.
func rangeFilter(comp, start, end string) *Filter {
	return &Filter{Comp: CompFilter{Name: "VCALENDAR", Comps: []CompFilter{{
		Name: comp, TimeRange: &TimeRange{Start: utc(start), End: utc(end)},
	}}}}
}

// matchRange evaluates a time-range comp-filter on an object.
func matchRange(t testing.TB, obj *Object, comp, start, end string, opts Options) bool {
	t.Helper()
	ok, err := Match(obj, rangeFilter(comp, start, end), opts)
	if err != nil {
		t.Fatalf("Match: %v", err)
	}
	return ok
}
