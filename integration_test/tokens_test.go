package integration_test

import (
	"fmt"
	"regexp"
	"strconv"
	"testing"
)

// syncTokenElem is the sync-token of a Depth 0 PROPFIND answer.
var syncTokenElem = regexp.MustCompile(`<D:sync-token>[^<]*?(\d+)</D:sync-token>`)

// TestTokensPerUser reproduces the activity oracle on the binary: bob's
// sync token went from 15 to 23 while alice stored 7 objects. Now bob's
// token stays while alice writes, and moves by one with his own change.
func TestTokensPerUser(t *testing.T) {
	s := startServer(t, "")
	addUser(t, s.data, "alice", "alice-password")
	addUser(t, s.data, "bob", "bob-password")
	alice, bob := s.client(t, "alice", "alice-password"), s.client(t, "bob", "bob-password")
	bobCal := "/dav/calendars/bob/calendar/"
	poll := `<?xml version="1.0" encoding="UTF-8"?><A:propfind xmlns:A="DAV:"><A:prop><B:getctag xmlns:B="http://calendarserver.org/ns/"/><A:sync-token/></A:prop></A:propfind>`
	token := func() int {
		t.Helper()
		m := syncTokenElem.FindStringSubmatch(bob.must(207, "PROPFIND", bobCal, poll, "Depth", "0").Body)
		if m == nil {
			t.Fatal("no sync-token for bob's calendar")
		}
		n, _ := strconv.Atoi(m[1])
		return n
	}
	bob.must(201, "PUT", bobCal+"first.ics", event("bob-first", "Bob's first"), "Content-Type", "text/calendar")
	before := token()
	for i := range 7 {
		alice.must(201, "PUT", fmt.Sprintf("/dav/calendars/alice/calendar/%d.ics", i), event(fmt.Sprintf("alice-%d", i), "Alice's"), "Content-Type", "text/calendar")
	}
	if got := token(); got != before {
		t.Fatalf("bob's token went from %d to %d while alice stored 7 objects", before, got)
	}
	bob.must(201, "PUT", bobCal+"second.ics", event("bob-second", "Bob's second"), "Content-Type", "text/calendar")
	if got := token(); got != before+1 {
		t.Fatalf("bob's token went from %d to %d with one change of his own after alice's 7", before, got)
	}
}
