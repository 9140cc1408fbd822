package main

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/coffer-dav/coffer/auth"
	"github.com/coffer-dav/coffer/selfservice"
	"github.com/coffer-dav/coffer/storage"
)

// erasingStore is the database, with erasure done by the lifecycle when
// there is one: it records the purge decision first, so that no renewal
// slips in, then deletes through storage.DB.DeleteAccount.
type erasingStore struct {
	storage.Database
	life interface {
		Delete(ctx context.Context, account int64) error
	}
}

// lifecycleEvents adapts a Record method whose kinds are a named string
// type, such as (*account.Lifecycle).Record, to selfservice.EventRecorder.
type lifecycleEvents[K ~string] func(ctx context.Context, account int64, kind K, detail string) error

// lifecycleHistory adapts a History method with any JSON-encodable entries,
// such as (*account.Lifecycle).History, to selfservice.HistoryReader.
type lifecycleHistory[E any] func(ctx context.Context, account int64) ([]E, error)

// DeleteAccount erases an account at once.
func (s erasingStore) DeleteAccount(ctx context.Context, account int64) error {
	if s.life == nil {
		return s.Database.DeleteAccount(ctx, account)
	}
	if err := s.life.Delete(ctx, account); err != nil {
		// The user asked for erasure: when the lifecycle cannot do it (an
		// account it holds no record of), delete directly.
		if derr := s.Database.DeleteAccount(ctx, account); derr != nil && !errors.Is(derr, storage.ErrNotFound) {
			return errors.Join(err, derr)
		}
	}
	return nil
}

// Record records an event under the recorder's own kind type.
func (f lifecycleEvents[K]) Record(ctx context.Context, account int64, kind, detail string) error {
	return f(ctx, account, K(kind), detail)
}

// History returns the history as a list for notifications.json.
func (f lifecycleHistory[E]) History(ctx context.Context, account int64) (any, error) {
	return f(ctx, account)
}

// eventsOf and historyOf infer the adapters' type parameters from a method value.
func eventsOf[K ~string](f func(context.Context, int64, K, string) error) lifecycleEvents[K] {
	return f
}

func historyOf[E any](f func(context.Context, int64) ([]E, error)) lifecycleHistory[E] { return f }

// withSelfService serves the /account/ endpoints (selfservice.Prefix) and
// hands every other request to next. In serve.go:
//
//	Handler: a.withSelfService(log, routes(...)),
func (a *app) withSelfService(log *slog.Logger, next http.Handler) http.Handler {
	o := selfservice.Options{Auth: a.auth, Store: erasingStore{Database: a.db}, Logger: log}
	if a.life != nil {
		o.Store = erasingStore{Database: a.db, life: a.life}
		o.Events = eventsOf(a.life.Record)
		o.History = historyOf(a.life.History)
	}
	self := selfservice.New(o)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, selfservice.Prefix) {
			self.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// AppPasswords lists an account's app passwords for auth.
func (s credentialStore) AppPasswords(ctx context.Context, account int64) ([]auth.StoredAppPassword, error) {
	stored, err := s.db.AppPasswords(ctx, account)
	if err != nil {
		return nil, err
	}
	out := make([]auth.StoredAppPassword, len(stored))
	for i, p := range stored {
		out[i] = auth.StoredAppPassword{ID: p.ID, Label: p.LabelSealed, Verifier: p.Verifier, Slot: p.Slot, Created: p.Created, LastUsed: p.LastUsed}
	}
	return out, nil
}

// AddAppPassword stores an app password and its key slot.
func (s credentialStore) AddAppPassword(ctx context.Context, account int64, p auth.StoredAppPassword) error {
	return s.db.CreateAppPassword(ctx, account, storage.AppPassword{ID: p.ID, LabelSealed: p.Label, Verifier: p.Verifier, Slot: p.Slot, Created: p.Created})
}

// DeleteAppPassword removes an app password's key slot and record.
func (s credentialStore) DeleteAppPassword(ctx context.Context, account int64, id string) error {
	return appPasswordErr(s.db.DeleteAppPassword(ctx, account, id))
}

// TouchAppPassword records an app password's last use.
func (s credentialStore) TouchAppPassword(ctx context.Context, account int64, id string, at time.Time) error {
	return appPasswordErr(s.db.TouchAppPassword(ctx, account, id, at))
}

// appPasswordErr maps storage's not-found to auth's.
func appPasswordErr(err error) error {
	if errors.Is(err, storage.ErrNotFound) {
		return auth.ErrUnknownAppPassword
	}
	return err
}
