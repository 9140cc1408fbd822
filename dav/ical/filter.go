package ical

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	goical "github.com/emersion/go-ical"
	"golang.org/x/text/unicode/norm"
)

// Filter is a CALDAV:filter (RFC 4791 section 9.7); Comp names VCALENDAR.
type Filter struct {
	Comp CompFilter
}

// CompFilter is a CALDAV:comp-filter (RFC 4791 section 9.7.1).
type CompFilter struct {
	Name         string
	IsNotDefined bool
	TimeRange    *TimeRange
	Props        []PropFilter
	Comps        []CompFilter
}

// PropFilter is a CALDAV:prop-filter (RFC 4791 section 9.7.2).
type PropFilter struct {
	Name         string
	IsNotDefined bool
	TimeRange    *TimeRange
	TextMatch    *TextMatch
	Params       []ParamFilter
}

// ParamFilter is a CALDAV:param-filter (RFC 4791 section 9.7.3).
type ParamFilter struct {
	Name         string
	IsNotDefined bool
	TextMatch    *TextMatch
}

// TextMatch is a CALDAV:text-match (RFC 4791 section 9.7.5): a substring
// test under a collation, optionally negated.
type TextMatch struct {
	Text      string
	Collation string // empty means CollationASCIICasemap
	Negate    bool
}

// Collations supported by text-match (RFC 4790, RFC 5051).
const (
	CollationASCIICasemap   = "i;ascii-casemap"   // default; folds ASCII letters only
	CollationOctet          = "i;octet"           // exact bytes
	CollationUnicodeCasemap = "i;unicode-casemap" // folds Unicode case, then NFKD (RFC 5051)
)

// Match reports whether obj satisfies the filter. Floating and all-day values
// are read in opts.Location. It fails with ErrTooManyInstances or
// ErrTooComplex when a cap is reached, and with an *Error for unsupported
// collations or invalid object data.
func Match(obj *Object, f *Filter, opts Options) (ok bool, err error) {
	if err := f.Validate(); err != nil {
		return false, err
	}
	err = safeCall(func() error {
		c := newCtx(obj, opts)
		ok, err = c.matchComp(nil, []*goical.Component{obj.root}, &f.Comp)
		return err
	})
	return ok, err
}

// Validate checks the filter's structure and collations and returns an
// *Error (valid-filter or supported-collation) when it cannot be evaluated.
func (f *Filter) Validate() error {
	if !strings.EqualFold(f.Comp.Name, goical.CompCalendar) {
		return errorf(CondValidFilter, "the filter must hold a VCALENDAR comp-filter")
	}
	if f.Comp.TimeRange != nil {
		return errorf(CondValidFilter, "a time-range does not apply to VCALENDAR")
	}
	return f.Comp.validate("", 0)
}

// Prefilter returns the top-level component name and time-range that every
// matching object must satisfy, for index-based skipping with
// Summary.MayOverlap; ok is false when the filter has no such time-range.
func (f *Filter) Prefilter() (component string, tr TimeRange, ok bool) {
	if f.Comp.IsNotDefined {
		return "", TimeRange{}, false
	}
	for _, cf := range f.Comp.Comps {
		if cf.TimeRange != nil && !cf.IsNotDefined {
			return strings.ToUpper(cf.Name), *cf.TimeRange, true
		}
	}
	return "", TimeRange{}, false
}

// componentParents names, for each component RFC 5545 (and RFC 6047 for
// VFREEBUSY in a calendar) defines, the components it may appear in; ""
// is the top of the filter. Other names (X- and future IANA components)
// may appear under any component: the filter never matches them there,
// which is the right answer, not a malformed filter.
var componentParents = map[string][]string{
	goical.CompCalendar:         {""},
	goical.CompEvent:            {goical.CompCalendar},
	goical.CompToDo:             {goical.CompCalendar},
	goical.CompJournal:          {goical.CompCalendar},
	goical.CompFreeBusy:         {goical.CompCalendar},
	goical.CompTimezone:         {goical.CompCalendar},
	goical.CompAlarm:            {goical.CompEvent, goical.CompToDo},
	goical.CompTimezoneStandard: {goical.CompTimezone},
	goical.CompTimezoneDaylight: {goical.CompTimezone},
}

// timeRangeComponents are the components a comp-filter time-range can test
// (RFC 4791 section 9.9 defines overlap for these alone).
var timeRangeComponents = map[string]bool{
	goical.CompEvent: true, goical.CompToDo: true, goical.CompJournal: true,
	goical.CompFreeBusy: true, goical.CompAlarm: true,
}

// timeRangeProps are the properties whose values are DATE or DATE-TIME
// (RFC 5545 section 3.8; RFC 9074 for ACKNOWLEDGED), the only ones a
// prop-filter time-range can test (RFC 4791 section 7.4). TRIGGER is a
// DATE-TIME with VALUE=DATE-TIME, and RDATE and EXDATE lists are DATE or
// DATE-TIME values; X- properties may be any type and are allowed too.
var timeRangeProps = map[string]bool{
	goical.PropDateTimeStart: true, goical.PropDateTimeEnd: true, goical.PropDue: true,
	goical.PropCompleted: true, goical.PropCreated: true, goical.PropDateTimeStamp: true,
	goical.PropLastModified: true, goical.PropRecurrenceID: true, goical.PropExceptionDates: true,
	goical.PropRecurrenceDates: true, goical.PropTrigger: true, "ACKNOWLEDGED": true,
}

// validate checks one comp-filter level, found in a comp-filter named
// parent ("" at the top): the component must be one that can appear
// there (RFC 4791 section 9.7.1 filters the components of an iCalendar
// object, RFC 5545 section 3.6 says where each goes), and a time-range
// must be one RFC 4791 section 9.9 defines.
func (cf *CompFilter) validate(parent string, depth int) error {
	if depth > maxFilterDepth {
		return errorf(CondValidFilter, "filter nested too deeply")
	}
	if cf.Name == "" {
		return errorf(CondValidFilter, "comp-filter without a name")
	}
	if cf.IsNotDefined && (cf.TimeRange != nil || len(cf.Props) > 0 || len(cf.Comps) > 0) {
		return errorf(CondValidFilter, "is-not-defined combined with other tests")
	}
	name := strings.ToUpper(cf.Name)
	if parents, known := componentParents[name]; known && !slices.Contains(parents, parent) {
		return errorf(CondValidFilter, "%s cannot appear in %s", name, parent)
	}
	if cf.TimeRange != nil && !timeRangeComponents[name] {
		return errorf(CondValidFilter, "a time-range does not apply to %s", name)
	}
	if err := cf.TimeRange.validate(); err != nil {
		return err
	}
	for i := range cf.Props {
		if err := cf.Props[i].validate(); err != nil {
			return err
		}
	}
	for i := range cf.Comps {
		if err := cf.Comps[i].validate(name, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// validate checks a prop-filter.
func (pf *PropFilter) validate() error {
	if pf.Name == "" {
		return errorf(CondValidFilter, "prop-filter without a name")
	}
	if pf.IsNotDefined && (pf.TimeRange != nil || pf.TextMatch != nil || len(pf.Params) > 0) {
		return errorf(CondValidFilter, "is-not-defined combined with other tests")
	}
	if pf.TimeRange != nil && pf.TextMatch != nil {
		return errorf(CondValidFilter, "prop-filter with both time-range and text-match")
	}
	if name := strings.ToUpper(pf.Name); pf.TimeRange != nil && !timeRangeProps[name] && !strings.HasPrefix(name, "X-") {
		return errorf(CondValidFilter, "a time-range does not apply to %s, which is no date or date-time", name)
	}
	if err := pf.TimeRange.validate(); err != nil {
		return err
	}
	if err := pf.TextMatch.validate(); err != nil {
		return err
	}
	for i := range pf.Params {
		p := &pf.Params[i]
		if p.Name == "" {
			return errorf(CondValidFilter, "param-filter without a name")
		}
		if p.IsNotDefined && p.TextMatch != nil {
			return errorf(CondValidFilter, "is-not-defined combined with text-match")
		}
		if err := p.TextMatch.validate(); err != nil {
			return err
		}
	}
	return nil
}

// validate checks a time-range: at least one bound, and start before end.
func (tr *TimeRange) validate() error {
	if tr == nil {
		return nil
	}
	if tr.Start.IsZero() && tr.End.IsZero() {
		return errorf(CondValidFilter, "time-range without start or end")
	}
	if !tr.Start.IsZero() && !tr.End.IsZero() && !tr.End.After(tr.Start) {
		return errorf(CondValidFilter, "time-range end is not after its start")
	}
	return nil
}

// validate checks that the collation is supported.
func (tm *TextMatch) validate() error {
	if tm == nil {
		return nil
	}
	switch tm.Collation {
	case "", CollationASCIICasemap, CollationOctet, CollationUnicodeCasemap:
		return nil
	}
	return errorf(CondSupportedCollation, "unsupported collation")
}

// Matches reports whether s contains the text under the collation, inverted
// by negate-condition.
func (tm *TextMatch) Matches(s string) bool {
	var ok bool
	switch tm.Collation {
	case CollationOctet:
		ok = strings.Contains(s, tm.Text)
	case CollationUnicodeCasemap:
		ok = strings.Contains(foldUnicode(s), foldUnicode(tm.Text))
	default:
		ok = strings.Contains(foldASCII(s), foldASCII(tm.Text))
	}
	return ok != tm.Negate
}

// foldASCII lower-cases ASCII letters only (i;ascii-casemap).
func foldASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] >= 'A' && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// foldUnicode maps every rune to a case-folded form and then decomposes
// the result (NFKD), as i;unicode-casemap does (RFC 5051), so that a
// precomposed "é" equals "e" with a combining accent. Invalid UTF-8 bytes
// are kept.
func foldUnicode(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n <= 1 {
			b.WriteByte(s[i])
			i++
			continue
		}
		b.WriteRune(unicode.ToLower(unicode.ToUpper(r)))
		i += n
	}
	return norm.NFKD.String(b.String())
}

// matchComp evaluates a comp-filter against the candidate components cands
// (the children of parent, or the VCALENDAR itself when parent is nil).
func (c *evalCtx) matchComp(parent *goical.Component, cands []*goical.Component, cf *CompFilter) (bool, error) {
	name := strings.ToUpper(cf.Name)
	any := false
	for _, comp := range cands {
		if comp.Name != name {
			continue
		}
		any = true
		if cf.IsNotDefined {
			return false, nil
		}
		ok, err := c.compSatisfies(parent, comp, cf)
		if err != nil || ok {
			return ok, err
		}
	}
	return cf.IsNotDefined && !any, nil
}

// compSatisfies evaluates the time-range, prop-filters and nested
// comp-filters of cf on one component.
func (c *evalCtx) compSatisfies(parent, comp *goical.Component, cf *CompFilter) (bool, error) {
	if tr := cf.TimeRange; tr != nil {
		var ok bool
		var err error
		switch {
		case comp.Name == goical.CompAlarm && parent != nil:
			ok, err = c.alarmOverlaps(parent, comp, *tr)
		case parent != nil && parent == c.obj.root:
			ok, err = c.compOverlaps(comp, *tr)
		}
		if err != nil || !ok {
			return false, err
		}
	}
	for i := range cf.Props {
		ok, err := c.matchProp(comp, &cf.Props[i])
		if err != nil || !ok {
			return false, err
		}
	}
	for i := range cf.Comps {
		ok, err := c.matchComp(comp, comp.Children, &cf.Comps[i])
		if err != nil || !ok {
			return false, err
		}
	}
	return true, nil
}

// matchProp evaluates a prop-filter: some property of that name must pass
// the time-range or text-match and every param-filter.
func (c *evalCtx) matchProp(comp *goical.Component, pf *PropFilter) (bool, error) {
	props := comp.Props.Values(strings.ToUpper(pf.Name))
	if pf.IsNotDefined {
		return len(props) == 0, nil
	}
	for i := range props {
		p := &props[i]
		if !c.b.step(1) {
			return false, c.b.err
		}
		if pf.TimeRange != nil && !c.propInRange(p, *pf.TimeRange) {
			continue
		}
		if pf.TextMatch != nil && !pf.TextMatch.Matches(textValue(p)) {
			continue
		}
		ok := true
		for j := range pf.Params {
			if !matchParam(p, &pf.Params[j]) {
				ok = false
				break
			}
		}
		if ok {
			return true, nil
		}
	}
	return false, nil
}

// propInRange applies a prop-filter time-range to a DATE or DATE-TIME value.
func (c *evalCtx) propInRange(p *goical.Prop, tr TimeRange) bool {
	d, err := c.propDT(p)
	if err != nil {
		return false
	}
	t := c.abs(d)
	if d.date {
		return tr.Overlaps(t, d.z.abs(c, d.wall.AddDate(0, 0, 1)))
	}
	return tr.Overlaps(t, t)
}

// matchParam evaluates a param-filter on one property.
func matchParam(p *goical.Prop, pf *ParamFilter) bool {
	vals := p.Params.Values(strings.ToUpper(pf.Name))
	if pf.IsNotDefined {
		return len(vals) == 0
	}
	if pf.TextMatch == nil {
		return len(vals) > 0
	}
	for _, v := range vals {
		if pf.TextMatch.Matches(v) {
			return true
		}
	}
	return false
}

// textValue returns the property value as text-match sees it: TEXT values
// unescaped, other values raw.
func textValue(p *goical.Prop) string {
	switch p.Name {
	case goical.PropAttendee, goical.PropOrganizer, goical.PropURL, goical.PropAttach, goical.PropTimezoneURL:
		return p.Value
	}
	if v := p.Params.Get("VALUE"); v != "" && !strings.EqualFold(v, "TEXT") {
		return p.Value
	}
	return unescapeText(p.Value)
}
