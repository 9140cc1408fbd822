package dav

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// refUnfoldLines is the line-by-line unfolding validateVCard used before
// unfold: the reference unfold must agree with.
func refUnfoldLines(s string) []string {
	var lines []string
	var cur strings.Builder
	flush := func() {
		if cur.Len() > 0 {
			lines = append(lines, cur.String())
			cur.Reset()
		}
	}
	for _, l := range strings.Split(s, "\n") {
		l = strings.TrimSuffix(l, "\r")
		if len(l) > 0 && (l[0] == ' ' || l[0] == '\t') && (cur.Len() > 0 || len(lines) > 0) {
			if cur.Len() == 0 {
				cur.WriteString(lines[len(lines)-1])
				lines = lines[:len(lines)-1]
			}
			cur.WriteString(l[1:])
			continue
		}
		flush()
		cur.WriteString(l)
	}
	flush()
	return lines
}

// refValidText is validText as it was: UTF-8, and every rune an XML character.
func refValidText(b []byte) bool {
	if !utf8.Valid(b) {
		return false
	}
	for _, r := range string(b) {
		if !isXMLChar(r) {
			return false
		}
	}
	return true
}

// unfoldInputs are texts with folds in every position that matters.
var unfoldInputs = []string{
	"", "\n", "\r\n", "a", " a", "\ta", "a\r\n b", "a\n\tb\n c", "a\r\n\r\n b", "\r\n a\r\nb",
	"BEGIN:VCARD\r\nVERSION:3.0\r\nPHOTO;ENCODING=b:QUJD\r\n REVG\r\n R0hJ\r\nEND:VCARD\r\n",
	"a\r\r\nb", "a\rb\r\n c", " \r\n \r\n", "x\n \n \ny", "a\r\n \r\nb\r\n", "\x00\r\n \xff",
}

// TestUnfoldMatchesLineByLine: unfold gives the lines the former
// line-by-line unfolding gave, each ended by CRLF.
func TestUnfoldMatchesLineByLine(t *testing.T) {
	for _, s := range unfoldInputs {
		want := strings.Join(refUnfoldLines(s), "\r\n")
		if want != "" {
			want += "\r\n"
		}
		if got := unfold(s); got != want {
			t.Errorf("unfold(%q) = %q, want %q", s, got, want)
		}
	}
}

// TestValidTextMatchesRuneCheck: the byte-wise check agrees with decoding
// every rune, for every byte and pair of bytes and the edges of XML's ranges.
func TestValidTextMatchesRuneCheck(t *testing.T) {
	in := []string{"", "plain", "\t\n\r", "\x7f", "\ud7ff", "\ue000", "\ufffd", "\ufffe", "\U00010000", "\U0010ffff",
		"\xed\xa0\x80", "\xf4\x90\x80\x80", "\xc0\xaf", "a\x00b", "Grüße ✓ 𝄞"}
	for a := 0; a < 256; a++ {
		for c := 0; c < 256; c += 3 {
			in = append(in, string([]byte{byte(a), byte(c)}))
		}
	}
	for _, s := range in {
		if got, want := validText([]byte(s)), refValidText([]byte(s)); got != want {
			t.Errorf("validText(%q) = %v, want %v", s, got, want)
		}
	}
}

// FuzzUnfold checks unfold and validText against their references.
func FuzzUnfold(f *testing.F) {
	for _, s := range unfoldInputs {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want := strings.Join(refUnfoldLines(s), "\r\n")
		if want != "" {
			want += "\r\n"
		}
		if got := unfold(s); got != want {
			t.Fatalf("unfold(%q) = %q, want %q", s, got, want)
		}
		if got, want := validText([]byte(s)), refValidText([]byte(s)); got != want {
			t.Fatalf("validText(%q) = %v, want %v", s, got, want)
		}
	})
}
