package dav

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"sort"
	"sync"
	"time"

	"github.com/coffer-dav/coffer/storage"
)

// memObject is one stored object of memSpace.
type memObject struct {
	obj storage.Object
	uid string
}

// memCollection is one collection of memSpace.
type memCollection struct {
	c       storage.Collection
	objects map[string]*memObject
	changes map[string]storage.Change // latest change per name, tombstones included
}

// memSpace is an in-memory storage.Space faithful to the interface docs:
// revisions rise with every change, the change log keeps the latest change
// per name, UIDs are unique per collection and preconditions are atomic.
type memSpace struct {
	mu     sync.Mutex
	nextID int64
	colls  []*memCollection
	now    func() time.Time
	fail   error // when set, every call fails with it
}

func newMemSpace() *memSpace {
	return &memSpace{nextID: 1, now: func() time.Time { return time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC) }}
}

func cloneProps(p storage.Props) storage.Props {
	out := storage.Props{}
	for k, v := range p {
		out[k] = append([]byte(nil), v...)
	}
	return out
}

func (m *memSpace) find(id int64) *memCollection {
	for _, c := range m.colls {
		if c.c.ID == id {
			return c
		}
	}
	return nil
}

func (m *memSpace) snapshot(c *memCollection) *storage.Collection {
	out := c.c
	out.Props = cloneProps(c.c.Props)
	return &out
}

func (m *memSpace) Collections(ctx context.Context, home storage.Home) ([]storage.Collection, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return nil, m.fail
	}
	var out []storage.Collection
	for _, c := range m.colls {
		if c.c.Home == home {
			out = append(out, *m.snapshot(c))
		}
	}
	return out, nil
}

func (m *memSpace) Collection(ctx context.Context, home storage.Home, name string) (*storage.Collection, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return nil, m.fail
	}
	for _, c := range m.colls {
		if c.c.Home == home && c.c.Name == name {
			return m.snapshot(c), nil
		}
	}
	return nil, storage.ErrNotFound
}

func (m *memSpace) CreateCollection(ctx context.Context, nc storage.NewCollection) (*storage.Collection, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return nil, m.fail
	}
	for _, c := range m.colls {
		if c.c.Home == nc.Home && c.c.Name == nc.Name {
			return nil, storage.ErrExists
		}
	}
	c := &memCollection{
		c: storage.Collection{ID: m.nextID, Home: nc.Home, Name: nc.Name, Kind: nc.Kind,
			Props: cloneProps(nc.Props), Created: m.now()},
		objects: map[string]*memObject{},
		changes: map[string]storage.Change{},
	}
	m.nextID++
	m.colls = append(m.colls, c)
	return m.snapshot(c), nil
}

func (m *memSpace) PatchCollection(ctx context.Context, id int64, set storage.Props, remove []string) (*storage.Collection, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return nil, m.fail
	}
	c := m.find(id)
	if c == nil {
		return nil, storage.ErrNotFound
	}
	for k, v := range set {
		c.c.Props[k] = append([]byte(nil), v...)
	}
	for _, k := range remove {
		delete(c.c.Props, k)
	}
	c.c.Revision++
	return m.snapshot(c), nil
}

func (m *memSpace) DeleteCollection(ctx context.Context, id int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return m.fail
	}
	for i, c := range m.colls {
		if c.c.ID == id {
			m.colls = append(m.colls[:i], m.colls[i+1:]...)
			return nil
		}
	}
	return storage.ErrNotFound
}

func (m *memSpace) Objects(ctx context.Context, id int64) ([]storage.Object, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return nil, m.fail
	}
	c := m.find(id)
	if c == nil {
		return nil, storage.ErrNotFound
	}
	var out []storage.Object
	for _, o := range c.objects {
		ob := o.obj
		ob.Body = nil
		out = append(out, ob)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func (m *memSpace) Object(ctx context.Context, id int64, name string, withBody bool) (*storage.Object, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return nil, m.fail
	}
	c := m.find(id)
	if c == nil {
		return nil, storage.ErrNotFound
	}
	o, ok := c.objects[name]
	if !ok {
		return nil, storage.ErrNotFound
	}
	ob := o.obj
	if withBody {
		ob.Body = append([]byte(nil), o.obj.Body...)
	} else {
		ob.Body = nil
	}
	return &ob, nil
}

func (m *memSpace) PutObject(ctx context.Context, id int64, p storage.PutOptions) (*storage.PutResult, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return nil, m.fail
	}
	c := m.find(id)
	if c == nil {
		return nil, storage.ErrNotFound
	}
	cur, exists := c.objects[p.Name]
	switch {
	case p.IfNoneMatch && exists:
		return nil, storage.ErrPrecondition
	case p.IfMatch == "*" && !exists:
		return nil, storage.ErrPrecondition
	case p.IfMatch != "" && p.IfMatch != "*" && (!exists || cur.obj.ETag != p.IfMatch):
		return nil, storage.ErrPrecondition
	}
	if p.UID != "" {
		for name, o := range c.objects {
			if name != p.Name && o.uid == p.UID {
				return nil, &storage.UIDConflict{Name: name}
			}
		}
	}
	sum := sha256.Sum256(p.Body)
	c.c.Revision++
	o := &memObject{uid: p.UID, obj: storage.Object{
		Name: p.Name, ETag: hex.EncodeToString(sum[:16]), ContentType: p.ContentType,
		Size: int64(len(p.Body)), Modified: m.now(), Revision: c.c.Revision, Body: append([]byte(nil), p.Body...),
	}}
	c.objects[p.Name] = o
	c.changes[p.Name] = storage.Change{Name: p.Name, Revision: c.c.Revision, ETag: o.obj.ETag}
	res := o.obj
	res.Body = nil
	return &storage.PutResult{Object: res, Created: !exists}, nil
}

func (m *memSpace) DeleteObject(ctx context.Context, id int64, name string, o storage.DeleteOptions) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return m.fail
	}
	c := m.find(id)
	if c == nil {
		return storage.ErrNotFound
	}
	cur, ok := c.objects[name]
	if !ok {
		return storage.ErrNotFound
	}
	if o.IfMatch != "" && o.IfMatch != "*" && o.IfMatch != cur.obj.ETag {
		return storage.ErrPrecondition
	}
	delete(c.objects, name)
	c.c.Revision++
	c.changes[name] = storage.Change{Name: name, Revision: c.c.Revision, Deleted: true}
	return nil
}

func (m *memSpace) Changes(ctx context.Context, id int64, since int64) ([]storage.Change, int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return nil, 0, m.fail
	}
	c := m.find(id)
	if c == nil {
		return nil, 0, storage.ErrNotFound
	}
	if since < 0 || since > c.c.Revision {
		return nil, 0, storage.ErrBadRevision
	}
	var out []storage.Change
	for _, ch := range c.changes {
		if ch.Revision > since {
			out = append(out, ch)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Revision < out[j].Revision })
	return out, c.c.Revision, nil
}

var _ storage.Space = (*memSpace)(nil)
