package vcard

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"strconv"
	"strings"
)

// Query is a CARDDAV:addressbook-query request body (RFC 6352 section
// 10.3). Only its CardDAV parts are read here; the DAV:prop list is the
// caller's.
type Query struct {
	AddressData *AddressData // CARDDAV:address-data inside DAV:prop, or nil
	Filter      Filter       // CARDDAV:filter (RFC 6352 section 10.5)
	Limit       *Limit       // CARDDAV:limit, or nil
}

// Limit is a CARDDAV:limit element with its CARDDAV:nresults child (RFC
// 6352 sections 10.6 and 10.6.1).
type Limit struct {
	NResults int // requested maximum number of responses
}

// xnode is one element of a bounded request tree.
type xnode struct {
	name xml.Name
	attr []xml.Attr
	kids []*xnode
	text strings.Builder
}

// Bounds on request XML read by this package.
const (
	maxXMLDepth    = 32
	maxXMLElements = 4096
	maxXMLText     = 64 << 10
)

const nsDAV = "DAV:"

// errBadXML is the answer for a body that is not acceptable XML.
func errBadXML(msg string) *Error { return &Error{Message: "malformed request XML: " + msg} }

// ParseQuery parses a CARDDAV:addressbook-query request body.
func ParseQuery(body []byte) (*Query, error) {
	root, err := parseDocument(body)
	if err != nil {
		return nil, err
	}
	if !root.is(NamespaceCardDAV, "addressbook-query") {
		return nil, errBadXML("the root is not CARDDAV:addressbook-query")
	}
	q := &Query{}
	haveFilter := false
	for _, k := range root.kids {
		switch {
		case k.is(nsDAV, "prop"):
			for _, p := range k.kids {
				if p.is(NamespaceCardDAV, "address-data") {
					if q.AddressData, err = addressData(p); err != nil {
						return nil, err
					}
				}
			}
		case k.is(NamespaceCardDAV, "filter"):
			if haveFilter {
				return nil, errorf(CondValidFilter, "more than one filter")
			}
			haveFilter = true
			f, err := filter(k)
			if err != nil {
				return nil, err
			}
			q.Filter = *f
		case k.is(NamespaceCardDAV, "limit"):
			if q.Limit, err = limit(k); err != nil {
				return nil, err
			}
		}
	}
	if !haveFilter {
		return nil, errorf(CondValidFilter, "addressbook-query needs a filter")
	}
	return q, nil
}

// ParseFilter parses a document whose root element is CARDDAV:filter.
func ParseFilter(body []byte) (*Filter, error) {
	root, err := parseDocument(body)
	if err != nil {
		return nil, err
	}
	if !root.is(NamespaceCardDAV, "filter") {
		return nil, errBadXML("the root is not CARDDAV:filter")
	}
	return filter(root)
}

// DecodeFilter reads the CARDDAV:filter element whose start tag was just
// read from d, up to and including its end tag.
func DecodeFilter(d *xml.Decoder, start xml.StartElement) (*Filter, error) {
	n, err := readTree(d, start)
	if err != nil {
		return nil, err
	}
	if !n.is(NamespaceCardDAV, "filter") {
		return nil, errBadXML("not CARDDAV:filter")
	}
	return filter(n)
}

// DecodeAddressData reads the CARDDAV:address-data element whose start
// tag was just read from d, up to and including its end tag.
func DecodeAddressData(d *xml.Decoder, start xml.StartElement) (*AddressData, error) {
	n, err := readTree(d, start)
	if err != nil {
		return nil, err
	}
	if !n.is(NamespaceCardDAV, "address-data") {
		return nil, errBadXML("not CARDDAV:address-data")
	}
	return addressData(n)
}

// is reports whether the element has the given namespace and local name.
func (n *xnode) is(space, local string) bool { return n.name.Space == space && n.name.Local == local }

// attrValue returns the value of the un-namespaced attribute name.
func (n *xnode) attrValue(name string) (string, bool) {
	for _, a := range n.attr {
		if a.Name.Space == "" && a.Name.Local == name {
			return a.Value, true
		}
	}
	return "", false
}

// parseDocument reads a whole document into a bounded tree.
func parseDocument(body []byte) (*xnode, error) {
	d := xml.NewDecoder(bytes.NewReader(body))
	for {
		tok, err := d.Token()
		if err != nil {
			return nil, errBadXML("no root element")
		}
		if se, ok := tok.(xml.StartElement); ok {
			root, err := readTree(d, se)
			if err != nil {
				return nil, err
			}
			for {
				tok, err := d.Token()
				if errors.Is(err, io.EOF) {
					return root, nil
				}
				if err != nil {
					return nil, errBadXML("after the root element")
				}
				switch t := tok.(type) {
				case xml.StartElement:
					return nil, errBadXML("more than one root element")
				case xml.CharData:
					if len(bytes.TrimSpace(t)) > 0 {
						return nil, errBadXML("text after the root element")
					}
				}
			}
		}
	}
}

// readTree reads the element opened by start into a tree, bounding depth,
// element count and text size.
func readTree(d *xml.Decoder, start xml.StartElement) (*xnode, error) {
	root := &xnode{name: start.Name, attr: start.Attr}
	stack := []*xnode{root}
	elems, text := 1, 0
	for len(stack) > 0 {
		tok, err := d.Token()
		if err != nil {
			return nil, errBadXML("unexpected end or syntax error")
		}
		top := stack[len(stack)-1]
		switch t := tok.(type) {
		case xml.StartElement:
			if elems++; elems > maxXMLElements {
				return nil, errBadXML("too many elements")
			}
			if len(stack) >= maxXMLDepth {
				return nil, errBadXML("nested too deeply")
			}
			n := &xnode{name: t.Name, attr: t.Attr}
			top.kids = append(top.kids, n)
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if text += len(t); text > maxXMLText {
				return nil, errBadXML("too much text")
			}
			top.text.Write(t)
		}
	}
	return root, nil
}

// filter interprets CARDDAV:filter (RFC 6352 section 10.5).
func filter(n *xnode) (*Filter, error) {
	f := &Filter{}
	if v, ok := n.attrValue("test"); ok {
		f.Test = Test(v)
	}
	for _, k := range n.kids {
		switch {
		case k.is(NamespaceCardDAV, "prop-filter"):
			if len(f.PropFilters) >= MaxPropFilters {
				return nil, errorf(CondSupportedFilter, "more than %d prop-filters", MaxPropFilters)
			}
			pf, err := propFilter(k)
			if err != nil {
				return nil, err
			}
			f.PropFilters = append(f.PropFilters, *pf)
		case k.name.Space == NamespaceCardDAV:
			return nil, errorf(CondValidFilter, "unexpected %s in filter", k.name.Local)
		}
	}
	if err := f.Validate(); err != nil {
		return nil, err
	}
	return f, nil
}

// propFilter interprets CARDDAV:prop-filter (RFC 6352 section 10.5.1).
func propFilter(n *xnode) (*PropFilter, error) {
	name, ok := n.attrValue("name")
	if !ok || strings.TrimSpace(name) == "" {
		return nil, errorf(CondValidFilter, "prop-filter without a name")
	}
	pf := &PropFilter{Name: strings.TrimSpace(name)}
	if v, ok := n.attrValue("test"); ok {
		pf.Test = Test(v)
	}
	for _, k := range n.kids {
		if len(pf.TextMatches)+len(pf.ParamFilters) >= MaxConditions {
			e := errorf(CondSupportedFilter, "prop-filter %s: more than %d conditions", pf.Name, MaxConditions)
			e.PropFilter = pf.Name
			return nil, e
		}
		switch {
		case k.is(NamespaceCardDAV, "is-not-defined"):
			pf.IsNotDefined = true
		case k.is(NamespaceCardDAV, "text-match"):
			tm, err := textMatch(k)
			if err != nil {
				return nil, err
			}
			pf.TextMatches = append(pf.TextMatches, *tm)
		case k.is(NamespaceCardDAV, "param-filter"):
			pa, err := paramFilterElem(k)
			if err != nil {
				return nil, err
			}
			pf.ParamFilters = append(pf.ParamFilters, *pa)
		case k.name.Space == NamespaceCardDAV:
			return nil, errorf(CondValidFilter, "unexpected %s in prop-filter", k.name.Local)
		}
	}
	return pf, nil
}

// paramFilterElem interprets CARDDAV:param-filter (RFC 6352 section 10.5.2).
func paramFilterElem(n *xnode) (*ParamFilter, error) {
	name, ok := n.attrValue("name")
	if !ok || strings.TrimSpace(name) == "" {
		return nil, errorf(CondValidFilter, "param-filter without a name")
	}
	pa := &ParamFilter{Name: strings.TrimSpace(name)}
	count := 0
	for _, k := range n.kids {
		switch {
		case k.is(NamespaceCardDAV, "is-not-defined"):
			pa.IsNotDefined = true
			count++
		case k.is(NamespaceCardDAV, "text-match"):
			tm, err := textMatch(k)
			if err != nil {
				return nil, err
			}
			pa.TextMatch = tm
			count++
		case k.name.Space == NamespaceCardDAV:
			return nil, errorf(CondValidFilter, "unexpected %s in param-filter", k.name.Local)
		}
	}
	if count > 1 {
		return nil, errorf(CondValidFilter, "param-filter %s holds more than one condition", pa.Name)
	}
	return pa, nil
}

// textMatch interprets CARDDAV:text-match (RFC 6352 section 10.5.4). The
// text is trimmed of surrounding white space, which pretty-printed bodies
// add.
func textMatch(n *xnode) (*TextMatch, error) {
	tm := &TextMatch{Text: strings.TrimSpace(n.text.String())}
	if v, ok := n.attrValue("collation"); ok {
		tm.Collation = v
	}
	if v, ok := n.attrValue("match-type"); ok {
		tm.MatchType = MatchType(v)
	}
	if v, ok := n.attrValue("negate-condition"); ok {
		switch v {
		case "yes":
			tm.Negate = true
		case "no":
		default:
			return nil, errorf(CondValidFilter, "negate-condition %q is neither yes nor no", v)
		}
	}
	for _, k := range n.kids {
		if k.name.Space == NamespaceCardDAV {
			return nil, errorf(CondValidFilter, "unexpected %s in text-match", k.name.Local)
		}
	}
	if err := tm.validate(); err != nil {
		return nil, err
	}
	return tm, nil
}

// limit interprets CARDDAV:limit (RFC 6352 sections 10.6 and 10.6.1).
// Values beyond the int32 range are clamped.
func limit(n *xnode) (*Limit, error) {
	for _, k := range n.kids {
		if !k.is(NamespaceCardDAV, "nresults") {
			continue
		}
		s := strings.TrimSpace(k.text.String())
		if !allDigits(s) {
			return nil, &Error{Message: "nresults must be an unsigned integer"}
		}
		v, err := strconv.ParseInt(s, 10, 32)
		if err != nil {
			v = 1<<31 - 1
		}
		return &Limit{NResults: int(v)}, nil
	}
	return nil, &Error{Message: "limit without nresults"}
}

// addressData interprets CARDDAV:address-data (RFC 6352 section 10.4).
func addressData(n *xnode) (*AddressData, error) {
	a := &AddressData{}
	a.ContentType, _ = n.attrValue("content-type")
	a.Version, _ = n.attrValue("version")
	for _, k := range n.kids {
		switch {
		case k.is(NamespaceCardDAV, "allprop"):
			a.AllProp = true
		case k.is(NamespaceCardDAV, "prop"):
			name, _ := k.attrValue("name")
			p := PropRequest{Name: strings.TrimSpace(name)}
			if v, ok := k.attrValue("novalue"); ok {
				switch v {
				case "yes":
					p.NoValue = true
				case "no":
				default:
					return nil, &Error{Message: "novalue must be yes or no"}
				}
			}
			a.Props = append(a.Props, p)
		}
	}
	if a.AllProp && len(a.Props) > 0 {
		return nil, &Error{Message: "address-data holds both allprop and prop"}
	}
	if err := a.Validate(); err != nil {
		return nil, err
	}
	return a, nil
}
