package dav

import (
	"context"
	"net/http"
	"testing"

	"github.com/coffer-dav/coffer/auth"
	"github.com/coffer-dav/coffer/storage"
)

// checkingAuth answers from fakeAuth as a login cache would: a request
// whose context carries a storage.LoginCheck is owed the check, whose
// read finds the stamp now; a login without one checks on its own, and
// holds only when the password still does.
type checkingAuth struct {
	fakeAuth
	now    string // the stamp the check reads
	holds  bool   // whether a fresh check of the password passes
	logins int
	stale  int // how often the check found the login stale
}

func (a *checkingAuth) Login(ctx context.Context, username, password, remoteAddr string) (*Account, error) {
	a.logins++
	acct, err := a.fakeAuth.Login(ctx, username, password, remoteAddr)
	if err != nil {
		return nil, err
	}
	if c := storage.LoginCheckOf(ctx); c != nil {
		c.Owe(acct.ID, "cached", func(context.Context) (string, error) { return a.now, nil }, func() { a.stale++ })
		return acct, nil
	}
	if !a.holds {
		return nil, auth.ErrBadCredentials
	}
	return acct, nil
}

// TestLoginCheck: a request that a cached login serves makes the login's
// check before it reads or writes anything for the client. A stale login
// is served again with a login that verifies the password afresh: when
// the password still holds (its slot was only rewrapped), the request is
// answered as usual; when it does not, it is refused and changes nothing.
func TestLoginCheck(t *testing.T) {
	const event = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nBEGIN:VEVENT\r\nUID:lc\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260101T100000Z\r\nSUMMARY:x\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
	tests := []struct {
		name          string
		now           string // the stamp the check finds
		holds         bool
		method, path  string
		body          string
		status        int
		logins, stale int
	}{
		{"current, a collection", "cached", true, "PROPFIND", "/dav/calendars/alice/calendar/", "", http.StatusMultiStatus, 1, 0},
		{"current, the principal", "cached", true, "PROPFIND", "/dav/principals/alice/", "", http.StatusMultiStatus, 1, 0},
		{"rewrapped, a collection", "rewrapped", true, "PROPFIND", "/dav/calendars/alice/calendar/", "", http.StatusMultiStatus, 2, 1},
		{"changed, a collection", "changed", false, "PROPFIND", "/dav/calendars/alice/calendar/", "", http.StatusUnauthorized, 2, 1},
		{"changed, the principal", "changed", false, "PROPFIND", "/dav/principals/alice/", "", http.StatusUnauthorized, 2, 1},
		{"changed, a write", "changed", false, "PUT", "/dav/calendars/alice/calendar/lc.ics", event, http.StatusUnauthorized, 2, 1},
		{"rewrapped, a write", "rewrapped", true, "PUT", "/dav/calendars/alice/calendar/lc.ics", event, http.StatusCreated, 2, 1},
		{"changed, a push registration", "changed", false, "POST", pushPrefix + "x", "", http.StatusUnauthorized, 2, 1},
		{"changed, another user's path", "changed", false, "PROPFIND", "/dav/calendars/bob/calendar/", "", http.StatusUnauthorized, 2, 1},
		{"current, another user's path", "cached", true, "PROPFIND", "/dav/calendars/bob/calendar/", "", http.StatusForbidden, 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var a *checkingAuth
			ts := newTestServer(t, func(o *Options) {
				a = &checkingAuth{fakeAuth: *o.Auth.(*fakeAuth), now: tt.now, holds: tt.holds}
				o.Auth = a
			})
			rec := ts.do(t, "alice", tt.method, tt.path, tt.body, "Depth: 0", "Content-Type: text/calendar")
			if rec.Code != tt.status {
				t.Errorf("%s %s: %d, want %d: %s", tt.method, tt.path, rec.Code, tt.status, rec.Body)
			}
			if a.logins != tt.logins || a.stale != tt.stale {
				t.Errorf("%d logins and %d stale checks, want %d and %d", a.logins, a.stale, tt.logins, tt.stale)
			}
			if tt.method == "PUT" {
				_, err := ts.alice.Object(context.Background(), calendarID(t, ts), "lc.ics", storage.ReadOptions{})
				if stored := err == nil; stored != (tt.status == http.StatusCreated) {
					t.Errorf("the object is stored: %v, want %v", stored, tt.status == http.StatusCreated)
				}
			}
		})
	}
}

// calendarID is the id of alice's default calendar.
func calendarID(t *testing.T, ts *testServer) int64 {
	t.Helper()
	c, err := ts.alice.Collection(context.Background(), storage.HomeCalendars, "calendar")
	if err != nil {
		t.Fatal(err)
	}
	return c.ID
}
