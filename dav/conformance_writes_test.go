package dav

import (
	"strconv"
	"strings"
	"testing"
)

// Conformance of writes and of PROPFIND details (issue 17, points 4, 8, 9
// and 10): each case is a literal request as a client sends it.

// Objects for the conformance cases, besides those of bodies_test.go.
const (
	// An event of a UID no fixture holds.
	icsNewUID = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Mozilla.org/NONSGML Mozilla Calendar V1.1//EN\r\nBEGIN:VEVENT\r\nUID:u2@example.org\r\nDTSTAMP:20250101T000000Z\r\nDTSTART:20250303T100000Z\r\nSUMMARY:Another event\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
	// A card of a UID no fixture holds.
	vcardNewUID = "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:card9\r\nFN:Max Muster\r\nN:Muster;Max;;;\r\nEND:VCARD\r\n"
	// vcard3 changed, with its UID.
	vcard3V2 = "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:card1\r\nFN:Jane Roe\r\nN:Roe;Jane;;;\r\nEND:VCARD\r\n"
	// The XML body of the example: no calendar data at all.
	xmlBody = `<?xml version="1.0" encoding="utf-8"?><note><to>x</to></note>`
)

// probeGET is a GET after a request, with the body it must find; "" for a 404.
type probeGET struct {
	path, body string
}

// newWritesServer is a test server where alice has, besides what
// provisioning gives, a second event calendar "office" and a second address
// book "friends", and in them: calendar/a.ics (icsEvent), calendar/b.ics
// (icsOther), work/x.ics (icsOther), contacts/a.vcf (vcard3),
// contacts/b.vcf (vcard4) and friends/x.vcf (vcard4).
func newWritesServer(t *testing.T) *testServer {
	t.Helper()
	ts := newTestServer(t)
	setup := []struct{ method, path, body, ctype string }{
		{"MKCALENDAR", "/dav/calendars/alice/office/", bodyDAVx5Mkcalendar, "application/xml; charset=UTF-8"},
		{"MKCOL", "/dav/addressbooks/alice/friends/", bodyDAVx5Mkcol, "application/xml; charset=UTF-8"},
		{"PUT", calPath + "a.ics", icsEvent, "text/calendar"},
		{"PUT", calPath + "b.ics", icsOther, "text/calendar"},
		{"PUT", "/dav/calendars/alice/office/x.ics", icsOther, "text/calendar"},
		{"PUT", "/dav/addressbooks/alice/contacts/a.vcf", vcard3, "text/vcard"},
		{"PUT", "/dav/addressbooks/alice/contacts/b.vcf", vcard4, "text/vcard"},
		{"PUT", "/dav/addressbooks/alice/friends/x.vcf", vcard4, "text/vcard"},
	}
	for _, s := range setup {
		if rec := ts.do(t, "alice", s.method, s.path, s.body, "Content-Type: "+s.ctype); rec.Code != 201 {
			t.Fatalf("setup %s %s: %d %s", s.method, s.path, rec.Code, rec.Body.String())
		}
	}
	return ts
}

// checkProbes GETs each probe's path and compares the body.
func checkProbes(t *testing.T, ts *testServer, probes []probeGET) {
	t.Helper()
	for _, p := range probes {
		rec := ts.do(t, "alice", "GET", p.path, "")
		switch {
		case p.body == "" && rec.Code != 404:
			t.Errorf("GET %s: %d, want 404", p.path, rec.Code)
		case p.body != "" && (rec.Code != 200 || rec.Body.String() != p.body):
			t.Errorf("GET %s: %d %q, want %q", p.path, rec.Code, rec.Body.String(), p.body)
		}
	}
}

// TestConformanceOverwriteUID: a PUT, COPY or MOVE that would replace a
// calendar object or a card by one of another UID is refused with 403
// no-uid-conflict naming the resource that holds the UID (RFC 4791
// 5.3.2.1, RFC 6352 6.3.2.1: "…or overwrite an existing resource with one
// that has a different UID"), and changes nothing; a replace keeping the
// UID still works.
func TestConformanceOverwriteUID(t *testing.T) {
	const (
		book    = "/dav/addressbooks/alice/contacts/"
		friends = "/dav/addressbooks/alice/friends/"
		work    = "/dav/calendars/alice/office/"
		calCond = "<C:no-uid-conflict><D:href>"
		abCond  = "<CR:no-uid-conflict><D:href>"
	)
	tests := []struct {
		name         string
		method, path string
		headers      []string
		body         string
		status       int
		cond         string // the condition element with its href, for a 403
		probes       []probeGET
	}{
		{"PUT of another UID over an event", "PUT", calPath + "a.ics",
			[]string{"Content-Type: text/calendar; charset=utf-8"}, icsNewUID,
			403, calCond + calPath + "a.ics</D:href></C:no-uid-conflict>",
			[]probeGET{{calPath + "a.ics", icsEvent}}},
		{"PUT of another UID with If-Match: *", "PUT", calPath + "a.ics",
			[]string{"Content-Type: text/calendar", "If-Match: *"}, icsNewUID,
			403, calCond + calPath + "a.ics</D:href></C:no-uid-conflict>",
			[]probeGET{{calPath + "a.ics", icsEvent}}},
		{"PUT of another object's UID over an event", "PUT", calPath + "a.ics",
			[]string{"Content-Type: text/calendar; charset=utf-8"}, icsOther,
			403, calCond + calPath + "a.ics</D:href></C:no-uid-conflict>",
			[]probeGET{{calPath + "a.ics", icsEvent}, {calPath + "b.ics", icsOther}}},
		{"PUT of the same UID over an event", "PUT", calPath + "a.ics",
			[]string{"Content-Type: text/calendar; charset=utf-8"}, icsEventV2,
			204, "", []probeGET{{calPath + "a.ics", icsEventV2}}},
		{"PUT of another UID over a card", "PUT", book + "a.vcf",
			[]string{"Content-Type: text/vcard; charset=utf-8"}, vcardNewUID,
			403, abCond + book + "a.vcf</D:href></CR:no-uid-conflict>",
			[]probeGET{{book + "a.vcf", vcard3}}},
		{"PUT of the same UID over a card", "PUT", book + "a.vcf",
			[]string{"Content-Type: text/vcard"}, vcard3V2,
			204, "", []probeGET{{book + "a.vcf", vcard3V2}}},
		{"COPY over an event of another UID", "COPY", calPath + "a.ics",
			[]string{"Destination: " + calPath + "b.ics", "Overwrite: T"}, "",
			403, calCond + calPath + "b.ics</D:href></C:no-uid-conflict>",
			[]probeGET{{calPath + "a.ics", icsEvent}, {calPath + "b.ics", icsOther}}},
		{"COPY over an event of another UID, no Overwrite header", "COPY", calPath + "a.ics",
			[]string{"Destination: http://dav.example.org:8443" + calPath + "b.ics"}, "",
			403, calCond + calPath + "b.ics</D:href></C:no-uid-conflict>",
			[]probeGET{{calPath + "a.ics", icsEvent}, {calPath + "b.ics", icsOther}}},
		{"MOVE over an event of another UID", "MOVE", calPath + "a.ics",
			[]string{"Destination: " + calPath + "b.ics", "Overwrite: T"}, "",
			403, calCond + calPath + "b.ics</D:href></C:no-uid-conflict>",
			[]probeGET{{calPath + "a.ics", icsEvent}, {calPath + "b.ics", icsOther}}},
		{"COPY into another calendar over an event of another UID", "COPY", calPath + "a.ics",
			[]string{"Destination: " + work + "x.ics", "Overwrite: T"}, "",
			403, calCond + work + "x.ics</D:href></C:no-uid-conflict>",
			[]probeGET{{calPath + "a.ics", icsEvent}, {work + "x.ics", icsOther}}},
		{"MOVE into another calendar over an event of another UID", "MOVE", calPath + "a.ics",
			[]string{"Destination: " + work + "x.ics", "Overwrite: T"}, "",
			403, calCond + work + "x.ics</D:href></C:no-uid-conflict>",
			[]probeGET{{calPath + "a.ics", icsEvent}, {work + "x.ics", icsOther}}},
		{"COPY into another calendar over the event of its UID", "COPY", calPath + "b.ics",
			[]string{"Destination: " + work + "x.ics", "Overwrite: T"}, "",
			204, "", []probeGET{{calPath + "b.ics", icsOther}, {work + "x.ics", icsOther}}},
		{"COPY over a card of another UID", "COPY", book + "a.vcf",
			[]string{"Destination: " + book + "b.vcf", "Overwrite: T"}, "",
			403, abCond + book + "b.vcf</D:href></CR:no-uid-conflict>",
			[]probeGET{{book + "a.vcf", vcard3}, {book + "b.vcf", vcard4}}},
		{"MOVE over a card of another UID", "MOVE", book + "a.vcf",
			[]string{"Destination: " + book + "b.vcf", "Overwrite: T"}, "",
			403, abCond + book + "b.vcf</D:href></CR:no-uid-conflict>",
			[]probeGET{{book + "a.vcf", vcard3}, {book + "b.vcf", vcard4}}},
		{"MOVE into another address book over a card of another UID", "MOVE", book + "a.vcf",
			[]string{"Destination: " + friends + "x.vcf", "Overwrite: T"}, "",
			403, abCond + friends + "x.vcf</D:href></CR:no-uid-conflict>",
			[]probeGET{{book + "a.vcf", vcard3}, {friends + "x.vcf", vcard4}}},
		{"MOVE into another address book over the card of its UID", "MOVE", book + "b.vcf",
			[]string{"Destination: " + friends + "x.vcf", "Overwrite: T"}, "",
			204, "", []probeGET{{book + "b.vcf", ""}, {friends + "x.vcf", vcard4}}},
		{"COPY over an event, Overwrite: F", "COPY", calPath + "a.ics",
			[]string{"Destination: " + calPath + "b.ics", "Overwrite: F"}, "",
			412, "", []probeGET{{calPath + "b.ics", icsOther}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts := newWritesServer(t)
			rec := ts.do(t, "alice", tc.method, tc.path, tc.body, tc.headers...)
			if tc.cond != "" {
				wantError(t, rec, tc.status, tc.cond)
			} else if rec.Code != tc.status {
				t.Fatalf("%s %s: %d %s, want %d", tc.method, tc.path, rec.Code, rec.Body.String(), tc.status)
			}
			checkProbes(t, ts, tc.probes)
		})
	}
}

// TestConformancePutContentType: a PUT into a calendar or an address book
// with a media type that collection does not store is refused with 403
// supported-calendar-data or supported-address-data (RFC 4791 5.3.2.1,
// RFC 6352 6.3.2.1) before its body is looked at; the types the clients
// send (clients.md 1.4, 2.5, 3.3, 3.4, 4.4, 4.5, 5), and none, are stored.
func TestConformancePutContentType(t *testing.T) {
	const (
		card  = "/dav/addressbooks/alice/contacts/n.vcf"
		event = calPath + "n.ics"
		plain = "/dav/calendars/alice/files/n.txt"
	)
	tests := []struct {
		name, path, ctype, body string // ctype "" sends no Content-Type
		status                  int
		cond                    string
	}{
		{"calendar: DAVx5 and Thunderbird", event, "text/calendar;charset=utf-8", icsNewUID, 201, ""},
		{"calendar: Thunderbird", event, "text/calendar; charset=utf-8", icsNewUID, 201, ""},
		{"calendar: Apple, no charset", event, "text/calendar", icsNewUID, 201, ""},
		{"calendar: Evolution, quoted charset", event, `text/calendar; charset="utf-8"`, icsNewUID, 201, ""},
		{"calendar: upper case", event, "Text/Calendar; Charset=UTF-8", icsNewUID, 201, ""},
		{"calendar: no Content-Type", event, "", icsNewUID, 201, ""},
		{"calendar: an XML body as XML", event, "text/xml", xmlBody, 403, "<C:supported-calendar-data/>"},
		{"calendar: an event as XML", event, "application/xml; charset=utf-8", icsNewUID, 403, "<C:supported-calendar-data/>"},
		{"calendar: a card", event, "text/vcard", vcardNewUID, 403, "<C:supported-calendar-data/>"},
		{"calendar: an event as plain text", event, "text/plain", icsNewUID, 403, "<C:supported-calendar-data/>"},
		{"calendar: no media type", event, ";charset=utf-8", icsNewUID, 403, "<C:supported-calendar-data/>"},
		{"address book: Apple and Thunderbird", card, "text/vcard", vcardNewUID, 201, ""},
		{"address book: DAVx5 vCard 3", card, "text/vcard;charset=utf-8", vcardNewUID, 201, ""},
		{"address book: DAVx5 vCard 4", card, "text/vcard;version=4.0", strings.Replace(vcard4, "card2", "card9", 1), 201, ""},
		{"address book: Evolution, quoted charset", card, `text/vcard; charset="utf-8"`, vcardNewUID, 201, ""},
		{"address book: the unregistered name", card, "text/x-vcard", vcardNewUID, 201, ""},
		{"address book: no Content-Type", card, "", vcardNewUID, 201, ""},
		{"address book: a card as XML", card, "text/xml", vcardNewUID, 403, "<CR:supported-address-data/>"},
		{"address book: an event", card, "text/calendar; charset=utf-8", icsNewUID, 403, "<CR:supported-address-data/>"},
		{"address book: the directory type", card, "text/directory", vcardNewUID, 403, "<CR:supported-address-data/>"},
		{"plain collection: any type", plain, "text/xml", xmlBody, 201, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts := newTestServer(t)
			if rec := ts.do(t, "alice", "MKCOL", "/dav/calendars/alice/files/", ""); rec.Code != 201 {
				t.Fatalf("MKCOL: %d %s", rec.Code, rec.Body.String())
			}
			var headers []string
			if tc.ctype != "" {
				headers = append(headers, "Content-Type: "+tc.ctype)
			}
			rec := ts.do(t, "alice", "PUT", tc.path, tc.body, headers...)
			if tc.cond != "" {
				wantError(t, rec, tc.status, tc.cond)
				checkProbes(t, ts, []probeGET{{tc.path, ""}})
				return
			}
			if rec.Code != tc.status {
				t.Fatalf("PUT %s as %q: %d %s, want %d", tc.path, tc.ctype, rec.Code, rec.Body.String(), tc.status)
			}
			checkProbes(t, ts, []probeGET{{tc.path, tc.body}})
		})
	}
}

// TestConformanceContentLengthConsistent: DAV:getcontentlength and
// DAV:getcontenttype are reported exactly for the resources whose GET
// returns Content-Length and Content-Type, with the same values (RFC 4918
// 15.4, 15.5). A collection's GET has no content (204), so neither is
// reported for it; an object's are.
func TestConformanceContentLengthConsistent(t *testing.T) {
	const pf = `<?xml version="1.0" encoding="utf-8"?>
<D:propfind xmlns:D="DAV:"><D:prop><D:resourcetype/><D:getcontentlength/><D:getcontenttype/></D:prop></D:propfind>`
	const allprop = `<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>`
	tests := []struct {
		name, path string
		status     int // of the GET
	}{
		{"the DAV root", "/dav/", 204},
		{"the principal", "/dav/principals/alice/", 204},
		{"the calendar home", "/dav/calendars/alice/", 204},
		{"a calendar", calPath, 204},
		{"a calendar without its slash", "/dav/calendars/alice/calendar", 204},
		{"an address book", "/dav/addressbooks/alice/contacts/", 204},
		{"a plain collection", "/dav/calendars/alice/files/", 204},
		{"an event", calPath + "a.ics", 200},
		{"a card", "/dav/addressbooks/alice/contacts/a.vcf", 200},
		{"a plain object", "/dav/calendars/alice/files/f.txt", 200},
	}
	ts := newWritesServer(t)
	if rec := ts.do(t, "alice", "MKCOL", "/dav/calendars/alice/files/", ""); rec.Code != 201 {
		t.Fatalf("MKCOL: %d", rec.Code)
	}
	if rec := ts.do(t, "alice", "PUT", "/dav/calendars/alice/files/f.txt", "some text\n", "Content-Type: text/plain; charset=utf-8"); rec.Code != 201 {
		t.Fatalf("PUT: %d", rec.Code)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			get := ts.do(t, "alice", "GET", tc.path, "")
			if get.Code != tc.status {
				t.Fatalf("GET: %d, want %d", get.Code, tc.status)
			}
			if head := ts.do(t, "alice", "HEAD", tc.path, ""); head.Code != tc.status || head.Header().Get("Content-Length") != get.Header().Get("Content-Length") {
				t.Fatalf("HEAD: %d, Content-Length %q; GET: %q", head.Code, head.Header().Get("Content-Length"), get.Header().Get("Content-Length"))
			}
			length, ctype := get.Header().Get("Content-Length"), get.Header().Get("Content-Type")
			if tc.status == 204 && (length != "" || ctype != "" || get.Body.Len() != 0) {
				t.Fatalf("GET of a collection: Content-Length %q, Content-Type %q, %d bytes", length, ctype, get.Body.Len())
			}
			if tc.status == 200 && length != strconv.Itoa(get.Body.Len()) {
				t.Fatalf("GET: Content-Length %q for %d bytes", length, get.Body.Len())
			}
			for _, body := range []string{pf, allprop} {
				r := parseMS(t, ts.do(t, "alice", "PROPFIND", tc.path, body, "Depth: 0")).Responses[0]
				found, missing := r.ok(t), r.missing()
				for _, c := range []struct{ prop, header string }{{"getcontentlength", length}, {"getcontenttype", ctype}} {
					switch {
					case c.header == "" && strings.Contains(found, c.prop):
						t.Errorf("GET sends no %s header, PROPFIND reports %s: %s", c.prop, c.prop, found)
					case c.header == "" && body == pf && !strings.Contains(missing, c.prop):
						t.Errorf("GET sends no %s header, PROPFIND does not answer 404 for it: %+v", c.prop, r.Propstats)
					case c.header != "" && !strings.Contains(found, ">"+c.header+"</"):
						t.Errorf("GET sends %q, PROPFIND reports %s", c.header, found)
					}
				}
			}
		})
	}
}

// TestConformancePropfindDepth: a PROPFIND without a Depth header means
// Depth infinity (RFC 4918 9.1), refused on a collection with 403
// propfind-finite-depth like an explicit infinity; no client of clients.md
// sends one without Depth. An object has no members and ignores Depth
// (section 10.2).
func TestConformancePropfindDepth(t *testing.T) {
	const body = `<?xml version='1.0' encoding='UTF-8' ?><propfind xmlns="DAV:"><prop><resourcetype /><getetag /></prop></propfind>`
	tests := []struct {
		name, path string
		depth      string // "" sends none
		status     int
		responses  int // in a 207
	}{
		{"a calendar, no Depth", calPath, "", 403, 0},
		{"an address book, no Depth", "/dav/addressbooks/alice/contacts/", "", 403, 0},
		{"the calendar home, no Depth", "/dav/calendars/alice/", "", 403, 0},
		{"the principal, no Depth", "/dav/principals/alice/", "", 403, 0},
		{"the DAV root, no Depth", "/dav/", "", 403, 0},
		{"a calendar, Depth infinity", calPath, "infinity", 403, 0},
		{"an event, no Depth", calPath + "a.ics", "", 207, 1},
		{"an event, Depth infinity", calPath + "a.ics", "infinity", 207, 1},
		{"a missing event, no Depth", calPath + "nope.ics", "", 404, 0},
		{"a calendar, Depth 0", calPath, "0", 207, 1},
		{"a calendar, Depth 1", calPath, "1", 207, 3},
		{"a calendar, Depth 2", calPath, "2", 400, 0},
	}
	ts := newWritesServer(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			headers := []string{"Content-Type: application/xml; charset=UTF-8"}
			if tc.depth != "" {
				headers = append(headers, "Depth: "+tc.depth)
			}
			rec := ts.do(t, "alice", "PROPFIND", tc.path, body, headers...)
			switch tc.status {
			case 403:
				wantError(t, rec, 403, "<D:propfind-finite-depth/>")
			case 207:
				if got := len(parseMS(t, rec).Responses); got != tc.responses {
					t.Fatalf("%d responses, want %d:\n%s", got, tc.responses, rec.Body.String())
				}
			default:
				if rec.Code != tc.status {
					t.Fatalf("%d, want %d: %s", rec.Code, tc.status, rec.Body.String())
				}
			}
		})
	}
}
