package selfservice

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/coffer-dav/coffer/auth"
	"github.com/coffer-dav/coffer/dav"
	"github.com/coffer-dav/coffer/storage"
)

// apiError is an answer other than success: a status and a sentence for
// the user, naming the request field at fault when there is one.
type apiError struct {
	Status     int
	Message    string
	Field      string
	RetryAfter time.Duration // sent as Retry-After on 503
	Err        error         // the cause, logged for 5xx answers only
}

// errorBody is the JSON form of an apiError.
type errorBody struct {
	Error string `json:"error"`
	Field string `json:"field,omitempty"`
}

func (e *apiError) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *apiError) Unwrap() error { return e.Err }

// Common answers.
var (
	errNotFound     = &apiError{Status: http.StatusNotFound, Message: "no such endpoint"}
	errUnauthorized = &apiError{Status: http.StatusUnauthorized, Message: "sign in with your username and password"}
	errNeedPassword = &apiError{Status: http.StatusForbidden, Message: "an app password cannot do this; sign in with your account password"}
	errCrossSite    = &apiError{Status: http.StatusForbidden, Message: "a request from another site cannot use your account"}
	errNotJSON      = &apiError{Status: http.StatusUnsupportedMediaType, Message: "send the body as Content-Type: application/json"}
)

// badField answers 400 for one request field.
func badField(field, message string) *apiError {
	return &apiError{Status: http.StatusBadRequest, Field: field, Message: message}
}

// fail writes err as a JSON answer. Causes are logged for 5xx with a
// cause only, with the method, path and status: never a credential or a
// body.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	var e *apiError
	switch {
	case errors.As(err, &e):
	case errors.Is(err, storage.ErrFull):
		e = &apiError{Status: http.StatusInsufficientStorage, Message: "the server's disk is full; try again later", Err: err}
	default:
		e = &apiError{Status: http.StatusInternalServerError, Message: "the request failed; try again later", Err: err}
	}
	if e.Status >= 500 && e.Err != nil { // a 503 throttle has no cause: it is an answer, not a failure
		h.o.Logger.Error("account request failed", "method", r.Method, "path", r.URL.Path, "status", e.Status, "err", e.Err)
	}
	writeError(w, e)
}

// writeError writes an apiError as JSON.
func writeError(w http.ResponseWriter, e *apiError) {
	switch e.Status {
	case http.StatusUnauthorized:
		w.Header().Set("WWW-Authenticate", `Basic realm="Coffer", charset="UTF-8"`)
	case http.StatusServiceUnavailable:
		if e.RetryAfter > 0 {
			w.Header().Set("Retry-After", dav.RetryAfter(e.RetryAfter))
		}
	}
	writeJSON(w, e.Status, errorBody{Error: e.Message, Field: e.Field})
}

// writeJSON writes v as the JSON body of a response with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"error": "the answer could not be encoded"}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// authError maps a login refusal to an answer.
func authError(err error) error {
	var throttled *auth.Throttled
	var blocked *auth.Blocked
	switch {
	case errors.Is(err, auth.ErrBadCredentials):
		return &apiError{Status: http.StatusUnauthorized, Message: "invalid username or password"}
	case errors.As(err, &throttled):
		return &apiError{Status: http.StatusServiceUnavailable, Message: "too many login attempts; try again later", RetryAfter: throttled.RetryAfter}
	case errors.As(err, &blocked):
		return &apiError{Status: http.StatusForbidden, Message: blocked.Reason}
	}
	return err
}
