package ical

import (
	"strings"

	goical "github.com/emersion/go-ical"
)

// Zone is a time zone a client names for the floating and all-day values
// of a query: the VTIMEZONE of a CALDAV:timezone element (RFC 4791
// section 9.8) or the TZID of a CALDAV:timezone-id element (RFC 7809,
// the element calendar-query takes besides timezone). Options.Zone takes
// it.
type Zone struct {
	TZID string // the zone's TZID
	z    *zone
}

// ParseZone parses the text of a CALDAV:timezone element or of a
// CALDAV:calendar-timezone property (RFC 4791 sections 9.8 and 5.2.2): an
// iCalendar object holding one VTIMEZONE and nothing else, with one TZID
// and at least one STANDARD or DAYLIGHT observance, each complete (RFC
// 5545 section 3.6.5: one local DTSTART, one TZOFFSETFROM and one
// TZOFFSETTO). The definition is what floating values are read in,
// whatever its TZID names. Anything else is a valid-calendar-data *Error,
// whose message never echoes the input.
func ParseZone(data []byte) (*Zone, error) {
	obj, err := Parse(data)
	if err != nil {
		return nil, err
	}
	var def *goical.Component
	for _, c := range obj.root.Children {
		if c.Name != goical.CompTimezone || def != nil {
			return nil, dataErrorf("a time zone holds exactly one VTIMEZONE and no other component")
		}
		def = c
	}
	if def == nil {
		return nil, dataErrorf("a time zone holds exactly one VTIMEZONE")
	}
	ids := def.Props.Values(goical.PropTimezoneID)
	if len(ids) != 1 || strings.TrimSpace(ids[0].Value) == "" {
		return nil, dataErrorf("a VTIMEZONE needs exactly one TZID")
	}
	observances := 0
	for _, sub := range def.Children {
		if sub.Name != goical.CompTimezoneStandard && sub.Name != goical.CompTimezoneDaylight {
			continue // RFC 5545 allows x-comp and iana-comp inside VTIMEZONE
		}
		if !validObservance(sub) {
			return nil, dataErrorf("a STANDARD or DAYLIGHT observance needs one local DTSTART, TZOFFSETFROM and TZOFFSETTO")
		}
		observances++
	}
	v := sharedZones.get(def)
	if v == nil || observances == 0 {
		return nil, dataErrorf("a VTIMEZONE needs a STANDARD or DAYLIGHT observance with DTSTART, TZOFFSETFROM and TZOFFSETTO")
	}
	return &Zone{TZID: ids[0].Value, z: &zone{name: ids[0].Value, vtz: v}}, nil
}

// ZoneNamed returns the zone a TZID names in the server's own zone data,
// as ResolveTZID reads it (RFC 7809: a client may name a zone instead of
// sending it); ok is false for a name the server does not know.
func ZoneNamed(tzid string) (z *Zone, ok bool) {
	loc, ok := ResolveTZID(tzid)
	if !ok {
		return nil, false
	}
	tzid = strings.TrimSpace(tzid)
	return &Zone{TZID: tzid, z: &zone{name: tzid, loc: loc}}, true
}

// validObservance reports whether a STANDARD or DAYLIGHT sub-component has
// the properties RFC 5545 section 3.6.5 requires, each exactly once and
// well-formed: DTSTART as a local date-time, and both offsets.
func validObservance(sub *goical.Component) bool {
	one := func(name string) (string, bool) {
		v := sub.Props.Values(name)
		if len(v) != 1 {
			return "", false
		}
		return v[0].Value, true
	}
	start, ok := one(goical.PropDateTimeStart)
	if !ok {
		return false
	}
	if _, date, utc, ok := parseCivil(start); !ok || date || utc {
		return false
	}
	for _, name := range [...]string{goical.PropTimezoneOffsetFrom, goical.PropTimezoneOffsetTo} {
		v, ok := one(name)
		if !ok {
			return false
		}
		if _, ok := parseOffset(v); !ok {
			return false
		}
	}
	return true
}
