package dav

import (
	"encoding/xml"
	"net/http"

	"github.com/coffer-dav/coffer/storage"
)

// patchOp is one property instruction of a DAV:propertyupdate (RFC 4918
// section 14.19), in document order.
type patchOp struct {
	name   xml.Name
	value  string // the complete, self-contained element; empty for remove
	el     *node  // the parsed element, to check its value; nil for remove
	remove bool
}

// parsePropertyupdate reads a DAV:propertyupdate body.
func parsePropertyupdate(n *node) ([]patchOp, error) {
	if !n.is(nsDAV, "propertyupdate") {
		return nil, errStatus(http.StatusBadRequest, "expected a DAV:propertyupdate body")
	}
	var ops []patchOp
	for _, k := range n.Kids {
		remove := k.is(nsDAV, "remove")
		if !remove && !k.is(nsDAV, "set") {
			continue
		}
		for _, prop := range k.children(nsDAV, "prop") {
			for _, p := range prop.Kids {
				op := patchOp{name: p.Name, remove: remove}
				if !remove {
					op.value, op.el = serializeElement(p), p
				}
				ops = append(ops, op)
			}
		}
	}
	if len(ops) == 0 {
		return nil, errStatus(http.StatusBadRequest, "the propertyupdate names no property")
	}
	return ops, nil
}

// proppatch answers PROPPATCH (RFC 4918 section 9.2) on collections,
// objects, the principal and the homes. Every property except the
// protected ones is stored; the update is atomic, so a protected property
// or a value that cannot be set fails everything (403 with the condition,
// the rest 424). Removing a property that does not exist succeeds
// (section 14.23).
func (q *request) proppatch() error {
	body, err := q.readXML(maxXMLBody)
	if err != nil {
		return err
	}
	if body == nil {
		return errStatus(http.StatusBadRequest, "PROPPATCH needs a body")
	}
	ops, err := parsePropertyupdate(body)
	if err != nil {
		return err
	}
	res, err := q.resolve()
	if err != nil {
		return err
	}
	resp := &response{href: res.path.href()}
	ms := &multistatus{responses: []*response{resp}}
	apply := q.patcher(res)
	if apply == nil {
		// Roots and the principal collection store nothing.
		for _, op := range ops {
			resp.add(http.StatusForbidden, elem(op.name, ""))
		}
		resp.propstats[0].cond = condNeedPrivileges
		writeMultistatus(q.w, ms)
		return nil
	}
	failed := map[xml.Name]xml.Name{}
	names := make([]xml.Name, 0, len(ops))
	for _, op := range ops {
		names = append(names, op.name)
		if op.remove {
			if protectedProps[op.name] {
				failed[op.name] = condCannotModify
			}
		} else if cond := setFailure(op.name, op.el); cond.Local != "" {
			failed[op.name] = cond
		}
	}
	if len(failed) > 0 {
		resp.propstats = failedPropstats(names, failed)
		writeMultistatus(q.w, ms)
		return nil
	}
	// The update is atomic (RFC 4918 section 9.2): a patch that would take
	// the resource's properties beyond their cap or the account beyond its
	// quota stores nothing, and the whole request fails with 507 and the
	// condition.
	set, remove := patchSets(ops)
	if err := apply(storage.PatchOptions{Set: set, Remove: remove, Limits: q.h.limits.store}); err != nil {
		return storageErr(err)
	}
	seen := map[xml.Name]bool{}
	for _, op := range ops {
		if !seen[op.name] {
			seen[op.name] = true
			resp.add(http.StatusOK, elem(op.name, ""))
		}
	}
	writeMultistatus(q.w, ms)
	return nil
}

// patcher returns the storage call that patches the properties of a
// resource, or nil where none are stored.
func (q *request) patcher(res *resource) func(o storage.PatchOptions) error {
	switch res.path.kind {
	case pathCollection:
		return func(o storage.PatchOptions) error {
			return q.space.PatchCollection(q.ctx, res.coll.ID, o)
		}
	case pathObject:
		return func(o storage.PatchOptions) error {
			return q.space.PatchObject(q.ctx, res.coll.ID, res.obj.Name, o)
		}
	case pathPrincipal, pathHome:
		scope := storage.ScopePrincipal
		if res.path.kind == pathHome {
			scope = storage.Scope(res.path.home)
		}
		return func(o storage.PatchOptions) error {
			return q.space.PatchProps(q.ctx, scope, o)
		}
	}
	return nil
}

// patchSets folds the instructions, in document order, into what to set
// and what to remove: a later instruction on the same property wins.
func patchSets(ops []patchOp) (storage.Props, []string) {
	set := storage.Props{}
	var remove []string
	removed := map[string]bool{}
	for _, op := range ops {
		k := clark(op.name)
		if op.remove {
			delete(set, k)
			if !removed[k] {
				removed[k] = true
				remove = append(remove, k)
			}
		} else {
			set[k] = []byte(op.value)
			if removed[k] {
				removed[k] = false
				remove = without(remove, k)
			}
		}
	}
	return set, remove
}

// without returns list minus every s.
func without(list []string, s string) []string {
	out := list[:0]
	for _, v := range list {
		if v != s {
			out = append(out, v)
		}
	}
	return out
}

// setFailure returns the condition that keeps a property from being set
// to the value el, or the zero name when it can be set: a protected
// property (RFC 4918 section 16 cannot-modify-protected-property), or a
// calendar-timezone that is not one complete VTIMEZONE (RFC 4791 section
// 5.2.2, valid-calendar-data).
func setFailure(name xml.Name, el *node) xml.Name {
	switch {
	case protectedProps[name]:
		return condCannotModify
	case name == pnCalendarTimezone:
		if _, err := checkCalendarTimezone(el.text()); err != nil {
			return condValidCalendarData
		}
	}
	return xml.Name{}
}

// failedPropstats answers an all-or-nothing property update that failed
// (RFC 4918 section 9.2, RFC 5689 section 3): a 403 propstat with its
// condition for each property in failed, 424 Failed Dependency for every
// other one of names, each property named once.
func failedPropstats(names []xml.Name, failed map[xml.Name]xml.Name) []*propstat {
	var out []*propstat
	byCond := map[xml.Name]*propstat{}
	var dependent *propstat
	seen := map[xml.Name]bool{}
	for _, n := range names {
		if seen[n] {
			continue
		}
		seen[n] = true
		p := prop{markup: elem(n, "")}
		if cond, ok := failed[n]; ok {
			ps := byCond[cond]
			if ps == nil {
				ps = &propstat{status: http.StatusForbidden, cond: cond}
				byCond[cond] = ps
				out = append(out, ps)
			}
			ps.props = append(ps.props, p)
			continue
		}
		if dependent == nil {
			dependent = &propstat{status: http.StatusFailedDependency}
		}
		dependent.props = append(dependent.props, p)
	}
	if dependent != nil {
		out = append(out, dependent)
	}
	return out
}
