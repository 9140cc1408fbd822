package dav

// Request bodies as the clients send them (see ../shared/clients.md).
const (
	// Apple discovery, 3.2 step 1: prefix A: for DAV:.
	bodyApplePrincipal = `<?xml version="1.0" encoding="UTF-8"?>
<A:propfind xmlns:A="DAV:"><A:prop><A:current-user-principal/><A:principal-URL/><A:resourcetype/></A:prop></A:propfind>`

	// Apple principal PROPFIND, 3.2 step 3.
	bodyApplePrincipalProps = `<?xml version="1.0" encoding="UTF-8"?>
<A:propfind xmlns:A="DAV:"><A:prop>
<B:calendar-home-set xmlns:B="urn:ietf:params:xml:ns:caldav"/>
<B:calendar-user-address-set xmlns:B="urn:ietf:params:xml:ns:caldav"/>
<A:current-user-principal/><A:displayname/>
<C:dropbox-home-URL xmlns:C="http://calendarserver.org/ns/"/>
<C:email-address-set xmlns:C="http://calendarserver.org/ns/"/>
<C:notification-URL xmlns:C="http://calendarserver.org/ns/"/>
<A:principal-collection-set/><A:principal-URL/><A:resource-id/>
<B:schedule-inbox-URL xmlns:B="urn:ietf:params:xml:ns:caldav"/>
<B:schedule-outbox-URL xmlns:B="urn:ietf:params:xml:ns:caldav"/>
<A:supported-report-set/>
</A:prop></A:propfind>`

	// DAVx5 CalDAV discovery, 2.2 row 1: default namespace DAV:.
	bodyDAVx5CalDiscovery = `<?xml version='1.0' encoding='UTF-8' ?><propfind xmlns="DAV:" xmlns:CAL="urn:ietf:params:xml:ns:caldav" xmlns:CARD="urn:ietf:params:xml:ns:carddav"><prop><resourcetype /><displayname /><current-user-principal /><current-user-privilege-set /><CAL:calendar-home-set /><CAL:supported-calendar-component-set /><n0:calendar-color xmlns:n0="http://apple.com/ns/ical/" /><CAL:calendar-description /><CAL:calendar-timezone /></prop></propfind>`

	// DAVx5 principal address set, 2.2 row 5.
	bodyDAVx5AddressSet = `<?xml version='1.0' encoding='UTF-8' ?><propfind xmlns="DAV:" xmlns:CAL="urn:ietf:params:xml:ns:caldav"><prop><CAL:calendar-user-address-set /></prop></propfind>`

	// DAVx5 calendar home listing, 2.3.
	bodyDAVx5HomeList = `<?xml version='1.0' encoding='UTF-8' ?><propfind xmlns="DAV:" xmlns:CAL="urn:ietf:params:xml:ns:caldav" xmlns:CARD="urn:ietf:params:xml:ns:carddav"><prop><current-user-privilege-set /><displayname /><owner /><resourcetype /><n0:transports xmlns:n0="https://bitfire.at/webdav-push" /><n0:topic xmlns:n0="https://bitfire.at/webdav-push" /><n1:calendar-color xmlns:n1="http://apple.com/ns/ical/" /><CAL:calendar-description /><CAL:calendar-timezone /><CAL:calendar-timezone-id /><CAL:supported-calendar-component-set /><n2:source xmlns:n2="http://calendarserver.org/ns/" /></prop></propfind>`

	// DAVx5 capabilities, 2.5 step 1.
	bodyDAVx5Caps = `<?xml version='1.0' encoding='UTF-8' ?><propfind xmlns="DAV:" xmlns:CAL="urn:ietf:params:xml:ns:caldav" xmlns:CARD="urn:ietf:params:xml:ns:carddav"><prop><supported-report-set /><sync-token /><n0:getctag xmlns:n0="http://calendarserver.org/ns/" /><CAL:max-resource-size /><CARD:max-resource-size /><CARD:supported-address-data /></prop></propfind>`

	// Thunderbird calendar home listing, 4.2 handleHomeSet.
	bodyThunderbirdHome = `<?xml version="1.0" encoding="UTF-8"?>
<D:propfind xmlns:D="DAV:" xmlns:A="http://apple.com/ns/ical/"><D:prop><D:resourcetype/><D:displayname/><D:current-user-privilege-set/><A:calendar-color/></D:prop></D:propfind>`

	// Thunderbird CardDAV initial fetch, 4.5 step 2.
	bodyThunderbirdBook = `<propfind xmlns="DAV:" xmlns:cs="http://calendarserver.org/ns/"><prop><resourcetype/><getetag/><cs:getctag/></prop></propfind>`

	// Evolution discovery, 5 step 1.
	bodyEvolutionDiscovery = `<?xml version="1.0" encoding="utf-8"?>
<D:propfind xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns:A="urn:ietf:params:xml:ns:carddav"><D:prop><D:resourcetype/><D:current-user-principal/><D:principal-URL/><C:calendar-home-set/><C:calendar-user-address-set/><A:addressbook-home-set/></D:prop></D:propfind>`

	// Apple address-book home listing, 3.4 step 3.
	bodyAppleBookHome = `<?xml version="1.0" encoding="UTF-8"?>
<A:propfind xmlns:A="DAV:"><A:prop><A:add-member/><E:bulk-requests xmlns:E="http://me.com/_namespace/"/><A:current-user-privilege-set/><A:displayname/><B:max-image-size xmlns:B="urn:ietf:params:xml:ns:carddav"/><B:max-resource-size xmlns:B="urn:ietf:params:xml:ns:carddav"/><C:me-card xmlns:C="http://calendarserver.org/ns/"/><A:owner/><C:push-transports xmlns:C="http://calendarserver.org/ns/"/><C:pushkey xmlns:C="http://calendarserver.org/ns/"/><A:quota-available-bytes/><A:quota-used-bytes/><A:resource-id/><A:resourcetype/><A:supported-report-set/><A:sync-token/></A:prop></A:propfind>`

	// DAVx5 MKCALENDAR, 2.4.
	bodyDAVx5Mkcalendar = `<?xml version='1.0' encoding='UTF-8' ?><CAL:mkcalendar xmlns="DAV:" xmlns:CAL="urn:ietf:params:xml:ns:caldav" xmlns:CARD="urn:ietf:params:xml:ns:carddav"><set><prop><resourcetype><collection /><CAL:calendar /></resourcetype><displayname>Work</displayname><CAL:calendar-description>Work &amp; stuff</CAL:calendar-description><n0:calendar-color xmlns:n0="http://apple.com/ns/ical/">#FF0000FF</n0:calendar-color><CAL:calendar-timezone-id>Europe/Vienna</CAL:calendar-timezone-id><CAL:calendar-timezone>BEGIN:VCALENDAR
VERSION:2.0
PRODID:DAVx5/4.5.9-ose ical4j/3.2.19 (at.bitfire.davdroid)
BEGIN:VTIMEZONE
TZID:Europe/Vienna
LAST-MODIFIED:20240422T053450Z
TZURL:https://www.tzurl.org/zoneinfo-outlook/Europe/Vienna
X-LIC-LOCATION:Europe/Vienna
BEGIN:DAYLIGHT
TZNAME:CEST
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
DTSTART:19700329T020000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
END:DAYLIGHT
BEGIN:STANDARD
TZNAME:CET
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
DTSTART:19701025T030000
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
END:STANDARD
END:VTIMEZONE
END:VCALENDAR
</CAL:calendar-timezone><CAL:supported-calendar-component-set><CAL:comp name="VEVENT" /></CAL:supported-calendar-component-set></prop></set></CAL:mkcalendar>`

	// DAVx5 address-book MKCOL, 2.4.
	bodyDAVx5Mkcol = `<?xml version='1.0' encoding='UTF-8' ?><mkcol xmlns="DAV:" xmlns:CAL="urn:ietf:params:xml:ns:caldav" xmlns:CARD="urn:ietf:params:xml:ns:carddav"><set><prop><resourcetype><collection /><CARD:addressbook /></resourcetype><displayname>Friends</displayname><CARD:addressbook-description>Friends book</CARD:addressbook-description></prop></set></mkcol>`

	// Apple MKCALENDAR, 3.2 step 7.
	bodyAppleMkcalendar = `<?xml version="1.0" encoding="UTF-8"?>
<B:mkcalendar xmlns:B="urn:ietf:params:xml:ns:caldav"><A:set xmlns:A="DAV:"><A:prop>
<D:calendar-order xmlns:D="http://apple.com/ns/ical/">3</D:calendar-order>
<B:supported-calendar-component-set><B:comp name="VTODO"/></B:supported-calendar-component-set>
<D:calendar-color xmlns:D="http://apple.com/ns/ical/" symbolic-color="custom">#1BADF8FF</D:calendar-color>
<B:calendar-timezone>BEGIN:VCALENDAR&#13;
VERSION:2.0&#13;
PRODID:-//Apple Inc.//iOS 18.1//EN&#13;
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
<A:displayname>Reminders</A:displayname>
<B:schedule-calendar-transp><B:opaque/></B:schedule-calendar-transp>
</A:prop></A:set></B:mkcalendar>`

	// Apple PROPPATCH of colour and order, 3.2 step 6.
	bodyAppleProppatch = `<?xml version="1.0" encoding="UTF-8"?>
<A:propertyupdate xmlns:A="DAV:"><A:set><A:prop><D:calendar-color xmlns:D="http://apple.com/ns/ical/" symbolic-color="orange">#FD8208FF</D:calendar-color></A:prop></A:set><A:set><A:prop><D:calendar-order xmlns:D="http://apple.com/ns/ical/">1</D:calendar-order></A:prop></A:set></A:propertyupdate>`

	// Apple me-card PROPPATCH on the address-book home, 3.4 step 7.
	bodyAppleMeCard = `<?xml version="1.0" encoding="UTF-8"?>
<A:propertyupdate xmlns:A="DAV:"><A:set><A:prop><C:me-card xmlns:C="http://calendarserver.org/ns/"><A:href>/dav/addressbooks/alice/contacts/me.vcf</A:href></C:me-card></A:prop></A:set></A:propertyupdate>`

	// DAVx5 sync-collection, 2.5 step 7.
	bodyDAVx5Sync = `<?xml version='1.0' encoding='UTF-8' ?><sync-collection xmlns="DAV:"><sync-token>%s</sync-token><sync-level>1</sync-level><prop><getetag /><resourcetype /></prop></sync-collection>`

	// Apple sync-collection, 3.3: no sync-level.
	bodyAppleSync = `<?xml version="1.0" encoding="UTF-8"?>
<A:sync-collection xmlns:A="DAV:"><A:sync-token>%s</A:sync-token><A:prop><A:getetag/><A:getcontenttype/></A:prop></A:sync-collection>`

	// Thunderbird CardDAV sync, 4.5 step 3.
	bodyThunderbirdSync = `<sync-collection xmlns="DAV:" xmlns:card="urn:ietf:params:xml:ns:carddav"><sync-token>%s</sync-token><sync-level>1</sync-level><prop><getetag/><card:address-data/></prop></sync-collection>`

	// DAVx5 calendar-multiget, 2.5 step 8.
	bodyDAVx5CalMultiget = `<?xml version='1.0' encoding='UTF-8' ?><CAL:calendar-multiget xmlns="DAV:" xmlns:CAL="urn:ietf:params:xml:ns:caldav"><prop><getcontenttype /><getetag /><CAL:schedule-tag /><CAL:calendar-data /></prop>%s</CAL:calendar-multiget>`

	// Thunderbird addressbook-multiget, 4.5 step 2.
	bodyThunderbirdCardMultiget = `<card:addressbook-multiget xmlns:D="DAV:" xmlns:card="urn:ietf:params:xml:ns:carddav"><D:prop><D:getetag/><card:address-data/></D:prop>%s</card:addressbook-multiget>`

	// DAVx5 event listing, 2.5 step 6.
	bodyDAVx5CalQuery = `<?xml version='1.0' encoding='UTF-8' ?><CAL:calendar-query xmlns="DAV:" xmlns:CAL="urn:ietf:params:xml:ns:caldav"><prop><getetag /></prop><CAL:filter><CAL:comp-filter name="VCALENDAR"><CAL:comp-filter name="%s">%s</CAL:comp-filter></CAL:comp-filter></CAL:filter></CAL:calendar-query>`
)

// Objects as clients upload them.
const (
	icsEvent   = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Apple Inc.//iOS 18.1//EN\r\nBEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\nBEGIN:STANDARD\r\nDTSTART:19701025T030000\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\nBEGIN:VEVENT\r\nUID:ev1@example.org\r\nDTSTAMP:20250101T000000Z\r\nDTSTART;TZID=Europe/Berlin:20250301T100000\r\nSUMMARY:Lunch\\, with \"friends\" & <co>\r\nX-APPLE-TRAVEL-ADVISORY-BEHAVIOR:AUTOMATIC\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
	icsEventV2 = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:ev1@example.org\r\nDTSTAMP:20250101T000000Z\r\nDTSTART:20250301T100000Z\r\nSUMMARY:Lunch moved\r\nSEQUENCE:1\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
	icsOther   = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:other\r\nDTSTAMP:20250101T000000Z\r\nDTSTART:20250302T100000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
	icsTodo    = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VTODO\r\nUID:todo1\r\nDTSTAMP:20250101T000000Z\r\nSUMMARY:Buy milk\r\nRELATED-TO;RELTYPE=PARENT:todo0\r\nEND:VTODO\r\nEND:VCALENDAR\r\n"
	vcard3     = "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:card1\r\nFN:Jane Doe\r\nN:Doe;Jane;;;\r\nitem1.EMAIL;type=INTERNET:jane@example.org\r\nitem1.X-ABLabel:_$!<Other>!$_\r\nNOTE:a\\; b\\, c\r\nEND:VCARD\r\n"
	vcard4     = "BEGIN:VCARD\r\nVERSION:4.0\r\nUID:card2\r\nFN:John\r\nEND:VCARD\r\n"
)
