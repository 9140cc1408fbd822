// Package ical evaluates iCalendar objects for CalDAV queries (RFC 4791).
//
// It parses stored calendar object resources, resolves time zones (embedded
// VTIMEZONE definitions, IANA names and Windows zone names), expands
// recurrences under hard caps, evaluates calendar-query filters including
// time-range (RFC 4791 section 9.9), produces transformed calendar-data
// (section 9.6), computes free-busy information (section 7.10) and builds a
// compact per-object summary for index-based pre-filtering.
//
// The package is pure: it does no I/O beyond reading the byte slices and XML
// it is given. Every entry point recovers from panics in the underlying
// parser and bounds its CPU and memory use; when a bound is reached it
// returns ErrTooManyInstances or ErrTooComplex instead of truncating.
package ical
