package vcard

import (
	"bytes"
	"encoding/xml"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// rfcQuery is the request of RFC 6352 section 8.6.4 with a limit added
// (section 8.6.5).
const rfcQuery = `<?xml version="1.0" encoding="utf-8" ?>
<C:addressbook-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav">
  <D:prop>
    <D:getetag/>
    <C:address-data>
      <C:prop name="VERSION"/>
      <C:prop name="UID"/>
      <C:prop name="NICKNAME"/>
      <C:prop name="EMAIL" novalue="yes"/>
      <C:prop name="FN"/>
    </C:address-data>
  </D:prop>
  <C:filter test="anyof">
    <C:prop-filter name="FN">
      <C:text-match collation="i;unicode-casemap" match-type="contains"
      >daboo</C:text-match>
    </C:prop-filter>
    <C:prop-filter name="EMAIL">
      <C:text-match collation="i;unicode-casemap" match-type="contains"
      >daboo</C:text-match>
    </C:prop-filter>
  </C:filter>
  <C:limit>
    <C:nresults>2</C:nresults>
  </C:limit>
</C:addressbook-query>`

func TestParseQueryRFC(t *testing.T) {
	q, err := ParseQuery([]byte(rfcQuery))
	if err != nil {
		t.Fatal(err)
	}
	want := &Query{
		AddressData: &AddressData{Props: []PropRequest{{Name: "VERSION"}, {Name: "UID"}, {Name: "NICKNAME"}, {Name: "EMAIL", NoValue: true}, {Name: "FN"}}},
		Filter: Filter{Test: TestAnyOf, PropFilters: []PropFilter{
			{Name: "FN", TextMatches: []TextMatch{{Text: "daboo", Collation: CollationUnicodeCasemap, MatchType: MatchContains}}},
			{Name: "EMAIL", TextMatches: []TextMatch{{Text: "daboo", Collation: CollationUnicodeCasemap, MatchType: MatchContains}}},
		}},
		Limit: &Limit{NResults: 2},
	}
	if !reflect.DeepEqual(q, want) {
		t.Errorf("got %+v\nwant %+v", q, want)
	}
	ok, err := Match(Parse([]byte(crlf("BEGIN:VCARD\nVERSION:3.0\nFN:Cyrus Daboo\nEND:VCARD\n"))), &q.Filter)
	if err != nil || !ok {
		t.Errorf("RFC example card does not match: %v", err)
	}
}

func TestParseQueryFull(t *testing.T) {
	body := `<?xml version="1.0"?>
<card:addressbook-query xmlns="DAV:" xmlns:card="urn:ietf:params:xml:ns:carddav" xmlns:x="urn:x">
 <prop><getetag/><card:address-data content-type="text/vcard" version="4.0"><card:allprop/></card:address-data></prop>
 <card:filter test="allof">
  <x:ignored><card:whatever/></x:ignored>
  <card:prop-filter name="item1.EMAIL" test="allof">
   <card:text-match negate-condition="yes" match-type="ends-with" collation="i;octet">.org</card:text-match>
   <card:param-filter name="TYPE"><card:text-match match-type="equals">work</card:text-match></card:param-filter>
   <card:param-filter name="X-P"><card:is-not-defined/></card:param-filter>
   <card:param-filter name="PREF"/>
  </card:prop-filter>
  <card:prop-filter name="BDAY"><card:is-not-defined/></card:prop-filter>
  <card:prop-filter name="FN"/>
 </card:filter>
</card:addressbook-query>`
	q, err := ParseQuery([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	want := &Query{
		AddressData: &AddressData{ContentType: "text/vcard", Version: "4.0", AllProp: true},
		Filter: Filter{Test: TestAllOf, PropFilters: []PropFilter{
			{Name: "item1.EMAIL", Test: TestAllOf,
				TextMatches: []TextMatch{{Text: ".org", Collation: CollationOctet, MatchType: MatchEndsWith, Negate: true}},
				ParamFilters: []ParamFilter{
					{Name: "TYPE", TextMatch: &TextMatch{Text: "work", MatchType: MatchEquals}},
					{Name: "X-P", IsNotDefined: true},
					{Name: "PREF"},
				}},
			{Name: "BDAY", IsNotDefined: true},
			{Name: "FN"},
		}},
	}
	if !reflect.DeepEqual(q, want) {
		t.Errorf("got %+v\nwant %+v", q, want)
	}
}

func TestDecodeElements(t *testing.T) {
	body := `<r xmlns:C="urn:ietf:params:xml:ns:carddav"><C:address-data version="3.0"><C:prop name="TEL"/></C:address-data><C:filter><C:prop-filter name="TEL"/></C:filter></r>`
	d := xml.NewDecoder(strings.NewReader(body))
	var ad *AddressData
	var f *Filter
	for {
		tok, err := d.Token()
		if err != nil {
			break
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		switch se.Name.Local {
		case "address-data":
			if ad, err = DecodeAddressData(d, se); err != nil {
				t.Fatal(err)
			}
		case "filter":
			if f, err = DecodeFilter(d, se); err != nil {
				t.Fatal(err)
			}
		}
	}
	if ad == nil || ad.Version != "3.0" || len(ad.Props) != 1 || ad.Props[0].Name != "TEL" {
		t.Errorf("address-data = %+v", ad)
	}
	if f == nil || len(f.PropFilters) != 1 || f.PropFilters[0].Name != "TEL" {
		t.Errorf("filter = %+v", f)
	}
	if _, err := ParseFilter([]byte(`<filter xmlns="urn:ietf:params:xml:ns:carddav"><prop-filter name="NICKNAME"><text-match match-type="equals">me</text-match></prop-filter></filter>`)); err != nil {
		t.Errorf("ParseFilter: %v", err)
	}
	d = xml.NewDecoder(strings.NewReader(`<a xmlns="urn:x"/>`))
	tok, _ := d.Token()
	if _, err := DecodeFilter(d, tok.(xml.StartElement)); err == nil {
		t.Errorf("DecodeFilter accepted a foreign element")
	}
	d = xml.NewDecoder(strings.NewReader(`<a xmlns="urn:x"/>`))
	tok, _ = d.Token()
	if _, err := DecodeAddressData(d, tok.(xml.StartElement)); err == nil {
		t.Errorf("DecodeAddressData accepted a foreign element")
	}
}

func TestParseQueryErrors(t *testing.T) {
	const head = `<C:addressbook-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav">`
	const tail = `</C:addressbook-query>`
	q := func(inner string) string { return head + inner + tail }
	deep := strings.Repeat("<x>", 40) + strings.Repeat("</x>", 40)
	var many strings.Builder
	for i := 0; i <= MaxPropFilters; i++ {
		many.WriteString(`<C:prop-filter name="FN"/>`)
	}
	var conds strings.Builder
	for i := 0; i <= MaxConditions; i++ {
		conds.WriteString(`<C:text-match>a</C:text-match>`)
	}
	tests := []struct {
		name, body, cond string
	}{
		{"not xml", "not xml", ""},
		{"empty", "", ""},
		{"wrong root", `<D:propfind xmlns:D="DAV:"/>`, ""},
		{"unclosed", head + `<C:filter>`, ""},
		{"two roots", q(`<C:filter/>`) + `<x/>`, ""},
		{"text after root", q(`<C:filter/>`) + `junk`, ""},
		{"too deep", q(`<C:filter>` + deep + `</C:filter>`), ""},
		{"no filter", q(``), CondValidFilter},
		{"two filters", q(`<C:filter/><C:filter/>`), CondValidFilter},
		{"filter test", q(`<C:filter test="some"/>`), CondValidFilter},
		{"unknown element in filter", q(`<C:filter><C:comp-filter name="VCARD"/></C:filter>`), CondValidFilter},
		{"prop-filter without name", q(`<C:filter><C:prop-filter/></C:filter>`), CondValidFilter},
		{"prop-filter test", q(`<C:filter><C:prop-filter name="FN" test="x"/></C:filter>`), CondValidFilter},
		{"unknown element in prop-filter", q(`<C:filter><C:prop-filter name="FN"><C:time-range/></C:prop-filter></C:filter>`), CondValidFilter},
		{"is-not-defined and text-match", q(`<C:filter><C:prop-filter name="FN"><C:is-not-defined/><C:text-match>a</C:text-match></C:prop-filter></C:filter>`), CondValidFilter},
		{"param-filter without name", q(`<C:filter><C:prop-filter name="FN"><C:param-filter/></C:prop-filter></C:filter>`), CondValidFilter},
		{"param-filter two conditions", q(`<C:filter><C:prop-filter name="FN"><C:param-filter name="TYPE"><C:is-not-defined/><C:text-match>a</C:text-match></C:param-filter></C:prop-filter></C:filter>`), CondValidFilter},
		{"unknown element in param-filter", q(`<C:filter><C:prop-filter name="FN"><C:param-filter name="TYPE"><C:prop-filter name="X"/></C:param-filter></C:prop-filter></C:filter>`), CondValidFilter},
		{"negate value", q(`<C:filter><C:prop-filter name="FN"><C:text-match negate-condition="true">a</C:text-match></C:prop-filter></C:filter>`), CondValidFilter},
		{"match-type value", q(`<C:filter><C:prop-filter name="FN"><C:text-match match-type="regex">a</C:text-match></C:prop-filter></C:filter>`), CondValidFilter},
		{"element in text-match", q(`<C:filter><C:prop-filter name="FN"><C:text-match>a<C:b/></C:text-match></C:prop-filter></C:filter>`), CondValidFilter},
		{"collation", q(`<C:filter><C:prop-filter name="FN"><C:text-match collation="i;basic">a</C:text-match></C:prop-filter></C:filter>`), CondSupportedCollation},
		{"param collation", q(`<C:filter><C:prop-filter name="FN"><C:param-filter name="TYPE"><C:text-match collation="x">a</C:text-match></C:param-filter></C:prop-filter></C:filter>`), CondSupportedCollation},
		{"bad prop name", q(`<C:filter><C:prop-filter name="F;N"/></C:filter>`), CondSupportedFilter},
		{"too many prop-filters", q(`<C:filter>` + many.String() + `</C:filter>`), CondSupportedFilter},
		{"too many conditions", q(`<C:filter><C:prop-filter name="FN">` + conds.String() + `</C:prop-filter></C:filter>`), CondSupportedFilter},
		{"text too long", q(`<C:filter><C:prop-filter name="FN"><C:text-match>` + strings.Repeat("a", MaxTextMatchLen+1) + `</C:text-match></C:prop-filter></C:filter>`), CondSupportedFilter},
		{"limit not a number", q(`<C:filter/><C:limit><C:nresults>ten</C:nresults></C:limit>`), ""},
		{"limit negative", q(`<C:filter/><C:limit><C:nresults>-1</C:nresults></C:limit>`), ""},
		{"limit empty", q(`<C:filter/><C:limit/>`), ""},
		{"address-data version", q(`<D:prop><C:address-data version="2.1"/></D:prop><C:filter/>`), CondSupportedAddressData},
		{"address-data type", q(`<D:prop><C:address-data content-type="text/calendar"/></D:prop><C:filter/>`), CondSupportedAddressData},
		{"address-data allprop and prop", q(`<D:prop><C:address-data><C:allprop/><C:prop name="FN"/></C:address-data></D:prop><C:filter/>`), ""},
		{"address-data novalue", q(`<D:prop><C:address-data><C:prop name="FN" novalue="maybe"/></C:address-data></D:prop><C:filter/>`), ""},
		{"address-data prop without name", q(`<D:prop><C:address-data><C:prop/></C:address-data></D:prop><C:filter/>`), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseQuery([]byte(tt.body))
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("ParseQuery = %v, want an *Error", err)
			}
			if e.Condition != tt.cond {
				t.Errorf("condition %q (%s), want %q", e.Condition, e.Message, tt.cond)
			}
		})
	}
}

func TestParseQueryLimits(t *testing.T) {
	for body, want := range map[string]int{
		"0": 0, "25": 25, " 7 ": 7, "99999999999999999999": 1<<31 - 1,
	} {
		q, err := ParseQuery([]byte(`<C:addressbook-query xmlns:C="urn:ietf:params:xml:ns:carddav"><C:filter/><C:limit><C:nresults>` + body + `</C:nresults></C:limit></C:addressbook-query>`))
		if err != nil || q.Limit == nil || q.Limit.NResults != want {
			t.Errorf("nresults %q: %+v %v", body, q, err)
		}
	}
	// An element bomb stays bounded.
	var b bytes.Buffer
	b.WriteString(`<C:addressbook-query xmlns:C="urn:ietf:params:xml:ns:carddav"><C:filter>`)
	for i := 0; i < maxXMLElements+10; i++ {
		b.WriteString(`<x/>`)
	}
	b.WriteString(`</C:filter></C:addressbook-query>`)
	if _, err := ParseQuery(b.Bytes()); err == nil {
		t.Errorf("element bomb accepted")
	}
}
