package integration_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coffer-dav/coffer/push"
)

// DAVx5 4.5.9 (dav4jvm) request bodies, clients.md section 2: default
// namespace DAV:, prefixes CAL and CARD, other namespaces as n0, n1, ...
const (
	// 2.2 row 1, CardDAV service.
	davx5FindCardDAV = `<?xml version='1.0' encoding='UTF-8' ?><propfind xmlns="DAV:" xmlns:CAL="urn:ietf:params:xml:ns:caldav" xmlns:CARD="urn:ietf:params:xml:ns:carddav"><prop><resourcetype /><displayname /><current-user-principal /><CARD:addressbook-home-set /><CARD:addressbook-description /></prop></propfind>`

	// 2.2 row 1, CalDAV service.
	davx5FindCalDAV = `<?xml version='1.0' encoding='UTF-8' ?><propfind xmlns="DAV:" xmlns:CAL="urn:ietf:params:xml:ns:caldav" xmlns:CARD="urn:ietf:params:xml:ns:carddav"><prop><resourcetype /><displayname /><current-user-principal /><current-user-privilege-set /><CAL:calendar-home-set /><CAL:supported-calendar-component-set /><n0:calendar-color xmlns:n0="http://apple.com/ns/ical/" /><CAL:calendar-description /><CAL:calendar-timezone /></prop></propfind>`

	// 2.2 row 2: the well-known fallback.
	davx5WellKnown = `<?xml version='1.0' encoding='UTF-8' ?><propfind xmlns="DAV:" xmlns:CAL="urn:ietf:params:xml:ns:caldav" xmlns:CARD="urn:ietf:params:xml:ns:carddav"><prop><current-user-principal /></prop></propfind>`

	// 2.2 row 5.
	davx5AddressSet = `<?xml version='1.0' encoding='UTF-8' ?><propfind xmlns="DAV:" xmlns:CAL="urn:ietf:params:xml:ns:caldav" xmlns:CARD="urn:ietf:params:xml:ns:carddav"><prop><CAL:calendar-user-address-set /></prop></propfind>`

	// 2.3: principal refresh, CardDAV.
	davx5PrincipalCardDAV = `<?xml version='1.0' encoding='UTF-8' ?><propfind xmlns="DAV:" xmlns:CAL="urn:ietf:params:xml:ns:caldav" xmlns:CARD="urn:ietf:params:xml:ns:carddav"><prop><displayname /><group-membership /><resourcetype /><CARD:addressbook-home-set /></prop></propfind>`

	// 2.3: principal refresh, CalDAV.
	davx5PrincipalCalDAV = `<?xml version='1.0' encoding='UTF-8' ?><propfind xmlns="DAV:" xmlns:CAL="urn:ietf:params:xml:ns:caldav" xmlns:CARD="urn:ietf:params:xml:ns:carddav"><prop><displayname /><group-membership /><resourcetype /><CAL:calendar-home-set /><n0:calendar-proxy-read-for xmlns:n0="http://calendarserver.org/ns/" /><n0:calendar-proxy-write-for xmlns:n0="http://calendarserver.org/ns/" /></prop></propfind>`

	// 2.3: address-book home listing.
	davx5BookHome = `<?xml version='1.0' encoding='UTF-8' ?><propfind xmlns="DAV:" xmlns:CAL="urn:ietf:params:xml:ns:caldav" xmlns:CARD="urn:ietf:params:xml:ns:carddav"><prop><current-user-privilege-set /><displayname /><owner /><resourcetype /><n0:transports xmlns:n0="https://bitfire.at/webdav-push" /><n0:topic xmlns:n0="https://bitfire.at/webdav-push" /><CARD:addressbook-description /></prop></propfind>`

	// 2.3: calendar home listing.
	davx5CalHome = `<?xml version='1.0' encoding='UTF-8' ?><propfind xmlns="DAV:" xmlns:CAL="urn:ietf:params:xml:ns:caldav" xmlns:CARD="urn:ietf:params:xml:ns:carddav"><prop><current-user-privilege-set /><displayname /><owner /><resourcetype /><n0:transports xmlns:n0="https://bitfire.at/webdav-push" /><n0:topic xmlns:n0="https://bitfire.at/webdav-push" /><n1:calendar-color xmlns:n1="http://apple.com/ns/ical/" /><CAL:calendar-description /><CAL:calendar-timezone /><CAL:calendar-timezone-id /><CAL:supported-calendar-component-set /><n2:source xmlns:n2="http://calendarserver.org/ns/" /></prop></propfind>`

	// 2.4: address book creation.
	davx5Mkcol = `<?xml version='1.0' encoding='UTF-8' ?><mkcol xmlns="DAV:" xmlns:CAL="urn:ietf:params:xml:ns:caldav" xmlns:CARD="urn:ietf:params:xml:ns:carddav"><set><prop><resourcetype><collection /><CARD:addressbook /></resourcetype><displayname>Family</displayname><CARD:addressbook-description>Family &amp; friends</CARD:addressbook-description></prop></set></mkcol>`

	// 2.4: calendar creation, resourcetype inside MKCALENDAR, timezone-id
	// and timezone both sent (Q26).
	davx5Mkcalendar = `<?xml version='1.0' encoding='UTF-8' ?><CAL:mkcalendar xmlns="DAV:" xmlns:CAL="urn:ietf:params:xml:ns:caldav" xmlns:CARD="urn:ietf:params:xml:ns:carddav"><set><prop><resourcetype><collection /><CAL:calendar /></resourcetype><displayname>Work</displayname><CAL:calendar-description>Work shifts</CAL:calendar-description><n0:calendar-color xmlns:n0="http://apple.com/ns/ical/">#4CAF50</n0:calendar-color><CAL:calendar-timezone-id>Europe/Vienna</CAL:calendar-timezone-id><CAL:calendar-timezone>BEGIN:VCALENDAR&#13;
VERSION:2.0&#13;
PRODID:DAVx5/4.5.9-ose ical4j/3.2.19 (at.bitfire.davdroid)&#13;
BEGIN:VTIMEZONE&#13;
TZID:Europe/Vienna&#13;
LAST-MODIFIED:20240422T053450Z&#13;
TZURL:https://www.tzurl.org/zoneinfo-outlook/Europe/Vienna&#13;
X-LIC-LOCATION:Europe/Vienna&#13;
BEGIN:DAYLIGHT&#13;
TZNAME:CEST&#13;
TZOFFSETFROM:+0100&#13;
TZOFFSETTO:+0200&#13;
DTSTART:19700329T020000&#13;
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU&#13;
END:DAYLIGHT&#13;
BEGIN:STANDARD&#13;
TZNAME:CET&#13;
TZOFFSETFROM:+0200&#13;
TZOFFSETTO:+0100&#13;
DTSTART:19701025T030000&#13;
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU&#13;
END:STANDARD&#13;
END:VTIMEZONE&#13;
END:VCALENDAR&#13;
</CAL:calendar-timezone><CAL:supported-calendar-component-set><CAL:comp name="VEVENT" /></CAL:supported-calendar-component-set></prop></set></CAL:mkcalendar>`

	// 2.5 step 1, CardDAV subset.
	davx5CapsCardDAV = `<?xml version='1.0' encoding='UTF-8' ?><propfind xmlns="DAV:" xmlns:CAL="urn:ietf:params:xml:ns:caldav" xmlns:CARD="urn:ietf:params:xml:ns:carddav"><prop><supported-report-set /><sync-token /><n0:getctag xmlns:n0="http://calendarserver.org/ns/" /><CARD:max-resource-size /><CARD:supported-address-data /></prop></propfind>`

	// 2.5 step 1, CalDAV subset.
	davx5CapsCalDAV = `<?xml version='1.0' encoding='UTF-8' ?><propfind xmlns="DAV:" xmlns:CAL="urn:ietf:params:xml:ns:caldav" xmlns:CARD="urn:ietf:params:xml:ns:carddav"><prop><supported-report-set /><sync-token /><n0:getctag xmlns:n0="http://calendarserver.org/ns/" /><CAL:max-resource-size /></prop></propfind>`

	// 2.5 step 7 as 4.5.9 sends it (getetag only); %s is the token.
	davx5SyncCollection = `<?xml version='1.0' encoding='UTF-8' ?><sync-collection xmlns="DAV:"><sync-token>%s</sync-token><sync-level>1</sync-level><prop><getetag /></prop></sync-collection>`

	// 2.5 step 8, address books; %s is the list of hrefs.
	davx5CardMultiget = `<?xml version='1.0' encoding='UTF-8' ?><CARD:addressbook-multiget xmlns="DAV:" xmlns:CAL="urn:ietf:params:xml:ns:caldav" xmlns:CARD="urn:ietf:params:xml:ns:carddav"><prop><getcontenttype /><getetag /><CARD:address-data /></prop>%s</CARD:addressbook-multiget>`

	// 2.5 step 8, calendars; %s is the list of hrefs.
	davx5CalMultiget = `<?xml version='1.0' encoding='UTF-8' ?><CAL:calendar-multiget xmlns="DAV:" xmlns:CAL="urn:ietf:params:xml:ns:caldav" xmlns:CARD="urn:ietf:params:xml:ns:carddav"><prop><getcontenttype /><getetag /><CAL:schedule-tag /><CAL:calendar-data /></prop>%s</CAL:calendar-multiget>`

	// 2.5 step 6, events: VEVENT with a start-only time-range (%s).
	davx5EventQuery = `<?xml version='1.0' encoding='UTF-8' ?><CAL:calendar-query xmlns="DAV:" xmlns:CAL="urn:ietf:params:xml:ns:caldav" xmlns:CARD="urn:ietf:params:xml:ns:carddav"><prop><getetag /></prop><CAL:filter><CAL:comp-filter name="VCALENDAR"><CAL:comp-filter name="VEVENT"><CAL:time-range start="%s" /></CAL:comp-filter></CAL:comp-filter></CAL:filter></CAL:calendar-query>`

	// 2.5 step 6, tasks: VTODO without time-range.
	davx5TaskQuery = `<?xml version='1.0' encoding='UTF-8' ?><CAL:calendar-query xmlns="DAV:" xmlns:CAL="urn:ietf:params:xml:ns:caldav" xmlns:CARD="urn:ietf:params:xml:ns:carddav"><prop><getetag /></prop><CAL:filter><CAL:comp-filter name="VCALENDAR"><CAL:comp-filter name="VTODO" /></CAL:comp-filter></CAL:filter></CAL:calendar-query>`
)

// davx5UA is DAVx5's User-Agent (2.1).
const davx5UA = "DAVx5/4.5.9-ose (at.bitfire.davdroid)"

// davx5 returns the headers DAVx5 sends on every request, then extra. Its
// Basic credentials go out preemptively (2.1); Accept-Encoding gzip is left
// to Go's transport, which decodes it as ktor does.
func davx5(extra ...string) []string {
	return append([]string{"User-Agent", davx5UA, "Accept-Language", "en-US, en;q=0.7, *;q=0.5"}, extra...)
}

// davx5XML returns DAVx5's headers for PROPFIND, PROPPATCH, REPORT, MKCOL
// and MKCALENDAR (2.1), then extra.
func davx5XML(extra ...string) []string {
	return davx5(append([]string{"Accept", "application/xml, text/xml", "Content-Type", "application/xml; charset=UTF-8"}, extra...)...)
}

// davx5RecurringEvent is a weekly series that began long before DAVx5's
// now-90-days window and recurs inside it (Q18).
func davx5RecurringEvent(uid string) string {
	return crlf(`
BEGIN:VCALENDAR
VERSION:2.0
PRODID:+//IDN bitfire.at//DAVx5/4.5.9-ose ical4j/3.2.19
BEGIN:VEVENT
DTSTAMP:20250101T100000Z
UID:` + uid + `
SUMMARY:Weekly stand-up
DTSTART:20250106T080000Z
DTEND:20250106T083000Z
RRULE:FREQ=WEEKLY;BYDAY=MO
END:VEVENT
END:VCALENDAR
`)
}

// TestClientDAVx5 replays DAVx5's account setup, collection refresh,
// collection creation, contact and calendar sync, conflicts and deletions
// (clients.md section 2) and checks every point of section 1 it relies on.
func TestClientDAVx5(t *testing.T) {
	r := startPushRig(t)
	target := r.s.target()
	target.push = r
	davx5Replay(t, target)
}

// davx5Replay is TestClientDAVx5's replay against the service s.
func davx5Replay(t *testing.T, s davTarget) {
	const user, pass = "dora", "dora-password-davx5"
	s.addUser(t, user, pass)
	dav := s.client(t, user, pass)
	other := s.client(t, user, pass) // a second device of the same user
	principal := "/dav/principals/" + user + "/"
	bookHome := "/dav/addressbooks/" + user + "/"
	calHome := "/dav/calendars/" + user + "/"
	book := bookHome + "contacts/"
	cal := calHome + "calendar/"
	tasks := calHome + "tasks/"
	newBook := bookHome + "3f2504e0-4f89-41d3-9a0c-0305e82c3301/"
	newCal := calHome + "8c1d5e43-2b7a-4a52-9c3e-5b9d0f6a7e11/"

	// Account setup, CardDAV first (2.2).
	for _, svc := range []struct{ name, find, wellKnown, token string }{
		{"carddav", davx5FindCardDAV, "/.well-known/carddav", "addressbook"},
		{"caldav", davx5FindCalDAV, "/.well-known/caldav", "calendar-access"},
	} {
		t.Run(svc.name+"/propfind-entered-url", func(t *testing.T) {
			// 2.2 row 1 on the URL serve printed ("/"); section 1.1: PROPFIND /
			// returns current-user-principal.
			rs := assertMultistatus(t, dav.in(t).do("PROPFIND", "/", svc.find, davx5XML("Depth", "0")...))
			r := mustHref(t, rs, "/")
			if got := r.ok(nsD, "current-user-principal").hrefTexts(); len(got) != 1 || got[0] != principal {
				t.Errorf("current-user-principal %v, want %s", got, principal)
			}
		})
		t.Run(svc.name+"/well-known", func(t *testing.T) {
			// 2.2 row 2; 2.1: dav4jvm follows 301 with the same method and body.
			c := dav.in(t)
			assertRedirectKeepsMethod(t, c.do("PROPFIND", svc.wellKnown, davx5WellKnown, davx5XML("Depth", "0")...))
			rs := assertMultistatus(t, c.do("PROPFIND", "/dav/", davx5WellKnown, davx5XML("Depth", "0")...))
			if got := firstResponse(t, rs).ok(nsD, "current-user-principal").hrefTexts(); len(got) != 1 || got[0] != principal {
				t.Errorf("current-user-principal after the redirect %v, want %s", got, principal)
			}
		})
		t.Run(svc.name+"/options-principal", func(t *testing.T) {
			// 2.2 row 4, Q1: the principal must offer the service.
			// DAVx5 also sends "Content-Length: 0"; Go sends no body and no length.
			r := dav.in(t).do("OPTIONS", principal, "", davx5("Accept-Encoding", "identity")...)
			assertDAVHeader(t, r)
			if !strings.Contains(r.Header.Get("DAV"), svc.token) {
				t.Errorf("DAV: %q lacks %s: DAVx5 drops the principal (Q1)", r.Header.Get("DAV"), svc.token)
			}
		})
	}
	t.Run("caldav/principal-address-set", func(t *testing.T) {
		// 2.2 row 5, section 1.1: the mailto: address first.
		rs := assertMultistatus(t, dav.in(t).do("PROPFIND", principal, davx5AddressSet, davx5XML("Depth", "0")...))
		got := mustHref(t, rs, principal).ok(nsC, "calendar-user-address-set").hrefTexts()
		if len(got) == 0 || got[0] != "mailto:"+user+"@example.org" {
			t.Errorf("calendar-user-address-set %v, want mailto:%s@example.org first", got, user)
		}
	})

	// Collection refresh (2.3).
	t.Run("refresh/principal-carddav", func(t *testing.T) {
		rs := assertMultistatus(t, dav.in(t).do("PROPFIND", principal, davx5PrincipalCardDAV, davx5XML("Depth", "0")...))
		r := mustHref(t, rs, principal)
		if r.ok(nsD, "resourcetype").child(nsD, "principal") == nil {
			t.Errorf("principal resourcetype lacks D:principal (section 1.1)")
		}
		if got := r.ok(nsCR, "addressbook-home-set").hrefTexts(); len(got) != 1 || got[0] != bookHome {
			t.Errorf("addressbook-home-set %v, want %s", got, bookHome)
		}
	})
	t.Run("refresh/principal-caldav", func(t *testing.T) {
		rs := assertMultistatus(t, dav.in(t).do("PROPFIND", principal, davx5PrincipalCalDAV, davx5XML("Depth", "0")...))
		if got := mustHref(t, rs, principal).ok(nsC, "calendar-home-set").hrefTexts(); len(got) != 1 || got[0] != calHome {
			t.Errorf("calendar-home-set %v, want %s", got, calHome)
		}
	})
	t.Run("refresh/addressbook-home", func(t *testing.T) {
		rs := assertMultistatus(t, dav.in(t).do("PROPFIND", bookHome, davx5BookHome, davx5XML("Depth", "1")...))
		assertAbsolutePathHrefs(t, rs, bookHome)
		assertListingHasResourcetype(t, rs)
		if !privilegeNames(mustHref(t, rs, bookHome).ok(nsD, "current-user-privilege-set"))["bind"] {
			t.Errorf("the home's current-user-privilege-set lacks bind: no \"create address book\" (2.3)")
		}
		r := mustHref(t, rs, book)
		if r.ok(nsD, "resourcetype").child(nsCR, "addressbook") == nil {
			t.Errorf("%s: resourcetype lacks CR:addressbook", book)
		}
		assertWritable(t, r)
		if r.ok(nsD, "displayname") == nil {
			t.Errorf("%s: no displayname (section 1.2)", book)
		}
	})
	t.Run("refresh/calendar-home", func(t *testing.T) {
		rs := assertMultistatus(t, dav.in(t).do("PROPFIND", calHome, davx5CalHome, davx5XML("Depth", "1")...))
		assertAbsolutePathHrefs(t, rs, calHome)
		assertListingHasResourcetype(t, rs)
		if !privilegeNames(mustHref(t, rs, calHome).ok(nsD, "current-user-privilege-set"))["bind"] {
			t.Errorf("the home's current-user-privilege-set lacks bind: no \"create calendar\" (2.3)")
		}
		// Q19: the event calendar is not offered as a task list and vice versa.
		for href, comps := range map[string]string{cal: "VEVENT", tasks: "VTODO"} {
			r := mustHref(t, rs, href)
			if r.ok(nsD, "resourcetype").child(nsC, "calendar") == nil {
				t.Errorf("%s: resourcetype lacks C:calendar", href)
			}
			assertWritable(t, r)
			if got := strings.Join(componentNames(r.ok(nsC, "supported-calendar-component-set")), ","); got != comps {
				t.Errorf("%s: supported-calendar-component-set %q, want %s (Q19)", href, got, comps)
			}
			if color := r.ok(nsA, "calendar-color"); color != nil && !colorPattern.MatchString(color.trimmed()) {
				t.Errorf("%s: calendar-color %q is not #RRGGBB[AA]", href, color.trimmed())
			}
		}
	})

	// Collection creation (2.4).
	t.Run("create/mkcol-addressbook", func(t *testing.T) {
		r := dav.in(t).do("MKCOL", newBook, davx5Mkcol, davx5XML()...)
		if r.Status != 201 || r.Body != "" {
			t.Errorf("MKCOL: %d %q, want 201 without a body (Q14: 207 is an error)", r.Status, r.Body)
		}
	})
	t.Run("create/mkcalendar", func(t *testing.T) {
		r := dav.in(t).do("MKCALENDAR", newCal, davx5Mkcalendar, davx5XML()...)
		if r.Status != 201 || r.Body != "" {
			t.Errorf("MKCALENDAR: %d %q, want 201 without a body (Q14, Q26)", r.Status, r.Body)
		}
	})
	t.Run("create/refresh-after-create", func(t *testing.T) {
		c := dav.in(t)
		rs := assertMultistatus(t, c.do("PROPFIND", calHome, davx5CalHome, davx5XML("Depth", "1")...))
		assertListingHasResourcetype(t, rs)
		r := mustHref(t, rs, newCal)
		if r.ok(nsD, "resourcetype").child(nsC, "calendar") == nil {
			t.Errorf("new calendar: resourcetype lacks C:calendar")
		}
		if got := r.ok(nsD, "displayname").trimmed(); got != "Work" {
			t.Errorf("new calendar: displayname %q", got)
		}
		if got := r.ok(nsC, "calendar-description").trimmed(); got != "Work shifts" {
			t.Errorf("new calendar: calendar-description %q", got)
		}
		if got := r.ok(nsA, "calendar-color").trimmed(); got != "#4CAF50" || !colorPattern.MatchString(got) {
			t.Errorf("new calendar: calendar-color %q, want #4CAF50", got)
		}
		if got := r.ok(nsC, "calendar-timezone-id").trimmed(); got != "Europe/Vienna" {
			t.Errorf("new calendar: calendar-timezone-id %q", got)
		}
		if tz := r.ok(nsC, "calendar-timezone").trimmed(); !strings.Contains(tz, "BEGIN:VTIMEZONE") || !strings.Contains(tz, "TZID:Europe/Vienna") {
			t.Errorf("new calendar: calendar-timezone %q", tz)
		}
		if got := strings.Join(componentNames(r.ok(nsC, "supported-calendar-component-set")), ","); got != "VEVENT" {
			t.Errorf("new calendar: supported-calendar-component-set %q, want VEVENT (Q19)", got)
		}
		assertWritable(t, r)
		brs := assertMultistatus(t, c.do("PROPFIND", bookHome, davx5BookHome, davx5XML("Depth", "1")...))
		b := mustHref(t, brs, newBook)
		if b.ok(nsD, "resourcetype").child(nsCR, "addressbook") == nil {
			t.Errorf("new address book: resourcetype lacks CR:addressbook")
		}
		if got := b.ok(nsD, "displayname").trimmed(); got != "Family" {
			t.Errorf("new address book: displayname %q", got)
		}
		if got := b.ok(nsCR, "addressbook-description").trimmed(); got != "Family & friends" {
			t.Errorf("new address book: addressbook-description %q", got)
		}
	})

	// Contacts: sync-collection (2.5).
	cards := []struct{ uid, name string }{
		{"davx5-c1@example.org", "Ada Lovelace"},
		{"davx5-c2@example.org", "Charles Babbage"},
		{"davx5-c3@example.org", "Mary Somerville"},
	}
	cardHref := func(i int) string { return book + cards[i].uid + ".vcf" }
	cardETag := make([]string, len(cards))
	var bookToken string
	t.Run("contacts/capabilities", func(t *testing.T) {
		rs := assertMultistatus(t, dav.in(t).do("PROPFIND", book, davx5CapsCardDAV, davx5XML("Depth", "0")...))
		r := mustHref(t, rs, book)
		assertReports(t, r, "sync-collection", "addressbook-multiget", "addressbook-query")
		assertSyncToken(t, r.ok(nsD, "sync-token").trimmed())
		if r.ok(nsCS, "getctag").trimmed() == "" {
			t.Errorf("no CS:getctag")
		}
		if n, err := strconv.Atoi(r.ok(nsCR, "max-resource-size").trimmed()); err != nil || n < 10<<20 {
			t.Errorf("CR:max-resource-size %q, want at least 10 MB (Q21)", r.ok(nsCR, "max-resource-size").trimmed())
		}
		// DAVx5 writes vCard 4 only when 4.0 is advertised (2.5 step 1);
		// what is advertised must be text/vcard.
		data := r.ok(nsCR, "supported-address-data")
		if len(data.children(nsCR, "address-data-type")) == 0 {
			t.Errorf("no CR:supported-address-data types")
		}
		for _, dt := range data.children(nsCR, "address-data-type") {
			if dt.attr("content-type") != "text/vcard" {
				t.Errorf("address-data-type %q", dt.attr("content-type"))
			}
		}
	})
	t.Run("contacts/put-create", func(t *testing.T) {
		// 2.5 step 3: "<UID>.vcf" with "@" literal, If-None-Match: *.
		for i, card := range cards {
			r := dav.in(t).do("PUT", cardHref(i), contact3(card.uid, card.name), davx5("Content-Type", "text/vcard;charset=utf-8", "If-None-Match", "*")...)
			if r.Status != 201 {
				t.Errorf("PUT %s: %d, want 201\n%s", cardHref(i), r.Status, r.Body)
				continue
			}
			cardETag[i] = assertStrongETag(t, r)
		}
	})
	t.Run("contacts/sync-initial", func(t *testing.T) {
		// 2.5 step 7, Depth 0, empty token.
		r := dav.in(t).do("REPORT", book, fmt.Sprintf(davx5SyncCollection, ""), davx5XML("Depth", "0")...)
		rs := assertMultistatus(t, r)
		bookToken = topSyncToken(t, r.Body)
		assertSyncToken(t, bookToken)
		assertAbsolutePathHrefs(t, rs, book) // 2.1: MEMBER hrefs only
		d := assertSyncDelta(t, rs, book, []string{cardHref(0), cardHref(1), cardHref(2)}, nil)
		for i := range cards {
			// 1.4: the PUT ETag equals the getetag returned later.
			if m, ok := d.changed[cardHref(i)]; ok && cardETag[i] != "" && m.ok(nsD, "getetag").trimmed() != cardETag[i] {
				t.Errorf("%s: getetag %q, PUT gave %q", cardHref(i), m.ok(nsD, "getetag").trimmed(), cardETag[i])
			}
		}
	})
	t.Run("contacts/multiget", func(t *testing.T) {
		// 2.5 step 8: Depth 0, batches of 10; each reply a MEMBER, 2xx, with
		// data and getetag.
		r := dav.in(t).do("REPORT", book, fmt.Sprintf(davx5CardMultiget, hrefList("", cardHref(0), cardHref(1), cardHref(2))), davx5XML("Depth", "0")...)
		rs := assertMultistatus(t, r)
		if len(rs) != len(cards) {
			t.Errorf("multiget of %d hrefs gave %d responses", len(cards), len(rs))
		}
		for i, card := range cards {
			m := mustHref(t, rs, cardHref(i))
			if got := m.ok(nsCR, "address-data").raw(); got != contact3(card.uid, card.name) {
				t.Errorf("%s: address-data is not what was PUT (section 1.4):\n%q", cardHref(i), got)
			}
			if got := m.ok(nsD, "getetag").trimmed(); got == "" || got != cardETag[i] {
				t.Errorf("%s: getetag %q, PUT gave %q", cardHref(i), got, cardETag[i])
			}
			if ct := m.ok(nsD, "getcontenttype").trimmed(); !strings.HasPrefix(ct, "text/vcard") {
				t.Errorf("%s: getcontenttype %q", cardHref(i), ct)
			}
		}
	})
	t.Run("contacts/change-check-unchanged", func(t *testing.T) {
		// 2.5 step 5: nothing changed, so the token is the same and DAVx5 skips.
		requires(t, "the initial sync-token", bookToken)
		rs := assertMultistatus(t, dav.in(t).do("PROPFIND", book, davx5CapsCardDAV, davx5XML("Depth", "0")...))
		if got := mustHref(t, rs, book).ok(nsD, "sync-token").trimmed(); got != bookToken {
			t.Errorf("sync-token %q changed to %q without a change", bookToken, got)
		}
	})
	var bookCtag string
	t.Run("contacts/sync-incremental", func(t *testing.T) {
		requires(t, "the initial sync-token and ETags", bookToken, cardETag[0], cardETag[1])
		o := other.in(t)
		ctagBefore := o.propOfNS(t, book, nsCS, "getctag")
		o.must(204, "PUT", cardHref(0), contact3(cards[0].uid, cards[0].name+" (edited)"), "Content-Type", "text/vcard", "If-Match", cardETag[0])
		o.must(204, "DELETE", cardHref(1), "", "If-Match", cardETag[1])
		bookCtag = o.propOfNS(t, book, nsCS, "getctag")
		if bookCtag == ctagBefore {
			t.Errorf("CS:getctag %q did not change (section 1.5)", bookCtag)
		}
		r := dav.in(t).do("REPORT", book, fmt.Sprintf(davx5SyncCollection, bookToken), davx5XML("Depth", "0")...)
		rs := assertMultistatus(t, r)
		assertSyncDelta(t, rs, book, []string{cardHref(0)}, []string{cardHref(1)})
		next := topSyncToken(t, r.Body)
		assertSyncToken(t, next)
		if next == bookToken {
			t.Errorf("sync-token did not change after changes")
		}
	})
	t.Run("contacts/update-if-match", func(t *testing.T) {
		// 2.5 step 4: PUT with If-Match: "<etag>" answers with a new strong
		// ETag that equals the later getetag.
		requires(t, "the ETag of card 3", cardETag[2])
		c := dav.in(t)
		r := c.do("PUT", cardHref(2), contact3(cards[2].uid, cards[2].name+" FRS"), davx5("Content-Type", "text/vcard;charset=utf-8", "If-Match", cardETag[2])...)
		if r.Status != 204 && r.Status != 200 {
			t.Fatalf("update: %d\n%s", r.Status, r.Body)
		}
		etag := assertStrongETag(t, r)
		if etag == cardETag[2] {
			t.Errorf("update kept the ETag %s", etag)
		}
		if got := c.propOf(t, cardHref(2), "getetag"); got != etag {
			t.Errorf("getetag %q, PUT gave %q (section 1.4)", got, etag)
		}
		cardETag[2] = etag
	})
	t.Run("contacts/conflict", func(t *testing.T) {
		// 2.5 step 4: a stale If-Match gives 412; DAVx5 then downloads the
		// server version, which must be unchanged.
		requires(t, "the first ETag of card 1", cardETag[0])
		c := dav.in(t)
		c.must(412, "PUT", cardHref(0), contact3(cards[0].uid, "Lost edit"), davx5("Content-Type", "text/vcard;charset=utf-8", "If-Match", cardETag[0])...)
		c.must(412, "DELETE", cardHref(0), "", davx5("If-Match", cardETag[0])...)
		c.must(412, "PUT", cardHref(0), contact3(cards[0].uid, "Lost edit"), davx5("Content-Type", "text/vcard;charset=utf-8", "If-None-Match", "*")...)
		if got := c.must(200, "GET", cardHref(0), "").Body; got != contact3(cards[0].uid, cards[0].name+" (edited)") {
			t.Errorf("a refused write changed the card:\n%q", got)
		}
	})
	t.Run("contacts/update-deleted", func(t *testing.T) {
		// 2.5 step 4 and section 1.4: If-Match on a missing resource gives 412
		// (404 accepted), then one retry as a create.
		requires(t, "the ETag of card 2", cardETag[1])
		c := dav.in(t)
		r := c.do("PUT", cardHref(1), contact3(cards[1].uid, cards[1].name), davx5("Content-Type", "text/vcard;charset=utf-8", "If-Match", cardETag[1])...)
		if r.Status != 412 && r.Status != 404 {
			t.Errorf("If-Match on a deleted card: %d, want 412 or 404", r.Status)
		}
		cardETag[1] = assertStrongETag(t, c.must(201, "PUT", cardHref(1), contact3(cards[1].uid, cards[1].name), davx5("Content-Type", "text/vcard;charset=utf-8", "If-None-Match", "*")...))
	})
	t.Run("contacts/delete", func(t *testing.T) {
		// 2.5 step 2, section 1.4: 204 without a body (Q14), then 404.
		requires(t, "the ETag of card 3", cardETag[2])
		c := dav.in(t)
		r := c.do("DELETE", cardHref(2), "", davx5("If-Match", cardETag[2])...)
		if r.Status != 204 || r.Body != "" {
			t.Errorf("DELETE: %d %q, want 204 without a body (Q14)", r.Status, r.Body)
		}
		c.must(404, "DELETE", cardHref(2), "", davx5()...)
	})
	t.Run("contacts/sync-invalid-token", func(t *testing.T) {
		// 2.5 step 7, Q12, Q13: an XML valid-sync-token error, then the
		// initial sync again, which lists exactly what exists.
		c := dav.in(t)
		assertValidSyncTokenError(t, c.do("REPORT", book, fmt.Sprintf(davx5SyncCollection, "http://coffer.invalid/ns/sync/not-a-revision"), davx5XML("Depth", "0")...))
		r := c.do("REPORT", book, fmt.Sprintf(davx5SyncCollection, ""), davx5XML("Depth", "0")...)
		assertSyncDelta(t, assertMultistatus(t, r), book, []string{cardHref(0), cardHref(1)}, nil)
		assertSyncToken(t, topSyncToken(t, r.Body))
	})
	t.Run("contacts/percent-encoding", func(t *testing.T) {
		// Section 1.4, Q16: "a@b" and "a%40b" are the same resource, and
		// listings use one spelling.
		c := dav.in(t)
		literal := c.must(200, "GET", cardHref(0), "", davx5()...)
		encoded := c.must(200, "GET", book+"davx5-c1%40example.org.vcf", "", davx5()...)
		if literal.Body != encoded.Body || literal.Header.Get("ETag") != encoded.Header.Get("ETag") {
			t.Errorf("%%40 and @ name different resources")
		}
		rs := assertMultistatus(t, c.do("PROPFIND", book, davx5CapsCardDAV, davx5XML("Depth", "1")...))
		n := 0
		for _, r := range rs {
			if strings.Contains(r.Href, "davx5-c1") {
				n++
				if r.Href != cardHref(0) {
					t.Errorf("listed as %q, the sync reported %q", r.Href, cardHref(0))
				}
			}
		}
		if n != 1 {
			t.Errorf("card 1 listed %d times", n)
		}
	})
	t.Run("contacts/no-trailing-slash", func(t *testing.T) {
		// Q25: the collection without its slash is served, and named with it.
		r := dav.in(t).do("PROPFIND", strings.TrimSuffix(book, "/"), davx5CapsCardDAV, davx5XML("Depth", "0")...)
		rs := assertMultistatus(t, r)
		if len(rs) != 1 || rs[0].Href != book {
			t.Errorf("hrefs %v, want [%s]", hrefs(t, r.Body), book)
		}
		if cl := r.Header.Get("Content-Location"); cl != "" && cl != book {
			t.Errorf("Content-Location %q, want %s", cl, book)
		}
	})

	// Events and tasks: calendar-query listing and multiget (2.5 steps 6, 8).
	ev := cal + "davx5-ev1@example.org.ics"
	series := cal + "davx5-series@example.org.ics"
	todo := tasks + "davx5-todo1@example.org.ics"
	evETag := map[string]string{}
	evBody := map[string]string{
		ev:     event("davx5-ev1@example.org", "Dentist"),
		series: davx5RecurringEvent("davx5-series@example.org"),
		todo:   task("davx5-todo1@example.org", "Buy milk"),
	}
	var calCtag string
	t.Run("events/capabilities", func(t *testing.T) {
		rs := assertMultistatus(t, dav.in(t).do("PROPFIND", cal, davx5CapsCalDAV, davx5XML("Depth", "0")...))
		r := mustHref(t, rs, cal)
		assertReports(t, r, "sync-collection", "calendar-multiget", "calendar-query")
		assertSyncToken(t, r.ok(nsD, "sync-token").trimmed())
		calCtag = r.ok(nsCS, "getctag").trimmed()
		if calCtag == "" {
			t.Errorf("no CS:getctag")
		}
		if n, err := strconv.Atoi(r.ok(nsC, "max-resource-size").trimmed()); err != nil || n < 10<<20 {
			t.Errorf("C:max-resource-size %q, want at least 10 MB (Q21)", r.ok(nsC, "max-resource-size").trimmed())
		}
	})
	t.Run("events/put-create", func(t *testing.T) {
		for _, href := range []string{ev, series, todo} {
			r := dav.in(t).do("PUT", href, evBody[href], davx5("Content-Type", "text/calendar;charset=utf-8", "If-None-Match", "*")...)
			if r.Status != 201 {
				t.Errorf("PUT %s: %d, want 201\n%s", href, r.Status, r.Body)
				continue
			}
			evETag[href] = assertStrongETag(t, r)
		}
	})
	t.Run("events/put-refused", func(t *testing.T) {
		// Section 1.6, Q13, Q19: refusals are 403 with an XML DAV:error
		// naming the precondition, which DAVx5 reads.
		c := dav.in(t)
		for _, tc := range []struct{ href, body, cond string }{
			{cal + "davx5-todo2.ics", task("davx5-todo2", "Not an event"), "supported-calendar-component"},
			{cal + "davx5-dup.ics", event("davx5-ev1@example.org", "Same UID"), "no-uid-conflict"},
			{cal + "davx5-bad.ics", "BEGIN:VCALENDAR\r\nnonsense\r\n", "valid-calendar-data"},
		} {
			r := c.do("PUT", tc.href, tc.body, davx5("Content-Type", "text/calendar;charset=utf-8", "If-None-Match", "*")...)
			if r.Status != 403 || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/xml") {
				t.Errorf("PUT %s: %d %q, want 403 application/xml", tc.href, r.Status, r.Header.Get("Content-Type"))
				continue
			}
			root := parseXNode(t, r.Body)
			cond := root.child(nsC, tc.cond)
			if !root.is(nsD, "error") || cond == nil {
				t.Errorf("PUT %s: no <C:%s/> in the DAV:error:\n%s", tc.href, tc.cond, r.Body)
			}
			if tc.cond == "no-uid-conflict" && cond.child(nsD, "href").trimmed() != ev {
				t.Errorf("no-uid-conflict names %q, want %s", cond.child(nsD, "href").trimmed(), ev)
			}
		}
		// 2.5 step 4, section 1.6: a permission failure carries
		// D:need-privileges, so DAVx5 skips the item instead of failing.
		foreign := "/dav/calendars/" + s.User + "/calendar/davx5-foreign.ics"
		r := c.do("PUT", foreign, event("davx5-foreign", "Not mine"), davx5("Content-Type", "text/calendar;charset=utf-8", "If-None-Match", "*")...)
		if r.Status != 403 || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/xml") || parseXNode(t, r.Body).child(nsD, "need-privileges") == nil {
			t.Errorf("PUT into another account: %d %q, want 403 with <D:need-privileges/>:\n%s", r.Status, r.Header.Get("Content-Type"), r.Body)
		}
	})
	t.Run("events/calendar-query-start-only", func(t *testing.T) {
		// 2.5 step 6, Q18: start = now-90 days, no end; the series that
		// began before the start recurs inside the range.
		start := davTime(time.Now().AddDate(0, 0, -90))
		rs := assertMultistatus(t, dav.in(t).do("REPORT", cal, fmt.Sprintf(davx5EventQuery, start), davx5XML("Depth", "1")...))
		assertAbsolutePathHrefs(t, rs, cal)
		for _, href := range []string{ev, series} {
			r, found := byHref(rs, href)
			if !found {
				t.Errorf("calendar-query from %s does not list %s (Q18)", start, href)
				continue
			}
			if got := r.ok(nsD, "getetag").trimmed(); got == "" || got != evETag[href] {
				t.Errorf("%s: getetag %q, PUT gave %q (Q15)", href, got, evETag[href])
			}
		}
	})
	t.Run("tasks/calendar-query", func(t *testing.T) {
		r := dav.in(t).do("REPORT", tasks, davx5TaskQuery, davx5XML("Depth", "1")...)
		rs := assertMultistatus(t, r)
		m := mustHref(t, rs, todo)
		if got := m.ok(nsD, "getetag").trimmed(); got == "" || got != evETag[todo] {
			t.Errorf("getetag %q, PUT gave %q (Q15)", got, evETag[todo])
		}
		if len(rs) != 1 {
			t.Errorf("task list query gave %v, want only %s", hrefs(t, r.Body), todo)
		}
	})
	t.Run("events/multiget", func(t *testing.T) {
		// 2.5 step 8: no Depth header.
		rs := assertMultistatus(t, dav.in(t).do("REPORT", cal, fmt.Sprintf(davx5CalMultiget, hrefList("", ev, series)), davx5XML()...))
		for _, href := range []string{ev, series} {
			r := mustHref(t, rs, href)
			if got := r.ok(nsC, "calendar-data").raw(); got != evBody[href] {
				t.Errorf("%s: calendar-data is not what was PUT:\n%q", href, got)
			}
			if got := r.ok(nsD, "getetag").trimmed(); got == "" || got != evETag[href] {
				t.Errorf("%s: getetag %q, PUT gave %q", href, got, evETag[href])
			}
			if ct := r.ok(nsD, "getcontenttype").trimmed(); !strings.HasPrefix(ct, "text/calendar") {
				t.Errorf("%s: getcontenttype %q", href, ct)
			}
		}
	})
	t.Run("events/update", func(t *testing.T) {
		// 2.5 step 4 and 5: 204 with a new strong ETag; the ctag changes.
		requires(t, "the event's ETag and the ctag", evETag[ev], calCtag)
		c := dav.in(t)
		body := strings.Replace(event("davx5-ev1@example.org", "Dentist (moved)"), "X-MOZ-GENERATION:1", "SEQUENCE:1", 1)
		r := c.do("PUT", ev, body, davx5("Content-Type", "text/calendar;charset=utf-8", "If-Match", evETag[ev])...)
		if r.Status != 204 && r.Status != 200 {
			t.Fatalf("update: %d\n%s", r.Status, r.Body)
		}
		etag := assertStrongETag(t, r)
		if got := c.propOf(t, ev, "getetag"); got != etag {
			t.Errorf("getetag %q, PUT gave %q", got, etag)
		}
		if got := c.propOfNS(t, cal, nsCS, "getctag"); got == calCtag {
			t.Errorf("CS:getctag %q did not change (section 1.5)", got)
		}
		evETag[ev+"#old"], evETag[ev] = evETag[ev], etag
	})
	t.Run("events/conflict", func(t *testing.T) {
		requires(t, "the event's first ETag", evETag[ev+"#old"])
		c := dav.in(t)
		c.must(412, "PUT", ev, event("davx5-ev1@example.org", "Lost edit"), davx5("Content-Type", "text/calendar;charset=utf-8", "If-Match", evETag[ev+"#old"])...)
		c.must(412, "DELETE", ev, "", davx5("If-Match", evETag[ev+"#old"])...)
	})
	t.Run("events/delete", func(t *testing.T) {
		requires(t, "the event's ETag", evETag[ev])
		c := dav.in(t)
		r := c.do("DELETE", ev, "", davx5("If-Match", evETag[ev])...)
		if r.Status != 204 || r.Body != "" {
			t.Errorf("DELETE: %d %q, want 204 without a body (Q14)", r.Status, r.Body)
		}
		c.must(404, "DELETE", ev, "", davx5()...)
		start := davTime(time.Now().AddDate(0, 0, -90))
		rs := assertMultistatus(t, c.do("REPORT", cal, fmt.Sprintf(davx5EventQuery, start), davx5XML("Depth", "1")...))
		if _, found := byHref(rs, ev); found {
			t.Errorf("the deleted event is still listed")
		}
	})

	// Collection deletion (2.4).
	t.Run("collections/delete", func(t *testing.T) {
		c := dav.in(t)
		for coll, props := range map[string]string{newCal: davx5CalHome, newBook: davx5BookHome} {
			r := c.do("DELETE", coll, "", davx5()...)
			if r.Status != 204 || r.Body != "" {
				t.Errorf("DELETE %s: %d %q, want 204 without a body (Q14)", coll, r.Status, r.Body)
			}
			// The "homeless" re-check: 404 deletes it locally.
			c.must(404, "PROPFIND", coll, props, davx5XML("Depth", "0")...)
		}
		rs := assertMultistatus(t, c.do("PROPFIND", calHome, davx5CalHome, davx5XML("Depth", "1")...))
		if _, found := byHref(rs, newCal); found {
			t.Errorf("the deleted calendar is still listed")
		}
	})
	if s.push != nil {
		davx5Push(t, s.push, dav, other, calHome, cal)
	}
}

// davx5Push replays DAVx5's WebDAV-Push exchange (docs/clients-push.md):
// the home listing's transports and topic, the registration (201, an
// absolute Location, Expires), the daily renewal (204, the same
// Location), a message when another device changes the calendar, and the
// DELETE that ends it.
func davx5Push(t *testing.T, r *pushRig, dav, other *client, calHome, cal string) {
	var sub push.Subscription
	var loc, topic string
	t.Run("push/discovery", func(t *testing.T) {
		rs := assertMultistatus(t, dav.in(t).do("PROPFIND", calHome, davx5CalHome, davx5XML("Depth", "1")...))
		resp := mustHref(t, rs, cal)
		if resp.ok(nsPush, "transports").child(nsPush, "web-push").child(nsPush, "vapid-public-key").trimmed() == "" {
			t.Fatalf("no VAPID key in transports: DAVx5 does not register")
		}
		if topic = resp.ok(nsPush, "topic").trimmed(); topic == "" {
			t.Fatalf("no topic: DAVx5 turns push off for the calendar")
		}
	})
	t.Run("push/register", func(t *testing.T) {
		requires(t, "the topic", topic)
		sub, loc = r.registerDevice(t, dav.in(t), cal)
		res := dav.in(t).must(204, "POST", cal, pushRegisterBody(sub), davx5("Content-Type", "application/xml; charset=utf-8")...)
		if res.Header.Get("Location") != loc {
			t.Errorf("renewal Location %q, want %q", res.Header.Get("Location"), loc)
		}
	})
	t.Run("push/message", func(t *testing.T) {
		requires(t, "the registration", loc)
		other.in(t).must(201, "PUT", cal+"davx5-push.ics", event("davx5-push@example.org", "Pushed"), davx5("Content-Type", "text/calendar;charset=utf-8", "If-None-Match", "*")...)
		m := r.waitPush(t, sub, 1)
		if !strings.Contains(string(m.Payload), "<P:topic>"+topic+"</P:topic>") {
			t.Errorf("the message does not name the calendar's topic %q: %s", topic, m.Payload)
		}
		other.in(t).must(204, "DELETE", cal+"davx5-push.ics", "", davx5()...)
	})
	t.Run("push/unregister", func(t *testing.T) {
		requires(t, "the registration", loc)
		dav.in(t).must(204, "DELETE", loc[strings.Index(loc, "/dav/push/"):], "", davx5()...)
	})
}

// propOfNS returns the text of one property of a resource in any
// namespace, from a Depth 0 PROPFIND.
func (c *client) propOfNS(t *testing.T, path, space, local string) string {
	t.Helper()
	body := `<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:"><D:prop><x:` + local + ` xmlns:x="` + space + `"/></D:prop></D:propfind>`
	r := c.must(207, "PROPFIND", path, body, "Depth", "0")
	rs := xresponses(t, r.Body)
	if len(rs) != 1 {
		t.Fatalf("PROPFIND %s Depth 0: %d responses", path, len(rs))
	}
	return rs[0].ok(space, local).trimmed()
}
