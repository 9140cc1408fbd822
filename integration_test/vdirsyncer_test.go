package integration_test

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-webdav"
	"github.com/emersion/go-webdav/caldav"
)

// vdsCollection is one collection that vdirsyncer syncs: a folder of
// files on the local side and a DAV collection on the server.
type vdsCollection struct {
	name   string                          // collection name on both sides
	pair   string                          // vdirsyncer pair: "contacts" or "calendars"
	ext    string                          // file extension: ".vcf" or ".ics"
	prefix string                          // UID prefix of its items
	count  int                             // items created locally before the first sync
	item   func(uid, marker string) string // the item with a marker in its name or summary
	edit   bool                            // whether the second round edits it
}

// vdsCollections are the collections of TestVdirsyncer: the defaults of a
// new account, and "projects", which exists only locally at first and is
// created on the server by vdirsyncer's discover (extended MKCOL).
var vdsCollections = []vdsCollection{
	{"contacts", "contacts", ".vcf", "vds-card-", 200, vdsContact, true},
	{"calendar", "calendars", ".ics", "vds-event-", 200, event, true},
	{"tasks", "calendars", ".ics", "vds-task-", 50, task, true},
	{"projects", "calendars", ".ics", "vds-project-", 5, event, false},
}

// vdsContact alternates between the Apple vCard 3 and the Thunderbird
// vCard 4 fixtures, by the parity of the UID's last byte.
func vdsContact(uid, marker string) string {
	if uid[len(uid)-1]%2 == 0 {
		return contact3(uid, marker)
	}
	return contact4(uid, marker)
}

// vdsUID names item i of a collection; "+" is a character vdirsyncer
// keeps in file names and hrefs, so some UIDs carry one.
func (c vdsCollection) vdsUID(i int) string {
	if i%10 == 7 {
		return fmt.Sprintf("%s%03d+x", c.prefix, i)
	}
	return fmt.Sprintf("%s%03d", c.prefix, i)
}

// vdsEdits is the second round of changes, by item number, applied to
// each collection that has edit set. New items get the numbers from count
// up.
type vdsEdits struct {
	localEdit, remoteEdit, localDelete, remoteDelete, conflict []int
	localNew, remoteNew                                        int
}

// vdsSpan returns the numbers from..to-1.
func vdsSpan(from, to int) []int {
	var out []int
	for i := from; i < to; i++ {
		out = append(out, i)
	}
	return out
}

// TestVdirsyncer is a two-way sync with vdirsyncer between a local folder
// (filesystem storage) and the server (carddav and caldav storages) with
// 200 contacts, 200 events and 50 tasks. Discover creates a calendar that
// only exists locally. The first sync uploads everything; then both sides
// edit, delete and create items, and change the same items differently (a
// conflict, which "a wins" resolves for the local side). After the second
// sync both sides hold exactly the expected items with the same content;
// the second sync moved the sync-token of every collection it wrote to and
// no other, and a sync-collection REPORT from the token before it reports
// exactly its writes and deletions. A third sync changes nothing anywhere.
func TestVdirsyncer(t *testing.T) {
	bin := requireTool(t, "vdirsyncer", nil)
	vdirsyncerRoundTrip(t, bin, startServer(t, "").target())
}

// vdirsyncerRoundTrip is TestVdirsyncer's sync with the vdirsyncer binary
// bin against the service s.
func vdirsyncerRoundTrip(t *testing.T, bin string, s davTarget) {
	const user, password = "vdsuser", "vdirsyncer-password"
	s.addUser(t, user, password)
	c := s.client(t, user, password)
	dir := t.TempDir()
	remote := func(col vdsCollection) string {
		if col.pair == "contacts" {
			return "/dav/addressbooks/" + user + "/" + col.name + "/"
		}
		return "/dav/calendars/" + user + "/" + col.name + "/"
	}
	local := func(col vdsCollection) string { return filepath.Join(dir, col.pair, col.name) }

	// want holds, for each collection, the expected item content by file name.
	want := map[string]map[string]string{}
	for _, col := range vdsCollections {
		want[col.name] = map[string]string{}
		if err := os.MkdirAll(local(col), 0o755); err != nil {
			t.Fatal(err)
		}
		for i := range col.count {
			uid := col.vdsUID(i)
			want[col.name][uid+col.ext] = col.item(uid, fmt.Sprintf("Item %d", i))
			vdsWriteFile(t, filepath.Join(local(col), uid+col.ext), want[col.name][uid+col.ext])
		}
	}
	config := filepath.Join(dir, "config")
	vdsWriteFile(t, config, vdsConfig(dir, s.URL, user, password))
	vdirsyncer := func(args ...string) string {
		t.Helper()
		out, err := runExternal(t, 2*time.Minute, strings.Repeat("y\n", 10), bin, append([]string{"-c", config}, args...)...)
		if err != nil {
			t.Fatalf("vdirsyncer %s: %v\n%s\n--- server output ---\n%s", strings.Join(args, " "), err, out, lastLines(s.output(), 40))
		}
		t.Logf("vdirsyncer %s: %d lines of output", strings.Join(args, " "), strings.Count(out, "\n"))
		return out
	}
	// compare asserts that both sides hold exactly the expected items.
	compare := func(when string) {
		t.Helper()
		for _, col := range vdsCollections {
			l := vdsLocalItems(t, local(col))
			r := vdsRemoteItems(t, c, remote(col))
			w := map[string]string{}
			for name, body := range want[col.name] {
				w[name] = normalizeItem(body)
			}
			vdsAssertSame(t, when+": local "+col.name, l, w)
			vdsAssertSame(t, when+": server "+col.name, r, w)
		}
	}

	// Round 1: discover (it creates "projects" on the server) and upload.
	out := vdirsyncer("discover")
	if !strings.Contains(out, `"projects"`) {
		t.Fatalf("discover did not see the local projects collection:\n%s", out)
	}
	vdsAssertCalendars(t, s.URL, user, password, map[string]string{"calendar": "VEVENT", "tasks": "VTODO", "projects": ""})
	vdirsyncer("sync")
	compare("after the first sync")
	tokens := map[string]string{}
	for _, col := range vdsCollections {
		tokens[col.name] = c.propOf(t, remote(col), "sync-token")
		if tokens[col.name] == "" {
			t.Fatalf("%s has no sync-token", remote(col))
		}
	}

	// Round 2: both sides change.
	e := vdsEdits{
		localEdit: vdsSpan(0, 10), remoteEdit: vdsSpan(10, 20),
		localDelete: vdsSpan(20, 25), remoteDelete: vdsSpan(25, 30),
		conflict: vdsSpan(30, 33), localNew: 5, remoteNew: 5,
	}
	for _, col := range vdsCollections {
		if !col.edit {
			continue
		}
		l, r, w := local(col), remote(col), want[col.name]
		file := func(i int) string { return col.vdsUID(i) + col.ext }
		for _, i := range e.localEdit {
			w[file(i)] = col.item(col.vdsUID(i), fmt.Sprintf("Item %d edited locally", i))
			vdsWriteFile(t, filepath.Join(l, file(i)), w[file(i)])
		}
		for _, i := range e.remoteEdit {
			w[file(i)] = col.item(col.vdsUID(i), fmt.Sprintf("Item %d edited on the server", i))
			vdsPutIfMatch(t, c, r+file(i), w[file(i)])
		}
		for _, i := range e.conflict {
			vdsPutIfMatch(t, c, r+file(i), col.item(col.vdsUID(i), fmt.Sprintf("Item %d conflict, server side", i)))
			w[file(i)] = col.item(col.vdsUID(i), fmt.Sprintf("Item %d conflict, local side", i))
			vdsWriteFile(t, filepath.Join(l, file(i)), w[file(i)])
		}
		for _, i := range e.localDelete {
			delete(w, file(i))
			if err := os.Remove(filepath.Join(l, file(i))); err != nil {
				t.Fatal(err)
			}
		}
		for _, i := range e.remoteDelete {
			delete(w, file(i))
			etag := c.must(200, "GET", r+file(i), "").Header.Get("ETag")
			c.must(204, "DELETE", r+file(i), "", "If-Match", etag)
		}
		for i := col.count; i < col.count+e.localNew; i++ {
			w[file(i)] = col.item(col.vdsUID(i), fmt.Sprintf("Item %d new locally", i))
			vdsWriteFile(t, filepath.Join(l, file(i)), w[file(i)])
		}
		for i := col.count + e.localNew; i < col.count+e.localNew+e.remoteNew; i++ {
			w[file(i)] = col.item(col.vdsUID(i), fmt.Sprintf("Item %d new on the server", i))
			c.must(201, "PUT", r+file(i), w[file(i)], "Content-Type", vdsContentType(col), "If-None-Match", "*")
		}
	}
	pre := map[string]string{}
	for _, col := range vdsCollections {
		pre[col.name] = c.propOf(t, remote(col), "sync-token")
	}
	out = vdirsyncer("sync")
	for _, col := range vdsCollections {
		for _, i := range e.conflict {
			if col.edit && !strings.Contains(out, "conflict resolution for item "+col.vdsUID(i)+"...") {
				t.Errorf("the second sync saw no conflict for %s:\n%s", col.vdsUID(i), out)
			}
		}
	}
	compare("after the second sync")
	// What vdirsyncer wrote to the server moved each edited collection's
	// token, and sync-collection from the token before reports exactly
	// those writes; an untouched collection keeps its token.
	for _, col := range vdsCollections {
		tok := c.propOf(t, remote(col), "sync-token")
		if moved := tok != pre[col.name]; moved != col.edit {
			t.Errorf("%s: sync-token %q after the second sync, %q before; moved %v, want %v", remote(col), tok, pre[col.name], moved, col.edit)
		}
		tokens[col.name] = tok
		var changed, deleted []string
		if col.edit {
			for _, i := range slices.Concat(e.localEdit, e.conflict, vdsSpan(col.count, col.count+e.localNew)) {
				changed = append(changed, col.vdsUID(i)+col.ext)
			}
			for _, i := range e.localDelete {
				deleted = append(deleted, col.vdsUID(i)+col.ext)
			}
		}
		gotChanged, gotDeleted := vdsSyncChanges(t, c, remote(col), pre[col.name])
		slices.Sort(changed)
		slices.Sort(deleted)
		if !slices.Equal(gotChanged, changed) || !slices.Equal(gotDeleted, deleted) {
			t.Errorf("%s: sync-collection from before the second sync reports changed %v and deleted %v; want changed %v and deleted %v",
				remote(col), gotChanged, gotDeleted, changed, deleted)
		}
	}

	// Round 3: nothing changed, so nothing may happen.
	before := map[string]map[string]time.Time{}
	for _, col := range vdsCollections {
		before[col.name] = vdsModTimes(t, local(col))
	}
	out = vdirsyncer("sync")
	for _, action := range []string{"Copying", "Deleting", "conflict"} {
		if strings.Contains(out, action) {
			t.Errorf("the third sync was not a no-op:\n%s", out)
			break
		}
	}
	for _, col := range vdsCollections {
		if tok := c.propOf(t, remote(col), "sync-token"); tok != tokens[col.name] {
			t.Errorf("%s: the third sync moved the sync-token from %q to %q", remote(col), tokens[col.name], tok)
		}
		if after := vdsModTimes(t, local(col)); !maps.Equal(after, before[col.name]) {
			t.Errorf("local %s: the third sync rewrote files", col.name)
		}
	}
	compare("after the third sync")
}

// vdsConfig writes the vdirsyncer configuration: one pair for contacts and
// one for calendars, collections from both sides, the local side winning
// conflicts.
func vdsConfig(dir, base, user, password string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "[general]\nstatus_path = %q\n", filepath.Join(dir, "status")+"/")
	for _, p := range []struct{ name, typ, ext, home string }{
		{"contacts", "carddav", ".vcf", "dav/addressbooks/"},
		{"calendars", "caldav", ".ics", "dav/calendars/"},
	} {
		fmt.Fprintf(&b, `
[pair %[1]s]
a = "%[1]s_local"
b = "%[1]s_remote"
collections = ["from a", "from b"]
conflict_resolution = "a wins"

[storage %[1]s_local]
type = "filesystem"
path = %[2]q
fileext = %[3]q

[storage %[1]s_remote]
type = %[4]q
url = %[5]q
username = %[6]q
password = %[7]q
`, p.name, filepath.Join(dir, p.name)+"/", p.ext, p.typ, base+p.home+user+"/", user, password)
	}
	return b.String()
}

// vdsContentType is the media type a client PUTs into the collection.
func vdsContentType(col vdsCollection) string {
	if col.ext == ".vcf" {
		return "text/vcard; charset=utf-8"
	}
	return "text/calendar; charset=utf-8"
}

// vdsPutIfMatch replaces an item on the server as a careful client does:
// GET for the ETag, then PUT with If-Match, which must answer 204 with a
// new ETag.
func vdsPutIfMatch(t *testing.T, c *client, href, body string) {
	t.Helper()
	ct := "text/calendar; charset=utf-8"
	if strings.HasSuffix(href, ".vcf") {
		ct = "text/vcard; charset=utf-8"
	}
	etag := c.must(200, "GET", href, "").Header.Get("ETag")
	r := c.must(204, "PUT", href, body, "Content-Type", ct, "If-Match", etag)
	if got := r.Header.Get("ETag"); got == "" || got == etag {
		t.Fatalf("PUT %s with If-Match: ETag %q, was %q", href, got, etag)
	}
}

// normalizeItem makes items that vdirsyncer moved through XML comparable:
// LF line ends, unfolded lines, no trailing line break. Content is not
// otherwise touched.
func normalizeItem(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\n ", "")
	s = strings.ReplaceAll(s, "\n\t", "")
	return strings.TrimRight(s, "\n")
}

// vdsLocalItems reads a local collection: file name to normalized content.
func vdsLocalItems(t *testing.T, dir string) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, e := range entries {
		if e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = normalizeItem(string(b))
	}
	return out
}

// vdsRemoteItems reads a server collection through a Depth 1 PROPFIND and
// a GET of each member: last path segment of the href to normalized content.
func vdsRemoteItems(t *testing.T, c *client, coll string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, href := range c.listing(t, coll) {
		out[path.Base(href)] = normalizeItem(c.must(200, "GET", href, "").Body)
	}
	return out
}

// vdsAssertSame fails the test unless got and want have the same names
// and contents, listing the differences.
func vdsAssertSame(t *testing.T, what string, got, want map[string]string) {
	t.Helper()
	var missing, extra, differ []string
	for name, body := range want {
		g, found := got[name]
		switch {
		case !found:
			missing = append(missing, name)
		case g != body:
			differ = append(differ, name)
		}
	}
	for name := range got {
		if _, found := want[name]; !found {
			extra = append(extra, name)
		}
	}
	if len(missing)+len(extra)+len(differ) == 0 {
		return
	}
	slices.Sort(missing)
	slices.Sort(extra)
	slices.Sort(differ)
	msg := fmt.Sprintf("%s: %d items, want %d; missing %v; unexpected %v; different %v", what, len(got), len(want), missing, extra, differ)
	if len(differ) > 0 {
		msg += fmt.Sprintf("\nfirst difference, %s:\n--- got\n%s\n--- want\n%s", differ[0], got[differ[0]], want[differ[0]])
	}
	t.Fatal(msg)
}

// vdsModTimes returns the modification time of each file in a folder.
func vdsModTimes(t *testing.T, dir string) map[string]time.Time {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]time.Time{}
	for _, e := range entries {
		info, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = info.ModTime()
	}
	return out
}

// vdsAssertCalendars checks with the go-webdav client that the calendar
// home on the server at base holds the named calendars, with the given
// component ("" for any).
func vdsAssertCalendars(t *testing.T, base, user, password string, want map[string]string) {
	t.Helper()
	hc := webdav.HTTPClientWithBasicAuth(http.DefaultClient, user, password)
	cal, err := caldav.NewClient(hc, base)
	if err != nil {
		t.Fatal(err)
	}
	home := "/dav/calendars/" + user + "/"
	cals, err := cal.FindCalendars(context.Background(), home)
	if err != nil {
		t.Fatalf("calendars in %s: %v", home, err)
	}
	got := map[string]string{}
	for _, c := range cals {
		got[strings.TrimSuffix(strings.TrimPrefix(c.Path, home), "/")] = strings.Join(c.SupportedComponentSet, ",")
	}
	for name, comp := range want {
		g, found := got[name]
		if !found || comp != "" && g != comp {
			t.Fatalf("calendars in %s: %v; want %s with %q", home, got, name, comp)
		}
	}
}

// vdsSyncChanges sends a sync-collection REPORT (RFC 6578) from token and
// returns the names of the members it reports as changed and as deleted,
// sorted.
func vdsSyncChanges(t *testing.T, c *client, coll, token string) (changed, deleted []string) {
	t.Helper()
	body := `<?xml version="1.0" encoding="utf-8"?><sync-collection xmlns="DAV:"><sync-token>` + token +
		`</sync-token><sync-level>1</sync-level><prop><getetag/></prop></sync-collection>`
	r := c.must(207, "REPORT", coll, body, "Content-Type", "application/xml; charset=utf-8", "Depth", "0")
	for _, resp := range parseMultistatus(t, r.Body).Responses {
		href, err := url.PathUnescape(resp.Href)
		if err != nil {
			t.Fatalf("sync-collection href %q: %v", resp.Href, err)
		}
		switch {
		case href == coll:
		case strings.Contains(resp.Status, " 404 "):
			deleted = append(deleted, path.Base(href))
		default:
			changed = append(changed, path.Base(href))
		}
	}
	slices.Sort(changed)
	slices.Sort(deleted)
	return changed, deleted
}

// vdsWriteFile writes a file or fails the test.
func vdsWriteFile(t *testing.T, name, content string) {
	t.Helper()
	if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
