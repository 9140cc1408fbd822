package dav

import (
	"net/http"
	"net/url"
	"strconv"
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
	pathCollection                 // "<home>/<coll>/", plain collections nested as "<home>/a/b/"
	pathObject                     // "<home>/<coll>/<name>", the collection possibly nested
)

// resourcePath is a decoded request path or href.
type resourcePath struct {
	kind     pathKind
	user     string
	home     storage.Home
	coll     string // the collection's storage name: segments joined with "/"
	name     string
	trailing bool // the path ended with a slash
}

// Fixed path prefixes.
const (
	davPrefix        = "/dav/"
	principalsPrefix = "/dav/principals/"
	syncTokenPrefix  = "http://coffer.invalid/ns/sync/"
	// maxNesting caps how deep plain collections nest below a top-level
	// collection of a home.
	maxNesting = 16
	// maxSegment caps one decoded path segment, a collection or object
	// name, as file systems cap a file name.
	maxSegment = 255
	// maxPath caps a whole decoded path. A name is stored sealed and, once
	// deleted, kept as a tombstone in the change log: without the caps a
	// client could fill the disk with names alone.
	maxPath = 4096
)

var (
	errBadPath = errStatus(http.StatusBadRequest, "the request path is malformed")
	// RFC 9110 section 15.5.15: 414 URI Too Long.
	errLongSegment = errStatus(http.StatusRequestURITooLong, "a collection or resource name may have at most "+strconv.Itoa(maxSegment)+" bytes")
	errLongPath    = errStatus(http.StatusRequestURITooLong, "a path may have at most "+strconv.Itoa(maxPath)+" bytes")
)

// parsePath decodes an escaped absolute path. Each segment is
// percent-decoded on its own, so "a@b.ics" and "a%40b.ics" are the same
// resource, while "%2F", ".", ".." and empty inner segments are refused,
// and so are segments and paths beyond maxSegment and maxPath bytes
// (decoded, so that a path and its canonical href measure the same).
// It never touches storage.
func parsePath(escaped string) (resourcePath, error) {
	var p resourcePath
	if !strings.HasPrefix(escaped, "/") {
		return p, errBadPath
	}
	if len(escaped) > 3*maxPath { // longer than any escaping of maxPath bytes
		return p, errLongPath
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
	size := len(raw) // the decoded path's length: a slash before each segment
	if p.trailing {
		size++
	}
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
		if len(d) > maxSegment {
			return p, errLongSegment
		}
		if size += len(d); size > maxPath {
			return p, errLongPath
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
	rest := segs[3:]
	switch {
	case len(rest) == 0:
		p.kind = pathHome
	case len(rest) > maxNesting+1:
		return p, notFound
	case p.trailing || len(rest) == 1:
		// A trailing slash names a collection; so does one segment below
		// a home, since homes hold no objects.
		p.kind, p.coll = pathCollection, strings.Join(rest, "/")
	default:
		// "<home>/a/b" may still be the collection "a/b": settle decides
		// against storage.
		p.kind, p.coll, p.name = pathObject, strings.Join(rest[:len(rest)-1], "/"), rest[len(rest)-1]
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

// collectionHref is the canonical href of a collection, with trailing
// slash; coll is the storage name, segments joined with "/".
func collectionHref(user string, home storage.Home, coll string) string {
	var b strings.Builder
	b.WriteString(homeHref(user, home))
	for _, seg := range strings.Split(coll, "/") {
		b.WriteString(escapeSegment(seg) + "/")
	}
	return b.String()
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

// asCollection reinterprets an object path "<home>/a/b" as the nested
// collection "a/b".
func (p resourcePath) asCollection() resourcePath {
	if p.kind == pathObject {
		p.kind, p.coll, p.name = pathCollection, p.coll+"/"+p.name, ""
	}
	return p
}

// asObject reinterprets a collection path "<home>/a/b/" as the object b in
// the collection a; ok is false for a top-level collection, whose parent
// is the home.
func (p resourcePath) asObject() (resourcePath, bool) {
	if p.kind != pathCollection {
		return p, p.kind == pathObject
	}
	i := strings.LastIndexByte(p.coll, '/')
	if i < 0 {
		return p, false
	}
	p.kind, p.coll, p.name, p.trailing = pathObject, p.coll[:i], p.coll[i+1:], false
	return p, true
}

// parentColl returns the storage name of the collection that holds a
// nested collection, or "" for a top-level one.
func parentColl(coll string) string {
	if i := strings.LastIndexByte(coll, '/'); i >= 0 {
		return coll[:i]
	}
	return ""
}
