package dav

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/coffer-dav/coffer/storage"
)

// pathKind says what a request path names.
type pathKind int

// The resources of the URL layout.
const (
	pathRoot       pathKind = iota // "/"
	pathDAVRoot                    // "/dav/"
	pathPrincipals                 // "/dav/principals/"
	pathPrincipal                  // "/dav/principals/<user>/"
	pathHome                       // "/dav/{calendars,addressbooks}/<user>/"
	pathCollection                 // "<home>/<coll>/"
	pathObject                     // "<home>/<coll>/<name>"
)

// resourcePath is a decoded request path or href.
type resourcePath struct {
	kind     pathKind
	user     string
	home     storage.Home
	coll     string
	name     string
	trailing bool // the path ended with a slash
}

// Fixed path prefixes.
const (
	davPrefix        = "/dav/"
	principalsPrefix = "/dav/principals/"
	syncTokenPrefix  = "http://coffer.invalid/ns/sync/"
)

var errBadPath = errStatus(http.StatusBadRequest, "the request path is malformed")

// parsePath decodes an escaped absolute path. Each segment is
// percent-decoded on its own, so "a@b.ics" and "a%40b.ics" are the same
// resource, while "%2F", ".", ".." and empty inner segments are refused.
// It never touches storage.
func parsePath(escaped string) (resourcePath, error) {
	var p resourcePath
	if !strings.HasPrefix(escaped, "/") {
		return p, errBadPath
	}
	trimmed := escaped[1:]
	if strings.HasSuffix(trimmed, "/") {
		p.trailing = true
		trimmed = trimmed[:len(trimmed)-1]
	}
	if trimmed == "" {
		p.kind = pathRoot
		p.trailing = true
		return p, nil
	}
	raw := strings.Split(trimmed, "/")
	segs := make([]string, len(raw))
	for i, s := range raw {
		if s == "" {
			return p, errBadPath
		}
		d, err := url.PathUnescape(s)
		if err != nil || d == "." || d == ".." || strings.ContainsRune(d, '/') {
			return p, errBadPath
		}
		for _, r := range d {
			if r < 0x20 || r == 0x7f {
				return p, errBadPath
			}
		}
		segs[i] = d
	}
	notFound := errStatus(http.StatusNotFound, "no such resource")
	if segs[0] != "dav" {
		return p, notFound
	}
	if len(segs) == 1 {
		p.kind = pathDAVRoot
		return p, nil
	}
	switch segs[1] {
	case "principals":
		switch len(segs) {
		case 2:
			p.kind = pathPrincipals
		case 3:
			p.kind, p.user = pathPrincipal, segs[2]
		default:
			p.user = segs[2]
			return p, notFound
		}
		return p, nil
	case string(storage.HomeCalendars), string(storage.HomeAddressBooks):
		p.home = storage.Home(segs[1])
	default:
		return p, notFound
	}
	if len(segs) == 2 {
		return p, notFound
	}
	p.user = segs[2]
	switch len(segs) {
	case 3:
		p.kind = pathHome
	case 4:
		p.kind, p.coll = pathCollection, segs[3]
	case 5:
		p.kind, p.coll, p.name = pathObject, segs[3], segs[4]
	default:
		return p, notFound
	}
	return p, nil
}

// parseHref resolves an href from a request body (multiget, me-card) the
// same way as a request path. Full URLs are reduced to their path.
func parseHref(href string) (resourcePath, error) {
	href = strings.TrimSpace(href)
	u, err := url.Parse(href)
	if err != nil || u.Opaque != "" {
		return resourcePath{}, errBadPath
	}
	return parsePath(u.EscapedPath())
}

// escapeSegment writes a path segment in the one canonical encoding: RFC
// 3986 unreserved characters and the sub-delimiters DAVx5 writes literally
// (Q16: "@ : + ; = $ , & ! ' ( ) * ~") stay as they are, everything else
// is percent-encoded with upper-case hex.
func escapeSegment(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			strings.IndexByte("-._~!$&'()*+,;=:@", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// principalHref is the canonical href of a user's principal.
func principalHref(user string) string { return principalsPrefix + escapeSegment(user) + "/" }

// homeHref is the canonical href of a user's home.
func homeHref(user string, home storage.Home) string {
	return davPrefix + string(home) + "/" + escapeSegment(user) + "/"
}

// collectionHref is the canonical href of a collection, with trailing slash.
func collectionHref(user string, home storage.Home, coll string) string {
	return homeHref(user, home) + escapeSegment(coll) + "/"
}

// objectHref is the canonical href of an object.
func objectHref(user string, home storage.Home, coll, name string) string {
	return collectionHref(user, home, coll) + escapeSegment(name)
}

// href returns the canonical href of a parsed path; collections always
// carry their trailing slash (Q4, Q25).
func (p resourcePath) href() string {
	switch p.kind {
	case pathRoot:
		return "/"
	case pathDAVRoot:
		return davPrefix
	case pathPrincipals:
		return principalsPrefix
	case pathPrincipal:
		return principalHref(p.user)
	case pathHome:
		return homeHref(p.user, p.home)
	case pathCollection:
		return collectionHref(p.user, p.home, p.coll)
	default:
		return objectHref(p.user, p.home, p.coll, p.name)
	}
}

// isCollection reports whether the path names a collection-like resource.
func (p resourcePath) isCollection() bool { return p.kind != pathObject }
