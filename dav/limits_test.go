package dav

import (
	"fmt"
	"strings"
	"testing"
)

// dailyEvent recurs every day without end: expanding it over a long range
// needs one instance a day.
const dailyEvent = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//EN\r\nBEGIN:VEVENT\r\nUID:daily@example.org\r\nDTSTAMP:20250101T000000Z\r\nDTSTART:20250101T090000Z\r\nDTEND:20250101T100000Z\r\nRRULE:FREQ=DAILY\r\nSUMMARY:Stand-up\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"

// limitCase is one request against a handler with adjusted limits.
type limitCase struct {
	name         string
	method, path string
	body         string
	headers      []string
	status       int
	cond         string // expected in an error body; "" for a success
}

// runLimitCases sends each case in order as alice and checks the answer.
func runLimitCases(t *testing.T, ts *testServer, cases []limitCase) {
	t.Helper()
	for _, tc := range cases {
		rec := ts.do(t, "alice", tc.method, tc.path, tc.body, tc.headers...)
		if tc.status >= 400 {
			t.Run(tc.name, func(t *testing.T) { wantError(t, rec, tc.status, tc.cond) })
			continue
		}
		if rec.Code != tc.status {
			t.Errorf("%s: status %d, want %d\n%s", tc.name, rec.Code, tc.status, rec.Body)
		}
	}
}

// TestXMLLimits: bodies deeper or larger than the configured caps get 400,
// never 500, and bodies within them are served.
func TestXMLLimits(t *testing.T) {
	ts := newTestServer(t, func(o *Options) { o.MaxXMLDepth = 4; o.MaxXMLElements = 8 })
	nested := func(depth int) string {
		return `<propfind xmlns="DAV:"><prop>` + strings.Repeat("<x>", depth-2) + strings.Repeat("</x>", depth-2) + `</prop></propfind>`
	}
	props := func(n int) string {
		return `<propfind xmlns="DAV:"><prop>` + strings.Repeat("<displayname/>", n) + `</prop></propfind>`
	}
	runLimitCases(t, ts, []limitCase{
		{"depth at the cap", "PROPFIND", calPath, nested(4), []string{"Depth: 0"}, 207, ""},
		{"depth beyond the cap", "PROPFIND", calPath, nested(5), []string{"Depth: 0"}, 400, ""},
		{"elements at the cap", "PROPFIND", calPath, props(6), []string{"Depth: 0"}, 207, ""},
		{"elements beyond the cap", "PROPFIND", calPath, props(7), []string{"Depth: 0"}, 400, ""},
		{"PROPPATCH beyond the depth", "PROPPATCH", calPath, `<propertyupdate xmlns="DAV:"><set><prop><displayname><a><b/></a></displayname></prop></set></propertyupdate>`, nil, 400, ""},
		{"MKCOL beyond the elements", "MKCOL", "/dav/addressbooks/alice/p/", `<mkcol xmlns="DAV:"><set><prop><a/><b/><c/><d/><e/><f/><g/></prop></set></mkcol>`, []string{"Content-Type: application/xml"}, 400, ""},
		{"REPORT beyond the depth", "REPORT", calPath, `<sync-collection xmlns="DAV:"><sync-token/><prop><a><b><c/></b></a></prop></sync-collection>`, nil, 400, ""},
	})
	// The defaults hold without any option.
	ts = newTestServer(t)
	runLimitCases(t, ts, []limitCase{
		{"default depth", "PROPFIND", calPath, nested(defaultXMLDepth + 1), []string{"Depth: 0"}, 400, ""},
		{"default elements", "PROPFIND", calPath, props(defaultXMLElements), []string{"Depth: 0"}, 400, ""},
	})
}

// TestMultigetLimit: a multiget naming more hrefs than configured is refused
// with 403 and a sentence that names the cap.
func TestMultigetLimit(t *testing.T) {
	ts := newTestServer(t, func(o *Options) { o.MaxMultigetHrefs = 2 })
	two := hrefs(calPath+"a.ics", calPath+"b.ics")
	runLimitCases(t, ts, []limitCase{
		{"at the cap", "REPORT", calPath, fmt.Sprintf(bodyDAVx5CalMultiget, two), nil, 207, ""},
		{"beyond the cap", "REPORT", calPath, fmt.Sprintf(bodyDAVx5CalMultiget, two+hrefs(calPath+"c.ics")), nil, 403, "at most 2 resources"},
		{"address books too", "REPORT", bookPath, fmt.Sprintf(bodyThunderbirdCardMultiget, strings.Repeat("<D:href>"+bookPath+"a.vcf</D:href>", 3)), nil, 403, "at most 2 resources"},
	})
}

// TestInstanceLimit: a query that needs more recurrence instances than
// configured gets 403 too-many-instances; the same query fits the default.
func TestInstanceLimit(t *testing.T) {
	const (
		expand   = `<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><C:calendar-data><C:expand start="20250101T000000Z" end="20260101T000000Z"/></C:calendar-data></D:prop><C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:time-range start="20250101T000000Z" end="20260101T000000Z"/></C:comp-filter></C:comp-filter></C:filter></C:calendar-query>`
		freeBusy = `<C:free-busy-query xmlns:C="urn:ietf:params:xml:ns:caldav"><C:time-range start="20250101T000000Z" end="20260101T000000Z"/></C:free-busy-query>`
	)
	for _, tc := range []struct {
		name      string
		instances int
		status    int
		cond      string
	}{
		{"capped", 100, 403, "too-many-instances"},
		{"default", 0, 207, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := newTestServer(t, func(o *Options) { o.MaxInstances = tc.instances })
			fbStatus := 200
			if tc.status >= 400 {
				fbStatus = tc.status
			}
			runLimitCases(t, ts, []limitCase{
				{"PUT", "PUT", calPath + "daily.ics", dailyEvent, nil, 201, ""},
				{"expand", "REPORT", calPath, expand, []string{"Depth: 1"}, tc.status, tc.cond},
				{"free-busy", "REPORT", calPath, freeBusy, []string{"Depth: 1"}, fbStatus, tc.cond},
			})
		})
	}
}

// TestObjectCountLimit: a collection takes no more objects than allowed,
// by PUT, COPY or MOVE; replacing and renaming within it still work.
func TestObjectCountLimit(t *testing.T) {
	ts := newTestServer(t, func(o *Options) { o.MaxObjects = 2 })
	const p, r = "/dav/addressbooks/alice/p/", "/dav/addressbooks/alice/r/"
	full := "max-resources-per-collection"
	runLimitCases(t, ts, []limitCase{
		{"MKCOL p", "MKCOL", p, "", nil, 201, ""},
		{"MKCOL r", "MKCOL", r, "", nil, 201, ""},
		{"first", "PUT", p + "a.txt", "a", nil, 201, ""},
		{"second", "PUT", p + "b.txt", "b", nil, 201, ""},
		{"third", "PUT", p + "c.txt", "c", nil, 507, full},
		{"replace", "PUT", p + "a.txt", "aa", nil, 204, ""},
		{"rename within", "MOVE", p + "b.txt", "", []string{"Destination: " + p + "c.txt"}, 201, ""},
		{"copy within", "COPY", p + "a.txt", "", []string{"Destination: " + p + "d.txt"}, 507, full},
		{"copy over an object", "COPY", p + "a.txt", "", []string{"Destination: " + p + "c.txt"}, 204, ""},
		{"into r", "PUT", r + "x.txt", "x", nil, 201, ""},
		{"move into a full one", "MOVE", r + "x.txt", "", []string{"Destination: " + p + "x.txt"}, 507, full},
		{"still in r", "GET", r + "x.txt", "", nil, 200, ""},
		{"calendar", "PUT", calPath + "1.ics", icsEvent, nil, 201, ""},
		{"calendar full", "PUT", calPath + "2.ics", strings.Replace(icsEvent, "ev1@", "ev2@", 1), nil, 201, ""},
		{"calendar beyond", "PUT", calPath + "3.ics", strings.Replace(icsEvent, "ev1@", "ev3@", 1), nil, 507, full},
		{"not stored", "GET", calPath + "3.ics", "", nil, 404, ""},
	})
}

// TestCollectionCountLimit: an account gets no more collections than
// allowed, by MKCOL, MKCALENDAR or COPY; a COPY that replaces as many as
// it adds still works. Every account starts with three.
func TestCollectionCountLimit(t *testing.T) {
	ts := newTestServer(t, func(o *Options) { o.MaxCollections = 5 })
	const p = "/dav/addressbooks/alice/p/"
	full := "max-collections"
	runLimitCases(t, ts, []limitCase{
		{"fourth", "MKCOL", p, "", nil, 201, ""},
		{"fifth", "MKCOL", p + "q/", "", nil, 201, ""},
		{"sixth", "MKCOL", p + "q/r/", "", nil, 507, full},
		{"calendar", "MKCALENDAR", "/dav/calendars/alice/new/", "", nil, 507, full},
		{"extended MKCOL", "MKCOL", "/dav/addressbooks/alice/book/", `<mkcol xmlns="DAV:" xmlns:CR="urn:ietf:params:xml:ns:carddav"><set><prop><resourcetype><collection/><CR:addressbook/></resourcetype></prop></set></mkcol>`, []string{"Content-Type: application/xml"}, 507, full},
		{"copy a tree", "COPY", p, "", []string{"Destination: /dav/addressbooks/alice/s/"}, 507, full},
		{"copy a leaf", "COPY", p + "q/", "", []string{"Destination: /dav/addressbooks/alice/s/"}, 507, full},
		{"copy over as many", "COPY", p + "q/", "", []string{"Destination: /dav/addressbooks/alice/contacts/"}, 204, ""},
		{"move", "MOVE", p, "", []string{"Destination: /dav/addressbooks/alice/s/"}, 201, ""},
		{"not created", "PROPFIND", "/dav/calendars/alice/new/", "", []string{"Depth: 0"}, 404, ""},
	})
}

// TestQuotaCreditsReplacedDestination: a COPY over an existing destination
// counts what it replaces, for collections and for an object put in the
// place of a collection.
func TestQuotaCreditsReplacedDestination(t *testing.T) {
	ts := newTestServer(t, withRoom(t, 100)) // each object counts 40 bytes and its name
	const p, r = "/dav/addressbooks/alice/p/", "/dav/addressbooks/alice/r/"
	forty := strings.Repeat("x", 40)
	runLimitCases(t, ts, []limitCase{
		{"MKCOL p", "MKCOL", p, "", nil, 201, ""},
		{"MKCOL r", "MKCOL", r, "", nil, 201, ""},
		{"MKCOL r/sub", "MKCOL", r + "sub/", "", nil, 201, ""},
		{"p/a", "PUT", p + "a.txt", forty, nil, 201, ""},
		{"r/sub/b", "PUT", r + "sub/b.txt", forty, nil, 201, ""},
		{"copy to a new place", "COPY", p, "", []string{"Destination: /dav/addressbooks/alice/s/"}, 507, "quota-not-exceeded"},
		{"copy over r", "COPY", p, "", []string{"Destination: " + r}, 204, ""},
		{"r holds p's copy", "GET", r + "a.txt", "", nil, 200, ""},
		{"r/sub is gone", "GET", r + "sub/b.txt", "", nil, 404, ""},
		{"drop p", "DELETE", p, "", nil, 204, ""},
		{"r/sub again", "MKCOL", r + "sub/", "", nil, 201, ""},
		{"r/sub/b again", "PUT", r + "sub/b.txt", forty, nil, 201, ""},
		{"object copy over a collection", "COPY", r + "a.txt", "", []string{"Destination: " + r + "sub"}, 204, ""},
		{"object copy to a new name", "COPY", r + "a.txt", "", []string{"Destination: " + r + "c.txt"}, 507, "quota-not-exceeded"},
	})
}

// TestRefusedTransferKeepsWhatIsInTheWay: a COPY with Overwrite onto a
// resource of the other kind, refused for a limit, leaves that resource
// where it was: it is replaced in the transfer's own transaction, not
// deleted before it.
func TestRefusedTransferKeepsWhatIsInTheWay(t *testing.T) {
	const p = "/dav/addressbooks/alice/p/"
	forty := strings.Repeat("x", 40)
	t.Run("quota", func(t *testing.T) {
		ts := newTestServer(t, withRoom(t, 100)) // each object counts 40 bytes and its name
		runLimitCases(t, ts, []limitCase{
			{"MKCOL p", "MKCOL", p, "", nil, 201, ""},
			{"p/a", "PUT", p + "a.txt", forty, nil, 201, ""},
			{"p/b", "PUT", p + "b.txt", forty, nil, 201, ""},
			{"MKCOL p/sub", "MKCOL", p + "sub/", "", nil, 201, ""},
			{"object copy over a collection", "COPY", p + "a.txt", "", []string{"Destination: " + p + "sub"}, 507, "quota-not-exceeded"},
			{"the collection stays", "PROPFIND", p + "sub/", "", []string{"Depth: 0"}, 207, ""},
		})
	})
	t.Run("collections", func(t *testing.T) {
		ts := newTestServer(t, func(o *Options) { o.MaxCollections = 5 }) // every account starts with three
		runLimitCases(t, ts, []limitCase{
			{"MKCOL p", "MKCOL", p, "", nil, 201, ""},
			{"MKCOL q", "MKCOL", "/dav/addressbooks/alice/q/", "", nil, 201, ""},
			{"p/x", "PUT", p + "x.txt", forty, nil, 201, ""},
			{"collection copy over an object", "COPY", "/dav/addressbooks/alice/q/", "", []string{"Destination: " + p + "x.txt/"}, 507, "max-collections"},
			{"the object stays", "GET", p + "x.txt", "", nil, 200, ""},
		})
	})
}

// TestNameLimits: a name beyond 255 bytes or a path beyond 4 KiB, decoded,
// gets 414 with the cap in the message (403 as a Destination), and
// nothing is stored; names at the caps are served.
func TestNameLimits(t *testing.T) {
	ts := newTestServer(t)
	const p = "/dav/addressbooks/alice/p/"
	n := func(k int) string { return strings.Repeat("n", k) }
	// 24 + 16 × 251 bytes: a last segment of 56 bytes makes 4,096.
	deep := "/dav/addressbooks/alice/" + strings.Repeat(n(250)+"/", 16)
	runLimitCases(t, ts, []limitCase{
		{"plain collection", "MKCOL", p, "", nil, 201, ""},
		{"a 255-byte name", "PUT", p + n(255), "x", nil, 201, ""},
		{"a 256-byte name", "PUT", p + n(256), "x", nil, 414, "at most 255 bytes"},
		{"a 256-byte name, escaped", "PUT", p + strings.Repeat("%C3%A9", 128), "x", nil, 414, "at most 255 bytes"},
		{"a 256-byte collection", "MKCOL", p + n(256) + "/", "", nil, 414, "at most 255 bytes"},
		{"a 256-byte GET", "GET", p + n(256), "", nil, 414, "at most 255 bytes"},
		{"a 256-byte destination", "MOVE", p + n(255), "", []string{"Destination: " + p + n(256)}, 403, "at most 255 bytes"},
		{"a 300 KB name", "PUT", p + n(300000), "x", nil, 414, "at most 4096 bytes"},
		{"a path of 4,097 bytes", "PUT", deep + n(57), "x", nil, 414, "at most 4096 bytes"},
		{"a path of 4,096 bytes", "PUT", deep + n(56), "x", nil, 409, ""}, // its parent does not exist
		{"the 255-byte name is still there", "GET", p + n(255), "", nil, 200, ""},
		{"the 255-byte name moves", "MOVE", p + n(255), "", []string{"Destination: " + p + n(254)}, 201, ""},
	})
	coll, err := ts.alice.Collection(t.Context(), "addressbooks", "p")
	if err != nil {
		t.Fatal(err)
	}
	objs, err := ts.alice.Objects(t.Context(), coll.ID)
	if err != nil || len(objs) != 1 || objs[0].Name != n(254) {
		t.Errorf("stored %d objects (%v), want only the moved one", len(objs), err)
	}
}

// TestPropertyLimits: a PROPPATCH or MKCOL whose properties would pass the
// per-resource cap gets 507 max-properties-size with the cap in the
// message, one that would pass the quota 507 quota-not-exceeded, and
// neither stores anything; what shrinks is always allowed.
func TestPropertyLimits(t *testing.T) {
	ts := newTestServer(t, withRoom(t, 2600), func(o *Options) { o.MaxPropertiesSize = 2048 })
	const p = "/dav/addressbooks/alice/p/"
	set := func(local string, n int) string {
		return `<?xml version="1.0" encoding="UTF-8"?><A:propertyupdate xmlns:A="DAV:"><A:set><A:prop><X:` + local +
			` xmlns:X="urn:x">` + strings.Repeat("v", n) + `</X:` + local + `></A:prop></A:set></A:propertyupdate>`
	}
	const remove = `<A:propertyupdate xmlns:A="DAV:"><A:remove><A:prop><X:a xmlns:X="urn:x"/></A:prop></A:remove></A:propertyupdate>`
	mkcol := `<D:mkcol xmlns:D="DAV:"><D:set><D:prop><D:resourcetype><D:collection/></D:resourcetype><D:displayname>` +
		strings.Repeat("n", 3000) + `</D:displayname></D:prop></D:set></D:mkcol>`
	runLimitCases(t, ts, []limitCase{
		{"Apple's colour", "PROPPATCH", calPath, bodyAppleProppatch, nil, 207, ""},
		{"beyond the cap", "PROPPATCH", calPath, set("a", 3000), nil, 507, "at most 2048 bytes"},
		{"plain collection", "MKCOL", p, "", nil, 201, ""},
		{"object", "PUT", p + "o.txt", "x", nil, 201, ""},
		{"beyond the cap on the object", "PROPPATCH", p + "o.txt", set("a", 3000), nil, 507, "max-properties-size"},
		{"beyond the cap on the principal", "PROPPATCH", "/dav/principals/alice/", set("a", 3000), nil, 507, "max-properties-size"},
		{"beyond the cap on a home", "PROPPATCH", "/dav/addressbooks/alice/", set("a", 3000), nil, 507, "max-properties-size"},
		{"beyond the cap by MKCOL", "MKCOL", p + "q/", mkcol, []string{"Content-Type: application/xml"}, 507, "max-properties-size"},
		{"within the cap", "PROPPATCH", p + "o.txt", set("a", 700), nil, 207, ""},
		{"within the cap, replaced", "PROPPATCH", p + "o.txt", set("a", 750), nil, 207, ""},
		{"within the cap 2", "PROPPATCH", p, set("a", 700), nil, 207, ""},
		{"within the cap 3", "PROPPATCH", "/dav/principals/alice/", set("a", 700), nil, 207, ""},
		{"beyond the quota", "PROPPATCH", "/dav/addressbooks/alice/", set("a", 700), nil, 507, "quota-not-exceeded"},
		{"removing makes room", "PROPPATCH", p + "o.txt", remove, nil, 207, ""},
		{"within the quota again", "PROPPATCH", "/dav/addressbooks/alice/", set("a", 700), nil, 207, ""},
	})
	coll, err := ts.alice.Collection(t.Context(), "calendars", "calendar")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := coll.Props["{urn:x}a"]; ok {
		t.Errorf("a refused property was stored")
	}
	if _, err := ts.alice.Collection(t.Context(), "addressbooks", "p/q"); err == nil {
		t.Errorf("a refused MKCOL created its collection")
	}
}
