package integration_test

import (
	"strings"
	"testing"
)

// davTarget is what a client replay needs of the service it drives: one
// server, or a proxy in front of several instances of one service.
type davTarget struct {
	URL     string                                        // base URL, ending in "/"
	User    string                                        // the first account, which replays use as another user's
	addUser func(t *testing.T, username, password string) // creates a user with the CLI
	output  func() string                                 // what the service printed, for failure messages
	push    *pushRig                                      // the push service when the server runs with push on; nil: off
}

// target returns the davTarget of one server.
func (s *server) target() davTarget {
	return davTarget{
		URL:     s.URL,
		User:    s.User,
		addUser: func(t *testing.T, username, password string) { t.Helper(); addUser(t, s.data, username, password) },
		output:  s.output,
	}
}

// client returns a client of the target that sends requests as one user.
func (d davTarget) client(t *testing.T, user, password string) *client {
	return &client{t: t, base: strings.TrimSuffix(d.URL, "/"), user: user, password: password}
}
