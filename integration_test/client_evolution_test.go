package integration_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
)

// GNOME Evolution (evolution-data-server 3.52) request bodies, clients.md
// section 5. EXmlDocument puts the root element's namespace in the default
// namespace and declares D, C, A (CardDAV), CS and IC (Apple) on the root.
const (
	// 5, discovery step 1 (and step 3 on the well-known URLs).
	evoDiscover = `<?xml version="1.0" encoding="UTF-8"?>
<propfind xmlns="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns:A="urn:ietf:params:xml:ns:carddav"><prop><resourcetype/><current-user-principal/><principal-URL/><C:calendar-home-set/><C:calendar-user-address-set/><A:addressbook-home-set/></prop></propfind>
`

	// 5, discovery step 2: the three "set" properties.
	evoPrincipal = `<?xml version="1.0" encoding="UTF-8"?>
<propfind xmlns="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns:A="urn:ietf:params:xml:ns:carddav"><prop><C:calendar-home-set/><C:calendar-user-address-set/><A:addressbook-home-set/></prop></propfind>
`

	// 5, discovery step 4: a home set, Depth 1.
	evoHome = `<?xml version="1.0" encoding="UTF-8"?>
<propfind xmlns="DAV:" xmlns:CS="http://calendarserver.org/ns/" xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns:A="urn:ietf:params:xml:ns:carddav" xmlns:IC="http://apple.com/ns/ical/"><prop><resourcetype/><CS:source/><C:supported-calendar-component-set/><displayname/><getetag/><CS:getctag/><getcontenttype/><getlastmodified/><C:calendar-description/><A:addressbook-description/><IC:calendar-color/><IC:calendar-order/></prop></propfind>
`

	// 5, connect step 2.
	evoPrivileges = `<?xml version="1.0" encoding="UTF-8"?>
<propfind xmlns="DAV:"><prop><current-user-privilege-set/></prop></propfind>
`

	// 5, connect step 3, calendars.
	evoCalCaps = `<?xml version="1.0" encoding="UTF-8"?>
<propfind xmlns="DAV:" xmlns:CS="http://calendarserver.org/ns/"><prop><CS:getctag/><supported-report-set/></prop></propfind>
`

	// 5, connect step 3, address books.
	evoBookCaps = `<?xml version="1.0" encoding="UTF-8"?>
<propfind xmlns="DAV:" xmlns:CS="http://calendarserver.org/ns/" xmlns:A="urn:ietf:params:xml:ns:carddav"><prop><CS:getctag/><supported-report-set/><A:supported-address-data/></prop></propfind>
`

	// 5, create: a calendar of events, with colour and description.
	evoMkcalendar = `<?xml version="1.0" encoding="UTF-8"?>
<mkcalendar xmlns="urn:ietf:params:xml:ns:caldav" xmlns:D="DAV:" xmlns:IC="http://apple.com/ns/ical/"><D:set><D:prop><D:displayname>Evolution events</D:displayname><calendar-description>Made in Evolution</calendar-description><IC:calendar-color>#3465a4</IC:calendar-color><supported-calendar-component-set><comp name="VEVENT"/></supported-calendar-component-set></D:prop></D:set></mkcalendar>
`

	// 5, create: a memo list.
	evoMkcalendarMemos = `<?xml version="1.0" encoding="UTF-8"?>
<mkcalendar xmlns="urn:ietf:params:xml:ns:caldav" xmlns:D="DAV:"><D:set><D:prop><D:displayname>Memos</D:displayname><supported-calendar-component-set><comp name="VJOURNAL"/></supported-calendar-component-set></D:prop></D:set></mkcalendar>
`

	// 5, create: an address book by extended MKCOL.
	evoMkcol = `<?xml version="1.0" encoding="UTF-8"?>
<mkcol xmlns="DAV:" xmlns:A="urn:ietf:params:xml:ns:carddav"><set><prop><resourcetype><collection/><A:addressbook/></resourcetype><displayname>Evolution contacts</displayname><A:addressbook-description>Made in Evolution</A:addressbook-description></prop></set></mkcol>
`

	// 5, sync: Depth 0; %s is the token.
	evoSync = `<?xml version="1.0" encoding="UTF-8"?>
<sync-collection xmlns="DAV:"><sync-token>%s</sync-token><sync-level>1</sync-level><prop><getetag/></prop></sync-collection>
`

	// 5, download, no Depth; %s is the list of D:href elements.
	evoCalMultiget = `<?xml version="1.0" encoding="UTF-8"?>
<calendar-multiget xmlns="urn:ietf:params:xml:ns:caldav" xmlns:D="DAV:"><D:prop><D:getetag/><calendar-data/></D:prop>%s</calendar-multiget>
`

	// 5, download of address books, no Depth; %s is the list of D:href elements.
	evoCardMultiget = `<?xml version="1.0" encoding="UTF-8"?>
<addressbook-multiget xmlns="urn:ietf:params:xml:ns:carddav" xmlns:D="DAV:"><D:prop><D:getetag/><address-data/></D:prop>%s</addressbook-multiget>
`
)

// evoUA is Evolution's User-Agent (5).
const evoUA = "Evolution/3.52.4"

// evo returns Evolution's headers for an XML body: Content-Type with the
// quoted charset, and Depth unless empty (5).
func evo(depth string, extra ...string) []string {
	h := []string{"User-Agent", evoUA, "Content-Type", `application/xml; charset="utf-8"`}
	if depth != "" {
		h = append(h, "Depth", depth)
	}
	return append(h, extra...)
}

// evoName is Evolution's resource name for a UID: g_uri_escape_string
// keeps the unreserved characters and escapes the rest, so "@" is "%40" (5).
func evoName(uid string) string {
	var b strings.Builder
	for i := 0; i < len(uid); i++ {
		c := uid[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-._~", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// TestClientEvolution replays Evolution's collection-account discovery,
// calendar and address-book creation, connection checks, sync-collection
// sync, uploads with %40 names, conflicts and deletions (clients.md
// section 5), and checks every point of section 1 it relies on.
func TestClientEvolution(t *testing.T) {
	s := startServer(t, "")
	const user, pass = "eve", "eve-password-evolution"
	addUser(t, s.data, user, pass)
	anon := s.anonymous(t)
	ev := s.client(t, user, pass)
	other := s.client(t, user, pass) // a second device of the same user
	principal := "/dav/principals/" + user + "/"
	calHome := "/dav/calendars/" + user + "/"
	bookHome := "/dav/addressbooks/" + user + "/"
	newCal := calHome + "0c7f3a2e9d1b4e5f8a6b3c2d1e0f9a8b/"
	memos := calHome + "5d4c3b2a1f0e4d9c8b7a6f5e4d3c2b1a/"
	newBook := bookHome + "a1b2c3d4e5f64a7b8c9d0e1f2a3b4c5d/"

	// Discovery from the entered URL, the bare host (5, discovery).
	t.Run("discover/unauthenticated", func(t *testing.T) {
		assertUnauthorized(t, anon.in(t).do("PROPFIND", "/", evoDiscover, evo("0")...))
	})
	t.Run("discover/entered-url", func(t *testing.T) {
		rs := assertMultistatus(t, ev.in(t).do("PROPFIND", "/", evoDiscover, evo("0")...))
		r := mustHref(t, rs, "/")
		cup := r.ok(nsD, "current-user-principal").hrefTexts()
		pu := r.ok(nsD, "principal-URL").hrefTexts()
		if !(len(cup) == 1 && cup[0] == principal) && !(len(pu) == 1 && pu[0] == principal) {
			t.Errorf("current-user-principal %v, principal-URL %v: neither is %s", cup, pu, principal)
		}
	})
	t.Run("discover/principal", func(t *testing.T) {
		rs := assertMultistatus(t, ev.in(t).do("PROPFIND", principal, evoPrincipal, evo("0")...))
		r := mustHref(t, rs, principal)
		assertFirstStatusOK(t, r)
		if got := r.ok(nsC, "calendar-home-set").hrefTexts(); len(got) != 1 || got[0] != calHome {
			t.Errorf("calendar-home-set %v, want %s", got, calHome)
		}
		if got := r.ok(nsCR, "addressbook-home-set").hrefTexts(); len(got) != 1 || got[0] != bookHome {
			t.Errorf("addressbook-home-set %v, want %s", got, bookHome)
		}
		// The mailto: entries become the identity addresses.
		if got := r.ok(nsC, "calendar-user-address-set").hrefTexts(); len(got) == 0 || got[0] != "mailto:"+user+"@example.org" {
			t.Errorf("calendar-user-address-set %v, want mailto:%s@example.org first", got, user)
		}
	})
	for _, wk := range []string{"/.well-known/caldav", "/.well-known/carddav"} {
		t.Run("discover/well-known-"+strings.TrimPrefix(wk, "/.well-known/"), func(t *testing.T) {
			// 5, discovery step 3; section 1.1: the redirect keeps the method.
			c := ev.in(t)
			assertRedirectKeepsMethod(t, c.do("PROPFIND", wk, evoDiscover, evo("0")...))
			rs := assertMultistatus(t, c.do("PROPFIND", "/dav/", evoDiscover, evo("0")...))
			if got := firstResponse(t, rs).ok(nsD, "current-user-principal").hrefTexts(); len(got) != 1 || got[0] != principal {
				t.Errorf("current-user-principal %v", got)
			}
		})
	}
	for _, h := range []struct{ name, home string }{{"calendar-home", calHome}, {"addressbook-home", bookHome}} {
		t.Run("discover/"+h.name, func(t *testing.T) {
			// 5, discovery step 4: only 200 responses are read.
			rs := assertMultistatus(t, ev.in(t).do("PROPFIND", h.home, evoHome, evo("1")...))
			assertAbsolutePathHrefs(t, rs, h.home)
			assertListingHasResourcetype(t, rs)
			found := 0
			for _, r := range rs {
				rt := r.ok(nsD, "resourcetype")
				if rt.child(nsC, "calendar") == nil && rt.child(nsCR, "addressbook") == nil {
					continue
				}
				found++
				assertFirstStatusOK(t, r)
				if r.ok(nsD, "displayname").trimmed() == "" || r.ok(nsCS, "getctag").trimmed() == "" {
					t.Errorf("%s: displayname %q, getctag %q", r.Href, r.ok(nsD, "displayname").trimmed(), r.ok(nsCS, "getctag").trimmed())
				}
				if rt.child(nsC, "calendar") != nil && len(componentNames(r.ok(nsC, "supported-calendar-component-set"))) == 0 {
					t.Errorf("%s: no supported-calendar-component-set", r.Href)
				}
			}
			if want := map[string]int{"calendar-home": 2, "addressbook-home": 1}[h.name]; found != want {
				t.Errorf("%d collections found, want %d", found, want)
			}
		})
	}
	t.Run("discover/collection-descriptions", func(t *testing.T) {
		// Section 1.2: calendars need C:calendar-description, address books
		// CR:addressbook-description; Evolution asks for both.
		c := ev.in(t)
		for href, p := range map[string]struct{ home, space, local string }{
			calHome + "calendar/":  {calHome, nsC, "calendar-description"},
			calHome + "tasks/":     {calHome, nsC, "calendar-description"},
			bookHome + "contacts/": {bookHome, nsCR, "addressbook-description"},
		} {
			rs := assertMultistatus(t, c.do("PROPFIND", p.home, evoHome, evo("1")...))
			if mustHref(t, rs, href).ok(p.space, p.local) == nil {
				t.Errorf("%s: no %s in a 200 propstat (section 1.2)", href, p.local)
			}
		}
	})

	// Creation (5, create).
	t.Run("create/mkcalendar", func(t *testing.T) {
		c := ev.in(t)
		r := c.do("MKCALENDAR", newCal, evoMkcalendar, evo("")...)
		if r.Status != 201 {
			t.Fatalf("MKCALENDAR: %d, want 201\n%s", r.Status, r.Body)
		}
		rs := assertMultistatus(t, c.do("PROPFIND", newCal, evoHome, evo("0")...))
		m := mustHref(t, rs, newCal)
		if m.ok(nsD, "displayname").trimmed() != "Evolution events" || m.ok(nsC, "calendar-description").trimmed() != "Made in Evolution" {
			t.Errorf("displayname %q, calendar-description %q", m.ok(nsD, "displayname").trimmed(), m.ok(nsC, "calendar-description").trimmed())
		}
		if got := m.ok(nsA, "calendar-color").trimmed(); got != "#3465a4" || !colorPattern.MatchString(got) {
			t.Errorf("calendar-color %q", got)
		}
		if got := strings.Join(componentNames(m.ok(nsC, "supported-calendar-component-set")), ","); got != "VEVENT" {
			t.Errorf("supported-calendar-component-set %q", got)
		}
	})
	t.Run("create/mkcalendar-memos", func(t *testing.T) {
		c := ev.in(t)
		c.must(201, "MKCALENDAR", memos, evoMkcalendarMemos, evo("")...)
		rs := assertMultistatus(t, c.do("PROPFIND", memos, evoHome, evo("0")...))
		if got := strings.Join(componentNames(mustHref(t, rs, memos).ok(nsC, "supported-calendar-component-set")), ","); got != "VJOURNAL" {
			t.Errorf("supported-calendar-component-set %q", got)
		}
	})
	t.Run("create/mkcol-addressbook", func(t *testing.T) {
		c := ev.in(t)
		r := c.do("MKCOL", newBook, evoMkcol, evo("")...)
		if r.Status != 201 {
			t.Fatalf("MKCOL: %d, want 201\n%s", r.Status, r.Body)
		}
		rs := assertMultistatus(t, c.do("PROPFIND", newBook, evoHome, evo("0")...))
		m := mustHref(t, rs, newBook)
		if m.ok(nsD, "resourcetype").child(nsCR, "addressbook") == nil {
			t.Errorf("resourcetype lacks CR:addressbook")
		}
		if m.ok(nsD, "displayname").trimmed() != "Evolution contacts" || m.ok(nsCR, "addressbook-description").trimmed() != "Made in Evolution" {
			t.Errorf("displayname %q, addressbook-description %q", m.ok(nsD, "displayname").trimmed(), m.ok(nsCR, "addressbook-description").trimmed())
		}
	})

	// Connect (5, connect), on every collection, and without the slash (Q25).
	for _, coll := range []struct{ href, token string }{
		{calHome + "calendar/", "calendar-access"}, {newCal, "calendar-access"}, {memos, "calendar-access"},
		{bookHome + "contacts/", "addressbook"}, {newBook, "addressbook"},
	} {
		name := strings.TrimSuffix(strings.TrimPrefix(coll.href, "/dav/"), "/")
		t.Run("connect/"+name, func(t *testing.T) {
			c := ev.in(t)
			for _, u := range []string{coll.href, strings.TrimSuffix(coll.href, "/")} {
				r := c.do("OPTIONS", u, "", "User-Agent", evoUA)
				assertDAVHeader(t, r)
				if !strings.Contains(r.Header.Get("DAV"), coll.token) {
					t.Errorf("OPTIONS %s: DAV %q lacks %s", u, r.Header.Get("DAV"), coll.token)
				}
			}
			assertWritable(t, mustHref(t, assertMultistatus(t, c.do("PROPFIND", coll.href, evoPrivileges, evo("0")...)), coll.href))
			caps := evoCalCaps
			if coll.token == "addressbook" {
				caps = evoBookCaps
			}
			r := mustHref(t, assertMultistatus(t, c.do("PROPFIND", coll.href, caps, evo("0")...)), coll.href)
			assertReports(t, r, "sync-collection")
			if r.ok(nsCS, "getctag").trimmed() == "" {
				t.Errorf("no CS:getctag")
			}
			if coll.token == "addressbook" {
				// vCard 4 is chosen only when listed; what is listed must be text/vcard.
				types := r.ok(nsCR, "supported-address-data").children(nsCR, "address-data-type")
				if len(types) == 0 {
					t.Errorf("no CR:supported-address-data")
				}
			}
		})
	}

	// Events in the new calendar (5, write and sync).
	uid := func(n string) string { return "evo-" + n + "@example.org" }
	sent := func(n string) string { return newCal + evoName(uid(n)) + ".ics" } // as Evolution sends it
	canon := func(n string) string { return newCal + uid(n) + ".ics" }         // one canonical spelling
	etags := map[string]string{}
	t.Run("write/put-create", func(t *testing.T) {
		// "%40" names, If-None-Match, Prefer, quoted charset; 201 with a
		// strong ETag (a weak one makes Evolution GET it again).
		for _, n := range []string{"a", "b", "c"} {
			c := ev.in(t)
			r := c.do("PUT", sent(n), event(uid(n), "Evolution "+n), "User-Agent", evoUA, "Content-Type", `text/calendar; charset="utf-8"`, "If-None-Match", "*", "Prefer", "return=minimal")
			if r.Status != 201 {
				t.Errorf("PUT %s: %d, want 201\n%s", sent(n), r.Status, r.Body)
				continue
			}
			etags[n] = assertStrongETag(t, r)
			if loc := r.Header.Get("Location"); loc != "" {
				u, err := url.Parse(loc)
				if err != nil || u.Path != canon(n) {
					t.Errorf("Location %q does not name %s", loc, canon(n))
				}
			}
		}
	})
	var token string
	t.Run("sync/initial", func(t *testing.T) {
		// Depth 0, empty token; the token needs ":" or "/" (Q22), hrefs use
		// one spelling (Q16).
		r := ev.in(t).do("REPORT", newCal, fmt.Sprintf(evoSync, ""), evo("0")...)
		rs := assertMultistatus(t, r)
		assertAbsolutePathHrefs(t, rs, newCal)
		d := assertSyncDelta(t, rs, newCal, []string{canon("a"), canon("b"), canon("c")}, nil)
		for _, n := range []string{"a", "b", "c"} {
			if m, ok := d.changed[canon(n)]; ok && m.ok(nsD, "getetag").trimmed() != etags[n] {
				t.Errorf("%s: getetag %q, PUT gave %q", canon(n), m.ok(nsD, "getetag").trimmed(), etags[n])
			}
		}
		token = topSyncToken(t, r.Body)
		assertSyncToken(t, token)
	})
	t.Run("sync/multiget", func(t *testing.T) {
		// No Depth; getetag and calendar-data.
		rs := assertMultistatus(t, ev.in(t).do("REPORT", newCal, fmt.Sprintf(evoCalMultiget, hrefList("D:", canon("a"), canon("b"), canon("c"))), evo("")...))
		for _, n := range []string{"a", "b", "c"} {
			m := mustHref(t, rs, canon(n))
			if got := m.ok(nsC, "calendar-data").raw(); got != event(uid(n), "Evolution "+n) {
				t.Errorf("%s: calendar-data is not what was PUT:\n%q", canon(n), got)
			}
			if m.ok(nsD, "getetag").trimmed() != etags[n] {
				t.Errorf("%s: getetag %q, PUT gave %q", canon(n), m.ok(nsD, "getetag").trimmed(), etags[n])
			}
		}
	})
	t.Run("sync/percent-encoding", func(t *testing.T) {
		// Section 1.4, Q16: "%40" and "@" name one resource.
		c := ev.in(t)
		a := c.must(200, "GET", sent("a"), "", "User-Agent", evoUA)
		b := c.must(200, "GET", canon("a"), "", "User-Agent", evoUA)
		if a.Body != b.Body || a.Header.Get("ETag") != b.Header.Get("ETag") || a.Header.Get("ETag") != etags["a"] {
			t.Errorf("%%40 and @ differ: ETags %q %q", a.Header.Get("ETag"), b.Header.Get("ETag"))
		}
		rs := assertMultistatus(t, c.do("REPORT", newCal, fmt.Sprintf(evoCalMultiget, hrefList("D:", sent("a"))), evo("")...))
		if len(rs) != 1 || rs[0].ok(nsC, "calendar-data") == nil {
			t.Errorf("multiget of the %%40 href: %v", rs)
		}
	})
	t.Run("sync/update", func(t *testing.T) {
		// If-Match with the quoted ETag, Prefer: return=minimal; strong ETag back.
		requires(t, "the ETag of event a", etags["a"])
		r := ev.in(t).do("PUT", sent("a"), event(uid("a"), "Evolution a, edited"), "User-Agent", evoUA, "Content-Type", `text/calendar; charset="utf-8"`, "If-Match", etags["a"], "Prefer", "return=minimal")
		if r.Status != 204 && r.Status != 200 {
			t.Fatalf("update: %d\n%s", r.Status, r.Body)
		}
		etags["a-old"], etags["a"] = etags["a"], assertStrongETag(t, r)
	})
	t.Run("sync/other-device-changes", func(t *testing.T) {
		requires(t, "the ETags", etags["b"], etags["c"])
		o := other.in(t)
		etags["b"] = o.must(204, "PUT", canon("b"), event(uid("b"), "Evolution b, moved"), "Content-Type", "text/calendar", "If-Match", etags["b"]).Header.Get("ETag")
		o.must(204, "DELETE", canon("c"), "", "If-Match", etags["c"])
	})
	t.Run("sync/incremental", func(t *testing.T) {
		// Depth 0 with the token: the two changes and the deletion (a 404 at
		// response level), and a new token.
		requires(t, "the initial token", token)
		r := ev.in(t).do("REPORT", newCal, fmt.Sprintf(evoSync, token), evo("0")...)
		d := assertSyncDelta(t, assertMultistatus(t, r), newCal, []string{canon("a"), canon("b")}, []string{canon("c")})
		if m, ok := d.changed[canon("b")]; ok && m.ok(nsD, "getetag").trimmed() != etags["b"] {
			t.Errorf("getetag %q, PUT gave %q", m.ok(nsD, "getetag").trimmed(), etags["b"])
		}
		next := topSyncToken(t, r.Body)
		if next == "" {
			t.Fatalf("Server did not return sync-token")
		}
		assertSyncToken(t, next)
		if next == token {
			t.Errorf("the token did not change")
		}
		token = next
	})
	t.Run("sync/conflict", func(t *testing.T) {
		// 412 becomes an "out of sync" conflict.
		requires(t, "the first ETag of event a", etags["a-old"])
		c := ev.in(t)
		c.must(412, "PUT", sent("a"), event(uid("a"), "Lost edit"), "User-Agent", evoUA, "Content-Type", `text/calendar; charset="utf-8"`, "If-Match", etags["a-old"], "Prefer", "return=minimal")
		c.must(412, "DELETE", sent("a"), "", "User-Agent", evoUA, "If-Match", etags["a-old"])
	})
	t.Run("sync/delete", func(t *testing.T) {
		// DELETE with If-Match: 204; then 404, which Evolution takes as
		// success, also for its retries as <UID>.ics and <UID>.
		requires(t, "the ETag of event a", etags["a"])
		c := ev.in(t)
		c.must(204, "DELETE", sent("a"), "", "User-Agent", evoUA, "If-Match", etags["a"])
		c.must(404, "DELETE", sent("a"), "", "User-Agent", evoUA)
		c.must(404, "DELETE", newCal+evoName(uid("a")), "", "User-Agent", evoUA)
	})
	t.Run("sync/invalid-token", func(t *testing.T) {
		// 412, or a 403 whose text contains valid-sync-token, restarts with an
		// empty token (Q12).
		c := ev.in(t)
		r := c.do("REPORT", newCal, fmt.Sprintf(evoSync, "urn:x-unknown:7"), evo("0")...)
		if r.Status == 412 {
			t.Logf("invalid token answered 412")
		} else {
			assertValidSyncTokenError(t, r)
		}
		s := c.do("REPORT", newCal, fmt.Sprintf(evoSync, ""), evo("0")...)
		assertSyncDelta(t, assertMultistatus(t, s), newCal, []string{canon("b")}, nil)
	})

	// Contacts in the new address book.
	cuid := "evo-card-1@example.org"
	csent := newBook + evoName(cuid) + ".vcf"
	ccanon := newBook + cuid + ".vcf"
	var cETag, bookToken string
	t.Run("contacts/put-create", func(t *testing.T) {
		r := ev.in(t).do("PUT", csent, contact3(cuid, "Eve Example"), "User-Agent", evoUA, "Content-Type", `text/vcard; charset="utf-8"`, "If-None-Match", "*", "Prefer", "return=minimal")
		if r.Status != 201 {
			t.Fatalf("PUT: %d, want 201\n%s", r.Status, r.Body)
		}
		cETag = assertStrongETag(t, r)
	})
	t.Run("contacts/sync-initial", func(t *testing.T) {
		r := ev.in(t).do("REPORT", newBook, fmt.Sprintf(evoSync, ""), evo("0")...)
		d := assertSyncDelta(t, assertMultistatus(t, r), newBook, []string{ccanon}, nil)
		if m, ok := d.changed[ccanon]; ok && m.ok(nsD, "getetag").trimmed() != cETag {
			t.Errorf("getetag %q, PUT gave %q", m.ok(nsD, "getetag").trimmed(), cETag)
		}
		bookToken = topSyncToken(t, r.Body)
		assertSyncToken(t, bookToken)
	})
	t.Run("contacts/multiget", func(t *testing.T) {
		rs := assertMultistatus(t, ev.in(t).do("REPORT", newBook, fmt.Sprintf(evoCardMultiget, hrefList("D:", ccanon)), evo("")...))
		m := mustHref(t, rs, ccanon)
		if got := m.ok(nsCR, "address-data").raw(); got != contact3(cuid, "Eve Example") {
			t.Errorf("address-data is not what was PUT:\n%q", got)
		}
		if m.ok(nsD, "getetag").trimmed() != cETag {
			t.Errorf("getetag %q, PUT gave %q", m.ok(nsD, "getetag").trimmed(), cETag)
		}
	})
	t.Run("contacts/conflict-and-delete", func(t *testing.T) {
		requires(t, "the card's ETag and the token", cETag, bookToken)
		c := ev.in(t)
		r := c.do("PUT", csent, contact3(cuid, "Eve B. Example"), "User-Agent", evoUA, "Content-Type", `text/vcard; charset="utf-8"`, "If-Match", cETag, "Prefer", "return=minimal")
		if r.Status != 204 && r.Status != 200 {
			t.Fatalf("update: %d", r.Status)
		}
		fresh := assertStrongETag(t, r)
		c.must(412, "PUT", csent, contact3(cuid, "Lost"), "User-Agent", evoUA, "Content-Type", `text/vcard; charset="utf-8"`, "If-Match", cETag)
		c.must(204, "DELETE", csent, "", "User-Agent", evoUA, "If-Match", fresh)
		c.must(404, "DELETE", csent, "", "User-Agent", evoUA)
		s := c.do("REPORT", newBook, fmt.Sprintf(evoSync, bookToken), evo("0")...)
		assertSyncDelta(t, assertMultistatus(t, s), newBook, nil, []string{ccanon})
	})
}
