package ical

import (
	"encoding/xml"
	"mime"
	"strings"
)

// DecodeCalendarData reads a CALDAV:calendar-data request element (RFC 4791
// section 9.6) whose start tag was just read from d. An empty element yields
// a zero CalendarData (send the stored bytes). Errors are *Error values:
// supported-calendar-data for another media type or version, and an empty
// condition (a plain 400) for malformed content.
func DecodeCalendarData(d *xml.Decoder, start xml.StartElement) (*CalendarData, error) {
	root, err := readTree(d, start, "")
	if err != nil {
		return nil, err
	}
	if ct, ok := root.attr("content-type"); ok {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "text/calendar" {
			return nil, errorf(CondSupportedCalendarData, "only text/calendar is supported")
		}
	}
	if v, ok := root.attr("version"); ok && strings.TrimSpace(v) != "2.0" {
		return nil, errorf(CondSupportedCalendarData, "only iCalendar 2.0 is supported")
	}
	cd := &CalendarData{}
	for _, k := range root.kids {
		var err error
		switch {
		case k.is("comp") && emptyComp(k):
			// go-webdav's client sends <comp name=""/> when it wants the
			// whole object; an empty selection asks for nothing less.
		case k.is("comp"):
			cd.Comp, err = parseCompSelect(k, 0)
		case k.is("expand"):
			cd.Expand, err = parseTimeRange(k, "", true)
		case k.is("limit-recurrence-set"):
			cd.LimitRecurrenceSet, err = parseTimeRange(k, "", true)
		case k.is("limit-freebusy-set"):
			cd.LimitFreeBusySet, err = parseTimeRange(k, "", true)
		}
		if err != nil {
			return nil, err
		}
	}
	if cd.Expand != nil && cd.LimitRecurrenceSet != nil {
		return nil, errorf("", "expand and limit-recurrence-set together")
	}
	return cd, nil
}

// emptyComp reports whether a comp element names nothing and holds nothing.
func emptyComp(n *node) bool {
	name, _ := n.attr("name")
	return strings.TrimSpace(name) == "" && len(n.kids) == 0
}

// parseCompSelect reads a CALDAV:comp element (RFC 4791 section 9.6.1).
func parseCompSelect(n *node, depth int) (*CompSelect, error) {
	if depth > maxFilterDepth {
		return nil, errorf("", "comp nested too deeply")
	}
	name, _ := n.attr("name")
	cs := &CompSelect{Name: strings.ToUpper(strings.TrimSpace(name))}
	if cs.Name == "" {
		return nil, errorf("", "comp without a name")
	}
	for _, k := range n.kids {
		switch {
		case k.is("allprop"):
			cs.AllProps = true
		case k.is("allcomp"):
			cs.AllComps = true
		case k.is("prop"):
			pn, _ := k.attr("name")
			nv, _ := k.attr("novalue")
			if strings.TrimSpace(pn) == "" {
				return nil, errorf("", "prop without a name")
			}
			cs.Props = append(cs.Props, PropSelect{Name: strings.ToUpper(strings.TrimSpace(pn)), NoValue: strings.TrimSpace(nv) == "yes"})
		case k.is("comp"):
			sub, err := parseCompSelect(k, depth+1)
			if err != nil {
				return nil, err
			}
			cs.Comps = append(cs.Comps, *sub)
		}
	}
	return cs, nil
}
