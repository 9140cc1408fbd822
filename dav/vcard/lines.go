package vcard

import (
	"strings"
	"unicode/utf8"
)

// Card is a vCard object (or a stream of them) as a list of content lines.
// Parse keeps every byte: Bytes reproduces the input exactly as long as no
// line was changed, and a changed line is rendered anew (folded at 75
// octets) while its neighbours keep their original bytes.
type Card struct {
	Lines []Line // content lines in order, BEGIN and END included

	eol string // line break used for lines rendered anew
}

// Line is one content line (RFC 6350 section 3.3, RFC 2426 section 4),
// unfolded, with its parts exactly as written. A line that does not have the
// form [group "."] name *(";" param) ":" value has an empty Name and keeps
// its whole unfolded text in Value.
type Line struct {
	Group  string  // group prefix without the dot, e.g. "item1"; "" when none
	Name   string  // property name as written (case kept); "" for a malformed line
	Params []Param // parameters in order, as written
	Value  string  // value as written (escapes kept); soft line breaks of quoted-printable removed

	raw     string // the physical bytes read: folds, BOM and line break included
	logical string // the unfolded text at parse time; raw is written while the line still renders to it
}

// Param is one property parameter as written. Value is the raw text after
// "=": quotes, commas and RFC 6868 caret escapes are kept; Values decodes it.
// A bare parameter without "=" (vCard 2.1 style, e.g. "TEL;CELL:") has an
// empty Name and its text in Value.
type Param struct {
	Name  string
	Value string
}

const bom = "\ufeff"

// Parse splits data into content lines, unfolding per RFC 6350 section 3.2
// (CRLF or LF followed by one space or tab) and joining quoted-printable soft
// line breaks. It never fails: malformed lines are kept verbatim.
func Parse(data []byte) *Card {
	s := string(data)
	c := &Card{eol: "\r\n"}
	prefix := ""
	if strings.HasPrefix(s, bom) {
		prefix, s = bom, s[len(bom):]
	}
	first := true
	for len(s) > 0 {
		start := s
		text, rest := nextPhysical(s)
		if first {
			if !strings.HasSuffix(start[:len(start)-len(rest)], "\r\n") && strings.HasSuffix(start[:len(start)-len(rest)], "\n") {
				c.eol = "\n"
			}
			first = false
		}
		var b strings.Builder
		b.WriteString(text)
		// RFC 6350 section 3.2: a line break followed by a single space or
		// tab is a fold.
		for len(rest) > 0 && (rest[0] == ' ' || rest[0] == '\t') {
			text, rest = nextPhysical(rest[1:])
			b.WriteString(text)
		}
		logical := b.String()
		l := parseLine(logical)
		// Quoted-printable (vCard 2.1, and legacy 3.0 writers) continues a
		// value on the next line after a trailing "=".
		if l.Name != "" && l.isQuotedPrintable() && strings.HasSuffix(l.Value, "=") && len(rest) > 0 {
			parts := []string{l.Value[:len(l.Value)-1]}
			for {
				text, rest = nextPhysical(rest)
				if strings.HasSuffix(text, "=") && len(rest) > 0 {
					parts = append(parts, text[:len(text)-1])
					continue
				}
				parts = append(parts, text)
				break
			}
			l.Value = strings.Join(parts, "")
			logical = l.render()
		}
		l.raw = prefix + start[:len(start)-len(rest)]
		l.logical = logical
		prefix = ""
		c.Lines = append(c.Lines, l)
		s = rest
	}
	if prefix != "" { // a file holding only a BOM
		c.Lines = append(c.Lines, Line{raw: prefix})
	}
	return c
}

// nextPhysical returns the text of the first physical line of s without its
// line break, and the remainder after the line break.
func nextPhysical(s string) (text, rest string) {
	i := strings.IndexByte(s, '\n')
	if i < 0 {
		return s, ""
	}
	text = s[:i]
	text = strings.TrimSuffix(text, "\r")
	return text, s[i+1:]
}

// parseLine splits one unfolded content line into its parts.
func parseLine(s string) Line {
	i := 0
	for i < len(s) && s[i] != ';' && s[i] != ':' {
		if !isNameChar(s[i]) && s[i] != '.' {
			return Line{Value: s}
		}
		i++
	}
	if i == len(s) || i == 0 {
		return Line{Value: s}
	}
	l := Line{Name: s[:i]}
	if dot := strings.LastIndexByte(l.Name, '.'); dot >= 0 {
		l.Group, l.Name = l.Name[:dot], l.Name[dot+1:]
		if l.Name == "" || l.Group == "" {
			return Line{Value: s}
		}
	}
	params, value, ok := splitParams(s[i:], true)
	if !ok {
		// An unbalanced quote: read the parameters without quoting.
		if params, value, ok = splitParams(s[i:], false); !ok {
			return Line{Value: s}
		}
	}
	l.Params = params
	l.Value = value
	return l
}

// splitParams reads *(";" param) ":" value from s, which starts at ';' or
// ':'. Inside double quotes, ';' and ':' are literal when quotes is set.
func splitParams(s string, quotes bool) (params []Param, value string, ok bool) {
	for len(s) > 0 && s[0] == ';' {
		s = s[1:]
		inQuote := false
		j := 0
		for ; j < len(s); j++ {
			ch := s[j]
			if quotes && ch == '"' {
				inQuote = !inQuote
			} else if !inQuote && (ch == ';' || ch == ':') {
				break
			}
		}
		if j == len(s) {
			return nil, "", false
		}
		params = append(params, splitParam(s[:j]))
		s = s[j:]
	}
	if len(s) == 0 || s[0] != ':' {
		return nil, "", false
	}
	return params, s[1:], true
}

// splitParam splits "name=value" at the first "=".
func splitParam(p string) Param {
	if eq := strings.IndexByte(p, '='); eq > 0 {
		return Param{Name: p[:eq], Value: p[eq+1:]}
	}
	return Param{Value: p}
}

// isNameChar reports whether b may appear in a property or group name
// (RFC 6350 section 3.3: ALPHA / DIGIT / "-"; "_" is tolerated).
func isNameChar(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '-' || b == '_'
}

// Bytes serializes the card. Unchanged lines are written with their
// original bytes; changed and new lines are folded at 75 octets.
func (c *Card) Bytes() []byte {
	var b strings.Builder
	eol := c.eol
	if eol == "" {
		eol = "\r\n"
	}
	for i := range c.Lines {
		l := &c.Lines[i]
		r := l.render()
		if l.raw != "" && r == l.logical {
			b.WriteString(l.raw)
			if i < len(c.Lines)-1 && !strings.HasSuffix(l.raw, "\n") {
				b.WriteString(eol) // the input's last line, no longer last
			}
			continue
		}
		writeFolded(&b, r)
		b.WriteString(eol)
	}
	return []byte(b.String())
}

// Clone returns a deep copy of the card.
func (c *Card) Clone() *Card {
	n := &Card{Lines: make([]Line, len(c.Lines)), eol: c.eol}
	copy(n.Lines, c.Lines)
	for i := range n.Lines {
		n.Lines[i].Params = append([]Param(nil), n.Lines[i].Params...)
	}
	return n
}

// Version returns the trimmed VERSION of the first vCard (or of the first
// VERSION line when there is no BEGIN:VCARD), or "".
func (c *Card) Version() string {
	first := -1
	for i := range c.Lines {
		if isBegin(&c.Lines[i]) {
			first = i
			break
		}
	}
	if first < 0 {
		for i := range c.Lines {
			if c.Lines[i].Is("VERSION") {
				return strings.TrimSpace(c.Lines[i].Value)
			}
		}
		return ""
	}
	depth := 0
	for i := first; i < len(c.Lines); i++ {
		l := &c.Lines[i]
		switch {
		case isBegin(l):
			depth++
		case isEnd(l):
			if depth--; depth == 0 {
				return ""
			}
		case depth == 1 && l.Is("VERSION"):
			return strings.TrimSpace(l.Value)
		}
	}
	return ""
}

// writeFolded writes s as folded physical lines of at most 75 octets
// (RFC 6350 section 3.2), never splitting a UTF-8 sequence.
func writeFolded(b *strings.Builder, s string) {
	const max = 75
	limit := max
	for len(s) > limit {
		cut := limit
		for cut > 1 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		b.WriteString(s[:cut])
		b.WriteString("\r\n ")
		s = s[cut:]
		limit = max - 1
	}
	b.WriteString(s)
}

// render returns the unfolded text of the line.
func (l *Line) render() string {
	if l.Name == "" {
		return l.Value
	}
	var b strings.Builder
	if l.Group != "" {
		b.WriteString(l.Group)
		b.WriteByte('.')
	}
	b.WriteString(l.Name)
	for _, p := range l.Params {
		b.WriteByte(';')
		if p.Name != "" {
			b.WriteString(p.Name)
			b.WriteByte('=')
		}
		b.WriteString(p.Value)
	}
	b.WriteByte(':')
	b.WriteString(l.Value)
	return b.String()
}

// String returns the unfolded text of the line.
func (l *Line) String() string { return l.render() }

// Valid reports whether the line parsed as a content line.
func (l *Line) Valid() bool { return l.Name != "" }

// Is reports whether the property name equals name, case-insensitively.
func (l *Line) Is(name string) bool { return l.Name != "" && strings.EqualFold(l.Name, name) }

// ParamValues returns the decoded values of every parameter called name
// (case-insensitive). For TYPE, bare vCard 2.1 parameters count too.
func (l *Line) ParamValues(name string) []string {
	var out []string
	for _, p := range l.Params {
		if strings.EqualFold(p.Name, name) || p.Name == "" && strings.EqualFold(name, "TYPE") && !isBareEncoding(p.Value) {
			out = append(out, p.Values()...)
		}
	}
	return out
}

// HasParam reports whether a parameter called name is present.
func (l *Line) HasParam(name string) bool {
	for _, p := range l.Params {
		if strings.EqualFold(p.Name, name) {
			return true
		}
	}
	return false
}

// DelParam removes every parameter called name.
func (l *Line) DelParam(name string) {
	out := l.Params[:0]
	for _, p := range l.Params {
		if !strings.EqualFold(p.Name, name) {
			out = append(out, p)
		}
	}
	l.Params = out
}

// isQuotedPrintable reports whether the value is quoted-printable encoded.
func (l *Line) isQuotedPrintable() bool {
	for _, p := range l.Params {
		if p.Name == "" && strings.EqualFold(p.Value, "QUOTED-PRINTABLE") ||
			strings.EqualFold(p.Name, "ENCODING") && strings.EqualFold(unquote(p.Value), "QUOTED-PRINTABLE") {
			return true
		}
	}
	return false
}

// isBareEncoding reports whether a bare vCard 2.1 parameter names an
// encoding or a charset rather than a type.
func isBareEncoding(v string) bool {
	switch strings.ToUpper(v) {
	case "QUOTED-PRINTABLE", "BASE64", "B", "8BIT", "7BIT":
		return true
	}
	return false
}

// Values decodes the parameter value: a comma-separated list whose items may
// be quoted, with RFC 6868 caret escapes resolved.
func (p Param) Values() []string {
	var out []string
	s := p.Value
	for {
		item, rest, more := cutParamItem(s)
		out = append(out, decodeCaret(unquote(item)))
		if !more {
			return out
		}
		s = rest
	}
}

// cutParamItem cuts s at the first comma outside double quotes.
func cutParamItem(s string) (item, rest string, more bool) {
	inQuote := false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"':
			inQuote = !inQuote
		case ',':
			if !inQuote {
				return s[:i], s[i+1:], true
			}
		}
	}
	return s, "", false
}

// NewParam builds a parameter from decoded values, applying RFC 6868 caret
// escapes and quoting each value that needs it.
func NewParam(name string, values ...string) Param {
	parts := make([]string, len(values))
	for i, v := range values {
		e := encodeCaret(v)
		if strings.ContainsAny(e, ",;:") {
			e = `"` + e + `"`
		}
		parts[i] = e
	}
	return Param{Name: name, Value: strings.Join(parts, ",")}
}

// unquote removes one pair of surrounding double quotes.
func unquote(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return s[1 : len(s)-1]
	}
	return s
}

// decodeCaret resolves RFC 6868 escapes: ^n is a line break, ^^ a caret and
// ^' a double quote; any other caret stays as written.
func decodeCaret(s string) string {
	if !strings.Contains(s, "^") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '^' && i+1 < len(s) {
			switch s[i+1] {
			case 'n', 'N':
				b.WriteByte('\n')
				i++
				continue
			case '^':
				b.WriteByte('^')
				i++
				continue
			case '\'':
				b.WriteByte('"')
				i++
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// encodeCaret applies RFC 6868 escapes to a parameter value.
func encodeCaret(s string) string {
	if !strings.ContainsAny(s, "^\n\r\"") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '^':
			b.WriteString("^^")
		case '"':
			b.WriteString("^'")
		case '\r':
			if i+1 < len(s) && s[i+1] == '\n' {
				i++
			}
			b.WriteString("^n")
		case '\n':
			b.WriteString("^n")
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// UnescapeText resolves the backslash escapes of a text value (RFC 6350
// section 3.4, RFC 2426 section 4): \n or \N, \, \; and \\.
func UnescapeText(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			switch s[i+1] {
			case 'n', 'N':
				b.WriteByte('\n')
			default:
				b.WriteByte(s[i+1])
			}
			i++
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// EscapeText applies the backslash escapes of a text value.
func EscapeText(s string) string {
	r := strings.NewReplacer(`\`, `\\`, "\r\n", `\n`, "\n", `\n`, "\r", `\n`, ",", `\,`, ";", `\;`)
	return r.Replace(s)
}

// splitEscaped splits s at every sep not escaped by a backslash; the parts
// keep their escapes.
func splitEscaped(s string, sep byte) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case sep:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}
