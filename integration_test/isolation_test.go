package integration_test

import (
	"strings"
	"testing"
)

// TestSecondUserIsWalledOff: user bob tries every method on each of alice's
// resources, by direct path, by path tricks, by Destination header and by
// multiget href. Nothing of alice's is revealed or changed.
func TestSecondUserIsWalledOff(t *testing.T) {
	s := startServer(t, "")
	addUser(t, s.data, "alice", "alice-password")
	addUser(t, s.data, "bob", "bob-password")
	alice := s.client(t, "alice", "alice-password")
	bob := s.client(t, "bob", "bob-password")

	const secret = "ALICE-SECRET-SUMMARY"
	aCal := "/dav/calendars/alice/calendar/"
	aBook := "/dav/addressbooks/alice/contacts/"
	alice.must(201, "PUT", aCal+"secret.ics", event("alice-uid", secret), "Content-Type", "text/calendar")
	alice.must(201, "PUT", aBook+"secret.vcf", contact3("alice-card", secret), "Content-Type", "text/vcard")
	alice.must(207, "PROPPATCH", aCal, `<propertyupdate xmlns="DAV:"><set><prop><displayname>`+secret+`</displayname></prop></set></propertyupdate>`)
	state := func() string {
		var b strings.Builder
		for _, p := range []string{"/dav/calendars/alice/", aCal, "/dav/addressbooks/alice/", aBook} {
			b.WriteString(alice.must(207, "PROPFIND", p, "", "Depth", "1").Body)
		}
		b.WriteString(alice.must(200, "GET", aCal+"secret.ics", "").Body)
		return b.String()
	}
	before := state()

	targets := []string{
		"/dav/principals/alice/",
		"/dav/calendars/alice/",
		aCal,
		aCal + "secret.ics",
		"/dav/addressbooks/alice/",
		aBook,
		aBook + "secret.vcf",
		"/dav/calendars/alice/new-cal/",
		// Path tricks that must not lead into alice's space.
		"/dav/calendars/bob/../alice/calendar/secret.ics",
		"/dav/calendars/bob/calendar/..%2F..%2Falice%2Fcalendar%2Fsecret.ics",
		"/dav/calendars/bob/calendar/%2e%2e/%2e%2e/alice/calendar/secret.ics",
		"/dav/calendars/%61lice/calendar/secret.ics",
		"/dav/calendars/ALICE/calendar/secret.ics",
	}
	multiget := `<C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/><C:calendar-data/></D:prop><D:href>` + aCal + `secret.ics</D:href></C:calendar-multiget>`
	sync := `<sync-collection xmlns="DAV:"><sync-token/><sync-level>1</sync-level><prop><getetag/></prop></sync-collection>`
	requests := []struct {
		method, body string
		headers      []string
	}{
		{"OPTIONS", "", nil},
		{"PROPFIND", "", []string{"Depth", "0"}},
		{"PROPFIND", "", []string{"Depth", "1"}},
		{"PROPFIND", `<propfind xmlns="DAV:"><propname/></propfind>`, []string{"Depth", "1"}},
		{"PROPPATCH", `<propertyupdate xmlns="DAV:"><set><prop><displayname>pwned</displayname></prop></set></propertyupdate>`, nil},
		{"GET", "", nil},
		{"HEAD", "", nil},
		{"PUT", event("bob-uid", "pwned"), []string{"Content-Type", "text/calendar"}},
		{"DELETE", "", nil},
		{"MKCOL", "", nil},
		{"MKCALENDAR", "", nil},
		{"REPORT", multiget, []string{"Depth", "1"}},
		{"REPORT", sync, []string{"Depth", "1"}},
		{"MOVE", "", []string{"Destination", "/dav/calendars/bob/calendar/stolen.ics"}},
		{"COPY", "", []string{"Destination", "/dav/calendars/bob/calendar/stolen.ics"}},
	}
	for _, target := range targets {
		for _, rq := range requests {
			r := bob.do(rq.method, target, rq.body, rq.headers...)
			if r.Status < 300 && rq.method != "OPTIONS" || r.Status >= 500 {
				t.Errorf("bob %s %s: status %d\n%s", rq.method, target, r.Status, r.Body)
			}
			if strings.Contains(r.Body, secret) || strings.Contains(r.Body, "alice-uid") || strings.Contains(r.Body, "secret.ics") {
				t.Errorf("bob %s %s reveals alice's data:\n%s", rq.method, target, r.Body)
			}
		}
	}
	// Double encoding decodes once, to a name inside bob's own calendar: it
	// may be stored there, but it never reaches alice's.
	double := "/dav/calendars/bob/calendar/..%252F..%252Falice%252Fcalendar%252Fsecret.ics"
	for _, rq := range requests {
		r := bob.do(rq.method, double, rq.body, rq.headers...)
		if r.Status >= 500 || strings.Contains(r.Body, secret) || strings.Contains(r.Body, "alice-uid") {
			t.Errorf("bob %s %s: %d\n%s", rq.method, double, r.Status, r.Body)
		}
	}

	// From bob's own collections: multiget hrefs and Destination headers into alice's space.
	bCal := "/dav/calendars/bob/calendar/"
	bob.must(201, "PUT", bCal+"mine.ics", event("bob-own", "Bob's"), "Content-Type", "text/calendar")
	r := bob.do("REPORT", bCal, multiget, "Depth", "1")
	if strings.Contains(r.Body, secret) || strings.Contains(r.Body, "BEGIN:VCALENDAR") || r.Status >= 500 {
		t.Errorf("multiget of alice's href from bob's calendar: %d\n%s", r.Status, r.Body)
	}
	for _, m := range []string{"MOVE", "COPY"} {
		for _, overwrite := range []string{"T", "F"} {
			r := bob.do(m, bCal+"mine.ics", "", "Destination", aCal+"secret.ics", "Overwrite", overwrite)
			if r.Status < 300 || r.Status >= 500 {
				t.Errorf("bob %s into alice's calendar (Overwrite %s): %d", m, overwrite, r.Status)
			}
		}
	}
	if after := state(); after != before {
		t.Fatalf("bob's requests changed alice's data")
	}
}
