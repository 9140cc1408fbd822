package vcard

import (
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParseBytesIdentity(t *testing.T) {
	inputs := map[string]string{
		"lf endings":          "BEGIN:VCARD\nVERSION:3.0\nFN:A\nEND:VCARD\n",
		"no final break":      "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:A\r\nEND:VCARD",
		"bom":                 "\ufeffBEGIN:VCARD\r\nFN:A\r\nEND:VCARD\r\n",
		"only bom":            "\ufeff",
		"blank lines":         "BEGIN:VCARD\r\n\r\nFN:A\r\n\r\nEND:VCARD\r\n\r\n",
		"tab fold":            "BEGIN:VCARD\r\nNOTE:abc\r\n\tdef\r\n ghi\r\nEND:VCARD\r\n",
		"fold before colon":   "BEGIN:VCARD\r\nEMAIL;TY\r\n PE=work:a@b\r\nEND:VCARD\r\n",
		"malformed lines":     "BEGIN:VCARD\r\nno colon here\r\n:novalue\r\nbad name:x\r\n.X:y\r\nEND:VCARD\r\n",
		"unbalanced quote":    "BEGIN:VCARD\r\nX-A;P=\"x:y\r\nEND:VCARD\r\n",
		"quoted colon":        "BEGIN:VCARD\r\nX-A;P=\"a:b;c\";Q=1:v:w\r\nEND:VCARD\r\n",
		"qp soft break":       "BEGIN:VCARD\r\nNOTE;ENCODING=QUOTED-PRINTABLE:a=\r\nb=\r\nc\r\nEND:VCARD\r\n",
		"qp break at end":     "NOTE;QUOTED-PRINTABLE:a=",
		"leading fold":        " continuation first\r\nBEGIN:VCARD\r\nEND:VCARD\r\n",
		"empty param":         "BEGIN:VCARD\r\nTEL;;=x;TYPE=:1\r\nEND:VCARD\r\n",
		"lone cr":             "BEGIN:VCARD\rFN:A\r\nEND:VCARD\r\n",
		"empty":               "",
		"invalid utf8":        "BEGIN:VCARD\r\nFN:\xff\xfe\r\nEND:VCARD\r\n",
		"mixed breaks":        "BEGIN:VCARD\nFN:A\r\nN:;;;;\nEND:VCARD\r\n",
		"nested agent (2.1)":  "BEGIN:VCARD\r\nVERSION:2.1\r\nAGENT:\r\nBEGIN:VCARD\r\nFN:B\r\nEND:VCARD\r\nEND:VCARD\r\n",
		"group with dots":     "BEGIN:VCARD\r\na.b.TEL:1\r\nEND:VCARD\r\n",
		"trailing whitespace": "BEGIN:VCARD \r\nFN:A \r\nEND:VCARD\r\n",
	}
	for name, s := range realCards {
		inputs[name] = s
	}
	for name, in := range inputs {
		t.Run(name, func(t *testing.T) {
			c := Parse([]byte(in))
			if got := string(c.Bytes()); got != in {
				t.Fatalf("round trip changed the bytes:\n got %q\nwant %q", got, in)
			}
			if got := string(c.Clone().Bytes()); got != in {
				t.Fatalf("clone changed the bytes")
			}
		})
	}
}

func TestParseLineParts(t *testing.T) {
	c := Parse([]byte(crlf("item1.EMAIL;type=INTERNET;type=pref:johnny@example.com\nADR;LABEL=\"a^nb, c\";TYPE=work,home:;;x\\;y;z\nX-A;P=\"a:b\":v:w\nTEL;CELL:1\nno colon\n")))
	want := []Line{
		{Group: "item1", Name: "EMAIL", Params: []Param{{"type", "INTERNET"}, {"type", "pref"}}, Value: "johnny@example.com"},
		{Name: "ADR", Params: []Param{{"LABEL", `"a^nb, c"`}, {"TYPE", "work,home"}}, Value: `;;x\;y;z`},
		{Name: "X-A", Params: []Param{{"P", `"a:b"`}}, Value: "v:w"},
		{Name: "TEL", Params: []Param{{"", "CELL"}}, Value: "1"},
		{Value: "no colon"},
	}
	if len(c.Lines) != len(want) {
		t.Fatalf("got %d lines, want %d", len(c.Lines), len(want))
	}
	for i, w := range want {
		g := c.Lines[i]
		g.raw, g.logical = "", ""
		if !reflect.DeepEqual(g, w) {
			t.Errorf("line %d: got %+v, want %+v", i, g, w)
		}
	}
	if v := c.Lines[1].ParamValues("label"); !reflect.DeepEqual(v, []string{"a\nb, c"}) {
		t.Errorf("LABEL values = %q", v)
	}
	if v := c.Lines[1].ParamValues("TYPE"); !reflect.DeepEqual(v, []string{"work", "home"}) {
		t.Errorf("TYPE values = %q", v)
	}
	if v := c.Lines[3].ParamValues("TYPE"); !reflect.DeepEqual(v, []string{"CELL"}) {
		t.Errorf("bare TYPE values = %q", v)
	}
	if c.Lines[4].Valid() || !c.Lines[0].Valid() {
		t.Errorf("Valid is wrong")
	}
}

func TestChangedLineIsRenderedAlone(t *testing.T) {
	in := crlf("BEGIN:VCARD\nVERSION:3.0\nNOTE:a\n  folded\nFN:x\nEND:VCARD\n")
	c := Parse([]byte(in))
	c.Lines[3].Value = strings.Repeat("é", 60)
	got := string(c.Bytes())
	if !strings.HasPrefix(got, crlf("BEGIN:VCARD\nVERSION:3.0\nNOTE:a\n  folded\n")) ||
		!strings.HasSuffix(got, "\r\nEND:VCARD\r\n") {
		t.Fatalf("unchanged lines lost their bytes: %q", got)
	}
	for _, phys := range strings.Split(strings.TrimSuffix(got, "\r\n"), "\r\n") {
		if len(phys) > 75 {
			t.Errorf("physical line of %d octets", len(phys))
		}
		if !utf8.ValidString(phys) {
			t.Errorf("fold split a UTF-8 sequence: %q", phys)
		}
	}
	if back := Parse([]byte(got)); back.Lines[3].Value != c.Lines[3].Value {
		t.Errorf("folded line does not unfold to its value")
	}
}

func TestLFCardKeepsLF(t *testing.T) {
	c := Parse([]byte("BEGIN:VCARD\nVERSION:3.0\nFN:A\nEND:VCARD\n"))
	c.Lines[2].Value = "B"
	if got := string(c.Bytes()); got != "BEGIN:VCARD\nVERSION:3.0\nFN:B\nEND:VCARD\n" {
		t.Errorf("got %q", got)
	}
}

func TestParamValues(t *testing.T) {
	tests := []struct {
		raw  string
		want []string
	}{
		{"work", []string{"work"}},
		{"work,home", []string{"work", "home"}},
		{`"work,home"`, []string{"work,home"}},
		{`"a:b",c`, []string{"a:b", "c"}},
		{"a^nb", []string{"a\nb"}},
		{"a^^b", []string{"a^b"}},
		{"a^'b^'", []string{`a"b"`}},
		{"a^xb^", []string{"a^xb^"}},
		{"", []string{""}},
	}
	for _, tt := range tests {
		if got := (Param{Name: "X", Value: tt.raw}).Values(); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Values(%q) = %q, want %q", tt.raw, got, tt.want)
		}
	}
}

func TestNewParam(t *testing.T) {
	tests := []struct {
		values []string
		want   string
	}{
		{[]string{"work"}, "work"},
		{[]string{"work", "home"}, "work,home"},
		{[]string{"a,b"}, `"a,b"`},
		{[]string{"line1\nline2"}, "line1^nline2"},
		{[]string{"say \"hi\"; ^_^"}, `"say ^'hi^'; ^^_^^"`},
		{[]string{"cr\r\nlf"}, "cr^nlf"},
	}
	for _, tt := range tests {
		p := NewParam("X", tt.values...)
		if p.Value != tt.want {
			t.Errorf("NewParam(%q) = %q, want %q", tt.values, p.Value, tt.want)
		}
		want := tt.values
		if strings.Contains(want[0], "\r\n") {
			want = []string{strings.ReplaceAll(want[0], "\r\n", "\n")}
		}
		if got := p.Values(); !reflect.DeepEqual(got, want) {
			t.Errorf("Values(NewParam(%q)) = %q", tt.values, got)
		}
	}
}

func TestTextEscapes(t *testing.T) {
	tests := []struct{ esc, plain string }{
		{`a\nb`, "a\nb"},
		{`a\,b\;c\\d`, `a,b;c\d`},
		{`no escapes`, "no escapes"},
	}
	for _, tt := range tests {
		if got := UnescapeText(tt.esc); got != tt.plain {
			t.Errorf("UnescapeText(%q) = %q", tt.esc, got)
		}
		if got := EscapeText(tt.plain); got != tt.esc {
			t.Errorf("EscapeText(%q) = %q", tt.plain, got)
		}
	}
	if got := UnescapeText(`\N`); got != "\n" {
		t.Errorf(`UnescapeText(\N) = %q`, got)
	}
	if got := splitEscaped(`a\;b;c;;d\\;e`, ';'); !reflect.DeepEqual(got, []string{`a\;b`, "c", "", `d\\`, "e"}) {
		t.Errorf("splitEscaped = %q", got)
	}
}

func TestVersion(t *testing.T) {
	if v := Parse([]byte(appleContact)).Version(); v != "3.0" {
		t.Errorf("Version = %q", v)
	}
	if v := Parse([]byte(thunderbirdContact)).Version(); v != "4.0" {
		t.Errorf("Version = %q", v)
	}
	if v := Parse([]byte("BEGIN:VCARD\r\nEND:VCARD\r\n")).Version(); v != "" {
		t.Errorf("Version = %q", v)
	}
}
