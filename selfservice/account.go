package selfservice

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/coffer-dav/coffer/auth"
)

// eraseRequest confirms an erasure with the password.
type eraseRequest struct {
	Password string `json:"password"`
}

// passwordRequest changes the password.
type passwordRequest struct {
	Current string `json:"current"`
	New     string `json:"new"`
}

// appPasswordRequest creates an app password.
type appPasswordRequest struct {
	Label string `json:"label"`
}

// createdAppPassword is the answer to a creation: the only time the secret is shown.
type createdAppPassword struct {
	auth.AppPasswordInfo
	Password string `json:"password"`
}

// maxRequestBody bounds the JSON request bodies.
const maxRequestBody = 64 << 10

// login checks the request's Basic credentials with auth directly, not
// through the DAV authenticator, so that a blocked (retention) account can
// still export and erase.
func (h *Handler) login(r *http.Request) (*auth.Identity, error) {
	user, pass, ok := r.BasicAuth()
	if !ok {
		return nil, errUnauthorized
	}
	id, err := h.o.Auth.LoginFrom(r.Context(), user, pass, r.RemoteAddr)
	if err != nil {
		return nil, authError(err)
	}
	return id, nil
}

// confirm checks a password given again in a request body: it must be the
// account password of the signed-in user, not an app password.
func (h *Handler) confirm(ctx context.Context, who *auth.Identity, field, password string) error {
	if password == "" {
		return badField(field, "give your account password in \""+field+"\"")
	}
	id, err := h.o.Auth.Login(ctx, who.Username, password)
	if errors.Is(err, auth.ErrBadCredentials) || (err == nil && (id.AccountID != who.AccountID || id.AppPassword != "")) {
		return &apiError{Status: http.StatusForbidden, Field: field, Message: "that is not your account password"}
	}
	if err != nil {
		return authError(err)
	}
	return nil
}

// erase purges the account at once: key slots, then rows, then a checkpoint.
func (h *Handler) erase(w http.ResponseWriter, r *http.Request, who *auth.Identity) error {
	if who.AppPassword != "" {
		return errNeedPassword
	}
	var req eraseRequest
	if err := readJSON(w, r, &req); err != nil {
		return err
	}
	if err := h.confirm(r.Context(), who, "password", req.Password); err != nil {
		return err
	}
	// Forget before and after: no request may act on cached keys meanwhile.
	h.o.Auth.Forget(who.Username)
	err := h.o.Store.DeleteAccount(r.Context(), who.AccountID)
	h.o.Auth.Forget(who.Username)
	if err != nil {
		return err
	}
	h.o.Logger.Info("account erased by its holder", "account", who.AccountID)
	writeJSON(w, http.StatusOK, map[string]string{"erased": who.Username, "message": "The account and all of its data are deleted. This cannot be undone."})
	return nil
}

// changePassword rewraps the user key under a new password; the old one
// stops working at once, also in the login cache. App passwords keep working.
func (h *Handler) changePassword(w http.ResponseWriter, r *http.Request, who *auth.Identity) error {
	if who.AppPassword != "" {
		return errNeedPassword
	}
	var req passwordRequest
	if err := readJSON(w, r, &req); err != nil {
		return err
	}
	if err := auth.CheckPassword(req.New); err != nil {
		return badField("new", strings.ToUpper(err.Error()[:1])+err.Error()[1:])
	}
	if err := h.confirm(r.Context(), who, "current", req.Current); err != nil {
		return err
	}
	if err := h.o.Auth.ChangePassword(r.Context(), who, req.New); err != nil {
		return err
	}
	h.record(r.Context(), who.AccountID, EventPasswordChanged, "")
	writeJSON(w, http.StatusOK, map[string]string{"message": "The password is changed. Devices that used the old one must sign in again; app passwords keep working."})
	return nil
}

// listAppPasswords lists the app passwords, never their secrets.
func (h *Handler) listAppPasswords(w http.ResponseWriter, r *http.Request, who *auth.Identity) error {
	if who.AppPassword != "" {
		return errNeedPassword
	}
	list, err := h.o.Auth.AppPasswords(r.Context(), who)
	if err != nil {
		return appPasswordError(err)
	}
	writeJSON(w, http.StatusOK, map[string]any{"app_passwords": list})
	return nil
}

// createAppPassword creates an app password and shows its secret once.
func (h *Handler) createAppPassword(w http.ResponseWriter, r *http.Request, who *auth.Identity) error {
	if who.AppPassword != "" {
		return errNeedPassword
	}
	var req appPasswordRequest
	if err := readJSON(w, r, &req); err != nil {
		return err
	}
	req.Label = strings.TrimSpace(req.Label)
	if err := auth.CheckLabel(req.Label); err != nil {
		return badField("label", "the label must have 1 to 100 characters and no control characters, e.g. \"Pixel 9\"")
	}
	info, secret, err := h.o.Auth.CreateAppPassword(r.Context(), who, req.Label)
	if err != nil {
		return appPasswordError(err)
	}
	// The label is sealed in the app password's record; the event, kept
	// and mailed in clear, names no device.
	h.record(r.Context(), who.AccountID, EventAppPasswordCreated, "")
	writeJSON(w, http.StatusCreated, createdAppPassword{AppPasswordInfo: info, Password: secret})
	return nil
}

// revokeAppPassword deletes one app password; it stops working at once.
func (h *Handler) revokeAppPassword(w http.ResponseWriter, r *http.Request, who *auth.Identity, id string) error {
	if who.AppPassword != "" {
		return errNeedPassword
	}
	if id == "" || len(id) > 64 {
		return &apiError{Status: http.StatusNotFound, Message: "no such app password"}
	}
	if err := h.o.Auth.RevokeAppPassword(r.Context(), who, id); err != nil {
		return appPasswordError(err)
	}
	h.record(r.Context(), who.AccountID, EventAppPasswordRevoked, "")
	writeJSON(w, http.StatusOK, map[string]string{"revoked": id})
	return nil
}

// appPasswordError maps auth's app password errors to answers.
func appPasswordError(err error) error {
	switch {
	case errors.Is(err, auth.ErrUnknownAppPassword):
		return &apiError{Status: http.StatusNotFound, Message: "no such app password"}
	case errors.Is(err, auth.ErrTooManyAppPasswords):
		return &apiError{Status: http.StatusConflict, Message: "there are already 100 app passwords; revoke one first"}
	case errors.Is(err, auth.ErrAppPasswordsOff):
		return &apiError{Status: http.StatusNotImplemented, Message: "this server does not offer app passwords"}
	}
	return err
}

// record writes an event to the notification history. The change it
// records is done already, so a failure is logged, not answered.
func (h *Handler) record(ctx context.Context, account int64, kind, detail string) {
	if h.o.Events == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := h.o.Events.Record(ctx, account, kind, detail); err != nil {
		h.o.Logger.Error("recording an account event failed", "account", account, "kind", kind, "err", err)
	}
}

// readJSON reads a bounded JSON object into v: a body of another type is a
// 415, anything else but a JSON object a 400.
func readJSON(w http.ResponseWriter, r *http.Request, v any) error {
	// Only application/json: a browser sends it cross-site only after a
	// CORS preflight, which nothing here answers, so no form or text/plain
	// POST from another page can act with cached credentials.
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return errNotJSON
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return &apiError{Status: http.StatusRequestEntityTooLarge, Message: "the request body is too large"}
		}
		return &apiError{Status: http.StatusBadRequest, Message: "the request body could not be read"}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var typeErr *json.UnmarshalTypeError
		switch {
		case errors.As(err, &typeErr) && typeErr.Field == "":
			return &apiError{Status: http.StatusBadRequest, Message: "the request body must be a JSON object"}
		case errors.As(err, &typeErr):
			return badField(typeErr.Field, "\""+typeErr.Field+"\" must be a string")
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			return badField(field, "unknown field \""+field+"\"")
		}
		return &apiError{Status: http.StatusBadRequest, Message: "the request body must be a JSON object"}
	}
	if dec.More() {
		return &apiError{Status: http.StatusBadRequest, Message: "the request body must be a single JSON object"}
	}
	return nil
}
