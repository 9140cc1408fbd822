package dav

import (
	"encoding/xml"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
)

const bookPath = "/dav/addressbooks/alice/contacts/"

func hrefs(hs ...string) string {
	var b strings.Builder
	for _, h := range hs {
		b.WriteString("<href>" + h + "</href>")
	}
	return b.String()
}

func TestCalendarMultiget(t *testing.T) {
	ts := newTestServer(t)
	etag := ts.do(t, "alice", "PUT", calPath+"ev1@example.org.ics", icsEvent).Header().Get("ETag")
	ts.do(t, "bob", "PUT", "/dav/calendars/bob/calendar/secret.ics", icsOther)
	body := fmt.Sprintf(bodyDAVx5CalMultiget, hrefs(
		calPath+"ev1%40example.org.ics",                     // Evolution spelling of the same resource
		"http://dav.example.org:8443"+calPath+"missing.ics", // full URL, missing
		"/dav/calendars/bob/calendar/secret.ics",            // another user's: 404, reveals nothing
		"/dav/calendars/alice/tasks/todo1.ics",              // outside this collection
		"/dav/calendars/alice/calendar/%zz",                 // malformed
	))
	for _, depth := range []string{"", "Depth: 1", "Depth: 0"} {
		var headers []string
		if depth != "" {
			headers = append(headers, depth)
		}
		d := parseMS(t, ts.do(t, "alice", "REPORT", calPath, body, headers...))
		if len(d.Responses) != 5 {
			t.Fatalf("%d responses", len(d.Responses))
		}
		got := d.resp(t, calPath+"ev1@example.org.ics").ok(t)
		if !strings.Contains(got, "<D:getetag>"+escapeString(etag)+"</D:getetag>") ||
			!strings.Contains(got, "<C:calendar-data>"+escapeString(icsEvent)+"</C:calendar-data>") {
			t.Fatalf("found response: %s", got)
		}
		for _, r := range d.Responses[1:] {
			if r.Status != "HTTP/1.1 404 Not Found" || len(r.Propstats) != 0 {
				t.Fatalf("%s: %+v", r.Href, r)
			}
		}
	}
	// The calendar-data round-trips byte for byte, CRLF included.
	rec := ts.do(t, "alice", "REPORT", calPath, body)
	dec := xml.NewDecoder(strings.NewReader(rec.Body.String()))
	var data []string
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "calendar-data" && se.Name.Space == nsCalDAV {
			var s string
			if err := dec.DecodeElement(&s, &se); err != nil {
				t.Fatal(err)
			}
			data = append(data, s)
		}
	}
	if len(data) != 1 || data[0] != icsEvent {
		t.Fatalf("calendar-data changed: %q", data)
	}
}

func TestAddressbookMultiget(t *testing.T) {
	ts := newTestServer(t)
	ts.do(t, "alice", "PUT", bookPath+"card1.vcf", vcard3)
	body := fmt.Sprintf(bodyThunderbirdCardMultiget, "<D:href>"+bookPath+"card1.vcf</D:href><D:href>"+bookPath+"gone.vcf</D:href>")
	d := parseMS(t, ts.do(t, "alice", "REPORT", bookPath, body, "Depth: 1"))
	if got := d.resp(t, bookPath+"card1.vcf").ok(t); !strings.Contains(got, "<CR:address-data>"+escapeString(vcard3)+"</CR:address-data>") {
		t.Fatalf("address-data: %s", got)
	}
	if r := d.resp(t, bookPath+"gone.vcf"); r.Status != "HTTP/1.1 404 Not Found" {
		t.Fatalf("missing card: %+v", r)
	}
	// A calendar multiget on an address book is not supported there.
	wantError(t, ts.do(t, "alice", "REPORT", bookPath, fmt.Sprintf(bodyDAVx5CalMultiget, "")), 403, "supported-report")
}

func TestMultigetCap(t *testing.T) {
	ts := newTestServer(t)
	many := strings.Repeat("<href>"+calPath+"x.ics</href>", defaultMaxMultigetHrefs+1)
	wantError(t, ts.do(t, "alice", "REPORT", calPath, fmt.Sprintf(bodyDAVx5CalMultiget, many)), 403, "")
}

func TestSyncCollection(t *testing.T) {
	ts := newTestServer(t)
	sync := func(body, token string, headers ...string) msDoc {
		t.Helper()
		return parseMS(t, ts.do(t, "alice", "REPORT", bookPath, fmt.Sprintf(body, token), headers...))
	}
	ts.do(t, "alice", "PUT", bookPath+"a.vcf", vcard3)
	ts.do(t, "alice", "PUT", bookPath+"b.vcf", vcard4)
	ts.do(t, "alice", "PUT", bookPath+"tmp.vcf", strings.Replace(vcard4, "card2", "tmp", 1))
	ts.do(t, "alice", "DELETE", bookPath+"tmp.vcf", "")

	// Initial sync, as DAVx5 (Depth 0), Apple (no sync-level, Depth 1) and
	// Thunderbird (Depth 1): everything, no deletions.
	for _, tc := range []struct {
		body    string
		headers []string
	}{{bodyDAVx5Sync, []string{"Depth: 0"}}, {bodyAppleSync, []string{"Depth: 1"}}, {bodyThunderbirdSync, []string{"Depth: 1"}}} {
		d := sync(tc.body, "", tc.headers...)
		if len(d.Responses) != 2 || !strings.HasPrefix(d.SyncToken, "http://coffer.invalid/ns/sync/") {
			t.Fatalf("initial: %+v token %q", d.Responses, d.SyncToken)
		}
		if got := d.resp(t, bookPath+"a.vcf").ok(t); !strings.Contains(got, "<D:getetag>") {
			t.Fatalf("initial member: %s", got)
		}
	}
	d := sync(bodyThunderbirdSync, "")
	if !strings.Contains(d.resp(t, bookPath+"a.vcf").ok(t), "<CR:address-data>BEGIN:VCARD") {
		t.Fatal("address-data missing")
	}
	token := d.SyncToken

	// Nothing changed: no members, same token.
	if d := sync(bodyDAVx5Sync, token); len(d.Responses) != 0 || d.SyncToken != token {
		t.Fatalf("unchanged: %+v %q", d.Responses, d.SyncToken)
	}

	// One update, one deletion, one creation.
	ts.do(t, "alice", "PUT", bookPath+"a.vcf", strings.Replace(vcard3, "Jane Doe", "Jane Roe", 1))
	ts.do(t, "alice", "DELETE", bookPath+"b.vcf", "")
	ts.do(t, "alice", "PUT", bookPath+"c.vcf", strings.Replace(vcard4, "card2", "card3", 1))
	d = sync(bodyAppleSync, token)
	if len(d.Responses) != 3 || d.SyncToken == token {
		t.Fatalf("incremental: %+v %q", d.Responses, d.SyncToken)
	}
	if r := d.resp(t, bookPath+"b.vcf"); r.Status != "HTTP/1.1 404 Not Found" {
		t.Fatalf("deletion: %+v", r)
	}
	if got := d.resp(t, bookPath+"c.vcf").ok(t); !strings.Contains(got, "<D:getcontenttype>text/vcard; charset=utf-8</D:getcontenttype>") {
		t.Fatalf("creation: %s", got)
	}

	// The ctag and sync-token properties follow the revision.
	pf := parseMS(t, ts.do(t, "alice", "PROPFIND", bookPath, `<propfind xmlns="DAV:" xmlns:CS="http://calendarserver.org/ns/"><prop><sync-token/><CS:getctag/></prop></propfind>`, "Depth: 0"))
	if got := pf.Responses[0].ok(t); !strings.Contains(got, "<D:sync-token>"+d.SyncToken+"</D:sync-token>") || !strings.Contains(got, "<CS:getctag>"+d.SyncToken) {
		t.Fatalf("tokens: %s vs %s", got, d.SyncToken)
	}
}

func TestSyncCollectionLimit(t *testing.T) {
	ts := newTestServer(t)
	for i := range 5 {
		ts.do(t, "alice", "PUT", fmt.Sprintf("%sc%d.vcf", bookPath, i), strings.Replace(vcard4, "card2", fmt.Sprint("u", i), 1))
	}
	body := `<sync-collection xmlns="DAV:"><sync-token>%s</sync-token><sync-level>1</sync-level><limit><nresults>2</nresults></limit><prop><getetag/></prop></sync-collection>`
	token, seen := "", 0
	for round := 0; ; round++ {
		d := parseMS(t, ts.do(t, "alice", "REPORT", bookPath, fmt.Sprintf(body, token)))
		more := false
		for _, r := range d.Responses {
			if r.Href == bookPath {
				if r.Status != "HTTP/1.1 507 Insufficient Storage" {
					t.Fatalf("collection status %q", r.Status)
				}
				more = true
				continue
			}
			seen++
		}
		token = d.SyncToken
		if !more {
			break
		}
		if round > 5 {
			t.Fatal("no progress")
		}
	}
	if seen != 5 {
		t.Fatalf("saw %d members over the rounds", seen)
	}
}

func TestSyncCollectionBadToken(t *testing.T) {
	ts := newTestServer(t)
	for _, tok := range []string{"garbage", "http://coffer.invalid/ns/sync/999", "http://coffer.invalid/ns/sync/-1", "http://other/ns/sync/1", "http://coffer.invalid/ns/sync/1x"} {
		rec := ts.do(t, "alice", "REPORT", bookPath, fmt.Sprintf(bodyDAVx5Sync, tok))
		wantError(t, rec, 403, "<D:valid-sync-token/>")
	}
	wantError(t, ts.do(t, "alice", "REPORT", bookPath, `<sync-collection xmlns="DAV:"><sync-token/><sync-level>2</sync-level></sync-collection>`), 400, "")
}

func TestSyncHome(t *testing.T) {
	ts := newTestServer(t)
	d := parseMS(t, ts.do(t, "alice", "REPORT", "/dav/calendars/alice/", fmt.Sprintf(bodyAppleSync, ""), "Depth: 1"))
	if len(d.Responses) != 2 || d.SyncToken == "" {
		t.Fatalf("home sync: %+v", d)
	}
	// RFC 6578 3.2: the token stays valid; nothing changed since.
	again := parseMS(t, ts.do(t, "alice", "REPORT", "/dav/calendars/alice/", fmt.Sprintf(bodyAppleSync, d.SyncToken)))
	if len(again.Responses) != 0 || again.SyncToken != d.SyncToken {
		t.Fatalf("home sync again: %+v", again)
	}
}

func TestCalendarQueryListing(t *testing.T) {
	ts := newTestServer(t)
	// A calendar without a component set accepts all three.
	ts.do(t, "alice", "MKCALENDAR", "/dav/calendars/alice/all/", "")
	all := "/dav/calendars/alice/all/"
	ts.do(t, "alice", "PUT", all+"ev.ics", icsEvent)
	ts.do(t, "alice", "PUT", all+"todo.ics", icsTodo)
	tests := []struct {
		comp, timeRange string
		want            string
	}{
		{"VEVENT", `<CAL:time-range start="20250101T000000Z"/>`, all + "ev.ics"},
		{"VTODO", "", all + "todo.ics"},
		{"VJOURNAL", "", ""},
	}
	for _, tc := range tests {
		d := parseMS(t, ts.do(t, "alice", "REPORT", all, fmt.Sprintf(bodyDAVx5CalQuery, tc.comp, tc.timeRange), "Depth: 1"))
		var got []string
		for _, r := range d.Responses {
			if !strings.Contains(r.ok(t), "<D:getetag>") {
				t.Fatalf("no getetag: %+v", r)
			}
			got = append(got, r.Href)
		}
		if strings.Join(got, " ") != tc.want {
			t.Errorf("%s: %v, want %q", tc.comp, got, tc.want)
		}
	}
	uidQuery := `<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/></D:prop><C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:prop-filter name="UID"><C:text-match%s>%s</C:text-match></C:prop-filter></C:comp-filter></C:comp-filter></C:filter></C:calendar-query>`
	for _, tc := range []struct{ attr, text, want string }{
		{"", "EV1@EXAMPLE", all + "ev.ics"},
		{` collation="i;octet"`, "EV1@EXAMPLE", ""},
		{` negate-condition="yes"`, "ev1@", ""},
		{"", "no such uid", ""},
	} {
		d := parseMS(t, ts.do(t, "alice", "REPORT", all, fmt.Sprintf(uidQuery, tc.attr, tc.text), "Depth: 1"))
		var got []string
		for _, r := range d.Responses {
			got = append(got, r.Href)
		}
		if strings.Join(got, " ") != tc.want {
			t.Errorf("text-match%s %q: %v, want %q", tc.attr, tc.text, got, tc.want)
		}
	}
	wantError(t, ts.do(t, "alice", "REPORT", all, fmt.Sprintf(uidQuery, ` collation="i;klingon"`, "x")), 403, "<C:supported-collation/>")
	wantError(t, ts.do(t, "alice", "REPORT", all, `<C:calendar-query xmlns:C="urn:ietf:params:xml:ns:caldav"><C:filter><C:comp-filter name="VEVENT"/></C:filter></C:calendar-query>`), 403, "<C:valid-filter/>")
}

func TestFreeBusyQuery(t *testing.T) {
	ts := newTestServer(t)
	ev := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:fb1\r\nDTSTAMP:20250101T000000Z\r\nDTSTART:20250301T090000Z\r\nDTEND:20250301T100000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
	free := strings.Replace(strings.Replace(ev, "fb1", "fb2", 1), "END:VEVENT", "TRANSP:TRANSPARENT\r\nEND:VEVENT", 1)
	free = strings.Replace(free, "T090000Z", "T110000Z", 1)
	free = strings.Replace(free, "T100000Z", "T120000Z", 1)
	ts.do(t, "alice", "PUT", calPath+"fb1.ics", ev)
	ts.do(t, "alice", "PUT", calPath+"fb2.ics", free)
	fb := `<C:free-busy-query xmlns:C="urn:ietf:params:xml:ns:caldav"><C:time-range start="20250301T000000Z" end="20250302T000000Z"/></C:free-busy-query>`
	rec := ts.do(t, "alice", "REPORT", calPath, fb, "Depth: 1")
	body := rec.Body.String()
	if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/calendar") ||
		!strings.Contains(body, "FREEBUSY") || !strings.Contains(body, "20250301T090000Z") || strings.Contains(body, "20250301T110000Z") {
		t.Fatalf("free-busy: %d %s", rec.Code, body)
	}
	wantError(t, ts.do(t, "alice", "REPORT", calPath, `<C:free-busy-query xmlns:C="urn:ietf:params:xml:ns:caldav"><C:time-range start="20250301T000000Z"/></C:free-busy-query>`), 400, "")
}

func TestUnknownReport(t *testing.T) {
	ts := newTestServer(t)
	wantError(t, ts.do(t, "alice", "REPORT", calPath, `<D:expand-property xmlns:D="DAV:"/>`), 403, "<D:supported-report/>")
	wantError(t, ts.do(t, "alice", "REPORT", "/dav/principals/alice/", `<A:principal-search-property-set xmlns:A="DAV:"/>`), 403, "<D:supported-report/>")
	wantError(t, ts.do(t, "alice", "REPORT", calPath, ""), 400, "")
}

// TestTokensTellNothingOfOthers: bob's ctags and sync tokens stay as they
// are while alice changes her data in every way a client does, and bob's
// next change moves his token by one: a token counts its owner's changes
// alone (it once came from one counter for all users, so bob watched
// alice's activity in his own tokens).
func TestTokensTellNothingOfOthers(t *testing.T) {
	ts := newTestServer(t)
	bobCal, bobBook := "/dav/calendars/bob/calendar/", "/dav/addressbooks/bob/contacts/"
	ts.do(t, "bob", "PUT", bobCal+"b.ics", icsOther, "Content-Type: text/calendar")
	tokens := func(user string, paths ...string) []string {
		t.Helper()
		var out []string
		for _, p := range paths {
			got := parseMS(t, ts.do(t, user, "PROPFIND", p, bodyDAVx5Caps, "Depth: 0")).Responses[0].ok(t)
			tok := regexp.MustCompile(`<D:sync-token>([^<]*)</D:sync-token>`).FindStringSubmatch(got)
			ctag := regexp.MustCompile(`<CS:getctag>([^<]*)</CS:getctag>`).FindStringSubmatch(got)
			if tok == nil || ctag == nil {
				t.Fatalf("%s: no sync-token or getctag in %s", p, got)
			}
			sync := parseMS(t, ts.do(t, user, "REPORT", p, fmt.Sprintf(bodyDAVx5Sync, ""), "Depth: 0")).SyncToken
			out = append(out, tok[1], ctag[1], sync)
		}
		return out
	}
	steps := []struct {
		name, method, path, body string
		headers                  []string
	}{
		{"PUT event", "PUT", calPath + "ev1.ics", icsEvent, []string{"Content-Type: text/calendar; charset=utf-8", "If-None-Match: *"}},
		{"PUT update", "PUT", calPath + "ev1.ics", icsEventV2, []string{"Content-Type: text/calendar; charset=utf-8"}},
		{"PUT card", "PUT", bookPath + "c.vcf", vcard4, []string{"Content-Type: text/vcard"}},
		{"DELETE", "DELETE", calPath + "ev1.ics", "", nil},
		{"PROPPATCH", "PROPPATCH", calPath, bodyAppleProppatch, nil},
		{"MKCALENDAR", "MKCALENDAR", "/dav/calendars/alice/office/", bodyDAVx5Mkcalendar, nil},
	}
	bobBefore := tokens("bob", bobCal, bobBook)
	for _, st := range steps {
		aliceBefore := tokens("alice", calPath)
		if rec := ts.do(t, "alice", st.method, st.path, st.body, st.headers...); rec.Code >= 300 {
			t.Fatalf("%s: status %d\n%s", st.name, rec.Code, rec.Body.String())
		}
		if st.method != "MKCALENDAR" && st.path != bookPath+"c.vcf" && slices.Equal(tokens("alice", calPath), aliceBefore) {
			t.Errorf("%s: alice's own tokens did not move", st.name)
		}
		if got := tokens("bob", bobCal, bobBook); !slices.Equal(got, bobBefore) {
			t.Errorf("after alice's %s, bob's tokens moved: %v, were %v", st.name, got, bobBefore)
		}
	}
	ts.do(t, "bob", "PUT", bobCal+"b2.ics", strings.ReplaceAll(icsOther, "UID:other", "UID:other2"), "Content-Type: text/calendar")
	before, _ := parseSyncToken(bobBefore[0])
	after, _ := parseSyncToken(tokens("bob", bobCal)[0])
	if after != before+1 {
		t.Errorf("bob's token went from %d to %d with one change of his own", before, after)
	}
}
