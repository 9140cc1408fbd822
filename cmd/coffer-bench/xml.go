package main

import (
	"encoding/xml"
	"fmt"
	"strings"
)

// Request bodies as the clients send them (see clients.md).
const (
	// DAVx5's contact listing without sync-collection, 2.5.6: Depth 1.
	bodyListing = `<?xml version='1.0' encoding='UTF-8' ?><propfind xmlns="DAV:"><prop><resourcetype /><getetag /></prop></propfind>`

	// One object's ETag, read after a write whose answer the deadline cut.
	bodyETag = `<?xml version='1.0' encoding='UTF-8' ?><propfind xmlns="DAV:"><prop><getetag /></prop></propfind>`

	// The poll of DAVx5 and iOS, 2.5.1 and 3.3: Depth 0.
	bodyPoll = `<?xml version='1.0' encoding='UTF-8' ?><propfind xmlns="DAV:" xmlns:CS="http://calendarserver.org/ns/"><prop><CS:getctag /><sync-token /></prop></propfind>`

	// DAVx5's sync-collection, 2.5.7: Depth 0.
	bodySync = `<?xml version='1.0' encoding='UTF-8' ?><sync-collection xmlns="DAV:"><sync-token>%s</sync-token><sync-level>1</sync-level><prop><getetag /><resourcetype /></prop></sync-collection>`

	// DAVx5's downloads, 2.5.8: address books with Depth 0, calendars with no Depth.
	bodyCardMultiget = `<?xml version='1.0' encoding='UTF-8' ?><CARD:addressbook-multiget xmlns="DAV:" xmlns:CARD="urn:ietf:params:xml:ns:carddav"><prop><getcontenttype /><getetag /><CARD:address-data /></prop>%s</CARD:addressbook-multiget>`
	bodyCalMultiget  = `<?xml version='1.0' encoding='UTF-8' ?><CAL:calendar-multiget xmlns="DAV:" xmlns:CAL="urn:ietf:params:xml:ns:caldav"><prop><getcontenttype /><getetag /><CAL:schedule-tag /><CAL:calendar-data /></prop>%s</CAL:calendar-multiget>`

	// DAVx5's event listing, 2.5.6, here with an end as well: Depth 1.
	bodyQuery = `<?xml version='1.0' encoding='UTF-8' ?><CAL:calendar-query xmlns="DAV:" xmlns:CAL="urn:ietf:params:xml:ns:caldav"><prop><getetag /></prop><CAL:filter><CAL:comp-filter name="VCALENDAR"><CAL:comp-filter name="VEVENT"><CAL:time-range start="%s" end="%s"/></CAL:comp-filter></CAL:comp-filter></CAL:filter></CAL:calendar-query>`
)

// multigetBody returns the multiget REPORT for hrefs in a collection of kind k.
func multigetBody(k kind, hrefs []string) []byte {
	var b strings.Builder
	for _, h := range hrefs {
		b.WriteString("<href>")
		xml.EscapeText(&b, []byte(h))
		b.WriteString("</href>")
	}
	if k == kindContact {
		return []byte(fmt.Sprintf(bodyCardMultiget, b.String()))
	}
	return []byte(fmt.Sprintf(bodyCalMultiget, b.String()))
}

// multistatus is the part of a 207 answer the scenarios check.
type multistatus struct {
	Responses []msResponse `xml:"DAV: response"`
	SyncToken string       `xml:"DAV: sync-token"`
}

type msResponse struct {
	Href      string       `xml:"DAV: href"`
	Status    string       `xml:"DAV: status"`
	Propstats []msPropstat `xml:"DAV: propstat"`
}

type msPropstat struct {
	Status string `xml:"DAV: status"`
	Prop   struct {
		ETag         string    `xml:"DAV: getetag"`
		SyncToken    string    `xml:"DAV: sync-token"`
		CTag         string    `xml:"http://calendarserver.org/ns/ getctag"`
		ResourceType *struct{} `xml:"DAV: resourcetype"`
		AddressData  *string   `xml:"urn:ietf:params:xml:ns:carddav address-data"`
		CalendarData *string   `xml:"urn:ietf:params:xml:ns:caldav calendar-data"`
	} `xml:"DAV: prop"`
}

// parseMultistatus decodes a 207 body.
func parseMultistatus(b []byte) (*multistatus, error) {
	var m multistatus
	if err := xml.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("bad multistatus: %w", err)
	}
	return &m, nil
}

// ok returns the 200 propstat of a response, which must come first.
func (r *msResponse) ok() (*msPropstat, bool) {
	if len(r.Propstats) == 0 || !strings.Contains(r.Propstats[0].Status, " 200 ") {
		return nil, false
	}
	return &r.Propstats[0], true
}

// data is the address or calendar data of a propstat.
func (p *msPropstat) data() (string, bool) {
	switch {
	case p.Prop.AddressData != nil:
		return *p.Prop.AddressData, true
	case p.Prop.CalendarData != nil:
		return *p.Prop.CalendarData, true
	}
	return "", false
}

// pollToken returns the sync-token of a Depth 0 poll answer.
func pollToken(b []byte) (string, error) {
	m, err := parseMultistatus(b)
	if err != nil {
		return "", err
	}
	if len(m.Responses) != 1 {
		return "", fmt.Errorf("poll answered %d responses, want 1", len(m.Responses))
	}
	p, ok := m.Responses[0].ok()
	if !ok || p.Prop.SyncToken == "" || p.Prop.CTag == "" {
		return "", fmt.Errorf("poll answer lacks sync-token or getctag")
	}
	return p.Prop.SyncToken, nil
}
