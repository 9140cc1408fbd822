package dav

import (
	"encoding/xml"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/coffer-dav/coffer/dav/ical"
	"github.com/coffer-dav/coffer/storage"
)

// limits are the caps of one handler, from Options with defaults filled in.
type limits struct {
	xml            xmlLimits
	multigetHrefs  int
	calendar       ical.Options // caps of every evaluation of client-stored data
	maxObjects     int64        // per collection; negative for none
	maxCollections int64        // per user; negative for none
	maxProps       int64        // bytes of the stored properties of one resource
}

// xmlLimits bound one XML document.
type xmlLimits struct {
	depth    int // elements open at once
	elements int // elements in all
}

// Defaults of the caps in Options.
const (
	defaultXMLDepth         = 64
	defaultXMLElements      = 20000
	defaultMaxMultigetHrefs = 1000
	defaultMaxInstances     = ical.DefaultMaxInstances
	defaultMaxObjects       = 100000
	defaultMaxCollections   = 1000
	defaultMaxProps         = 64 << 10
	// stepsPerInstance scales the expansion work budget with the instance cap.
	stepsPerInstance = ical.DefaultMaxSteps / ical.DefaultMaxInstances
)

// defaultXMLLimits apply to stored property values and wherever no handler is at hand.
var defaultXMLLimits = xmlLimits{depth: defaultXMLDepth, elements: defaultXMLElements}

// Conditions of the count limits. RFC 4791 and RFC 6352 define none for
// counts, and RFC 4331's quota-not-exceeded speaks of bytes: a client that
// got it while quota-available-bytes shows room would mislead its user. So
// they are Coffer's own, sent like the quota with 507 Insufficient Storage
// (RFC 4918 section 11.5: the server cannot store what was asked, and
// deleting something makes room), never 403, which clients read as a
// permission problem.
// The properties cap is of the same kind: RFC 4918 section 9.2.1 gives 507
// for a property the server has no room to record.
var (
	condMaxObjects     = xml.Name{Space: nsCoffer, Local: "max-resources-per-collection"}
	condMaxCollections = xml.Name{Space: nsCoffer, Local: "max-collections"}
	condMaxProps       = xml.Name{Space: nsCoffer, Local: "max-properties-size"}
)

// newLimits fills in the defaults of the caps in o.
func newLimits(o Options) limits {
	l := limits{
		xml:            xmlLimits{depth: orDefault(o.MaxXMLDepth, defaultXMLDepth), elements: orDefault(o.MaxXMLElements, defaultXMLElements)},
		multigetHrefs:  orDefault(o.MaxMultigetHrefs, defaultMaxMultigetHrefs),
		maxObjects:     o.MaxObjects,
		maxCollections: o.MaxCollections,
		maxProps:       o.MaxPropertiesSize,
	}
	if l.maxProps <= 0 {
		l.maxProps = defaultMaxProps
	}
	n := orDefault(o.MaxInstances, defaultMaxInstances)
	l.calendar = ical.Options{MaxInstances: n, MaxSteps: n * stepsPerInstance}
	if l.maxObjects == 0 {
		l.maxObjects = defaultMaxObjects
	}
	if l.maxCollections == 0 {
		l.maxCollections = defaultMaxCollections
	}
	return l
}

// orDefault returns v, or def when v is not positive.
func orDefault(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}

// checkMultiget refuses a multiget that names more resources than allowed.
func (l limits) checkMultiget(rr *reportRequest) error {
	if len(rr.hrefs) <= l.multigetHrefs {
		return nil
	}
	return errStatus(http.StatusForbidden, "a multiget may ask for at most "+strconv.Itoa(l.multigetHrefs)+" resources")
}

// checkObjectCount refuses a new object name in coll when the collection
// holds as many objects as it may; replacing an object is always allowed.
// Like the quota, it is checked before the write, not in its transaction:
// concurrent writes may overshoot it by a few.
func (q *request) checkObjectCount(coll *storage.Collection, name string) error {
	max := q.h.limits.maxObjects
	if max < 0 {
		return nil
	}
	c, err := q.space.Counts(q.ctx, coll.ID)
	if err != nil {
		return errInternal(err)
	}
	if c.Objects < max {
		return nil
	}
	if _, err := q.space.Object(q.ctx, coll.ID, name, storage.ReadOptions{}); err == nil {
		return nil
	} else if !errors.Is(err, storage.ErrNotFound) {
		return errInternal(err)
	}
	return errCond(http.StatusInsufficientStorage, condMaxObjects,
		"a collection may hold at most "+strconv.FormatInt(max, 10)+" resources")
}

// checkProps refuses properties that would grow a resource's from before
// to after bytes beyond the properties cap, or the account beyond its quota.
// What shrinks is always allowed, so a resource over a lowered cap can be
// cleaned up. Like the quota, it is checked before the write.
func (q *request) checkProps(before, after int64) error {
	if after <= before {
		return nil
	}
	if after > q.h.limits.maxProps {
		return errCond(http.StatusInsufficientStorage, condMaxProps,
			"the properties of one resource may take at most "+strconv.FormatInt(q.h.limits.maxProps, 10)+" bytes")
	}
	return q.checkRoom(after - before)
}

// checkRoom refuses adding bytes that take the account beyond its quota
// (RFC 4331 section 6: 507 with quota-not-exceeded).
func (q *request) checkRoom(bytes int64) error {
	if q.h.quota == 0 || bytes <= 0 {
		return nil
	}
	used, err := q.usedBytes()
	if err != nil {
		return errInternal(err)
	}
	if used+bytes > q.h.quota {
		return errCond(http.StatusInsufficientStorage, condQuotaNotExceeded, "the account's storage quota is used up")
	}
	return nil
}

// checkCollectionCount refuses adding collections, net of those replaced,
// beyond the user's limit.
func (q *request) checkCollectionCount(adding, replacing int) error {
	max := q.h.limits.maxCollections
	if max < 0 || adding <= replacing {
		return nil
	}
	c, err := q.space.Counts(q.ctx, 0)
	if err != nil {
		return errInternal(err)
	}
	if c.Collections+int64(adding-replacing) <= max {
		return nil
	}
	return errCond(http.StatusInsufficientStorage, condMaxCollections,
		"an account may have at most "+strconv.FormatInt(max, 10)+" collections")
}

// subtree returns the collection at home and name with the collections
// nested in it, or none when it does not exist.
func (q *request) subtree(home storage.Home, name string) ([]storage.Collection, error) {
	all, err := q.space.Collections(q.ctx, home)
	if err != nil {
		return nil, err
	}
	var out []storage.Collection
	for _, c := range all {
		if c.Name == name || strings.HasPrefix(c.Name, name+"/") {
			out = append(out, c)
		}
	}
	return out, nil
}

// treeBytes returns what the collections in cs count for: their objects and properties.
func (q *request) treeBytes(cs []storage.Collection) (int64, error) {
	var n int64
	for _, c := range cs {
		k, err := q.space.Counts(q.ctx, c.ID)
		if err != nil {
			return 0, err
		}
		n += k.Bytes
	}
	return n, nil
}
