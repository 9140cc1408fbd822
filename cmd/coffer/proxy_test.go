package main

import (
	"net/http"
	"net/netip"
	"testing"
)

// TestTrustedProxyClientAddress: the forwarded address is taken only from
// a trusted proxy, and only as far as the chain is trusted.
func TestTrustedProxyClientAddress(t *testing.T) {
	proxies, err := parseTrustedProxies("127.0.0.1/32, 10.0.0.0/8, ::1")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, remote string
		header       map[string]string
		want         string // empty: RemoteAddr stays
	}{
		{"no header", "127.0.0.1:5000", nil, ""},
		{"xff from the proxy", "127.0.0.1:5000", map[string]string{"X-Forwarded-For": "203.0.113.5"}, "203.0.113.5"},
		{"xff from a stranger", "198.51.100.7:5000", map[string]string{"X-Forwarded-For": "203.0.113.5"}, ""},
		{"spoofed head of the chain", "127.0.0.1:5000", map[string]string{"X-Forwarded-For": "1.2.3.4, 203.0.113.5"}, "203.0.113.5"},
		{"two trusted hops", "127.0.0.1:5000", map[string]string{"X-Forwarded-For": "203.0.113.5, 10.1.2.3"}, "203.0.113.5"},
		{"forwarded wins", "127.0.0.1:5000", map[string]string{"Forwarded": `for=192.0.2.60;proto=https, for="[2001:db8:cafe::17]:4711"`, "X-Forwarded-For": "203.0.113.5"}, "2001:db8:cafe::17"},
		{"forwarded v4 with port", "[::1]:5000", map[string]string{"Forwarded": `for="192.0.2.60:8080"`}, "192.0.2.60"},
		{"garbage", "127.0.0.1:5000", map[string]string{"X-Forwarded-For": "unknown"}, ""},
		{"garbage before a good hop", "127.0.0.1:5000", map[string]string{"X-Forwarded-For": "nonsense, 203.0.113.5"}, "203.0.113.5"},
	}
	for _, tt := range tests {
		r, _ := http.NewRequest("GET", "/", nil)
		r.RemoteAddr = tt.remote
		for k, v := range tt.header {
			r.Header.Set(k, v)
		}
		var got string
		proxies.wrap(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { got = r.RemoteAddr })).ServeHTTP(nil, r)
		want := tt.remote
		if tt.want != "" {
			want = netip.AddrPortFrom(netip.MustParseAddr(tt.want), 0).String()
		}
		if got != want {
			t.Errorf("%s: RemoteAddr %q, want %q", tt.name, got, want)
		}
	}
	for _, bad := range []string{"example.org", "10.0.0.0/33", "1.2.3"} {
		if _, err := parseTrustedProxies(bad); err == nil {
			t.Errorf("--trusted-proxy %q accepted", bad)
		}
	}
}
