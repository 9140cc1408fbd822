package ical

import (
	"strings"
	"time"

	goical "github.com/emersion/go-ical"
)

// Timezone is a validated time zone definition: the one VTIMEZONE of a
// CALDAV:calendar-timezone property (RFC 4791 section 5.2.2) or of a
// CALDAV:timezone element of a query (section 9.8).
type Timezone struct {
	// TZID is the TZID of the VTIMEZONE (RFC 5545 section 3.8.3.1).
	TZID string
}

// ParseTimezone parses an iCalendar object that holds exactly one
// VTIMEZONE and nothing else (RFC 4791 section 5.2.2). The VTIMEZONE must
// be complete (RFC 5545 section 3.6.5): one TZID, and at least one
// STANDARD or DAYLIGHT observance, each with a local DTSTART and valid
// TZOFFSETFROM and TZOFFSETTO. Anything else is a valid-calendar-data
// *Error; the input is never echoed in its message.
func ParseTimezone(data []byte) (*Timezone, error) {
	obj, err := Parse(data)
	if err != nil {
		return nil, err
	}
	var vtz *goical.Component
	for _, c := range obj.root.Children {
		if c.Name != goical.CompTimezone {
			return nil, dataErrorf("a time zone holds no component but one VTIMEZONE")
		}
		if vtz != nil {
			return nil, dataErrorf("a time zone holds exactly one VTIMEZONE")
		}
		vtz = c
	}
	if vtz == nil {
		return nil, dataErrorf("a time zone holds exactly one VTIMEZONE")
	}
	ids := vtz.Props.Values(goical.PropTimezoneID)
	if len(ids) != 1 || strings.TrimSpace(ids[0].Value) == "" {
		return nil, dataErrorf("a VTIMEZONE needs exactly one TZID")
	}
	observances := 0
	for _, sub := range vtz.Children {
		if sub.Name != goical.CompTimezoneStandard && sub.Name != goical.CompTimezoneDaylight {
			continue // RFC 5545 allows x-comp and iana-comp inside VTIMEZONE
		}
		if !validObservance(sub) {
			return nil, dataErrorf("a STANDARD or DAYLIGHT observance needs a local DTSTART, TZOFFSETFROM and TZOFFSETTO")
		}
		observances++
	}
	if observances == 0 {
		return nil, dataErrorf("a VTIMEZONE needs a STANDARD or DAYLIGHT observance")
	}
	return &Timezone{TZID: ids[0].Value}, nil
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

// Location returns the zone the TZID names in the server's own zone data
// (an IANA name, a Windows name or a prefixed IANA name, as ResolveTZID
// reads them); ok is false for a TZID of the client's own making.
func (t *Timezone) Location() (loc *time.Location, ok bool) {
	return ResolveTZID(t.TZID)
}

// UnknownTZID returns a TZID parameter of the object that neither an
// embedded VTIMEZONE defines nor the server's zone data knows (RFC 7809
// section 3.1: a client may leave out the VTIMEZONE of a zone the server
// knows); ok is false when every TZID can be resolved.
func (o *Object) UnknownTZID() (tzid string, ok bool) {
	checked := map[string]bool{}
	var walk func(c *goical.Component) (string, bool)
	walk = func(c *goical.Component) (string, bool) {
		if c.Name == goical.CompTimezone {
			return "", false
		}
		for _, props := range c.Props {
			for _, p := range props {
				for _, id := range p.Params[goical.ParamTimezoneID] {
					if checked[id] {
						continue
					}
					checked[id] = true
					if _, defined := o.tzdef[id]; defined {
						continue
					}
					if _, known := ResolveTZID(id); !known {
						return id, true
					}
				}
			}
		}
		for _, k := range c.Children {
			if id, ok := walk(k); ok {
				return id, true
			}
		}
		return "", false
	}
	return walk(o.root)
}
