package web

import (
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"time"

	"github.com/coffer-dav/coffer/auth"
	"github.com/coffer-dav/coffer/dav"
	"github.com/coffer-dav/coffer/encryption"
)

// Options configures New.
type Options struct {
	Auth        *auth.Service // verifies sign-ins and holds the sessions; required
	Secure      bool          // served over TLS: the cookie is Secure and __Host- prefixed
	ServiceName string        // shown in titles; empty means "Coffer"
	ClientURL   string        // the URL to enter in a client, shown on the pages
	Logger      *slog.Logger  // nil: slog.Default()
}

// Handler serves the dashboard's pages.
type Handler struct {
	o     Options
	pages *template.Template
}

// page is what every template gets.
type page struct {
	Service   string
	ClientURL string
	User      string // the signed-in username; empty when signed out
	CSRF      string // the form token
	Error     string // a sentence for the person, when the last form failed
}

//go:embed templates/*.html
var templates embed.FS

// Paths are the dashboard's own paths; everything else is DAV's.
var Paths = []string{"/", "/signin", "/signout", "/signout-all"}

// Cookie names: the session, and the sign-in form's token before a session exists.
const (
	sessionCookie = "coffer_session"
	formCookie    = "coffer_form"
)

// New returns the dashboard's handler.
func New(o Options) (*Handler, error) {
	if o.Auth == nil {
		return nil, errors.New("web: Options.Auth is required")
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.ServiceName == "" {
		o.ServiceName = "Coffer"
	}
	t, err := template.ParseFS(templates, "templates/*.html")
	if err != nil {
		return nil, err
	}
	return &Handler{o: o, pages: t}, nil
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
	post := r.Method == http.MethodPost
	if post && dav.CrossSite(r) {
		h.render(w, http.StatusForbidden, "signin.html", page{Error: "This form was sent from another site, so it was refused."})
		return
	}
	switch {
	case r.URL.Path == "/" && !post:
		h.home(w, r)
	case r.URL.Path == "/signin" && !post:
		h.signinForm(w, r, http.StatusOK, "")
	case r.URL.Path == "/signin" && post:
		h.signin(w, r)
	case (r.URL.Path == "/signout" || r.URL.Path == "/signout-all") && post:
		h.signout(w, r, r.URL.Path == "/signout-all")
	default:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

// home shows the signed-in account, or sends a signed-out browser to sign in.
func (h *Handler) home(w http.ResponseWriter, r *http.Request) {
	s := h.session(r)
	if s == nil {
		http.Redirect(w, r, "/signin", http.StatusSeeOther)
		return
	}
	h.render(w, http.StatusOK, "home.html", page{User: s.Identity.Username, CSRF: s.CSRF})
}

// signinForm shows the sign-in form with a fresh form token, also kept in
// a cookie, so that only a page of this site can send the form.
func (h *Handler) signinForm(w http.ResponseWriter, r *http.Request, status int, msg string) {
	raw, err := encryption.RandomBytes(24)
	if err != nil {
		http.Error(w, "no randomness", http.StatusInternalServerError)
		return
	}
	token := base64.RawURLEncoding.EncodeToString(raw)
	h.setCookie(w, formCookie, token, 0)
	h.render(w, status, "signin.html", page{CSRF: token, Error: msg})
}

// signin checks the form and the password, through the DAV login throttle,
// and starts a session with a new id.
func (h *Handler) signin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	c, err := r.Cookie(h.cookieName(formCookie))
	if err != nil || r.ParseForm() != nil || !sameToken(c.Value, r.PostFormValue("csrf")) {
		h.signinForm(w, r, http.StatusForbidden, "The form had expired. Please sign in again.")
		return
	}
	id, err := h.o.Auth.LoginFrom(r.Context(), r.PostFormValue("username"), r.PostFormValue("password"), r.RemoteAddr)
	var throttled *auth.Throttled
	switch {
	case errors.As(err, &throttled):
		w.Header().Set("Retry-After", dav.RetryAfter(throttled.RetryAfter))
		h.signinForm(w, r, http.StatusServiceUnavailable, "Too many attempts. Please wait a little and try again.")
		return
	case err == nil && id.AppPassword != "":
		err = auth.ErrBadCredentials // an app password is for a device
	}
	if err != nil {
		status := http.StatusUnauthorized
		if !errors.Is(err, auth.ErrBadCredentials) {
			var blocked *auth.Blocked
			if !errors.As(err, &blocked) {
				h.o.Logger.Error("dashboard sign-in failed", "err", err)
				status = http.StatusServiceUnavailable
			}
		}
		h.signinForm(w, r, status, "That username and password do not match.")
		return
	}
	s, err := h.o.Auth.StartSession(r.Context(), id)
	if err != nil {
		h.o.Logger.Error("dashboard session not started", "err", err)
		h.signinForm(w, r, http.StatusServiceUnavailable, "Signing in is not possible just now. Please try again later.")
		return
	}
	h.setCookie(w, formCookie, "", -1)
	h.setCookie(w, sessionCookie, s.Token, int(time.Until(s.Expires).Seconds()))
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// signout ends this session on the server, or every session of the account.
func (h *Handler) signout(w http.ResponseWriter, r *http.Request, everywhere bool) {
	s := h.session(r)
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if s == nil || r.ParseForm() != nil || !sameToken(s.CSRF, r.PostFormValue("csrf")) {
		h.signinForm(w, r, http.StatusForbidden, "You were signed out already, or the form had expired.")
		return
	}
	end := func() error { return h.o.Auth.EndSession(r.Context(), s.Token) }
	if everywhere {
		end = func() error { return h.o.Auth.EndSessions(r.Context(), s.Identity.AccountID) }
	}
	if err := end(); err != nil {
		h.o.Logger.Error("dashboard sign-out failed", "err", err)
		http.Error(w, "signing out failed; please try again", http.StatusServiceUnavailable)
		return
	}
	h.setCookie(w, sessionCookie, "", -1)
	http.Redirect(w, r, "/signin", http.StatusSeeOther)
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

// render writes a page.
func (h *Handler) render(w http.ResponseWriter, status int, name string, p page) {
	p.Service, p.ClientURL = h.o.ServiceName, h.o.ClientURL
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := h.pages.ExecuteTemplate(w, name, p); err != nil {
		h.o.Logger.Error("dashboard page not rendered", "page", name, "err", err)
	}
}

// sameToken compares two form tokens in constant time; empty never matches.
func sameToken(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
