package web

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"
)

// TestCataloguesCoverEveryKey: every message key a template or a handler
// uses is in every catalogue (loadLangs already refuses catalogues whose
// keys differ).
func TestCataloguesCoverEveryKey(t *testing.T) {
	langs, err := loadLangs()
	if err != nil {
		t.Fatal(err)
	}
	if len(langs) < 2 || langs[0].tag != "en" {
		t.Fatalf("languages %d, first %q: want en first and at least one more", len(langs), langs[0].tag)
	}
	uses := map[string]*regexp.Regexp{
		"templates/*.html": regexp.MustCompile(`\bt "([a-z0-9_.]+)"`),
		"*.go":             regexp.MustCompile(`"((?:err|notice)\.[a-z0-9_.]+)"`),
	}
	found := 0
	for glob, re := range uses {
		files, _ := filepath.Glob(glob)
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range re.FindAllSubmatch(b, -1) {
				found++
				for _, l := range langs {
					if _, ok := l.msgs[string(m[1])]; !ok {
						t.Errorf("%s uses %q, which catalogue %s lacks", f, m[1], l.tag)
					}
				}
			}
		}
	}
	if found < 20 {
		t.Fatalf("found only %d key uses: the patterns no longer match the sources", found)
	}
}

// TestLanguageByAcceptLanguage: the browser's preference picks the
// catalogue, and anything unknown gets English.
func TestLanguageByAcceptLanguage(t *testing.T) {
	langs, err := loadLangs()
	if err != nil {
		t.Fatal(err)
	}
	h := &Handler{langs: langs, matcher: newMatcher(langs)}
	for _, tt := range []struct{ accept, want string }{
		{"", "en"},
		{"de-DE,de;q=0.9,en;q=0.8", "de"},
		{"de-AT", "de"},
		{"fr-FR,fr;q=0.9", "en"},
		{"fr;q=0.9,de;q=0.5", "de"},
		{"en-US,en;q=0.9,de;q=0.8", "en"},
		{";;;garbage", "en"},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Accept-Language", tt.accept)
		if got := h.pick(r).tag; got != tt.want {
			t.Errorf("Accept-Language %q: %s, want %s", tt.accept, got, tt.want)
		}
	}
}

// TestDatesAndSizes: dates and sizes are written the way each language writes them.
func TestDatesAndSizes(t *testing.T) {
	langs, err := loadLangs()
	if err != nil {
		t.Fatal(err)
	}
	day := time.Date(2027, 1, 14, 23, 0, 0, 0, time.UTC)
	want := map[string][2]string{"en": {"14 January 2027", "1.5 MB"}, "de": {"14. Januar 2027", "1,5 MB"}}
	for _, l := range langs {
		w, ok := want[l.tag]
		if !ok {
			continue
		}
		if got := l.Date(day); got != w[0] {
			t.Errorf("%s: date %q, want %q", l.tag, got, w[0])
		}
		if got := l.Bytes(1_500_000); got != w[1] {
			t.Errorf("%s: size %q, want %q", l.tag, got, w[1])
		}
	}
}
