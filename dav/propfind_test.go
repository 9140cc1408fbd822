package dav

import (
	"net/http"
	"strings"
	"testing"
)

// TestHomeListing covers Depth 1 listings as DAVx5, Thunderbird and Apple
// send them: every response carries resourcetype and the 200 propstat
// comes first (Q8, Q9); hrefs are absolute paths with slashes (Q4, Q17).
func TestHomeListing(t *testing.T) {
	ts := newTestServer(t)
	tests := []struct {
		name, path, body string
		headers          []string
		wantHrefs        []string
		want             map[string][]string // href -> fragments of the 200 propstat
	}{
		{"davx5 calendars", "/dav/calendars/alice/", bodyDAVx5HomeList, []string{"Depth: 1"},
			[]string{"/dav/calendars/alice/", "/dav/calendars/alice/calendar/", "/dav/calendars/alice/tasks/"},
			map[string][]string{
				"/dav/calendars/alice/":          {"<D:resourcetype><D:collection/></D:resourcetype>", "<D:bind/>", "<D:owner><D:href>/dav/principals/alice/</D:href>"},
				"/dav/calendars/alice/calendar/": {"<D:resourcetype><D:collection/><C:calendar/></D:resourcetype>", `<displayname xmlns="DAV:">Calendar</displayname>`, `<comp name="VEVENT"/>`, "<D:write/>"},
				"/dav/calendars/alice/tasks/":    {`<comp name="VTODO"/>`, `Tasks</displayname>`},
			}},
		{"thunderbird calendars, no slash", "/dav/calendars/alice", bodyThunderbirdHome, []string{"Depth: 1"}, // clients.md 4.2 handleHomeSet
			[]string{"/dav/calendars/alice/", "/dav/calendars/alice/calendar/", "/dav/calendars/alice/tasks/"},
			map[string][]string{"/dav/calendars/alice/calendar/": {"<D:resourcetype>", "<D:current-user-privilege-set>"}}},
		{"apple address books", "/dav/addressbooks/alice/", bodyAppleBookHome, []string{"Depth: 1", "Brief: t", "Prefer: return=minimal"},
			[]string{"/dav/addressbooks/alice/", "/dav/addressbooks/alice/contacts/"},
			map[string][]string{
				"/dav/addressbooks/alice/":          {"<D:sync-collection/>", "<D:sync-token>http://coffer.invalid/ns/sync/home/"},
				"/dav/addressbooks/alice/contacts/": {"<D:resourcetype><D:collection/><CR:addressbook/></D:resourcetype>", "<CR:max-resource-size>20971520</CR:max-resource-size>", "<D:sync-token>http://coffer.invalid/ns/sync/"},
			}},
		{"davx5 caps", "/dav/calendars/alice/calendar/", bodyDAVx5Caps, []string{"Depth: 0"},
			[]string{"/dav/calendars/alice/calendar/"},
			map[string][]string{"/dav/calendars/alice/calendar/": {"<D:sync-collection/>", "<C:calendar-query/>", "<CS:getctag>http://coffer.invalid/ns/sync/", "<C:max-resource-size>"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := ts.do(t, "alice", "PROPFIND", tc.path, tc.body, tc.headers...)
			d := parseMS(t, rec)
			var hrefs []string
			for _, r := range d.Responses {
				hrefs = append(hrefs, r.Href)
				if strings.Contains(tc.body, "resourcetype") && !strings.Contains(r.ok(t), "resourcetype") {
					t.Errorf("%s: no resourcetype in the first propstat", r.Href)
				}
			}
			if strings.Join(hrefs, " ") != strings.Join(tc.wantHrefs, " ") {
				t.Fatalf("hrefs %v, want %v", hrefs, tc.wantHrefs)
			}
			for href, frags := range tc.want {
				got := d.resp(t, href).ok(t)
				for _, f := range frags {
					if !strings.Contains(got, f) {
						t.Errorf("%s lacks %s in\n%s", href, f, got)
					}
				}
			}
		})
	}
}

func TestHomeSupportedReportsAdvertiseSync(t *testing.T) {
	ts := newTestServer(t)
	rec := ts.do(t, "alice", "PROPFIND", "/dav/calendars/alice/", `<propfind xmlns="DAV:"><prop><supported-report-set/></prop></propfind>`, "Depth: 0")
	if got := parseMS(t, rec).Responses[0].ok(t); !strings.Contains(got, "<D:sync-collection/>") {
		t.Fatalf("Q5: calendar home lacks sync-collection: %s", got)
	}
}

func TestPropfindForms(t *testing.T) {
	ts := newTestServer(t)
	if rec := ts.do(t, "alice", "PUT", "/dav/calendars/alice/calendar/ev1.ics", icsEvent); rec.Code != 201 {
		t.Fatalf("PUT: %d %s", rec.Code, rec.Body)
	}
	tests := []struct {
		name, path, body, depth string
		want, notWant           []string
	}{
		{"empty body is allprop", "/dav/calendars/alice/calendar/", "", "1",
			[]string{"<D:getetag>&quot;", "<D:getcontenttype>text/calendar; charset=utf-8</D:getcontenttype>", "<D:resourcetype/>", "Calendar</displayname>", "<D:getlastmodified>", " GMT</D:getlastmodified>"},
			[]string{"<CS:getctag>", "calendar-data"}},
		{"allprop with include", "/dav/calendars/alice/calendar/", `<D:propfind xmlns:D="DAV:"><D:allprop/><D:include><D:sync-token/></D:include></D:propfind>`, "0",
			[]string{"<D:sync-token>", "<D:creationdate>", "Z</D:creationdate>"}, nil},
		{"propname", "/dav/calendars/alice/calendar/", `<propfind xmlns="DAV:"><propname/></propfind>`, "0",
			[]string{"<D:getctag", "<D:sync-token/>", "<C:supported-calendar-component-set/>", "<D:displayname/>"}, []string{"VEVENT"}},
		{"object", "/dav/calendars/alice/calendar/ev1.ics", bodyThunderbirdBook, "0",
			[]string{"<D:resourcetype/>", "<D:getetag>"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := ts.do(t, "alice", "PROPFIND", tc.path, tc.body, "Depth: "+tc.depth)
			body := rec.Body.String()
			parseMS(t, rec)
			for _, w := range tc.want {
				w = strings.ReplaceAll(w, "<D:getctag", "<CS:getctag")
				if !strings.Contains(body, w) {
					t.Errorf("lacks %s:\n%s", w, body)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(body, w) {
					t.Errorf("has %s:\n%s", w, body)
				}
			}
		})
	}
}

func TestPropfindUnknownPropsAre404AfterThe200(t *testing.T) {
	ts := newTestServer(t)
	rec := ts.do(t, "alice", "PROPFIND", "/dav/calendars/alice/", bodyDAVx5HomeList, "Depth: 0")
	r := parseMS(t, rec).Responses[0]
	r.ok(t)
	if len(r.Propstats) != 2 || r.Propstats[1].Status != "HTTP/1.1 404 Not Found" {
		t.Fatalf("propstats %+v", r.Propstats)
	}
	if !strings.Contains(r.missing(), `<transports xmlns="https://bitfire.at/webdav-push"/>`) {
		t.Fatalf("404 propstat: %s", r.missing())
	}
}

func TestPropfindErrors(t *testing.T) {
	ts := newTestServer(t)
	deep := strings.Repeat("<a>", 100) + strings.Repeat("</a>", 100)
	tests := []struct {
		name, path, body string
		headers          []string
		status           int
		cond             string
	}{
		{"depth infinity", "/dav/calendars/alice/", "", []string{"Depth: infinity"}, 403, "propfind-finite-depth"},
		{"bad depth", "/dav/calendars/alice/", "", []string{"Depth: 2"}, 400, ""},
		{"malformed", "/dav/calendars/alice/", "<propfind xmlns='DAV:'><prop>", nil, 400, ""},
		{"too deep", "/dav/calendars/alice/", deep, nil, 400, ""},
		{"doctype", "/dav/calendars/alice/", `<!DOCTYPE x [<!ENTITY a "b">]><propfind xmlns="DAV:"><allprop/></propfind>`, nil, 400, ""},
		{"wrong root", "/dav/calendars/alice/", `<prop xmlns="DAV:"/>`, nil, 400, ""},
		{"missing collection", "/dav/calendars/alice/nope/", "", nil, 404, ""},
		{"missing object", "/dav/calendars/alice/calendar/nope.ics", "", nil, 404, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, ts.do(t, "alice", "PROPFIND", tc.path, tc.body, tc.headers...), tc.status, tc.cond)
		})
	}
	big := "<propfind xmlns='DAV:'><prop>" + strings.Repeat("<displayname/>", 1<<17) + "</prop></propfind>"
	if rec := ts.do(t, "alice", "PROPFIND", "/dav/", big); rec.Code != http.StatusRequestEntityTooLarge && rec.Code != 400 {
		t.Fatalf("oversized body: %d", rec.Code)
	}
}
