package integration_test

import (
	"context"
	"encoding/xml"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/emersion/go-webdav"
	"github.com/emersion/go-webdav/caldav"
	"github.com/emersion/go-webdav/carddav"
)

// TestFreshStartWithGoWebdavClients is acceptance 1: a fresh start prints an
// account and a URL, and independent CalDAV and CardDAV clients discover the
// homes from that bare URL, list the defaults, and store objects that come
// back byte for byte.
func TestFreshStartWithGoWebdavClients(t *testing.T) {
	s := startServer(t, "")
	if s.User == "" || s.Password == "" || !strings.Contains(s.output(), "URL:") {
		t.Fatalf("first start did not print credentials and a URL:\n%s", s.output())
	}
	if fi, err := os.Stat(filepath.Join(s.data, "server.key")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("server secret: %v, %v", fi, err)
	}
	ctx := context.Background()
	hc := webdav.HTTPClientWithBasicAuth(http.DefaultClient, s.User, s.Password)

	cal, err := caldav.NewClient(hc, s.URL)
	if err != nil {
		t.Fatal(err)
	}
	principal, err := cal.FindCurrentUserPrincipal(ctx)
	if err != nil {
		t.Fatalf("current-user-principal from %s: %v", s.URL, err)
	}
	calHome, err := cal.FindCalendarHomeSet(ctx, principal)
	if err != nil {
		t.Fatal(err)
	}
	calendars, err := cal.FindCalendars(ctx, calHome)
	if err != nil {
		t.Fatal(err)
	}
	comps := map[string]string{}
	for _, c := range calendars {
		comps[c.Path] = strings.Join(c.SupportedComponentSet, ",")
	}
	if len(calendars) != 2 || comps[calHome+"calendar/"] != "VEVENT" || comps[calHome+"tasks/"] != "VTODO" {
		t.Fatalf("calendars in %s: %+v", calHome, calendars)
	}

	card, err := carddav.NewClient(hc, s.URL)
	if err != nil {
		t.Fatal(err)
	}
	cardHome, err := card.FindAddressBookHomeSet(ctx, principal)
	if err != nil {
		t.Fatal(err)
	}
	books, err := card.FindAddressBooks(ctx, cardHome)
	if err != nil {
		t.Fatal(err)
	}
	if len(books) != 1 || books[0].Path != cardHome+"contacts/" {
		t.Fatalf("address books in %s: %+v", cardHome, books)
	}

	c := s.client(t, s.User, s.Password)
	objects := []struct {
		path, ctype, body string
	}{
		{calHome + "calendar/ev-1@example.org.ics", "text/calendar", event("ev-1@example.org", "Dentist")},
		{calHome + "tasks/todo-1.ics", "text/calendar; charset=utf-8", task("todo-1", "Buy milk")},
		{cardHome + "contacts/card-1.vcf", "text/vcard;version=4.0", contact4("card-1", "Ada Lovelace")},
	}
	for _, o := range objects {
		put := c.must(201, "PUT", o.path, o.body, "Content-Type", o.ctype, "If-None-Match", "*")
		etag := put.Header.Get("ETag")
		if !strings.HasPrefix(etag, `"`) {
			t.Fatalf("PUT %s: ETag %q is not strong", o.path, etag)
		}
		get := c.must(200, "GET", o.path, "")
		if get.Body != o.body {
			t.Fatalf("GET %s is not byte for byte what was PUT:\n%q\n%q", o.path, get.Body, o.body)
		}
		if get.Header.Get("ETag") != etag {
			t.Fatalf("GET %s ETag %s, PUT gave %s", o.path, get.Header.Get("ETag"), etag)
		}
	}
	// The independent clients read them back too.
	ev, err := cal.GetCalendarObject(ctx, objects[0].path)
	if err != nil || ev.Data.Children[1].Props.Get("SUMMARY").Value != "Dentist" {
		t.Fatalf("caldav client GET: %+v, %v", ev, err)
	}
	multi, err := cal.MultiGetCalendar(ctx, calHome+"tasks/", &caldav.CalendarMultiGet{Paths: []string{objects[1].path}})
	if err != nil || len(multi) != 1 {
		t.Fatalf("calendar-multiget: %+v, %v", multi, err)
	}
	ab, err := card.GetAddressObject(ctx, objects[2].path)
	if err != nil || ab.Card.PreferredValue("FN") != "Ada Lovelace" {
		t.Fatalf("carddav client GET: %+v, %v", ab, err)
	}
	cards, err := card.MultiGetAddressBook(ctx, cardHome+"contacts/", &carddav.AddressBookMultiGet{Paths: []string{objects[2].path}})
	if err != nil || len(cards) != 1 || cards[0].ETag == "" {
		t.Fatalf("addressbook-multiget: %+v, %v", cards, err)
	}
	// A PUT through the go-webdav client itself is accepted and listed.
	ab.Card.SetValue("UID", "card-2")
	if _, err := card.PutAddressObject(ctx, cardHome+"contacts/card-2.vcf", ab.Card); err != nil {
		t.Fatalf("carddav client PUT: %v", err)
	}
	names := c.listing(t, cardHome+"contacts/")
	sort.Strings(names)
	if strings.Join(names, " ") != cardHome+"contacts/card-1.vcf "+cardHome+"contacts/card-2.vcf" {
		t.Fatalf("address book lists %v", names)
	}
}

// listing returns the member hrefs of a collection from a Depth 1 PROPFIND.
func (c *client) listing(t *testing.T, coll string) []string {
	t.Helper()
	r := c.must(207, "PROPFIND", coll, `<?xml version="1.0" encoding="utf-8"?><propfind xmlns="DAV:"><prop><resourcetype/><getetag/></prop></propfind>`, "Depth", "1")
	var out []string
	for _, h := range hrefs(t, r.Body) {
		if h != coll {
			out = append(out, h)
		}
	}
	return out
}

// multistatus is a parsed 207 body (RFC 4918 section 14.16).
type multistatus struct {
	Responses []msResponse `xml:"DAV: response"`
	SyncToken string       `xml:"DAV: sync-token"`
}

// msResponse is one <D:response> (RFC 4918 section 14.24).
type msResponse struct {
	Href      string `xml:"DAV: href"`
	Status    string `xml:"DAV: status"`
	Propstats []struct {
		Status string `xml:"DAV: status"`
		Prop   struct {
			Inner string `xml:",innerxml"`
		} `xml:"DAV: prop"`
	} `xml:"DAV: propstat"`
}

func parseMultistatus(t *testing.T, body string) multistatus {
	t.Helper()
	var ms multistatus
	if err := xml.Unmarshal([]byte(body), &ms); err != nil {
		t.Fatalf("multistatus: %v\n%s", err, body)
	}
	return ms
}

// hrefs returns the href of every response of a multistatus body, in order.
func hrefs(t *testing.T, body string) []string {
	var out []string
	for _, r := range parseMultistatus(t, body).Responses {
		out = append(out, r.Href)
	}
	return out
}
