package main

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coffer-dav/coffer/storage"
)

// pushRowHTML finds the rows of the overview's push subscriptions.
var pushRowHTML = regexp.MustCompile(`(?s)<tr class="push">(.*?)</tr>`)

// pushSub registers a push resource on a target of username's, straight
// in storage, and returns its id.
func (d *dashRig) pushSub(username, password string, t storage.PushTarget, resource string, expires time.Time) string {
	d.t.Helper()
	ctx := context.Background()
	id, err := d.a.auth.Login(ctx, username, password)
	if err != nil {
		d.t.Fatal(err)
	}
	s, _, err := d.a.db.Space(id.AccountID, id.Keys).AddSubscription(ctx, t, storage.NewSubscription{
		PushResource: resource, PublicKey: []byte("BPUBLIC-KEY-OF-THE-DEVICE"), AuthSecret: []byte("AUTH-SECRET-16BY"), Expires: expires})
	if err != nil {
		d.t.Fatal(err)
	}
	return s.ID
}

// pushIDs lists the ids of username's subscriptions on the targets.
func (d *dashRig) pushIDs(username, password string, targets ...storage.PushTarget) []string {
	d.t.Helper()
	ctx := context.Background()
	id, err := d.a.auth.Login(ctx, username, password)
	if err != nil {
		d.t.Fatal(err)
	}
	var ids []string
	for _, t := range targets {
		subs, err := d.a.db.Space(id.AccountID, id.Keys).Subscriptions(ctx, t)
		if err != nil {
			d.t.Fatal(err)
		}
		for _, s := range subs {
			ids = append(ids, s.ID)
		}
	}
	slices.Sort(ids)
	return ids
}

// collectionID returns the row id of one of alice's collections.
func (d *dashRig) collectionID(home storage.Home, name string) int64 {
	d.t.Helper()
	ctx := context.Background()
	id, err := d.a.auth.Login(ctx, "alice", "correct horse battery")
	if err != nil {
		d.t.Fatal(err)
	}
	c, err := d.a.db.Space(id.AccountID, id.Keys).Collection(ctx, home, name)
	if err != nil {
		d.t.Fatal(err)
	}
	return c.ID
}

// TestDashboardPushSubscriptions: the overview lists each push
// subscription with where it is, its push service's host and its dates,
// never the push resource or the keys; a remove form ends that one
// subscription only, for its owner only, with the form token and from
// this site only.
func TestDashboardPushSubscriptions(t *testing.T) {
	d := newDashRig(t, dashRigOptions{})
	if _, err := d.a.createUser(context.Background(), newUser{username: "bob", email: "bob@example.org", password: "bob's own long password"}); err != nil {
		t.Fatal(err)
	}
	// The homes are made on the first DAV request.
	d.dav(http.StatusMultiStatus, "PROPFIND", "/dav/calendars/alice/", "", "Depth", "1")
	d.dav(http.StatusMultiStatus, "PROPFIND", "/dav/addressbooks/alice/", "", "Depth", "1")
	cal := storage.PushTarget{Collection: d.collectionID(storage.HomeCalendars, "calendar")}
	book := storage.PushTarget{Collection: d.collectionID(storage.HomeAddressBooks, "contacts")}
	home := storage.PushTarget{Scope: storage.ScopeCalendars}
	targets := []storage.PushTarget{cal, book, home}
	later := time.Now().Add(72 * time.Hour).UTC()
	fcm := d.pushSub("alice", "correct horse battery", cal, "https://fcm.googleapis.com/fcm/send/dEvIcE-TOKEN-a1b2c3:APA91bSECRET", later)
	ntfy := d.pushSub("alice", "correct horse battery", book, "https://ntfy.example.org:8443/upABCDEFsecret?up=1", later)
	old := d.pushSub("alice", "correct horse battery", home, "https://updates.push.services.mozilla.com/wpush/v2/gAAAAABsecret", time.Now().Add(-time.Hour))
	bobs := d.pushSub("bob", "bob's own long password", storage.PushTarget{Scope: storage.ScopePrincipal}, "https://fcm.googleapis.com/fcm/send/BOBS-device", later)

	s := d.signIn()
	body := d.page("/", s)
	var rows []string
	for _, m := range pushRowHTML.FindAllStringSubmatch(body, -1) {
		rows = append(rows, text(m[1]))
	}
	day := func(t time.Time) string { return t.UTC().Format("2 January 2006") }
	now := time.Now()
	want := []string{
		"All calendars updates.push.services.mozilla.com " + day(now) + " expired Remove",
		"Calendar fcm.googleapis.com " + day(now) + " " + day(later) + " Remove",
		"Contacts ntfy.example.org " + day(now) + " " + day(later) + " Remove",
	}
	if !slices.Equal(rows, want) {
		t.Fatalf("push rows:\n%q\nwant\n%q", rows, want)
	}
	for _, secret := range []string{"dEvIcE-TOKEN", "APA91bSECRET", "upABCDEFsecret", "gAAAAABsecret", "/fcm/send", "BOBS-device", "BPUBLIC", "AUTH-SECRET", bobs,
		"QlBVQkxJQy1LRVk", "QVVUSC1TRUNSRVQ"} { // the keys in base64 too
		if strings.Contains(body, secret) {
			t.Errorf("the overview shows %q", secret)
		}
	}
	if !strings.Contains(body, `aria-label="Remove the push subscription of fcm.googleapis.com for Calendar"`) {
		t.Error("the remove button of a row does not say which subscription it removes")
	}
	csrf := csrfField.FindStringSubmatch(body)[1]

	all := []string{fcm, ntfy, old}
	slices.Sort(all)
	for _, tt := range []struct {
		name    string
		form    url.Values
		cookies []*http.Cookie
		hdr     []string
		status  int
	}{
		{"bob's subscription", url.Values{"csrf": {csrf}, "id": {bobs}}, []*http.Cookie{s}, nil, http.StatusNotFound},
		{"an unknown id", url.Values{"csrf": {csrf}, "id": {"00112233445566778899aabbccddeeff"}}, []*http.Cookie{s}, nil, http.StatusNotFound},
		{"no id", url.Values{"csrf": {csrf}}, []*http.Cookie{s}, nil, http.StatusNotFound},
		{"an overlong id", url.Values{"csrf": {csrf}, "id": {fcm + strings.Repeat("0", 64)}}, []*http.Cookie{s}, nil, http.StatusNotFound},
		{"no form token", url.Values{"id": {fcm}}, []*http.Cookie{s}, nil, http.StatusForbidden},
		{"a wrong form token", url.Values{"csrf": {csrf + "x"}, "id": {fcm}}, []*http.Cookie{s}, nil, http.StatusForbidden},
		{"from another site", url.Values{"csrf": {csrf}, "id": {fcm}}, []*http.Cookie{s}, []string{"Origin", "https://evil.example"}, http.StatusForbidden},
		{"signed out", url.Values{"csrf": {csrf}, "id": {fcm}}, nil, nil, http.StatusForbidden},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp, _ := d.do("POST", "/push/remove", tt.form, tt.cookies, tt.hdr...)
			if resp.StatusCode != tt.status {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.status)
			}
			if got := d.pushIDs("alice", "correct horse battery", targets...); !slices.Equal(got, all) {
				t.Errorf("alice's subscriptions %v, want %v", got, all)
			}
			if got := d.pushIDs("bob", "bob's own long password", storage.PushTarget{Scope: storage.ScopePrincipal}); !slices.Equal(got, []string{bobs}) {
				t.Errorf("bob's subscriptions %v, want his one", got)
			}
		})
	}

	resp, _ := d.do("POST", "/push/remove", url.Values{"csrf": {csrf}, "id": {fcm}}, []*http.Cookie{s})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/?done=notice.push.removed" {
		t.Fatalf("remove: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	left := []string{ntfy, old}
	slices.Sort(left)
	if got := d.pushIDs("alice", "correct horse battery", targets...); !slices.Equal(got, left) {
		t.Fatalf("after removing one: %v, want %v", got, left)
	}
	body = d.page("/?done=notice.push.removed", s)
	if !strings.Contains(body, "The push subscription is removed.") || strings.Contains(body, "fcm.googleapis.com") {
		t.Errorf("after removing: no notice, or the removed one still listed")
	}
	if n := len(pushRowHTML.FindAllString(body, -1)); n != 2 {
		t.Errorf("%d rows after removing one of 3", n)
	}
	// Removed again: it is gone already.
	if resp, _ := d.do("POST", "/push/remove", url.Values{"csrf": {csrf}, "id": {fcm}}, []*http.Cookie{s}); resp.StatusCode != http.StatusNotFound {
		t.Errorf("removing it twice: %d, want 404", resp.StatusCode)
	}
}

// TestDashboardPushNone: without push subscriptions the overview has no
// section for them.
func TestDashboardPushNone(t *testing.T) {
	d := newDashRig(t, dashRigOptions{})
	if body := d.page("/", d.signIn()); strings.Contains(body, "overview-push") || strings.Contains(body, "/push/remove") {
		t.Fatal("a push section without push subscriptions")
	}
}
