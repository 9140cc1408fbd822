package integration_test

import (
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestTrustedProxy: behind a reverse proxy every client arrives from the
// proxy's address. With --trusted-proxy the server takes the client's
// address from X-Forwarded-For, so one client's bad logins do not lock out
// another's first login; without it the header is ignored, and a client
// cannot pick a fresh address to guess from.
func TestTrustedProxy(t *testing.T) {
	tests := []struct {
		name  string
		flags []string
		want  int // the other user's first login, from another forwarded address
	}{
		{"trusted", []string{"--trusted-proxy", "127.0.0.1/32"}, 207},
		{"not trusted", nil, 503},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startServerWith(t, "", tt.flags...)
			addUser(t, s.data, "pia", "pia's long password")
			addUser(t, s.data, "ola", "ola's long password")
			guesser := s.client(t, "pia", "wrong password")
			for i := 0; i < 7; i++ {
				if r := guesser.do("PROPFIND", "/dav/calendars/pia/", "", "Depth", "0", "X-Forwarded-For", "203.0.113.5"); r.Status != 401 && r.Status != 503 {
					t.Fatalf("bad login %d: %d", i, r.Status)
				}
			}
			ola := s.client(t, "ola", "ola's long password")
			if r := ola.do("PROPFIND", "/dav/calendars/ola/", "", "Depth", "0", "X-Forwarded-For", "203.0.113.9"); r.Status != tt.want {
				t.Fatalf("ola's first login from another client: %d, want %d", r.Status, tt.want)
			}
		})
	}
}

// TestPublicURL: --public-url is what the first-run message, the start page
// and the .well-known redirects tell clients, not the listen address; a
// browser at / gets a page, not a login box.
func TestPublicURL(t *testing.T) {
	tests := []struct {
		name, flag, want string // want: the URL clients are told; {listen} for the listen address
	}{
		{"behind a proxy", "https://dav.example.org", "https://dav.example.org/"},
		{"no flag", "", "{listen}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var flags []string
			if tt.flag != "" {
				flags = []string{"--public-url", tt.flag}
			}
			s := startServerWith(t, "", flags...)
			want := strings.ReplaceAll(tt.want, "{listen}", s.URL)
			if !regexp.MustCompile(`URL:\s+` + regexp.QuoteMeta(want) + `\n`).MatchString(s.output()) {
				t.Errorf("first-run message does not give %s:\n%s", want, s.output())
			}
			hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			for _, p := range []string{"/.well-known/caldav", "/.well-known/carddav"} {
				resp, err := hc.Get(strings.TrimSuffix(s.URL, "/") + p)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if loc := resp.Header.Get("Location"); resp.StatusCode != 301 || (tt.flag != "" && loc != want+"dav/") || (tt.flag == "" && loc != "/dav/") {
					t.Errorf("%s: %d to %q", p, resp.StatusCode, loc)
				}
			}
			// A signed-out browser at / is sent to the sign-in page, which
			// names the URL to enter in a client.
			resp, err := hc.Get(s.URL)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/signin" {
				t.Errorf("GET /: %d to %q, want the sign-in page", resp.StatusCode, resp.Header.Get("Location"))
			}
			if resp, err = hc.Get(s.URL + "signin"); err != nil {
				t.Fatal(err)
			}
			page, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || resp.Header.Get("WWW-Authenticate") != "" || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") ||
				!strings.Contains(string(page), want) || strings.Contains(string(page), "http-equiv") || strings.Contains(string(page), "<script") {
				t.Errorf("GET /signin: %d %v\n%s", resp.StatusCode, resp.Header, page)
			}
		})
	}
	for _, bad := range []string{"dav.example.org", "ftp://dav.example.org/", "https://dav.example.org/coffer/", "https://u:p@dav.example.org/"} {
		if out, err := coffer(t, "", "serve", "--data", filepath.Join(t.TempDir(), "d"), "--listen", "127.0.0.1:0", "--public-url", bad); err == nil || !strings.Contains(out, "--public-url") {
			t.Errorf("--public-url %q: %v\n%s", bad, err, out)
		}
	}
}
