package dav

import (
	"encoding/xml"
	"net/http"
	"strings"
)

// propfindMode says which of the RFC 4918 section 14.20 forms a PROPFIND used.
type propfindMode int

// PROPFIND forms.
const (
	propfindAllprop  propfindMode = iota // DAV:allprop, or an empty body
	propfindProp                         // DAV:prop
	propfindPropname                     // DAV:propname
)

// propfindRequest is a parsed DAV:propfind body (RFC 4918 section 14.20).
type propfindRequest struct {
	mode    propfindMode
	names   []xml.Name // DAV:prop children, or DAV:include children with allprop
	minimal bool
}

// parsePropfind reads a DAV:propfind body; nil means allprop.
func parsePropfind(n *node) (*propfindRequest, error) {
	pf := &propfindRequest{mode: propfindAllprop}
	if n == nil {
		return pf, nil
	}
	if !n.is(nsDAV, "propfind") {
		return nil, errStatus(http.StatusBadRequest, "expected a DAV:propfind body")
	}
	switch {
	case n.child(nsDAV, "prop") != nil:
		pf.mode = propfindProp
		pf.names = propList(n.child(nsDAV, "prop"))
	case n.child(nsDAV, "propname") != nil:
		pf.mode = propfindPropname
	case n.child(nsDAV, "allprop") != nil:
		pf.names = propList(n.child(nsDAV, "include"))
	default:
		return nil, errStatus(http.StatusBadRequest, "DAV:propfind needs prop, allprop or propname")
	}
	return pf, nil
}

// propList returns the element names inside a DAV:prop (or DAV:include),
// each once.
func propList(n *node) []xml.Name {
	var out []xml.Name
	seen := map[xml.Name]bool{}
	if n == nil {
		return nil
	}
	for _, k := range n.Kids {
		if !seen[k.Name] {
			seen[k.Name] = true
			out = append(out, k.Name)
		}
	}
	return out
}

// preferMinimal reports Prefer: return=minimal (RFC 8144) or Brief: t (iOS).
func preferMinimal(r *http.Request) bool {
	if strings.EqualFold(strings.TrimSpace(r.Header.Get("Brief")), "t") {
		return true
	}
	for _, v := range r.Header.Values("Prefer") {
		for _, p := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(p), "return=minimal") {
				return true
			}
		}
	}
	return false
}

// depth parses the Depth header: "0", "1" or "infinity"; missing gives def.
func depth(r *http.Request, def string) (string, error) {
	v := strings.ToLower(strings.TrimSpace(r.Header.Get("Depth")))
	switch v {
	case "":
		return def, nil
	case "0", "1", "infinity":
		return v, nil
	}
	return "", errStatus(http.StatusBadRequest, "invalid Depth header")
}

// propfind answers PROPFIND (RFC 4918 section 9.1) with Depth 0 or 1.
// A missing Depth means infinity (section 9.1), which a collection refuses
// with 403 propfind-finite-depth; no client of clients.md sends a PROPFIND
// without Depth (Thunderbird re-adds it after a redirect, 4.1). An object
// has no members and ignores Depth (section 10.2).
func (q *request) propfind() error {
	d, err := depth(q.r, "infinity")
	if err != nil {
		return err
	}
	body, err := q.readXML(maxXMLBody)
	if err != nil {
		return err
	}
	pf, err := parsePropfind(body)
	if err != nil {
		return err
	}
	res, err := q.resolve()
	if err != nil {
		return err
	}
	if d == "infinity" {
		if res.path.kind != pathObject {
			return errCond(http.StatusForbidden, condPropfindFiniteDepth, "Depth: infinity is not supported; send Depth: 0 or 1")
		}
		d = "0"
	}
	targets := []*resource{res}
	if d == "1" {
		kids, err := q.members(res)
		if err != nil {
			return err
		}
		targets = append(targets, kids...)
	}
	pf.minimal = preferMinimal(q.r)
	ms := &multistatus{minimal: pf.minimal}
	for _, t := range targets {
		ms.responses = append(ms.responses, q.propResponse(t, pf))
	}
	if pf.minimal {
		q.w.Header().Set("Preference-Applied", "return=minimal")
	}
	writeMultistatus(q.w, ms)
	return nil
}

// propResponse renders one resource's DAV:response for a PROPFIND.
func (q *request) propResponse(res *resource, pf *propfindRequest) *response {
	r := &response{href: res.path.href()}
	switch pf.mode {
	case propfindPropname:
		for _, n := range q.propNames(res, propnameCandidates) {
			r.add(http.StatusOK, elem(n, ""))
		}
	case propfindAllprop:
		names := q.propNames(res, allpropNames)
		seen := map[xml.Name]bool{}
		for _, n := range names {
			seen[n] = true
		}
		for _, n := range pf.names {
			if !seen[n] {
				names = append(names, n)
			}
		}
		q.addProps(r, res, names)
	default:
		q.addProps(r, res, pf.names)
	}
	return r
}

// addProps renders the named properties into 200 and 404 propstats.
func (q *request) addProps(r *response, res *resource, names []xml.Name) {
	for _, n := range names {
		if v, ok := q.prop(res, n); ok {
			r.add(http.StatusOK, v)
		} else {
			r.add(http.StatusNotFound, elem(n, ""))
		}
	}
}
