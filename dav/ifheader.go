package dav

import (
	"net/http"
	"strings"
)

// errBadIf is the answer for an If header that does not parse.
var errBadIf = errStatus(http.StatusBadRequest, "the If header does not parse (RFC 4918 section 10.4)")

// checkIfHeader reports a 400 *Error when an If header of r does not follow
// the grammar of RFC 4918 section 10.4.2:
//
//	If           = ( 1*No-tag-list | 1*Tagged-list )
//	Tagged-list  = Resource-Tag 1*List
//	List         = "(" 1*Condition ")"
//	Condition    = ["Not"] ( State-token | "[" entity-tag "]" )
//
// Coffer holds no locks, so no state token can match; a header that parses
// is not evaluated further.
func checkIfHeader(r *http.Request) error {
	for _, v := range r.Header.Values("If") {
		if !validIf(v) {
			return errBadIf
		}
	}
	return nil
}

// validIf reports whether v is an If header value: lists only, or each
// resource tag followed by at least one list.
func validIf(v string) bool {
	s := strings.TrimLeft(v, " \t")
	tagged := strings.HasPrefix(s, "<")
	lists, needList := 0, false
	for s != "" {
		var ok bool
		switch {
		case tagged && s[0] == '<':
			if needList {
				return false
			}
			if _, s, ok = cutAngle(s); !ok {
				return false
			}
			needList = true
		case s[0] == '(':
			if s, ok = ifList(s[1:]); !ok {
				return false
			}
			lists, needList = lists+1, false
		default:
			return false
		}
		s = strings.TrimLeft(s, " \t")
	}
	return lists > 0 && !needList
}

// ifList reads the conditions of one List after its "(" up to and
// including the ")", and returns the rest.
func ifList(s string) (rest string, ok bool) {
	conds := 0
	for {
		s = strings.TrimLeft(s, " \t")
		if strings.HasPrefix(s, ")") {
			return s[1:], conds > 0
		}
		if len(s) >= 3 && strings.EqualFold(s[:3], "not") {
			s = strings.TrimLeft(s[3:], " \t")
		}
		switch {
		case strings.HasPrefix(s, "<"):
			if _, s, ok = cutAngle(s); !ok {
				return "", false
			}
		case strings.HasPrefix(s, "["):
			var tag string
			if tag, s, ok = strings.Cut(s[1:], "]"); !ok || !validEntityTag(strings.TrimSpace(tag)) {
				return "", false
			}
		default:
			return "", false
		}
		conds++
	}
}

// cutAngle splits "<uri>rest" into a non-empty uri and rest.
func cutAngle(s string) (uri, rest string, ok bool) {
	uri, rest, ok = strings.Cut(s[1:], ">")
	return uri, rest, ok && uri != "" && !strings.ContainsAny(uri, " \t<")
}

// validEntityTag reports whether t is an entity-tag (RFC 9110 section
// 8.8.3): an optional W/ and a quoted string without quotes inside.
func validEntityTag(t string) bool {
	t = strings.TrimPrefix(t, "W/")
	return len(t) >= 2 && t[0] == '"' && t[len(t)-1] == '"' && !strings.Contains(t[1:len(t)-1], `"`)
}
