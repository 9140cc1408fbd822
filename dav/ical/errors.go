package ical

import (
	"errors"
	"fmt"
)

// Precondition names (RFC 4791 sections 7.7, 7.8 and 9) carried by *Error.
const (
	CondValidFilter           = "valid-filter"            // malformed or unsupported filter
	CondSupportedCollation    = "supported-collation"     // text-match collation not supported
	CondValidCalendarData     = "valid-calendar-data"     // the object itself is malformed
	CondSupportedCalendarData = "supported-calendar-data" // calendar-data asks for another format
)

// Error is a failure that maps to a CalDAV precondition in the
// urn:ietf:params:xml:ns:caldav namespace (for example "valid-filter").
type Error struct {
	Condition string // local name of the CalDAV precondition element
	Message   string // human-readable detail; never holds object content
}

// Error implements the error interface.
func (e *Error) Error() string {
	return fmt.Sprintf("ical: %s: %s", e.Condition, e.Message)
}

// ErrTooManyInstances reports that evaluating an object needed more
// recurrence instances than Options.MaxInstances allows.
var ErrTooManyInstances = errors.New("ical: recurrence expansion exceeds the instance limit")

// ErrTooComplex reports that evaluating an object needed more work steps
// than Options.MaxSteps allows (for example a rule that rarely matches).
var ErrTooComplex = errors.New("ical: recurrence expansion exceeds the work limit")

// errorf builds an *Error for a precondition.
func errorf(cond, format string, args ...any) *Error {
	return &Error{Condition: cond, Message: fmt.Sprintf(format, args...)}
}

// dataErrorf builds a valid-calendar-data error about the object itself.
func dataErrorf(format string, args ...any) *Error {
	return errorf(CondValidCalendarData, format, args...)
}
