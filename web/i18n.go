// The pages' languages: one message catalogue per language, chosen by the
// browser's Accept-Language.

package web

import (
	"bufio"
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/language"
)

// lang is one language of the pages: its catalogue and its templates.
type lang struct {
	tag   string            // BCP 47, as in Content-Language
	msgs  map[string]string // message key → text, with fmt verbs for arguments
	pages *template.Template
}

// messages holds the catalogues, one file per language named by its tag
// (en.txt, de.txt). Another language is one more file.
//
//go:embed messages/*.txt
var messages embed.FS

// defaultLang is the catalogue every other one must match key for key.
const defaultLang = "en"

// loadLangs reads every catalogue and parses the templates for each; the
// default language comes first.
func loadLangs() ([]*lang, error) {
	files, err := fs.Glob(messages, "messages/*.txt")
	if err != nil {
		return nil, err
	}
	var langs []*lang
	for _, f := range files {
		b, err := fs.ReadFile(messages, f)
		if err != nil {
			return nil, err
		}
		msgs, err := parseCatalogue(b)
		if err != nil {
			return nil, fmt.Errorf("web: %s: %w", f, err)
		}
		l := &lang{tag: strings.TrimSuffix(path.Base(f), ".txt"), msgs: msgs}
		if l.pages, err = template.New("").Funcs(l.funcs()).ParseFS(templates, "templates/*.html"); err != nil {
			return nil, err
		}
		langs = append(langs, l)
	}
	slices.SortStableFunc(langs, func(a, b *lang) int {
		switch {
		case a.tag == defaultLang:
			return -1
		case b.tag == defaultLang:
			return 1
		}
		return strings.Compare(a.tag, b.tag)
	})
	if len(langs) == 0 || langs[0].tag != defaultLang {
		return nil, fmt.Errorf("web: no %s catalogue", defaultLang)
	}
	for _, l := range langs[1:] {
		for k := range langs[0].msgs {
			if _, ok := l.msgs[k]; !ok {
				return nil, fmt.Errorf("web: catalogue %s lacks %q", l.tag, k)
			}
		}
		for k := range l.msgs {
			if _, ok := langs[0].msgs[k]; !ok {
				return nil, fmt.Errorf("web: catalogue %s has %q, which %s lacks", l.tag, k, defaultLang)
			}
		}
	}
	return langs, nil
}

// parseCatalogue reads "key = text" lines; blank lines and lines starting
// with # are skipped.
func parseCatalogue(b []byte) (map[string]string, error) {
	msgs := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" || v == "" {
			return nil, fmt.Errorf("line %d: want key = text", n)
		}
		if _, dup := msgs[k]; dup {
			return nil, fmt.Errorf("line %d: %q twice", n, k)
		}
		msgs[k] = v
	}
	return msgs, sc.Err()
}

// funcs are the template functions of a language.
func (l *lang) funcs() template.FuncMap {
	return template.FuncMap{
		"t":     l.T,
		"date":  l.Date,
		"bytes": l.Bytes,
	}
}

// T returns a message with its arguments filled in. An unknown key is
// shown as itself, and a test keeps every key the templates use in the
// catalogues.
func (l *lang) T(key string, args ...any) string {
	m, ok := l.msgs[key]
	if !ok {
		return key
	}
	if len(args) == 0 {
		return m
	}
	return fmt.Sprintf(m, args...)
}

// Date writes a day as people of the language read it: 14 January 2027.
func (l *lang) Date(t time.Time) string {
	t = t.UTC()
	return l.T("date", t.Day(), l.T("month."+strconv.Itoa(int(t.Month()))), t.Year())
}

// Bytes writes a size in the largest unit that keeps it at 1 or more, with
// one decimal for the larger units.
func (l *lang) Bytes(n int64) string {
	units := []string{"B", "KB", "MB", "GB", "TB"}
	v, i := float64(n), 0
	for v >= 1000 && i < len(units)-1 {
		v /= 1000
		i++
	}
	if i == 0 {
		return l.T("size", strconv.FormatInt(n, 10), units[0])
	}
	s := strconv.FormatFloat(v, 'f', 1, 64)
	return l.T("size", strings.Replace(s, ".", l.T("decimal"), 1), units[i])
}

// newMatcher matches Accept-Language against the catalogues' tags.
func newMatcher(langs []*lang) language.Matcher {
	tags := make([]language.Tag, len(langs))
	for i, l := range langs {
		tags[i] = language.Make(l.tag)
	}
	return language.NewMatcher(tags)
}

// pick returns the language of a request's pages, by its Accept-Language;
// the default when nothing matches.
func (h *Handler) pick(r *http.Request) *lang {
	want, _, err := language.ParseAcceptLanguage(r.Header.Get("Accept-Language"))
	if err != nil || len(want) == 0 {
		return h.langs[0]
	}
	_, i, conf := h.matcher.Match(want...)
	if conf == language.No {
		return h.langs[0]
	}
	return h.langs[i]
}
