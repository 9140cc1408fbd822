package vcard

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Filter is a CARDDAV:filter element (RFC 6352 section 10.5). With no
// prop-filter it matches every card.
type Filter struct {
	Test        Test // anyof (the default) or allof over PropFilters
	PropFilters []PropFilter
}

// PropFilter is a CARDDAV:prop-filter element (RFC 6352 section 10.5.1).
// Name may carry a group prefix ("item1.EMAIL"), which must then match
// exactly; without one the property matches in any group.
type PropFilter struct {
	Name         string
	Test         Test // anyof (the default) or allof over TextMatches and ParamFilters
	IsNotDefined bool // CARDDAV:is-not-defined (RFC 6352 section 10.5.3); excludes the others
	TextMatches  []TextMatch
	ParamFilters []ParamFilter
}

// ParamFilter is a CARDDAV:param-filter element (RFC 6352 section 10.5.2).
type ParamFilter struct {
	Name         string
	IsNotDefined bool       // CARDDAV:is-not-defined (RFC 6352 section 10.5.3)
	TextMatch    *TextMatch // optional; excludes IsNotDefined
}

// TextMatch is a CARDDAV:text-match element (RFC 6352 section 10.5.4).
type TextMatch struct {
	Text      string
	Collation string    // "" or "default" means i;unicode-casemap
	MatchType MatchType // "" means contains
	Negate    bool      // negate-condition="yes"
}

// Test is the test attribute of CARDDAV:filter and CARDDAV:prop-filter
// (RFC 6352 sections 10.5 and 10.5.1).
type Test string

// MatchType is the match-type attribute of CARDDAV:text-match (RFC 6352
// section 10.5.4).
type MatchType string

// Values of Test.
const (
	TestAnyOf Test = "anyof"
	TestAllOf Test = "allof"
)

// Values of MatchType.
const (
	MatchEquals     MatchType = "equals"
	MatchContains   MatchType = "contains"
	MatchStartsWith MatchType = "starts-with"
	MatchEndsWith   MatchType = "ends-with"
)

// Collations accepted by text-match (RFC 4790, RFC 5051).
const (
	CollationUnicodeCasemap = "i;unicode-casemap"
	CollationASCIICasemap   = "i;ascii-casemap"
	CollationOctet          = "i;octet"
)

// Bounds on a filter, so that evaluating it stays cheap for any request.
const (
	MaxPropFilters  = 64   // prop-filters in one filter
	MaxConditions   = 32   // text-matches plus param-filters in one prop-filter
	MaxTextMatchLen = 4096 // octets of one text-match
)

// multiValued lists properties whose value is a list: ';' separates
// components and ',' separates the values of a component (RFC 6350
// sections 6.2.2, 6.3.1, 6.6.4, 6.7.1; RFC 2426 sections 3.1.2, 3.2.1).
var multiValued = map[string]bool{
	"N": true, "ADR": true, "ORG": true, "GENDER": true, "CATEGORIES": true, "NICKNAME": true, "CLIENTPIDMAP": true,
}

// Validate checks the filter against RFC 6352 section 10.5 and the
// package's bounds. It reports supported-collation, supported-filter or
// valid-filter.
func (f *Filter) Validate() error {
	if !validTest(f.Test) {
		return errorf(CondValidFilter, "filter test %q is neither anyof nor allof", f.Test)
	}
	if len(f.PropFilters) > MaxPropFilters {
		return errorf(CondSupportedFilter, "more than %d prop-filters", MaxPropFilters)
	}
	for i := range f.PropFilters {
		if err := f.PropFilters[i].validate(); err != nil {
			return err
		}
	}
	return nil
}

// validate checks one prop-filter.
func (pf *PropFilter) validate() error {
	if !validPropName(pf.Name) {
		e := errorf(CondSupportedFilter, "prop-filter name %q is not a vCard property name", pf.Name)
		e.PropFilter = pf.Name
		return e
	}
	if !validTest(pf.Test) {
		return errorf(CondValidFilter, "prop-filter test %q is neither anyof nor allof", pf.Test)
	}
	if pf.IsNotDefined && (len(pf.TextMatches) > 0 || len(pf.ParamFilters) > 0) {
		return errorf(CondValidFilter, "prop-filter %s: is-not-defined excludes other conditions", pf.Name)
	}
	if len(pf.TextMatches)+len(pf.ParamFilters) > MaxConditions {
		e := errorf(CondSupportedFilter, "prop-filter %s: more than %d conditions", pf.Name, MaxConditions)
		e.PropFilter = pf.Name
		return e
	}
	for i := range pf.TextMatches {
		if err := pf.TextMatches[i].validate(); err != nil {
			return err
		}
	}
	for _, pa := range pf.ParamFilters {
		if !validParamName(pa.Name) {
			e := errorf(CondSupportedFilter, "param-filter name %q is not a vCard parameter name", pa.Name)
			e.PropFilter, e.ParamFilter = pf.Name, pa.Name
			return e
		}
		if pa.IsNotDefined && pa.TextMatch != nil {
			return errorf(CondValidFilter, "param-filter %s: is-not-defined excludes text-match", pa.Name)
		}
		if pa.TextMatch != nil {
			if err := pa.TextMatch.validate(); err != nil {
				return err
			}
		}
	}
	return nil
}

// validate checks one text-match.
func (tm *TextMatch) validate() error {
	if collation(tm.Collation) == "" {
		return errorf(CondSupportedCollation, "collation %q is not supported", tm.Collation)
	}
	switch tm.MatchType {
	case "", MatchEquals, MatchContains, MatchStartsWith, MatchEndsWith:
	default:
		return errorf(CondValidFilter, "match-type %q is not defined", tm.MatchType)
	}
	if len(tm.Text) > MaxTextMatchLen {
		return errorf(CondSupportedFilter, "text-match longer than %d octets", MaxTextMatchLen)
	}
	return nil
}

// validTest accepts the two tests and the empty default.
func validTest(t Test) bool { return t == "" || t == TestAnyOf || t == TestAllOf }

// collation resolves a collation identifier, or returns "" when it is not
// supported. RFC 6352 section 8.3: absent or "default" means
// i;unicode-casemap.
func collation(c string) string {
	switch c {
	case "", "default", CollationUnicodeCasemap:
		return CollationUnicodeCasemap
	case CollationASCIICasemap, CollationOctet:
		return c
	}
	return ""
}

// validPropName accepts [group "."] name with vCard name characters.
func validPropName(s string) bool {
	s = strings.TrimSpace(s)
	if dot := strings.LastIndexByte(s, '.'); dot >= 0 {
		return validParamName(s[:dot]) && validParamName(s[dot+1:])
	}
	return validParamName(s)
}

// validParamName accepts a non-empty run of vCard name characters.
func validParamName(s string) bool {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 256 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isNameChar(s[i]) {
			return false
		}
	}
	return true
}

// Match reports whether the card satisfies the filter (RFC 6352 section
// 10.5). A prop-filter matches when one instance of the property satisfies
// its conditions (all of them for allof, one for anyof). A text-match
// compares the unescaped value and, for list properties (N, ADR, ORG,
// CATEGORIES, NICKNAME, GENDER), each component and list item; it holds when
// any of them matches, and negate-condition inverts that outcome. A
// param-filter looks at every value of every parameter of that name.
func Match(c *Card, f *Filter) (bool, error) {
	if err := f.Validate(); err != nil {
		return false, err
	}
	if len(f.PropFilters) == 0 {
		return true, nil
	}
	m := matcher{c: c, folded: map[foldKey][]string{}}
	allof := f.Test == TestAllOf
	for i := range f.PropFilters {
		r := m.propFilter(&f.PropFilters[i])
		if allof && !r {
			return false, nil
		}
		if !allof && r {
			return true, nil
		}
	}
	return allof, nil
}

// MatchBytes parses a stored card and reports whether it satisfies f.
func MatchBytes(data []byte, f *Filter) (bool, error) {
	return Match(Parse(data), f)
}

// matcher evaluates one filter against one card, folding each value at
// most once per collation.
type matcher struct {
	c      *Card
	folded map[foldKey][]string
}

// foldKey identifies the folded candidates of one line in one collation.
type foldKey struct {
	line      int
	collation string
}

// propFilter evaluates one prop-filter.
func (m *matcher) propFilter(pf *PropFilter) bool {
	req := PropRequest{Name: pf.Name}
	var hits []int
	for i := range m.c.Lines {
		if l := &m.c.Lines[i]; l.Valid() && req.matches(l) {
			hits = append(hits, i)
		}
	}
	if pf.IsNotDefined {
		return len(hits) == 0
	}
	if len(hits) == 0 {
		return false
	}
	if len(pf.TextMatches) == 0 && len(pf.ParamFilters) == 0 {
		return true
	}
	for _, i := range hits {
		if m.lineMatches(pf, i) {
			return true
		}
	}
	return false
}

// lineMatches evaluates the conditions of pf on one property instance.
func (m *matcher) lineMatches(pf *PropFilter, i int) bool {
	allof := pf.Test == TestAllOf
	for j := range pf.TextMatches {
		tm := &pf.TextMatches[j]
		r := tm.matchAny(m.candidates(i, collation(tm.Collation)))
		if allof && !r {
			return false
		}
		if !allof && r {
			return true
		}
	}
	for j := range pf.ParamFilters {
		r := paramFilter(&m.c.Lines[i], &pf.ParamFilters[j])
		if allof && !r {
			return false
		}
		if !allof && r {
			return true
		}
	}
	return allof
}

// candidates returns the folded strings a text-match compares for line i.
func (m *matcher) candidates(i int, coll string) []string {
	k := foldKey{i, coll}
	if c, ok := m.folded[k]; ok {
		return c
	}
	raw := valueCandidates(&m.c.Lines[i])
	out := make([]string, len(raw))
	for j, s := range raw {
		out[j] = fold(s, coll)
	}
	m.folded[k] = out
	return out
}

// valueCandidates returns the unescaped value of l and, for list
// properties, its components and list items.
func valueCandidates(l *Line) []string {
	v := l.Value
	if l.isQuotedPrintable() {
		v = decodeQP(v)
	}
	out := []string{UnescapeText(v)}
	if !multiValued[strings.ToUpper(l.Name)] {
		return out
	}
	for _, comp := range splitEscaped(v, ';') {
		for _, item := range splitEscaped(comp, ',') {
			if item != "" {
				out = append(out, UnescapeText(item))
			}
		}
	}
	return out
}

// paramFilter evaluates one param-filter on one property instance.
func paramFilter(l *Line, pa *ParamFilter) bool {
	defined := false
	var values []string
	name := strings.TrimSpace(pa.Name)
	for _, p := range l.Params {
		if strings.EqualFold(p.Name, name) || p.Name == "" && strings.EqualFold(name, "TYPE") && p.Value != "" && !isBareEncoding(p.Value) {
			defined = true
			for _, v := range p.Values() {
				values = append(values, v)
				if strings.Contains(v, ",") {
					values = append(values, strings.Split(v, ",")...)
				}
			}
		}
	}
	if pa.IsNotDefined {
		return !defined
	}
	if !defined {
		return false
	}
	if pa.TextMatch == nil {
		return true
	}
	coll := collation(pa.TextMatch.Collation)
	for i, v := range values {
		values[i] = fold(v, coll)
	}
	return pa.TextMatch.matchAny(values)
}

// matchAny applies the text-match to already folded candidates: true when
// one of them matches, inverted by negate-condition.
func (tm *TextMatch) matchAny(cands []string) bool {
	needle := fold(tm.Text, collation(tm.Collation))
	hit := false
	for _, c := range cands {
		var ok bool
		switch tm.MatchType {
		case MatchEquals:
			ok = c == needle
		case MatchStartsWith:
			ok = strings.HasPrefix(c, needle)
		case MatchEndsWith:
			ok = strings.HasSuffix(c, needle)
		default:
			ok = strings.Contains(c, needle)
		}
		if ok {
			hit = true
			break
		}
	}
	return hit != tm.Negate
}

// fold maps s to its comparison form under a collation: i;octet compares
// octets, i;ascii-casemap folds ASCII letters (RFC 4790 section 9.2), and
// i;unicode-casemap folds Unicode case with simple case mappings and then
// decomposes the result (NFKD), as RFC 5051 does.
func fold(s, coll string) string {
	switch coll {
	case CollationOctet:
		return s
	case CollationASCIICasemap:
		b := []byte(s)
		for i, c := range b {
			if c >= 'a' && c <= 'z' {
				b[i] = c - 'a' + 'A'
			}
		}
		return string(b)
	}
	return norm.NFKD.String(strings.Map(func(r rune) rune { return unicode.ToLower(unicode.ToUpper(r)) }, s))
}
