package dav

import (
	"strings"
	"testing"
)

func TestEscapeString(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain text", "plain text"},
		{"a&b<c>d\"e'f", "a&amp;b&lt;c&gt;d&quot;e&apos;f"},
		{"line\r\nnext\tx", "line&#13;\nnext\tx"},
		{"Grüße ✓ 𝄞", "Grüße ✓ 𝄞"},
		{"nul\x00bell\x07", "nul\uFFFDbell\uFFFD"},
		{"bad \xff utf8", "bad \uFFFD utf8"},
		{"surrogate \xed\xa0\x80 x", "surrogate \uFFFD\uFFFD\uFFFD x"},
		{"\uFFFE no", "\uFFFD no"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := escapeString(tt.in); got != tt.want {
			t.Errorf("escapeString(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	long := strings.Repeat("QUJD", 50000)
	if escapeString(long) != long {
		t.Fatal("a clean long string changed")
	}
}
