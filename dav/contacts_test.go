package dav

import (
	"encoding/xml"
	"fmt"
	"strings"
	"testing"
)

// cardMultiget is the addressbook-multiget DAVx5 sends (clients.md 2.5.8),
// with the address-data element given.
const cardMultiget = `<?xml version="1.0" encoding="UTF-8"?><CARD:addressbook-multiget xmlns="DAV:" xmlns:CARD="urn:ietf:params:xml:ns:carddav"><prop><getetag/>%s</prop><href>/dav/addressbooks/alice/contacts/three.vcf</href><href>/dav/addressbooks/alice/contacts/four.vcf</href></CARD:addressbook-multiget>`

func TestAddressDataVersions(t *testing.T) {
	ts := newTestServer(t)
	ts.do(t, "alice", "PUT", bookPath+"three.vcf", vcard3, "Content-Type: text/vcard")
	ts.do(t, "alice", "PUT", bookPath+"four.vcf", vcard4, "Content-Type: text/vcard;version=4.0")
	tests := []struct {
		name, addressData, agent string
		three, four              func(string) bool
	}{
		// Thunderbird and vdirsyncer ask with no version and expect what they wrote.
		{"no version", `<CARD:address-data/>`, "Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Thunderbird/128.5",
			func(s string) bool { return s == vcard3 },
			func(s string) bool { return s == vcard4 }},
		// Apple asks with no version and never gets a vCard 4 (Q7).
		{"apple, no version", `<CARD:address-data/>`, "Mac OS X/10.11.2 (15C31f) AddressBook/1679.3",
			func(s string) bool { return s == vcard3 },
			func(s string) bool {
				return strings.Contains(s, "VERSION:3.0") && strings.Contains(s, "FN:John") && strings.Contains(s, "UID:card2")
			}},
		// DAVx5 and Evolution ask for 4.0 when it is advertised.
		{"davx5, version 4.0", `<CARD:address-data content-type="text/vcard" version="4.0"/>`, "DAVx5/4.5.9-ose (at.bitfire.davdroid)",
			func(s string) bool {
				return strings.Contains(s, "VERSION:4.0") && strings.Contains(s, "item1.EMAIL") && strings.Contains(s, "item1.X-ABLabel")
			},
			func(s string) bool { return s == vcard4 }},
		{"explicit 3.0", `<CARD:address-data content-type="text/vcard" version="3.0"/>`, "Evolution/3.50",
			func(s string) bool { return s == vcard3 },
			func(s string) bool { return strings.Contains(s, "VERSION:3.0") }},
		{"selection, apple", `<CARD:address-data><CARD:prop name="EMAIL"/></CARD:address-data>`, "iOS/18.1.1 (22B91) dataaccessd/1.0",
			func(s string) bool {
				return strings.Contains(s, "jane@example.org") && !strings.Contains(s, "NOTE") && strings.Contains(s, "UID:card1")
			},
			func(s string) bool { return strings.Contains(s, "VERSION:3.0") && strings.Contains(s, "UID:card2") }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := parseMS(t, ts.do(t, "alice", "REPORT", bookPath, fmt.Sprintf(cardMultiget, tc.addressData), "Depth: 0", "User-Agent: "+tc.agent))
			got := map[string]string{}
			for _, r := range d.Responses {
				got[r.Href] = addressData(t, r.Propstats[0].Prop.Inner)
			}
			if !tc.three(got[bookPath+"three.vcf"]) || !tc.four(got[bookPath+"four.vcf"]) {
				t.Fatalf("address-data:\n%q\n%q", got[bookPath+"three.vcf"], got[bookPath+"four.vcf"])
			}
		})
	}
	wantError(t, ts.do(t, "alice", "REPORT", bookPath, fmt.Sprintf(cardMultiget, `<CARD:address-data content-type="text/vcard" version="2.1"/>`)), 403, "<CR:supported-address-data/>")
	caps := ts.do(t, "alice", "PROPFIND", bookPath, `<propfind xmlns="DAV:" xmlns:CR="urn:ietf:params:xml:ns:carddav"><prop><CR:supported-address-data/></prop></propfind>`, "Depth: 0")
	if !strings.Contains(caps.Body.String(), `version="4.0"`) || !strings.Contains(caps.Body.String(), `version="3.0"`) {
		t.Fatalf("supported-address-data: %s", caps.Body)
	}
}

// addressData returns the text of the address-data element in a prop.
func addressData(t *testing.T, inner string) string {
	t.Helper()
	var v struct {
		Data string `xml:"address-data"`
	}
	if err := xml.Unmarshal([]byte("<p>"+inner+"</p>"), &v); err != nil {
		t.Fatalf("prop %q: %v", inner, err)
	}
	return v.Data
}

// cardQuery is an addressbook-query with the filter given (RFC 6352 8.6).
const cardQuery = `<?xml version="1.0" encoding="utf-8"?><C:addressbook-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><D:prop><D:getetag/></D:prop>%s</C:addressbook-query>`

func TestAddressbookQuery(t *testing.T) {
	ts := newTestServer(t)
	ts.do(t, "alice", "PUT", bookPath+"three.vcf", vcard3, "Content-Type: text/vcard")
	ts.do(t, "alice", "PUT", bookPath+"four.vcf", vcard4, "Content-Type: text/vcard")
	tests := []struct{ name, filter, want string }{
		{"empty filter", `<C:filter/>`, "four.vcf three.vcf"},
		{"FN contains, default collation", `<C:filter><C:prop-filter name="FN"><C:text-match>jane</C:text-match></C:prop-filter></C:filter>`, "three.vcf"},
		{"grouped EMAIL equals", `<C:filter><C:prop-filter name="EMAIL"><C:text-match match-type="equals">JANE@example.org</C:text-match></C:prop-filter></C:filter>`, "three.vcf"},
		{"octet is case-sensitive", `<C:filter><C:prop-filter name="FN"><C:text-match collation="i;octet">jane</C:text-match></C:prop-filter></C:filter>`, ""},
		{"starts-with", `<C:filter><C:prop-filter name="FN"><C:text-match match-type="starts-with">Jo</C:text-match></C:prop-filter></C:filter>`, "four.vcf"},
		{"negate", `<C:filter><C:prop-filter name="FN"><C:text-match negate-condition="yes">Jane</C:text-match></C:prop-filter></C:filter>`, "four.vcf"},
		{"is-not-defined", `<C:filter><C:prop-filter name="EMAIL"><C:is-not-defined/></C:prop-filter></C:filter>`, "four.vcf"},
		{"anyof", `<C:filter test="anyof"><C:prop-filter name="FN"><C:text-match>jane</C:text-match></C:prop-filter><C:prop-filter name="FN"><C:text-match>john</C:text-match></C:prop-filter></C:filter>`, "four.vcf three.vcf"},
		{"allof", `<C:filter test="allof"><C:prop-filter name="FN"><C:text-match>jane</C:text-match></C:prop-filter><C:prop-filter name="FN"><C:text-match>john</C:text-match></C:prop-filter></C:filter>`, ""},
		{"param-filter", `<C:filter><C:prop-filter name="EMAIL"><C:param-filter name="TYPE"><C:text-match>internet</C:text-match></C:param-filter></C:prop-filter></C:filter>`, "three.vcf"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := parseMS(t, ts.do(t, "alice", "REPORT", bookPath, fmt.Sprintf(cardQuery, tc.filter), "Depth: 1"))
			var got []string
			for _, r := range d.Responses {
				got = append(got, strings.TrimPrefix(r.Href, bookPath))
			}
			if strings.Join(sortedCopy(got), " ") != tc.want {
				t.Fatalf("matches %v, want %q", got, tc.want)
			}
		})
	}
	// The filter is required (RFC 6352 8.6).
	wantError(t, ts.do(t, "alice", "REPORT", bookPath, fmt.Sprintf(cardQuery, "")), 400, "")
	// A limit smaller than the matches ends with a 507 for the collection.
	limited := ts.do(t, "alice", "REPORT", bookPath, fmt.Sprintf(cardQuery, `<C:filter/><C:limit><C:nresults>1</C:nresults></C:limit>`), "Depth: 1")
	body := limited.Body.String()
	if strings.Count(body, "<D:response>") != 2 || !strings.Contains(body, "507") || !strings.Contains(body, "number-of-matches-within-limits") {
		t.Fatalf("limited query: %s", body)
	}
	wantError(t, ts.do(t, "alice", "REPORT", bookPath, fmt.Sprintf(cardQuery, `<C:filter><C:prop-filter name="FN"><C:text-match collation="i;klingon">x</C:text-match></C:prop-filter></C:filter>`)), 403, "<CR:supported-collation/>")
}
