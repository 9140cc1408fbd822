package integration_test

import (
	"encoding/xml"
	"strings"
	"testing"
)

// TestPutPreconditions covers the status rules of PUT and DELETE that every
// client relies on: 201 then 204 with a strong ETag, 412 for If-Match and
// If-None-Match, 403 with a DAV precondition for duplicate UIDs, wrong
// components and malformed data, and nothing changed by a refused write.
func TestPutPreconditions(t *testing.T) {
	s := startServer(t, "")
	c := s.client(t, s.User, s.Password)
	cal := "/dav/calendars/" + s.User + "/calendar/"
	tasks := "/dav/calendars/" + s.User + "/tasks/"
	book := "/dav/addressbooks/" + s.User + "/contacts/"

	created := c.must(201, "PUT", cal+"one.ics", event("uid-one", "First"), "Content-Type", "text/calendar", "If-None-Match", "*")
	etag := created.Header.Get("ETag")
	updated := c.must(204, "PUT", cal+"one.ics", event("uid-one", "Second"), "Content-Type", "text/calendar", "If-Match", etag)
	etag2 := updated.Header.Get("ETag")
	if etag2 == "" || etag2 == etag || strings.HasPrefix(etag2, "W/") {
		t.Fatalf("update ETag %q (was %q)", etag2, etag)
	}
	if got := c.propOf(t, cal+"one.ics", "getetag"); got != etag2 {
		t.Fatalf("getetag %q, PUT ETag %q", got, etag2)
	}

	tests := []struct {
		name, method, path, body string
		headers                  []string
		status                   int
		contains                 []string
	}{
		{"If-None-Match star on existing", "PUT", cal + "one.ics", event("uid-one", "Third"), []string{"If-None-Match", "*"}, 412, nil},
		{"stale If-Match", "PUT", cal + "one.ics", event("uid-one", "Third"), []string{"If-Match", etag}, 412, nil},
		{"If-Match on missing", "PUT", cal + "missing.ics", event("uid-missing", "X"), []string{"If-Match", etag2}, 412, nil},
		{"stale If-Match on DELETE", "DELETE", cal + "one.ics", "", []string{"If-Match", etag}, 412, nil},
		{"duplicate UID", "PUT", cal + "two.ics", event("uid-one", "Dup"), nil, 403, []string{"no-uid-conflict", cal + "one.ics"}},
		{"task in an event calendar", "PUT", cal + "t.ics", task("uid-task", "T"), nil, 403, []string{"supported-calendar-component"}},
		{"event in a task list", "PUT", tasks + "e.ics", event("uid-e", "E"), nil, 403, []string{"supported-calendar-component"}},
		{"not iCalendar", "PUT", cal + "bad1.ics", "hello", nil, 403, []string{"valid-calendar-data"}},
		{"calendar without component", "PUT", cal + "bad2.ics", crlf("BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:x\nEND:VCALENDAR\n"), nil, 403, []string{"valid-calendar-object-resource"}},
		{"unterminated calendar", "PUT", cal + "bad3.ics", strings.TrimSuffix(event("uid-b3", "B"), "END:VCALENDAR\r\n"), nil, 403, []string{"valid-calendar-data"}},
		{"bad property line", "PUT", cal + "bad4.ics", crlf("BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:x\nBEGIN:VEVENT\nUID:u\nDTSTAMP:20260101T000000Z\nDTSTART;TZID=\"unterminated:20260101T000000\nEND:VEVENT\nEND:VCALENDAR\n"), nil, 403, []string{"valid-calendar-data"}},
		{"go-ical panic: parameter without value", "PUT", cal + "panic1.ics", crlf("BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:x\nBEGIN:VEVENT\nUID:p1\nDTSTART;TZID=x\nEND:VEVENT\nEND:VCALENDAR\n"), nil, 403, []string{"valid-calendar-data"}},
		{"go-ical panic: junk after quoted parameter", "PUT", cal + "panic2.ics", crlf("BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:x\nBEGIN:VEVENT\nUID:p2\nX-A;P=\"b\"c:v\nEND:VEVENT\nEND:VCALENDAR\n"), nil, 403, []string{"valid-calendar-data"}},
		{"event without UID", "PUT", cal + "bad5.ics", strings.Replace(event("x", "No UID"), "UID:x\r\n", "", 1), nil, 403, []string{"valid-calendar-object-resource"}},
		{"two UIDs in one resource", "PUT", cal + "bad6.ics", strings.Replace(event("a", "A"), "END:VCALENDAR", "BEGIN:VEVENT\r\nUID:b\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260101T000000Z\r\nEND:VEVENT\r\nEND:VCALENDAR", 1), nil, 403, []string{"valid-calendar-object-resource"}},
		{"not a vCard", "PUT", book + "bad.vcf", "BEGIN:VCARD\r\nFN:x\r\n", nil, 403, []string{"valid-address-data"}},
		{"vCard 2.1", "PUT", book + "bad21.vcf", crlf("BEGIN:VCARD\nVERSION:2.1\nFN:x\nUID:x\nEND:VCARD\n"), nil, 403, []string{"valid-address-data"}},
		{"vCard line without colon", "PUT", book + "bad-line.vcf", crlf("BEGIN:VCARD\nVERSION:3.0\nFN:x\nUID:bl\nGARBAGE LINE\nEND:VCARD\n"), nil, 403, []string{"valid-address-data"}},
		{"calendar into an address book", "PUT", book + "e.vcf", event("uid-x", "E"), nil, 403, []string{"valid-address-data"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := c.must(207, "PROPFIND", cal, `<propfind xmlns="DAV:"><prop><getetag/><sync-token/></prop></propfind>`, "Depth", "1")
			ctype := "text/calendar; charset=utf-8" // as clients send it (clients.md 1.4)
			if strings.HasPrefix(tt.path, book) {
				ctype = "text/vcard; charset=utf-8"
			}
			headers := append([]string{"Content-Type", ctype}, tt.headers...)
			r := c.must(tt.status, tt.method, tt.path, tt.body, headers...)
			for _, want := range tt.contains {
				if !strings.Contains(r.Body, want) {
					t.Errorf("body lacks %q:\n%s", want, r.Body)
				}
			}
			if tt.status == 403 && !strings.HasPrefix(r.Header.Get("Content-Type"), "application/xml") {
				t.Errorf("error Content-Type %q, want application/xml (Q13)", r.Header.Get("Content-Type"))
			}
			after := c.must(207, "PROPFIND", cal, `<propfind xmlns="DAV:"><prop><getetag/><sync-token/></prop></propfind>`, "Depth", "1")
			if after.Body != before.Body {
				t.Fatalf("a refused request changed the calendar:\n%s\n%s", before.Body, after.Body)
			}
		})
	}
	if got := c.must(200, "GET", cal+"one.ics", "").Body; got != event("uid-one", "Second") {
		t.Fatalf("object after refused writes: %q", got)
	}

	// vCard 3 and 4 both go in; DELETE answers 204, then 404.
	c.must(201, "PUT", book+"apple.vcf", contact3("apple-uid", "Tim"), "Content-Type", "text/vcard")
	c.must(201, "PUT", book+"tb.vcf", contact4("tb-uid", "Tom"), "Content-Type", "text/vcard; charset=utf-8")
	c.must(204, "DELETE", cal+"one.ics", "", "If-Match", etag2)
	c.must(404, "DELETE", cal+"one.ics", "")
	c.must(404, "GET", cal+"one.ics", "")
}

// propOf returns the text of one DAV: property of a resource from a Depth 0 PROPFIND.
func (c *client) propOf(t *testing.T, path, local string) string {
	t.Helper()
	r := c.must(207, "PROPFIND", path, `<propfind xmlns="DAV:"><prop><`+local+`/></prop></propfind>`, "Depth", "0")
	for _, resp := range parseMultistatus(t, r.Body).Responses {
		for _, ps := range resp.Propstats {
			if strings.Contains(ps.Status, "200") {
				var v struct {
					Text string `xml:",chardata"`
				}
				if err := xml.Unmarshal([]byte(strings.TrimSpace(ps.Prop.Inner)), &v); err == nil {
					return strings.TrimSpace(v.Text)
				}
			}
		}
	}
	return ""
}
