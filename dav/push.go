package dav

import (
	"context"
	"encoding/xml"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/coffer-dav/coffer/storage"
)

// PushOptions configures WebDAV-Push (draft-bitfire-webdav-push-00). Push
// is off unless Enabled is set and Topics and Registry are given.
type PushOptions struct {
	Enabled bool
	// VAPIDPublicKey is the server's VAPID key (RFC 8292 section 3.2): the
	// uncompressed P-256 point, base64url without padding, advertised as
	// vapid-public-key type="p256ecdsa" (draft section 7.2). DAVx5 registers
	// only where one is advertised.
	VAPIDPublicKey string
	Topics         PushTopics   // the topic of each resource; required
	Registry       PushRegistry // where subscriptions are kept; required
	// MaxExpiry caps the lifetime granted to a registration; default 7
	// days. The draft (section 3.4) obliges at least 3 days, so a smaller
	// cap is raised to that.
	MaxExpiry time.Duration
	// AllowLoopback lets push resources be http or https URLs on
	// 127.0.0.0/8 and ::1, for tests with a local push service only.
	AllowLoopback bool
	Now           func() time.Time // the clock; default time.Now
}

// PushTargetKind says what a push subscription watches.
type PushTargetKind int

// The resources that support WebDAV-Push (draft section 5.2).
const (
	PushPrincipal  PushTargetKind = iota + 1 // the user's principal: property updates
	PushHome                                 // a calendar or address-book home: content updates
	PushCollection                           // a calendar or address book: both
)

// PushTarget names a resource of the requesting user that subscriptions
// can watch.
type PushTarget struct {
	Kind       PushTargetKind
	Home       storage.Home // the home, for PushHome and PushCollection
	Collection int64        // the collection's storage ID, for PushCollection
}

// PushSubscription is one registered Web Push subscription (draft
// section 7.1). Its resource and keys are user data: never logged.
type PushSubscription struct {
	ID             string    // the registration's id, chosen by the registry
	PushResource   string    // the RFC 8030 push resource URL; the subscription's identity
	PublicKey      []byte    // the user agent's P-256 key, 65 bytes uncompressed (RFC 8291 section 3.1)
	AuthSecret     []byte    // the 16-byte authentication secret (RFC 8291 section 3.2)
	ContentUpdate  bool      // push on member changes, sync-level 1 (draft section 3.1.1)
	PropertyUpdate bool      // push on property changes, depth 0 (draft section 3.1.2)
	Expires        time.Time // when the registration lapses, whole seconds
}

// PushTopics gives each push target its topic (draft section 2.1): opaque,
// stable for the target's life, unique on the server, and telling nothing
// about the user or the collection's name.
type PushTopics interface {
	// Topic returns the topic of t in space.
	Topic(ctx context.Context, space storage.Space, t PushTarget) (string, error)
}

// PushRegistry keeps the push subscriptions of each user's resources
// (draft section 3). Every call works within the requesting user's space,
// so an id of another user is unknown.
type PushRegistry interface {
	// Register stores s on t. When t already has a subscription with the
	// same PushResource, that one takes s's keys, triggers and expiry, and
	// its id is returned with updated set (draft section 3.2).
	Register(ctx context.Context, space storage.Space, t PushTarget, s PushSubscription) (id string, updated bool, err error)
	// Unregister removes a registration; storage.ErrNotFound when the id
	// is unknown or expired (draft section 3.3).
	Unregister(ctx context.Context, space storage.Space, id string) error
	// List returns the unexpired subscriptions of t.
	List(ctx context.Context, space storage.Space, t PushTarget) ([]PushSubscription, error)
}

// pushConfig is the handler's push state; the zero value is push off.
type pushConfig struct {
	enabled   bool
	vapid     string
	topics    PushTopics
	registry  PushRegistry
	maxExpiry time.Duration
	policy    pushPolicy
	now       func() time.Time
}

// Lifetimes of a registration (draft section 3.4).
const (
	minPushExpiry     = 72 * time.Hour     // "MUST allow ... at least three days"
	defaultPushExpiry = 7 * 24 * time.Hour // the default cap
	// pushPrefix holds the registration URLs: pushPrefix + id.
	pushPrefix = davPrefix + "push/"
	maxPushID  = 64
)

// newPushConfig checks PushOptions.
func newPushConfig(o PushOptions) pushConfig {
	if !o.Enabled || o.Topics == nil || o.Registry == nil {
		return pushConfig{}
	}
	pc := pushConfig{
		enabled: true, vapid: o.VAPIDPublicKey, topics: o.Topics, registry: o.Registry,
		maxExpiry: o.MaxExpiry, policy: pushPolicy{allowLoopback: o.AllowLoopback}, now: o.Now,
	}
	if pc.maxExpiry <= 0 {
		pc.maxExpiry = defaultPushExpiry
	}
	pc.maxExpiry = max(pc.maxExpiry, minPushExpiry)
	if pc.now == nil {
		pc.now = time.Now
	}
	return pc
}

// pushTargetOf returns what a resource is as a push target: the
// principal, a home, or a calendar or address book (task lists are
// calendars). Plain collections and objects are none.
func pushTargetOf(res *resource) (PushTarget, bool) {
	p := res.path
	switch p.kind {
	case pathPrincipal:
		return PushTarget{Kind: PushPrincipal}, true
	case pathHome:
		return PushTarget{Kind: PushHome, Home: p.home}, true
	case pathCollection:
		if res.coll != nil && (res.coll.Kind == storage.KindCalendar || res.coll.Kind == storage.KindAddressBook) {
			return PushTarget{Kind: PushCollection, Home: p.home, Collection: res.coll.ID}, true
		}
	}
	return PushTarget{}, false
}

// triggers returns which triggers a target supports (draft section 5.2):
// content updates at sync-level 1 on homes and collections, property
// updates at depth 0 on collections and the principal.
func (t PushTarget) triggers() (content, property bool) {
	return t.Kind != PushPrincipal, t.Kind != PushHome
}

// davHeader returns the DAV header for a resource: webdav-push is added
// where push works (draft section 2).
func (h *handler) davHeader(res *resource) string {
	if _, ok := pushTargetOf(res); ok && h.push.enabled {
		return davHeader + ", webdav-push"
	}
	return davHeader
}

// allowHeader returns the Allow header for a resource: POST is added
// where a push-register is accepted.
func (h *handler) allowHeader(res *resource) string {
	if _, ok := pushTargetOf(res); ok && h.push.enabled {
		return allowHeader + ", POST"
	}
	return allowHeader
}

// pushProp renders the WebDAV-Push properties of draft section 2.1; ok is
// false where push is off or the resource is no push target (a 404
// propstat). A failing topic look-up leaves the topic out, so that a
// client sees no push rather than a broken listing.
func (q *request) pushProp(res *resource, name xml.Name) (string, bool) {
	pc := &q.h.push
	t, ok := pushTargetOf(res)
	if !pc.enabled || !ok {
		return "", false
	}
	switch name {
	case pnPushTransports:
		inner := "<web-push/>"
		if pc.vapid != "" {
			inner = `<web-push><vapid-public-key type="p256ecdsa">` + escapeString(pc.vapid) + "</vapid-public-key></web-push>"
		}
		return elem(name, inner), true
	case pnPushTopic:
		topic, err := pc.topics.Topic(q.ctx, q.space, t)
		if err != nil || topic == "" {
			return "", false
		}
		return textElem(name, topic), true
	case pnSupportedTrigger:
		var b strings.Builder
		content, property := t.triggers()
		if content {
			b.WriteString("<content-update><D:sync-level>1</D:sync-level></content-update>")
		}
		if property {
			b.WriteString("<property-update><D:depth>0</D:depth></property-update>")
		}
		return elem(name, b.String()), true
	}
	return "", false
}

// post answers POST: a push-register (draft section 3.1) on a push target.
// With push off, a push-register gets push-not-available and any other
// POST the 405 it got before push existed.
func (q *request) post() error {
	pc := &q.h.push
	body, err := q.readXML(maxPushBody)
	isRegister := err == nil && body != nil && body.is(nsPush, "push-register")
	switch {
	case !pc.enabled && isRegister:
		return errCond(http.StatusForbidden, condPushNotAvailable, "push is not enabled on this server")
	case !pc.enabled:
		return errStatus(http.StatusMethodNotAllowed, "the method is not supported here")
	case err != nil:
		return err
	case !isRegister:
		return errStatus(http.StatusBadRequest, "expected a push-register body")
	}
	res, err := q.resolve()
	if err != nil {
		return err
	}
	t, ok := pushTargetOf(res)
	if !ok {
		return errCond(http.StatusForbidden, condPushNotAvailable, "push is not available for this resource")
	}
	reg, err := parsePushRegister(body, pc.policy)
	if err != nil {
		return err
	}
	sub, err := pc.subscription(t, reg)
	if err != nil {
		return err
	}
	id, updated, err := pc.registry.Register(q.ctx, q.space, t, sub)
	if err != nil {
		return storageErr(err)
	}
	h := q.w.Header()
	h.Set("Location", q.h.absoluteURL(q.r, pushPrefix+id))
	h.Set("Expires", sub.Expires.Format(http.TimeFormat))
	if updated {
		q.w.WriteHeader(http.StatusNoContent)
		return nil
	}
	h.Set("Content-Length", "0")
	q.w.WriteHeader(http.StatusCreated)
	return nil
}

// subscription builds what is registered: the triggers the target
// supports among those asked, and the expiry granted.
func (pc *pushConfig) subscription(t PushTarget, reg *pushRegister) (PushSubscription, error) {
	content, property := t.triggers()
	if reg.hasTrigger {
		content, property = content && reg.content, property && reg.property
		if !content && !property {
			return PushSubscription{}, errCond(http.StatusForbidden, condNoSupportedTrigger, "none of the requested triggers is supported here")
		}
	}
	// Without a trigger element (DAVx5 sends none, PushRegistrationManager
	// in davx5-ose) every trigger the target supports is granted: the
	// draft would answer no-supported-trigger, and DAVx5 would never hear
	// of a change.
	now := pc.now().UTC().Truncate(time.Second)
	expires := now.Add(pc.maxExpiry)
	if reg.expires != nil {
		// Asked less than the draft's minimum: the minimum; more than the
		// cap: the cap.
		asked := reg.expires.UTC().Truncate(time.Second)
		if floor := now.Add(minPushExpiry); asked.Before(floor) {
			asked = floor
		}
		if asked.Before(expires) {
			expires = asked
		}
	}
	return PushSubscription{
		PushResource: reg.resource, PublicKey: reg.publicKey, AuthSecret: reg.authSecret,
		ContentUpdate: content, PropertyUpdate: property, Expires: expires,
	}, nil
}

// absoluteURL makes an absolute URL of a server path (DAVx5 parses the
// Location of a registration as an absolute URL, or never unregisters):
// under the public URL when set, else the request's own scheme and host.
func (h *handler) absoluteURL(r *http.Request, path string) string {
	if base := strings.TrimSuffix(h.davRoot, davPrefix); base != "" {
		return base + path
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + path
}

// serveRegistration answers requests to a registration URL: DELETE ends
// it (draft section 3.3), for its owner only.
func (h *handler) serveRegistration(w http.ResponseWriter, r *http.Request, acct *Account, id string) error {
	if !h.push.enabled || !validPushID(id) {
		return errStatus(http.StatusNotFound, "no such registration")
	}
	if r.Method != http.MethodDelete {
		return errStatus(http.StatusMethodNotAllowed, "a registration can only be deleted")
	}
	err := h.push.registry.Unregister(r.Context(), acct.Space, id)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return errStatus(http.StatusNotFound, "no such registration")
	case err != nil:
		return errInternal(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// validPushID reports whether s can be a registration id: a short
// base64url word.
func validPushID(s string) bool {
	if s == "" || len(s) > maxPushID {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// PushDontNotify returns the registrations a request's Push-Dont-Notify
// headers name: the ids of the registration URLs listed (quoted or bare,
// comma-separated), or all when one is "*". DAVx5 sends its own
// registration URL, quoted, on PUT and DELETE, so that the device that
// made a change is not woken by it. Values that are no registration URL
// of this server are skipped.
func PushDontNotify(h http.Header) (ids []string, all bool) {
	for _, v := range h.Values("Push-Dont-Notify") {
		for _, item := range strings.Split(v, ",") {
			item = strings.TrimSpace(item)
			if uq, ok := strings.CutPrefix(item, `"`); ok {
				item, _ = strings.CutSuffix(uq, `"`)
			}
			if item == "*" {
				return nil, true
			}
			u, err := url.Parse(item)
			if err != nil {
				continue
			}
			p := u.EscapedPath()
			i := strings.LastIndex(p, pushPrefix)
			if i < 0 {
				continue
			}
			if id := p[i+len(pushPrefix):]; validPushID(id) {
				ids = append(ids, id)
			}
		}
	}
	return ids, false
}
