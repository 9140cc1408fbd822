package dav

import (
	"bytes"
	"errors"
	"fmt"
	"github.com/coffer-dav/coffer/dav/ical"
	"github.com/coffer-dav/coffer/storage"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
)

// xmlSeeds are the literal client bodies every XML fuzz target starts from.
var xmlSeeds = []string{
	bodyApplePrincipal, bodyApplePrincipalProps, bodyDAVx5CalDiscovery, bodyDAVx5AddressSet, bodyDAVx5HomeList,
	bodyDAVx5Caps, bodyThunderbirdHome, bodyThunderbirdBook, bodyEvolutionDiscovery, bodyAppleBookHome,
	bodyDAVx5Mkcalendar, bodyDAVx5Mkcol, bodyAppleMkcalendar, bodyAppleProppatch, bodyAppleMeCard,
	fmt.Sprintf(bodyDAVx5Sync, ""), fmt.Sprintf(bodyAppleSync, "http://coffer.invalid/ns/sync/3"),
	fmt.Sprintf(bodyThunderbirdSync, "x"), fmt.Sprintf(bodyDAVx5CalMultiget, hrefs("/dav/calendars/alice/calendar/a@b.ics")),
	fmt.Sprintf(bodyThunderbirdCardMultiget, "<D:href>/dav/addressbooks/alice/contacts/a.vcf</D:href>"),
	fmt.Sprintf(bodyDAVx5CalQuery, "VEVENT", `<CAL:time-range start="20250101T000000Z"/>`),
	`<D:propertyupdate xmlns:D="DAV:" xmlns:X="urn:x"><D:set><D:prop><X:n xml:lang="de" X:k="v">a<X:b/>c</X:n></D:prop></D:set></D:propertyupdate>`,
}

func addXMLSeeds(f *testing.F) {
	for _, s := range xmlSeeds {
		f.Add([]byte(s))
	}
	// Bodies in other encodings, by declaration and by byte order mark.
	patch := `<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:displayname>Café</D:displayname></D:prop></D:set></D:propertyupdate>`
	f.Add([]byte(latin1(`<?xml version="1.0" encoding="ISO-8859-1"?>` + patch)))
	f.Add([]byte(utf16Body(`<?xml version="1.0" encoding="UTF-16"?>`+patch, false)))
	f.Add([]byte("\xEF\xBB\xBF" + patch))
}

// checkSerialized asserts that a stored property value is a well-formed,
// self-contained element that serializes to itself again.
func checkSerialized(t *testing.T, v string) {
	n, err := parseXML(strings.NewReader(v))
	if err != nil || n == nil {
		t.Fatalf("stored value does not parse (%v): %q", err, v)
	}
	if again := serializeElement(n); again != v {
		t.Fatalf("serialization is not stable:\n%q\n%q", v, again)
	}
}

// checkRefusal asserts that a refused input got a DAV error with a 4xx
// status, the answer a client would see.
func checkRefusal(t *testing.T, err error, b []byte) {
	var de *Error
	if !errors.As(err, &de) || de.Status < 400 || de.Status >= 500 {
		t.Fatalf("refused without a 4xx DAV error (%v): %q", err, b)
	}
}

// reparse renders an accepted tree and parses it again: the tree a parser
// saw must survive its own serialization.
func reparse(t *testing.T, n *node) *node {
	again, err := parseXML(strings.NewReader(serializeElement(n)))
	if err != nil || again == nil {
		t.Fatalf("re-rendered tree does not parse (%v): %q", err, serializeElement(n))
	}
	return again
}

// FuzzParsePropfind: a refused body gets a 4xx DAV error; an accepted one
// re-renders to a body that parses to an equal request.
func FuzzParsePropfind(f *testing.F) {
	addXMLSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		n, err := parseXML(bytes.NewReader(b))
		if err != nil {
			checkRefusal(t, err, b)
			return
		}
		pf, err := parsePropfind(n)
		if err != nil {
			checkRefusal(t, err, b)
			return
		}
		if n == nil {
			return
		}
		again, err := parsePropfind(reparse(t, n))
		if err != nil || !reflect.DeepEqual(pf, again) {
			t.Fatalf("re-rendered body parses to %+v (%v), not %+v", again, err, pf)
		}
	})
}

func FuzzParseProppatch(f *testing.F) {
	addXMLSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		n, err := parseXML(bytes.NewReader(b))
		if err != nil || n == nil {
			return
		}
		ops, err := parsePropertyupdate(n)
		if err != nil {
			return
		}
		for _, op := range ops {
			if !op.remove {
				checkSerialized(t, op.value)
			}
		}
	})
}

func FuzzParseMkcol(f *testing.F) {
	addXMLSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		n, err := parseXML(bytes.NewReader(b))
		if err != nil {
			return
		}
		for _, cal := range []bool{true, false} {
			m, err := parseMkcol(n, cal)
			if err != nil {
				continue
			}
			for _, v := range m.props {
				checkSerialized(t, string(v))
			}
		}
	})
}

// FuzzParseReport: a refused body gets a 4xx DAV error; an accepted one
// re-renders to a body that parses to an equal report request.
func FuzzParseReport(f *testing.F) {
	addXMLSeeds(f)
	f.Add([]byte(strings.Replace(calQuery(`<C:comp-filter name="VEVENT"/>`), "</C:calendar-query>", `<C:timezone>`+usEastern+`</C:timezone></C:calendar-query>`, 1)))
	f.Add([]byte(strings.Replace(calQuery(`<C:comp-filter name="VEVENT"/>`), "</C:calendar-query>", `<C:timezone-id>Europe/Vienna</C:timezone-id></C:calendar-query>`, 1)))
	f.Add([]byte(fmt.Sprintf(bodyAppleSync, "http://coffer.invalid/ns/sync/home/12/vjnpiccpg4")))
	f.Fuzz(func(t *testing.T, b []byte) {
		n, err := parseXML(bytes.NewReader(b))
		if err != nil {
			checkRefusal(t, err, b)
			return
		}
		rr, err := parseReport(n)
		if err != nil {
			checkRefusal(t, err, b)
			return
		}
		again, err := parseReport(reparse(t, n))
		if err != nil {
			t.Fatalf("re-rendered body refused: %v", err)
		}
		rr2 := *rr
		rr2.body, again.body = nil, nil // trees compared through their parse
		if !reflect.DeepEqual(&rr2, again) {
			t.Fatalf("re-rendered body parses to %+v, not %+v", again, &rr2)
		}
		if rr.kind == reportSyncCollection {
			parseSyncToken(rr.syncToken)
			parseHomeToken(rr.syncToken)
		}
		for _, h := range rr.hrefs {
			_, _ = parseHref(h)
		}
	})
}

func FuzzParsePath(f *testing.F) {
	for _, s := range []string{"/", "/dav/", "/dav/principals/alice/", "/dav/calendars/alice/calendar/a%40b.ics",
		"/dav/calendars/alice/calendar/a@b.ics", "/dav/addressbooks/a%2Fb/x/", "/dav/calendars/alice/%2e%2e/",
		"http://host:8443/dav/calendars/alice/calendar/x%20y.ics", "/dav//x", "%zz", "/dav/calendars/al%C3%A9/c/",
		"/dav/calendars/alice/p/q/r/", "/dav/calendars/alice/p/q/r", "/dav/addressbooks/alice/a%20b/c%2Fd/e"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := parsePath(s)
		if err == nil {
			// The canonical href names the same resource.
			q, err := parsePath(p.href())
			if err != nil {
				t.Fatalf("canonical href %q of %q does not parse: %v", p.href(), s, err)
			}
			q.trailing = p.trailing
			if p.kind == pathRoot {
				q.trailing = true
			}
			if q != p {
				t.Fatalf("href %q of %q names %+v, not %+v", p.href(), s, q, p)
			}
		}
		_, _ = parseHref(s)
	})
}

func FuzzValidateCalendar(f *testing.F) {
	for _, s := range []string{icsEvent, icsEventV2, icsOther, icsTodo,
		"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART;TZID=x\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
		"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nX;A=\"b\"c:v\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		uid, obj, err := validateCalendar(b, defaultComponents)
		if err == nil && uid == "" {
			t.Fatalf("accepted without UID: %q", b)
		}
		if err == nil {
			// Whatever PUT accepts can be indexed, or is refused with a DAV error.
			if _, ierr := calendarIndex(obj, &storage.Collection{}, ical.Options{}); ierr != nil {
				var de *Error
				if !errors.As(ierr, &de) || de.Status >= 500 {
					t.Fatalf("index of an accepted object: %v", ierr)
				}
			}
		}
	})
}

// FuzzValidateVCard: a refused card gets CARDDAV:valid-address-data; an
// accepted one is accepted unfolded too, with the same UID.
func FuzzValidateVCard(f *testing.F) {
	for _, s := range []string{vcard3, vcard4, "BEGIN:VCARD\r\nVERSION:3.0\r\nTEL;TYPE=\"a\"x:1\r\nEND:VCARD\r\n",
		"BEGIN:VCARD\r\nVERSION:4.0\r\nPHOTO:data:image/jpeg;base64,AAAA\r\n BBBB\r\nEND:VCARD\r\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		uid, err := validateVCard(b)
		if err != nil {
			var de *Error
			if !errors.As(err, &de) || de.Status != http.StatusForbidden || de.Precondition != condValidAddressData {
				t.Fatalf("refused without CARDDAV:valid-address-data (%v): %q", err, b)
			}
			return
		}
		// Folding is not content (RFC 6350 section 3.2): the unfolded
		// card is accepted with the same UID.
		uid2, err := validateVCard([]byte(unfold(string(b))))
		if err != nil || uid2 != uid {
			t.Fatalf("unfolded card: uid %q (%v), want %q: %q", uid2, err, uid, b)
		}
	})
}

// FuzzHandler drives the whole handler with arbitrary methods, paths and
// bodies: client input never yields a 500 or a panic (507 is a refusal),
// and never properties past the cap.
func FuzzHandler(f *testing.F) {
	for i, s := range xmlSeeds {
		methods := []string{"PROPFIND", "PROPPATCH", "MKCALENDAR", "MKCOL", "REPORT"}
		f.Add(methods[i%len(methods)], "/dav/calendars/alice/calendar/", []byte(s))
	}
	f.Add("PUT", "/dav/calendars/alice/calendar/a%40b.ics", []byte(icsEvent))
	f.Add("PUT", "/dav/addressbooks/alice/contacts/c.vcf", []byte(vcard3))
	f.Add("DELETE", "/dav/calendars/alice/tasks/", []byte(nil))
	f.Add("MKCOL", "/dav/calendars/alice/p/q/", []byte(nil))
	f.Add("COPY", "/dav/calendars/alice/calendar/", []byte(nil))
	f.Add("MOVE", "/dav/calendars/alice/calendar/a%40b.ics", []byte(nil))
	// PROPPATCH with large and with many properties, beyond the cap and within it.
	for _, b := range []string{manyProps(1, 70000), manyProps(300, 250), manyProps(100, 100)} {
		f.Add("PROPPATCH", "/dav/calendars/alice/calendar/", []byte(b))
		f.Add("PROPPATCH", "/dav/principals/alice/", []byte(b))
	}
	// One server for all inputs: state left by one input is more input for the next.
	ts := newTestServer(f)
	f.Fuzz(func(t *testing.T, method, path string, body []byte) {
		req, err := http.NewRequest(method, "http://h"+path, bytes.NewReader(body))
		if err != nil {
			return
		}
		req.SetBasicAuth("alice", "pw")
		if method == "PROPFIND" {
			// As clients send it: without Depth a collection refuses the
			// request (infinity) before any property is rendered.
			req.Header.Set("Depth", "1")
		}
		rec := httptest.NewRecorder()
		ts.h.ServeHTTP(rec, req)
		if rec.Code >= 500 && rec.Code != http.StatusInsufficientStorage {
			t.Fatalf("%s %s: %d %s", method, path, rec.Code, rec.Body)
		}
		if method == "PROPPATCH" {
			// No PROPPATCH takes a resource's properties past the cap.
			cal, err := ts.alice.Collection(t.Context(), storage.HomeCalendars, "calendar")
			if err == nil && cal.Props.Size() > defaultMaxProps {
				t.Fatalf("%s %s: the calendar holds %d bytes of properties", method, path, cal.Props.Size())
			}
			if p, err := ts.alice.Props(t.Context(), storage.ScopePrincipal); err == nil && p.Size() > defaultMaxProps {
				t.Fatalf("%s %s: the principal holds %d bytes of properties", method, path, p.Size())
			}
		}
	})
}

// FuzzCopyMove drives COPY and MOVE with arbitrary paths and Destination,
// Overwrite and Depth headers over plain collections, calendars and
// address books, under whatever method it receives: never a 500, never a
// 207 to COPY or MOVE (Q14), never a change to bob.
func FuzzCopyMove(f *testing.F) {
	seeds := []struct{ method, path, dest, overwrite, depth string }{
		{"COPY", "/dav/calendars/alice/p/a.txt", "/dav/calendars/alice/p/b.txt", "F", ""},
		{"MOVE", "/dav/calendars/alice/p/a.txt", "http://h/dav/calendars/alice/p/sub/a.txt", "T", ""},
		{"COPY", "/dav/calendars/alice/p/", "/dav/calendars/alice/q/", "", "0"},
		{"COPY", "/dav/calendars/alice/p/", "/dav/calendars/alice/p/sub/x/", "T", "infinity"},
		{"MOVE", "/dav/calendars/alice/p/sub", "/dav/addressbooks/alice/sub", "", "1"},
		{"MOVE", "/dav/calendars/alice/calendar/", "/dav/calendars/alice/p/cal/", "T", ""},
		{"COPY", "/dav/calendars/alice/calendar/ev.ics", "/dav/calendars/alice/tasks/ev.ics", "", ""},
		{"COPY", "/dav/calendars/alice/calendar/ev.ics", "/dav/addressbooks/alice/contacts/ev.vcf", "", ""},
		{"COPY", "/dav/calendars/alice/p/a.txt", "/dav/calendars/bob/calendar/a.txt", "", ""},
		{"COPY", "/dav/calendars/alice/p/a.txt", "http://other.example/dav/calendars/alice/p/z", "", ""},
		{"MOVE", "/dav/calendars/alice/p/a.txt", "/dav/calendars/alice/%2e%2e/x", "x", ""},
		{"COPY", "/dav/calendars/alice/p/a.txt", "mailto:alice@example.org", "", ""},
		{"COPY", "/dav/calendars/alice/p/a.txt", "/dav/principals/alice/", "", ""},
		{"MOVE", "/dav/calendars/alice/p/", "/dav/calendars/alice/p/a.txt", "T", ""},
		{"PROPFIND", "/dav/calendars/alice/p/", "/dav/calendars/alice/q/", "T", "1"},
		{"DELETE", "/dav/calendars/alice/p/sub/", "/dav/calendars/bob/calendar/", "F", "infinity"},
	}
	for _, s := range seeds {
		f.Add(s.method, s.path, s.dest, s.overwrite, s.depth)
	}
	ts := newTestServer(f)
	for _, s := range []struct{ method, path, body string }{
		{"MKCOL", "/dav/calendars/alice/p/", ""},
		{"MKCOL", "/dav/calendars/alice/p/sub/", ""},
		{"PUT", "/dav/calendars/alice/p/a.txt", "a"},
		{"PUT", "/dav/calendars/alice/calendar/ev.ics", icsEvent},
	} {
		if rec := ts.do(f, "alice", s.method, s.path, s.body); rec.Code != 201 {
			f.Fatalf("setup %s %s: %d", s.method, s.path, rec.Code)
		}
	}
	f.Fuzz(func(t *testing.T, method, path, dest, overwrite, depth string) {
		// Every method goes to the handler: one that is not COPY or MOVE
		// still meets the Destination, Overwrite and Depth headers.
		req, err := http.NewRequest(method, "http://h"+path, http.NoBody) // a server request always has a body
		if err != nil {
			return
		}
		req.SetBasicAuth("alice", "pw")
		req.Header.Set("Destination", dest)
		req.Header.Set("Overwrite", overwrite)
		req.Header.Set("Depth", depth)
		rec := httptest.NewRecorder()
		ts.h.ServeHTTP(rec, req)
		copyMove := method == "COPY" || method == "MOVE"
		if rec.Code >= 500 && !(copyMove && rec.Code == http.StatusBadGateway) || copyMove && rec.Code == http.StatusMultiStatus {
			t.Fatalf("%s %s -> %q: %d %s", method, path, dest, rec.Code, rec.Body)
		}
		if cs, _ := ts.bob.Collections(t.Context(), "calendars"); len(cs) != 2 {
			t.Fatalf("bob's calendars changed: %d", len(cs))
		}
	})
}

// manyProps is a PROPPATCH body, in Apple's style, setting n dead
// properties of size bytes each.
func manyProps(n, size int) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<A:propertyupdate xmlns:A="DAV:"><A:set><A:prop>`)
	for i := range n {
		fmt.Fprintf(&b, `<X:p%d xmlns:X="urn:x">%s</X:p%d>`, i, strings.Repeat("v", size), i)
	}
	b.WriteString(`</A:prop></A:set></A:propertyupdate>`)
	return b.String()
}
