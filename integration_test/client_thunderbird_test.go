package integration_test

import (
	"fmt"
	"strings"
	"testing"
)

// Thunderbird 128 request bodies, clients.md section 4. The calendar
// provider writes prefixed bodies; the address book writes the default
// namespace DAV: with prefixes card and cs.
const (
	// 4.2 detectCollection.
	tbDetect = `<?xml version="1.0" encoding="UTF-8"?>
<D:propfind xmlns:D="DAV:" xmlns:A="http://apple.com/ns/ical/" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:prop>
    <D:resourcetype/>
    <D:owner/>
    <D:displayname/>
    <D:current-user-principal/>
    <D:current-user-privilege-set/>
    <A:calendar-color/>
    <C:calendar-home-set/>
  </D:prop>
</D:propfind>`

	// 4.2 handlePrincipal.
	tbPrincipal = `<?xml version="1.0" encoding="UTF-8"?>
<D:propfind xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:prop>
    <C:calendar-home-set/>
  </D:prop>
</D:propfind>`

	// 4.2 handleHomeSet.
	tbHomeSet = `<?xml version="1.0" encoding="UTF-8"?>
<D:propfind xmlns:D="DAV:" xmlns:A="http://apple.com/ns/ical/">
  <D:prop>
    <D:resourcetype/>
    <D:displayname/>
    <D:current-user-privilege-set/>
    <A:calendar-color/>
  </D:prop>
</D:propfind>`

	// 4.3 step 1: checkDavResourceType.
	tbCheckResource = `<?xml version="1.0" encoding="UTF-8"?>
<D:propfind xmlns:D="DAV:" xmlns:CS="http://calendarserver.org/ns/" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:prop>
    <D:resourcetype/>
    <D:owner/>
    <D:current-user-principal/>
    <D:current-user-privilege-set/>
    <D:supported-report-set/>
    <C:supported-calendar-component-set/>
    <CS:getctag/>
  </D:prop>
</D:propfind>`

	// 4.4 without WebDAV sync: the ctag poll.
	tbCtag = `<?xml version="1.0" encoding="UTF-8"?>
<D:propfind xmlns:D="DAV:" xmlns:CS="http://calendarserver.org/ns/">
  <D:prop>
    <CS:getctag/>
  </D:prop>
</D:propfind>`

	// 4.4 without WebDAV sync: the Depth 1 listing.
	tbListing = `<?xml version="1.0" encoding="UTF-8"?>
<D:propfind xmlns:D="DAV:">
  <D:prop>
    <D:getcontenttype/>
    <D:resourcetype/>
    <D:getetag/>
  </D:prop>
</D:propfind>`

	// 4.4 download, Depth 1; %s is the list of D:href elements.
	tbCalMultiget = `<?xml version="1.0" encoding="UTF-8"?>
<C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:prop>
    <D:getetag/>
    <C:calendar-data/>
  </D:prop>
  %s
</C:calendar-multiget>`

	// 4.5 step 1: the well-known PROPFIND of the address book.
	tbCardWellKnown = `<propfind xmlns="DAV:"><prop><current-user-principal/></prop></propfind>`

	// 4.5 step 1: the principal.
	tbCardPrincipal = `<propfind xmlns="DAV:" xmlns:card="urn:ietf:params:xml:ns:carddav"><prop><card:addressbook-home-set/></prop></propfind>`

	// 4.5 step 1: the home, Depth 1.
	tbCardHome = `<propfind xmlns="DAV:"><prop><resourcetype/><displayname/><current-user-privilege-set/></prop></propfind>`

	// 4.5 step 2: the initial fetch, Depth 1.
	tbCardFetch = `<propfind xmlns="DAV:" xmlns:cs="http://calendarserver.org/ns/"><prop><resourcetype/><getetag/><cs:getctag/></prop></propfind>`

	// 4.5 step 2: the Depth 1 multiget; %s is the list of href elements.
	tbCardMultiget = `<card:addressbook-multiget xmlns="DAV:" xmlns:card="urn:ietf:params:xml:ns:carddav"><prop><getetag/><card:address-data/></prop>%s</card:addressbook-multiget>`

	// 4.5 step 2: the Depth 0 properties that switch to sync V2.
	tbCardProps = `<propfind xmlns="DAV:" xmlns:cs="http://calendarserver.org/ns/"><prop><displayname/><cs:getctag/><sync-token/></prop></propfind>`

	// 4.5 step 3: sync V2, Depth 1; %s is the token.
	tbCardSync = `<sync-collection xmlns="DAV:" xmlns:card="urn:ietf:params:xml:ns:carddav"><sync-token>%s</sync-token><sync-level>1</sync-level><prop><getetag/><card:address-data/></prop></sync-collection>`
)

// tbUA is Thunderbird's User-Agent (4.1).
const tbUA = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Thunderbird/128.5.0"

// tbCal returns the headers of the calendar provider's XML requests (4.1).
func tbCal(depth string, extra ...string) []string {
	h := []string{"User-Agent", tbUA, "Content-Type", "text/xml; charset=utf-8", "Accept", "text/xml"}
	if depth != "" {
		h = append(h, "Depth", depth)
	}
	return append(h, extra...)
}

// tbBook returns the headers of the address book's XML requests (4.1).
func tbBook(depth string) []string {
	return []string{"User-Agent", tbUA, "Content-Type", "text/xml", "Depth", depth}
}

// tbCalSync renders the calendar sync-collection body (4.4): an empty
// sync-token element on the first run.
func tbCalSync(token string) string {
	tok := "<sync-token/>"
	if token != "" {
		tok = "<sync-token>" + token + "</sync-token>"
	}
	return `<?xml version="1.0" encoding="UTF-8"?>
<sync-collection xmlns="DAV:">
  ` + tok + `
  <sync-level>1</sync-level>
  <prop>
    <getcontenttype/>
    <getetag/>
  </prop>
</sync-collection>`
}

// tbName is Thunderbird's resource name for a UID: everything outside
// [A-Za-z0-9_.-] becomes "_" (section 1.4).
func tbName(uid string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '.' || r == '-' {
			return r
		}
		return '_'
	}, uid)
}

// assertTBCalMembers applies Thunderbird's calendar member rules (4.4) to
// a sync-collection or listing answer: a 404 is a delete; anything else
// needs getcontenttype text/calendar (or a .ics href) and getetag; the
// collection itself may appear with 200 and its slash. Any other response
// fails the whole sync.
func assertTBCalMembers(t *testing.T, rs []xresponse, coll string) {
	t.Helper()
	for _, r := range rs {
		if strings.Contains(r.firstStatus(), " 404") && r.Href != coll {
			continue
		}
		if r.Href == coll {
			if got := r.firstStatus(); got != "HTTP/1.1 200 OK" {
				t.Errorf("the calendar itself is reported with %q", got)
			}
			continue
		}
		ct := r.ok(nsD, "getcontenttype").trimmed()
		if !strings.HasPrefix(ct, "text/calendar") && !(strings.HasSuffix(r.Href, ".ics") && (ct == "" || strings.HasPrefix(ct, "text/plain"))) {
			t.Errorf("%s: getcontenttype %q is an \"unhandled error\" (4.4, Q9)", r.Href, ct)
		}
		if r.ok(nsD, "getetag").trimmed() == "" {
			t.Errorf("%s: no getetag (4.4)", r.Href)
		}
	}
}

// TestClientThunderbird replays Thunderbird's calendar and address-book
// discovery, start-up checks, WebDAV sync, uploads, conflicts and
// deletions (clients.md section 4; it creates no collections) and checks
// every point of section 1 it relies on.
func TestClientThunderbird(t *testing.T) {
	s := startServer(t, "")
	const user, pass = "theo", "theo-password-tb"
	addUser(t, s.data, user, pass)
	anon := s.anonymous(t)
	tb := s.client(t, user, pass)
	other := s.client(t, user, pass) // a second device of the same user
	principal := "/dav/principals/" + user + "/"
	calHome := "/dav/calendars/" + user + "/"
	bookHome := "/dav/addressbooks/" + user + "/"
	cal := calHome + "calendar/"
	tasks := calHome + "tasks/"
	book := bookHome + "contacts/"

	// Calendar discovery (4.2): the entered URL is the bare host, so
	// /.well-known/caldav, then /. The first request has no credentials.
	t.Run("calendar-detect/unauthenticated", func(t *testing.T) {
		c := anon.in(t)
		assertRedirectKeepsMethod(t, c.do("PROPFIND", "/.well-known/caldav", tbDetect, tbCal("0")...))
		assertUnauthorized(t, c.do("PROPFIND", "/dav/", tbDetect, tbCal("0")...))
	})
	for _, start := range []struct{ name, path string }{{"well-known", "/.well-known/caldav"}, {"root", "/"}} {
		t.Run("calendar-detect/"+start.name, func(t *testing.T) {
			// detectCollection: the first response must carry resourcetype;
			// not a calendar, so calendar-home-set or current-user-principal is
			// followed. The redirect is followed with method and body (4.1).
			c := tb.in(t)
			target := start.path
			if start.path != "/" {
				assertRedirectKeepsMethod(t, c.do("PROPFIND", start.path, tbDetect, tbCal("0")...))
				target = "/dav/"
			}
			rs := assertMultistatus(t, c.do("PROPFIND", target, tbDetect, tbCal("0")...))
			first := firstResponse(t, rs)
			if first.ok(nsD, "resourcetype") == nil {
				t.Fatalf("the first response has no resourcetype: TypeError (4.2)")
			}
			if first.ok(nsD, "resourcetype").child(nsC, "calendar") != nil {
				t.Errorf("%s claims to be a calendar", target)
			}
			home := first.ok(nsC, "calendar-home-set").hrefTexts()
			cup := first.ok(nsD, "current-user-principal").hrefTexts()
			if !(len(home) == 1 && home[0] == calHome) && !(len(cup) == 1 && cup[0] == principal) {
				t.Errorf("neither calendar-home-set %v nor current-user-principal %v leads on", home, cup)
			}
		})
	}
	t.Run("calendar-detect/principal", func(t *testing.T) {
		rs := assertMultistatus(t, tb.in(t).do("PROPFIND", principal, tbPrincipal, tbCal("0")...))
		if got := mustHref(t, rs, principal).ok(nsC, "calendar-home-set").hrefTexts(); len(got) != 1 || got[0] != calHome {
			t.Errorf("calendar-home-set %v, want %s (Q3: a missing one throws)", got, calHome)
		}
	})
	t.Run("calendar-detect/home-set", func(t *testing.T) {
		// handleHomeSet, section 1.2, Q9: every response carries resourcetype.
		rs := assertMultistatus(t, tb.in(t).do("PROPFIND", calHome, tbHomeSet, tbCal("1")...))
		assertListingHasResourcetype(t, rs)
		assertAbsolutePathHrefs(t, rs, calHome)
		for _, href := range []string{cal, tasks} {
			r := mustHref(t, rs, href)
			if r.ok(nsD, "resourcetype").child(nsC, "calendar") == nil {
				t.Errorf("%s: resourcetype lacks C:calendar", href)
			}
			assertWritable(t, r)
			if r.ok(nsD, "displayname").trimmed() == "" {
				t.Errorf("%s: no displayname", href)
			}
		}
	})
	t.Run("calendar-check/resource-type", func(t *testing.T) {
		// 4.3 step 1: answered directly (a redirect is "calendar moved", Q24,
		// a 4xx disables it); C:calendar; sync-collection enables WebDAV sync.
		rs := assertMultistatus(t, tb.in(t).do("PROPFIND", cal, tbCheckResource, tbCal("0")...))
		r := mustHref(t, rs, cal)
		if r.ok(nsD, "resourcetype").child(nsC, "calendar") == nil {
			t.Errorf("resourcetype lacks C:calendar")
		}
		assertReports(t, r, "sync-collection", "calendar-multiget")
		if got := componentNames(r.ok(nsC, "supported-calendar-component-set")); len(got) != 1 || got[0] != "VEVENT" {
			t.Errorf("supported-calendar-component-set %v, want VEVENT", got)
		}
		if r.ok(nsCS, "getctag").trimmed() == "" {
			t.Errorf("no CS:getctag")
		}
		if got := r.ok(nsD, "current-user-principal").hrefTexts(); len(got) != 1 || got[0] != principal {
			t.Errorf("current-user-principal %v", got)
		}
		assertWritable(t, r)
	})
	t.Run("calendar-check/options-parent", func(t *testing.T) {
		// 4.3 step 2, Q2, Q3: OPTIONS on the parent; no scheduling advertised.
		assertDAVHeader(t, tb.in(t).do("OPTIONS", calHome, "", "User-Agent", tbUA))
	})
	t.Run("calendar-check/no-trailing-slash", func(t *testing.T) {
		// Q24, Q25: the slash-less URL is served, not redirected.
		r := tb.in(t).do("PROPFIND", strings.TrimSuffix(cal, "/"), tbCheckResource, tbCal("0")...)
		if rs := assertMultistatus(t, r); len(rs) != 1 || rs[0].Href != cal {
			t.Errorf("hrefs %v, want [%s]", hrefs(t, r.Body), cal)
		}
	})

	// Calendar sync (4.4).
	uid := func(n string) string { return "tb-" + n + "@example.org" }
	href := func(n string) string { return cal + tbName(uid(n)) + ".ics" }
	etags := map[string]string{}
	t.Run("calendar-sync/other-device-writes", func(t *testing.T) {
		for _, n := range []string{"a", "c", "d"} {
			etags[n] = other.in(t).must(201, "PUT", href(n), event(uid(n), "Event "+n), "Content-Type", "text/calendar").Header.Get("ETag")
		}
	})
	var token string
	t.Run("calendar-sync/initial", func(t *testing.T) {
		r := tb.in(t).do("REPORT", cal, tbCalSync(""), tbCal("1")...)
		rs := assertMultistatus(t, r)
		assertTBCalMembers(t, rs, cal)
		assertSyncDelta(t, rs, cal, []string{href("a"), href("c"), href("d")}, nil)
		token = topSyncToken(t, r.Body)
		assertSyncToken(t, token)
	})
	t.Run("calendar-sync/multiget", func(t *testing.T) {
		// 4.4 download: Depth 1; each response has href, getetag and
		// calendar-data, or a 404.
		missing := cal + "tb-never-existed.ics"
		body := fmt.Sprintf(tbCalMultiget, hrefList("D:", href("a"), href("c"), href("d"), missing))
		rs := assertMultistatus(t, tb.in(t).do("REPORT", cal, body, tbCal("1")...))
		for _, n := range []string{"a", "c", "d"} {
			m := mustHref(t, rs, href(n))
			if got := m.ok(nsC, "calendar-data").raw(); got != event(uid(n), "Event "+n) {
				t.Errorf("%s: calendar-data is not what was PUT:\n%q", href(n), got)
			}
			if got := m.ok(nsD, "getetag").trimmed(); got == "" || got != etags[n] {
				t.Errorf("%s: getetag %q, PUT gave %q", href(n), got, etags[n])
			}
		}
		if m := mustHref(t, rs, missing); !strings.Contains(m.firstStatus(), " 404") {
			t.Errorf("missing href: status %q, want 404 (anything else is a multiget error)", m.firstStatus())
		}
	})
	t.Run("calendar-sync/create", func(t *testing.T) {
		// 4.4 create: "_" for "@", If-None-Match, then a one-href multiget.
		c := tb.in(t)
		r := c.do("PUT", href("b"), event(uid("b"), "New in Thunderbird"), "User-Agent", tbUA, "Content-Type", "text/calendar; charset=utf-8", "If-None-Match", "*")
		if r.Status != 201 {
			t.Fatalf("PUT: %d, want 201\n%s", r.Status, r.Body)
		}
		etags["b"] = assertStrongETag(t, r)
		rs := assertMultistatus(t, c.do("REPORT", cal, fmt.Sprintf(tbCalMultiget, hrefList("D:", href("b"))), tbCal("1")...))
		if m := mustHref(t, rs, href("b")); m.ok(nsD, "getetag").trimmed() != etags["b"] || m.ok(nsC, "calendar-data") == nil {
			t.Errorf("re-read: getetag %q (PUT gave %q), calendar-data %v", m.ok(nsD, "getetag").trimmed(), etags["b"], m.ok(nsC, "calendar-data") != nil)
		}
	})
	t.Run("calendar-sync/update", func(t *testing.T) {
		// 4.4 update: If-Match with the getetag text verbatim.
		requires(t, "the new event's ETag", etags["b"])
		r := tb.in(t).do("PUT", href("b"), event(uid("b"), "Renamed in Thunderbird"), "User-Agent", tbUA, "Content-Type", "text/calendar; charset=utf-8", "If-Match", etags["b"])
		if r.Status != 204 && r.Status != 200 && r.Status != 201 {
			t.Fatalf("update: %d\n%s", r.Status, r.Body)
		}
		etags["b-old"], etags["b"] = etags["b"], assertStrongETag(t, r)
	})
	t.Run("calendar-sync/other-device-changes", func(t *testing.T) {
		requires(t, "the other device's ETags", etags["a"], etags["c"])
		o := other.in(t)
		etags["c"] = o.must(204, "PUT", href("c"), event(uid("c"), "Event c moved"), "Content-Type", "text/calendar", "If-Match", etags["c"]).Header.Get("ETag")
		o.must(204, "DELETE", href("a"), "", "If-Match", etags["a"])
	})
	t.Run("calendar-sync/incremental", func(t *testing.T) {
		requires(t, "the initial token", token)
		r := tb.in(t).do("REPORT", cal, tbCalSync(token), tbCal("1")...)
		rs := assertMultistatus(t, r)
		assertTBCalMembers(t, rs, cal)
		assertSyncDelta(t, rs, cal, []string{href("b"), href("c")}, []string{href("a")})
		if next := topSyncToken(t, r.Body); next == token {
			t.Errorf("sync-token did not change")
		} else {
			assertSyncToken(t, next)
		}
	})
	t.Run("calendar-sync/conflict", func(t *testing.T) {
		// 4.4: 412 asks the user; a DELETE conflict leads to HEAD, which
		// finds the item still there.
		requires(t, "the first ETag of the new event", etags["b-old"])
		c := tb.in(t)
		c.must(412, "PUT", href("b"), event(uid("b"), "Lost edit"), "User-Agent", tbUA, "Content-Type", "text/calendar; charset=utf-8", "If-Match", etags["b-old"])
		c.must(412, "DELETE", href("b"), "", "User-Agent", tbUA, "If-Match", etags["b-old"])
		head := c.must(200, "HEAD", href("b"), "", "User-Agent", tbUA)
		if head.Header.Get("ETag") != etags["b"] {
			t.Errorf("HEAD ETag %q, want %q", head.Header.Get("ETag"), etags["b"])
		}
	})
	t.Run("calendar-sync/delete", func(t *testing.T) {
		// 4.4 delete: DELETE with If-Match gives 204. Sent again, 404 is a
		// success; 412 (If-Match on a missing resource, section 1.4) leads to
		// HEAD, which must then find nothing.
		requires(t, "the event's ETag", etags["b"])
		c := tb.in(t)
		c.must(204, "DELETE", href("b"), "", "User-Agent", tbUA, "If-Match", etags["b"])
		switch r := c.do("DELETE", href("b"), "", "User-Agent", tbUA, "If-Match", etags["b"]); r.Status {
		case 404:
		case 412:
			c.must(404, "HEAD", href("b"), "", "User-Agent", tbUA)
		default:
			t.Errorf("second DELETE: %d, want 404 or 412", r.Status)
		}
		c.must(404, "DELETE", href("b"), "", "User-Agent", tbUA)
	})
	t.Run("calendar-sync/ctag-polling", func(t *testing.T) {
		// 4.4 without WebDAV sync: getctag, then a Depth 1 listing where every
		// item has getcontenttype text/calendar (Q9).
		c := tb.in(t)
		rs := assertMultistatus(t, c.do("PROPFIND", cal, tbCtag, tbCal("0")...))
		if mustHref(t, rs, cal).ok(nsCS, "getctag").trimmed() == "" {
			t.Errorf("no CS:getctag")
		}
		rs = assertMultistatus(t, c.do("PROPFIND", cal, tbListing, tbCal("1")...))
		assertListingHasResourcetype(t, rs)
		assertTBCalMembers(t, rs, cal)
		if len(rs) != 3 { // the calendar, c and d
			t.Errorf("listing %d responses, want 3", len(rs))
		}
	})
	t.Run("calendar-sync/invalid-token", func(t *testing.T) {
		// 4.4, Q12: a 4xx drops the token and resyncs; the body must not be
		// Google's bare <D:error xmlns:D="DAV:"/>, read as rate limiting.
		c := tb.in(t)
		r := c.do("REPORT", cal, tbCalSync("http://coffer.invalid/ns/sync/42x"), tbCal("1")...)
		assertValidSyncTokenError(t, r)
		if strings.Contains(r.Body, `<D:error xmlns:D="DAV:"/>`) || r.Status == 429 {
			t.Errorf("the invalid-token answer looks like rate limiting:\n%s", r.Body)
		}
		s := c.do("REPORT", cal, tbCalSync(""), tbCal("1")...)
		assertSyncDelta(t, assertMultistatus(t, s), cal, []string{href("c"), href("d")}, nil)
	})

	// Address book (4.5).
	t.Run("addressbook-detect/unauthenticated", func(t *testing.T) {
		c := anon.in(t)
		assertRedirectKeepsMethod(t, c.do("PROPFIND", "/.well-known/carddav", tbCardWellKnown, tbBook("0")...))
		assertUnauthorized(t, c.do("PROPFIND", "/dav/", tbCardWellKnown, tbBook("0")...))
	})
	t.Run("addressbook-detect/well-known", func(t *testing.T) {
		// 4.5 step 1: a 207 with a principal href.
		c := tb.in(t)
		assertRedirectKeepsMethod(t, c.do("PROPFIND", "/.well-known/carddav", tbCardWellKnown, tbBook("0")...))
		rs := assertMultistatus(t, c.do("PROPFIND", "/dav/", tbCardWellKnown, tbBook("0")...))
		if got := firstResponse(t, rs).ok(nsD, "current-user-principal").hrefTexts(); len(got) != 1 || got[0] != principal {
			t.Errorf("current-user-principal %v, want %s", got, principal)
		}
	})
	t.Run("addressbook-detect/principal", func(t *testing.T) {
		rs := assertMultistatus(t, tb.in(t).do("PROPFIND", principal, tbCardPrincipal, tbBook("0")...))
		r := mustHref(t, rs, principal)
		assertFirstStatusOK(t, r)
		if got := r.ok(nsCR, "addressbook-home-set").hrefTexts(); len(got) != 1 || got[0] != bookHome {
			t.Errorf("addressbook-home-set %v, want %s", got, bookHome)
		}
	})
	t.Run("addressbook-detect/home", func(t *testing.T) {
		// 4.5 step 1, Q8: only responses whose first status is exactly
		// "HTTP/1.1 200 OK" count; the book needs read and write.
		rs := assertMultistatus(t, tb.in(t).do("PROPFIND", bookHome, tbCardHome, tbBook("1")...))
		for _, r := range rs {
			assertFirstStatusOK(t, r)
		}
		r := mustHref(t, rs, book)
		if r.ok(nsD, "resourcetype").child(nsCR, "addressbook") == nil {
			t.Errorf("resourcetype lacks CR:addressbook")
		}
		privs := privilegeNames(r.ok(nsD, "current-user-privilege-set"))
		if !privs["read"] && !privs["all"] {
			t.Errorf("privileges %v: no read, the book is skipped", privs)
		}
		assertWritable(t, r)
	})

	cardUID := func(n string) string { return "0b6f4b2e-4c1d-4f7a-9e3b-5d2c1a0f9e8" + n }
	cardHref := func(n string) string { return book + cardUID(n) + ".vcf" }
	cardETags := map[string]string{}
	t.Run("addressbook-fetch/other-device-writes", func(t *testing.T) {
		for _, n := range []string{"1", "2"} {
			cardETags[n] = other.in(t).must(201, "PUT", cardHref(n), contact3(cardUID(n), "Person "+n), "Content-Type", "text/vcard").Header.Get("ETag")
		}
	})
	t.Run("addressbook-fetch/propfind", func(t *testing.T) {
		// 4.5 step 2, Q8: only an exactly-200 propstat is used; members need an
		// (empty) resourcetype in it, and a getetag.
		rs := assertMultistatus(t, tb.in(t).do("PROPFIND", book, tbCardFetch, tbBook("1")...))
		for _, r := range rs {
			assertFirstStatusOK(t, r)
		}
		assertListingHasResourcetype(t, rs)
		if mustHref(t, rs, book).ok(nsCS, "getctag").trimmed() == "" {
			t.Errorf("no CS:getctag on the book")
		}
		for _, n := range []string{"1", "2"} {
			if got := mustHref(t, rs, cardHref(n)).ok(nsD, "getetag").trimmed(); got == "" || got != cardETags[n] {
				t.Errorf("%s: getetag %q, PUT gave %q", cardHref(n), got, cardETags[n])
			}
		}
	})
	t.Run("addressbook-fetch/multiget", func(t *testing.T) {
		// 4.5 step 2: one multiget with Depth 1 and all hrefs.
		rs := assertMultistatus(t, tb.in(t).do("REPORT", book, fmt.Sprintf(tbCardMultiget, hrefList("", cardHref("1"), cardHref("2"))), tbBook("1")...))
		for _, n := range []string{"1", "2"} {
			m := mustHref(t, rs, cardHref(n))
			if got := m.ok(nsCR, "address-data").raw(); got != contact3(cardUID(n), "Person "+n) {
				t.Errorf("%s: address-data is not what was PUT:\n%q", cardHref(n), got)
			}
			if m.ok(nsD, "getetag").trimmed() != cardETags[n] {
				t.Errorf("%s: getetag %q", cardHref(n), m.ok(nsD, "getetag").trimmed())
			}
		}
	})
	var bookToken, firstBookToken string
	t.Run("addressbook-fetch/props", func(t *testing.T) {
		// 4.5 step 2: a sync-token switches Thunderbird to sync V2.
		rs := assertMultistatus(t, tb.in(t).do("PROPFIND", book, tbCardProps, tbBook("0")...))
		r := mustHref(t, rs, book)
		assertFirstStatusOK(t, r)
		bookToken = r.ok(nsD, "sync-token").trimmed()
		firstBookToken = bookToken
		assertSyncToken(t, bookToken)
		if r.ok(nsCS, "getctag").trimmed() == "" || r.ok(nsD, "displayname").trimmed() == "" {
			t.Errorf("getctag %q, displayname %q", r.ok(nsCS, "getctag").trimmed(), r.ok(nsD, "displayname").trimmed())
		}
	})
	tbCard := book + cardUID("3") + ".vcf"
	var tbCardHref string
	t.Run("addressbook-sync/put-create", func(t *testing.T) {
		// 4.5 step 5: text/vcard, no If-Match or If-None-Match, a vCard 4;
		// then a one-href multiget.
		c := tb.in(t)
		r := c.do("PUT", tbCard, contact4(cardUID("3"), "Ada Lovelace"), "User-Agent", tbUA, "Content-Type", "text/vcard")
		if r.Status >= 400 {
			t.Fatalf("PUT: %d\n%s", r.Status, r.Body)
		}
		if r.Status != 201 {
			t.Errorf("PUT create: %d, want 201 (section 1.4)", r.Status)
		}
		cardETags["3"] = assertStrongETag(t, r)
		rs := assertMultistatus(t, c.do("REPORT", book, fmt.Sprintf(tbCardMultiget, hrefList("", tbCard)), tbBook("1")...))
		if len(rs) != 1 {
			t.Fatalf("one-href multiget gave %d responses", len(rs))
		}
		tbCardHref = rs[0].Href
		if tbCardHref != tbCard {
			t.Errorf("multiget href %q, PUT to %q", tbCardHref, tbCard)
		}
		if got := rs[0].ok(nsCR, "address-data").raw(); got != contact4(cardUID("3"), "Ada Lovelace") {
			t.Errorf("address-data is not the vCard 4 as PUT:\n%q", got)
		}
	})
	t.Run("addressbook-sync/put-update", func(t *testing.T) {
		// 4.5 step 5: updates carry no If-Match either.
		r := tb.in(t).do("PUT", tbCard, contact4(cardUID("3"), "Ada King"), "User-Agent", tbUA, "Content-Type", "text/vcard")
		if r.Status >= 400 {
			t.Fatalf("PUT: %d\n%s", r.Status, r.Body)
		}
		if r.Status != 204 {
			t.Errorf("PUT update: %d, want 204 (section 1.4)", r.Status)
		}
		cardETags["3"] = assertStrongETag(t, r)
	})
	t.Run("addressbook-sync/other-device-changes", func(t *testing.T) {
		requires(t, "the ETags", cardETags["1"], cardETags["3"])
		o := other.in(t)
		cardETags["3"] = o.must(204, "PUT", tbCard, contact4(cardUID("3"), "Ada, Countess of Lovelace"), "Content-Type", "text/vcard", "If-Match", cardETags["3"]).Header.Get("ETag")
		o.must(204, "DELETE", cardHref("1"), "", "If-Match", cardETags["1"])
	})
	t.Run("addressbook-sync/incremental", func(t *testing.T) {
		// 4.5 step 3: 207; deletes start with "HTTP/1.1 404"; changes have
		// getetag and address-data; the new token is the first sync-token in
		// the document; the href equals the multiget's exactly (4.5 step 4).
		requires(t, "the book's sync-token and the card's href", bookToken, tbCardHref)
		r := tb.in(t).do("REPORT", book, fmt.Sprintf(tbCardSync, bookToken), tbBook("1")...)
		rs := assertMultistatus(t, r)
		d := assertSyncDelta(t, rs, book, []string{tbCardHref}, []string{cardHref("1")})
		for _, x := range rs {
			if x.Href == cardHref("1") && !strings.HasPrefix(x.firstStatus(), "HTTP/1.1 404") {
				t.Errorf("delete status %q", x.firstStatus())
			}
		}
		if m, ok := d.changed[tbCardHref]; ok {
			if got := m.ok(nsCR, "address-data").raw(); got != contact4(cardUID("3"), "Ada, Countess of Lovelace") {
				t.Errorf("address-data %q", got)
			}
			if m.ok(nsD, "getetag").trimmed() != cardETags["3"] {
				t.Errorf("getetag %q, PUT gave %q", m.ok(nsD, "getetag").trimmed(), cardETags["3"])
			}
		}
		var first string
		parseXNode(t, r.Body).walk(func(n *xnode) {
			if first == "" && n.is(nsD, "sync-token") {
				first = n.trimmed()
			}
		})
		if first == "" || first != topSyncToken(t, r.Body) || first == bookToken {
			t.Errorf("first sync-token in the document %q; top-level %q; old %q", first, topSyncToken(t, r.Body), bookToken)
		}
		bookToken = first
	})
	t.Run("addressbook-sync/delete", func(t *testing.T) {
		// 4.5 step 5: DELETE without If-Match; 404 the second time.
		c := tb.in(t)
		c.must(204, "DELETE", tbCard, "", "User-Agent", tbUA)
		c.must(404, "DELETE", tbCard, "", "User-Agent", tbUA)
	})
	t.Run("addressbook-sync/old-token-still-valid", func(t *testing.T) {
		// Q12: Thunderbird's address book recovers only from 400, so tokens
		// must stay valid: the first token still answers 207 with every
		// change since.
		requires(t, "the first sync-token", firstBookToken)
		r := tb.in(t).do("REPORT", book, fmt.Sprintf(tbCardSync, firstBookToken), tbBook("1")...)
		if r.Status != 207 {
			t.Fatalf("an old token: %d, want 207 (Q12)\n%s", r.Status, r.Body)
		}
		// The card created and deleted since may be reported as deleted or
		// not at all.
		rs := xresponses(t, r.Body)
		deleted := []string{cardHref("1")}
		if _, found := byHref(rs, tbCard); found {
			deleted = append(deleted, tbCard)
		}
		assertSyncDelta(t, rs, book, nil, deleted)
	})
}
