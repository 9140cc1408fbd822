package dav

import (
	"net/http"
	"strings"
	"testing"
)

const calPath = "/dav/calendars/alice/calendar/"

func TestPutCreateUpdateETag(t *testing.T) {
	ts := newTestServer(t)
	tests := []struct {
		name, path, body, contentType string
	}{
		{"apple event, no charset", calPath + "E1B2C3D4-0000-4000-8000-000000000001.ics", icsEvent, "text/calendar"},
		{"davx5 todo", "/dav/calendars/alice/tasks/todo1.ics", icsTodo, "text/calendar;charset=utf-8"},
		{"apple vcard 3", "/dav/addressbooks/alice/contacts/card1.vcf", vcard3, "text/vcard"},
		{"thunderbird vcard 4", "/dav/addressbooks/alice/contacts/card2.vcf", vcard4, "text/vcard;version=4.0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := ts.do(t, "alice", "PUT", tc.path, tc.body, "Content-Type: "+tc.contentType, "If-None-Match: *")
			if rec.Code != http.StatusCreated {
				t.Fatalf("create: %d %s", rec.Code, rec.Body)
			}
			etag := rec.Header().Get("ETag")
			if !strings.HasPrefix(etag, `"`) {
				t.Fatalf("ETag %q is not strong", etag)
			}
			get := ts.do(t, "alice", "GET", tc.path, "")
			if get.Code != 200 || get.Body.String() != tc.body || get.Header().Get("ETag") != etag {
				t.Fatalf("GET: %d etag %q body changed=%v", get.Code, get.Header().Get("ETag"), get.Body.String() != tc.body)
			}
			pf := parseMS(t, ts.do(t, "alice", "PROPFIND", tc.path, `<propfind xmlns="DAV:"><prop><getetag/></prop></propfind>`, "Depth: 0"))
			if got := pf.Responses[0].ok(t); !strings.Contains(got, "<D:getetag>"+escapeString(etag)+"</D:getetag>") {
				t.Fatalf("getetag %s differs from ETag %s", got, etag)
			}
			upd := ts.do(t, "alice", "PUT", tc.path, tc.body+"", "If-Match: "+etag)
			if upd.Code != http.StatusNoContent || upd.Header().Get("ETag") != etag {
				t.Fatalf("update: %d %q", upd.Code, upd.Header().Get("ETag"))
			}
		})
	}
}

func TestGetHeadConditional(t *testing.T) {
	ts := newTestServer(t)
	etag := ts.do(t, "alice", "PUT", calPath+"e.ics", icsEvent).Header().Get("ETag")
	head := ts.do(t, "alice", "HEAD", calPath+"e.ics", "")
	if head.Code != 200 || head.Body.Len() != 0 || head.Header().Get("Content-Length") != "426" ||
		head.Header().Get("Content-Type") != "text/calendar; charset=utf-8" || head.Header().Get("Last-Modified") == "" {
		t.Fatalf("HEAD: %d %v", head.Code, head.Header())
	}
	if rec := ts.do(t, "alice", "GET", calPath+"e.ics", "", "If-None-Match: "+etag); rec.Code != http.StatusNotModified {
		t.Fatalf("conditional GET: %d", rec.Code)
	}
	// A collection has no content (TestConformanceContentLengthConsistent).
	if rec := ts.do(t, "alice", "GET", calPath, ""); rec.Code != http.StatusNoContent || rec.Body.Len() != 0 {
		t.Fatalf("GET collection: %d, %d bytes", rec.Code, rec.Body.Len())
	}
}

func TestPutPreconditions(t *testing.T) {
	ts := newTestServer(t)
	p := calPath + "ev1.ics"
	etag := ts.do(t, "alice", "PUT", p, icsEvent).Header().Get("ETag")
	tests := []struct {
		name, path, body string
		headers          []string
		status           int
	}{
		{"If-None-Match * on existing", p, icsEventV2, []string{"If-None-Match: *"}, 412},
		{"stale If-Match", p, icsEventV2, []string{`If-Match: "stale"`}, 412},
		{"weak If-Match never matches", p, icsEventV2, []string{"If-Match: W/" + etag}, 412},
		{"If-Match on missing", calPath + "missing.ics", icsOther, []string{`If-Match: "x"`}, 412},
		{"If-Match * on missing", calPath + "missing.ics", icsOther, []string{`If-Match: *`}, 412},
		{"If-None-Match tag matching", p, icsEventV2, []string{"If-None-Match: " + etag}, 412},
		{"list with current tag", p, icsEventV2, []string{`If-Match: "a", ` + etag}, 204},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := ts.do(t, "alice", "PUT", tc.path, tc.body, tc.headers...)
			if rec.Code != tc.status {
				t.Fatalf("%d, want %d: %s", rec.Code, tc.status, rec.Body)
			}
			if tc.status == 412 {
				wantError(t, rec, 412, "")
			}
		})
	}
}

func TestPutUIDConflict(t *testing.T) {
	ts := newTestServer(t)
	ts.do(t, "alice", "PUT", calPath+"ev1%40example.org.ics", icsEvent)
	rec := ts.do(t, "alice", "PUT", calPath+"copy.ics", icsEventV2)
	wantError(t, rec, 403, "<C:no-uid-conflict><D:href>/dav/calendars/alice/calendar/ev1@example.org.ics</D:href></C:no-uid-conflict>")

	ts.do(t, "alice", "PUT", "/dav/addressbooks/alice/contacts/a.vcf", vcard3)
	rec = ts.do(t, "alice", "PUT", "/dav/addressbooks/alice/contacts/b.vcf", strings.Replace(vcard3, "Jane", "J", 1))
	wantError(t, rec, 403, "<CR:no-uid-conflict><D:href>/dav/addressbooks/alice/contacts/a.vcf</D:href>")

	noUID := "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:No UID\r\nN:UID;No;;;\r\nEND:VCARD\r\n"
	for _, n := range []string{"n1.vcf", "n2.vcf"} {
		if rec := ts.do(t, "alice", "PUT", "/dav/addressbooks/alice/contacts/"+n, noUID); rec.Code != 201 {
			t.Fatalf("card without UID: %d %s", rec.Code, rec.Body)
		}
	}
}

// TestPutInvalid covers the validation answers, including inputs that make
// go-ical panic, and proves that bad input changes nothing.
func TestPutInvalid(t *testing.T) {
	ts := newTestServer(t)
	objPath := calPath + "ev1.ics"
	cardPath := "/dav/addressbooks/alice/contacts/card1.vcf"
	ts.do(t, "alice", "PUT", objPath, icsEvent)
	ts.do(t, "alice", "PUT", cardPath, vcard3)
	wrap := func(ev string) string {
		return "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:ev1@example.org\r\n" + ev + "END:VEVENT\r\nEND:VCALENDAR\r\n"
	}
	tests := []struct {
		name, path, body string
		cond             string
	}{
		{"go-ical panic: param without colon", objPath, wrap("DTSTART;TZID=x\r\n"), "valid-calendar-data"},
		{"go-ical panic: junk after quoted param", objPath, wrap("X-A;P=\"b\"c:v\r\n"), "valid-calendar-data"},
		{"line without colon", objPath, wrap("SUMMARY\r\n"), "valid-calendar-data"},
		{"not iCalendar", objPath, "hello", "valid-calendar-data"},
		{"two calendars", objPath, icsEvent + icsEvent, "valid-calendar-data"},
		{"unterminated", objPath, "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\n", "valid-calendar-data"},
		{"NUL byte", objPath, wrap("SUMMARY:a\x00b\r\n"), "valid-calendar-data"},
		{"no UID", objPath, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nDTSTART:20250101T000000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n", "valid-calendar-object-resource"},
		{"mixed UIDs", objPath, "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:a\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:b\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n", "valid-calendar-object-resource"},
		{"mixed types", objPath, "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:a\r\nEND:VEVENT\r\nBEGIN:VTODO\r\nUID:a\r\nEND:VTODO\r\nEND:VCALENDAR\r\n", "valid-calendar-object-resource"},
		{"only a timezone", objPath, "BEGIN:VCALENDAR\r\nBEGIN:VTIMEZONE\r\nTZID:x\r\nEND:VTIMEZONE\r\nEND:VCALENDAR\r\n", "valid-calendar-object-resource"},
		{"todo in event calendar", objPath, icsTodo, "supported-calendar-component"},
		{"event in task list", "/dav/calendars/alice/tasks/ev.ics", icsOther, "supported-calendar-component"},
		{"vcard 2.1", cardPath, "BEGIN:VCARD\r\nVERSION:2.1\r\nUID:card1\r\nFN:x\r\nEND:VCARD\r\n", "valid-address-data"},
		{"vcard no version", cardPath, "BEGIN:VCARD\r\nUID:card1\r\nFN:x\r\nEND:VCARD\r\n", "valid-address-data"},
		{"vcard line dropped by go-vcard", cardPath, "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:card1\r\nFN:x\r\nTEL;TYPE=\"a\"x:1\r\nEND:VCARD\r\n", "valid-address-data"},
		{"vcard line without colon", cardPath, "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:card1\r\nFN x\r\nEND:VCARD\r\n", "valid-address-data"},
		{"vcard without END", cardPath, "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:card1\r\nFN:x\r\n", "valid-address-data"},
		{"two vcards", cardPath, vcard3 + vcard4, "valid-address-data"},
		{"vcard without FN", cardPath, "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:card1\r\nN:Doe;Jane;;;\r\nEND:VCARD\r\n", "valid-address-data"},
		{"calendar into address book", cardPath, icsEvent, "valid-address-data"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ct := "Content-Type: text/calendar; charset=utf-8" // as clients send it (clients.md 1.4)
			if tc.path == cardPath {
				ct = "Content-Type: text/vcard; charset=utf-8"
			}
			wantError(t, ts.do(t, "alice", "PUT", tc.path, tc.body, ct), 403, tc.cond)
		})
	}
	if got := ts.do(t, "alice", "GET", objPath, ""); got.Body.String() != icsEvent {
		t.Fatalf("bad input changed the event: %q", got.Body.String())
	}
	if got := ts.do(t, "alice", "GET", cardPath, ""); got.Body.String() != vcard3 {
		t.Fatalf("bad input changed the card: %q", got.Body.String())
	}
	if rec := ts.do(t, "alice", "GET", "/dav/calendars/alice/tasks/ev.ics", ""); rec.Code != 404 {
		t.Fatalf("rejected object exists: %d", rec.Code)
	}
}

func TestPutTooLarge(t *testing.T) {
	ts := newTestServer(t)
	ts.h = NewHandler(Options{Auth: ts.h.(*handler).auth, MaxResourceSize: 1024, Logger: ts.h.(*handler).log})
	big := "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:big\r\nDESCRIPTION:" + strings.Repeat("x", 2000) + "\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
	wantError(t, ts.do(t, "alice", "PUT", calPath+"big.ics", big), 403, "<C:max-resource-size/>")
	wantError(t, ts.do(t, "alice", "PUT", "/dav/addressbooks/alice/contacts/big.vcf", big), 403, "<CR:max-resource-size/>")
	if rec := ts.do(t, "alice", "GET", calPath+"big.ics", ""); rec.Code != 404 {
		t.Fatalf("oversized object stored: %d", rec.Code)
	}
}

func TestPutPlacement(t *testing.T) {
	ts := newTestServer(t)
	tests := []struct {
		path   string
		status int
	}{
		{"/dav/calendars/alice/x.ics", 405},
		{"/dav/calendars/alice/calendar/", 405},
		{"/dav/calendars/alice/nope/x.ics", 409},
		{"/dav/principals/alice/", 405},
	}
	for _, tc := range tests {
		wantError(t, ts.do(t, "alice", "PUT", tc.path, icsOther), tc.status, "")
	}
}

func TestPercentDecoding(t *testing.T) {
	ts := newTestServer(t)
	// Evolution writes %40, DAVx5 writes @ literally (Q16).
	rec := ts.do(t, "alice", "PUT", calPath+"ev1%40example.org.ics", icsEvent, "If-None-Match: *")
	if rec.Code != 201 {
		t.Fatalf("PUT: %d", rec.Code)
	}
	if rec := ts.do(t, "alice", "PUT", calPath+"ev1@example.org.ics", icsEvent, "If-None-Match: *"); rec.Code != 412 {
		t.Fatalf("the two spellings are different resources: %d", rec.Code)
	}
	if rec := ts.do(t, "alice", "GET", calPath+"ev1@example.org.ics", ""); rec.Body.String() != icsEvent {
		t.Fatalf("GET literal spelling: %d", rec.Code)
	}
	d := parseMS(t, ts.do(t, "alice", "PROPFIND", calPath, bodyThunderbirdBook, "Depth: 1"))
	d.resp(t, calPath+"ev1@example.org.ics")
	// A name with a space and a slash-free odd character is escaped once.
	ts.do(t, "alice", "PUT", calPath+"a%20b%C3%A9.ics", icsOther)
	d = parseMS(t, ts.do(t, "alice", "PROPFIND", calPath, bodyThunderbirdBook, "Depth: 1"))
	d.resp(t, calPath+"a%20b%C3%A9.ics")
}

func TestPlainCollection(t *testing.T) {
	ts := newTestServer(t)
	if rec := ts.do(t, "alice", "MKCOL", "/dav/calendars/alice/files/", ""); rec.Code != 201 {
		t.Fatalf("MKCOL: %d %s", rec.Code, rec.Body)
	}
	rec := ts.do(t, "alice", "PUT", "/dav/calendars/alice/files/notes.txt", "anything \x00 goes", "Content-Type: text/plain")
	if rec.Code != 201 {
		t.Fatalf("PUT: %d", rec.Code)
	}
	get := ts.do(t, "alice", "GET", "/dav/calendars/alice/files/notes.txt", "")
	if get.Body.String() != "anything \x00 goes" || get.Header().Get("Content-Type") != "text/plain" {
		t.Fatalf("GET: %q %q", get.Body.String(), get.Header().Get("Content-Type"))
	}
}

func TestDelete(t *testing.T) {
	ts := newTestServer(t)
	p := calPath + "ev1.ics"
	etag := ts.do(t, "alice", "PUT", p, icsEvent).Header().Get("ETag")
	wantError(t, ts.do(t, "alice", "DELETE", p, "", `If-Match: "stale"`), 412, "")
	if rec := ts.do(t, "alice", "DELETE", p, "", "If-Match: "+etag); rec.Code != 204 {
		t.Fatalf("DELETE: %d", rec.Code)
	}
	wantError(t, ts.do(t, "alice", "DELETE", p, ""), 404, "")
	if rec := ts.do(t, "alice", "DELETE", "/dav/calendars/alice/tasks/", ""); rec.Code != 204 || rec.Body.Len() != 0 {
		t.Fatalf("DELETE collection: %d %s", rec.Code, rec.Body)
	}
	for _, p := range []string{"/dav/calendars/alice/", "/dav/principals/alice/", "/dav/"} {
		wantError(t, ts.do(t, "alice", "DELETE", p, ""), 403, "")
	}
}

func TestStorageFailureIs500WithoutDetails(t *testing.T) {
	ts := newTestServer(t)
	ts.alice.fail = errTestSecret
	rec := ts.do(t, "alice", "PROPFIND", calPath, "", "Depth: 0")
	wantError(t, rec, 500, "")
	if strings.Contains(rec.Body.String(), "secret") {
		t.Fatalf("500 body leaks the cause: %s", rec.Body)
	}
}

var errTestSecret = &testErr{"secret storage detail"}

type testErr struct{ s string }

func (e *testErr) Error() string { return e.s }

// TestPutReadsItsCollectionOnce: a PUT or GET into a calendar or address
// book reads its collection once, the look-up that told the object path
// from a nested collection serving the write too; in a plain collection
// that look-up is followed by a second, of the path as a collection.
func TestPutReadsItsCollectionOnce(t *testing.T) {
	ts := newTestServer(t)
	if rec := ts.do(t, "alice", "MKCOL", "/dav/calendars/alice/docs/", ""); rec.Code != 201 {
		t.Fatalf("MKCOL: %d %s", rec.Code, rec.Body)
	}
	tests := []struct {
		name, method, path, body string
		want                     int
		reads                    int64
	}{
		{"new event", "PUT", calPath + "e.ics", icsEvent, 201, 1},
		{"replaced event", "PUT", calPath + "e.ics", icsEvent, 204, 1},
		{"event read", "GET", calPath + "e.ics", "", 200, 1},
		{"new contact", "PUT", "/dav/addressbooks/alice/contacts/c.vcf", vcard3, 201, 1},
		{"no such collection", "PUT", "/dav/addressbooks/alice/none/c.vcf", vcard3, 409, 2},
		{"file in a plain collection", "PUT", "/dav/calendars/alice/docs/notes.txt", "hello", 201, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := ts.alice.reads.Load()
			if rec := ts.do(t, "alice", tc.method, tc.path, tc.body); rec.Code != tc.want {
				t.Fatalf("%s %s: %d, want %d\n%s", tc.method, tc.path, rec.Code, tc.want, rec.Body)
			}
			if got := ts.alice.reads.Load() - before; got != tc.reads {
				t.Errorf("%s %s read a collection %d times, want %d", tc.method, tc.path, got, tc.reads)
			}
		})
	}
}
