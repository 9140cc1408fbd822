package integration_test

import (
	"bufio"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"
)

// dailyEvent recurs every day without end.
const dailyEvent = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//EN\r\nBEGIN:VEVENT\r\nUID:daily-limits\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260101T090000Z\r\nDTEND:20260101T100000Z\r\nRRULE:FREQ=DAILY\r\nSUMMARY:Daily stand-up\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"

// TestLimitsAreConfigurable: serve's limit flags reach the DAV layer, and
// each limit answers with its precondition or 413, never a 5xx, and
// stores nothing.
func TestLimitsAreConfigurable(t *testing.T) {
	s := startServerWith(t, "", "--max-resource-size", "2KiB", "--max-body-size", "4KiB", "--quota", "8KiB", // the provisioned collections' properties take about 2.5 KiB
		"--max-xml-depth", "8", "--max-xml-elements", "40", "--max-multiget", "3", "--max-instances", "100",
		"--max-objects-per-collection", "3", "--max-collections", "5")
	addUser(t, s.data, "lim", "limits-password")
	c := s.client(t, "lim", "limits-password")
	const cal, p = "/dav/calendars/lim/calendar/", "/dav/addressbooks/lim/p/"
	deep := `<propfind xmlns="DAV:"><prop>` + strings.Repeat("<x>", 7) + strings.Repeat("</x>", 7) + `</prop></propfind>`
	many := `<propfind xmlns="DAV:"><prop>` + strings.Repeat("<getetag/>", 39) + `</prop></propfind>`
	multiget := func(n int) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, "<D:href>%s%d.ics</D:href>", cal, i)
		}
		return `<C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/></D:prop>` + b.String() + `</C:calendar-multiget>`
	}
	expand := `<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><C:calendar-data><C:expand start="20260101T000000Z" end="20270101T000000Z"/></C:calendar-data></D:prop>` +
		`<C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:time-range start="20260101T000000Z" end="20270101T000000Z"/></C:comp-filter></C:comp-filter></C:filter></C:calendar-query>`
	kib := strings.Repeat("k", 1024)
	steps := []struct {
		name, method, path, body string
		headers                  []string
		status                   int
		want                     string // in the body
	}{
		{"object too large", "PUT", cal + "big.ics", event("big", strings.Repeat("x", 3000)), []string{"Content-Type", "text/calendar"}, 403, "max-resource-size"},
		{"advertised size", "PROPFIND", cal, `<propfind xmlns="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><prop><C:max-resource-size/></prop></propfind>`, []string{"Depth", "0"}, 207, ">2048<"},
		{"body too large", "PROPFIND", cal, `<propfind xmlns="DAV:"><prop><getetag/></prop></propfind>` + strings.Repeat(" ", 5000), []string{"Depth", "0"}, 413, ""},
		{"XML at the depth", "PROPFIND", cal, strings.Replace(deep, "<x></x>", "", 1), []string{"Depth", "0"}, 207, ""},
		{"XML too deep", "PROPFIND", cal, deep, []string{"Depth", "0"}, 400, ""},
		{"XML with too many elements", "PROPFIND", cal, many, []string{"Depth", "0"}, 400, ""},
		{"multiget at the cap", "REPORT", cal, multiget(3), []string{"Depth", "1"}, 207, ""},
		{"multiget beyond the cap", "REPORT", cal, multiget(4), []string{"Depth", "1"}, 403, "at most 3"},
		{"a daily event", "PUT", cal + "daily.ics", dailyEvent, []string{"Content-Type", "text/calendar"}, 201, ""},
		{"expansion beyond the cap", "REPORT", cal, expand, []string{"Depth", "1"}, 403, "too-many-instances"},
		{"collection 4", "MKCOL", p, "", nil, 201, ""},
		{"collection 5", "MKCOL", p + "q/", "", nil, 201, ""},
		{"collection 6", "MKCALENDAR", "/dav/calendars/lim/more/", "", nil, 507, "max-collections"},
		{"object 1", "PUT", p + "1.txt", kib, nil, 201, ""},
		{"object 2", "PUT", p + "2.txt", kib, nil, 201, ""},
		{"object 3", "PUT", p + "3.txt", kib, nil, 201, ""},
		{"object 4", "PUT", p + "4.txt", "x", nil, 507, "max-resources-per-collection"},
		{"quota reported", "PROPFIND", p, `<propfind xmlns="DAV:"><prop><quota-available-bytes/><quota-used-bytes/></prop></propfind>`, []string{"Depth", "0"}, 207, "<D:quota-available-bytes>"},
		{"within the quota", "PUT", p + "q/a.txt", kib + kib, nil, 201, ""},
		{"beyond the quota", "PUT", p + "q/b.txt", kib, nil, 507, "quota-not-exceeded"},
		{"collection copy beyond the limits", "COPY", p + "q/", "", []string{"Destination", "/dav/addressbooks/lim/r/"}, 507, ""},
		{"object copy beyond the quota", "COPY", p + "q/a.txt", "", []string{"Destination", p + "q/a.txt.bak"}, 507, "quota-not-exceeded"},
		{"nothing stored", "GET", p + "q/b.txt", "", nil, 404, ""},
	}
	for _, st := range steps {
		r := c.do(st.method, st.path, st.body, st.headers...)
		if r.Status != st.status || !strings.Contains(r.Body, st.want) {
			t.Errorf("%s: %s %s: status %d, want %d with %q\n%.600s", st.name, st.method, st.path, r.Status, st.status, st.want, r.Body)
		}
	}
	if strings.Contains(s.output(), "status=500") {
		t.Errorf("a limit led to a 500:\n%s", s.output())
	}
}

// TestPhotoSizedContact: by default a contact with a 12 MB photo fits.
func TestPhotoSizedContact(t *testing.T) {
	s := startServer(t, "")
	addUser(t, s.data, "photo", "photo-password")
	c := s.client(t, "photo", "photo-password")
	photo := base64.StdEncoding.EncodeToString(make([]byte, 9<<20)) // 12 MiB of base64
	card := crlf("BEGIN:VCARD\nVERSION:3.0\nUID:photo-card\nFN:Photo\nN:Photo;;;\nPHOTO;ENCODING=b;TYPE=JPEG:") + photo + "\r\nEND:VCARD\r\n"
	c.must(201, "PUT", "/dav/addressbooks/photo/contacts/photo.vcf", card, "Content-Type", "text/vcard")
	if r := c.must(200, "GET", "/dav/addressbooks/photo/contacts/photo.vcf", ""); r.Body != card {
		t.Fatalf("the photo came back changed (%d bytes, sent %d)", len(r.Body), len(card))
	}
}

// TestSlowClientsAreCutOff: a client that sends half a header, or half a
// body, or nothing after an answer, loses its connection after the
// configured timeout.
func TestSlowClientsAreCutOff(t *testing.T) {
	s := startServerWith(t, "", "--read-header-timeout", "1s", "--read-timeout", "2s", "--idle-timeout", "2s")
	addUser(t, s.data, "slow", "slow-password")
	host := strings.TrimSuffix(strings.TrimPrefix(s.URL, "http://"), "/")
	auth := "Basic " + base64.StdEncoding.EncodeToString([]byte("slow:slow-password"))
	tests := []struct {
		name     string
		send     string
		min, max time.Duration
	}{
		{"half a header", "PROPFIND /dav/ HTTP/1.1\r\nHost: " + host + "\r\nDepth: 0\r\nX-Slow", 900 * time.Millisecond, 6 * time.Second},
		{"half a body", "PUT /dav/addressbooks/slow/contacts/slow.vcf HTTP/1.1\r\nHost: " + host + "\r\nAuthorization: " + auth +
			"\r\nContent-Type: text/vcard\r\nContent-Length: 1000\r\n\r\nBEGIN:VCARD\r\n", 1900 * time.Millisecond, 10 * time.Second},
		{"idle after an answer", "GET /healthz HTTP/1.1\r\nHost: " + host + "\r\n\r\n", 1900 * time.Millisecond, 8 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", host)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			start := time.Now()
			if _, err := io.WriteString(conn, tc.send); err != nil {
				t.Fatal(err)
			}
			conn.SetReadDeadline(time.Now().Add(tc.max + 5*time.Second))
			_, err = io.Copy(io.Discard, bufio.NewReader(conn)) // until the server closes
			took := time.Since(start)
			if errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("the server kept the connection open for %v", took)
			}
			if took < tc.min || took > tc.max {
				t.Fatalf("closed after %v, want between %v and %v", took, tc.min, tc.max)
			}
		})
	}
	c := s.client(t, "slow", "slow-password")
	c.must(404, "GET", "/dav/addressbooks/slow/contacts/slow.vcf", "")
}
