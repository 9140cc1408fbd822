package integration_test

import "testing"

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
