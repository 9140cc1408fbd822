// Connecting a device, and the app passwords.

package web

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/coffer-dav/coffer/account"
	"github.com/coffer-dav/coffer/auth"
)

// devicesPage is the content of the "Connect a device" page: what a client
// is set up with, and the form that makes a device's app password.
type devicesPage struct {
	Username  string
	URL       string   // the server's root, which every client finds the rest from
	Host      string   // host and port, which Apple's manual setup asks for
	Principal string   // the principal's URL, for a client that wants a full address
	Calendars string   // the calendar home's URL
	Contacts  string   // the address book home's URL
	Clients   []string // the clients the form offers, in order
	Client    string   // the client chosen in the form
	Label     string   // the label typed in the form
	Mark      string   // the app passwords the form was made with (appPasswordMark)
	Plain     bool     // the URL is http, which Apple's devices may refuse
}

// devicePage is the answer to POST /devices: the device's new app password,
// shown once, and how to set up its client with it.
type devicePage struct {
	devicesPage
	Secret string        // the new app password
	QR     template.HTML // DAVx5 only: the QR code of Link, an inline <svg>
	Link   template.URL  // DAVx5 only: the davx5:// login link
}

// appPasswordsPage is the content of the app passwords page.
type appPasswordsPage struct {
	Username string
	URL      string
	List     []auth.AppPasswordInfo
	New      *auth.AppPasswordInfo // the one just made, whose Secret is shown
	Secret   string
	Label    string // the label typed in the form, after an error
	Mark     string // the app passwords the form was made with (appPasswordMark)
}

// deviceClients are the clients the "Connect a device" form offers.
var deviceClients = []string{"davx5", "apple", "thunderbird", "evolution"}

// appPasswordMarkField is the form field that carries appPasswordMark.
const appPasswordMarkField = "seen"

// devices shows how to connect each client, and the form that makes a
// device's app password.
func (h *Handler) devices(q *req) {
	h.render(q, http.StatusOK, "devices.html", done(q), h.devicesData(q))
}

// devicesData is the "Connect a device" page for this session. Without
// the list of app passwords the form carries no mark, and its POST is not
// checked for a reload.
func (h *Handler) devicesData(q *req) devicesPage {
	user := q.s.Identity.Username
	root := strings.TrimSuffix(h.o.BaseURL.Path, "/")
	abs := func(p string) string {
		u := *h.o.BaseURL
		u.Path, u.RawPath, u.RawQuery, u.Fragment = root+p, "", "", ""
		return u.String()
	}
	seg := url.PathEscape(user)
	var mark string
	if list, err := h.o.Auth.AppPasswords(q.r.Context(), q.s.Identity); err == nil {
		mark = appPasswordMark(list)
	}
	return devicesPage{
		Username:  user,
		URL:       h.o.BaseURL.String(),
		Host:      h.o.BaseURL.Host,
		Principal: abs(devicePrincipalPath(user)),
		Calendars: abs("/dav/calendars/" + seg + "/"),
		Contacts:  abs("/dav/addressbooks/" + seg + "/"),
		Clients:   deviceClients,
		Client:    deviceClients[0],
		Mark:      mark,
		Plain:     strings.EqualFold(h.o.BaseURL.Scheme, "http"),
	}
}

// addDevice makes a new app password for a device and shows it once, with
// what its client needs: a QR code for DAVx5, a profile for Apple's devices,
// the three values to type for Thunderbird and Evolution.
func (h *Handler) addDevice(q *req) {
	// The page as it was, for a refusal: nothing is made then, so its mark still holds.
	d := h.devicesData(q)
	d.Label = strings.TrimSpace(q.r.PostFormValue("label"))
	d.Client = q.r.PostFormValue("client")
	if !slices.Contains(deviceClients, d.Client) {
		d.Client = deviceClients[0]
		h.render(q, http.StatusBadRequest, "devices.html", "err.device.client", d)
		return
	}
	info, secret, status, msg := h.createAppPassword(q, d.Label)
	if msg != "" {
		h.render(q, status, "devices.html", msg, d)
		return
	}
	p := devicePage{devicesPage: d, Secret: secret}
	p.Label = info.Label
	if d.Client == "davx5" {
		link := DAVx5Link(h.o.BaseURL, d.Username, secret)
		svg, err := QRCodeSVG(link)
		if err != nil {
			h.fail(q, "QR code not made", err)
			return
		}
		// The image's name in the page's language, in place of QRCodeSVG's own.
		svg = strings.Replace(svg, `aria-label="QR code"`, `aria-label="`+template.HTMLEscapeString(q.lang.T("device.davx5.qr"))+`"`, 1)
		// QRCodeSVG writes the markup itself, numbers and fixed text only;
		// the link is a davx5:// or caldav:// URL html/template would
		// otherwise refuse as an unknown scheme.
		p.QR, p.Link = template.HTML(svg), template.URL(link)
	}
	h.render(q, http.StatusOK, "device.html", "", p)
}

// deviceProfile sends the Apple configuration profile for an app password
// just made on the "Connect a device" page. The page's form carries the
// password back, since it is stored nowhere; it must be a live app
// password of this session's account, else the answer is a 403 and no
// profile.
func (h *Handler) deviceProfile(q *req) {
	user := q.s.Identity.Username
	secret := strings.TrimSpace(q.r.PostFormValue("secret"))
	// Only something shaped like an app password is tried: anything else
	// (such as the account password) never reaches the password check, so
	// this form is no oracle for it and costs no Argon2 run.
	if !appSecretShaped(secret) {
		h.render(q, http.StatusForbidden, "message.html", "err.device.profile", nil)
		return
	}
	// A live app password is answered before the login throttle; a
	// forged one counts as a failed login from this address, as on DAV.
	// The login is for this session's username, so another account's app
	// password fails already; the account id is compared all the same, in
	// case the name now belongs to another account.
	id := h.checkLogin(q, loginCheck{username: user, password: secret, app: true, wrong: "err.device.profile",
		render: func(status int, msg string) { h.render(q, status, "message.html", msg, nil) }})
	if id == nil {
		return
	}
	b, err := AppleProfile(ProfileOptions{
		ServiceName:   h.o.Operator.ServiceName,
		Base:          h.o.BaseURL,
		PrincipalPath: strings.TrimSuffix(h.o.BaseURL.Path, "/") + devicePrincipalPath(user),
		Username:      user,
		Password:      secret,
	})
	if err != nil {
		h.fail(q, "profile not made", err)
		return
	}
	hd := q.w.Header()
	hd.Set("Content-Type", "application/x-apple-aspen-config")
	hd.Set("Content-Disposition", `attachment; filename="`+profileFilename(h.o.Operator.ServiceName)+`.mobileconfig"`)
	hd.Set("Cache-Control", "no-store")
	q.w.WriteHeader(http.StatusOK)
	q.w.Write(b)
}

// appPasswords lists the account's app passwords, with the form that makes one.
func (h *Handler) appPasswords(q *req) {
	p, err := h.appPasswordsData(q)
	if err != nil {
		h.appPasswordFail(q, err)
		return
	}
	h.render(q, http.StatusOK, "apppasswords.html", done(q), p)
}

// appPasswordsData is the app passwords page for this session.
func (h *Handler) appPasswordsData(q *req) (appPasswordsPage, error) {
	list, err := h.o.Auth.AppPasswords(q.r.Context(), q.s.Identity)
	if err != nil {
		return appPasswordsPage{}, err
	}
	return appPasswordsPage{Username: q.s.Identity.Username, URL: h.o.BaseURL.String(), List: list, Mark: appPasswordMark(list)}, nil
}

// addAppPassword makes an app password and shows its secret, once.
//
// The secret cannot go through a redirect (Post/Redirect/Get) without
// being stored or put in a link, so the page is the POST's answer. A
// reload sends the POST again, with the same session form token; what
// stops it from silently making a second app password is the form's mark
// of the app passwords it was made with (appPasswordMark): after the
// first POST the list differs, and the second one is refused with a
// message. Two forms sent at the same instant could both pass; that only
// makes two app passwords, both listed and revocable.
func (h *Handler) addAppPassword(q *req) {
	label := strings.TrimSpace(q.r.PostFormValue("label"))
	info, secret, status, msg := h.createAppPassword(q, label)
	p, err := h.appPasswordsData(q)
	if err != nil {
		h.appPasswordFail(q, err)
		return
	}
	if msg != "" {
		p.Label = label
		h.render(q, status, "apppasswords.html", msg, p)
		return
	}
	p.New, p.Secret = &info, secret
	h.render(q, http.StatusOK, "apppasswords.html", "", p)
}

// revokeAppPassword deletes an app password; it stops working at once.
func (h *Handler) revokeAppPassword(q *req) {
	appID := q.r.PostFormValue("id")
	err := auth.ErrUnknownAppPassword
	if appID != "" && len(appID) <= 64 {
		err = h.o.Auth.RevokeAppPassword(q.r.Context(), q.s.Identity, appID)
	}
	if errors.Is(err, auth.ErrUnknownAppPassword) {
		p, lerr := h.appPasswordsData(q)
		if lerr != nil {
			h.appPasswordFail(q, lerr)
			return
		}
		h.render(q, http.StatusNotFound, "apppasswords.html", "err.apppassword.unknown", p)
		return
	}
	if err != nil {
		h.appPasswordFail(q, err)
		return
	}
	h.recordAppPassword(q, account.EventAppPasswordRevoked)
	seeOther(q, "/app-passwords?done=notice.apppassword.revoked")
}

// createAppPassword makes an app password for the form's label, unless the
// form is one sent before (a reload: see addAppPassword). It returns the
// new password, or the status and message key of the refusal.
func (h *Handler) createAppPassword(q *req, label string) (info auth.AppPasswordInfo, secret string, status int, msg string) {
	ctx := q.r.Context()
	if auth.CheckLabel(label) != nil {
		return info, "", http.StatusBadRequest, "err.apppassword.label"
	}
	if _, sent := q.r.PostForm[appPasswordMarkField]; sent {
		list, err := h.o.Auth.AppPasswords(ctx, q.s.Identity)
		if err != nil {
			status, msg = h.appPasswordStatus(err)
			return info, "", status, msg
		}
		if q.r.PostFormValue(appPasswordMarkField) != appPasswordMark(list) {
			return info, "", http.StatusConflict, "err.apppassword.resent"
		}
	}
	info, secret, err := h.o.Auth.CreateAppPassword(ctx, q.s.Identity, label)
	if err != nil {
		status, msg = h.appPasswordStatus(err)
		return info, "", status, msg
	}
	// The label is sealed in the app password's record; the event, kept
	// and mailed in clear, names no device.
	h.recordAppPassword(q, account.EventAppPasswordCreated)
	return info, secret, http.StatusOK, ""
}

// recordAppPassword writes an app password event to the account's history,
// as /account/ does. The change is done already, so a failure is logged,
// not shown.
func (h *Handler) recordAppPassword(q *req, kind account.EventKind) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(q.r.Context()), 10*time.Second)
	defer cancel()
	if err := h.o.Life.Record(ctx, q.s.Identity.AccountID, kind, ""); err != nil {
		h.o.Logger.Error("dashboard: account event not recorded", "account", q.s.Identity.AccountID, "kind", kind, "err", err)
	}
}

// appPasswordFail renders the page for an app password operation that
// failed for a reason no form field explains.
func (h *Handler) appPasswordFail(q *req, err error) {
	if errors.Is(err, auth.ErrAppPasswordsOff) {
		h.render(q, http.StatusNotImplemented, "message.html", "err.apppassword.off", nil)
		return
	}
	h.fail(q, "app passwords", err)
}

// appPasswordStatus maps auth's app password errors to a status and a
// message; an unexpected one is logged.
func (h *Handler) appPasswordStatus(err error) (int, string) {
	switch {
	case errors.Is(err, auth.ErrTooManyAppPasswords):
		return http.StatusConflict, "err.apppassword.toomany"
	case errors.Is(err, auth.ErrAppPasswordsOff):
		return http.StatusNotImplemented, "err.apppassword.off"
	}
	h.o.Logger.Error("dashboard: app password not made", "err", err)
	return http.StatusServiceUnavailable, "err.unavailable"
}

// appPasswordMark sums up a list of app passwords, the ids only: a form
// carries the mark of the list it was shown with, and a POST whose mark
// no longer matches is a reload of a form that made one already.
func appPasswordMark(list []auth.AppPasswordInfo) string {
	ids := make([]string, len(list))
	for i, p := range list {
		ids[i] = p.ID
	}
	slices.Sort(ids)
	sum := sha256.Sum256([]byte(strings.Join(ids, "\n")))
	return base64.RawURLEncoding.EncodeToString(sum[:12])
}

// appSecretShaped reports whether s could be an app password: 32 base32
// letters once spaces and hyphens are dropped and letters upper-cased.
func appSecretShaped(s string) bool {
	n := auth.NormalizeSecret(s)
	if len(n) != 32 {
		return false
	}
	for i := 0; i < len(n); i++ {
		if c := n[i]; (c < 'A' || c > 'Z') && (c < '2' || c > '7') {
			return false
		}
	}
	return true
}

// devicePrincipalPath is the path of a user's principal under the server's
// root, written as DAV writes it (a username's characters need no escape
// there but what url.PathEscape escapes).
func devicePrincipalPath(user string) string {
	return "/dav/principals/" + url.PathEscape(user) + "/"
}

// profileFilename makes the service name a file name that needs no
// escaping in a header: ASCII letters, digits, space, "." "_" and "-",
// anything else a hyphen.
func profileFilename(service string) string {
	var b strings.Builder
	for _, r := range service {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == ' ', r == '.', r == '_', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	name := strings.Trim(b.String(), " .-")
	if name == "" {
		return "profile"
	}
	return name
}
