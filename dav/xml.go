package dav

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/text/encoding/ianaindex"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// node is one element of a parsed request body (any RFC 4918 / 4791 / 6352
// request document). Namespaces are resolved; Content keeps element
// children and text in document order so a property value can be
// re-serialized faithfully.
type node struct {
	Name    xml.Name
	Attr    []xml.Attr // namespace declarations removed
	Kids    []*node    // element children, in order
	Content []any      // *node or string, in document order
}

// response is one DAV:response of a multistatus (RFC 4918 section 14.24).
type response struct {
	href      string
	status    int      // response-level status; zero when propstats are used
	errCond   xml.Name // a precondition given with a response-level status (RFC 4918 14.5)
	propstats []*propstat
}

// propstat is one DAV:propstat (RFC 4918 section 14.22).
type propstat struct {
	status int
	props  []prop
	cond   xml.Name // optional DAV:error condition
}

// prop is one property element inside a DAV:prop (RFC 4918 section 14.18):
// either rendered in full, or, for calendar-data (RFC 4791 section 9.6) and
// address-data (RFC 6352 section 10.4), an element whose text is an object
// body kept raw, to be escaped once, straight into the document.
type prop struct {
	markup string   // the complete element, when name is zero
	name   xml.Name // the element holding text
	text   []byte   // unescaped content of name
}

// multistatus is a DAV:multistatus document (RFC 4918 section 14.16), with
// the optional top-level DAV:sync-token of RFC 6578 section 6.4.
type multistatus struct {
	responses []*response
	syncToken string
	minimal   bool // Prefer: return=minimal / Brief: t; drop 404 propstats
	// description is the DAV:responsedescription of the whole answer (RFC
	// 4918 section 14.25), e.g. naming objects a query left out.
	description string
}

// XML constants.
const (
	xmlDecl        = `<?xml version="1.0" encoding="utf-8"?>` + "\n"
	xmlContentType = "application/xml; charset=utf-8"
	// rootNamespaces is declared on every multistatus and error root.
	rootNamespaces = ` xmlns:D="DAV:" xmlns:C="` + nsCalDAV + `" xmlns:CR="` + nsCardDAV +
		`" xmlns:CS="` + nsCS + `" xmlns:A="` + nsApple + `"`
	xmlNamespaceURI = "http://www.w3.org/XML/1998/namespace"
)

// maxPooledBuffer is the largest multistatus buffer kept for reuse; the
// rare larger documents leave theirs to the garbage collector.
const maxPooledBuffer = 1 << 20

// errMalformedXML is the answer for any body that is not acceptable XML.
var errMalformedXML = errStatus(http.StatusBadRequest, "the request body is not well-formed XML or exceeds the limits")

// msBuffers holds the buffers multistatus documents are rendered into.
var msBuffers = sync.Pool{New: func() any { return new([]byte) }}

// xmlSafe marks the bytes appendEscaped copies as they are: ASCII but for
// the markup characters, carriage return and the other control characters.
var xmlSafe = func() (safe [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		safe[c] = !strings.ContainsRune(`&<>"'`, rune(c))
	}
	safe['\t'], safe['\n'] = true, true
	return safe
}()

// parseXML reads one XML document under the default limits; see parseXMLLimited.
func parseXML(r io.Reader) (*node, error) {
	return parseXMLLimited(r, defaultXMLLimits)
}

// parseXMLLimited reads one XML document with depth and element-count limits. An
// empty body gives (nil, nil). Any malformation gives a 400 *Error, and so
// does a namespace error (Namespaces in XML 1.0 section 3: an undeclared
// prefix, or a prefix bound to the empty name), which encoding/xml lets
// through; so namespaces are resolved here from the raw tokens.
func parseXMLLimited(r io.Reader, lim xmlLimits) (*node, error) {
	dec := newXMLDecoder(r)
	var (
		root     *node
		stack    []*node
		raw      []xml.Name          // the raw names of the open elements, to match end tags
		scopes   []map[string]string // prefix → namespace, "" for the default namespace
		elements int
		started  bool
	)
	lookup := func(prefix string) (string, bool) {
		switch prefix {
		case "xml":
			return xmlNamespaceURI, true
		case "xmlns":
			return "", false
		}
		for i := len(scopes) - 1; i >= 0; i-- {
			if v, ok := scopes[i][prefix]; ok {
				return v, true
			}
		}
		return "", prefix == ""
	}
	for {
		tok, err := dec.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return nil, errStatus(http.StatusRequestEntityTooLarge, "the request body is too large")
			}
			return nil, errMalformedXML
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if root != nil && len(stack) == 0 {
				return nil, errMalformedXML // a second root element
			}
			elements++
			if elements > lim.elements || len(stack) >= lim.depth {
				return nil, errMalformedXML
			}
			scope := map[string]string{}
			for _, a := range t.Attr {
				switch {
				case a.Name.Space == "" && a.Name.Local == "xmlns":
					scope[""] = a.Value
				case a.Name.Space == "xmlns":
					// "xml" may only be bound to its own name, "xmlns" never.
					if a.Value == "" || a.Name.Local == "xmlns" || (a.Name.Local == "xml") != (a.Value == xmlNamespaceURI) {
						return nil, errMalformedXML
					}
					scope[a.Name.Local] = a.Value
				}
			}
			scopes = append(scopes, scope)
			space, ok := lookup(t.Name.Space)
			if !ok || !qualifiedName(t.Name) {
				return nil, errMalformedXML
			}
			n := &node{Name: xml.Name{Space: space, Local: t.Name.Local}}
			for _, a := range t.Attr {
				if a.Name.Space == "xmlns" || (a.Name.Space == "" && a.Name.Local == "xmlns") {
					continue
				}
				if !qualifiedName(a.Name) {
					return nil, errMalformedXML
				}
				if a.Name.Space != "" {
					// Unprefixed attributes have no namespace; prefixed ones need a declared prefix.
					s, ok := lookup(a.Name.Space)
					if !ok || s == "" {
						return nil, errMalformedXML
					}
					a.Name.Space = s
				}
				n.Attr = append(n.Attr, a)
			}
			if len(stack) == 0 {
				root = n
			} else {
				p := stack[len(stack)-1]
				p.Kids = append(p.Kids, n)
				p.Content = append(p.Content, n)
			}
			stack = append(stack, n)
			raw = append(raw, t.Name)
			started = true
		case xml.EndElement:
			if len(raw) == 0 || raw[len(raw)-1] != t.Name {
				return nil, errMalformedXML
			}
			stack, raw, scopes = stack[:len(stack)-1], raw[:len(raw)-1], scopes[:len(scopes)-1]
		case xml.CharData:
			if len(stack) > 0 {
				p := stack[len(stack)-1]
				p.Content = append(p.Content, string(t))
			} else if len(bytes.TrimSpace(t)) > 0 {
				return nil, errMalformedXML
			}
		case xml.Directive:
			// No DTDs: they serve no DAV purpose and invite entity tricks.
			return nil, errMalformedXML
		}
	}
	if !started {
		return nil, nil
	}
	if len(stack) != 0 {
		return nil, errMalformedXML
	}
	return root, nil
}

// newXMLDecoder returns a strict decoder that reads r in the encoding its
// byte order mark or XML declaration names (XML 1.0 section 4.3.3, which
// RFC 4918 section 8.2 defers to): a UTF-8 mark is dropped, a UTF-16 one
// transcodes the rest, and a declared encoding such as ISO-8859-1 is
// decoded through its IANA name. A declaration that contradicts the mark,
// or names an unknown encoding, fails the parse.
func newXMLDecoder(r io.Reader) *xml.Decoder {
	br := bufio.NewReader(r)
	utf16 := false
	switch mark, _ := br.Peek(3); {
	case bytes.HasPrefix(mark, []byte{0xEF, 0xBB, 0xBF}):
		_, _ = br.Discard(3)
		r = br
	case bytes.HasPrefix(mark, []byte{0xFE, 0xFF}), bytes.HasPrefix(mark, []byte{0xFF, 0xFE}):
		utf16 = true
		r = transform.NewReader(br, unicode.UTF16(unicode.BigEndian, unicode.ExpectBOM).NewDecoder())
	default:
		r = br
	}
	dec := xml.NewDecoder(r)
	dec.Strict = true
	dec.CharsetReader = func(label string, in io.Reader) (io.Reader, error) {
		isUTF16 := strings.HasPrefix(strings.ToLower(label), "utf-16")
		switch {
		case utf16 && isUTF16:
			return in, nil // already transcoded
		case utf16 || isUTF16:
			return nil, errors.New("the declared encoding contradicts the byte order mark")
		}
		enc, err := ianaindex.IANA.Encoding(label)
		if err != nil || enc == nil {
			return nil, errors.New("unsupported encoding")
		}
		return enc.NewDecoder().Reader(in), nil
	}
	return dec
}

// is reports whether the element has the given namespace and local name.
func (n *node) is(space, local string) bool {
	return n != nil && n.Name.Space == space && n.Name.Local == local
}

// child returns the first child element with the name, or nil.
func (n *node) child(space, local string) *node {
	if n == nil {
		return nil
	}
	for _, k := range n.Kids {
		if k.is(space, local) {
			return k
		}
	}
	return nil
}

// children returns all child elements with the name.
func (n *node) children(space, local string) []*node {
	var out []*node
	if n == nil {
		return nil
	}
	for _, k := range n.Kids {
		if k.is(space, local) {
			out = append(out, k)
		}
	}
	return out
}

// text returns the concatenated character data directly inside the element.
func (n *node) text() string {
	if n == nil {
		return ""
	}
	var b strings.Builder
	for _, c := range n.Content {
		if s, ok := c.(string); ok {
			b.WriteString(s)
		}
	}
	return b.String()
}

// attr returns the value of an attribute without namespace, or "".
func (n *node) attr(local string) string {
	for _, a := range n.Attr {
		if a.Name.Space == "" && a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}

// clark returns the element name in Clark notation, as Props keys use.
func clark(n xml.Name) string { return "{" + n.Space + "}" + n.Local }

// parseClark splits a Clark-notation name.
func parseClark(s string) xml.Name {
	if strings.HasPrefix(s, "{") {
		if i := strings.IndexByte(s, '}'); i > 0 {
			return xml.Name{Space: s[1:i], Local: s[i+1:]}
		}
	}
	return xml.Name{Local: s}
}

// serializeElement renders an element with explicit namespace declarations
// so the result is a self-contained, well-formed element that can be stored
// and later emitted verbatim inside DAV:prop.
func serializeElement(n *node) string {
	var b strings.Builder
	writeElement(&b, n, "\x00") // an impossible parent namespace forces xmlns on the root
	return b.String()
}

// writeElement renders n into b, declaring its namespace when it differs
// from its parent's and a prefix for each namespace of its attributes.
func writeElement(b *strings.Builder, n *node, parentNS string) {
	b.WriteString("<" + n.Name.Local)
	if n.Name.Space != parentNS {
		b.WriteString(` xmlns="` + escapeString(n.Name.Space) + `"`)
	}
	prefixes := map[string]string{}
	for _, a := range n.Attr {
		name := a.Name.Local
		switch a.Name.Space {
		case "":
		case xmlNamespaceURI:
			name = "xml:" + a.Name.Local
		default:
			p, ok := prefixes[a.Name.Space]
			if !ok {
				p = "a" + strconv.Itoa(len(prefixes))
				prefixes[a.Name.Space] = p
				b.WriteString(" xmlns:" + p + `="` + escapeString(a.Name.Space) + `"`)
			}
			name = p + ":" + a.Name.Local
		}
		b.WriteString(" " + name + `="` + escapeString(a.Value) + `"`)
	}
	if len(n.Content) == 0 {
		b.WriteString("/>")
		return
	}
	b.WriteString(">")
	for _, c := range n.Content {
		switch c := c.(type) {
		case string:
			b.WriteString(escapeString(c))
		case *node:
			writeElement(b, c, n.Name.Space)
		}
	}
	b.WriteString("</" + n.Name.Local + ">")
}

// escapeString returns s escaped as appendEscaped escapes it; s itself
// when nothing needs escaping.
func escapeString(s string) string {
	var buf [256]byte
	b := appendEscaped(buf[:0], s)
	if string(b) == s {
		return s
	}
	return string(b)
}

// appendEscaped appends s to dst escaped for element content and attribute
// values. Carriage returns become &#13; so CRLF line ends survive XML
// parsing; characters XML 1.0 cannot carry become U+FFFD.
func appendEscaped[T string | []byte](dst []byte, s T) []byte {
	clean := 0 // start of the run of bytes not yet written, which need no escaping
	for i := 0; i < len(s); {
		c := s[i]
		if xmlSafe[c] {
			i++
			continue
		}
		var rep string
		size := 1
		switch {
		case c == '&':
			rep = "&amp;"
		case c == '<':
			rep = "&lt;"
		case c == '>':
			rep = "&gt;"
		case c == '"':
			rep = "&quot;"
		case c == '\'':
			rep = "&apos;"
		case c == '\r':
			rep = "&#13;"
		case c < utf8.RuneSelf: // a control character
			rep = "\uFFFD"
		default:
			// At most UTFMax bytes are converted: that copy stays on the stack.
			var r rune
			r, size = utf8.DecodeRuneInString(string(s[i:min(i+utf8.UTFMax, len(s))]))
			if (r != utf8.RuneError || size > 1) && isXMLChar(r) {
				i += size
				continue
			}
			rep = "\uFFFD"
		}
		dst = append(dst, s[clean:i]...)
		dst = append(dst, rep...)
		i += size
		clean = i
	}
	return append(dst, s[clean:]...)
}

// isXMLChar reports whether r may appear in an XML 1.0 document.
func isXMLChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD ||
		r >= 0x10000 && r <= 0x10FFFF
}

// prefixFor returns the fixed prefix (with colon) declared on response roots
// for a namespace, or "" when the namespace has none.
func prefixFor(space string) string {
	switch space {
	case nsDAV:
		return "D:"
	case nsCalDAV:
		return "C:"
	case nsCardDAV:
		return "CR:"
	case nsCS:
		return "CS:"
	case nsApple:
		return "A:"
	}
	return ""
}

// elem renders a property element with already-escaped inner XML.
func elem(name xml.Name, inner string) string {
	var buf [256]byte
	return string(appendElem(buf[:0], name, inner, false))
}

// textElem renders a property element holding escaped text.
func textElem(name xml.Name, text string) string {
	var buf [256]byte
	return string(appendElem(buf[:0], name, text, true))
}

// hrefElem renders a DAV:href (RFC 4918 section 14.7).
func hrefElem(href string) string {
	var buf [256]byte
	return string(appendHref(buf[:0], href))
}

// appendElem appends an element with inner as its content: escaped as text
// when escape is set, else copied as XML. Elements outside the namespaces
// with a root prefix declare their own; an empty inner gives an empty tag.
func appendElem[T string | []byte](b []byte, name xml.Name, inner T, escape bool) []byte {
	p := prefixFor(name.Space)
	b = append(append(append(b, '<'), p...), name.Local...)
	if p == "" {
		b = append(appendEscaped(append(b, ` xmlns="`...), name.Space), '"')
	}
	if len(inner) == 0 {
		return append(b, "/>"...)
	}
	b = append(b, '>')
	if escape {
		b = appendEscaped(b, inner)
	} else {
		b = append(b, inner...)
	}
	return append(append(append(append(b, "</"...), p...), name.Local...), '>')
}

// appendHref appends a DAV:href (RFC 4918 section 14.7).
func appendHref(b []byte, href string) []byte {
	return append(appendEscaped(append(b, "<D:href>"...), href), "</D:href>"...)
}

// appendStatus appends a DAV:status (RFC 4918 section 14.28) exactly as
// clients compare it (Q8).
func appendStatus(b []byte, code int) []byte {
	b = strconv.AppendInt(append(b, "<D:status>HTTP/1.1 "...), int64(code), 10)
	return append(append(append(b, ' '), http.StatusText(code)...), "</D:status>"...)
}

// add puts a rendered property into the propstat for status.
func (r *response) add(status int, markup string) {
	r.addProp(status, prop{markup: markup})
}

// addText puts a property element whose content is text into the propstat
// for status; text is kept as it is and escaped when the document is written.
func (r *response) addText(status int, name xml.Name, text []byte) {
	r.addProp(status, prop{name: name, text: text})
}

// addProp puts a property into the propstat for status.
func (r *response) addProp(status int, p prop) {
	for _, ps := range r.propstats {
		if ps.status == status {
			ps.props = append(ps.props, p)
			return
		}
	}
	r.propstats = append(r.propstats, &propstat{status: status, props: []prop{p}})
}

// appendTo appends the rendered document to b. Within each response the
// 200 propstat comes first (Q8: Thunderbird CardDAV reads only the first
// status).
func (m *multistatus) appendTo(b []byte) []byte {
	b = slices.Grow(b, m.sizeHint())
	b = append(b, xmlDecl+"<D:multistatus"+rootNamespaces+">"...)
	var pss []*propstat // the propstats of a response to write, in order
	for _, r := range m.responses {
		b = appendHref(append(b, "<D:response>"...), r.href)
		if r.status != 0 {
			b = appendStatus(b, r.status)
			if r.errCond.Local != "" {
				b = append(appendElem(append(b, "<D:error>"...), r.errCond, "", false), "</D:error>"...)
			}
		} else {
			pss = pss[:0]
			for _, ps := range r.propstats {
				if m.minimal && ps.status == http.StatusNotFound {
					continue
				}
				pss = append(pss, ps)
			}
			slices.SortStableFunc(pss, func(x, y *propstat) int { return x.status - y.status })
			if len(pss) == 0 {
				pss = []*propstat{{status: http.StatusOK}}
			}
			for _, ps := range pss {
				b = ps.appendTo(b)
			}
		}
		b = append(b, "</D:response>"...)
	}
	if m.description != "" {
		b = append(appendEscaped(append(b, "<D:responsedescription>"...), m.description), "</D:responsedescription>"...)
	}
	if m.syncToken != "" {
		b = append(appendEscaped(append(b, "<D:sync-token>"...), m.syncToken), "</D:sync-token>"...)
	}
	return append(b, "</D:multistatus>\n"...)
}

// appendTo appends the rendered DAV:propstat to b.
func (ps *propstat) appendTo(b []byte) []byte {
	b = append(b, "<D:propstat><D:prop>"...)
	for _, p := range ps.props {
		if p.name.Local == "" {
			b = append(b, p.markup...)
		} else {
			b = appendElem(b, p.name, p.text, true)
		}
	}
	b = appendStatus(append(b, "</D:prop>"...), ps.status)
	if ps.cond.Local != "" {
		b = append(appendElem(append(b, "<D:error>"...), ps.cond, "", false), "</D:error>"...)
	}
	return append(b, "</D:propstat>"...)
}

// sizeHint returns about how many bytes the document takes: the markup
// and text it holds, with room for escaping (CRLF line ends), and some
// for the fixed elements.
func (m *multistatus) sizeHint() int {
	n := 512 + len(m.syncToken) + 2*len(m.description)
	for _, r := range m.responses {
		n += 96 + len(r.href)
		for _, ps := range r.propstats {
			n += 96
			for _, p := range ps.props {
				n += len(p.markup) + len(p.text) + len(p.text)/16 + 2*len(p.name.Local)
			}
		}
	}
	return n
}

// writeMultistatus sends a 207 Multi-Status answer, rendered once into a
// pooled buffer and sent with its Content-Length.
func writeMultistatus(w http.ResponseWriter, m *multistatus) {
	buf := msBuffers.Get().(*[]byte)
	body := m.appendTo((*buf)[:0])
	w.Header().Set("Content-Type", xmlContentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusMultiStatus)
	_, _ = w.Write(body) // writers do not retain what they are given (io.Writer)
	if cap(body) <= maxPooledBuffer {
		*buf = body
		msBuffers.Put(buf)
	}
}

// qualifiedName reports whether a raw name is a QName of Namespaces in XML
// 1.0 section 4: a prefix, if any, and a local part that are both NCNames.
// encoding/xml reads "p:-" as prefix "p" and local "-", and "a:b:c" as one
// local name; neither could be written back as a name it would read again.
func qualifiedName(n xml.Name) bool {
	return (n.Space == "" || ncName(n.Space)) && ncName(n.Local)
}

// ncName reports whether s is an NCName (Namespaces in XML 1.0 section 3):
// an XML Name without a colon. The later characters were checked by
// encoding/xml already; the first must be one a name can start with, which
// a name after a prefix escapes. A non-ASCII start is left to encoding/xml's
// own table, so that what is accepted here is what it reads again.
func ncName(s string) bool {
	if s == "" || strings.ContainsRune(s, ':') {
		return false
	}
	c := s[0]
	if c < utf8.RuneSelf {
		return c == '_' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')
	}
	_, err := xml.NewDecoder(strings.NewReader("<" + s + "/>")).RawToken()
	return err == nil
}
