package vcard

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// filterCard is the card the filter tests run against.
var filterCard = crlf(`BEGIN:VCARD
VERSION:3.0
UID:u1
N:Müller;Jürgen;Hans,Peter;Dr.;
FN:Dr. Jürgen Müller
NICKNAME:Jürgi,JM
ORG:ACME\, Inc.;Sales
item1.EMAIL;type=INTERNET;type=pref:juergen@example.com
item1.X-ABLabel:_$!<Other>!$_
EMAIL;TYPE=WORK:jm@ACME.example
TEL;TYPE=CELL,VOICE:+49 151 123
TEL;TYPE=HOME:+49 30 999
CATEGORIES:Friends,Work,VIP
NOTE:Straße\nline two
X-CUSTOM;X-P="a:b":hello
PHOTO;ENCODING=b;TYPE=JPEG:/9j/
END:VCARD
`)

// tm builds a text-match.
func tm(text string, mt MatchType, coll string, negate bool) TextMatch {
	return TextMatch{Text: text, MatchType: mt, Collation: coll, Negate: negate}
}

// one builds a filter with one prop-filter holding text-matches.
func one(name string, tms ...TextMatch) *Filter {
	return &Filter{PropFilters: []PropFilter{{Name: name, TextMatches: tms}}}
}

// withParam builds a filter with one prop-filter holding one param-filter.
func withParam(name string, pa ParamFilter) *Filter {
	return &Filter{PropFilters: []PropFilter{{Name: name, ParamFilters: []ParamFilter{pa}}}}
}

func TestMatch(t *testing.T) {
	const u, a, o = CollationUnicodeCasemap, CollationASCIICasemap, CollationOctet
	ptm := func(text string, mt MatchType, negate bool) *TextMatch {
		x := tm(text, mt, "", negate)
		return &x
	}
	tests := []struct {
		name   string
		filter *Filter
		want   bool
	}{
		// collations and match types
		{"equals unicode", one("FN", tm("DR. JÜRGEN MÜLLER", MatchEquals, u, false)), true},
		{"equals ascii leaves non-ASCII case", one("FN", tm("DR. JÜRGEN MÜLLER", MatchEquals, a, false)), false},
		{"equals ascii folds ASCII", one("FN", tm("DR. JüRGEN MüLLER", MatchEquals, a, false)), true},
		{"equals octet exact", one("FN", tm("Dr. Jürgen Müller", MatchEquals, o, false)), true},
		{"equals octet case", one("FN", tm("dr. jürgen müller", MatchEquals, o, false)), false},
		{"equals is not contains", one("FN", tm("Jürgen", MatchEquals, u, false)), false},
		{"contains unicode", one("FN", tm("MÜLL", MatchContains, u, false)), true},
		{"contains ascii", one("FN", tm("MÜLL", MatchContains, a, false)), false},
		{"contains octet", one("FN", tm("Müll", MatchContains, o, false)), true},
		{"contains octet case", one("FN", tm("müll", MatchContains, o, false)), false},
		{"contains is the default", one("FN", tm("jürg", "", "", false)), true},
		{"default collation name", one("FN", tm("JÜRG", "", "default", false)), true},
		{"starts-with", one("FN", tm("dr.", MatchStartsWith, u, false)), true},
		{"starts-with miss", one("FN", tm("Jürgen", MatchStartsWith, u, false)), false},
		{"starts-with ascii", one("FN", tm("DR. J", MatchStartsWith, a, false)), true},
		{"starts-with octet", one("FN", tm("dr.", MatchStartsWith, o, false)), false},
		{"ends-with", one("FN", tm("MÜLLER", MatchEndsWith, u, false)), true},
		{"ends-with miss", one("FN", tm("Dr", MatchEndsWith, u, false)), false},
		{"ends-with octet", one("FN", tm("Müller", MatchEndsWith, o, false)), true},
		{"ends-with ascii", one("FN", tm("MüLLER", MatchEndsWith, a, false)), true},
		// negate-condition
		{"negate miss", one("FN", tm("xyz", MatchContains, u, true)), true},
		{"negate hit", one("FN", tm("müller", MatchContains, u, true)), false},
		{"negate equals", one("FN", tm("Jürgen", MatchEquals, u, true)), true},
		{"negate starts-with", one("FN", tm("DR", MatchStartsWith, a, true)), false},
		{"negate ends-with octet", one("FN", tm("MÜLLER", MatchEndsWith, o, true)), true},
		{"negate on absent property", one("BDAY", tm("x", MatchContains, u, true)), false},
		// list values
		{"categories item", one("CATEGORIES", tm("work", MatchEquals, u, false)), true},
		{"categories whole", one("CATEGORIES", tm("friends,work,vip", MatchEquals, u, false)), true},
		{"categories partial list", one("CATEGORIES", tm("Work,VIP", MatchEquals, u, false)), false},
		{"categories negate present", one("CATEGORIES", tm("VIP", MatchEquals, u, true)), false},
		{"categories negate absent", one("CATEGORIES", tm("Family", MatchEquals, u, true)), true},
		{"N component", one("N", tm("jürgen", MatchEquals, u, false)), true},
		{"N list item", one("N", tm("Peter", MatchEquals, u, false)), true},
		{"N whole", one("N", tm("Müller;Jür", MatchStartsWith, u, false)), true},
		{"ORG escaped comma", one("ORG", tm("ACME, Inc.", MatchEquals, u, false)), true},
		{"NICKNAME item", one("NICKNAME", tm("jm", MatchEquals, u, false)), true},
		{"NOTE unescaped", one("NOTE", tm("straße\nline", MatchContains, u, false)), true},
		{"text value not split", one("NOTE", tm("line two", MatchEquals, u, false)), false},
		// names and groups
		{"name case-insensitive", one("fn", tm("jürgen", MatchContains, u, false)), true},
		{"grouped property by bare name", one("EMAIL", tm("juergen@example.com", MatchEquals, u, false)), true},
		{"group prefix exact", one("item1.EMAIL", tm("juergen", MatchContains, u, false)), true},
		{"group prefix excludes others", one("item1.EMAIL", tm("jm@acme", MatchContains, u, false)), false},
		{"group prefix case", one("ITEM1.email", tm("juergen", MatchContains, u, false)), true},
		{"second instance", one("TEL", tm("+49 30", MatchStartsWith, u, false)), true},
		// is-not-defined and empty prop-filters
		{"not defined absent", &Filter{PropFilters: []PropFilter{{Name: "BDAY", IsNotDefined: true}}}, true},
		{"not defined present", &Filter{PropFilters: []PropFilter{{Name: "FN", IsNotDefined: true}}}, false},
		{"not defined other group", &Filter{PropFilters: []PropFilter{{Name: "item2.EMAIL", IsNotDefined: true}}}, true},
		{"not defined grouped", &Filter{PropFilters: []PropFilter{{Name: "X-ABLabel", IsNotDefined: true}}}, false},
		{"empty prop-filter present", &Filter{PropFilters: []PropFilter{{Name: "PHOTO"}}}, true},
		{"empty prop-filter absent", &Filter{PropFilters: []PropFilter{{Name: "BDAY"}}}, false},
		// param-filters
		{"param equals", withParam("EMAIL", ParamFilter{Name: "TYPE", TextMatch: ptm("work", MatchEquals, false)}), true},
		{"param equals miss", withParam("EMAIL", ParamFilter{Name: "TYPE", TextMatch: ptm("home", MatchEquals, false)}), false},
		{"param repeated", withParam("EMAIL", ParamFilter{Name: "type", TextMatch: ptm("PREF", MatchEquals, false)}), true},
		{"param comma list", withParam("TEL", ParamFilter{Name: "TYPE", TextMatch: ptm("voice", MatchEquals, false)}), true},
		{"param contains", withParam("TEL", ParamFilter{Name: "TYPE", TextMatch: ptm("ell", MatchContains, false)}), true},
		{"param starts-with", withParam("TEL", ParamFilter{Name: "TYPE", TextMatch: ptm("HO", MatchStartsWith, false)}), true},
		{"param ends-with", withParam("TEL", ParamFilter{Name: "TYPE", TextMatch: ptm("ME", MatchEndsWith, false)}), true},
		{"param negate one instance", withParam("EMAIL", ParamFilter{Name: "TYPE", TextMatch: ptm("pref", MatchEquals, true)}), true},
		{"param negate all instances", withParam("TEL", ParamFilter{Name: "TYPE", TextMatch: ptm("+", MatchContains, true)}), true},
		{"param negate no instance", withParam("NICKNAME", ParamFilter{Name: "TYPE", TextMatch: ptm("x", MatchContains, true)}), false},
		{"param quoted value", withParam("X-CUSTOM", ParamFilter{Name: "X-P", TextMatch: ptm("a:b", MatchEquals, false)}), true},
		{"param defined", withParam("TEL", ParamFilter{Name: "TYPE"}), true},
		{"param undefined", withParam("TEL", ParamFilter{Name: "X-FOO"}), false},
		{"param is-not-defined absent", withParam("TEL", ParamFilter{Name: "X-FOO", IsNotDefined: true}), true},
		{"param is-not-defined present", withParam("EMAIL", ParamFilter{Name: "TYPE", IsNotDefined: true}), false},
		{"param is-not-defined some instance", withParam("FN", ParamFilter{Name: "TYPE", IsNotDefined: true}), true},
		{"param on absent property", withParam("BDAY", ParamFilter{Name: "X", IsNotDefined: true}), false},
		// test="anyof|allof" inside a prop-filter: one instance must satisfy them
		{"prop anyof", &Filter{PropFilters: []PropFilter{{Name: "TEL", TextMatches: []TextMatch{tm("151", "", "", false)},
			ParamFilters: []ParamFilter{{Name: "TYPE", TextMatch: ptm("home", MatchEquals, false)}}}}}, true},
		{"prop allof across instances", &Filter{PropFilters: []PropFilter{{Name: "TEL", Test: TestAllOf, TextMatches: []TextMatch{tm("151", "", "", false)},
			ParamFilters: []ParamFilter{{Name: "TYPE", TextMatch: ptm("home", MatchEquals, false)}}}}}, false},
		{"prop allof same instance", &Filter{PropFilters: []PropFilter{{Name: "TEL", Test: TestAllOf, TextMatches: []TextMatch{tm("151", "", "", false)},
			ParamFilters: []ParamFilter{{Name: "TYPE", TextMatch: ptm("cell", MatchEquals, false)}}}}}, true},
		{"prop allof two text-matches", &Filter{PropFilters: []PropFilter{{Name: "FN", Test: TestAllOf, TextMatches: []TextMatch{
			tm("dr", MatchStartsWith, "", false), tm("xyz", MatchContains, "", true)}}}}, true},
		{"prop allof one fails", &Filter{PropFilters: []PropFilter{{Name: "FN", Test: TestAllOf, TextMatches: []TextMatch{
			tm("dr", MatchStartsWith, "", false), tm("xyz", MatchContains, "", false)}}}}, false},
		{"prop anyof none", &Filter{PropFilters: []PropFilter{{Name: "FN", Test: TestAnyOf, TextMatches: []TextMatch{
			tm("abc", MatchStartsWith, "", false), tm("xyz", MatchContains, "", false)}}}}, false},
		// test="anyof|allof" on the filter
		{"filter anyof", &Filter{PropFilters: []PropFilter{{Name: "FN", TextMatches: []TextMatch{tm("xyz", "", "", false)}},
			{Name: "EMAIL", TextMatches: []TextMatch{tm("example", "", "", false)}}}}, true},
		{"filter allof", &Filter{Test: TestAllOf, PropFilters: []PropFilter{{Name: "FN", TextMatches: []TextMatch{tm("xyz", "", "", false)}},
			{Name: "EMAIL", TextMatches: []TextMatch{tm("example", "", "", false)}}}}, false},
		{"filter allof all", &Filter{Test: TestAllOf, PropFilters: []PropFilter{{Name: "FN", TextMatches: []TextMatch{tm("jürgen", "", "", false)}},
			{Name: "EMAIL", TextMatches: []TextMatch{tm("example", "", "", false)}}, {Name: "BDAY", IsNotDefined: true}}}, true},
		{"filter anyof none", &Filter{Test: TestAnyOf, PropFilters: []PropFilter{{Name: "FN", TextMatches: []TextMatch{tm("xyz", "", "", false)}},
			{Name: "BDAY"}}}, false},
		{"empty filter anyof", &Filter{}, true},
		{"empty filter allof", &Filter{Test: TestAllOf}, true},
	}
	card := Parse([]byte(filterCard))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Match(card, tt.filter)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("Match = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestMatchCombinations runs every collation, match-type and negation on
// a value where each combination has a known outcome.
func TestMatchCombinations(t *testing.T) {
	card := Parse([]byte(crlf("BEGIN:VCARD\nVERSION:4.0\nFN:Ärger Straße Öl\nEND:VCARD\n")))
	needles := map[MatchType]string{
		MatchEquals: "äRGER STRAßE öL", MatchContains: "äRGER st", MatchStartsWith: "äRG", MatchEndsWith: "öL",
	}
	// ASCII folding cannot map ä to Ä; octets need exact case.
	want := map[string]bool{CollationUnicodeCasemap: true, CollationASCIICasemap: false, CollationOctet: false}
	asciiNeedles := map[MatchType]string{
		MatchEquals: "ÄRGER STRAßE ÖL", MatchContains: "ÄRGER st", MatchStartsWith: "ÄRG", MatchEndsWith: "ÖL",
	}
	for _, coll := range SupportedCollations() {
		for mt, needle := range needles {
			for _, negate := range []bool{false, true} {
				name := fmt.Sprintf("%s/%s/negate=%v", coll, mt, negate)
				got, err := Match(card, one("FN", tm(needle, mt, coll, negate)))
				if err != nil {
					t.Fatal(err)
				}
				if exp := want[coll] != negate; got != exp {
					t.Errorf("%s: got %v, want %v", name, got, exp)
				}
				if coll == CollationASCIICasemap {
					got, _ := Match(card, one("FN", tm(asciiNeedles[mt], mt, coll, negate)))
					if got != !negate {
						t.Errorf("%s with ASCII-only case difference: got %v", name, got)
					}
				}
			}
		}
	}
}

func TestMatchLegacyAndBytes(t *testing.T) {
	ok, err := MatchBytes([]byte(legacyAndroid), one("FN", tm("张三", MatchEquals, "", false)))
	if err != nil || !ok {
		t.Errorf("quoted-printable FN did not match: %v %v", ok, err)
	}
	ok, err = MatchBytes([]byte(legacyAndroid), withParam("TEL", ParamFilter{Name: "TYPE", TextMatch: &TextMatch{Text: "cell", MatchType: MatchEquals}}))
	if err != nil || !ok {
		t.Errorf("bare 2.1 type did not match: %v %v", ok, err)
	}
}

func TestFilterErrors(t *testing.T) {
	many := &Filter{}
	for i := 0; i <= MaxPropFilters; i++ {
		many.PropFilters = append(many.PropFilters, PropFilter{Name: "FN"})
	}
	crowded := PropFilter{Name: "FN"}
	for i := 0; i <= MaxConditions; i++ {
		crowded.TextMatches = append(crowded.TextMatches, tm("a", "", "", false))
	}
	tests := []struct {
		name        string
		filter      *Filter
		cond        string
		prop, param string
	}{
		{"unknown collation", one("FN", tm("a", "", "i;foo", false)), CondSupportedCollation, "", ""},
		{"wildcard collation", one("FN", tm("a", "", "i;*", false)), CondSupportedCollation, "", ""},
		{"param collation", withParam("TEL", ParamFilter{Name: "TYPE", TextMatch: &TextMatch{Text: "a", Collation: "en;primary"}}), CondSupportedCollation, "", ""},
		{"match-type", one("FN", tm("a", "regex", "", false)), CondValidFilter, "", ""},
		{"filter test", &Filter{Test: "none"}, CondValidFilter, "", ""},
		{"prop test", &Filter{PropFilters: []PropFilter{{Name: "FN", Test: "oneof"}}}, CondValidFilter, "", ""},
		{"is-not-defined with text-match", &Filter{PropFilters: []PropFilter{{Name: "FN", IsNotDefined: true, TextMatches: []TextMatch{tm("a", "", "", false)}}}}, CondValidFilter, "", ""},
		{"is-not-defined with param-filter", &Filter{PropFilters: []PropFilter{{Name: "FN", IsNotDefined: true, ParamFilters: []ParamFilter{{Name: "TYPE"}}}}}, CondValidFilter, "", ""},
		{"param is-not-defined with text-match", withParam("TEL", ParamFilter{Name: "TYPE", IsNotDefined: true, TextMatch: &TextMatch{}}), CondValidFilter, "", ""},
		{"empty prop name", &Filter{PropFilters: []PropFilter{{Name: ""}}}, CondSupportedFilter, "", ""},
		{"bad prop name", &Filter{PropFilters: []PropFilter{{Name: "F N"}}}, CondSupportedFilter, "F N", ""},
		{"bad group", &Filter{PropFilters: []PropFilter{{Name: ".FN"}}}, CondSupportedFilter, ".FN", ""},
		{"bad param name", withParam("TEL", ParamFilter{Name: "TY:PE"}), CondSupportedFilter, "TEL", "TY:PE"},
		{"too many prop-filters", many, CondSupportedFilter, "", ""},
		{"too many conditions", &Filter{PropFilters: []PropFilter{crowded}}, CondSupportedFilter, "FN", ""},
		{"text too long", one("FN", tm(strings.Repeat("a", MaxTextMatchLen+1), "", "", false)), CondSupportedFilter, "", ""},
	}
	card := Parse([]byte(filterCard))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Match(card, tt.filter)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Match = %v, want an *Error", err)
			}
			if e.Condition != tt.cond || e.PropFilter != tt.prop || e.ParamFilter != tt.param {
				t.Errorf("got %+v, want %s prop=%q param=%q", e, tt.cond, tt.prop, tt.param)
			}
			if !strings.Contains(e.Error(), tt.cond) {
				t.Errorf("Error() = %q", e.Error())
			}
		})
	}
}

// TestBoundedWork runs the entry points on large hostile inputs; each must
// finish in time linear in its input.
func TestBoundedWork(t *testing.T) {
	if testing.Short() {
		t.Skip("large inputs")
	}
	var b strings.Builder
	b.WriteString("VERSION:3.0\r\n")
	for i := 0; i < 20000; i++ {
		b.WriteString("VERSION:3.0\r\n")
	}
	b.WriteString("BEGIN:VCARD\r\nVERSION:3.0\r\nNOTE;ENCODING=QUOTED-PRINTABLE:a=\r\n")
	for i := 0; i < 50000; i++ {
		b.WriteString("=41=42=\r\n")
	}
	b.WriteString("end\r\n")
	for i := 0; i < 20000; i++ {
		fmt.Fprintf(&b, "item%d.ADR;TYPE=HOME:;;street %d;;;;\r\nLABEL;TYPE=HOME:label %d\r\nX-ADDRESSBOOKSERVER-MEMBER:urn:uuid:%d\r\nTEL;CELL;PREF:%d\r\n", i, i, i, i%100, i)
	}
	b.WriteString("PHOTO;ENCODING=b;TYPE=JPEG:" + strings.Repeat("QUJD", 500000) + "\r\nEND:VCARD\r\n")
	for i := 0; i < 20000; i++ {
		b.WriteString("BEGIN:VCARD\r\n")
	}
	data := []byte(b.String())
	c := Parse(data)
	if string(c.Bytes()) != string(data) {
		t.Fatal("not lossless")
	}
	up, err := Convert(c, "4.0")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Convert(Parse(up.Bytes()), "3.0"); err != nil {
		t.Fatal(err)
	}
	f := &Filter{Test: TestAllOf}
	for i := 0; i < MaxPropFilters; i++ {
		pf := PropFilter{Name: "TEL", Test: TestAllOf}
		for j := 0; j < MaxConditions/2; j++ {
			pf.TextMatches = append(pf.TextMatches, tm(strings.Repeat("Q", 100), MatchContains, "", true))
			pf.ParamFilters = append(pf.ParamFilters, ParamFilter{Name: "TYPE", TextMatch: &TextMatch{Text: "x", Negate: true}})
		}
		if i%2 == 0 {
			pf.Name = "PHOTO"
		}
		f.PropFilters = append(f.PropFilters, pf)
	}
	if _, err := Match(c, f); err != nil {
		t.Fatal(err)
	}
	Select(c, []PropRequest{{Name: "TEL"}, {Name: "PHOTO", NoValue: true}})
}

func TestUnicodeCasemapDecomposes(t *testing.T) {
	if fold("Café", CollationUnicodeCasemap) != fold("CAFE\u0301", CollationUnicodeCasemap) {
		t.Fatal("a precomposed é and e with a combining accent differ under i;unicode-casemap")
	}
	if fold("Café", CollationOctet) == fold("Cafe\u0301", CollationOctet) {
		t.Fatal("i;octet compares bytes")
	}
}
