package dav

import (
	"fmt"
	"strings"
	"testing"
)

// TestIfHeader: an If header that follows RFC 4918 section 10.4.2 lets the
// request through; one that does not gets 400 and changes nothing.
func TestIfHeader(t *testing.T) {
	tests := []struct {
		name, header string
		status       int
	}{
		{"state token and etag", `(<urn:uuid:181d4fae-7d8c-11d0-a765-00a0c91e6bf2> ["I am an ETag"])`, 201},
		{"two lists", `(["I am an ETag"]) (["I am another ETag"])`, 201},
		{"Not", `(Not <urn:uuid:181d4fae-7d8c-11d0-a765-00a0c91e6bf2> <urn:uuid:58f202ac-22cf-11d1-b12d-002035b29092>)`, 201},
		{"no-lock", `(<DAV:no-lock>)`, 201},
		{"tagged lists", `<http://dav.example.org:8443/dav/calendars/alice/calendar/> (["a"]) <http://dav.example.org:8443/x> (Not <DAV:no-lock>) ([W/"b"])`, 201},
		{"tagged, weak etag", `<http://dav.example.org:8443/x> ([W/"b"])`, 201},
		{"garbage", `garbage`, 400},
		{"unclosed list", `(<urn:x>`, 400},
		{"empty list", `()`, 400},
		{"tag without list", `<http://dav.example.org:8443/x>`, 400},
		{"tag then tag", `<http://a.example/x> <http://a.example/y> (<urn:x>)`, 400},
		{"no-tag then tag", `(<urn:x>) <http://a.example/y> (<urn:y>)`, 400},
		{"unquoted etag", `([abc])`, 400},
		{"unterminated etag", `(["abc)`, 400},
		{"bare etag", `("abc")`, 400},
		{"empty state token", `(<>)`, 400},
	}
	ts := newTestServer(t)
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := fmt.Sprintf("%sif-%d.ics", calPath, i)
			body := strings.Replace(icsOther, "UID:other", fmt.Sprintf("UID:if-%d", i), 1)
			rec := ts.do(t, "alice", "PUT", p, body, "Content-Type: text/calendar", "If: "+tc.header)
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d:\n%s", rec.Code, tc.status, rec.Body.String())
			}
			if tc.status == 400 {
				wantError(t, rec, 400, "")
				if got := ts.do(t, "alice", "GET", p, ""); got.Code != 404 {
					t.Fatalf("a refused PUT stored the object: %d", got.Code)
				}
			}
		})
	}
}
