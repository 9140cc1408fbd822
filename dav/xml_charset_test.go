package dav

import (
	"strings"
	"testing"
	"unicode/utf16"
)

// latin1 returns s, all of it below U+0100, in ISO-8859-1.
func latin1(s string) string {
	b := make([]byte, 0, len(s))
	for _, r := range s {
		b = append(b, byte(r))
	}
	return string(b)
}

// utf16Body returns s in UTF-16 with a byte order mark, big or little endian.
func utf16Body(s string, big bool) string {
	var b []byte
	for _, u := range append([]uint16{0xFEFF}, utf16.Encode([]rune(s))...) {
		if big {
			b = append(b, byte(u>>8), byte(u))
		} else {
			b = append(b, byte(u), byte(u>>8))
		}
	}
	return string(b)
}

// TestXMLCharsets: a body in another encoding than UTF-8, named by its
// byte order mark or its XML declaration, is decoded (RFC 4918 section
// 8.2, XML 1.0 section 4.3.3); an unknown or contradictory one gets 400
// and changes nothing.
func TestXMLCharsets(t *testing.T) {
	patch := func(decl, name string) string {
		return decl + `<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:displayname>` + name + `</D:displayname></D:prop></D:set></D:propertyupdate>`
	}
	const propfind = `<propfind xmlns="DAV:"><prop><displayname/></prop></propfind>`
	tests := []struct {
		name   string
		body   string
		status int
		want   string // the displayname afterwards
	}{
		{"ISO-8859-1 declared", latin1(patch(`<?xml version="1.0" encoding="ISO-8859-1"?>`, "Café Müller")), 207, "Café Müller"},
		{"windows-1252 declared", latin1(patch(`<?xml version='1.0' encoding='windows-1252'?>`, "Kalender für Jörg")), 207, "Kalender für Jörg"},
		{"UTF-16LE with mark and declaration", utf16Body(patch(`<?xml version="1.0" encoding="UTF-16"?>`, "日程 A"), false), 207, "日程 A"},
		{"UTF-16BE with mark, no declaration", utf16Body(patch("", "日程 B"), true), 207, "日程 B"},
		{"UTF-8 with mark", "\xEF\xBB\xBF" + patch(`<?xml version="1.0" encoding="UTF-8"?>`, "Grüße"), 207, "Grüße"},
		{"UTF-16 declared without a mark", patch(`<?xml version="1.0" encoding="UTF-16"?>`, "x1"), 400, "Grüße"},
		{"UTF-16 mark, Latin-1 declared", utf16Body(patch(`<?xml version="1.0" encoding="ISO-8859-1"?>`, "x2"), false), 400, "Grüße"},
		{"unknown encoding", patch(`<?xml version="1.0" encoding="x-no-such-charset"?>`, "x3"), 400, "Grüße"},
		{"Latin-1 bytes declared UTF-8", latin1(patch(`<?xml version="1.0" encoding="UTF-8"?>`, "Caf\u00e9")), 400, "Grüße"},
	}
	ts := newTestServer(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := ts.do(t, "alice", "PROPPATCH", calPath, tc.body, "Content-Type: application/xml")
			if rec.Code != tc.status {
				t.Fatalf("PROPPATCH status %d, want %d:\n%s", rec.Code, tc.status, rec.Body.String())
			}
			got := parseMS(t, ts.do(t, "alice", "PROPFIND", calPath, propfind, "Depth: 0")).resp(t, calPath).ok(t)
			if !strings.Contains(got, ">"+tc.want+"<") {
				t.Fatalf("displayname is not %q: %s", tc.want, got)
			}
		})
	}
}
