package dav

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/coffer-dav/coffer/storage"
)

// benchPhoto is a folded vCard 3 PHOTO line with about 60 KB of JPEG-like bytes.
var benchPhoto = func() string {
	raw := make([]byte, 45<<10)
	for i := range raw {
		raw[i] = byte(i*7 + i>>8)
	}
	line := "PHOTO;ENCODING=b;TYPE=JPEG:" + base64.StdEncoding.EncodeToString(raw)
	var b strings.Builder
	b.WriteString(line[:75])
	for rest := line[75:]; rest != ""; {
		n := min(74, len(rest))
		b.WriteString("\r\n " + rest[:n])
		rest = rest[n:]
	}
	return b.String() + "\r\n"
}()

// benchContact returns the n-th contact as DAVx5 uploads it: vCard 3 with
// about 20 properties, grouped labels, escapes, and a photo when asked.
func benchContact(n int, photo bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "BEGIN:VCARD\r\nVERSION:3.0\r\nPRODID:+//IDN bitfire.at//ezvcard 0.12.1\r\nUID:c-%d@example.org\r\n", n)
	fmt.Fprintf(&b, "FN:Anna Müller %d\r\nN:Müller;Anna;;;\r\nNICKNAME:anna%d\r\nORG:Example Corp\\, Ltd.;Team %d\r\nTITLE:Engineer\r\n", n, n, n%17)
	fmt.Fprintf(&b, "TEL;TYPE=CELL:+49 151 %08d\r\nTEL;TYPE=WORK,VOICE:+49 30 %07d\r\n", n, n%10000000)
	fmt.Fprintf(&b, "item1.EMAIL;TYPE=INTERNET:anna.%d@example.org\r\nitem1.X-ABLabel:_$!<Other>!$_\r\nEMAIL;TYPE=INTERNET,HOME:p%d@example.net\r\n", n, n)
	fmt.Fprintf(&b, "ADR;TYPE=HOME:;;Hauptstraße %d;Berlin;;10115;Germany\r\nADR;TYPE=WORK:;;Business Park 1;Berlin;;10117;Germany\r\n", n%200)
	fmt.Fprintf(&b, "BDAY:1980-%02d-%02d\r\nURL:https://example.org/people/%d\r\nNOTE:Met at a conference\\; follow up\\, maybe.\r\n", 1+n%12, 1+n%28, n)
	fmt.Fprintf(&b, "CATEGORIES:friends,work\r\nIMPP;X-SERVICE-TYPE=Jabber:xmpp:u%d@example.org\r\nX-ABShowAs:PERSON\r\nREV:20260101T000000Z\r\n", n)
	if photo {
		b.WriteString(benchPhoto)
	}
	b.WriteString("END:VCARD\r\n")
	return b.String()
}

// benchRecurring returns the n-th event with an embedded VTIMEZONE, a
// weekly RRULE and an alarm, the most work PUT does to validate and index.
func benchRecurring(n int) string {
	return "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:+//IDN bitfire.at//ical4android\r\n" +
		"BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\nBEGIN:DAYLIGHT\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nTZNAME:CEST\r\nDTSTART:19700329T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nEND:DAYLIGHT\r\n" +
		"BEGIN:STANDARD\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nTZNAME:CET\r\nDTSTART:19701025T030000\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n" +
		fmt.Sprintf("BEGIN:VEVENT\r\nUID:r-%d@example.org\r\nDTSTAMP:20260101T000000Z\r\nDTSTART;TZID=Europe/Berlin:20260105T%02d0000\r\nDTEND;TZID=Europe/Berlin:20260105T%02d3000\r\n", n, 8+n%10, 8+n%10) +
		fmt.Sprintf("RRULE:FREQ=WEEKLY;COUNT=%d\r\nSUMMARY:Weekly %d\r\nLOCATION:Room %d\r\nBEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:Reminder\r\nTRIGGER:-PT15M\r\nEND:VALARM\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n", 10+n%20, n, n%30)
}

// benchTask returns the n-th task as OpenTasks uploads it.
func benchTask(n int) string {
	return fmt.Sprintf("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:+//IDN bitfire.at//ical4android (org.dmfs.tasks)\r\nBEGIN:VTODO\r\nUID:t-%d@example.org\r\nDTSTAMP:20260101T000000Z\r\n"+
		"SUMMARY:Task %d\r\nDUE:20260301T170000Z\r\nPRIORITY:%d\r\nSTATUS:NEEDS-ACTION\r\nBEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:Due\r\nTRIGGER;RELATED=END:-PT1H\r\nEND:VALARM\r\nEND:VTODO\r\nEND:VCALENDAR\r\n", n, n, n%10)
}

// putCase is one kind of object PUT through the handler.
type putCase struct {
	name, coll, ext, contentType string
	body                         func(n int) string
}

var putCases = []putCase{
	{"contact", "/dav/addressbooks/alice/contacts/", ".vcf", "text/vcard; charset=utf-8", func(n int) string { return benchContact(n, false) }},
	{"contact-photo", "/dav/addressbooks/alice/contacts/", ".vcf", "text/vcard; charset=utf-8", func(n int) string { return benchContact(n, true) }},
	{"event", calPath, ".ics", "text/calendar; charset=utf-8", func(n int) string { return benchEvent(n, "Event") }},
	{"event-recurring", calPath, ".ics", "text/calendar; charset=utf-8", benchRecurring},
	{"task", "/dav/calendars/alice/tasks/", ".ics", "text/calendar; charset=utf-8", benchTask},
}

// BenchmarkPut measures a PUT through the handler into real storage
// (SQLite, synchronous=FULL, sealed): parsing and validating the object,
// indexing it, sealing and committing. "create" stores a new object each
// time, as an initial upload does; "update" replaces one with If-Match;
// "parallel" creates from several goroutines, which share commits.
func BenchmarkPut(b *testing.B) {
	for _, tc := range putCases {
		b.Run(tc.name+"/create", func(b *testing.B) {
			ts := newTestServer(b)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				rec := ts.do(b, "alice", "PUT", fmt.Sprintf("%sb-%d%s", tc.coll, i, tc.ext), tc.body(i), "Content-Type: "+tc.contentType, "If-None-Match: *")
				if rec.Code != 201 {
					b.Fatalf("PUT: %d %s", rec.Code, rec.Body)
				}
				i++
			}
		})
		b.Run(tc.name+"/update", func(b *testing.B) {
			ts := newTestServer(b)
			target := tc.coll + "b-0" + tc.ext
			rec := ts.do(b, "alice", "PUT", target, tc.body(0), "Content-Type: "+tc.contentType)
			etag := rec.Header().Get("ETag")
			variants := []string{tc.body(0), strings.Replace(tc.body(0), "\r\nEND:", "\r\nX-BENCH:changed\r\nEND:", 1)}
			b.ReportAllocs()
			i := 1
			for b.Loop() {
				rec := ts.do(b, "alice", "PUT", target, variants[i%2], "Content-Type: "+tc.contentType, "If-Match: "+etag)
				if rec.Code != 204 {
					b.Fatalf("PUT update: %d %s", rec.Code, rec.Body)
				}
				etag = rec.Header().Get("ETag")
				i++
			}
		})
	}
	b.Run("contact/parallel", func(b *testing.B) {
		ts := newTestServer(b)
		var next atomic.Int64
		b.ReportAllocs()
		b.SetParallelism(4) // 8 writers on 2 cores, as the load tool's C=8
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				i := int(next.Add(1))
				rec := ts.do(b, "alice", "PUT", fmt.Sprintf("/dav/addressbooks/alice/contacts/p-%d.vcf", i), benchContact(i, false), "Content-Type: text/vcard; charset=utf-8", "If-None-Match: *")
				if rec.Code != 201 {
					b.Errorf("PUT: %d %s", rec.Code, rec.Body)
					return
				}
			}
		})
	})
}

// multigetFixture stores size contacts and size recurring events for alice.
func multigetFixture(tb testing.TB, size int) *testServer {
	ts := newTestServer(tb)
	ctx := context.Background()
	for _, c := range []struct {
		home storage.Home
		name string
		ext  string
		body func(int) string
		ct   string
	}{
		{storage.HomeAddressBooks, "contacts", ".vcf", func(n int) string { return benchContact(n, n%10 == 3) }, "text/vcard"},
		{storage.HomeCalendars, "calendar", ".ics", benchRecurring, "text/calendar"},
	} {
		coll, err := ts.alice.Collection(ctx, c.home, c.name)
		if err != nil {
			tb.Fatal(err)
		}
		for i := 0; i < size; i++ {
			_, err := ts.alice.PutObject(ctx, coll.ID, storage.PutOptions{Name: fmt.Sprintf("m-%d%s", i, c.ext), ContentType: c.ct, Body: []byte(c.body(i))})
			if err != nil {
				tb.Fatal(err)
			}
		}
	}
	return ts
}

// multigetBody returns DAVx5's multiget for count hrefs from first, in a
// collection of size objects.
func multigetBody(card bool, first, count, size int) string {
	var hrefs strings.Builder
	coll, ext, tmpl := calPath, ".ics", bodyDAVx5CalMultiget
	if card {
		coll, ext = "/dav/addressbooks/alice/contacts/", ".vcf"
		tmpl = `<?xml version='1.0' encoding='UTF-8' ?><CARD:addressbook-multiget xmlns="DAV:" xmlns:CARD="urn:ietf:params:xml:ns:carddav"><prop><getcontenttype /><getetag /><CARD:address-data /></prop>%s</CARD:addressbook-multiget>`
	}
	for j := 0; j < count; j++ {
		fmt.Fprintf(&hrefs, "<href>%sm-%d%s</href>", coll, (first+j)%size, ext)
	}
	return fmt.Sprintf(tmpl, hrefs.String())
}

// BenchmarkMultiget measures addressbook-multiget and calendar-multiget of
// 10 hrefs (DAVx5's batch) and 50 (iOS's) from collections of 1,000
// objects; a tenth of the contacts carry a 60 KB photo.
func BenchmarkMultiget(b *testing.B) {
	const size = 1000
	ts := multigetFixture(b, size)
	for _, kind := range []struct {
		name string
		card bool
		coll string
	}{{"addressbook", true, "/dav/addressbooks/alice/contacts/"}, {"calendar", false, calPath}} {
		for _, count := range []int{10, 50} {
			b.Run(fmt.Sprintf("%s/hrefs=%d", kind.name, count), func(b *testing.B) {
				bodies := make([]string, size/count)
				for i := range bodies {
					bodies[i] = multigetBody(kind.card, i*count, count, size)
				}
				hdr := []string{"Content-Type: application/xml; charset=utf-8"}
				if kind.card {
					hdr = append(hdr, "Depth: 0")
				}
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					rec := ts.do(b, "alice", "REPORT", kind.coll, bodies[i%len(bodies)], hdr...)
					if rec.Code != 207 {
						b.Fatalf("multiget: %d %s", rec.Code, rec.Body)
					}
					if n := strings.Count(rec.Body.String(), "<D:response>"); n != count {
						b.Fatalf("multiget returned %d of %d", n, count)
					}
					i++
				}
			})
		}
	}
}
