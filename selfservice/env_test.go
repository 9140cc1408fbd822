package selfservice

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coffer-dav/coffer/auth"
	"github.com/coffer-dav/coffer/dav"
	"github.com/coffer-dav/coffer/encryption"
	"github.com/coffer-dav/coffer/storage"
)

// env is a server with real storage in a temporary folder: DAV, and the
// /account/ endpoints beside it, as serve mounts them.
type env struct {
	t      *testing.T
	dir    string
	db     *storage.DB
	auth   *auth.Service
	srv    *httptest.Server
	events *eventLog
}

// eventLog records the events the handler reports.
type eventLog struct {
	mu     sync.Mutex
	events []string
}

// credStore adapts the database to auth, app passwords included, as cmd/coffer does.
type credStore struct{ db *storage.DB }

// davAuth logs DAV requests in through auth.
type davAuth struct{ e *env }

// answer is a finished HTTP exchange.
type answer struct {
	status int
	header http.Header
	body   string
}

func (l *eventLog) Record(_ context.Context, account int64, kind, detail string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, kind+":"+detail)
	return nil
}

func (l *eventLog) History(context.Context, int64) (any, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string{}, l.events...), nil
}

func (l *eventLog) list() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string{}, l.events...)
}

func (s credStore) Credentials(ctx context.Context, username string) (*auth.Credentials, error) {
	a, err := s.db.AccountByUsername(ctx, username)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, auth.ErrUnknownUser
	}
	if err != nil {
		return nil, err
	}
	c := &auth.Credentials{AccountID: a.ID, Username: a.Username, Email: a.Email, DisplayName: a.DisplayName}
	if c.PasswordSlot, err = s.db.Slot(ctx, a.ID, "password"); err != nil {
		return nil, err
	}
	if c.RecoverySlot, err = s.db.Slot(ctx, a.ID, "recovery"); err != nil && !errors.Is(err, storage.ErrNotFound) {
		return nil, err
	}
	return c, nil
}

func (s credStore) SetPassword(ctx context.Context, account int64, slot encryption.Slot) error {
	return s.db.SetPassword(ctx, account, slot)
}

func (s credStore) AppPasswords(ctx context.Context, account int64) ([]auth.StoredAppPassword, error) {
	stored, err := s.db.AppPasswords(ctx, account)
	out := make([]auth.StoredAppPassword, len(stored))
	for i, p := range stored {
		out[i] = auth.StoredAppPassword{ID: p.ID, Label: p.LabelSealed, Verifier: p.Verifier, Slot: p.Slot, Created: p.Created, LastUsed: p.LastUsed}
	}
	return out, err
}

func (s credStore) AddAppPassword(ctx context.Context, account int64, p auth.StoredAppPassword) error {
	return s.db.CreateAppPassword(ctx, account, storage.AppPassword{ID: p.ID, LabelSealed: p.Label, Verifier: p.Verifier, Slot: p.Slot, Created: p.Created})
}

func (s credStore) DeleteAppPassword(ctx context.Context, account int64, id string) error {
	if err := s.db.DeleteAppPassword(ctx, account, id); errors.Is(err, storage.ErrNotFound) {
		return auth.ErrUnknownAppPassword
	} else {
		return err
	}
}

func (s credStore) TouchAppPassword(ctx context.Context, account int64, id string, at time.Time) error {
	return s.db.TouchAppPassword(ctx, account, id, at)
}

func (d davAuth) Login(ctx context.Context, username, password, _ string) (*dav.Account, error) {
	id, err := d.e.auth.Login(ctx, username, password)
	if err != nil {
		return nil, err
	}
	return &dav.Account{ID: id.AccountID, Username: id.Username, Email: id.Email, DisplayName: id.DisplayName, Space: d.e.db.Space(id.AccountID, id.Keys)}, nil
}

// newEnv starts a server over a fresh database.
func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{t: t, dir: t.TempDir(), events: &eventLog{}}
	var err error
	e.db, err = storage.Open(context.Background(), filepath.Join(e.dir, "coffer.db"), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.db.Close() })
	e.auth, err = auth.New(credStore{e.db}, auth.Options{KDF: encryption.MinKDF, ServerSecret: []byte(strings.Repeat("s", 32))})
	if err != nil {
		t.Fatal(err)
	}
	davHandler := dav.NewHandler(dav.Options{Auth: davAuth{e}})
	self := New(Options{Auth: e.auth, Store: e.db, Events: e.events, History: e.events})
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, Prefix) {
			self.ServeHTTP(w, r)
			return
		}
		davHandler.ServeHTTP(w, r)
	}))
	t.Cleanup(e.srv.Close)
	return e
}

// addUser creates an account with its default collections, as "coffer user add" does.
func (e *env) addUser(username, password string) *storage.Account {
	e.t.Helper()
	ctx := context.Background()
	en, err := e.auth.Enroll(password)
	if err != nil {
		e.t.Fatal(err)
	}
	acct, err := e.db.CreateAccount(ctx, storage.NewAccount{Username: username, Email: username + "@example.org", DisplayName: strings.ToUpper(username[:1]) + username[1:], Slots: en.Slots})
	if err != nil {
		e.t.Fatal(err)
	}
	keys, err := en.Keys()
	if err != nil {
		e.t.Fatal(err)
	}
	if err := dav.Provision(ctx, e.db.Space(acct.ID, keys)); err != nil {
		e.t.Fatal(err)
	}
	return acct
}

// do sends one request with Basic credentials; headers alternate name and value.
func (e *env) do(user, password, method, path, body string, headers ...string) answer {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if user != "" {
		req.SetBasicAuth(user, password)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json") // as the README's curl examples send
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

// must sends a request and fails the test unless the status is want.
func (e *env) must(want int, user, password, method, path, body string, headers ...string) answer {
	e.t.Helper()
	a := e.do(user, password, method, path, body, headers...)
	if a.status != want {
		e.t.Fatalf("%s %s as %s: %d, want %d\n%s", method, path, user, a.status, want, a.body)
	}
	return a
}
