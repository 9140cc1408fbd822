package selfservice

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// Fixture objects, as clients send them.
const (
	eventCRLF = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//EN\r\nBEGIN:VEVENT\r\nUID:ev-1@example.org\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260301T100000Z\r\nDTEND:20260301T110000Z\r\nSUMMARY:Dentist\\, early MARKER-EVENT\r\nCATEGORIES:a,b\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
	// eventLF uses bare line feeds and has no final line break.
	eventLF = "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//Other//EN\nBEGIN:VEVENT\nUID:ev-2\nDTSTAMP:20260101T000000Z\nDTSTART;VALUE=DATE:20260302\nSUMMARY:All day\nDESCRIPTION:a long line that is folded somewhere in the midd\n le of a word\nEND:VEVENT\nEND:VCALENDAR"
	todo    = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Tasks//EN\r\nBEGIN:VTODO\r\nUID:todo-1\r\nDTSTAMP:20260101T000000Z\r\nSUMMARY:Water the plants\r\nSTATUS:NEEDS-ACTION\r\nEND:VTODO\r\nEND:VCALENDAR\r\n"
	vcard3  = "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:card-3\r\nFN:Ann Example\r\nN:Example;Ann;;;\r\nNOTE:semi\\;colon and comma\\, kept\r\nPHOTO;ENCODING=b;TYPE=JPEG:/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAP//////////////\r\n ////////////////////////////////////////////////////////////wgALCAABAAEBAREA\r\n /8QAFBABAAAAAAAAAAAAAAAAAAAAAP/aAAgBAQABPxA=\r\nEND:VCARD\r\n"
	vcard4  = "BEGIN:VCARD\r\nVERSION:4.0\r\nUID:urn:uuid:4fbe8971-0bc3-424c-9c26-36c3e1eff6b1\r\nFN:Bo Beispiel\r\nN:Beispiel;Bo;;;\r\nCATEGORIES:friends,\"work, mostly\"\r\nPHOTO:data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk\r\n +M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==\r\nEND:VCARD\r\n"

	mkcalendarWork  = `<?xml version="1.0" encoding="UTF-8"?><C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns:A="http://apple.com/ns/ical/"><D:set><D:prop><D:displayname>Work MARKER-NAME</D:displayname><C:calendar-description>Work &amp; stuff</C:calendar-description><A:calendar-color>#FF0000FF</A:calendar-color><C:supported-calendar-component-set><C:comp name="VEVENT"/></C:supported-calendar-component-set></D:prop></D:set></C:mkcalendar>`
	mkcalendarTasks = `<?xml version="1.0" encoding="UTF-8"?><C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns:A="http://apple.com/ns/ical/"><D:set><D:prop><D:displayname>Chores</D:displayname><A:calendar-color symbolic-color="custom">#1BADF8FF</A:calendar-color><A:calendar-order>3</A:calendar-order><C:supported-calendar-component-set><C:comp name="VTODO"/></C:supported-calendar-component-set></D:prop></D:set></C:mkcalendar>`
	proppatchBook   = `<?xml version="1.0" encoding="UTF-8"?><D:propertyupdate xmlns:D="DAV:" xmlns:R="urn:ietf:params:xml:ns:carddav" xmlns:X="urn:example:x"><D:set><D:prop><D:displayname>Friends</D:displayname><R:addressbook-description>People I know</R:addressbook-description><X:sort-order>last-name</X:sort-order></D:prop></D:set></D:propertyupdate>`

	// collectionProps asks for every stored property the fixtures set.
	collectionProps = `<?xml version="1.0" encoding="UTF-8"?><D:propfind xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns:R="urn:ietf:params:xml:ns:carddav" xmlns:A="http://apple.com/ns/ical/" xmlns:X="urn:example:x"><D:prop><D:resourcetype/><D:displayname/><C:calendar-description/><A:calendar-color/><A:calendar-order/><C:supported-calendar-component-set/><R:addressbook-description/><X:sort-order/><D:getcontenttype/></D:prop></D:propfind>`
)

// fillAccount gives alice a calendar made with MKCALENDAR (colour and
// description), a task list, and an address book with vCard 3 and 4 cards
// with photos, beside the default collections.
func fillAccount(e *env, user, pw string) {
	e.t.Helper()
	ical, vcf := "Content-Type", "text/calendar; charset=utf-8"
	e.must(201, user, pw, "MKCALENDAR", "/dav/calendars/"+user+"/office/", mkcalendarWork, "Content-Type", "application/xml")
	e.must(201, user, pw, "MKCALENDAR", "/dav/calendars/"+user+"/chores/", mkcalendarTasks, "Content-Type", "application/xml")
	e.must(207, user, pw, "PROPPATCH", "/dav/addressbooks/"+user+"/contacts/", proppatchBook, "Content-Type", "application/xml")
	e.must(201, user, pw, "PUT", "/dav/calendars/"+user+"/office/ev-1%40example.org.ics", eventCRLF, ical, vcf)
	e.must(201, user, pw, "PUT", "/dav/calendars/"+user+"/office/second.ics", eventLF, ical, vcf)
	e.must(201, user, pw, "PUT", "/dav/calendars/"+user+"/chores/todo-1.ics", todo, ical, vcf)
	e.must(201, user, pw, "PUT", "/dav/calendars/"+user+"/calendar/in-default.ics", strings.ReplaceAll(eventCRLF, "ev-1@example.org", "ev-3"), ical, vcf)
	e.must(201, user, pw, "PUT", "/dav/addressbooks/"+user+"/contacts/card-3.vcf", vcard3, "Content-Type", "text/vcard")
	e.must(201, user, pw, "PUT", "/dav/addressbooks/"+user+"/contacts/4fbe8971.vcf", vcard4, "Content-Type", "text/vcard")
}

// TestExportImportRoundTrip is acceptance 3: export, then import into a
// new account, gives byte-identical objects and the same collection
// properties.
func TestExportImportRoundTrip(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice", "alice-password")
	fillAccount(e, "alice", "alice-password")
	zipA := e.must(200, "alice", "alice-password", "GET", "/account/export", "")
	if ct := zipA.header.Get("Content-Type"); ct != "application/zip" || !strings.Contains(zipA.header.Get("Content-Disposition"), "coffer-alice-") {
		t.Fatalf("export headers: %v", zipA.header)
	}
	files := unzip(t, []byte(zipA.body))
	wantFiles := []string{"account.json", "calendar.ics", "chores.ics", "collections.json", "contacts.vcf", "files/0/in-default.ics", "files/2/ev-1@example.org.ics", "files/2/second.ics", "files/3/todo-1.ics", "notifications.json", "office.ics", "tasks.ics"}
	if got := sortedKeys(files); !slices.Equal(got, wantFiles) {
		t.Fatalf("export files = %v, want %v", got, wantFiles)
	}
	// Each calendar is one VCALENDAR of its objects' components, verbatim;
	// the objects themselves are beside it.
	vevent := func(s string) string {
		return s[strings.Index(s, "BEGIN:VEVENT"):strings.Index(s, "END:VCALENDAR")]
	}
	if want := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Coffer//Export//EN\r\n" + vevent(eventCRLF) + vevent(eventLF) + "END:VCALENDAR\r\n"; files["office.ics"] != want {
		t.Fatalf("office.ics = %q, want %q", files["office.ics"], want)
	}
	if files["files/2/ev-1@example.org.ics"] != eventCRLF || files["files/2/second.ics"] != eventLF {
		t.Fatalf("the office calendar's objects are not the originals: %q, %q", files["files/2/ev-1@example.org.ics"], files["files/2/second.ics"])
	}
	if want := vcard3 + vcard4; files["contacts.vcf"] != want {
		t.Fatalf("contacts.vcf = %q", files["contacts.vcf"])
	}
	var acct accountRecord
	if err := json.Unmarshal([]byte(files["account.json"]), &acct); err != nil || acct.Username != "alice" || acct.Email != "alice@example.org" || acct.Created.IsZero() {
		t.Fatalf("account.json = %s (%v)", files["account.json"], err)
	}
	if strings.TrimSpace(files["notifications.json"]) != "[]" {
		t.Fatalf("notifications.json = %s", files["notifications.json"])
	}

	// Into a fresh account.
	bob := e.addUser("bob", "bob-password")
	bobID, err := e.auth.Login(context.Background(), "bob", "bob-password")
	if err != nil {
		t.Fatal(err)
	}
	res, err := Import(context.Background(), Target{AccountID: bob.ID, Username: "bob", Space: e.db.Space(bob.ID, bobID.Keys)}, bytes.NewReader([]byte(zipA.body)), int64(len(zipA.body)))
	if err != nil {
		t.Fatal(err)
	}
	if res.Collections != 5 || res.Objects != 6 || len(res.Skipped) != 0 {
		t.Fatalf("import result %+v", res)
	}

	for _, home := range []string{"calendars", "addressbooks"} {
		// The same collections with the same properties, as PROPFIND shows them.
		a := e.must(207, "alice", "alice-password", "PROPFIND", "/dav/"+home+"/alice/", collectionProps, "Depth", "1")
		b := e.must(207, "bob", "bob-password", "PROPFIND", "/dav/"+home+"/bob/", collectionProps, "Depth", "1")
		if got, want := b.body, strings.ReplaceAll(a.body, "/alice/", "/bob/"); got != want {
			t.Fatalf("PROPFIND %s differs:\nalice: %s\nbob:   %s", home, want, got)
		}
		for _, href := range hrefs(a.body) {
			if !strings.HasSuffix(href, "/") {
				continue
			}
			// The same objects by name, each byte for byte.
			la := e.must(207, "alice", "alice-password", "PROPFIND", href, `<propfind xmlns="DAV:"><prop><getetag/></prop></propfind>`, "Depth", "1")
			bobHref := strings.Replace(href, "/alice/", "/bob/", 1)
			lb := e.must(207, "bob", "bob-password", "PROPFIND", bobHref, `<propfind xmlns="DAV:"><prop><getetag/></prop></propfind>`, "Depth", "1")
			objsA, objsB := objectHrefs(la.body), objectHrefs(lb.body)
			if len(objsA) != len(objsB) {
				t.Fatalf("%s: alice has %v, bob %v", href, objsA, objsB)
			}
			for _, o := range objsA {
				ga := e.must(200, "alice", "alice-password", "GET", o, "")
				gb := e.must(200, "bob", "bob-password", "GET", strings.Replace(o, "/alice/", "/bob/", 1), "")
				if ga.body != gb.body || ga.header.Get("Content-Type") != gb.header.Get("Content-Type") {
					t.Fatalf("%s: bodies differ\nalice: %q\nbob:   %q", o, ga.body, gb.body)
				}
				// ETags are a hash keyed by each user's key, so the same bytes
				// get another ETag in another account (they must not tell that
				// two users hold the same object); within bob's account the
				// ETag is the strong one that GET and PROPFIND agree on.
				if etag := gb.header.Get("ETag"); !strings.HasPrefix(etag, `"`) || !strings.Contains(lb.body, strings.Trim(etag, `"`)) {
					t.Fatalf("%s: bob's ETag %s is not in his listing", o, etag)
				}
			}
		}
	}

	// Exporting bob gives the same collections.json and the same streams:
	// names, order, properties and bytes all survived.
	zipB := e.must(200, "bob", "bob-password", "GET", "/account/export", "")
	filesB := unzip(t, []byte(zipB.body))
	for name, content := range files {
		if name == "account.json" {
			continue
		}
		if filesB[name] != content {
			t.Errorf("%s differs after the round trip:\n%s\n---\n%s", name, content, filesB[name])
		}
	}
}

// TestImportRefusesNonFreshAccount: restoring an export over collections
// that hold objects would mix two accounts; it is refused and says why.
func TestImportRefusesNonFreshAccount(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice", "alice-password")
	fillAccount(e, "alice", "alice-password")
	zipA := e.must(200, "alice", "alice-password", "GET", "/account/export", "").body
	id, err := e.auth.Login(context.Background(), "alice", "alice-password")
	if err != nil {
		t.Fatal(err)
	}
	_, err = Import(context.Background(), Target{AccountID: id.AccountID, Username: "alice", Space: e.db.Space(id.AccountID, id.Keys)}, strings.NewReader(zipA), int64(len(zipA)))
	if err == nil || !strings.Contains(err.Error(), "fresh account") {
		t.Fatalf("import into a filled account = %v", err)
	}
}

// unzip returns the files of a zip by name.
func unzip(t *testing.T, b []byte) map[string]string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		c, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		out[f.Name] = string(c)
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

var hrefPattern = regexp.MustCompile(`<D:href>([^<]+)</D:href>`)

// hrefs lists the hrefs of a multistatus body, in order.
func hrefs(body string) []string {
	var out []string
	for _, m := range hrefPattern.FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}

// objectHrefs lists the hrefs of a listing that are not collections.
func objectHrefs(body string) []string {
	var out []string
	for _, h := range hrefs(body) {
		if !strings.HasSuffix(h, "/") {
			out = append(out, h)
		}
	}
	slices.Sort(out)
	return out
}

// TestImportVersion1Export: an export written before calendars became one
// VCALENDAR (format version 1: objects found by offset in the .ics
// stream) still restores byte for byte.
func TestImportVersion1Export(t *testing.T) {
	e := newEnv(t)
	acct := e.addUser("carl", "carl-password")
	id, err := e.auth.Login(context.Background(), "carl", "carl-password")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, content := range map[string]string{
		"calendar.ics": eventCRLF + eventLF + "\r\n",
		"collections.json": fmt.Sprintf(`{"format":"coffer-export","version":1,"collections":[{"home":"calendars","name":"calendar","kind":"calendar","file":"calendar.ics","props":{},"objects":[
			{"name":"one.ics","content_type":"text/calendar; charset=utf-8","offset":0,"size":%d},
			{"name":"two.ics","content_type":"text/calendar; charset=utf-8","offset":%d,"size":%d}]}]}`, len(eventCRLF), len(eventCRLF), len(eventLF)),
	} {
		f, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(f, content); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	res, err := Import(context.Background(), Target{AccountID: acct.ID, Username: "carl", Space: e.db.Space(acct.ID, id.Keys)}, bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil || res.Objects != 2 {
		t.Fatalf("import: %+v, %v", res, err)
	}
	for path, want := range map[string]string{"/dav/calendars/carl/calendar/one.ics": eventCRLF, "/dav/calendars/carl/calendar/two.ics": eventLF} {
		if got := e.must(200, "carl", "carl-password", "GET", path, "").body; got != want {
			t.Errorf("%s = %q, want %q", path, got, want)
		}
	}
}
