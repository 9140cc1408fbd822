// Package selfservice serves an account holder's own rights next to DAV,
// as plain JSON endpoints under /account/, authenticated with the user's
// own Basic credentials: export everything, erase the account, change the
// password, and create, list and revoke app passwords. It also restores an
// export (or a single .ics or .vcf file) into an account.
package selfservice

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/coffer-dav/coffer/auth"
	"github.com/coffer-dav/coffer/dav"
	"github.com/coffer-dav/coffer/encryption"
	"github.com/coffer-dav/coffer/storage"
)

// Store is what the endpoints need of the database; *storage.DB implements it.
type Store interface {
	// AccountByUsername returns the account record, or storage.ErrNotFound.
	AccountByUsername(ctx context.Context, username string) (*storage.Account, error)
	// Space opens one account's data with its keys.
	Space(account int64, keys *encryption.Keyring) storage.Space
	// DeleteAccount deletes the key slots, then the rows, then checkpoints.
	DeleteAccount(ctx context.Context, account int64) error
}

// EventRecorder records an account event in the user's notification
// history; (*account.Lifecycle).Record implements it. The kinds used here
// are the Event constants; detail never holds a secret.
type EventRecorder interface {
	Record(ctx context.Context, accountID int64, kind, detail string) error
}

// HistoryReader reads an account's notification history for the export,
// oldest first, as a JSON-encodable list; the lifecycle implements it.
type HistoryReader interface {
	History(ctx context.Context, accountID int64) (any, error)
}

// Options configures New.
type Options struct {
	Auth    *auth.Service // verifies the Basic credentials; required
	Store   Store         // required
	Events  EventRecorder // nil: events are not recorded
	History HistoryReader // nil: the export holds an empty history
	Logger  *slog.Logger  // nil: slog.Default()
	Now     func() time.Time
}

// Handler serves the /account/ endpoints.
type Handler struct {
	o Options
}

// Event kinds this package records.
const (
	EventPasswordChanged    = "password_changed"
	EventAppPasswordCreated = "app_password_created" // no detail: the label stays sealed
	EventAppPasswordRevoked = "app_password_revoked" // no detail: the label stays sealed
)

// Prefix is where the handler is mounted.
const Prefix = "/account/"

// New returns the handler for the /account/ endpoints.
func New(o Options) *Handler {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Handler{o: o}
}

// ServeHTTP routes a request under /account/.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	rest, ok := strings.CutPrefix(r.URL.Path, Prefix)
	if !ok {
		writeError(w, errNotFound)
		return
	}
	type endpoint = func(http.ResponseWriter, *http.Request, *auth.Identity) error
	var allow string
	var serve endpoint
	on := func(method string, fn endpoint) {
		if r.Method == method {
			serve = fn
		}
	}
	switch {
	case rest == "export":
		allow = "GET"
		on(http.MethodGet, h.export)
	case rest == "erase":
		allow = "POST"
		on(http.MethodPost, h.erase)
	case rest == "password":
		allow = "POST"
		on(http.MethodPost, h.changePassword)
	case rest == "app-passwords":
		allow = "GET, POST"
		on(http.MethodGet, h.listAppPasswords)
		on(http.MethodPost, h.createAppPassword)
	case strings.HasPrefix(rest, "app-passwords/") && !strings.Contains(rest[len("app-passwords/"):], "/"):
		allow = "DELETE"
		id := rest[len("app-passwords/"):]
		on(http.MethodDelete, func(w http.ResponseWriter, r *http.Request, who *auth.Identity) error {
			return h.revokeAppPassword(w, r, who, id)
		})
	default:
		writeError(w, errNotFound)
		return
	}
	if serve == nil {
		w.Header().Set("Allow", allow)
		writeError(w, &apiError{Status: http.StatusMethodNotAllowed, Message: "use " + allow + " here"})
		return
	}
	if dav.CrossSite(r) {
		writeError(w, errCrossSite) // before any login: a browser's cached credentials do nothing
		return
	}
	who, err := h.login(r)
	if err == nil {
		err = serve(w, r, who)
	}
	if err != nil {
		h.fail(w, r, err)
	}
}
