package account

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/coffer-dav/coffer/encryption"
	"github.com/coffer-dav/coffer/storage"
)

// clock is a settable clock for driving lives.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// sentMail is one e-mail a fakeMailer got.
type sentMail struct {
	To string
	Message
}

// fakeMailer records what it is asked to send.
type fakeMailer struct {
	mu   sync.Mutex
	sent []sentMail
	fail bool
}

func (m *fakeMailer) Send(_ context.Context, to string, msg Message) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail {
		return io.ErrUnexpectedEOF
	}
	m.sent = append(m.sent, sentMail{to, msg})
	return nil
}

func (m *fakeMailer) Sent() []sentMail {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]sentMail(nil), m.sent...)
}

// testKey is the token key of the tests' lifecycles.
var testKey, _ = encryption.Derive([]byte("0123456789abcdef0123456789abcdef"), encryption.AccountTokens)

// openDB opens a fresh database in a temporary folder and returns its path too.
func openDB(t testing.TB) (*storage.DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "coffer.db")
	db, err := storage.Open(context.Background(), path, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, path
}

// newLife returns a lifecycle over db with the default settings, c and m.
func newLife(t testing.TB, db *storage.DB, c *clock, m Mailer) *Lifecycle {
	t.Helper()
	var mailer Mailer
	if m != nil {
		mailer = m
	}
	l, err := New(db, Options{Settings: DefaultSettings(), Now: c.Now, Mailer: mailer, TokenKey: testKey, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// testUsername is what the coffer binary accepts as a username.
var testUsername = regexp.MustCompile(`^[a-z0-9][a-z0-9._@+-]{0,63}$`)

// testCreator creates accounts without keys, for lifecycle tests.
type testCreator struct {
	db *storage.DB
	l  *Lifecycle
}

func (c testCreator) CreateAccount(ctx context.Context, n NewAccount) (*Created, error) {
	if !testUsername.MatchString(n.Username) {
		return nil, &FieldError{"username", "bad username"}
	}
	a, err := c.db.CreateAccount(ctx, storage.NewAccount{
		Username: n.Username, Email: n.Email, DisplayName: n.DisplayName,
		Slots:     func(int64) (map[string]encryption.Slot, error) { return nil, nil },
		Lifecycle: c.l.Begin(n.Start, n.Email),
	})
	if errors.Is(err, storage.ErrExists) {
		return nil, ErrExists
	}
	if err != nil {
		return nil, err
	}
	c.l.Flush(ctx, a.ID)
	return &Created{ID: a.ID, Username: a.Username, RecoveryCode: "none"}, nil
}

// mustCreate creates an account that begins as start.
func mustCreate(t testing.TB, l *Lifecycle, db *storage.DB, username string, start Start) int64 {
	t.Helper()
	c, err := testCreator{db, l}.CreateAccount(context.Background(), NewAccount{Username: username, Email: username + "@example.org", Start: start})
	if err != nil {
		t.Fatal(err)
	}
	return c.ID
}

// kinds lists the kinds of an account's history.
func kinds(t testing.TB, l *Lifecycle, id int64) []EventKind {
	t.Helper()
	h, err := l.History(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]EventKind, len(h))
	for i, e := range h {
		out[i] = e.Kind
	}
	return out
}
