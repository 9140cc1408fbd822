package push

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
)

// ErrEndpoint reports a push resource the server will not connect to: not
// https, another port than 443 or 8443, or an address that is not public;
// or, with loopback allowed, any address but a loopback one.
var ErrEndpoint = errors.New("push: push resource not allowed")

// MaxEndpoint is the longest push resource URL taken.
const MaxEndpoint = 2048

// nonPublic are the address ranges that are neither loopback, private,
// link-local nor multicast (netip's own tests) and still no place to send
// a push message: shared, reserved, documentation and benchmarking ranges
// (RFC 6890), and the IPv6 prefixes that embed an IPv4 address another
// host then reaches (NAT64, 6to4, Teredo).
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("192.0.2.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("198.51.100.0/24"),
	netip.MustParsePrefix("203.0.113.0/24"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("64:ff9b::/96"),
	netip.MustParsePrefix("64:ff9b:1::/48"),
	netip.MustParsePrefix("100::/64"),
	netip.MustParsePrefix("2001::/32"),
	netip.MustParsePrefix("2001:db8::/32"),
	netip.MustParsePrefix("2002::/16"),
	netip.MustParsePrefix("fec0::/10"),
}

// CheckEndpoint reports whether a push resource URL is one the server
// sends to: https on port 443 or 8443 and, where the host is an address, a
// public one; with allowLoopback (tests only), http or https on any port of
// a loopback host and nothing else. A host name passes here; the address
// it resolves to is checked again when the connection is made.
func CheckEndpoint(endpoint string, allowLoopback bool) error {
	if len(endpoint) > MaxEndpoint {
		return fmt.Errorf("%w: longer than %d bytes", ErrEndpoint, MaxEndpoint)
	}
	u, err := url.Parse(endpoint)
	if err != nil || u.Opaque != "" || u.Host == "" || u.Hostname() == "" {
		return fmt.Errorf("%w: not an absolute URL", ErrEndpoint)
	}
	if u.User != nil {
		return fmt.Errorf("%w: it holds credentials", ErrEndpoint)
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && allowLoopback:
	default:
		return fmt.Errorf("%w: scheme %q", ErrEndpoint, u.Scheme)
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"https": "443", "http": "80"}[u.Scheme]
	}
	if !allowLoopback && port != "443" && port != "8443" {
		return fmt.Errorf("%w: port %s", ErrEndpoint, port)
	}
	host := u.Hostname()
	if ip, err := netip.ParseAddr(host); err == nil {
		return checkAddr(ip, allowLoopback)
	}
	if allowLoopback && !strings.EqualFold(host, "localhost") {
		return fmt.Errorf("%w: with loopback allowed, only loopback hosts", ErrEndpoint)
	}
	return nil
}

// checkAddr reports whether the server may connect to ip: a public unicast
// address, or with allowLoopback a loopback address and nothing else.
func checkAddr(ip netip.Addr, allowLoopback bool) error {
	ip = ip.Unmap()
	if allowLoopback {
		if ip.IsLoopback() {
			return nil
		}
		return fmt.Errorf("%w: %s is not a loopback address", ErrEndpoint, ip)
	}
	if !ip.IsGlobalUnicast() || ip.IsPrivate() || ip.Zone() != "" {
		return fmt.Errorf("%w: %s is not a public address", ErrEndpoint, ip)
	}
	for _, p := range nonPublic {
		if p.Contains(ip) {
			return fmt.Errorf("%w: %s is not a public address", ErrEndpoint, ip)
		}
	}
	return nil
}

// dialControl checks the address a connection is about to be made to,
// after name resolution and before the connection leaves, so that a name
// that resolves to a private address (or changes its answer between the
// URL check and the dial) reaches nothing.
func dialControl(allowLoopback bool) func(network, address string, _ syscall.RawConn) error {
	return func(network, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return fmt.Errorf("%w: %s", ErrEndpoint, address)
		}
		if err := checkAddr(ap.Addr(), allowLoopback); err != nil {
			return err
		}
		if !allowLoopback && ap.Port() != 443 && ap.Port() != 8443 {
			return fmt.Errorf("%w: port %d", ErrEndpoint, ap.Port())
		}
		return nil
	}
}
