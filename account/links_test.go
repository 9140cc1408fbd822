package account

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// linkedLife is newLife with the dashboard's root as the link base.
func linkedLife(t *testing.T, m Mailer) (*Lifecycle, *clock, testCreator) {
	t.Helper()
	db, _ := openDB(t)
	c := newClock()
	base, _ := url.Parse("https://dav.example.org/")
	l, err := New(db, Options{Settings: DefaultSettings(), Now: c.Now, Mailer: m, TokenKey: testKey, LinkBase: base,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return l, c, testCreator{db, l}
}

// TestConfirmationMailCarriesLink: with a link base, the registration mail
// links to the confirmation page with the username and the token (the code
// stays, for the CLI); without one it gives the code alone.
func TestConfirmationMailCarriesLink(t *testing.T) {
	ctx := context.Background()
	for _, linked := range []bool{true, false} {
		m := &fakeMailer{}
		l, _, cr := linkedLife(t, m)
		if !linked {
			l.o.LinkBase = nil
		}
		res, err := l.CreatePending(ctx, cr, NewAccount{Username: "bob+cal", Email: "bob@example.org", Password: "marzipan-lighthouse"})
		if err != nil {
			t.Fatal(err)
		}
		id, _ := l.Lookup(ctx, res.Username)
		token, _ := l.ConfirmationToken(ctx, id)
		sent := m.Sent()
		if len(sent) != 1 || sent[0].To != "bob@example.org" {
			t.Fatalf("linked %v: mails %+v", linked, sent)
		}
		link := "https://dav.example.org/confirm?u=bob%2Bcal&t=" + token
		if got := strings.Contains(sent[0].Body, link); got != linked {
			t.Errorf("linked %v: mail has %q: %v\n%s", linked, link, got, sent[0].Body)
		}
		if !strings.Contains(sent[0].Body, "confirmation code: "+token) {
			t.Errorf("linked %v: no code in\n%s", linked, sent[0].Body)
		}
	}
}

// TestMailsNameTheService: the operator's service name, not Coffer's, is
// in the subject of the welcome mail; without one it is Coffer.
func TestMailsNameTheService(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct{ service, subject string }{
		{"Example Calendars", "Welcome to your Example Calendars account"},
		{"", "Welcome to your Coffer account"},
	} {
		m := &fakeMailer{}
		l, _, cr := linkedLife(t, m)
		l.o.ServiceName = tt.service
		if _, err := l.CreatePending(ctx, cr, NewAccount{Username: "bob", Email: "bob@example.org", Password: "marzipan-lighthouse"}); err != nil {
			t.Fatal(err)
		}
		if sent := m.Sent(); len(sent) != 1 || sent[0].Subject != tt.subject {
			t.Errorf("service %q: mails %+v, want the subject %q", tt.service, sent, tt.subject)
		}
	}
}

// TestCreatePendingRefusesWeakPasswords: the strength rule applies at
// sign-up, with the account's details as hints; nothing is created.
func TestCreatePendingRefusesWeakPasswords(t *testing.T) {
	ctx := context.Background()
	l, _, cr := linkedLife(t, &fakeMailer{})
	for _, tt := range []struct{ username, email, password string }{
		{"carol", "carol@example.org", "password1"},
		{"zorbaquint", "zq@example.org", "zorbaquint17"},
	} {
		_, err := l.CreatePending(ctx, cr, NewAccount{Username: tt.username, Email: tt.email, Password: tt.password})
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != "password" {
			t.Errorf("%s: %v, want a password field error", tt.password, err)
		}
		if _, err := l.Lookup(ctx, tt.username); !errors.Is(err, ErrNotFound) {
			t.Errorf("%s: account created: %v", tt.password, err)
		}
	}
}

// TestResendConfirmationThrottle: a pending account's mail goes out again
// at most once in 10 minutes (counting the first) and 5 times in 24 hours,
// also for a new Lifecycle over the same database (a restart); a confirmed
// account gets none.
func TestResendConfirmationThrottle(t *testing.T) {
	ctx := context.Background()
	m := &fakeMailer{}
	l, c, cr := linkedLife(t, m)
	id := mustCreate(t, l, cr.db, "dave", StartPending)
	steps := []struct {
		advance time.Duration
		restart bool
		want    error
		mails   int // sent so far, the registration included
	}{
		{0, false, ErrThrottled, 1},
		{9 * time.Minute, false, ErrThrottled, 1},
		{time.Minute, false, nil, 2},
		{time.Minute, false, ErrThrottled, 2},
		{10 * time.Minute, true, nil, 3},
		{10 * time.Minute, false, nil, 4},
		{10 * time.Minute, true, nil, 5},
		{10 * time.Minute, false, nil, 6},
		{10 * time.Minute, false, ErrThrottled, 6}, // the sixth in a day
		{23 * time.Hour, true, ErrThrottled, 6},    // the first resend is 23h50m old
		{time.Hour, false, nil, 7},
	}
	for i, s := range steps {
		c.Advance(s.advance)
		if s.restart {
			l2, err := New(cr.db, l.o)
			if err != nil {
				t.Fatal(err)
			}
			l = l2
		}
		if err := l.ResendConfirmation(ctx, id); !errors.Is(err, s.want) {
			t.Fatalf("step %d: %v, want %v", i, err, s.want)
		}
		sent := m.Sent()
		if len(sent) != s.mails {
			t.Fatalf("step %d: %d mails, want %d", i, len(sent), s.mails)
		}
		if s.want == nil && !strings.Contains(sent[len(sent)-1].Body, "https://dav.example.org/confirm?u=dave&t=") {
			t.Fatalf("step %d: the resent mail has no link:\n%s", i, sent[len(sent)-1].Body)
		}
	}
	token, _ := l.ConfirmationToken(ctx, id)
	if err := l.Confirm(ctx, id, token); err != nil {
		t.Fatal(err)
	}
	c.Advance(Day)
	if err := l.ResendConfirmation(ctx, id); !errors.Is(err, ErrConfirmed) {
		t.Fatalf("confirmed account: %v, want ErrConfirmed", err)
	}
}

var emailLink = regexp.MustCompile(`https://dav\.example\.org/email/confirm\?t=(\S+)`)

// TestEmailChangeToken: the address changes only with the link mailed to
// the new address; a forged, foreign, expired or replayed token changes
// nothing.
func TestEmailChangeToken(t *testing.T) {
	ctx := context.Background()
	m := &fakeMailer{}
	l, c, cr := linkedLife(t, m)
	erin := mustCreate(t, l, cr.db, "erin", StartDefault)
	frank := mustCreate(t, l, cr.db, "frank", StartDefault)
	request := func(id int64, email string) string {
		t.Helper()
		before := len(m.Sent())
		if err := l.RequestEmailChange(ctx, id, email); err != nil {
			t.Fatal(err)
		}
		for _, s := range m.Sent()[before:] {
			if s.To == email {
				if mm := emailLink.FindStringSubmatch(s.Body); mm != nil {
					return mm[1]
				}
			}
		}
		t.Fatalf("no link mailed to %s: %+v", email, m.Sent()[before:])
		return ""
	}
	emailOf := func(id int64) string {
		v, err := l.View(ctx, id, false)
		if err != nil {
			t.Fatal(err)
		}
		return v.Email
	}
	good := request(erin, "erin@new.example")
	if got := emailOf(erin); got != "erin@example.org" {
		t.Fatalf("the address changed before confirmation: %s", got)
	}
	if err := l.RequestEmailChange(ctx, erin, "erin@example.org"); err == nil {
		t.Fatal("a change to the same address was accepted")
	}
	if err := l.RequestEmailChange(ctx, erin, "other@new.example"); !errors.Is(err, ErrThrottled) {
		t.Fatalf("a second request within a minute: %v, want ErrThrottled", err)
	}
	c.Advance(2 * time.Minute)
	other := request(frank, "frank@new.example")
	flipped := []byte(good)
	flipped[len(flipped)-3] ^= 1
	for _, tt := range []struct {
		name, token string
		want        error
	}{
		{"empty", "", ErrBadToken},
		{"not base64", "!!!", ErrBadToken},
		{"truncated", good[:20], ErrBadToken},
		{"forged mac", string(flipped), ErrBadToken},
		{"other account's address in erin's frame", strings.Replace(good, good[:11], other[:11], 1), ErrBadToken},
	} {
		if _, err := l.ConfirmEmailChange(ctx, tt.token); !errors.Is(err, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
		}
	}
	if got := emailOf(erin); got != "erin@example.org" {
		t.Fatalf("a bad token changed the address: %s", got)
	}
	id, err := l.ConfirmEmailChange(ctx, good)
	if err != nil || id != erin || emailOf(erin) != "erin@new.example" {
		t.Fatalf("confirm: %d, %v, address %s", id, err, emailOf(erin))
	}
	if k := kinds(t, l, erin); k[len(k)-1] != EventEmailChanged || k[len(k)-2] != EventEmailChangeRequested {
		t.Fatalf("history %v", k)
	}
	if _, err := l.ConfirmEmailChange(ctx, good); !errors.Is(err, ErrBadToken) {
		t.Fatalf("replay: %v, want ErrBadToken", err)
	}
	// A token issued before another change is void after it.
	c.Advance(2 * time.Minute)
	back := request(erin, "erin@example.org")
	c.Advance(2 * time.Minute)
	newer := request(erin, "erin@third.example")
	if _, err := l.ConfirmEmailChange(ctx, newer); err != nil {
		t.Fatal(err)
	}
	if _, err := l.ConfirmEmailChange(ctx, back); !errors.Is(err, ErrBadToken) || emailOf(erin) != "erin@third.example" {
		t.Fatalf("stale token: %v, address %s", err, emailOf(erin))
	}
	// Frank's link expires after 24 hours.
	c.Advance(24 * time.Hour)
	if _, err := l.ConfirmEmailChange(ctx, other); !errors.Is(err, ErrTokenExpired) || emailOf(frank) != "frank@example.org" {
		t.Fatalf("expired: %v, address %s", err, emailOf(frank))
	}
	for _, s := range m.Sent() {
		if strings.Contains(s.Body, "new.example") && s.To != "erin@new.example" && s.To != "frank@new.example" {
			t.Errorf("a mail to %s names a new address:\n%s", s.To, s.Body)
		}
	}
}
