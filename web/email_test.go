package web

import "testing"

// TestWithoutAddresses: a mail server's answer loses the addresses it quotes.
func TestWithoutAddresses(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"dial tcp 127.0.0.1:25: connection refused", "dial tcp 127.0.0.1:25: connection refused"},
		{"smtp: 550 5.1.1 <alice@new.example>: Recipient address rejected", "smtp: 550 5.1.1 [address] Recipient address rejected"},
		{"to bob@example.org, cc x@y", "to [address] cc [address]"},
	} {
		if got := withoutAddresses(tt.in); got != tt.want {
			t.Errorf("withoutAddresses(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
