package integration_test

import (
	"encoding/xml"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// Namespaces of the client bodies and of the answers (clients.md, notation).
const (
	nsD  = "DAV:"
	nsC  = "urn:ietf:params:xml:ns:caldav"
	nsCR = "urn:ietf:params:xml:ns:carddav"
	nsCS = "http://calendarserver.org/ns/"
	nsA  = "http://apple.com/ns/ical/"
)

// xnode is one element of a parsed XML answer, namespaces resolved, so
// that assertions do not depend on the prefixes the server picked.
type xnode struct {
	XMLName xml.Name
	Attrs   []xml.Attr `xml:",any,attr"`
	Text    string     `xml:",chardata"`
	Kids    []*xnode   `xml:",any"`
}

// parseXNode parses an XML document into an element tree.
func parseXNode(t *testing.T, body string) *xnode {
	t.Helper()
	var n xnode
	if err := xml.Unmarshal([]byte(body), &n); err != nil {
		t.Fatalf("answer is not XML: %v\n%s", err, body)
	}
	return &n
}

// is reports whether the element has the namespace and local name.
func (n *xnode) is(space, local string) bool {
	return n != nil && n.XMLName.Space == space && n.XMLName.Local == local
}

// child returns the first child element with the name, or nil.
func (n *xnode) child(space, local string) *xnode {
	if n == nil {
		return nil
	}
	for _, k := range n.Kids {
		if k.is(space, local) {
			return k
		}
	}
	return nil
}

// children returns every child element with the name.
func (n *xnode) children(space, local string) []*xnode {
	var out []*xnode
	if n == nil {
		return nil
	}
	for _, k := range n.Kids {
		if k.is(space, local) {
			out = append(out, k)
		}
	}
	return out
}

// attr returns the value of an attribute without namespace.
func (n *xnode) attr(local string) string {
	if n == nil {
		return ""
	}
	for _, a := range n.Attrs {
		if a.Name.Space == "" && a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}

// trimmed returns the element's own text without surrounding space.
func (n *xnode) trimmed() string {
	if n == nil {
		return ""
	}
	return strings.TrimSpace(n.Text)
}

// raw returns the element's own text as sent, or "" for a missing element.
func (n *xnode) raw() string {
	if n == nil {
		return ""
	}
	return n.Text
}

// walk calls fn for the element and all its descendants in document order.
func (n *xnode) walk(fn func(*xnode)) {
	if n == nil {
		return
	}
	fn(n)
	for _, k := range n.Kids {
		k.walk(fn)
	}
}

// hrefTexts returns the texts of the DAV:href children of a property.
func (n *xnode) hrefTexts() []string {
	var out []string
	for _, h := range n.children(nsD, "href") {
		out = append(out, h.trimmed())
	}
	return out
}

// xpropstat is one DAV:propstat with its properties.
type xpropstat struct {
	Status string
	Props  []*xnode
}

// xresponse is one DAV:response of a multistatus, namespace-aware.
type xresponse struct {
	Href      string
	Status    string // response-level status; empty when propstats are used
	Propstats []xpropstat
	node      *xnode
}

// xresponses parses a 207 body into its responses, in document order.
func xresponses(t *testing.T, body string) []xresponse {
	t.Helper()
	root := parseXNode(t, body)
	if !root.is(nsD, "multistatus") {
		t.Fatalf("root is %v, want DAV:multistatus\n%s", root.XMLName, body)
	}
	var out []xresponse
	for _, r := range root.children(nsD, "response") {
		xr := xresponse{Href: r.child(nsD, "href").trimmed(), Status: r.child(nsD, "status").trimmed(), node: r}
		for _, ps := range r.children(nsD, "propstat") {
			xr.Propstats = append(xr.Propstats, xpropstat{Status: ps.child(nsD, "status").trimmed(), Props: ps.child(nsD, "prop").Kids})
		}
		out = append(out, xr)
	}
	return out
}

// ok returns a property from the response's 200 propstat, or nil.
func (r xresponse) ok(space, local string) *xnode {
	for _, ps := range r.Propstats {
		if ps.Status != "HTTP/1.1 200 OK" {
			continue
		}
		for _, p := range ps.Props {
			if p.is(space, local) {
				return p
			}
		}
	}
	return nil
}

// firstStatus returns the text of the first DAV:status element of the
// response in document order, as Thunderbird CardDAV reads it (Q8).
func (r xresponse) firstStatus() string {
	var first *xnode
	r.node.walk(func(n *xnode) {
		if first == nil && n.is(nsD, "status") {
			first = n
		}
	})
	return first.trimmed()
}

// byHref returns the response for an href, and whether there is one.
func byHref(rs []xresponse, href string) (xresponse, bool) {
	for _, r := range rs {
		if r.Href == href {
			return r, true
		}
	}
	return xresponse{}, false
}

// firstResponse returns the first response, as clients that read
// "firstProps" do, or fails the step when there is none.
func firstResponse(t *testing.T, rs []xresponse) xresponse {
	t.Helper()
	if len(rs) == 0 {
		t.Fatalf("the multistatus has no response")
	}
	return rs[0]
}

// mustHref returns the response for an href or fails the step.
func mustHref(t *testing.T, rs []xresponse, href string) xresponse {
	t.Helper()
	r, found := byHref(rs, href)
	if !found {
		var got []string
		for _, x := range rs {
			got = append(got, x.Href)
		}
		t.Fatalf("no response for %s; hrefs: %v", href, got)
	}
	return r
}

// in returns the same client bound to a sub-step, so that must and do
// fail that step only.
func (c *client) in(t *testing.T) *client {
	d := *c
	d.t = t
	return &d
}

// anonymous returns a client that sends no credentials.
func (s *server) anonymous(t *testing.T) *client { return s.client(t, "", "") }

// requires skips a step whose input an earlier, failed step should have
// produced; that earlier step carries the failure.
func requires(t *testing.T, what string, vals ...string) {
	t.Helper()
	for _, v := range vals {
		if v == "" {
			t.Skipf("needs %s from an earlier step, which failed", what)
		}
	}
}

// assertDAVHeader checks an OPTIONS answer against section 1.1 and Q1-Q3:
// 200, a DAV: header that starts with class 1 and lists calendar-access
// and addressbook but no scheduling, and the full Allow list.
func assertDAVHeader(t *testing.T, r response) {
	t.Helper()
	if r.Status != 200 {
		t.Errorf("OPTIONS status %d, want 200", r.Status)
	}
	dav := r.Header.Get("DAV")
	var tokens []string
	for _, v := range strings.Split(dav, ",") {
		tokens = append(tokens, strings.TrimSpace(v))
	}
	if len(tokens) == 0 || tokens[0] != "1" {
		t.Errorf("DAV: %q does not start with the class 1 (Q2)", dav)
	}
	has := map[string]bool{}
	for _, tok := range tokens {
		has[tok] = true
	}
	for _, want := range []string{"calendar-access", "addressbook"} {
		if !has[want] {
			t.Errorf("DAV: %q lacks %s (Q1)", dav, want)
		}
	}
	for _, never := range []string{"calendar-schedule", "calendar-auto-schedule"} {
		if has[never] {
			t.Errorf("DAV: %q advertises %s without RFC 6638 (Q3)", dav, never)
		}
	}
	allow := map[string]bool{}
	for _, m := range strings.Split(r.Header.Get("Allow"), ",") {
		allow[strings.TrimSpace(m)] = true
	}
	for _, m := range []string{"OPTIONS", "GET", "HEAD", "PUT", "DELETE", "PROPFIND", "PROPPATCH", "REPORT", "MKCOL", "MKCALENDAR", "MOVE", "COPY"} {
		if !allow[m] {
			t.Errorf("Allow: %q lacks %s (section 1.1)", r.Header.Get("Allow"), m)
		}
	}
}

// assertUnauthorized checks the answer to a request without credentials:
// 401 with a Basic challenge (section 1.1).
func assertUnauthorized(t *testing.T, r response) {
	t.Helper()
	if r.Status != 401 {
		t.Fatalf("request without credentials: status %d, want 401\n%s", r.Status, r.Body)
	}
	if wa := r.Header.Get("WWW-Authenticate"); !strings.HasPrefix(wa, `Basic realm="`) {
		t.Errorf("WWW-Authenticate %q, want Basic realm=\"...\"", wa)
	}
}

// assertRedirectKeepsMethod checks a well-known answer: a redirect that
// keeps the method (301, 302, 307 or 308, never 303) to /dav/ (section 1.1).
func assertRedirectKeepsMethod(t *testing.T, r response) {
	t.Helper()
	switch r.Status {
	case 301, 302, 307, 308:
	default:
		t.Fatalf("well-known: status %d, want 301, 302, 307 or 308\n%s", r.Status, r.Body)
	}
	loc, err := url.Parse(r.Header.Get("Location"))
	if err != nil || loc.Path != "/dav/" {
		t.Fatalf("well-known: Location %q, want /dav/", r.Header.Get("Location"))
	}
}

// assertMultistatus checks a 207 answer with an XML Content-Type and
// returns its responses.
func assertMultistatus(t *testing.T, r response) []xresponse {
	t.Helper()
	if r.Status != 207 {
		t.Fatalf("status %d, want 207\n%s", r.Status, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/xml") && !strings.HasPrefix(ct, "text/xml") {
		t.Errorf("207 Content-Type %q, want XML", ct)
	}
	return xresponses(t, r.Body)
}

// assertFirstStatusOK checks that the first status of a response reads
// exactly "HTTP/1.1 200 OK" (section 1.2, Q8).
func assertFirstStatusOK(t *testing.T, r xresponse) {
	t.Helper()
	if got := r.firstStatus(); got != "HTTP/1.1 200 OK" {
		t.Errorf("%s: first status %q, want exactly \"HTTP/1.1 200 OK\" (Q8)", r.Href, got)
	}
}

// assertListingHasResourcetype checks that every response of a listing
// carries DAV:resourcetype in its 200 propstat (section 1.2, Q9).
func assertListingHasResourcetype(t *testing.T, rs []xresponse) {
	t.Helper()
	if len(rs) == 0 {
		t.Fatalf("empty listing")
	}
	for _, r := range rs {
		if r.ok(nsD, "resourcetype") == nil {
			t.Errorf("%s: no DAV:resourcetype in a 200 propstat (Q9)", r.Href)
		}
	}
}

// assertAbsolutePathHrefs checks that every href is an absolute path under
// prefix, never a full URL (Q17), and that collections end in "/" (Q4, Q25).
func assertAbsolutePathHrefs(t *testing.T, rs []xresponse, prefix string) {
	t.Helper()
	for _, r := range rs {
		if !strings.HasPrefix(r.Href, "/") || strings.HasPrefix(r.Href, "//") || !strings.HasPrefix(r.Href, prefix) {
			t.Errorf("href %q is not an absolute path under %s (Q17)", r.Href, prefix)
		}
		if rt := r.ok(nsD, "resourcetype"); rt.child(nsD, "collection") != nil && !strings.HasSuffix(r.Href, "/") {
			t.Errorf("collection href %q lacks the trailing slash (Q4, Q25)", r.Href)
		}
	}
}

// assertStrongETag checks that a PUT or GET answer has a strong ETag
// (section 1.4, Q15) and returns it.
func assertStrongETag(t *testing.T, r response) string {
	t.Helper()
	etag := r.Header.Get("ETag")
	if len(etag) < 3 || etag[0] != '"' || etag[len(etag)-1] != '"' {
		t.Errorf("ETag %q is missing or not strong (Q15)", etag)
	}
	return etag
}

// assertWritable checks that a current-user-privilege-set grants write,
// write-content or all (section 1.2).
func assertWritable(t *testing.T, r xresponse) {
	t.Helper()
	privs := privilegeNames(r.ok(nsD, "current-user-privilege-set"))
	if !privs["write"] && !privs["write-content"] && !privs["all"] {
		t.Errorf("%s: current-user-privilege-set %v grants no write (section 1.2)", r.Href, privs)
	}
}

// privilegeNames lists the DAV: privileges in a current-user-privilege-set.
func privilegeNames(set *xnode) map[string]bool {
	out := map[string]bool{}
	for _, p := range set.children(nsD, "privilege") {
		for _, k := range p.Kids {
			if k.XMLName.Space == nsD {
				out[k.XMLName.Local] = true
			}
		}
	}
	return out
}

// reportNames lists the reports of a DAV:supported-report-set.
func reportNames(set *xnode) map[string]bool {
	out := map[string]bool{}
	for _, sr := range set.children(nsD, "supported-report") {
		for _, k := range sr.child(nsD, "report").Kids {
			out[k.XMLName.Local] = true
		}
	}
	return out
}

// assertReports checks that a supported-report-set lists the reports.
func assertReports(t *testing.T, r xresponse, reports ...string) {
	t.Helper()
	got := reportNames(r.ok(nsD, "supported-report-set"))
	for _, want := range reports {
		if !got[want] {
			t.Errorf("%s: supported-report-set %v lacks %s", r.Href, got, want)
		}
	}
}

// componentNames lists the comp names of a supported-calendar-component-set.
func componentNames(set *xnode) []string {
	var out []string
	for _, c := range set.children(nsC, "comp") {
		out = append(out, c.attr("name"))
	}
	return out
}

// colorPattern is how DAVx5 reads a colour (clients.md 2.3) and what
// section 1.2 asks for: #RRGGBB or #RRGGBBAA.
var colorPattern = regexp.MustCompile(`(?i)^#[0-9a-f]{6}([0-9a-f]{2})?$`)

// assertSyncToken checks a sync token: present and a URI that contains
// ":" or "/" (section 1.5, Q22).
func assertSyncToken(t *testing.T, tok string) {
	t.Helper()
	if tok == "" || !strings.ContainsAny(tok, ":/") {
		t.Errorf("sync-token %q is missing or not a URI with ':' or '/' (Q22)", tok)
	}
}

// topSyncToken returns the top-level DAV:sync-token of a sync-collection
// answer (section 1.5).
func topSyncToken(t *testing.T, body string) string {
	t.Helper()
	return strings.TrimSpace(parseMultistatus(t, body).SyncToken)
}

// assertValidSyncTokenError checks the answer to an unknown token: 403
// with an XML Content-Type and a DAV:error holding DAV:valid-sync-token
// (section 1.5, Q12, Q13).
func assertValidSyncTokenError(t *testing.T, r response) {
	t.Helper()
	if r.Status != 403 {
		t.Errorf("invalid token: status %d, want 403\n%s", r.Status, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/xml") {
		t.Errorf("invalid token: Content-Type %q, want application/xml (Q13)", ct)
	}
	root := parseXNode(t, r.Body)
	if !root.is(nsD, "error") || root.child(nsD, "valid-sync-token") == nil {
		t.Errorf("invalid token: body lacks <D:error><D:valid-sync-token/></D:error>:\n%s", r.Body)
	}
}

// syncDelta is what an incremental sync-collection reported.
type syncDelta struct {
	changed map[string]xresponse // 2xx members
	deleted map[string]bool      // members with a response-level 404
}

// assertSyncDelta checks that a sync-collection answer reports exactly the
// changed and the deleted members (section 1.5): changes with a 200
// getetag, deletions as response-level "HTTP/1.1 404 Not Found" without
// propstats. The collection itself may appear with a 200 status.
func assertSyncDelta(t *testing.T, rs []xresponse, coll string, changed, deleted []string) syncDelta {
	t.Helper()
	d := syncDelta{changed: map[string]xresponse{}, deleted: map[string]bool{}}
	for _, r := range rs {
		if r.Href == coll {
			if r.Status != "" && r.Status != "HTTP/1.1 200 OK" {
				t.Errorf("the collection itself is reported with %q", r.Status)
			}
			continue
		}
		switch {
		case r.Status == "HTTP/1.1 404 Not Found":
			if len(r.Propstats) != 0 {
				t.Errorf("deleted %s carries propstats", r.Href)
			}
			d.deleted[r.Href] = true
		case r.Status == "" && r.ok(nsD, "getetag") != nil:
			d.changed[r.Href] = r
		default:
			t.Errorf("member %s: status %q and no 200 getetag (section 1.5)", r.Href, r.Status)
		}
	}
	if len(d.changed) != len(changed) || len(d.deleted) != len(deleted) {
		t.Errorf("sync reported changed %v and deleted %v; want changed %v and deleted %v", keys(d.changed), d.deleted, changed, deleted)
	}
	for _, h := range changed {
		if _, found := d.changed[h]; !found {
			t.Errorf("sync did not report the change of %s", h)
		}
	}
	for _, h := range deleted {
		if !d.deleted[h] {
			t.Errorf("sync did not report the deletion of %s as a 404 response", h)
		}
	}
	return d
}

// keys returns the keys of a response map.
func keys(m map[string]xresponse) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// davTime renders a UTC time as an iCalendar time-range bound.
func davTime(t time.Time) string { return t.UTC().Format("20060102T150405Z") }

// hrefList renders DAV:href elements for a multiget body, with prefix p
// ("" for the default namespace).
func hrefList(p string, hrefs ...string) string {
	var b strings.Builder
	for _, h := range hrefs {
		b.WriteString("<" + p + "href>" + h + "</" + p + "href>")
	}
	return b.String()
}
