package dav

import (
	"net/http"
	"net/url"
	"strings"
)

// errCrossSite is the answer for a cross-site request that would change data.
var errCrossSite = errStatus(http.StatusForbidden, "a request from another site may not change data here")

// CrossSite reports whether a browser says r comes from another site: a
// Sec-Fetch-Site (Fetch Metadata) other than same-origin or none, or an
// Origin (RFC 6454 section 7) that is "null" or names another host than
// the request's. DAV clients, curl and other programs send neither header.
// The headers decide, never the User-Agent: Thunderbird sends a Gecko one
// from its own code (clients.md 4.1), which no page triggers.
func CrossSite(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "same-origin", "none":
		// The browser itself says so, and a page cannot forge it. Origin may
		// then be "null": under Referrer-Policy: no-referrer, which the
		// dashboard sends, Chromium sends Origin: null on its own form posts.
		return false
	case "":
	default:
		return true
	}
	o := r.Header.Get("Origin")
	if o == "" {
		return false
	}
	u, err := url.Parse(o)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return true // "null" (an opaque origin, e.g. a sandboxed page) included
	}
	return !strings.EqualFold(withoutDefaultPort(u.Host), withoutDefaultPort(r.Host))
}

// withoutDefaultPort drops ":80" or ":443" from a host, since a proxy in
// front may end TLS and the request's own scheme then says nothing.
func withoutDefaultPort(host string) string {
	return strings.TrimSuffix(strings.TrimSuffix(host, ":443"), ":80")
}

// changesData reports whether method may change stored data.
func changesData(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, "PROPFIND", "REPORT":
		return false
	}
	return true
}
