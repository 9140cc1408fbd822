package dav

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"unicode/utf8"

	goical "github.com/emersion/go-ical"
	"github.com/emersion/go-vcard"

	"github.com/coffer-dav/coffer/dav/ical"
)

// knownComponents are the iCalendar component types a calendar object
// resource may hold besides VTIMEZONE (RFC 5545 section 3.6, RFC 7953).
var knownComponents = map[string]bool{
	"VEVENT": true, "VTODO": true, "VJOURNAL": true, "VFREEBUSY": true, "VAVAILABILITY": true,
}

// validText reports whether b is UTF-8 that XML 1.0 can carry, so the
// stored bytes can later be sent as calendar-data or address-data.
func validText(b []byte) bool {
	if !utf8.Valid(b) {
		return false
	}
	for _, r := range string(b) {
		if !isXMLChar(r) {
			return false
		}
	}
	return true
}

// validateCalendar checks an iCalendar object resource (RFC 4791 section
// 4.1) and returns its UID and the parsed object. The bytes are never
// re-encoded. ical.Parse screens the input for shapes that make go-ical
// slow and turns its panics into valid-calendar-data.
func validateCalendar(body []byte, supported []string) (uid string, obj *ical.Object, err error) {
	if !validText(body) {
		return "", nil, errCond(http.StatusForbidden, condValidCalendarData, "invalid iCalendar data: not UTF-8 text")
	}
	if obj, err = ical.Parse(body); err != nil {
		return "", nil, calendarError(err)
	}
	uid, err = checkCalendarObject(obj.Calendar(), supported)
	if err != nil {
		return "", nil, err
	}
	return uid, obj, nil
}

// checkCalendarObject applies the rules of RFC 4791 section 4.1 to a
// parsed VCALENDAR: one component type besides VTIMEZONE, one UID, and a
// type the calendar supports. It returns the UID.
func checkCalendarObject(cal *goical.Component, supported []string) (uid string, err error) {
	objectErr := func(msg string) error {
		return errCond(http.StatusForbidden, condValidCalendarObject, msg)
	}
	var compType string
	for _, c := range cal.Children {
		if c.Name == goical.CompTimezone {
			continue
		}
		if c.Name == "" {
			return "", errCond(http.StatusForbidden, condValidCalendarData, "invalid iCalendar data: empty component name")
		}
		if compType == "" {
			compType = c.Name
		} else if c.Name != compType {
			return "", objectErr("all components must have the same type")
		}
		p := c.Props.Get(goical.PropUID)
		if p == nil || strings.TrimSpace(p.Value) == "" {
			return "", objectErr("every component needs a UID")
		}
		if uid == "" {
			uid = p.Value
		} else if p.Value != uid {
			return "", objectErr("all components must have the same UID")
		}
	}
	if compType == "" {
		return "", objectErr("the calendar holds no event, task or journal")
	}
	ok := false
	for _, s := range supported {
		if s == compType {
			ok = true
		}
	}
	if !ok || !knownComponents[compType] {
		return "", errCond(http.StatusForbidden, condSupportedComponent,
			fmt.Sprintf("this calendar does not accept %s components", compType))
	}
	return uid, nil
}

// validateVCard checks a vCard object resource (RFC 6352 section 5.1) and
// returns its UID, which may be empty. go-vcard silently drops lines it
// cannot parse, so the raw framing and every content line are checked too.
func validateVCard(body []byte) (uid string, err error) {
	invalid := func(msg string) error {
		return errCond(http.StatusForbidden, condValidAddressData, "invalid vCard data: "+msg)
	}
	defer func() {
		if r := recover(); r != nil {
			uid, err = "", invalid("the parser rejected a line")
		}
	}()
	if !validText(body) {
		return "", invalid("not UTF-8 text")
	}
	lines := unfoldLines(string(body))
	if len(lines) < 2 ||
		!strings.EqualFold(lines[0], "BEGIN:VCARD") || !strings.EqualFold(lines[len(lines)-1], "END:VCARD") {
		return "", invalid("exactly one BEGIN:VCARD ... END:VCARD is required")
	}
	content := lines[1 : len(lines)-1]
	for _, l := range content {
		i := strings.IndexAny(l, ";:")
		if i <= 0 || !strings.Contains(l, ":") {
			return "", invalid("a content line lacks a name or a colon")
		}
		if strings.EqualFold(l, "BEGIN:VCARD") || strings.EqualFold(l, "END:VCARD") {
			return "", invalid("exactly one vCard is allowed")
		}
	}
	// go-vcard reads unfolded text: unfolding a long photo line itself
	// costs it time and memory that grow with the square of the line.
	dec := vcard.NewDecoder(strings.NewReader(strings.Join(lines, "\r\n") + "\r\n"))
	card, derr := dec.Decode()
	if derr != nil {
		return "", invalid("it does not parse")
	}
	if _, derr := dec.Decode(); derr != io.EOF {
		return "", invalid("exactly one vCard is allowed")
	}
	fields := 0
	for _, fs := range card {
		fields += len(fs)
	}
	if fields != len(content) {
		return "", invalid("a content line does not parse")
	}
	switch v := strings.TrimSpace(card.Value(vcard.FieldVersion)); v {
	case "3.0", "4.0":
	default:
		return "", invalid("VERSION must be 3.0 or 4.0")
	}
	return strings.TrimSpace(card.Value(vcard.FieldUID)), nil
}

// unfoldLines splits text into unfolded, non-empty content lines (RFC 6350
// section 3.2), the way go-vcard reads them.
func unfoldLines(s string) []string {
	var lines []string
	var cur strings.Builder
	flush := func() {
		if cur.Len() > 0 {
			lines = append(lines, cur.String())
			cur.Reset()
		}
	}
	for _, l := range strings.Split(s, "\n") {
		l = strings.TrimSuffix(l, "\r")
		if len(l) > 0 && (l[0] == ' ' || l[0] == '\t') && (cur.Len() > 0 || len(lines) > 0) {
			if cur.Len() == 0 {
				// A fold after an empty line continues the last line.
				cur.WriteString(lines[len(lines)-1])
				lines = lines[:len(lines)-1]
			}
			cur.WriteString(l[1:])
			continue
		}
		flush()
		cur.WriteString(l)
	}
	flush()
	return lines
}
