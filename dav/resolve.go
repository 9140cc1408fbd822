package dav

import (
	"errors"
	"iter"
	"strings"

	"github.com/coffer-dav/coffer/storage"
)

// resource is a resolved request target: its path and what storage holds
// for it.
type resource struct {
	path  resourcePath
	coll  *storage.Collection // the collection, or the one holding the object
	obj   *storage.Object
	props storage.Props // dead properties of a principal or home
}

// settle decides, against storage, what a slash-less path "<home>/a/b"
// names: the object b in collection a, or the nested plain collection
// a/b. Only plain collections hold collections, so a path into a
// calendar or address book is an object path without a second look-up.
//
// A collection path's collection is read here too, and kept for the
// request's first look-up of it (see collection): the first read of the
// request is then always that of its path, with which an engine makes the
// login's check (see storage.LoginCheck).
func (q *request) settle(p resourcePath) (resourcePath, error) {
	if p.kind == pathCollection {
		c, err := q.space.Collection(q.ctx, p.home, p.coll)
		switch {
		case err == nil:
			q.settled = c
		case !errors.Is(err, storage.ErrNotFound):
			return p, errInternal(err)
		}
		return p, nil
	}
	if p.kind != pathObject {
		return p, nil
	}
	parent, err := q.space.Collection(q.ctx, p.home, p.coll)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return p, nil
	case err != nil:
		return p, errInternal(err)
	case parent.Kind != storage.KindPlain:
		q.settled = parent
		return p, nil
	}
	c := p.asCollection()
	_, err = q.space.Collection(q.ctx, c.home, c.coll)
	switch {
	case err == nil:
		return c, nil
	case errors.Is(err, storage.ErrNotFound):
		return p, nil
	}
	return p, errInternal(err)
}

// collection reads a collection of the user. The first look-up of the
// collection that settle read for the request path takes that read
// instead: nothing of this request has written in between, and a write
// checks its collection again inside its own transaction.
func (q *request) collection(home storage.Home, name string) (*storage.Collection, error) {
	if c := q.settled; c != nil && c.Home == home && c.Name == name {
		q.settled = nil
		return c, nil
	}
	return q.space.Collection(q.ctx, home, name)
}

// resolve loads what the request path names; 404 when it does not exist.
func (q *request) resolve() (*resource, error) {
	return q.resolvePath(q.path)
}

// resolvePath loads what a settled path names; 404 when it does not exist.
func (q *request) resolvePath(p resourcePath) (*resource, error) {
	res := &resource{path: p}
	switch p.kind {
	case pathPrincipal:
		return res, q.loadProps(res, storage.ScopePrincipal)
	case pathHome:
		return res, q.loadProps(res, storage.Scope(p.home))
	case pathCollection, pathObject:
		c, err := q.collection(p.home, p.coll)
		if err != nil {
			return nil, storageErr(err)
		}
		res.coll = c
		if p.kind == pathObject {
			o, err := q.space.Object(q.ctx, c.ID, p.name, storage.ReadOptions{})
			if err != nil {
				return nil, storageErr(err)
			}
			res.obj = o
		}
	}
	return res, nil
}

// loadProps reads the dead properties of the principal or a home.
func (q *request) loadProps(res *resource, scope storage.Scope) error {
	props, err := q.space.Props(q.ctx, scope)
	if err != nil {
		return errInternal(err)
	}
	res.props = props
	return nil
}

// deadProps returns the stored properties of a resource.
func (res *resource) deadProps() storage.Props {
	switch {
	case res.obj != nil:
		return res.obj.Props
	case res.coll != nil:
		return res.coll.Props
	}
	return res.props
}

// collectionResource builds the resource for a listed collection.
func (q *request) collectionResource(c storage.Collection) *resource {
	return &resource{
		path: resourcePath{kind: pathCollection, user: q.acct.Username, home: c.Home, coll: c.Name, trailing: true},
		coll: &c,
	}
}

// objectResource builds the resource for a listed object.
func objectResource(parent *resource, o storage.Object) *resource {
	p := parent.path
	p.kind, p.name, p.trailing = pathObject, o.Name, false
	return &resource{path: p, coll: parent.coll, obj: &o}
}

// topLevel yields the indexes of the collections of a home's list that
// are its members: those not nested in another.
func topLevel(cs []storage.Collection) iter.Seq[int] {
	return func(yield func(int) bool) {
		for i := range cs {
			if !strings.Contains(cs[i].Name, "/") && !yield(i) {
				return
			}
		}
	}
}

// members lists the children of a collection-like resource: a home's
// top-level collections; a collection's objects and, for plain
// collections, the collections directly inside it.
func (q *request) members(res *resource) ([]*resource, error) {
	var out []*resource
	switch res.path.kind {
	case pathPrincipals:
		out = append(out, &resource{path: resourcePath{kind: pathPrincipal, user: q.acct.Username, trailing: true}})
	case pathHome:
		cs, err := q.space.Collections(q.ctx, res.path.home)
		if err != nil {
			return nil, errInternal(err)
		}
		for i := range topLevel(cs) {
			out = append(out, q.collectionResource(cs[i]))
		}
	case pathCollection:
		objs, err := q.space.Objects(q.ctx, res.coll.ID)
		if err != nil {
			return nil, errInternal(err)
		}
		for _, o := range objs {
			out = append(out, objectResource(res, o))
		}
		if res.coll.Kind != storage.KindPlain {
			break
		}
		cs, err := q.space.Collections(q.ctx, res.path.home)
		if err != nil {
			return nil, errInternal(err)
		}
		for _, c := range cs {
			if parentColl(c.Name) == res.coll.Name {
				out = append(out, q.collectionResource(c))
			}
		}
	}
	return out, nil
}
