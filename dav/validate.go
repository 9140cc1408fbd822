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
	for i := 0; i < len(b); {
		if c := b[i]; c < utf8.RuneSelf {
			if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size <= 1 || !isXMLChar(r) {
			return false
		}
		i += size
	}
	return true
}

// validateCalendar checks an iCalendar object resource (RFC 4791 section
// 4.1) and returns its UID and the parsed object. The bytes are never
// re-encoded. ical.Parse screens the input for shapes that make go-ical
// slow and turns its panics into valid-calendar-data. A text escape RFC
// 5545 section 3.3.11 does not define, \" above all, is accepted on
// purpose: ical4j, under DAVx5, wrote \" until its issue #641, and
// libical, under Evolution, until its issue #74; refusing it would fail
// their events with a quote in the title.
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
	// RFC 7809 section 3.1 (calendar-no-timezone): a TZID without its
	// VTIMEZONE is read from the server's zone data, so one that data
	// does not know could never be resolved.
	if _, unknown := obj.UnknownTZID(); unknown {
		return "", nil, errCond(http.StatusForbidden, condValidCalendarData,
			"invalid iCalendar data: a TZID has no VTIMEZONE and names no zone the server knows")
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
	// RFC 4791 section 4.1: a stored object carries no iTIP METHOD.
	// ../shared/clients.md names no client that sends one in a PUT.
	if cal.Props.Get(goical.PropMethod) != nil {
		return "", objectErr("a calendar object resource must not have a METHOD property")
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
	text := unfold(string(body))
	lines := strings.Split(strings.TrimSuffix(text, "\r\n"), "\r\n")
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
	dec := vcard.NewDecoder(strings.NewReader(text))
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
	// FN is required in 3.0 (RFC 2426 section 3.1.1) and 4.0 (RFC 6350
	// section 6.2.1); ../shared/clients.md names no client that omits it.
	if card.Get(vcard.FieldFormattedName) == nil {
		return "", invalid("FN is required")
	}
	return strings.TrimSpace(card.Value(vcard.FieldUID)), nil
}

// unfold returns the unfolded, non-empty content lines of text (RFC 6350
// section 3.2), the way go-vcard reads them, each ended by CRLF. Lines
// hold no LF, so splitting the result at CRLF gives them back.
func unfold(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	started := false // a line has been written, which a fold continues
	for rest := s; rest != ""; {
		var l string
		l, rest, _ = strings.Cut(rest, "\n")
		l = strings.TrimSuffix(l, "\r")
		switch {
		case len(l) > 0 && (l[0] == ' ' || l[0] == '\t') && started:
			b.WriteString(l[1:]) // a fold, after an empty line too, continues the last line
		case l != "":
			if started {
				b.WriteString("\r\n")
			}
			b.WriteString(l)
			started = true
		}
	}
	if started {
		b.WriteString("\r\n")
	}
	return b.String()
}
