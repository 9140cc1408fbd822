package selfservice

import (
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// chunk is one object cut verbatim out of a stream.
type chunk struct {
	body []byte
	line int // where it begins, for messages
}

// calComponent is one top-level component of a VCALENDAR, verbatim.
type calComponent struct {
	name string // VEVENT, VTODO, VTIMEZONE, ...
	key  string // the UID; for a VTIMEZONE, its TZID
	body []byte // from its BEGIN line to the end of its END line
	line int    // where it begins, counted in the calendar
}

// splitObjects cuts an iCalendar or vCard stream into its top-level
// objects (kind "VCALENDAR" or "VCARD"), each byte for byte as it stands,
// from its BEGIN line to the end of its END line. Blank lines between
// objects are dropped; anything else outside an object is an error.
func splitObjects(data []byte, kind string) ([]chunk, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	begin, end := "BEGIN:"+kind, "END:"+kind
	var out []chunk
	depth, start, startLine := 0, 0, 0
	for pos, line := 0, 1; pos < len(data); line++ {
		next := bytes.IndexByte(data[pos:], '\n')
		if next < 0 {
			next = len(data)
		} else {
			next += pos + 1
		}
		text := strings.TrimRight(string(data[pos:next]), "\r\n")
		switch {
		case strings.EqualFold(text, begin):
			if depth == 0 {
				start, startLine = pos, line
			}
			depth++
		case strings.EqualFold(text, end) && depth > 0:
			depth--
			if depth == 0 {
				out = append(out, chunk{body: data[start:next], line: startLine})
			}
		case depth == 0 && strings.TrimSpace(text) != "":
			return nil, fmt.Errorf("line %d is outside any %s object", line, kind)
		}
		pos = next
	}
	if depth > 0 {
		return nil, fmt.Errorf("the %s object that begins on line %d has no END line", kind, startLine)
	}
	return out, nil
}

// uidLine finds the UID property of an object, folded lines included.
var uidLine = regexp.MustCompile(`(?im)^UID(?:;[^:\r\n]*)?:([^\r\n]*)`)

// foldedLine is a line break followed by the blank that continues a line.
var foldedLine = regexp.MustCompile(`\r?\n[ \t]`)

// objectUID returns the first UID in an object, unfolded, or "".
func objectUID(body []byte) string {
	unfolded := foldedLine.ReplaceAll(body, nil)
	m := uidLine.FindSubmatch(unfolded)
	if m == nil {
		return ""
	}
	return strings.TrimSpace(string(m[1]))
}

// componentLine finds the BEGIN lines of calendar components.
var componentLine = regexp.MustCompile(`(?im)^BEGIN:(V[A-Z-]+)\r?$`)

// mainComponent returns the first component of a calendar object other
// than the calendar, time zones and alarms: VEVENT, VTODO or VJOURNAL.
func mainComponent(body []byte) string {
	for _, m := range componentLine.FindAllSubmatch(body, -1) {
		switch c := strings.ToUpper(string(m[1])); c {
		case "VCALENDAR", "VTIMEZONE", "STANDARD", "DAYLIGHT", "VALARM":
		default:
			return c
		}
	}
	return ""
}

// safeUID is a UID that can serve as a resource name as it is.
var safeUID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@+-]{0,199}$`)

// eachLine calls fn with the start and end offsets of every line of data
// (the end past its line break) and its text without the break.
func eachLine(data []byte, fn func(start, end int, text string)) {
	for pos := 0; pos < len(data); {
		next := bytes.IndexByte(data[pos:], '\n')
		if next < 0 {
			next = len(data)
		} else {
			next += pos + 1
		}
		fn(pos, next, strings.TrimRight(string(data[pos:next]), "\r\n"))
		pos = next
	}
}

// calendarParts cuts one VCALENDAR into the lines of its own properties
// (everything at its top level that is not a component, verbatim) and
// its top-level components. ok is false when its BEGIN and END lines do
// not pair up, so that no cut could keep every line.
func calendarParts(cal []byte) (props []byte, comps []calComponent, ok bool) {
	var open []string // the names of the components begun and not ended
	start, startLine, line, ok := 0, 0, 0, true
	eachLine(cal, func(pos, next int, text string) {
		line++
		upper := strings.ToUpper(text)
		switch {
		case !ok:
		case strings.HasPrefix(upper, "BEGIN:"):
			open = append(open, strings.TrimSpace(upper[len("BEGIN:"):]))
			if len(open) == 2 {
				start, startLine = pos, line
			}
		case strings.HasPrefix(upper, "END:"):
			name := strings.TrimSpace(upper[len("END:"):])
			if len(open) == 0 || open[len(open)-1] != name || (len(open) == 1 && next < len(cal)) {
				ok = false
				return
			}
			if len(open) == 2 {
				body := cal[start:next]
				key := objectUID(body)
				if name == "VTIMEZONE" {
					key = timezoneID(body)
				}
				comps = append(comps, calComponent{name: name, key: key, body: body, line: startLine})
			}
			open = open[:len(open)-1]
		case len(open) == 1:
			props = append(props, cal[pos:next]...)
		}
	})
	return props, comps, ok && len(open) == 0
}

// tzidLine finds the TZID property of a VTIMEZONE (RFC 5545 section 3.8.3.1).
var tzidLine = regexp.MustCompile(`(?im)^TZID(?:;[^:\r\n]*)?:([^\r\n]*)`)

// tzidParam finds TZID parameters (RFC 5545 section 3.2.19), quoted or not.
var tzidParam = regexp.MustCompile(`(?i);TZID=(?:"([^"]*)"|([^;:,\r\n]*))`)

// timezoneID returns the TZID of a VTIMEZONE, unfolded, or "".
func timezoneID(body []byte) string {
	m := tzidLine.FindSubmatch(foldedLine.ReplaceAll(body, nil))
	if m == nil {
		return ""
	}
	return strings.TrimSpace(string(m[1]))
}

// timezoneRefs returns the TZIDs that the properties of body refer to.
func timezoneRefs(body []byte) map[string]bool {
	refs := map[string]bool{}
	for _, m := range tzidParam.FindAllSubmatch(foldedLine.ReplaceAll(body, nil), -1) {
		refs[string(m[1])+string(m[2])] = true
	}
	return refs
}

// lineBreak returns the line break the first line of data ends with.
func lineBreak(data []byte) string {
	if i := bytes.IndexByte(data, '\n'); i > 0 && data[i-1] == '\r' {
		return "\r\n"
	}
	return "\n"
}

// assembleCalendar builds one VCALENDAR of the calendar properties props
// and comps, with the time zones from zones (by TZID) that comps use
// placed first; every part is copied verbatim.
func assembleCalendar(props []byte, zones map[string][]byte, comps [][]byte, eol string) []byte {
	used := map[string]bool{}
	for _, c := range comps {
		for id := range timezoneRefs(c) {
			used[id] = true
		}
	}
	ids := make([]string, 0, len(used))
	for id := range used {
		if zones[id] != nil {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	out := append([]byte("BEGIN:VCALENDAR"+eol), props...)
	for _, id := range ids {
		out = append(out, zones[id]...)
	}
	for _, c := range comps {
		out = append(out, c...)
	}
	return append(out, "END:VCALENDAR"+eol...)
}

// withoutMethod drops the calendar's own METHOD lines, folds included: a
// stored calendar object has none (RFC 4791 section 4.1), while an
// exported calendar (Google writes METHOD:PUBLISH) or an invitation
// (METHOD:REQUEST) has one. Every other line stays as it is.
func withoutMethod(cal []byte) []byte {
	var out []byte
	depth, dropping, cut := 0, false, false
	eachLine(cal, func(pos, next int, text string) {
		upper := strings.ToUpper(text)
		switch {
		case dropping && (strings.HasPrefix(text, " ") || strings.HasPrefix(text, "\t")):
			return // the folded rest of a METHOD line
		case strings.HasPrefix(upper, "BEGIN:"):
			depth++
		case strings.HasPrefix(upper, "END:"):
			depth--
		}
		dropping = depth == 1 && (strings.HasPrefix(upper, "METHOD:") || strings.HasPrefix(upper, "METHOD;"))
		if dropping {
			if !cut {
				out, cut = append(out, cal[:pos]...), true
			}
			return
		}
		if cut {
			out = append(out, cal[pos:next]...)
		}
	})
	if !cut {
		return cal
	}
	return out
}

// splitCalendar cuts one VCALENDAR into one calendar object per UID: the
// components of that UID (a series with its overrides), the time zones
// they use, and the calendar's own properties but METHOD, each verbatim.
// A calendar with one UID (or none), or whose structure is broken, stays
// as it is but for METHOD, byte for byte, for the server to judge. A component
// without a UID becomes an object of its own, for the server to refuse.
func splitCalendar(c chunk) []chunk {
	c.body = withoutMethod(c.body)
	props, comps, ok := calendarParts(c.body)
	if !ok {
		return []chunk{c}
	}
	zones := map[string][]byte{}
	var order []string
	groups := map[string][]calComponent{}
	for i, comp := range comps {
		if comp.name == "VTIMEZONE" {
			if zones[comp.key] == nil {
				zones[comp.key] = comp.body
			}
			continue
		}
		key := comp.key
		if key == "" {
			key = fmt.Sprintf("\x00%d", i)
		}
		if groups[key] == nil {
			order = append(order, key)
		}
		groups[key] = append(groups[key], comp)
	}
	if len(order) <= 1 {
		return []chunk{c}
	}
	eol := lineBreak(c.body)
	out := make([]chunk, 0, len(order))
	for _, key := range order {
		var bodies [][]byte
		for _, comp := range groups[key] {
			bodies = append(bodies, comp.body)
		}
		out = append(out, chunk{body: assembleCalendar(props, zones, bodies, eol), line: c.line + groups[key][0].line - 1})
	}
	return out
}
