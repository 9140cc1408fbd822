package web

import (
	"context"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/coffer-dav/coffer/account"
	"github.com/coffer-dav/coffer/auth"
	"github.com/coffer-dav/coffer/dav"
	"github.com/coffer-dav/coffer/encryption"
	"github.com/coffer-dav/coffer/storage"
	"golang.org/x/text/language"
)

// Options configures New.
type Options struct {
	Auth       *auth.Service               // verifies sign-ins and holds the sessions; required
	Life       *account.Lifecycle          // the account's state, history and changes; required
	Store      Store                       // the accounts' records and data; required
	Creator    account.Creator             // creates accounts at sign-up; required with Signup
	Signup     bool                        // people may register themselves (needs e-mail)
	Secure     bool                        // served over TLS: the cookie is Secure and __Host- prefixed
	Operator   Operator                    // the operator's name, contacts and links
	BaseURL    *url.URL                    // the server's root as clients reach it, for links and profiles; required
	QuotaBytes int64                       // each account's storage quota; 0: none
	Logger     *slog.Logger                // nil: slog.Default()
	Now        func() time.Time            // nil: time.Now
	Rand       func(n int) ([]byte, error) // nil: encryption.RandomBytes; tests set it
}

// Operator is what the operator tells the people who use the service.
type Operator struct {
	ServiceName string // shown in titles; empty means "Coffer"
	Support     string // a support e-mail address; empty: none shown
	TermsURL    string // the terms of service; empty: no link
	PrivacyURL  string // the privacy notice; empty: no link
	ShopURL     string // where a subscription is bought or extended; empty: no link
}

// Store is the accounts' records and data as the dashboard reads and erases them.
type Store interface {
	// Space opens an account's collections under its keys.
	Space(account int64, keys *encryption.Keyring) storage.Space
	// AccountByUsername returns an account, or storage.ErrNotFound.
	AccountByUsername(ctx context.Context, username string) (*storage.Account, error)
	// AccountByEmail returns the one account with an e-mail address, or storage.ErrNotFound.
	AccountByEmail(ctx context.Context, email string) (*storage.Account, error)
	// DeleteAccount erases an account at once.
	DeleteAccount(ctx context.Context, account int64) error
}

// Handler serves the dashboard's pages.
type Handler struct {
	o       Options
	langs   []*lang
	matcher language.Matcher
	routes  map[string]route

	resends    chan struct{}  // a slot per resend running after its answer
	background sync.WaitGroup // the work that runs after a request's answer
}

// route is one dashboard path: what GET and POST do there, and whether
// they need a signed-in session.
type route struct {
	get, post func(q *req)
	public    bool // served without a session
}

// req is one dashboard request, with its session (nil when signed out)
// and the language of its pages.
type req struct {
	w    http.ResponseWriter
	r    *http.Request
	s    *auth.Session
	lang *lang
	csrf string // the form token of the pages written
}

// page is what every template gets.
type page struct {
	Service  string
	Operator Operator
	Lang     string // the page's language tag
	Path     string // the page's path, to mark the current navigation entry
	BaseURL  string // the URL clients are set up with
	User     string // the signed-in username; empty when signed out
	CSRF     string // the form token
	Signup   bool   // sign-up is open
	Error    string // a message key, when the last form failed
	Notice   string // a message key, when the last form did what it should
	Data     any    // the page's own content
}

//go:embed templates/*.html
var templates embed.FS

//go:embed static
var static embed.FS

// Paths are the dashboard's own paths; everything else is DAV's.
var Paths = []string{"/", "/signin", "/signout", "/signout-all", "/signup", "/confirm", "/resend",
	"/devices", "/devices/profile", "/app-passwords", "/app-passwords/revoke", "/notifications",
	"/settings", "/settings/name", "/settings/email", "/settings/password", "/settings/recovery", "/email/confirm",
	"/data", "/data/export", "/data/erase", "/push/remove", "/static/style.css"}

// Cookie names: the session, and the form token of a browser without one.
const (
	sessionCookie = "coffer_session"
	formCookie    = "coffer_form"
)

// maxForm bounds a form's body.
const maxForm = 16 << 10

// maxResends bounds the confirmation resends running at once.
const maxResends = 8

// New returns the dashboard's handler.
func New(o Options) (*Handler, error) {
	switch {
	case o.Auth == nil || o.Life == nil || o.Store == nil || o.BaseURL == nil:
		return nil, errors.New("web: Options.Auth, Life, Store and BaseURL are required")
	case o.Signup && o.Creator == nil:
		return nil, errors.New("web: Options.Signup needs Options.Creator")
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Operator.ServiceName == "" {
		o.Operator.ServiceName = "Coffer"
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Rand == nil {
		o.Rand = encryption.RandomBytes
	}
	langs, err := loadLangs()
	if err != nil {
		return nil, err
	}
	h := &Handler{o: o, langs: langs, matcher: newMatcher(langs), resends: make(chan struct{}, maxResends)}
	h.routes = map[string]route{
		"/":                     {get: h.overview},
		"/signin":               {get: h.signinForm, post: h.signin, public: true},
		"/signout":              {post: h.signout},
		"/signout-all":          {post: h.signoutAll},
		"/signup":               {get: h.signupForm, post: h.signup, public: true},
		"/confirm":              {get: h.confirmForm, post: h.confirm, public: true},
		"/resend":               {get: h.resendForm, post: h.resend, public: true},
		"/devices":              {get: h.devices, post: h.addDevice},
		"/devices/profile":      {post: h.deviceProfile},
		"/app-passwords":        {get: h.appPasswords, post: h.addAppPassword},
		"/app-passwords/revoke": {post: h.revokeAppPassword},
		"/notifications":        {get: h.notifications},
		"/settings":             {get: h.settings},
		"/settings/name":        {post: h.setName},
		"/settings/email":       {post: h.setEmail},
		"/settings/password":    {post: h.setPassword},
		"/settings/recovery":    {post: h.newRecoveryCode},
		"/email/confirm":        {get: h.emailConfirmForm, post: h.emailConfirm, public: true},
		"/data":                 {get: h.data},
		"/data/export":          {post: h.export},
		"/data/erase":           {post: h.erase},
		"/push/remove":          {post: h.removePush},
		"/static/style.css":     {get: h.stylesheet, public: true},
	}
	return h, nil
}

// ServeHTTP routes a dashboard request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	// Nothing from another host, no framing, no referrer, nothing cached:
	// the pages show account details.
	hd.Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Cache-Control", "no-store")
	q := &req{w: w, r: r, lang: h.pick(r)}
	rt, ok := h.routes[r.URL.Path]
	var do func(*req)
	switch {
	case !ok:
		http.NotFound(w, r)
		return
	case r.Method == http.MethodGet || r.Method == http.MethodHead:
		do = rt.get
	case r.Method == http.MethodPost:
		do = rt.post
	}
	if do == nil {
		hd.Set("Allow", allow(rt))
		h.render(q, http.StatusMethodNotAllowed, "message.html", "err.method", nil)
		return
	}
	if rt.public && r.URL.Path == "/static/style.css" {
		do(q)
		return
	}
	q.s = h.session(r)
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, maxForm)
		// A form sent from another site is refused before anything is read.
		if dav.CrossSite(r) || r.ParseForm() != nil || !h.formToken(q, r.PostFormValue("csrf")) {
			h.render(q, http.StatusForbidden, "message.html", "err.form", nil)
			return
		}
	}
	if !rt.public && q.s == nil {
		if r.Method == http.MethodPost {
			h.render(q, http.StatusForbidden, "message.html", "err.signedout", nil)
			return
		}
		http.Redirect(w, r, "/signin", http.StatusSeeOther)
		return
	}
	do(q)
}

// Wait waits until the work that earlier requests left running after their
// answer (resent confirmation mails) is done.
func (h *Handler) Wait() { h.background.Wait() }

// allow lists the methods a route answers.
func allow(rt route) string {
	var m []string
	if rt.get != nil {
		m = append(m, "GET", "HEAD")
	}
	if rt.post != nil {
		m = append(m, "POST")
	}
	return strings.Join(m, ", ")
}

// formToken reports whether a posted form token is this browser's: its
// session's, or, signed out, the one in its form cookie (double submit).
func (h *Handler) formToken(q *req, sent string) bool {
	if q.s != nil {
		return sameToken(q.s.CSRF, sent)
	}
	c, err := q.r.Cookie(h.cookieName(formCookie))
	return err == nil && sameToken(c.Value, sent)
}

// token returns the form token for the pages of this request: the
// session's, or a new one kept in the form cookie.
func (h *Handler) token(q *req) string {
	switch {
	case q.s != nil:
		return q.s.CSRF
	case q.csrf != "":
		return q.csrf
	}
	if c, err := q.r.Cookie(h.cookieName(formCookie)); err == nil && len(c.Value) >= 32 {
		q.csrf = c.Value
		return q.csrf
	}
	raw, err := h.o.Rand(24)
	if err != nil {
		return ""
	}
	q.csrf = base64.RawURLEncoding.EncodeToString(raw)
	h.setCookie(q.w, formCookie, q.csrf, 0)
	return q.csrf
}

// session returns the request's live session, or nil.
func (h *Handler) session(r *http.Request) *auth.Session {
	c, err := r.Cookie(h.cookieName(sessionCookie))
	if err != nil {
		return nil
	}
	s, err := h.o.Auth.OpenSession(r.Context(), c.Value)
	if err != nil {
		if !errors.Is(err, auth.ErrNoSession) {
			h.o.Logger.Error("dashboard session not opened", "err", err)
		}
		return nil
	}
	return s
}

// cookieName prefixes a cookie with __Host- under TLS, so that it is bound
// to this host, Secure, and set for the whole site only.
func (h *Handler) cookieName(name string) string {
	if h.o.Secure {
		return "__Host-" + name
	}
	return name
}

// setCookie sets (maxAge > 0, or 0 for the browser's session) or deletes
// (maxAge < 0) a cookie that scripts cannot read and other sites do not send.
func (h *Handler) setCookie(w http.ResponseWriter, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: h.cookieName(name), Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: h.o.Secure, SameSite: http.SameSiteStrictMode})
}

// render writes a page: its template, the message keys of its notice or
// error (either may be ""), and its own content.
func (h *Handler) render(q *req, status int, name, msg string, data any) {
	p := page{Service: h.o.Operator.ServiceName, Operator: h.o.Operator, Lang: q.lang.tag, Path: q.r.URL.Path,
		BaseURL: h.o.BaseURL.String(),
		CSRF:    h.token(q), Signup: h.o.Signup, Data: data}
	if status >= 400 {
		p.Error = msg
	} else {
		p.Notice = msg
	}
	if q.s != nil {
		p.User = q.s.Identity.Username
	}
	q.w.Header().Set("Content-Type", "text/html; charset=utf-8")
	q.w.Header().Set("Content-Language", q.lang.tag)
	q.w.WriteHeader(status)
	if err := q.lang.pages.ExecuteTemplate(q.w, name, p); err != nil {
		h.o.Logger.Error("dashboard page not rendered", "page", name, "err", err)
	}
}

// done returns the notice a redirect asked a page to show ("?done=key"):
// only a notice key of the catalogue, never text from the link.
func done(q *req) string {
	k := q.r.URL.Query().Get("done")
	if _, ok := q.lang.msgs[k]; ok && strings.HasPrefix(k, "notice.") {
		return k
	}
	return ""
}

// fail renders a page for an error no form field explains: a 503 with a
// sentence, and the cause in the log.
func (h *Handler) fail(q *req, what string, err error) {
	h.o.Logger.Error("dashboard: "+what, "err", err)
	h.render(q, http.StatusServiceUnavailable, "message.html", "err.unavailable", nil)
}

// seeOther answers a form with a redirect to a page (Post/Redirect/Get).
func seeOther(q *req, path string) {
	http.Redirect(q.w, q.r, path, http.StatusSeeOther)
}

// stylesheet serves the embedded stylesheet, which may be cached.
func (h *Handler) stylesheet(q *req) {
	b, err := fs.ReadFile(static, "static/style.css")
	if err != nil {
		http.NotFound(q.w, q.r)
		return
	}
	q.w.Header().Set("Cache-Control", "public, max-age=3600")
	q.w.Header().Set("Content-Type", "text/css; charset=utf-8")
	q.w.Write(b)
}

// sameToken compares two form tokens in constant time; empty never matches.
func sameToken(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
