package integration_test

import (
	"archive/zip"
	"bufio"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// The authorisation matrix: user bob runs every method against each of
// alice's resources, by direct path, by path tricks, by Destination header
// and by multiget href, and uses /account/ with his own credentials.
// Nothing of alice's may show in any answer, and her whole state must be
// the same afterwards.

// authzMark is in every value alice stores: summaries, UIDs, names,
// properties, file contents and app-password labels.
const authzMark = "ALICEMARK"

// Alice's resources.
const (
	azPrincipal = "/dav/principals/alice/"
	azCalHome   = "/dav/calendars/alice/"
	azBookHome  = "/dav/addressbooks/alice/"
	azCal       = azCalHome + "calendar/"
	azTasks     = azCalHome + "tasks/"
	azBook      = azBookHome + "contacts/"
	azPlain     = azBookHome + "plain/"
	azNested    = azPlain + "nested/"
)

// azCollections are alice's collections, whose Depth 1 listings make up
// her state; azObjects are her objects, whose bodies do.
var (
	azCollections = []string{azPrincipal, azCalHome, azBookHome, azCal, azTasks, azBook, azPlain, azNested}
	azObjects     = []string{azCal + "secret.ics", azTasks + "secret-task.ics", azBook + "secret.vcf", azPlain + "top.txt", azNested + "deep.txt"}
)

// azRequest is one request of the matrix.
type azRequest struct {
	name, method, body string
	headers            []string
}

// azRequests returns every method, each REPORT included, with Destination
// headers in both forms and multiget hrefs into alice's space; host is
// the server's host:port.
func azRequests(host string) []azRequest {
	const (
		calNS  = `xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"`
		cardNS = `xmlns:D="DAV:" xmlns:CR="urn:ietf:params:xml:ns:carddav"`
		rng    = `<C:time-range start="20200101T000000Z" end="20300101T000000Z"/>`
	)
	xml := []string{"Content-Type", "application/xml; charset=utf-8"}
	depth1 := append([]string{"Depth", "1"}, xml...)
	return []azRequest{
		{"OPTIONS", "OPTIONS", "", nil},
		{"PROPFIND allprop depth 0", "PROPFIND", "", []string{"Depth", "0"}},
		{"PROPFIND depth 1", "PROPFIND", `<D:propfind ` + calNS + `><D:prop><D:displayname/><D:getetag/><D:resourcetype/><C:calendar-data/><D:sync-token/><D:quota-used-bytes/></D:prop></D:propfind>`, depth1},
		{"PROPFIND propname", "PROPFIND", `<propfind xmlns="DAV:"><propname/></propfind>`, depth1},
		{"PROPPATCH", "PROPPATCH", `<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:displayname>pwned by bob</D:displayname></D:prop></D:set><D:remove><D:prop><X:note xmlns:X="urn:x"/></D:prop></D:remove></D:propertyupdate>`, xml},
		{"MKCOL", "MKCOL", "", nil},
		{"extended MKCOL", "MKCOL", `<D:mkcol ` + cardNS + `><D:set><D:prop><D:resourcetype><D:collection/><CR:addressbook/></D:resourcetype></D:prop></D:set></D:mkcol>`, xml},
		{"MKCALENDAR", "MKCALENDAR", "", nil},
		{"GET", "GET", "", nil},
		{"HEAD", "HEAD", "", nil},
		{"PUT", "PUT", event("bob-pwn-uid", "pwned by bob"), []string{"Content-Type", "text/calendar"}},
		{"PUT If-Match", "PUT", contact3("bob-pwn-card", "Pwned Bybob"), []string{"Content-Type", "text/vcard", "If-Match", "*"}},
		{"DELETE", "DELETE", "", nil},
		{"MOVE to bob, path", "MOVE", "", []string{"Destination", "/dav/calendars/bob/calendar/stolen.ics"}},
		{"COPY to bob, URL", "COPY", "", []string{"Destination", "http://" + host + "/dav/addressbooks/bob/stuff/stolen", "Overwrite", "T"}},
		{"MOVE within alice, URL", "MOVE", "", []string{"Destination", "http://" + host + azCal + "moved.ics", "Overwrite", "T"}},
		{"COPY within alice, path", "COPY", "", []string{"Destination", azPlain + "copied", "Depth", "infinity"}},
		{"calendar-multiget", "REPORT", `<C:calendar-multiget ` + calNS + `><D:prop><D:getetag/><C:calendar-data/></D:prop>` +
			hrefList("D:", azCal+"secret.ics", azTasks+"secret-task.ics") + `</C:calendar-multiget>`, depth1},
		{"addressbook-multiget", "REPORT", `<CR:addressbook-multiget ` + cardNS + `><D:prop><D:getetag/><CR:address-data/></D:prop>` +
			hrefList("D:", azBook+"secret.vcf") + `</CR:addressbook-multiget>`, depth1},
		{"sync-collection", "REPORT", `<D:sync-collection xmlns:D="DAV:"><D:sync-token/><D:sync-level>1</D:sync-level><D:prop><D:getetag/></D:prop></D:sync-collection>`, depth1},
		{"calendar-query", "REPORT", `<C:calendar-query ` + calNS + `><D:prop><D:getetag/><C:calendar-data/></D:prop><C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT">` + rng + `</C:comp-filter></C:comp-filter></C:filter></C:calendar-query>`, depth1},
		{"addressbook-query", "REPORT", `<CR:addressbook-query ` + cardNS + `><D:prop><D:getetag/><CR:address-data/></D:prop></CR:addressbook-query>`, depth1},
		{"free-busy-query", "REPORT", `<C:free-busy-query ` + calNS + `>` + rng + `</C:free-busy-query>`, depth1},
	}
}

// azTarget is a request target; ghost is a twin that does not exist and
// must get the very same answer, so that nothing can be guessed.
type azTarget struct {
	path, ghost string
	mayBeBobs   bool // the trick decodes to a name in bob's own space: a success is no breach
}

// rawDo sends one request with the target exactly as given, over its own
// connection, so that no client library cleans or re-encodes the path.
func rawDo(t *testing.T, host, user, password, method, target, body string, headers ...string) response {
	t.Helper()
	conn, err := net.DialTimeout("tcp", host, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(60 * time.Second))
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\nContent-Length: %d\r\n", method, target, host, len(body))
	if user != "" {
		token := base64.StdEncoding.EncodeToString([]byte(user + ":" + password))
		secrets.add(password)
		secrets.add(token)
		fmt.Fprintf(&b, "Authorization: Basic %s\r\n", token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		fmt.Fprintf(&b, "%s: %s\r\n", headers[i], headers[i+1])
	}
	b.WriteString("\r\n" + body)
	secrets.addBody(body)
	if _, err := io.WriteString(conn, b.String()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: method})
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{Status: resp.StatusCode, Header: resp.Header, Body: string(out)}
}

// azReveals names what of alice's an answer shows, or "".
func azReveals(r response, etags []string) string {
	var h strings.Builder
	for k, vs := range r.Header {
		fmt.Fprintf(&h, "%s: %s\n", k, strings.Join(vs, ","))
	}
	all := h.String() + r.Body
	for _, v := range append([]string{authzMark, "alice@example.org"}, etags...) {
		if strings.Contains(all, v) {
			return v
		}
	}
	return ""
}

// azState is alice's whole state: the Depth 1 listing of every collection
// (Depth 0 for the principal), every object body with its ETag, and her
// app passwords.
func azState(t *testing.T, alice *client) (string, []string) {
	t.Helper()
	var b strings.Builder
	var etags []string
	for _, p := range azCollections {
		depth := "1"
		if p == azPrincipal {
			depth = "0"
		}
		b.WriteString(alice.must(207, "PROPFIND", p, `<propfind xmlns="DAV:"><allprop/></propfind>`, "Depth", depth).Body)
		b.WriteString(alice.must(207, "PROPFIND", p, `<propfind xmlns="DAV:"><propname/></propfind>`, "Depth", depth).Body)
	}
	for _, p := range azObjects {
		r := alice.must(200, "GET", p, "")
		etags = append(etags, strings.Trim(r.Header.Get("ETag"), `"`))
		b.WriteString(p + " " + r.Header.Get("ETag") + "\n" + r.Body)
	}
	b.WriteString(alice.must(200, "GET", "/account/app-passwords", "").Body)
	return b.String(), etags
}

func TestAuthorizationMatrix(t *testing.T) {
	s := startServer(t, "")
	addUser(t, s.data, "alice", "alice-password")
	addUser(t, s.data, "bob", "bob-password")
	alice := s.client(t, "alice", "alice-password")
	bob := s.client(t, "bob", "bob-password")
	host := strings.TrimSuffix(strings.TrimPrefix(s.URL, "http://"), "/")

	// Alice's data: every kind of collection and object, each marked.
	alice.must(201, "PUT", azCal+"secret.ics", event(authzMark+"-uid-1", authzMark+" summary"), "Content-Type", "text/calendar")
	alice.must(201, "PUT", azTasks+"secret-task.ics", task(authzMark+"-uid-2", authzMark+" task"), "Content-Type", "text/calendar")
	alice.must(201, "PUT", azBook+"secret.vcf", contact3(authzMark+"-uid-3", authzMark+" Person"), "Content-Type", "text/vcard")
	alice.must(201, "MKCOL", azPlain, `<D:mkcol xmlns:D="DAV:"><D:set><D:prop><D:displayname>`+authzMark+` files</D:displayname></D:prop></D:set></D:mkcol>`, "Content-Type", "application/xml")
	alice.must(201, "MKCOL", azNested, "")
	alice.must(201, "PUT", azPlain+"top.txt", authzMark+" top file", "Content-Type", "text/plain")
	alice.must(201, "PUT", azNested+"deep.txt", authzMark+" deep file", "Content-Type", "text/plain")
	for _, p := range []string{azCal, azTasks, azBook, azNested} {
		alice.must(207, "PROPPATCH", p, `<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:displayname>`+authzMark+` name</D:displayname></D:prop></D:set></D:propertyupdate>`)
	}
	alice.must(207, "PROPPATCH", azCal+"secret.ics", `<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><X:note xmlns:X="urn:x">`+authzMark+` dead property</X:note></D:prop></D:set></D:propertyupdate>`)
	alice.must(201, "POST", "/account/app-passwords", `{"label": "`+authzMark+` phone"}`, "Content-Type", "application/json")
	var appPasswords struct {
		List []struct{ ID string } `json:"app_passwords"`
	}
	if err := json.Unmarshal([]byte(alice.must(200, "GET", "/account/app-passwords", "").Body), &appPasswords); err != nil || len(appPasswords.List) != 1 {
		t.Fatalf("alice's app passwords: %v %+v", err, appPasswords)
	}
	// Bob's own resources, the sources of his COPY and MOVE attempts.
	bCal, bStuff := "/dav/calendars/bob/calendar/", "/dav/addressbooks/bob/stuff/"
	bob.must(201, "MKCOL", bStuff, "")
	before, etags := azState(t, alice)

	// 1. Every method on each of alice's resources, and on a twin that does
	// not exist; anonymous requests too.
	var targets []azTarget
	for _, p := range azCollections {
		ghost := strings.Replace(p, "/alice/", "/nobody-here/", 1)
		if p != azPrincipal && p != azCalHome && p != azBookHome {
			ghost = strings.TrimSuffix(p, "/") + "-ghost/"
		}
		targets = append(targets, azTarget{path: p, ghost: ghost}, azTarget{path: strings.TrimSuffix(p, "/"), ghost: strings.TrimSuffix(ghost, "/")})
	}
	for _, p := range azObjects {
		targets = append(targets, azTarget{path: p, ghost: p + "-ghost"})
	}
	// 2. Path tricks: dot segments, encoded dots and slashes, double
	// encoding, backslashes, empty segments, the absolute form.
	targets = append(targets, []azTarget{
		{path: "/dav/calendars/bob/../alice/calendar/secret.ics"},
		{path: "/dav/calendars/bob/./../alice/calendar/"},
		{path: "/dav/calendars/bob/calendar/%2e%2e/%2e%2e/alice/calendar/secret.ics"},
		{path: "/dav/calendars/bob/calendar/%2E%2E/%2E%2E/alice/calendar/"},
		{path: "/dav/calendars/bob/calendar/..%2F..%2Falice%2Fcalendar%2Fsecret.ics"},
		{path: "/dav/calendars/bob/calendar/%2e%2e%2f%2e%2e%2falice%2fcalendar%2f"},
		{path: "/dav/calendars/bob%2F..%2Falice/calendar/secret.ics"},
		{path: "/dav/calendars/alice%2Fcalendar/secret.ics"},
		{path: "/dav/calendars/bob/calendar/..%252F..%252Falice%252Fcalendar%252Fsecret.ics", mayBeBobs: true},
		{path: "/dav/calendars/bob%252F..%252Falice/calendar/secret.ics"},
		{path: `/dav/calendars/bob/calendar/..\..\alice\calendar\secret.ics`, mayBeBobs: true},
		{path: "/dav/calendars/bob/calendar/..%5C..%5Calice%5Ccalendar%5Csecret.ics", mayBeBobs: true},
		{path: `/dav/calendars/bob\..\alice/calendar/secret.ics`},
		{path: "//dav/calendars/alice/calendar/secret.ics"},
		{path: "/dav//calendars/alice/calendar/"},
		{path: "/dav/calendars//alice/calendar/secret.ics"},
		{path: "/dav/calendars/bob//../alice/calendar/"},
		{path: "/dav/principals/bob/../alice/"},
		{path: "/dav/calendars/%61lice/calendar/secret.ics"},
		{path: "/dav/calendars/ALICE/calendar/secret.ics"},
		{path: "/dav/calendars/alice%00/calendar/secret.ics"},
		{path: "http://" + host + "/dav/calendars/alice/calendar/secret.ics"},
		{path: "/account/../dav/calendars/alice/calendar/secret.ics"},
	}...)
	requests := azRequests(host)
	sent := 0
	for _, tg := range targets {
		for _, rq := range requests {
			r := rawDo(t, host, "bob", "bob-password", rq.method, tg.path, rq.body, rq.headers...)
			sent++
			if v := azReveals(r, etags); v != "" {
				t.Errorf("bob %s %s reveals %q:\n%.800s", rq.name, tg.path, v, r.Body)
			}
			if r.Status >= 500 || (!tg.mayBeBobs && r.Status < 400) {
				t.Errorf("bob %s %s: status %d\n%.800s", rq.name, tg.path, r.Status, r.Body)
			}
			if tg.ghost != "" {
				g := rawDo(t, host, "bob", "bob-password", rq.method, tg.ghost, rq.body, rq.headers...)
				if g.Status != r.Status || g.Body != r.Body {
					t.Errorf("bob %s tells %s (%d) from %s (%d):\n%s\n%s", rq.name, tg.path, r.Status, tg.ghost, g.Status, r.Body, g.Body)
				}
				a := rawDo(t, host, "", "", rq.method, tg.path, rq.body, rq.headers...)
				if a.Status != http.StatusUnauthorized || azReveals(a, etags) != "" {
					t.Errorf("anonymous %s %s: status %d\n%.800s", rq.name, tg.path, a.Status, a.Body)
				}
			}
		}
	}

	t.Logf("%d targets × %d requests = %d requests as bob, with ghosts and anonymous twins", len(targets), len(requests), sent)

	// 3. Destination headers from bob's own resources into alice's space,
	// as paths and as absolute URLs, with and without Overwrite.
	for _, dest := range []string{
		azCal + "secret.ics", azCal + "new.ics", azCal, azTasks + "secret-task.ics", azBook + "secret.vcf", azBook + "new.vcf",
		azPlain, azPlain + "new/", azNested, azNested + "deep.txt", azCalHome + "new-cal/", azBookHome + "new-book/", azPrincipal,
		"http://" + host + azCal + "secret.ics", "http://" + host + azNested, "http://" + host + azBookHome + "new/",
		"http://evil.example" + azCal + "new.ics",
		"/dav/calendars/bob/../alice/calendar/new.ics", "/dav/calendars/bob/calendar/%2e%2e/%2e%2e/alice/calendar/new.ics",
		"/dav/calendars/bob%2F..%2Falice/calendar/new.ics", "/dav/calendars/%61lice/calendar/new.ics",
		"http://" + host + "/dav/calendars/bob/../alice/calendar/new.ics",
	} {
		for _, src := range []string{bCal + "mine.ics", bStuff} {
			for _, method := range []string{"COPY", "MOVE"} {
				for _, overwrite := range []string{"T", "F"} {
					bob.must(201, "PUT", bCal+"mine.ics", event("bob-own-uid", "Bob's own"), "Content-Type", "text/calendar", "If-None-Match", "*")
					bob.do("MKCOL", bStuff, "")
					r := rawDo(t, host, "bob", "bob-password", method, src, "", "Destination", dest, "Overwrite", overwrite)
					foreign := strings.HasPrefix(dest, "http://evil.example") && r.Status == http.StatusBadGateway // RFC 4918 9.8.5
					if r.Status < 400 || (r.Status >= 500 && !foreign) || azReveals(r, etags) != "" {
						t.Errorf("bob %s %s to %s (Overwrite %s): status %d\n%.800s", method, src, dest, overwrite, r.Status, r.Body)
					}
					bob.must(204, "DELETE", bCal+"mine.ics", "")
				}
			}
		}
	}

	// 4. Multiget hrefs into alice's space, from bob's own collections.
	bob.must(201, "PUT", bCal+"mine.ics", event("bob-own-uid", "Bob's own"), "Content-Type", "text/calendar")
	hrefs := []string{
		azCal + "secret.ics", azTasks + "secret-task.ics", azCal + "ghost.ics",
		"/dav/calendars/bob/calendar/../../alice/calendar/secret.ics",
		"/dav/calendars/bob/calendar/%2e%2e/%2e%2e/alice/calendar/secret.ics",
		"/dav/calendars/bob/calendar/..%2F..%2Falice%2Fcalendar%2Fsecret.ics",
		"/dav/calendars/bob%2F..%2Falice/calendar/secret.ics",
		"http://" + host + azCal + "secret.ics", "//" + host + azCal + "secret.ics",
		"/dav/calendars/%61lice/calendar/secret.ics", "calendar/../../alice/calendar/secret.ics",
	}
	for _, rq := range []struct{ coll, body string }{
		{bCal, `<C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/><C:calendar-data/></D:prop>` + hrefList("D:", hrefs...) + `</C:calendar-multiget>`},
		{"/dav/addressbooks/bob/contacts/", `<CR:addressbook-multiget xmlns:D="DAV:" xmlns:CR="urn:ietf:params:xml:ns:carddav"><D:prop><D:getetag/><CR:address-data/></D:prop>` +
			hrefList("D:", azBook+"secret.vcf", "/dav/addressbooks/bob/contacts/../../alice/contacts/secret.vcf", "http://"+host+azBook+"secret.vcf", azPlain+"top.txt") + `</CR:addressbook-multiget>`},
	} {
		r := rawDo(t, host, "bob", "bob-password", "REPORT", rq.coll, rq.body, "Depth", "1", "Content-Type", "application/xml")
		if r.Status >= 500 || azReveals(r, etags) != "" || strings.Contains(r.Body, "BEGIN:V") {
			t.Errorf("bob's multiget of alice's hrefs on %s: status %d\n%s", rq.coll, r.Status, r.Body)
		}
	}

	// 5. /account/ with bob's credentials: his export, his app passwords,
	// never alice's.
	exp := bob.must(200, "GET", "/account/export", "")
	zr, err := zip.NewReader(strings.NewReader(exp.Body), int64(len(exp.Body)))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		if v := azReveals(response{Body: f.Name + "\n" + string(b)}, etags); v != "" {
			t.Errorf("bob's export holds alice's %q in %s", v, f.Name)
		}
	}
	for _, rq := range []struct {
		method, path, body string
		ok                 bool
	}{
		{"GET", "/account/app-passwords", "", true},
		{"DELETE", "/account/app-passwords/" + appPasswords.List[0].ID, "", false},
		{"DELETE", "/account/app-passwords/..%2F" + appPasswords.List[0].ID, "", false},
		{"GET", "/account/alice/export", "", false},
		{"GET", "/account/export/../../dav/calendars/alice/", "", false},
		{"GET", "/account/%2e%2e/dav/calendars/alice/calendar/secret.ics", "", false},
		{"POST", "/account/password", `{"current": "alice-password", "new": "bob-took-over-9"}`, false},
		{"POST", "/account/erase", `{"password": "alice-password"}`, false},
	} {
		r := rawDo(t, host, "bob", "bob-password", rq.method, rq.path, rq.body, "Content-Type", "application/json")
		if v := azReveals(r, etags); v != "" || r.Status >= 500 || (r.Status < 300) != rq.ok {
			t.Errorf("bob %s %s: status %d, reveals %q\n%s", rq.method, rq.path, r.Status, v, r.Body)
		}
	}
	bob.must(207, "PROPFIND", bCal, "", "Depth", "0") // bob's account survived

	// Nothing of alice's changed.
	if after, _ := azState(t, alice); after != before {
		t.Fatalf("bob's requests changed alice's state:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}
