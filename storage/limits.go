package storage

import (
	"context"
	"errors"
	"strconv"
)

// Counts is what a user and one collection hold, as Limits count them.
type Counts struct {
	Collections int64 // the user's collections, in both homes
	Objects     int64 // objects in the collection asked for
	Bytes       int64 // what those objects and the collection's properties count for (Object.Charge, Props.Size)
}

// Limits are the caps a write must meet. They travel in the write's
// options and the engine checks them inside the writing transaction, so
// concurrent writes cannot overshoot them. A value of 0 or less is no
// limit. What a write replaces or removes is credited, and a write that
// does not grow what a cap counts is always allowed: a resource or an
// account over a lowered cap can still shrink.
type Limits struct {
	QuotaBytes     int64 // the user's bytes: bodies, names and properties (Space.Usage)
	MaxObjects     int64 // objects in one collection
	MaxCollections int64 // collections of one user, in both homes
	MaxPropsBytes  int64 // the stored properties (names and values) of one resource
}

// Limit names one of the caps of Limits.
type Limit int

// The caps of Limits, as a LimitError names them.
const (
	LimitQuota         Limit = iota + 1 // Limits.QuotaBytes
	LimitObjects                        // Limits.MaxObjects
	LimitCollections                    // Limits.MaxCollections
	LimitProps                          // Limits.MaxPropsBytes
	LimitSubscriptions                  // NewSubscription.Max
)

// LimitError reports a write refused because it would exceed one of its
// Limits; the write changed nothing. It matches ErrLimit.
type LimitError struct {
	Limit Limit
	Max   int64 // the cap, from Limits
}

// ErrLimit is what every *LimitError matches with errors.Is.
var ErrLimit = errors.New("storage: a limit would be exceeded")

// Error names the cap.
func (e *LimitError) Error() string {
	what := map[Limit]string{LimitQuota: "quota of", LimitObjects: "objects per collection:", LimitCollections: "collections:", LimitProps: "property bytes per resource:", LimitSubscriptions: "push subscriptions per collection:"}[e.Limit]
	return "storage: the write would exceed the " + what + " " + strconv.FormatInt(e.Max, 10)
}

// Is makes a LimitError match ErrLimit.
func (e *LimitError) Is(target error) bool { return target == ErrLimit }

// Counts returns the number of the user's collections, and the number and
// size of the objects in collection; a collection of 0, or one that is
// not the user's, counts no objects.
func (s *sealedSpace) Counts(ctx context.Context, collection int64) (Counts, error) {
	return s.sp.eng.Reader().Counts(ctx, s.user, collection)
}

// collectionCount returns the number of the user's collections as r sees them.
func (s *sealedSpace) collectionCount(ctx context.Context, r RowReader) (int64, error) {
	c, err := r.Counts(ctx, s.user, 0)
	return c.Collections, err
}

// checkQuota refuses a write that grows the user's bytes by delta when
// that takes them beyond the quota. pending is the part of delta not yet
// written in r: delta before the write, 0 after it.
func (s *sealedSpace) checkQuota(ctx context.Context, r RowReader, l Limits, delta, pending int64) error {
	return quotaCheck(l, delta, pending, func() (int64, error) { return r.Usage(ctx, s.user) })
}

// quotaCheck is checkQuota with the user's bytes from usage, asked for
// only when the quota counts.
func quotaCheck(l Limits, delta, pending int64, usage func() (int64, error)) error {
	if l.QuotaBytes <= 0 || delta <= 0 {
		return nil
	}
	used, err := usage()
	if err != nil {
		return err
	}
	if used+pending > l.QuotaBytes {
		return &LimitError{Limit: LimitQuota, Max: l.QuotaBytes}
	}
	return nil
}

// objectsCheck refuses a new object in a collection that holds as many as
// it may (replacing one is always allowed), with the collection's counts
// from counts, asked for only when the cap counts.
func objectsCheck(l Limits, counts func() (Counts, error)) error {
	if l.MaxObjects <= 0 {
		return nil
	}
	c, err := counts()
	if err != nil {
		return err
	}
	if c.Objects >= l.MaxObjects {
		return &LimitError{Limit: LimitObjects, Max: l.MaxObjects}
	}
	return nil
}

// checkCollections refuses taking the user's collections from before to
// after beyond the cap; fewer or as many are always allowed.
func checkCollections(l Limits, before, after int64) error {
	if l.MaxCollections <= 0 || after <= before || after <= l.MaxCollections {
		return nil
	}
	return &LimitError{Limit: LimitCollections, Max: l.MaxCollections}
}

// checkProps refuses growing a resource's properties from before to
// after bytes beyond the cap; shrinking is always allowed.
func checkProps(l Limits, before, after int64) error {
	if l.MaxPropsBytes <= 0 || after <= before || after <= l.MaxPropsBytes {
		return nil
	}
	return &LimitError{Limit: LimitProps, Max: l.MaxPropsBytes}
}
