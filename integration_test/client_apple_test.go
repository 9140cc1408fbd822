package integration_test

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// iOS and macOS request bodies, clients.md section 3: prefix A: for DAV:,
// every other namespace declared on the element that uses it.
const (
	// 3.2 step 1 and 3.4 step 1.
	iosWellKnown = `<?xml version="1.0" encoding="UTF-8"?>
<A:propfind xmlns:A="DAV:">
  <A:prop>
    <A:current-user-principal/>
    <A:principal-URL/>
    <A:resourcetype/>
  </A:prop>
</A:propfind>
`

	// 3.2 step 3.
	iosPrincipalCalDAV = `<?xml version="1.0" encoding="UTF-8"?>
<A:propfind xmlns:A="DAV:">
  <A:prop>
    <B:calendar-home-set xmlns:B="urn:ietf:params:xml:ns:caldav"/>
    <B:calendar-user-address-set xmlns:B="urn:ietf:params:xml:ns:caldav"/>
    <A:current-user-principal/>
    <A:displayname/>
    <C:dropbox-home-URL xmlns:C="http://calendarserver.org/ns/"/>
    <C:email-address-set xmlns:C="http://calendarserver.org/ns/"/>
    <C:notification-URL xmlns:C="http://calendarserver.org/ns/"/>
    <A:principal-collection-set/>
    <A:principal-URL/>
    <A:resource-id/>
    <B:schedule-inbox-URL xmlns:B="urn:ietf:params:xml:ns:caldav"/>
    <B:schedule-outbox-URL xmlns:B="urn:ietf:params:xml:ns:caldav"/>
    <A:supported-report-set/>
  </A:prop>
</A:propfind>
`

	// 3.2 step 5: the large calendar-home property list.
	iosCalendarHome = `<?xml version="1.0" encoding="UTF-8"?>
<A:propfind xmlns:A="DAV:">
  <A:prop>
    <A:add-member/>
    <C:allowed-sharing-modes xmlns:C="http://calendarserver.org/ns/"/>
    <D:autoprovisioned xmlns:D="http://apple.com/ns/ical/"/>
    <E:bulk-requests xmlns:E="http://me.com/_namespace/"/>
    <B:calendar-alarm xmlns:B="urn:ietf:params:xml:ns:caldav"/>
    <D:calendar-color xmlns:D="http://apple.com/ns/ical/"/>
    <B:calendar-description xmlns:B="urn:ietf:params:xml:ns:caldav"/>
    <B:calendar-free-busy-set xmlns:B="urn:ietf:params:xml:ns:caldav"/>
    <D:calendar-order xmlns:D="http://apple.com/ns/ical/"/>
    <B:calendar-timezone xmlns:B="urn:ietf:params:xml:ns:caldav"/>
    <A:current-user-privilege-set/>
    <B:default-alarm-vevent-date xmlns:B="urn:ietf:params:xml:ns:caldav"/>
    <B:default-alarm-vevent-datetime xmlns:B="urn:ietf:params:xml:ns:caldav"/>
    <A:displayname/>
    <C:getctag xmlns:C="http://calendarserver.org/ns/"/>
    <C:invite xmlns:C="http://calendarserver.org/ns/"/>
    <D:language-code xmlns:D="http://apple.com/ns/ical/"/>
    <D:location-code xmlns:D="http://apple.com/ns/ical/"/>
    <A:owner/>
    <C:pre-publish-url xmlns:C="http://calendarserver.org/ns/"/>
    <C:publish-url xmlns:C="http://calendarserver.org/ns/"/>
    <C:push-transports xmlns:C="http://calendarserver.org/ns/"/>
    <C:pushkey xmlns:C="http://calendarserver.org/ns/"/>
    <A:quota-available-bytes/>
    <A:quota-used-bytes/>
    <D:refreshrate xmlns:D="http://apple.com/ns/ical/"/>
    <A:resource-id/>
    <A:resourcetype/>
    <B:schedule-calendar-transp xmlns:B="urn:ietf:params:xml:ns:caldav"/>
    <B:schedule-default-calendar-URL xmlns:B="urn:ietf:params:xml:ns:caldav"/>
    <C:source xmlns:C="http://calendarserver.org/ns/"/>
    <C:subscribed-strip-alarms xmlns:C="http://calendarserver.org/ns/"/>
    <C:subscribed-strip-attachments xmlns:C="http://calendarserver.org/ns/"/>
    <C:subscribed-strip-todos xmlns:C="http://calendarserver.org/ns/"/>
    <B:supported-calendar-component-set xmlns:B="urn:ietf:params:xml:ns:caldav"/>
    <B:supported-calendar-component-sets xmlns:B="urn:ietf:params:xml:ns:caldav"/>
    <A:supported-report-set/>
    <A:sync-token/>
    <B:managed-attachments-server-URL xmlns:B="urn:ietf:params:xml:ns:caldav"/>
  </A:prop>
</A:propfind>
`

	// 3.2 step 7: a new calendar, Content-Type text/xml.
	iosMkcalendar = `<?xml version="1.0" encoding="UTF-8"?>
<B:mkcalendar xmlns:B="urn:ietf:params:xml:ns:caldav">
  <A:set xmlns:A="DAV:">
    <A:prop>
      <D:calendar-order xmlns:D="http://apple.com/ns/ical/">2</D:calendar-order>
      <B:supported-calendar-component-set>
        <B:comp name="VEVENT"/>
      </B:supported-calendar-component-set>
      <D:calendar-color xmlns:D="http://apple.com/ns/ical/" symbolic-color="custom">#1BADF8FF</D:calendar-color>
      <B:calendar-timezone>BEGIN:VCALENDAR&#13;
VERSION:2.0&#13;
PRODID:-//Apple Inc.//iPhone OS 18.1.1//EN&#13;
CALSCALE:GREGORIAN&#13;
BEGIN:VTIMEZONE&#13;
TZID:Europe/Berlin&#13;
BEGIN:DAYLIGHT&#13;
TZOFFSETFROM:+0100&#13;
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU&#13;
DTSTART:19810329T020000&#13;
TZNAME:CEST&#13;
TZOFFSETTO:+0200&#13;
END:DAYLIGHT&#13;
BEGIN:STANDARD&#13;
TZOFFSETFROM:+0200&#13;
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU&#13;
DTSTART:19961027T030000&#13;
TZNAME:CET&#13;
TZOFFSETTO:+0100&#13;
END:STANDARD&#13;
END:VTIMEZONE&#13;
END:VCALENDAR&#13;
</B:calendar-timezone>
      <A:displayname>Family</A:displayname>
      <B:schedule-calendar-transp>
        <B:opaque/>
      </B:schedule-calendar-transp>
    </A:prop>
  </A:set>
</B:mkcalendar>
`

	// 3.2 step 6: first poll, colour and order in separate sets, then the
	// name, the transparency and the time zone.
	iosProppatchCalendar = `<?xml version="1.0" encoding="UTF-8"?>
<A:propertyupdate xmlns:A="DAV:">
  <A:set>
    <A:prop>
      <D:calendar-color xmlns:D="http://apple.com/ns/ical/" symbolic-color="orange">#FD8208FF</D:calendar-color>
    </A:prop>
  </A:set>
  <A:set>
    <A:prop>
      <D:calendar-order xmlns:D="http://apple.com/ns/ical/">1</D:calendar-order>
    </A:prop>
  </A:set>
  <A:set>
    <A:prop>
      <A:displayname>Personal</A:displayname>
      <B:schedule-calendar-transp xmlns:B="urn:ietf:params:xml:ns:caldav">
        <B:transparent/>
      </B:schedule-calendar-transp>
      <B:calendar-timezone xmlns:B="urn:ietf:params:xml:ns:caldav">BEGIN:VCALENDAR&#13;
VERSION:2.0&#13;
PRODID:-//Apple Inc.//iPhone OS 18.1.1//EN&#13;
CALSCALE:GREGORIAN&#13;
BEGIN:VTIMEZONE&#13;
TZID:Europe/Berlin&#13;
BEGIN:DAYLIGHT&#13;
TZOFFSETFROM:+0100&#13;
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU&#13;
DTSTART:19810329T020000&#13;
TZNAME:CEST&#13;
TZOFFSETTO:+0200&#13;
END:DAYLIGHT&#13;
BEGIN:STANDARD&#13;
TZOFFSETFROM:+0200&#13;
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU&#13;
DTSTART:19961027T030000&#13;
TZNAME:CET&#13;
TZOFFSETTO:+0100&#13;
END:STANDARD&#13;
END:VTIMEZONE&#13;
END:VCALENDAR&#13;
</B:calendar-timezone>
    </A:prop>
  </A:set>
</A:propertyupdate>
`

	// 3.2 step 6: default alarms on the calendar home.
	iosProppatchHome = `<?xml version="1.0" encoding="UTF-8"?>
<A:propertyupdate xmlns:A="DAV:">
  <A:set>
    <A:prop>
      <B:default-alarm-vevent-datetime xmlns:B="urn:ietf:params:xml:ns:caldav">BEGIN:VALARM&#13;
X-WR-ALARMUID:0C3C9E1A-6B0B-4C8F-9A32-6D1F0B0E5A11&#13;
UID:0C3C9E1A-6B0B-4C8F-9A32-6D1F0B0E5A11&#13;
TRIGGER:-PT15M&#13;
ATTACH;VALUE=URI:Chord&#13;
ACTION:AUDIO&#13;
END:VALARM&#13;
</B:default-alarm-vevent-datetime>
    </A:prop>
  </A:set>
  <A:set>
    <A:prop>
      <B:default-alarm-vevent-date xmlns:B="urn:ietf:params:xml:ns:caldav">BEGIN:VALARM&#13;
X-WR-ALARMUID:5E0B2C9D-1A7F-4E36-8B4C-2F9D6A1C3E77&#13;
UID:5E0B2C9D-1A7F-4E36-8B4C-2F9D6A1C3E77&#13;
TRIGGER;VALUE=DURATION:-PT15H&#13;
ATTACH;VALUE=URI:Chord&#13;
ACTION:AUDIO&#13;
END:VALARM&#13;
</B:default-alarm-vevent-date>
    </A:prop>
  </A:set>
</A:propertyupdate>
`

	// 3.3: poll.
	iosPoll = `<?xml version="1.0" encoding="UTF-8"?>
<A:propfind xmlns:A="DAV:">
  <A:prop>
    <C:getctag xmlns:C="http://calendarserver.org/ns/"/>
    <A:sync-token/>
  </A:prop>
</A:propfind>
`

	// 3.3: sync mode, no sync-level; %s is the token.
	iosSyncCollection = `<?xml version="1.0" encoding="UTF-8"?>
<A:sync-collection xmlns:A="DAV:">
  <A:sync-token>%s</A:sync-token>
  <A:prop>
    <A:getetag/>
    <A:getcontenttype/>
  </A:prop>
</A:sync-collection>
`

	// 3.3: macOS poll_calendarhome_sync on the home (Depth 1).
	iosHomeSync = `<?xml version="1.0" encoding="UTF-8"?>
<A:sync-collection xmlns:A="DAV:">
  <A:sync-token></A:sync-token>
  <A:sync-level>1</A:sync-level>
  <A:prop>
    <A:displayname/>
    <A:resourcetype/>
    <C:getctag xmlns:C="http://calendarserver.org/ns/"/>
    <A:sync-token/>
  </A:prop>
</A:sync-collection>
`

	// 3.3: non-sync mode (iOS 5 style), events a month back, no end; %s is
	// the start.
	iosEventQuery = `<?xml version="1.0" encoding="UTF-8"?>
<B:calendar-query xmlns:B="urn:ietf:params:xml:ns:caldav">
  <A:prop xmlns:A="DAV:">
    <A:getetag/>
    <A:getcontenttype/>
  </A:prop>
  <B:filter>
    <B:comp-filter name="VCALENDAR">
      <B:comp-filter name="VEVENT">
        <B:time-range start="%s"/>
      </B:comp-filter>
    </B:comp-filter>
  </B:filter>
</B:calendar-query>
`

	// 3.3: download; %s is the list of hrefs.
	iosCalMultiget = `<?xml version="1.0" encoding="UTF-8"?>
<B:calendar-multiget xmlns:B="urn:ietf:params:xml:ns:caldav">
  <A:prop xmlns:A="DAV:">
    <A:getetag/>
    <B:calendar-data/>
    <B:schedule-tag/>
  </A:prop>
%s</B:calendar-multiget>
`

	// 3.4 step 2.
	iosPrincipalCardDAV = `<?xml version="1.0" encoding="UTF-8"?>
<A:propfind xmlns:A="DAV:">
  <A:prop>
    <B:addressbook-home-set xmlns:B="urn:ietf:params:xml:ns:carddav"/>
    <B:directory-gateway xmlns:B="urn:ietf:params:xml:ns:carddav"/>
    <A:displayname/>
    <C:email-address-set xmlns:C="http://calendarserver.org/ns/"/>
    <A:principal-collection-set/>
    <A:principal-URL/>
    <A:resource-id/>
    <A:supported-report-set/>
  </A:prop>
</A:propfind>
`

	// 3.4 step 3.
	iosBookHome = `<?xml version="1.0" encoding="UTF-8"?>
<A:propfind xmlns:A="DAV:">
  <A:prop>
    <A:add-member/>
    <E:bulk-requests xmlns:E="http://me.com/_namespace/"/>
    <A:current-user-privilege-set/>
    <A:displayname/>
    <B:max-image-size xmlns:B="urn:ietf:params:xml:ns:carddav"/>
    <B:max-resource-size xmlns:B="urn:ietf:params:xml:ns:carddav"/>
    <C:me-card xmlns:C="http://calendarserver.org/ns/"/>
    <A:owner/>
    <C:push-transports xmlns:C="http://calendarserver.org/ns/"/>
    <C:pushkey xmlns:C="http://calendarserver.org/ns/"/>
    <A:quota-available-bytes/>
    <A:quota-used-bytes/>
    <A:resource-id/>
    <A:resourcetype/>
    <A:supported-report-set/>
    <A:sync-token/>
  </A:prop>
</A:propfind>
`

	// 3.4 step 7: the "Me" card; %s is the card's href.
	iosMeCard = `<?xml version="1.0" encoding="UTF-8"?>
<A:propertyupdate xmlns:A="DAV:">
  <A:set>
    <A:prop>
      <C:me-card xmlns:C="http://calendarserver.org/ns/">
        <A:href>%s</A:href>
      </C:me-card>
    </A:prop>
  </A:set>
</A:propertyupdate>
`

	// 3.4 step 7: reading it back.
	iosMeCardFind = `<?xml version="1.0" encoding="UTF-8"?>
<A:propfind xmlns:A="DAV:">
  <A:prop>
    <C:me-card xmlns:C="http://calendarserver.org/ns/"/>
  </A:prop>
</A:propfind>
`

	// 3.4 step 5: download; %s is the list of hrefs.
	iosCardMultiget = `<?xml version="1.0" encoding="UTF-8"?>
<B:addressbook-multiget xmlns:B="urn:ietf:params:xml:ns:carddav">
  <A:prop xmlns:A="DAV:">
    <A:getetag/>
    <B:address-data/>
  </A:prop>
%s</B:addressbook-multiget>
`
)

// User-Agents of iOS during account setup and while syncing (3.1).
const (
	iosSetupUA = "iOS/18.1.1 (22B91) accountsd/1.0"
	iosSyncUA  = "iOS/18.1.1 (22B91) dataaccessd/1.0"
)

// ios returns the headers iOS sends on every request with the given
// User-Agent, then extra (3.1). Accept-Encoding is left to Go's transport,
// which decodes gzip as iOS does.
func ios(ua string, extra ...string) []string {
	return append([]string{"User-Agent", ua, "Accept", "*/*", "Accept-Language", "en-GB,en;q=0.9", "Connection", "keep-alive"}, extra...)
}

// iosPropfind returns iOS's PROPFIND headers: Brief, Prefer and text/xml (3.1).
func iosPropfind(ua, depth string) []string {
	return ios(ua, "Depth", depth, "Brief", "t", "Prefer", "return=minimal", "Content-Type", "text/xml")
}

// iosXML returns iOS's headers for REPORT, PROPPATCH and MKCALENDAR bodies.
func iosXML(ua string, extra ...string) []string {
	return ios(ua, append([]string{"Content-Type", "text/xml"}, extra...)...)
}

// iosHrefs renders Apple's multiget hrefs, each declaring its namespace.
func iosHrefs(hrefs ...string) string {
	var b strings.Builder
	for _, h := range hrefs {
		b.WriteString(`  <A:href xmlns:A="DAV:">` + h + "</A:href>\n")
	}
	return b.String()
}

// appleEvent is an event as iOS Calendar writes it: VTIMEZONE, X-APPLE-*
// properties, no charset on the way in.
func appleEvent(uid, summary string) string {
	return crlf(`
BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Apple Inc.//iPhone OS 18.1.1//EN
CALSCALE:GREGORIAN
BEGIN:VTIMEZONE
TZID:Europe/Berlin
BEGIN:DAYLIGHT
TZOFFSETFROM:+0100
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
DTSTART:19810329T020000
TZNAME:CEST
TZOFFSETTO:+0200
END:DAYLIGHT
BEGIN:STANDARD
TZOFFSETFROM:+0200
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
DTSTART:19961027T030000
TZNAME:CET
TZOFFSETTO:+0100
END:STANDARD
END:VTIMEZONE
BEGIN:VEVENT
CREATED:20261115T091500Z
UID:` + uid + `
DTEND;TZID=Europe/Berlin:20261203T130000
TRANSP:OPAQUE
X-APPLE-TRAVEL-ADVISORY-BEHAVIOR:AUTOMATIC
SUMMARY:` + summary + `
LAST-MODIFIED:20261115T091500Z
DTSTAMP:20261115T091500Z
DTSTART;TZID=Europe/Berlin:20261203T120000
SEQUENCE:0
X-APPLE-CREATOR-IDENTITY:com.apple.mobilecal
END:VEVENT
END:VCALENDAR
`)
}

// TestClientIOS replays iOS and macOS Calendar and Contacts: account setup
// from a bare host, calendar creation, the first-poll PROPPATCHes, the
// "Me" card, sync-collection sync, conflicts and deletions (clients.md
// section 3), and checks every point of section 1 they rely on.
func TestClientIOS(t *testing.T) {
	s := startServer(t, "")
	const user, pass = "ivy", "ivy-password-ios"
	addUser(t, s.data, user, pass)
	anon := s.anonymous(t)
	dev := s.client(t, user, pass)
	other := s.client(t, user, pass) // a second device of the same user
	principal := "/dav/principals/" + user + "/"
	calHome := "/dav/calendars/" + user + "/"
	bookHome := "/dav/addressbooks/" + user + "/"
	cal := calHome + "calendar/"
	tasks := calHome + "tasks/"
	book := bookHome + "contacts/"
	family := calHome + "9E7A3C1B-5D2F-4B8E-A6C4-0F1D2E3B4A59/"

	// CalDAV account setup (3.2), then Contacts (3.4); both start without
	// credentials.
	for _, svc := range []struct{ name, wellKnown, token string }{
		{"caldav-setup", "/.well-known/caldav", "calendar-access"},
		{"contacts-setup", "/.well-known/carddav", "addressbook"},
	} {
		t.Run(svc.name+"/well-known-unauthenticated", func(t *testing.T) {
			// Section 1.1: the redirect needs no credentials; the target asks for them.
			c := anon.in(t)
			assertRedirectKeepsMethod(t, c.do("PROPFIND", svc.wellKnown, iosWellKnown, iosPropfind(iosSetupUA, "0")...))
			assertUnauthorized(t, c.do("PROPFIND", "/dav/", iosWellKnown, iosPropfind(iosSetupUA, "0")...))
		})
		t.Run(svc.name+"/well-known", func(t *testing.T) {
			c := dev.in(t)
			assertRedirectKeepsMethod(t, c.do("PROPFIND", svc.wellKnown, iosWellKnown, iosPropfind(iosSetupUA, "0")...))
			rs := assertMultistatus(t, c.do("PROPFIND", "/dav/", iosWellKnown, iosPropfind(iosSetupUA, "0")...))
			if got := mustHref(t, rs, "/dav/").ok(nsD, "current-user-principal").hrefTexts(); len(got) != 1 || got[0] != principal {
				t.Errorf("current-user-principal %v, want %s", got, principal)
			}
		})
		t.Run(svc.name+"/fallback-root", func(t *testing.T) {
			// Section 1.1: iOS falls back to PROPFIND /.
			rs := assertMultistatus(t, dev.in(t).do("PROPFIND", "/", iosWellKnown, iosPropfind(iosSetupUA, "0")...))
			if got := mustHref(t, rs, "/").ok(nsD, "current-user-principal").hrefTexts(); len(got) != 1 || got[0] != principal {
				t.Errorf("current-user-principal %v, want %s", got, principal)
			}
		})
		t.Run(svc.name+"/options-principal", func(t *testing.T) {
			// 3.2 step 2, 3.4 step 1: the principal needs an OPTIONS route.
			r := dev.in(t).do("OPTIONS", principal, "", ios(iosSetupUA)...)
			assertDAVHeader(t, r)
			if !strings.Contains(r.Header.Get("DAV"), svc.token) {
				t.Errorf("DAV: %q lacks %s", r.Header.Get("DAV"), svc.token)
			}
		})
	}
	t.Run("caldav-setup/principal", func(t *testing.T) {
		// 3.2 step 3, section 1.1, Q4.
		rs := assertMultistatus(t, dev.in(t).do("PROPFIND", principal, iosPrincipalCalDAV, iosPropfind(iosSetupUA, "0")...))
		r := firstResponse(t, rs)
		if len(rs) != 1 || r.Href != principal {
			t.Fatalf("%d responses (first %q), want one for exactly the request path %s with its slash (Q4)", len(rs), r.Href, principal)
		}
		assertFirstStatusOK(t, r)
		if got := r.ok(nsC, "calendar-home-set").hrefTexts(); len(got) != 1 || got[0] != calHome {
			t.Errorf("calendar-home-set %v, want %s (Q4)", got, calHome)
		}
		if got := r.ok(nsD, "principal-URL").hrefTexts(); len(got) != 1 || got[0] != principal {
			t.Errorf("principal-URL %v, want %s (Q4)", got, principal)
		}
		if got := r.ok(nsD, "current-user-principal").hrefTexts(); len(got) != 1 || got[0] != principal {
			t.Errorf("current-user-principal %v", got)
		}
		if got := r.ok(nsC, "calendar-user-address-set").hrefTexts(); len(got) == 0 || got[0] != "mailto:"+user+"@example.org" {
			t.Errorf("calendar-user-address-set %v, want mailto:%s@example.org first (Q4)", got, user)
		}
		if r.ok(nsD, "displayname").trimmed() == "" {
			t.Errorf("no displayname")
		}
		if len(r.ok(nsD, "principal-collection-set").hrefTexts()) == 0 {
			t.Errorf("no principal-collection-set")
		}
		if r.ok(nsD, "supported-report-set") == nil {
			t.Errorf("no supported-report-set")
		}
	})
	t.Run("caldav-setup/calendar-home", func(t *testing.T) {
		// 3.2 step 5, section 1.2, Q5.
		rs := assertMultistatus(t, dev.in(t).do("PROPFIND", calHome, iosCalendarHome, iosPropfind(iosSetupUA, "1")...))
		assertAbsolutePathHrefs(t, rs, calHome)
		assertListingHasResourcetype(t, rs)
		assertReports(t, mustHref(t, rs, calHome), "sync-collection") // Q5
		for _, href := range []string{cal, tasks} {
			r := mustHref(t, rs, href)
			assertFirstStatusOK(t, r)
			if r.ok(nsD, "resourcetype").child(nsC, "calendar") == nil {
				t.Errorf("%s: resourcetype lacks C:calendar", href)
			}
			assertWritable(t, r) // a read-only set makes iOS ignore it
			assertReports(t, r, "sync-collection", "calendar-multiget", "calendar-query")
			if r.ok(nsD, "displayname").trimmed() == "" {
				t.Errorf("%s: no displayname", href)
			}
			if got := r.ok(nsD, "owner").hrefTexts(); len(got) != 1 || got[0] != principal {
				t.Errorf("%s: owner %v", href, got)
			}
			if len(componentNames(r.ok(nsC, "supported-calendar-component-set"))) == 0 {
				t.Errorf("%s: no supported-calendar-component-set", href)
			}
			assertSyncToken(t, r.ok(nsD, "sync-token").trimmed())
			if r.ok(nsCS, "getctag").trimmed() == "" {
				t.Errorf("%s: no CS:getctag", href)
			}
		}
	})
	t.Run("caldav-setup/calendar-home-apple-properties", func(t *testing.T) {
		// Section 1.2: "Calendars also need ... A:calendar-color, A:calendar-order,
		// C:calendar-description, C:calendar-timezone", all of which iOS asks for.
		rs := assertMultistatus(t, dev.in(t).do("PROPFIND", calHome, iosCalendarHome, iosPropfind(iosSetupUA, "1")...))
		for _, href := range []string{cal, tasks} {
			r := mustHref(t, rs, href)
			for _, p := range []struct{ space, local string }{{nsA, "calendar-color"}, {nsA, "calendar-order"}, {nsC, "calendar-description"}, {nsC, "calendar-timezone"}} {
				if r.ok(p.space, p.local) == nil {
					t.Errorf("%s: no %s in a 200 propstat (section 1.2)", href, p.local)
				}
			}
			if c := r.ok(nsA, "calendar-color"); c != nil && !colorPattern.MatchString(c.trimmed()) {
				t.Errorf("%s: calendar-color %q is not #RRGGBB[AA]", href, c.trimmed())
			}
		}
	})
	t.Run("caldav-setup/mkcalendar", func(t *testing.T) {
		// 3.2 step 7: 201, and every property stored, symbolic-color kept
		// (section 1.3).
		c := dev.in(t)
		r := c.do("MKCALENDAR", family, iosMkcalendar, iosXML(iosSetupUA)...)
		if r.Status != 201 {
			t.Fatalf("MKCALENDAR: %d, want 201\n%s", r.Status, r.Body)
		}
		rs := assertMultistatus(t, c.do("PROPFIND", family, iosCalendarHome, iosPropfind(iosSetupUA, "0")...))
		m := mustHref(t, rs, family)
		color := m.ok(nsA, "calendar-color")
		if color.trimmed() != "#1BADF8FF" || color.attr("symbolic-color") != "custom" {
			t.Errorf("calendar-color %q symbolic-color=%q, want #1BADF8FF custom", color.trimmed(), color.attr("symbolic-color"))
		}
		if got := m.ok(nsA, "calendar-order").trimmed(); got != "2" {
			t.Errorf("calendar-order %q, want 2", got)
		}
		if got := m.ok(nsD, "displayname").trimmed(); got != "Family" {
			t.Errorf("displayname %q", got)
		}
		if got := strings.Join(componentNames(m.ok(nsC, "supported-calendar-component-set")), ","); got != "VEVENT" {
			t.Errorf("supported-calendar-component-set %q", got)
		}
		if m.ok(nsC, "schedule-calendar-transp").child(nsC, "opaque") == nil {
			t.Errorf("schedule-calendar-transp is not opaque")
		}
		if tz := m.ok(nsC, "calendar-timezone").raw(); !strings.Contains(tz, "TZID:Europe/Berlin\r\n") {
			t.Errorf("calendar-timezone lost its VTIMEZONE or its CRLF line ends: %q", tz)
		}
	})
	t.Run("caldav-poll/proppatch-calendar", func(t *testing.T) {
		// 3.2 step 6, section 1.3: one 200 propstat per property, stored.
		c := dev.in(t)
		rs := assertMultistatus(t, c.do("PROPPATCH", cal, iosProppatchCalendar, iosXML(iosSyncUA)...))
		r := mustHref(t, rs, cal)
		for _, p := range []struct{ space, local string }{{nsA, "calendar-color"}, {nsA, "calendar-order"}, {nsD, "displayname"}, {nsC, "schedule-calendar-transp"}, {nsC, "calendar-timezone"}} {
			if r.ok(p.space, p.local) == nil {
				t.Errorf("PROPPATCH: no 200 propstat for %s", p.local)
			}
		}
		m := mustHref(t, assertMultistatus(t, c.do("PROPFIND", cal, iosCalendarHome, iosPropfind(iosSyncUA, "0")...)), cal)
		if color := m.ok(nsA, "calendar-color"); color.trimmed() != "#FD8208FF" || color.attr("symbolic-color") != "orange" {
			t.Errorf("calendar-color %q symbolic-color=%q, want #FD8208FF orange", color.trimmed(), color.attr("symbolic-color"))
		}
		if got := m.ok(nsA, "calendar-order").trimmed(); got != "1" {
			t.Errorf("calendar-order %q, want 1", got)
		}
		if got := m.ok(nsD, "displayname").trimmed(); got != "Personal" {
			t.Errorf("displayname %q, want Personal", got)
		}
		if m.ok(nsC, "schedule-calendar-transp").child(nsC, "transparent") == nil {
			t.Errorf("schedule-calendar-transp is not transparent")
		}
	})
	t.Run("caldav-poll/proppatch-home-default-alarms", func(t *testing.T) {
		// 3.2 step 6: "On the home: C:default-alarm-vevent-date / -datetime";
		// each property must get a 200 propstat (section 1.3).
		c := dev.in(t)
		r := c.do("PROPPATCH", calHome, iosProppatchHome, iosXML(iosSyncUA)...)
		rs := assertMultistatus(t, r)
		m := mustHref(t, rs, calHome)
		var missing []string
		for _, local := range []string{"default-alarm-vevent-datetime", "default-alarm-vevent-date"} {
			if m.ok(nsC, local) == nil {
				missing = append(missing, local)
			}
		}
		if len(missing) > 0 {
			t.Errorf("PROPPATCH %s: no 200 propstat for %v:\n%s", calHome, missing, r.Body)
		}
		got := mustHref(t, assertMultistatus(t, c.do("PROPFIND", calHome, iosCalendarHome, iosPropfind(iosSyncUA, "0")...)), calHome)
		if a := got.ok(nsC, "default-alarm-vevent-datetime").raw(); !strings.Contains(a, "TRIGGER:-PT15M") {
			t.Errorf("default-alarm-vevent-datetime not stored: %q", a)
		}
	})

	// Calendar sync (3.3).
	pre := map[string]string{ // written by another device before the first sync
		cal + "0A1B2C3D-0000-4000-8000-00000000000A.ics": appleEvent("0A1B2C3D-0000-4000-8000-00000000000A", "Pre A"),
		cal + "0A1B2C3D-0000-4000-8000-00000000000C.ics": appleEvent("0A1B2C3D-0000-4000-8000-00000000000C", "Pre C"),
		cal + "0A1B2C3D-0000-4000-8000-00000000000D.ics": appleEvent("0A1B2C3D-0000-4000-8000-00000000000D", "Pre D"),
	}
	evA := cal + "0A1B2C3D-0000-4000-8000-00000000000A.ics"
	evC := cal + "0A1B2C3D-0000-4000-8000-00000000000C.ics"
	evD := cal + "0A1B2C3D-0000-4000-8000-00000000000D.ics"
	evB := cal + "5F3E2D1C-7B6A-4987-8A5B-4C3D2E1F0A9B.ics"
	etags := map[string]string{}
	var calToken, calCtag string
	t.Run("caldav-sync/poll", func(t *testing.T) {
		// 3.3: getctag and sync-token; while nothing changes they stay the same
		// and iOS does nothing more.
		c := dev.in(t)
		first := mustHref(t, assertMultistatus(t, c.do("PROPFIND", cal, iosPoll, iosPropfind(iosSyncUA, "0")...)), cal)
		calCtag, calToken = first.ok(nsCS, "getctag").trimmed(), first.ok(nsD, "sync-token").trimmed()
		if calCtag == "" {
			t.Errorf("no CS:getctag")
		}
		assertSyncToken(t, calToken)
		again := mustHref(t, assertMultistatus(t, c.do("PROPFIND", cal, iosPoll, iosPropfind(iosSyncUA, "0")...)), cal)
		if again.ok(nsCS, "getctag").trimmed() != calCtag || again.ok(nsD, "sync-token").trimmed() != calToken {
			t.Errorf("getctag/sync-token changed without a change")
		}
	})
	t.Run("caldav-sync/other-device-writes", func(t *testing.T) {
		for href, body := range pre {
			etags[href] = other.in(t).must(201, "PUT", href, body, "Content-Type", "text/calendar").Header.Get("ETag")
		}
	})
	var token string
	t.Run("caldav-sync/initial", func(t *testing.T) {
		// 3.3 sync mode: Depth 1, no sync-level (Q11), empty token.
		r := dev.in(t).do("REPORT", cal, fmt.Sprintf(iosSyncCollection, ""), iosXML(iosSyncUA, "Depth", "1")...)
		rs := assertMultistatus(t, r)
		assertAbsolutePathHrefs(t, rs, cal)
		d := assertSyncDelta(t, rs, cal, []string{evA, evC, evD}, nil)
		for href, m := range d.changed {
			if ct := m.ok(nsD, "getcontenttype").trimmed(); !strings.HasPrefix(ct, "text/calendar") {
				t.Errorf("%s: getcontenttype %q", href, ct)
			}
			if got := m.ok(nsD, "getetag").trimmed(); got != etags[href] {
				t.Errorf("%s: getetag %q, PUT gave %q", href, got, etags[href])
			}
		}
		token = topSyncToken(t, r.Body)
		assertSyncToken(t, token)
	})
	t.Run("caldav-sync/multiget", func(t *testing.T) {
		// 3.3 download: no Depth header, hrefs are paths.
		rs := assertMultistatus(t, dev.in(t).do("REPORT", cal, fmt.Sprintf(iosCalMultiget, iosHrefs(evA, evC, evD)), iosXML(iosSyncUA)...))
		for _, href := range []string{evA, evC, evD} {
			m := mustHref(t, rs, href)
			if got := m.ok(nsC, "calendar-data").raw(); got != pre[href] {
				t.Errorf("%s: calendar-data is not what was PUT:\n%q", href, got)
			}
			if got := m.ok(nsD, "getetag").trimmed(); got == "" || got != etags[href] {
				t.Errorf("%s: getetag %q, want %q", href, got, etags[href])
			}
		}
	})
	t.Run("caldav-sync/put-create", func(t *testing.T) {
		// 3.3 create: text/calendar without charset; exactly 201 (Q23) and an
		// ETag, else iOS GETs it.
		r := dev.in(t).do("PUT", evB, appleEvent("5F3E2D1C-7B6A-4987-8A5B-4C3D2E1F0A9B", "Lunch"), ios(iosSyncUA, "Content-Type", "text/calendar")...)
		if r.Status != 201 {
			t.Fatalf("PUT: %d, want 201 (Q23)\n%s", r.Status, r.Body)
		}
		etags[evB] = assertStrongETag(t, r)
	})
	t.Run("caldav-sync/put-update", func(t *testing.T) {
		// 3.3 update: If-Match with the tag as received; exactly 204 (Q23).
		requires(t, "the new event's ETag", etags[evB])
		r := dev.in(t).do("PUT", evB, appleEvent("5F3E2D1C-7B6A-4987-8A5B-4C3D2E1F0A9B", "Lunch with Ann"), ios(iosSyncUA, "Content-Type", "text/calendar", "If-Match", etags[evB])...)
		if r.Status != 204 {
			t.Fatalf("PUT update: %d, want 204 (Q23)\n%s", r.Status, r.Body)
		}
		etags[evB+"#old"], etags[evB] = etags[evB], assertStrongETag(t, r)
	})
	t.Run("caldav-sync/other-device-changes", func(t *testing.T) {
		requires(t, "the other device's ETags", etags[evA], etags[evC])
		o := other.in(t)
		etags[evC] = o.must(204, "PUT", evC, appleEvent("0A1B2C3D-0000-4000-8000-00000000000C", "Pre C moved"), "Content-Type", "text/calendar", "If-Match", etags[evC]).Header.Get("ETag")
		o.must(204, "DELETE", evA, "", "If-Match", etags[evA])
	})
	t.Run("caldav-sync/poll-changed", func(t *testing.T) {
		requires(t, "the first poll's tokens", calToken, calCtag)
		rs := assertMultistatus(t, dev.in(t).do("PROPFIND", cal, iosPoll, iosPropfind(iosSyncUA, "0")...))
		r := mustHref(t, rs, cal)
		if r.ok(nsCS, "getctag").trimmed() == calCtag || r.ok(nsD, "sync-token").trimmed() == calToken {
			t.Errorf("getctag %q / sync-token %q did not change (section 1.5)", r.ok(nsCS, "getctag").trimmed(), r.ok(nsD, "sync-token").trimmed())
		}
	})
	t.Run("caldav-sync/incremental", func(t *testing.T) {
		// 3.3: changed items with 2xx and getetag, deleted ones 404; the
		// untouched D is not reported.
		requires(t, "the initial token", token)
		r := dev.in(t).do("REPORT", cal, fmt.Sprintf(iosSyncCollection, token), iosXML(iosSyncUA, "Depth", "1")...)
		d := assertSyncDelta(t, assertMultistatus(t, r), cal, []string{evB, evC}, []string{evA})
		if m, ok := d.changed[evC]; ok && m.ok(nsD, "getetag").trimmed() != etags[evC] {
			t.Errorf("%s: getetag %q, PUT gave %q", evC, m.ok(nsD, "getetag").trimmed(), etags[evC])
		}
		next := topSyncToken(t, r.Body)
		assertSyncToken(t, next)
		if next == token {
			t.Errorf("sync-token did not change")
		}
	})
	t.Run("caldav-sync/conflict", func(t *testing.T) {
		// 3.3 update: 412 on a conflict.
		requires(t, "the first ETag of the new event", etags[evB+"#old"])
		dev.in(t).must(412, "PUT", evB, appleEvent("5F3E2D1C-7B6A-4987-8A5B-4C3D2E1F0A9B", "Lost edit"), ios(iosSyncUA, "Content-Type", "text/calendar", "If-Match", etags[evB+"#old"])...)
	})
	t.Run("caldav-sync/delete", func(t *testing.T) {
		// 3.3 delete: 204 (Q23), then 404.
		c := dev.in(t)
		c.must(204, "DELETE", evB, "", ios(iosSyncUA)...)
		c.must(404, "DELETE", evB, "", ios(iosSyncUA)...)
	})
	t.Run("caldav-sync/move-between-calendars", func(t *testing.T) {
		// 3.3: a move is DELETE + PUT; the UID may then live in the other calendar.
		c := dev.in(t)
		c.must(204, "DELETE", evD, "", ios(iosSyncUA)...)
		etag := assertStrongETag(t, c.must(201, "PUT", family+"0A1B2C3D-0000-4000-8000-00000000000D.ics", pre[evD], ios(iosSyncUA, "Content-Type", "text/calendar")...))
		if got := c.propOf(t, family+"0A1B2C3D-0000-4000-8000-00000000000D.ics", "getetag"); got != etag {
			t.Errorf("getetag %q, PUT gave %q", got, etag)
		}
	})
	t.Run("caldav-sync/invalid-token", func(t *testing.T) {
		// 3.3: on 403 Apple repeats with an empty token and drops what is not reported.
		c := dev.in(t)
		assertValidSyncTokenError(t, c.do("REPORT", cal, fmt.Sprintf(iosSyncCollection, "http://coffer.invalid/ns/sync/999999999"), iosXML(iosSyncUA, "Depth", "1")...))
		r := c.do("REPORT", cal, fmt.Sprintf(iosSyncCollection, ""), iosXML(iosSyncUA, "Depth", "1")...)
		assertSyncDelta(t, assertMultistatus(t, r), cal, []string{evC}, nil)
	})
	t.Run("caldav-sync/home-sync-collection", func(t *testing.T) {
		// 3.3: macOS may run sync-collection on the home, Depth 1, to learn
		// which calendars changed.
		r := dev.in(t).do("REPORT", calHome, iosHomeSync, iosXML(iosSyncUA, "Depth", "1")...)
		rs := assertMultistatus(t, r)
		assertSyncToken(t, topSyncToken(t, r.Body))
		for _, href := range []string{cal, tasks, family} {
			if mustHref(t, rs, href).ok(nsCS, "getctag").trimmed() == "" {
				t.Errorf("%s: no getctag", href)
			}
		}
	})
	t.Run("caldav-sync/non-sync-mode-query", func(t *testing.T) {
		// 3.3 non-sync mode, Q18: a month back, no end.
		start := davTime(time.Now().AddDate(0, -1, 0).Truncate(24 * time.Hour))
		rs := assertMultistatus(t, dev.in(t).do("REPORT", cal, fmt.Sprintf(iosEventQuery, start), iosXML(iosSyncUA, "Depth", "1")...))
		m := mustHref(t, rs, evC)
		if ct := m.ok(nsD, "getcontenttype").trimmed(); !strings.HasPrefix(ct, "text/calendar") || m.ok(nsD, "getetag") == nil {
			t.Errorf("%s: getcontenttype %q, getetag %v", evC, ct, m.ok(nsD, "getetag"))
		}
	})
	t.Run("caldav-sync/no-trailing-slash", func(t *testing.T) {
		// Q25.
		r := dev.in(t).do("PROPFIND", strings.TrimSuffix(cal, "/"), iosPoll, iosPropfind(iosSyncUA, "0")...)
		if rs := assertMultistatus(t, r); len(rs) != 1 || rs[0].Href != cal {
			t.Errorf("hrefs %v, want [%s]", hrefs(t, r.Body), cal)
		}
	})

	// Contacts (3.4).
	t.Run("contacts-setup/principal", func(t *testing.T) {
		rs := assertMultistatus(t, dev.in(t).do("PROPFIND", principal, iosPrincipalCardDAV, iosPropfind(iosSetupUA, "0")...))
		r := mustHref(t, rs, principal)
		assertFirstStatusOK(t, r)
		if got := r.ok(nsCR, "addressbook-home-set").hrefTexts(); len(got) != 1 || got[0] != bookHome {
			t.Errorf("addressbook-home-set %v, want %s", got, bookHome)
		}
		if got := r.ok(nsD, "principal-URL").hrefTexts(); len(got) != 1 || got[0] != principal {
			t.Errorf("principal-URL %v", got)
		}
	})
	t.Run("contacts-setup/addressbook-home", func(t *testing.T) {
		// 3.4 step 3, Q6: the provisioned book is the first one listed.
		rs := assertMultistatus(t, dev.in(t).do("PROPFIND", bookHome, iosBookHome, iosPropfind(iosSetupUA, "1")...))
		assertAbsolutePathHrefs(t, rs, bookHome)
		assertListingHasResourcetype(t, rs)
		var books []string
		for _, r := range rs {
			if r.ok(nsD, "resourcetype").child(nsCR, "addressbook") != nil {
				books = append(books, r.Href)
			}
		}
		if len(books) == 0 || books[0] != book {
			t.Fatalf("address books %v, want %s first (Q6)", books, book)
		}
		r := mustHref(t, rs, book)
		assertWritable(t, r)
		assertReports(t, r, "sync-collection", "addressbook-multiget")
		assertSyncToken(t, r.ok(nsD, "sync-token").trimmed())
	})
	meCard := book + "7D9C1E2A-3B4F-4A6C-8D1E-9F0A2B3C4D5E.vcf"
	cardEtags := map[string]string{}
	t.Run("contacts-sync/put-create", func(t *testing.T) {
		// 3.4 step 6: text/vcard, vCard 3.0, 201 (Q23).
		r := dev.in(t).do("PUT", meCard, contact3("7D9C1E2A-3B4F-4A6C-8D1E-9F0A2B3C4D5E", "Ivy Example"), ios(iosSyncUA, "Content-Type", "text/vcard")...)
		if r.Status != 201 {
			t.Fatalf("PUT: %d, want 201\n%s", r.Status, r.Body)
		}
		cardEtags[meCard] = assertStrongETag(t, r)
	})
	t.Run("contacts-setup/me-card", func(t *testing.T) {
		// 3.4 step 7, Q6: PROPPATCH me-card on the home is stored (a failure
		// may crash macOS Contacts).
		c := dev.in(t)
		r := c.do("PROPPATCH", bookHome, fmt.Sprintf(iosMeCard, meCard), iosXML("Mac OS X/10.11.2 (15C31f) AddressBook/1679.3")...)
		rs := assertMultistatus(t, r)
		if mustHref(t, rs, bookHome).ok(nsCS, "me-card") == nil {
			t.Errorf("PROPPATCH me-card: no 200 propstat:\n%s", r.Body)
		}
		got := mustHref(t, assertMultistatus(t, c.do("PROPFIND", bookHome, iosMeCardFind, iosPropfind(iosSyncUA, "0")...)), bookHome)
		if hs := got.ok(nsCS, "me-card").hrefTexts(); len(hs) != 1 || hs[0] != meCard {
			t.Errorf("me-card %v, want %s", hs, meCard)
		}
	})
	var bookCtag, bookToken string
	t.Run("contacts-sync/poll", func(t *testing.T) {
		// 3.4 step 4, Q6: CS:getctag is required.
		rs := assertMultistatus(t, dev.in(t).do("PROPFIND", book, iosPoll, iosPropfind(iosSyncUA, "0")...))
		r := mustHref(t, rs, book)
		bookCtag = r.ok(nsCS, "getctag").trimmed()
		if bookCtag == "" {
			t.Errorf("no CS:getctag (Q6)")
		}
		assertSyncToken(t, r.ok(nsD, "sync-token").trimmed())
	})
	t.Run("contacts-sync/initial", func(t *testing.T) {
		r := dev.in(t).do("REPORT", book, fmt.Sprintf(iosSyncCollection, ""), iosXML(iosSyncUA, "Depth", "1")...)
		d := assertSyncDelta(t, assertMultistatus(t, r), book, []string{meCard}, nil)
		if m, ok := d.changed[meCard]; ok && m.ok(nsD, "getetag").trimmed() != cardEtags[meCard] {
			t.Errorf("getetag %q, PUT gave %q", m.ok(nsD, "getetag").trimmed(), cardEtags[meCard])
		}
		bookToken = topSyncToken(t, r.Body)
		assertSyncToken(t, bookToken)
	})
	t.Run("contacts-sync/multiget", func(t *testing.T) {
		// 3.4 step 5, Q7: the vCard 3 comes back as stored, never as vCard 4.
		rs := assertMultistatus(t, dev.in(t).do("REPORT", book, fmt.Sprintf(iosCardMultiget, iosHrefs(meCard)), iosXML(iosSyncUA)...))
		m := mustHref(t, rs, meCard)
		if got := m.ok(nsCR, "address-data").raw(); got != contact3("7D9C1E2A-3B4F-4A6C-8D1E-9F0A2B3C4D5E", "Ivy Example") {
			t.Errorf("address-data is not the vCard 3 as PUT (Q7):\n%q", got)
		}
	})
	t.Run("contacts-sync/incremental", func(t *testing.T) {
		requires(t, "the initial token and ETag", bookToken, cardEtags[meCard], bookCtag)
		c := dev.in(t)
		gone := book + "1C2D3E4F-5A6B-4C7D-8E9F-0A1B2C3D4E5F.vcf"
		other.in(t).must(201, "PUT", gone, contact3("1C2D3E4F-5A6B-4C7D-8E9F-0A1B2C3D4E5F", "Temp"), "Content-Type", "text/vcard")
		other.in(t).must(204, "DELETE", gone, "")
		r := c.do("PUT", meCard, contact3("7D9C1E2A-3B4F-4A6C-8D1E-9F0A2B3C4D5E", "Ivy B. Example"), ios(iosSyncUA, "Content-Type", "text/vcard", "If-Match", cardEtags[meCard])...)
		if r.Status != 204 {
			t.Fatalf("update: %d, want 204 (Q23)", r.Status)
		}
		cardEtags[meCard+"#old"], cardEtags[meCard] = cardEtags[meCard], assertStrongETag(t, r)
		if got := c.propOfNS(t, book, nsCS, "getctag"); got == bookCtag {
			t.Errorf("getctag did not change (section 1.5)")
		}
		s := c.do("REPORT", book, fmt.Sprintf(iosSyncCollection, bookToken), iosXML(iosSyncUA, "Depth", "1")...)
		// A card created and deleted since the token is reported as deleted
		// or not at all; here the server's change log keeps the tombstone.
		rs := assertMultistatus(t, s)
		if _, found := byHref(rs, gone); found {
			assertSyncDelta(t, rs, book, []string{meCard}, []string{gone})
		} else {
			assertSyncDelta(t, rs, book, []string{meCard}, nil)
		}
	})
	t.Run("contacts-sync/conflict", func(t *testing.T) {
		requires(t, "the first ETag of the card", cardEtags[meCard+"#old"])
		dev.in(t).must(412, "PUT", meCard, contact3("7D9C1E2A-3B4F-4A6C-8D1E-9F0A2B3C4D5E", "Lost"), ios(iosSyncUA, "Content-Type", "text/vcard", "If-Match", cardEtags[meCard+"#old"])...)
	})
	t.Run("contacts-sync/delete", func(t *testing.T) {
		c := dev.in(t)
		c.must(204, "DELETE", meCard, "", ios(iosSyncUA)...)
		c.must(404, "DELETE", meCard, "", ios(iosSyncUA)...)
	})
}
