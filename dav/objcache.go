package dav

import (
	"container/list"
	"sync"
	"time"

	"github.com/coffer-dav/coffer/dav/ical"
)

// parsedCache keeps recently evaluated calendar objects parsed, so that a
// query a client repeats every 15 minutes does not load, open and parse the
// same recurring series each time. An entry is keyed by the object's ETag,
// a hash of its bytes, so a changed object never matches an old entry.
// Entries unused for a while are dropped, and so are the oldest beyond the
// bound: the cache holds the data of users who are syncing, as the running
// server does anyway, and no more.
type parsedCache struct {
	mu    sync.Mutex
	max   int
	idle  time.Duration
	order *list.List // front: most recently used
	byKey map[parsedKey]*list.Element
	now   func() time.Time
}

// parsedKey names one version of one object of one user.
type parsedKey struct {
	account, collection int64
	name, etag          string
}

// parsedEntry is one cached object.
type parsedEntry struct {
	key  parsedKey
	obj  *ical.Object
	used time.Time
}

func newParsedCache(max int, idle time.Duration) *parsedCache {
	return &parsedCache{max: max, idle: idle, order: list.New(), byKey: map[parsedKey]*list.Element{}, now: time.Now}
}

// get returns the cached object for key, or nil.
func (c *parsedCache) get(key parsedKey) *ical.Object {
	if c == nil || c.max <= 0 {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	el := c.byKey[key]
	if el == nil {
		return nil
	}
	e := el.Value.(*parsedEntry)
	now := c.now()
	if now.Sub(e.used) > c.idle {
		c.order.Remove(el)
		delete(c.byKey, key)
		return nil
	}
	e.used = now
	c.order.MoveToFront(el)
	return e.obj
}

// put caches obj under key, dropping what is idle or beyond the bound.
func (c *parsedCache) put(key parsedKey, obj *ical.Object) {
	if c == nil || c.max <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if el := c.byKey[key]; el != nil {
		el.Value.(*parsedEntry).obj = obj
		c.order.MoveToFront(el)
		return
	}
	c.byKey[key] = c.order.PushFront(&parsedEntry{key: key, obj: obj, used: now})
	for c.order.Len() > 0 {
		back := c.order.Back()
		e := back.Value.(*parsedEntry)
		if c.order.Len() <= c.max && now.Sub(e.used) <= c.idle {
			break
		}
		c.order.Remove(back)
		delete(c.byKey, e.key)
	}
}
