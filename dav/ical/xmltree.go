package ical

import (
	"encoding/xml"
	"strings"
	"time"
)

// node is one element of a bounded XML subtree read from a request body.
type node struct {
	name  xml.Name
	attrs []xml.Attr
	kids  []*node
	text  strings.Builder
}

// NamespaceCalDAV is the CalDAV XML namespace (RFC 4791 section 1.2).
const NamespaceCalDAV = "urn:ietf:params:xml:ns:caldav"

// Bounds on request XML read by this package.
const (
	maxFilterDepth = 24
	maxXMLNodes    = 4096
	maxXMLText     = 64 << 10
)

// readTree reads the element opened by start, up to its end tag, into a
// node tree; cond is the precondition reported for malformed or oversized XML.
func readTree(d *xml.Decoder, start xml.StartElement, cond string) (*node, error) {
	root := &node{name: start.Name, attrs: start.Attr}
	stack := []*node{root}
	count, textLen := 1, 0
	for len(stack) > 0 {
		tok, err := d.Token()
		if err != nil {
			return nil, errorf(cond, "malformed XML")
		}
		top := stack[len(stack)-1]
		switch t := tok.(type) {
		case xml.StartElement:
			count++
			if count > maxXMLNodes {
				return nil, errorf(cond, "too many XML elements")
			}
			if len(stack) > maxFilterDepth {
				return nil, errorf(cond, "XML nested too deeply")
			}
			n := &node{name: t.Name, attrs: t.Attr}
			top.kids = append(top.kids, n)
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			textLen += len(t)
			if textLen > maxXMLText {
				return nil, errorf(cond, "too much XML text")
			}
			top.text.Write(t)
		}
	}
	return root, nil
}

// is reports whether n is the CalDAV element local.
func (n *node) is(local string) bool {
	return n.name.Space == NamespaceCalDAV && n.name.Local == local
}

// attr returns the value of the un-namespaced attribute name.
func (n *node) attr(name string) (string, bool) {
	for _, a := range n.attrs {
		if a.Name.Space == "" && a.Name.Local == name {
			return a.Value, true
		}
	}
	return "", false
}

// parseTimeRange reads the start and end attributes of a time-range element
// (RFC 4791 section 9.9); both must be UTC date-times.
func parseTimeRange(n *node, cond string, needBoth bool) (*TimeRange, error) {
	var tr TimeRange
	for _, a := range []struct {
		name string
		dst  *time.Time
	}{{"start", &tr.Start}, {"end", &tr.End}} {
		v, ok := n.attr(a.name)
		if !ok {
			if needBoth {
				return nil, errorf(cond, "%s needs a %s attribute", n.name.Local, a.name)
			}
			continue
		}
		t, date, utc, ok := parseCivil(strings.TrimSpace(v))
		if !ok || date || !utc {
			return nil, errorf(cond, "%s %s is not a UTC date-time", n.name.Local, a.name)
		}
		*a.dst = t
	}
	if err := tr.validate(); err != nil {
		return nil, errorf(cond, "%s", err.(*Error).Message)
	}
	return &tr, nil
}
