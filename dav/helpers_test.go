package dav

import (
	"context"
	"encoding/xml"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coffer-dav/coffer/auth"
	"github.com/coffer-dav/coffer/storage"
)

// fakeAuth knows alice and bob (password "pw"), a blocked carol and a
// throttled dave, and refuses names that break the username rule.
type fakeAuth struct {
	accounts map[string]*Account
}

func (f *fakeAuth) Login(ctx context.Context, username, password, remoteAddr string) (*Account, error) {
	switch username {
	case "carol":
		return nil, &auth.Blocked{Reason: "Your subscription ended; data is deleted on 2025-06-01."}
	case "dave":
		return nil, &auth.Throttled{RetryAfter: 90 * time.Second}
	}
	if auth.CheckUsername(username) != nil {
		return nil, auth.ErrNotAUsername
	}
	a, ok := f.accounts[username]
	if !ok || password != "pw" {
		return nil, auth.ErrBadCredentials
	}
	return a, nil
}

// testServer is a handler over fresh provisioned spaces for alice and bob.
type testServer struct {
	db    *storage.DB
	h     http.Handler
	alice *testSpace
	bob   *testSpace
}

// newTestServer starts the handler; opts adjust its Options.
func newTestServer(t testing.TB, opts ...func(*Options)) *testServer {
	t.Helper()
	db := openTestDB(t)
	ts := &testServer{db: db, alice: newTestSpace(t, db, "alice"), bob: newTestSpace(t, db, "bob")}
	for _, s := range []*testSpace{ts.alice, ts.bob} {
		if err := Provision(context.Background(), s); err != nil {
			t.Fatal(err)
		}
	}
	fa := &fakeAuth{accounts: map[string]*Account{
		"alice": {ID: 1, Username: "alice", Email: "alice@example.org", DisplayName: "Alice", Space: ts.alice},
		"bob":   {ID: 2, Username: "bob", Space: ts.bob},
	}}
	o := Options{Auth: fa, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for _, f := range opts {
		f(&o)
	}
	ts.h = NewHandler(o)
	return ts
}

// do sends a request as user (password "pw"); user "" sends none.
// Headers are given as "Name: value" strings.
func (ts *testServer) do(t testing.TB, user, method, target, body string, headers ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, "http://dav.example.org:8443"+target, strings.NewReader(body))
	if user != "" {
		req.SetBasicAuth(user, "pw")
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ":")
		req.Header.Add(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	rec := httptest.NewRecorder()
	ts.h.ServeHTTP(rec, req)
	return rec
}

// msDoc is a parsed multistatus for assertions.
type msDoc struct {
	Responses []msResp `xml:"DAV: response"`
	SyncToken string   `xml:"DAV: sync-token"`
}

type msResp struct {
	Href      string       `xml:"DAV: href"`
	Status    string       `xml:"DAV: status"`
	Propstats []msPropstat `xml:"DAV: propstat"`
}

type msPropstat struct {
	Prop   msProp `xml:"DAV: prop"`
	Status string `xml:"DAV: status"`
}

type msProp struct {
	Inner string `xml:",innerxml"`
}

func parseMS(t testing.TB, rec *httptest.ResponseRecorder) msDoc {
	t.Helper()
	if rec.Code != http.StatusMultiStatus {
		t.Fatalf("status %d, want 207; body:\n%s", rec.Code, rec.Body.String())
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/xml; charset=utf-8" {
		t.Fatalf("Content-Type %q", ct)
	}
	var d msDoc
	if err := xml.Unmarshal(rec.Body.Bytes(), &d); err != nil {
		t.Fatalf("bad multistatus: %v\n%s", err, rec.Body.String())
	}
	return d
}

// resp returns the response with href, or fails.
func (d msDoc) resp(t testing.TB, href string) msResp {
	t.Helper()
	for _, r := range d.Responses {
		if r.Href == href {
			return r
		}
	}
	t.Fatalf("no response for %s in %+v", href, d.Responses)
	return msResp{}
}

// ok returns the inner XML of the 200 propstat, which must come first.
func (r msResp) ok(t testing.TB) string {
	t.Helper()
	if len(r.Propstats) == 0 || r.Propstats[0].Status != "HTTP/1.1 200 OK" {
		t.Fatalf("first propstat of %s is not 200: %+v", r.Href, r.Propstats)
	}
	return r.Propstats[0].Prop.Inner
}

// missing returns the inner XML of the 404 propstat, or "".
func (r msResp) missing() string {
	for _, ps := range r.Propstats {
		if ps.Status == "HTTP/1.1 404 Not Found" {
			return ps.Prop.Inner
		}
	}
	return ""
}

// wantError checks an XML DAV:error answer with a condition element.
func wantError(t testing.TB, rec *httptest.ResponseRecorder, status int, cond string) {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status %d, want %d; body:\n%s", rec.Code, status, rec.Body.String())
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/xml; charset=utf-8" {
		t.Fatalf("error Content-Type %q", ct)
	}
	var e struct {
		XMLName xml.Name
		Inner   string `xml:",innerxml"`
	}
	if err := xml.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.XMLName != (xml.Name{Space: "DAV:", Local: "error"}) {
		t.Fatalf("not a DAV:error (%v): %s", err, rec.Body.String())
	}
	if cond != "" && !strings.Contains(rec.Body.String(), cond) {
		t.Fatalf("error body lacks %s:\n%s", cond, rec.Body.String())
	}
}

// withRoom sets a quota of extra bytes beyond what the properties of a
// freshly provisioned account already take.
func withRoom(t testing.TB, extra int64) func(*Options) {
	t.Helper()
	base, err := newTestServer(t).alice.Usage(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return func(o *Options) { o.QuotaBytes = base + extra }
}
