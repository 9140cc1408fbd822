// The overview page and the notification history.

package web

import (
	"bytes"
	"encoding/xml"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/coffer-dav/coffer/account"
	"github.com/coffer-dav/coffer/storage"
)

// overviewData is the overview page's content.
type overviewData struct {
	State   string // the account's state and dates, in sentences
	Blocked string // what the state blocks; empty when nothing is
	Plan    string // the plan's name, when there is one

	Used, Quota int64  // bytes; Quota 0: no limit
	Usage       string // storage used (and the quota), in words
	Groups      []collectionGroup
	ShopURL     string    // where to buy or extend a subscription; empty: no link
	Retention   bool      // the link renews rather than extends
	Push        []pushRow // the push subscriptions: the account's and homes', then each collection's
}

// collectionGroup is the calendars, the task lists or the address books.
type collectionGroup struct {
	Title string // a message key
	Items []collectionCard
}

// collectionCard is one collection as the overview shows it.
type collectionCard struct {
	Name    string // the display name, else the collection's path
	Path    string // the collection's path under its home
	Color   string // #RRGGBB, or empty when none is set or it is not a colour
	Opacity string // the colour's alpha as a fill-opacity; empty: opaque
	Count   string // the number of objects, in words
}

// sentence is a message key with its arguments; a time.Time argument is
// written as a date of the page's language.
type sentence struct {
	key  string
	args []any
}

// historyEntry is one notification as the page shows it.
type historyEntry struct {
	At     time.Time
	Event  string // the event, in words
	Detail string
	Mail   string // whether a mail went out, in words
}

// DAV property names the overview reads from a collection's properties.
const (
	propDisplayname = "{DAV:}displayname"
	propColor       = "{http://apple.com/ns/ical/}calendar-color"
	propComponents  = "{urn:ietf:params:xml:ns:caldav}supported-calendar-component-set"
	nsCalDAV        = "urn:ietf:params:xml:ns:caldav"
)

// colorPattern is the one form of colour the page renders: #RRGGBB with
// an optional alpha, as Apple's calendar-color holds it.
var colorPattern = regexp.MustCompile(`^#[0-9A-Fa-f]{6}([0-9A-Fa-f]{2})?$`)

// eventKeys names the catalogue entry of each kind of notification; a kind
// not listed is shown as its stored name.
var eventKeys = map[account.EventKind]string{
	account.EventRegistered:            "notifications.event.registered",
	account.EventEmailConfirmed:        "notifications.event.email_confirmed",
	account.EventTrialStarted:          "notifications.event.trial_started",
	account.EventTrialEnded:            "notifications.event.trial_ended",
	account.EventSubscriptionPurchased: "notifications.event.subscription_purchased",
	account.EventSubscriptionExtended:  "notifications.event.subscription_extended",
	account.EventSubscriptionUpgraded:  "notifications.event.subscription_upgraded",
	account.EventVoucherRedeemed:       "notifications.event.voucher_redeemed",
	account.EventDisplayNameChanged:    "notifications.event.display_name_changed",
	account.EventEmailChanged:          "notifications.event.email_changed",
	account.EventPasswordChanged:       "notifications.event.password_changed",
	account.EventAppPasswordCreated:    "notifications.event.app_password_created",
	account.EventAppPasswordRevoked:    "notifications.event.app_password_revoked",
	account.EventSubscriptionExpiring:  "notifications.event.subscription_expiring",
	account.EventRetentionStarted:      "notifications.event.retention_started",
	account.EventDeletionScheduled:     "notifications.event.deletion_scheduled",
}

// mailKeys names the catalogue entry of each mail delivery state.
var mailKeys = map[string]string{
	"":        "notifications.mail.none",
	"none":    "notifications.mail.none",
	"queued":  "notifications.mail.queued",
	"sending": "notifications.mail.queued",
	"sent":    "notifications.mail.sent",
	"failed":  "notifications.mail.failed",
}

// overview shows the account at a glance: its state and dates, storage,
// collections, push subscriptions and the shop link. It reads no object
// body.
func (h *Handler) overview(q *req) {
	h.overviewPage(q, http.StatusOK, done(q))
}

// overviewPage renders the overview with a notice or error.
func (h *Handler) overviewPage(q *req, status int, msg string) {
	ctx := q.r.Context()
	id := q.s.Identity
	v, err := h.o.Life.View(ctx, id.AccountID, false)
	if err != nil {
		h.fail(q, "overview: account not read", err)
		return
	}
	space := h.o.Store.Space(id.AccountID, id.Keys)
	used, err := space.Usage(ctx)
	if err != nil {
		h.fail(q, "overview: usage not read", err)
		return
	}
	d := overviewData{Plan: v.Plan, Used: used, Quota: max(h.o.QuotaBytes, 0), ShopURL: h.o.Operator.ShopURL,
		Retention: v.State == account.StateRetention}
	d.State = q.lang.say(stateSentences(v)...)
	d.Blocked = q.lang.say(blockedSentences(v)...)
	if d.Quota > 0 {
		d.Usage = q.lang.T("overview.usage.quota", q.lang.Bytes(used), q.lang.Bytes(d.Quota))
	} else {
		d.Usage = q.lang.T("overview.usage.none", q.lang.Bytes(used))
	}
	if d.Push, err = h.scopePushRows(ctx, q, space); err != nil {
		h.fail(q, "overview: push subscriptions not read", err)
		return
	}
	groups := map[string]*collectionGroup{
		"calendar": {Title: "overview.calendars"}, "tasks": {Title: "overview.tasklists"}, "addressbook": {Title: "overview.addressbooks"},
	}
	for _, home := range []storage.Home{storage.HomeCalendars, storage.HomeAddressBooks} {
		colls, err := space.Collections(ctx, home)
		if err != nil {
			h.fail(q, "overview: collections not read", err)
			return
		}
		for _, c := range colls {
			where := propText(c.Props[propDisplayname])
			if where == "" {
				where = c.Name
			}
			push, err := h.pushRows(ctx, q, space, storage.PushTarget{Collection: c.ID}, where)
			if err != nil {
				h.fail(q, "overview: push subscriptions not read", err)
				return
			}
			d.Push = append(d.Push, push...)
			kind, noun := collectionKind(c)
			if kind == "" {
				continue // a plain WebDAV collection: calendar clients do not show it either
			}
			n, err := space.Counts(ctx, c.ID)
			if err != nil {
				h.fail(q, "overview: counts not read", err)
				return
			}
			card := collectionCard{Name: where, Path: c.Name, Count: q.lang.count(noun, n.Objects)}
			if kind != "addressbook" {
				card.Color, card.Opacity = swatch(propText(c.Props[propColor]))
			}
			groups[kind].Items = append(groups[kind].Items, card)
		}
	}
	d.Groups = []collectionGroup{*groups["calendar"], *groups["tasks"], *groups["addressbook"]}
	h.render(q, status, "overview.html", msg, d)
}

// notifications shows the account's history, newest first.
func (h *Handler) notifications(q *req) {
	evs, err := h.o.Life.History(q.r.Context(), q.s.Identity.AccountID)
	if err != nil {
		h.fail(q, "notifications not read", err)
		return
	}
	h.render(q, http.StatusOK, "notifications.html", done(q), q.lang.history(evs))
}

// history turns the stored history (oldest first) into the page's entries,
// newest first; entries of one instant keep their stored order reversed.
func (l *lang) history(evs []account.Event) []historyEntry {
	out := make([]historyEntry, 0, len(evs))
	for _, e := range slices.Backward(evs) {
		out = append(out, historyEntry{At: e.At, Event: l.eventName(e.Kind), Detail: e.Detail, Mail: l.mailState(e.Mail)})
	}
	slices.SortStableFunc(out, func(a, b historyEntry) int { return b.At.Compare(a.At) })
	return out
}

// eventName writes a kind of notification in words; an unknown kind is
// shown readably as its stored name.
func (l *lang) eventName(k account.EventKind) string {
	if key, ok := eventKeys[k]; ok {
		return l.T(key)
	}
	s := strings.ReplaceAll(string(k), "_", " ")
	if s == "" {
		return l.T("notifications.event.unknown")
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// mailState writes a mail delivery state in words.
func (l *lang) mailState(m string) string {
	if key, ok := mailKeys[m]; ok {
		return l.T(key)
	}
	return m
}

// stateSentences says where the account stands and what its dates are.
func stateSentences(v *account.View) []sentence {
	switch {
	case v.State == account.StatePending:
		if v.DeleteAt != nil {
			return []sentence{{"overview.state.pending.deleted", []any{*v.DeleteAt}}}
		}
		return []sentence{{"overview.state.pending", nil}}
	case v.State == account.StatePurged:
		return []sentence{{"overview.state.purged", nil}}
	case v.Permanent:
		return []sentence{{"overview.state.permanent", nil}}
	case v.State == account.StateTrial && v.Expires != nil:
		return []sentence{{"overview.state.trial", []any{*v.Expires}}}
	case v.State == account.StateActive && v.Expires != nil:
		return []sentence{{"overview.state.active", []any{*v.Expires}}}
	case v.State == account.StateRetention:
		var s []sentence
		switch {
		case v.Expires == nil:
		case v.PaidThrough != nil:
			s = append(s, sentence{"overview.state.retention.paid", []any{*v.Expires}})
		default:
			s = append(s, sentence{"overview.state.retention.trial", []any{*v.Expires}})
		}
		if v.DeleteAt != nil {
			s = append(s, sentence{"overview.state.deleteat", []any{*v.DeleteAt}})
		}
		return s
	}
	return []sentence{{"overview.state.other", nil}}
}

// blockedSentences says what the state keeps the person from doing, and
// what is still open to them.
func blockedSentences(v *account.View) []sentence {
	if v.State == account.StateRetention {
		return []sentence{{"overview.blocked.retention", nil}}
	}
	return nil
}

// say writes sentences, joined by spaces.
func (l *lang) say(ss ...sentence) string {
	parts := make([]string, 0, len(ss))
	for _, s := range ss {
		args := make([]any, len(s.args))
		for i, a := range s.args {
			if t, ok := a.(time.Time); ok {
				a = l.Date(t)
			}
			args[i] = a
		}
		parts = append(parts, l.T(s.key, args...))
	}
	return strings.Join(parts, " ")
}

// count writes a number of objects with its noun ("1 event", "3 contacts").
func (l *lang) count(noun string, n int64) string {
	if n == 1 {
		return l.T("overview.count." + noun + ".one")
	}
	return l.T("overview.count."+noun, strconv.FormatInt(n, 10))
}

// collectionKind sorts a collection for the overview: a calendar (it takes
// events), a task list (tasks and no events) or an address book, with the
// noun its objects are counted in; "" for a plain collection.
func collectionKind(c storage.Collection) (kind, noun string) {
	switch c.Kind {
	case storage.KindAddressBook:
		return "addressbook", "contacts"
	case storage.KindCalendar:
		comps := components(c.Props[propComponents])
		events, tasks := slices.Contains(comps, "VEVENT"), slices.Contains(comps, "VTODO")
		switch {
		case tasks && !events:
			return "tasks", "tasks"
		case events && len(comps) == 1:
			return "calendar", "events"
		}
		return "calendar", "entries"
	}
	return "", ""
}

// components reads a stored supported-calendar-component-set; none, or
// allcomp, means every component (as DAVx5 and the DAV layer read it).
func components(v []byte) []string {
	all := []string{"VEVENT", "VTODO", "VJOURNAL"}
	if len(v) == 0 {
		return all
	}
	var out []string
	dec := xml.NewDecoder(bytes.NewReader(v))
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		se, ok := tok.(xml.StartElement)
		if !ok || se.Name.Space != nsCalDAV {
			continue
		}
		switch se.Name.Local {
		case "allcomp":
			return all
		case "comp":
			for _, a := range se.Attr {
				if a.Name.Local == "name" {
					out = append(out, strings.ToUpper(a.Value))
				}
			}
		}
	}
	if out == nil {
		return all
	}
	return out
}

// propText returns the text of a stored property element, trimmed; ""
// when it holds none or is not XML.
func propText(v []byte) string {
	if len(v) == 0 {
		return ""
	}
	var b strings.Builder
	dec := xml.NewDecoder(bytes.NewReader(v))
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		if cd, ok := tok.(xml.CharData); ok {
			b.Write(cd)
		}
	}
	return strings.TrimSpace(b.String())
}

// swatch validates a calendar colour: #RRGGBB, or #RRGGBBAA with its alpha
// as a fill-opacity. Anything else gives no colour, so that no stored
// value reaches the page as markup or style.
func swatch(c string) (color, opacity string) {
	if !colorPattern.MatchString(c) {
		return "", ""
	}
	color = strings.ToUpper(c[:7])
	if len(c) == 9 {
		a, _ := strconv.ParseUint(c[7:], 16, 8)
		if a != 255 {
			opacity = strconv.FormatFloat(float64(a)/255, 'f', 2, 64)
		}
	}
	return color, opacity
}
