package dav

import (
	"encoding/xml"
	"errors"
	"net/http"
	"strconv"

	"github.com/coffer-dav/coffer/dav/ical"
	"github.com/coffer-dav/coffer/storage"
)

// limits are the caps of one handler, from Options with defaults filled in.
type limits struct {
	xml           xmlLimits
	multigetHrefs int
	calendar      ical.Options // caps of every evaluation of client-stored data
	// store holds the quota, the two counts and the properties cap; the
	// storage engine checks them in the transaction of every write.
	store storage.Limits
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
		xml:           xmlLimits{depth: orDefault(o.MaxXMLDepth, defaultXMLDepth), elements: orDefault(o.MaxXMLElements, defaultXMLElements)},
		multigetHrefs: orDefault(o.MaxMultigetHrefs, defaultMaxMultigetHrefs),
		store: storage.Limits{
			QuotaBytes:     max(o.QuotaBytes, 0),
			MaxObjects:     countLimit(o.MaxObjects, defaultMaxObjects),
			MaxCollections: countLimit(o.MaxCollections, defaultMaxCollections),
			MaxPropsBytes:  o.MaxPropertiesSize,
		},
	}
	if l.store.MaxPropsBytes <= 0 {
		l.store.MaxPropsBytes = defaultMaxProps
	}
	n := orDefault(o.MaxInstances, defaultMaxInstances)
	l.calendar = ical.Options{MaxInstances: n, MaxSteps: n * stepsPerInstance}
	return l
}

// countLimit returns a count limit of Options as storage takes it: def
// for 0, and 0 (none) for a negative one.
func countLimit(v, def int64) int64 {
	switch {
	case v == 0:
		return def
	case v < 0:
		return 0
	}
	return v
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

// limitErr maps a write the storage engine refused for one of its limits
// to its answer: 507 Insufficient Storage with quota-not-exceeded (RFC 4331
// section 6) or the condition of the count or size; nil for any other error.
func limitErr(err error) *Error {
	var le *storage.LimitError
	if !errors.As(err, &le) {
		return nil
	}
	max := strconv.FormatInt(le.Max, 10)
	switch le.Limit {
	case storage.LimitObjects:
		return errCond(http.StatusInsufficientStorage, condMaxObjects, "a collection may hold at most "+max+" resources")
	case storage.LimitCollections:
		return errCond(http.StatusInsufficientStorage, condMaxCollections, "an account may have at most "+max+" collections")
	case storage.LimitProps:
		return errCond(http.StatusInsufficientStorage, condMaxProps, "the properties of one resource may take at most "+max+" bytes")
	case storage.LimitSubscriptions:
		// The draft names no condition for this; push-not-available is
		// what a client reads as "no push here", and it polls on.
		return errCond(http.StatusForbidden, condPushNotAvailable, "a resource may have at most "+max+" push subscriptions")
	}
	return errCond(http.StatusInsufficientStorage, condQuotaNotExceeded, "the account's storage quota is used up")
}
