package dav

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
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
	props  []string // complete property elements, already rendered
	cond   xml.Name // optional DAV:error condition
}

// multistatus is a DAV:multistatus document (RFC 4918 section 14.16), with
// the optional top-level DAV:sync-token of RFC 6578 section 6.4.
type multistatus struct {
	responses []*response
	syncToken string
	minimal   bool // Prefer: return=minimal / Brief: t; drop 404 propstats
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

// errMalformedXML is the answer for any body that is not acceptable XML.
var errMalformedXML = errStatus(http.StatusBadRequest, "the request body is not well-formed XML or exceeds the limits")

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
	dec := xml.NewDecoder(r)
	dec.Strict = true
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
			if !ok {
				return nil, errMalformedXML
			}
			n := &node{Name: xml.Name{Space: space, Local: t.Name.Local}}
			for _, a := range t.Attr {
				if a.Name.Space == "xmlns" || (a.Name.Space == "" && a.Name.Local == "xmlns") {
					continue
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

// escapeString escapes text for element content and attribute values.
// Carriage returns become &#13; so CRLF line ends survive XML parsing;
// characters XML 1.0 cannot carry become U+FFFD.
func escapeString(s string) string {
	var b strings.Builder
	b.Grow(len(s) + len(s)/16)
	clean := 0 // start of the run of bytes not yet written, which need no escaping
	for i := 0; i < len(s); {
		c := s[i]
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
		case c < utf8.RuneSelf:
			if c >= 0x20 || c == '\t' || c == '\n' {
				i++
				continue
			}
			rep = "\uFFFD"
		default:
			var r rune
			r, size = utf8.DecodeRuneInString(s[i:])
			if (r != utf8.RuneError || size > 1) && isXMLChar(r) {
				i += size
				continue
			}
			rep = "\uFFFD"
		}
		b.WriteString(s[clean:i])
		b.WriteString(rep)
		i += size
		clean = i
	}
	if clean == 0 {
		return s
	}
	b.WriteString(s[clean:])
	return b.String()
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
	p := prefixFor(name.Space)
	open := "<" + p + name.Local
	if p == "" {
		open += ` xmlns="` + escapeString(name.Space) + `"`
	}
	if inner == "" {
		return open + "/>"
	}
	return open + ">" + inner + "</" + p + name.Local + ">"
}

// textElem renders a property element holding escaped text.
func textElem(name xml.Name, text string) string { return elem(name, escapeString(text)) }

// hrefElem renders a DAV:href (RFC 4918 section 14.7).
func hrefElem(href string) string { return "<D:href>" + escapeString(href) + "</D:href>" }

// statusLine renders a DAV:status value exactly as clients compare it (Q8).
func statusLine(code int) string {
	return "HTTP/1.1 " + strconv.Itoa(code) + " " + http.StatusText(code)
}

// add puts a rendered property into the propstat for status.
func (r *response) add(status int, prop string) {
	for _, ps := range r.propstats {
		if ps.status == status {
			ps.props = append(ps.props, prop)
			return
		}
	}
	r.propstats = append(r.propstats, &propstat{status: status, props: []string{prop}})
}

// bytes renders the document. Within each response the 200 propstat comes
// first (Q8: Thunderbird CardDAV reads only the first status).
func (m *multistatus) bytes() []byte {
	var b strings.Builder
	b.WriteString(xmlDecl)
	b.WriteString("<D:multistatus" + rootNamespaces + ">")
	for _, r := range m.responses {
		b.WriteString("<D:response>" + hrefElem(r.href))
		if r.status != 0 {
			b.WriteString("<D:status>" + statusLine(r.status) + "</D:status>")
			if r.errCond.Local != "" {
				b.WriteString("<D:error>" + elem(r.errCond, "") + "</D:error>")
			}
		} else {
			pss := make([]*propstat, 0, len(r.propstats))
			for _, ps := range r.propstats {
				if m.minimal && ps.status == http.StatusNotFound {
					continue
				}
				pss = append(pss, ps)
			}
			sort.SliceStable(pss, func(i, j int) bool { return pss[i].status < pss[j].status })
			if len(pss) == 0 {
				pss = []*propstat{{status: http.StatusOK}}
			}
			for _, ps := range pss {
				b.WriteString("<D:propstat><D:prop>")
				for _, p := range ps.props {
					b.WriteString(p)
				}
				b.WriteString("</D:prop><D:status>" + statusLine(ps.status) + "</D:status>")
				if ps.cond.Local != "" {
					b.WriteString("<D:error>" + elem(ps.cond, "") + "</D:error>")
				}
				b.WriteString("</D:propstat>")
			}
		}
		b.WriteString("</D:response>")
	}
	if m.syncToken != "" {
		b.WriteString("<D:sync-token>" + escapeString(m.syncToken) + "</D:sync-token>")
	}
	b.WriteString("</D:multistatus>\n")
	return []byte(b.String())
}

// writeMultistatus sends a 207 Multi-Status answer.
func writeMultistatus(w http.ResponseWriter, m *multistatus) {
	body := m.bytes()
	w.Header().Set("Content-Type", xmlContentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusMultiStatus)
	_, _ = w.Write(body)
}
