package selfservice

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
)

// chunk is one object cut verbatim out of a stream.
type chunk struct {
	body []byte
	line int // where it begins, for messages
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
