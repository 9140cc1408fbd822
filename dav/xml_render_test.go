package dav

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/coffer-dav/coffer/dav/vcard"
)

// refEscape is escapeString as it was before appendEscaped, kept as the
// reference the appender must match byte for byte.
func refEscape(s string) string {
	var b strings.Builder
	clean := 0
	for i := 0; i < len(s); {
		c := s[i]
		var rep string
		size := 1
		switch {
		case c == '&':
			rep = "&amp;"
		case c == '<':
			rep = "&lt;"
		case c == '>':
			rep = "&gt;"
		case c == '"':
			rep = "&quot;"
		case c == '\'':
			rep = "&apos;"
		case c == '\r':
			rep = "&#13;"
		case c < utf8.RuneSelf:
			if c >= 0x20 || c == '\t' || c == '\n' {
				i++
				continue
			}
			rep = "\uFFFD"
		default:
			var r rune
			r, size = utf8.DecodeRuneInString(s[i:])
			if (r != utf8.RuneError || size > 1) && isXMLChar(r) {
				i += size
				continue
			}
			rep = "\uFFFD"
		}
		b.WriteString(s[clean:i])
		b.WriteString(rep)
		i += size
		clean = i
	}
	if clean == 0 {
		return s
	}
	b.WriteString(s[clean:])
	return b.String()
}

// refElem is elem as it was, over refEscape.
func refElem(name xml.Name, inner string) string {
	p := prefixFor(name.Space)
	open := "<" + p + name.Local
	if p == "" {
		open += ` xmlns="` + refEscape(name.Space) + `"`
	}
	if inner == "" {
		return open + "/>"
	}
	return open + ">" + inner + "</" + p + name.Local + ">"
}

// refMultistatus is multistatus.bytes as it was, with each text property
// rendered to a string first, as objectResponse did.
func refMultistatus(m *multistatus) string {
	status := func(code int) string { return "HTTP/1.1 " + strconv.Itoa(code) + " " + http.StatusText(code) }
	var b strings.Builder
	b.WriteString(xmlDecl)
	b.WriteString("<D:multistatus" + rootNamespaces + ">")
	for _, r := range m.responses {
		b.WriteString("<D:response><D:href>" + refEscape(r.href) + "</D:href>")
		if r.status != 0 {
			b.WriteString("<D:status>" + status(r.status) + "</D:status>")
			if r.errCond.Local != "" {
				b.WriteString("<D:error>" + refElem(r.errCond, "") + "</D:error>")
			}
		} else {
			var pss []*propstat
			for _, ps := range r.propstats {
				if !(m.minimal && ps.status == http.StatusNotFound) {
					pss = append(pss, ps)
				}
			}
			sort.SliceStable(pss, func(i, j int) bool { return pss[i].status < pss[j].status })
			if len(pss) == 0 {
				pss = []*propstat{{status: http.StatusOK}}
			}
			for _, ps := range pss {
				b.WriteString("<D:propstat><D:prop>")
				for _, p := range ps.props {
					if p.name.Local == "" {
						b.WriteString(p.markup)
					} else {
						b.WriteString(refElem(p.name, refEscape(string(p.text))))
					}
				}
				b.WriteString("</D:prop><D:status>" + status(ps.status) + "</D:status>")
				if ps.cond.Local != "" {
					b.WriteString("<D:error>" + refElem(ps.cond, "") + "</D:error>")
				}
				b.WriteString("</D:propstat>")
			}
		}
		b.WriteString("</D:response>")
	}
	if m.syncToken != "" {
		b.WriteString("<D:sync-token>" + refEscape(m.syncToken) + "</D:sync-token>")
	}
	b.WriteString("</D:multistatus>\n")
	return b.String()
}

// escapeInputs returns tricky strings for the escaper: every string of one
// and two bytes, every prefix of the encodings around the boundaries of
// UTF-8 and of the XML character set, and fixed-seed mixes of those.
func escapeInputs() []string {
	frags := []string{"", "a", "plain text", "&", "<", ">", `"`, "'", "\r", "\n", "\t", "\r\n", "&amp;", "]]>",
		"\x00", "\x07", "\x1f", "\x7f", "\x80", "\xbf", "\xc0\xaf", "\xe0\x80\xaf", "\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\xff",
		"\xed\xa0\x80", "\xed\xbf\xbf", "ü", "Grüße", "✓", "𝄞", "\u07ff", "\u0800", "\ud7ff", "\ue000", "\ufffd", "\ufffe", "\uffff",
		"\U00010000", "\U0010ffff", "PHOTO;ENCODING=b:QUJD+/==\r\n "}
	var in []string
	for _, f := range frags {
		for k := 1; k <= len(f); k++ {
			in = append(in, f[:k], f[k-1:])
		}
	}
	for a := 0; a < 256; a++ {
		in = append(in, string([]byte{byte(a)}))
		for c := 0; c < 256; c++ {
			in = append(in, string([]byte{byte(a), byte(c)}))
		}
	}
	rng := rand.New(rand.NewPCG(13, 4791))
	for range 5000 {
		var b strings.Builder
		for range 1 + rng.IntN(12) {
			b.WriteString(frags[rng.IntN(len(frags))])
		}
		in = append(in, b.String())
	}
	return append(in, strings.Repeat("QUJD", 50000), strings.Repeat("a&\r\n", 10000))
}

// TestAppendEscapedMatchesReference: the appender, over strings and bytes
// and after existing content, and escapeString built on it, give exactly
// the bytes the former escapeString gave.
func TestAppendEscapedMatchesReference(t *testing.T) {
	for _, s := range escapeInputs() {
		want := refEscape(s)
		if got := escapeString(s); got != want {
			t.Fatalf("escapeString(%q) = %q, want %q", s, got, want)
		}
		if got := appendEscaped([]byte("<x>"), s); string(got) != "<x>"+want {
			t.Fatalf("appendEscaped(string %q) = %q, want %q", s, got, want)
		}
		if got := appendEscaped([]byte("<x>"), []byte(s)); string(got) != "<x>"+want {
			t.Fatalf("appendEscaped(bytes %q) = %q, want %q", s, got, want)
		}
	}
}

// TestElemMatchesReference: elem, textElem and hrefElem render as before.
func TestElemMatchesReference(t *testing.T) {
	names := []xml.Name{pnGetetag, pnAddressData, {Space: "urn:x&y", Local: "p"}, {Space: "", Local: "bare"}}
	for _, n := range names {
		for _, s := range []string{"", "x", `"etag&1"`, "a\r\nb", strings.Repeat("é<", 300)} {
			if got, want := elem(n, s), refElem(n, s); got != want {
				t.Errorf("elem(%v, %q) = %q, want %q", n, s, got, want)
			}
			if got, want := textElem(n, s), refElem(n, refEscape(s)); got != want {
				t.Errorf("textElem(%v, %q) = %q, want %q", n, s, got, want)
			}
			if got, want := hrefElem(s), "<D:href>"+refEscape(s)+"</D:href>"; got != want {
				t.Errorf("hrefElem(%q) = %q, want %q", s, got, want)
			}
		}
	}
}

// TestMultistatusMatchesReference: documents with every kind of response
// render byte for byte as before, with the right Content-Length, also
// when the pooled buffer is reused.
func TestMultistatusMatchesReference(t *testing.T) {
	other := xml.Name{Space: "urn:example:x&y", Local: "color"}
	card := []byte("BEGIN:VCARD\r\nVERSION:4.0\r\nFN:A & B <ab@example.org>\r\nNOTE:it's \"quoted\"\x01\xff\r\nEND:VCARD\r\n" + benchPhoto)
	full := &response{href: "/dav/addressbooks/alice/contacts/a b&c.vcf"}
	full.add(http.StatusNotFound, elem(other, ""))
	full.add(http.StatusOK, textElem(pnGetetag, `"e1"`))
	full.addText(http.StatusOK, pnAddressData, card)
	full.addText(http.StatusOK, other, nil)
	full.addText(http.StatusOK, xml.Name{Space: nsCalDAV, Local: "calendar-data"}, []byte{})
	full.add(http.StatusForbidden, elem(pnDisplayname, ""))
	full.propstats[len(full.propstats)-1].cond = condNeedPrivileges
	onlyMissing := &response{href: "/x"}
	onlyMissing.add(http.StatusNotFound, elem(other, ""))
	responses := []*response{
		full, onlyMissing,
		{href: "/gone.vcf", status: http.StatusNotFound},
		{href: "/dav/addressbooks/alice/contacts/", status: http.StatusInsufficientStorage, errCond: condNumberOfMatches},
		{href: "/y", status: http.StatusForbidden, errCond: other},
		{href: "/empty"},
	}
	for _, m := range []*multistatus{
		{},
		{syncToken: "http://coffer.invalid/sync/1"},
		{responses: responses, syncToken: "tok&<1>"},
		{responses: responses, minimal: true},
	} {
		want := refMultistatus(m)
		for range 3 {
			rec := httptest.NewRecorder()
			writeMultistatus(rec, m)
			if got := rec.Body.String(); got != want {
				t.Fatalf("multistatus differs:\n got %.3000q\nwant %.3000q", got, want)
			}
			if rec.Code != http.StatusMultiStatus || rec.Header().Get("Content-Length") != strconv.Itoa(len(want)) ||
				rec.Header().Get("Content-Type") != xmlContentType {
				t.Fatalf("status %d, headers %v", rec.Code, rec.Header())
			}
		}
	}
}

// TestBareAddressDataIsStoredBytes: an address-data without version or
// selection returns the stored slice itself, the bytes Transform returns,
// and the answer carries them escaped exactly once.
func TestBareAddressDataIsStoredBytes(t *testing.T) {
	stored := []byte(benchContact(3, true))
	for _, ad := range []*vcard.AddressData{nil, {}, {AllProp: true}, {ContentType: "text/vcard"}, {Version: " "}} {
		got, err := renderAddressData(stored, ad)
		if err != nil || len(got) != len(stored) || &got[0] != &stored[0] {
			t.Fatalf("%+v: not the stored bytes (%v)", ad, err)
		}
		if ad != nil {
			tr, err := vcard.Transform(stored, ad)
			if err != nil || !bytes.Equal(tr, got) {
				t.Fatalf("%+v: Transform gives other bytes (%v)", ad, err)
			}
		}
	}
	// Without a version the request is still checked: an unsupported type is refused.
	if _, err := renderAddressData(stored, &vcard.AddressData{ContentType: "text/html"}); err == nil {
		t.Fatal("address-data of content-type text/html was answered")
	}
	if got, err := renderAddressData(stored, &vcard.AddressData{Version: "4.0"}); err != nil || bytes.Equal(got, stored) {
		t.Fatalf("a version 4.0 request got the stored vCard 3 (%v)", err)
	}
	ts := newTestServer(t)
	ts.do(t, "alice", "PUT", bookPath+"four.vcf", vcard4, "Content-Type: text/vcard;version=4.0")
	ts.do(t, "alice", "PUT", bookPath+"photo.vcf", string(stored), "Content-Type: text/vcard")
	body := fmt.Sprintf(bodyThunderbirdCardMultiget, "<D:href>"+bookPath+"four.vcf</D:href><D:href>"+bookPath+"photo.vcf</D:href>")
	rec := ts.do(t, "alice", "REPORT", bookPath, body, "Depth: 1", "User-Agent: Thunderbird/128.5")
	for _, card := range []string{vcard4, string(stored)} {
		if want := "<CR:address-data>" + refEscape(card) + "</CR:address-data>"; !strings.Contains(rec.Body.String(), want) {
			t.Fatalf("answer lacks %.200q:\n%.2000s", want, rec.Body.String())
		}
	}
}
