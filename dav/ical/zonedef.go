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

// ParseZone parses the text of a CALDAV:timezone element: an iCalendar
// object holding one VTIMEZONE and nothing else, with one TZID and at
// least one STANDARD or DAYLIGHT observance the server can evaluate. The
// definition is what floating values are read in, whatever its TZID
// names. Anything else is a valid-calendar-data *Error, whose message
// never echoes the input.
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
	v := sharedZones.get(def)
	if v == nil {
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
