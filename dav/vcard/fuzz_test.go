package vcard

import (
	"reflect"
	"sort"
	"testing"
)

// addCardSeeds seeds a fuzz target with the realistic cards.
func addCardSeeds(f *testing.F) {
	for _, s := range realCards {
		f.Add([]byte(s))
	}
	f.Add([]byte(filterCard))
	f.Add([]byte("BEGIN:VCARD\r\nVERSION:3.0\r\nADR;TYPE=HOME;LABEL=\"x\":;;a;;;;\r\nLABEL;TYPE=HOME:y\r\nKIND:group\r\nAGENT;VALUE=uri:u\r\nRELATED;TYPE=agent:v\r\nEND:VCARD\r\n"))
	f.Add([]byte("BEGIN:VCARD\nVERSION:2.1\nAGENT:\nBEGIN:VCARD\nFN:B\nEND:VCARD\nN;QUOTED-PRINTABLE:=\n=41\nEND:VCARD"))
}

// FuzzParse checks that parsing is lossless and that every parsed line
// renders back to the text it was parsed from.
func FuzzParse(f *testing.F) {
	addCardSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		c := Parse(data)
		if got := c.Bytes(); string(got) != string(data) {
			t.Fatalf("Bytes changed the input:\n got %q\nwant %q", got, data)
		}
		for i := range c.Lines {
			l := &c.Lines[i]
			if l.render() != l.logical {
				t.Fatalf("line %d renders %q, parsed from %q", i, l.render(), l.logical)
			}
			// A line rendered anew parses back to the same parts.
			n := *l
			n.raw = ""
			back := Parse(Card{Lines: []Line{n}}.bytesForTest())
			if l.Valid() && (len(back.Lines) != 1 || !sameParts(&back.Lines[0], l)) {
				t.Fatalf("line %q does not survive re-rendering: %+v", l.logical, back.Lines)
			}
		}
	})
}

// bytesForTest serializes a card value.
func (c Card) bytesForTest() []byte { return c.Bytes() }

// sameParts compares the parsed parts of two lines.
func sameParts(a, b *Line) bool {
	return a.Group == b.Group && a.Name == b.Name && a.Value == b.Value && reflect.DeepEqual(a.Params, b.Params)
}

// canonicalNames are the documented renames of the conversion, folded so
// that 3.0 to 4.0 to 3.0 can be compared by property name.
var canonicalNames = map[string]string{
	"X-ADDRESSBOOKSERVER-KIND":   "KIND",
	"X-ADDRESSBOOKSERVER-MEMBER": "MEMBER",
	"RELATED":                    "AGENT",
	"LABEL":                      "ADR",
}

// nameSet returns the canonical property names of a card.
func nameSet(c *Card) map[string]bool {
	out := map[string]bool{}
	for i := range c.Lines {
		if l := &c.Lines[i]; l.Valid() {
			n := upperASCII(l.Name)
			if m, ok := canonicalNames[n]; ok {
				n = m
			}
			out[n] = true
		}
	}
	return out
}

// upperASCII upper-cases ASCII letters.
func upperASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 32
		}
	}
	return string(b)
}

// keys lists a set.
func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// FuzzConvert converts any input both ways. It must never panic, and 3.0
// to 4.0 and back keeps the set of property names: the documented renames
// are folded, and only the required VERSION, FN and N may be added.
func FuzzConvert(f *testing.F) {
	addCardSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		c := Parse(data)
		if c.Version() == "4.0" {
			if mid, err := Convert(c, "3.0"); err == nil {
				if _, err := Convert(Parse(mid.Bytes()), "4.0"); err != nil {
					t.Fatalf("converted card does not convert back: %v", err)
				}
			}
			return
		}
		mid, err := Convert(c, "4.0")
		if err != nil {
			return
		}
		m := Parse(mid.Bytes())
		if v := m.Version(); v != "4.0" {
			t.Fatalf("converted card has version %q", v)
		}
		back, err := Convert(m, "3.0")
		if err != nil {
			t.Fatalf("converted card does not convert back: %v", err)
		}
		in, out := nameSet(c), nameSet(Parse(back.Bytes()))
		for n := range in {
			if !out[n] {
				t.Fatalf("lost %s: %v became %v\nvia %q", n, keys(in), keys(out), mid.Bytes())
			}
		}
		for n := range out {
			if !in[n] && n != "VERSION" && n != "FN" && n != "N" {
				t.Fatalf("gained %s: %v became %v", n, keys(in), keys(out))
			}
		}
	})
}

// FuzzParseFilter parses any request body; accepted filters evaluate
// without error on the realistic cards.
func FuzzParseFilter(f *testing.F) {
	f.Add([]byte(rfcQuery))
	f.Add([]byte(`<C:addressbook-query xmlns:C="urn:ietf:params:xml:ns:carddav"><C:filter test="allof"><C:prop-filter name="item1.EMAIL" test="allof"><C:text-match negate-condition="yes" match-type="ends-with" collation="i;octet">.org</C:text-match><C:param-filter name="TYPE"><C:text-match match-type="equals">work</C:text-match></C:param-filter><C:param-filter name="X"><C:is-not-defined/></C:param-filter></C:prop-filter><C:prop-filter name="BDAY"><C:is-not-defined/></C:prop-filter></C:filter><C:limit><C:nresults>5</C:nresults></C:limit></C:addressbook-query>`))
	f.Add([]byte(`<filter xmlns="urn:ietf:params:xml:ns:carddav"><prop-filter name="CATEGORIES"><text-match collation="i;ascii-casemap" match-type="starts-with">vi</text-match></prop-filter></filter>`))
	cards := []*Card{Parse([]byte(filterCard))}
	for _, s := range realCards {
		cards = append(cards, Parse([]byte(s)))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var filters []*Filter
		if q, err := ParseQuery(body); err == nil {
			filters = append(filters, &q.Filter)
			if q.AddressData != nil {
				if _, err := Transform([]byte(appleContact), q.AddressData); err != nil {
					t.Fatalf("accepted address-data fails: %v", err)
				}
			}
		}
		if fl, err := ParseFilter(body); err == nil {
			filters = append(filters, fl)
		}
		for _, fl := range filters {
			for _, c := range cards {
				if _, err := Match(c, fl); err != nil {
					t.Fatalf("accepted filter fails: %v", err)
				}
			}
		}
	})
}
