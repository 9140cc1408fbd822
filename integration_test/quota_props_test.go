package integration_test

import (
	"fmt"
	"strings"
	"testing"
)

// TestPropertiesCountAgainstQuota: the attack of issue 11 on a --quota
// 100KB server (thirty 900 KB dead properties, display names of 900 KB,
// object names of 500 KB) is refused with 507 or 414 and leaves the data
// folder and the answer to an allprop PROPFIND small.
func TestPropertiesCountAgainstQuota(t *testing.T) {
	s := startServerWith(t, "", "--quota", "100KB")
	addUser(t, s.data, "qp", "quota-password")
	c := s.client(t, "qp", "quota-password")
	const cal = "/dav/calendars/qp/calendar/"
	big := strings.Repeat("v", 900000)
	prop := func(ns, local string) string {
		return `<?xml version="1.0" encoding="UTF-8"?><A:propertyupdate xmlns:A="DAV:"><A:set><A:prop><X:` + local + ` xmlns:X="` + ns + `">` +
			big + `</X:` + local + `></A:prop></A:set></A:propertyupdate>`
	}
	before := folderSize(t, s.data)
	refused := map[int]int{}
	for i := range 30 {
		refused[c.do("PROPPATCH", cal, prop("urn:x", fmt.Sprintf("p%d", i))).Status]++
		coll := fmt.Sprintf("/dav/calendars/qp/c%d/", i)
		c.must(201, "MKCALENDAR", coll, "")
		refused[c.do("PROPPATCH", coll, prop("DAV:", "displayname")).Status]++
		refused[c.do("PUT", cal+strings.Repeat("o", 500000-4-1)+fmt.Sprint(i%10)+".ics", event(fmt.Sprint("long-name-", i), "x"), "Content-Type", "text/calendar").Status]++
	}
	if refused[507] != 60 || refused[414] != 30 {
		t.Errorf("answers %v, want 60 × 507 and 30 × 414", refused)
	}
	r := c.must(207, "PROPFIND", cal, `<propfind xmlns="DAV:"><allprop/></propfind>`, "Depth", "0")
	if len(r.Body) > 100000 {
		t.Errorf("an allprop PROPFIND answered %d bytes", len(r.Body))
	}
	// Within the limits, properties still work.
	c.must(207, "PROPPATCH", cal, iosProppatchCalendar)
	s.Stop()
	after := folderSize(t, s.data)
	t.Logf("data folder: %d bytes before the attack, %d after; allprop PROPFIND: %d bytes", before, after, len(r.Body))
	if after-before > 2<<20 {
		t.Errorf("the attack grew the data folder by %d bytes", after-before)
	}
	if strings.Contains(s.output(), "status=500") {
		t.Errorf("the attack led to a 500:\n%s", s.output())
	}
}
