package ical

import (
	"bytes"
	"encoding/xml"
	"strings"
)

// ParseFilter parses a document whose root is a CALDAV:filter element
// (RFC 4791 section 9.7).
func ParseFilter(data []byte) (*Filter, error) {
	d := xml.NewDecoder(bytes.NewReader(data))
	for {
		tok, err := d.Token()
		if err != nil {
			return nil, errorf(CondValidFilter, "no filter element")
		}
		if se, ok := tok.(xml.StartElement); ok {
			return DecodeFilter(d, se)
		}
	}
}

// DecodeFilter reads the CALDAV:filter element (RFC 4791 section 9.7) whose
// start tag was just read from d, and validates it. Errors are *Error values
// with condition valid-filter or supported-collation.
func DecodeFilter(d *xml.Decoder, start xml.StartElement) (*Filter, error) {
	root, err := readTree(d, start, CondValidFilter)
	if err != nil {
		return nil, err
	}
	if !root.is("filter") {
		return nil, errorf(CondValidFilter, "expected a filter element")
	}
	var f Filter
	n := 0
	for _, k := range root.kids {
		switch {
		case k.is("comp-filter"):
			n++
			cf, err := parseCompFilter(k, 0)
			if err != nil {
				return nil, err
			}
			f.Comp = *cf
		case k.name.Space == NamespaceCalDAV:
			return nil, errorf(CondValidFilter, "unexpected %s in filter", k.name.Local)
		}
	}
	if n != 1 {
		return nil, errorf(CondValidFilter, "filter must hold exactly one comp-filter")
	}
	if err := f.Validate(); err != nil {
		return nil, err
	}
	return &f, nil
}

// parseCompFilter reads a CALDAV:comp-filter (RFC 4791 section 9.7.1).
func parseCompFilter(n *node, depth int) (*CompFilter, error) {
	if depth > maxFilterDepth {
		return nil, errorf(CondValidFilter, "filter nested too deeply")
	}
	name, _ := n.attr("name")
	cf := &CompFilter{Name: strings.ToUpper(strings.TrimSpace(name))}
	if cf.Name == "" {
		return nil, errorf(CondValidFilter, "comp-filter without a name")
	}
	for _, k := range n.kids {
		switch {
		case k.is("is-not-defined"):
			cf.IsNotDefined = true
		case k.is("time-range"):
			if cf.TimeRange != nil {
				return nil, errorf(CondValidFilter, "two time-range elements")
			}
			tr, err := parseTimeRange(k, CondValidFilter, false)
			if err != nil {
				return nil, err
			}
			cf.TimeRange = tr
		case k.is("prop-filter"):
			pf, err := parsePropFilter(k)
			if err != nil {
				return nil, err
			}
			cf.Props = append(cf.Props, *pf)
		case k.is("comp-filter"):
			sub, err := parseCompFilter(k, depth+1)
			if err != nil {
				return nil, err
			}
			cf.Comps = append(cf.Comps, *sub)
		case k.name.Space == NamespaceCalDAV:
			return nil, errorf(CondValidFilter, "unexpected %s in comp-filter", k.name.Local)
		}
	}
	return cf, nil
}

// parsePropFilter reads a CALDAV:prop-filter (RFC 4791 section 9.7.2).
func parsePropFilter(n *node) (*PropFilter, error) {
	name, _ := n.attr("name")
	pf := &PropFilter{Name: strings.ToUpper(strings.TrimSpace(name))}
	if pf.Name == "" {
		return nil, errorf(CondValidFilter, "prop-filter without a name")
	}
	for _, k := range n.kids {
		switch {
		case k.is("is-not-defined"):
			pf.IsNotDefined = true
		case k.is("time-range"):
			if pf.TimeRange != nil {
				return nil, errorf(CondValidFilter, "two time-range elements")
			}
			tr, err := parseTimeRange(k, CondValidFilter, false)
			if err != nil {
				return nil, err
			}
			pf.TimeRange = tr
		case k.is("text-match"):
			if pf.TextMatch != nil {
				return nil, errorf(CondValidFilter, "two text-match elements")
			}
			tm, err := parseTextMatch(k)
			if err != nil {
				return nil, err
			}
			pf.TextMatch = tm
		case k.is("param-filter"):
			pa, err := parseParamFilter(k)
			if err != nil {
				return nil, err
			}
			pf.Params = append(pf.Params, *pa)
		case k.name.Space == NamespaceCalDAV:
			return nil, errorf(CondValidFilter, "unexpected %s in prop-filter", k.name.Local)
		}
	}
	return pf, nil
}

// parseParamFilter reads a CALDAV:param-filter (RFC 4791 section 9.7.3).
func parseParamFilter(n *node) (*ParamFilter, error) {
	name, _ := n.attr("name")
	pf := &ParamFilter{Name: strings.ToUpper(strings.TrimSpace(name))}
	if pf.Name == "" {
		return nil, errorf(CondValidFilter, "param-filter without a name")
	}
	for _, k := range n.kids {
		switch {
		case k.is("is-not-defined"):
			pf.IsNotDefined = true
		case k.is("text-match"):
			if pf.TextMatch != nil {
				return nil, errorf(CondValidFilter, "two text-match elements")
			}
			tm, err := parseTextMatch(k)
			if err != nil {
				return nil, err
			}
			pf.TextMatch = tm
		case k.name.Space == NamespaceCalDAV:
			return nil, errorf(CondValidFilter, "unexpected %s in param-filter", k.name.Local)
		}
	}
	return pf, nil
}

// parseTextMatch reads a CALDAV:text-match (RFC 4791 section 9.7.5).
func parseTextMatch(n *node) (*TextMatch, error) {
	tm := &TextMatch{Text: n.text.String()}
	if c, ok := n.attr("collation"); ok {
		tm.Collation = strings.ToLower(strings.TrimSpace(c))
	}
	if v, ok := n.attr("negate-condition"); ok {
		switch strings.TrimSpace(v) {
		case "yes":
			tm.Negate = true
		case "no":
		default:
			return nil, errorf(CondValidFilter, "negate-condition must be yes or no")
		}
	}
	if err := tm.validate(); err != nil {
		return nil, err
	}
	return tm, nil
}
