package selfservice

import (
	"bytes"
	"context"
	"fmt"
	"html"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/coffer-dav/coffer/dav"
	"github.com/coffer-dav/coffer/storage"
)

// davWriter stores imported objects through the DAV layer in process, so
// that they are validated, indexed and checked for UID conflicts exactly
// as a client's PUT is, and never re-encoded.
type davWriter struct {
	h    http.Handler
	user string
}

// fixedLogin is an Authenticator that answers with one account, already unlocked.
type fixedLogin struct{ acct *dav.Account }

// recorder keeps the answer of an in-process request.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

// putError is the DAV layer's refusal of one object.
type putError struct {
	Status  int
	Message string
}

// davMessage finds the sentence of a DAV error body.
var davMessage = regexp.MustCompile(`<CO:message>([^<]*)</CO:message>`)

func (f fixedLogin) Login(context.Context, string, string, string) (*dav.Account, error) {
	return f.acct, nil
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(b)
}

func (e *putError) Error() string { return fmt.Sprintf("%d: %s", e.Status, e.Message) }

// newDAVWriter returns a writer into the target's account.
func newDAVWriter(t Target) *davWriter {
	acct := &dav.Account{ID: t.AccountID, Username: t.Username, Space: t.Space}
	log := t.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	o := t.Limits
	o.Auth, o.Logger = fixedLogin{acct}, log
	return &davWriter{h: dav.NewHandler(o), user: t.Username}
}

// put stores one object with PUT; with create it must not exist yet.
func (d *davWriter) put(ctx context.Context, home storage.Home, coll, name, contentType string, body []byte, create bool) error {
	segs := []string{"", "dav", string(home), url.PathEscape(d.user)}
	for _, s := range strings.Split(coll, "/") {
		segs = append(segs, url.PathEscape(s))
	}
	segs = append(segs, url.PathEscape(name))
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, "http://import.invalid/", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.URL.RawPath = strings.Join(segs, "/")
	req.URL.Path, err = url.PathUnescape(req.URL.RawPath)
	if err != nil {
		return err
	}
	req.SetBasicAuth(d.user, "in-process")
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if create {
		req.Header.Set("If-None-Match", "*")
	}
	rec := &recorder{header: http.Header{}}
	d.h.ServeHTTP(rec, req)
	if rec.status == http.StatusCreated || rec.status == http.StatusNoContent {
		return nil
	}
	msg := http.StatusText(rec.status)
	if m := davMessage.FindSubmatch(rec.body.Bytes()); m != nil {
		msg = html.UnescapeString(string(m[1]))
	}
	return &putError{Status: rec.status, Message: msg}
}
