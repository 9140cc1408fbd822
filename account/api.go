package account

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
)

// APIOptions configures the operator API.
type APIOptions struct {
	Token   string // the bearer token every request must carry; required
	Creator Creator
	Logger  *slog.Logger // nil means slog.Default()
}

// api serves the operator API.
type api struct {
	l     *Lifecycle
	o     APIOptions
	token [32]byte
}

// maxRequest bounds an API request body.
const maxRequest = 64 << 10

// Handler returns the operator API: JSON over HTTP, each request with
// "Authorization: Bearer <token>".
func (l *Lifecycle) Handler(o APIOptions) (http.Handler, error) {
	if len(o.Token) < 16 {
		return nil, errors.New("account: the operator token must have at least 16 characters")
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	a := &api{l: l, o: o, token: sha256.Sum256([]byte(o.Token))}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/accounts", a.create)
	mux.HandleFunc("GET /v1/accounts/{username}", a.show)
	mux.HandleFunc("PATCH /v1/accounts/{username}", a.patch)
	mux.HandleFunc("DELETE /v1/accounts/{username}", a.delete)
	mux.HandleFunc("POST /v1/accounts/{username}/confirm", a.confirm)
	mux.HandleFunc("POST /v1/accounts/{username}/payments", a.pay)
	mux.HandleFunc("POST /v1/accounts/{username}/vouchers", a.redeem)
	mux.HandleFunc("POST /v1/vouchers", a.vouchers)
	mux.HandleFunc("POST /v1/sweep", a.sweep)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no such endpoint"})
	})
	return a.authorize(mux), nil
}

// authorize refuses requests without the bearer token. The comparison is
// of hashes, in constant time, so neither the token nor its length leaks.
func (a *api) authorize(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := r.Header.Get("Authorization")
		given, ok := strings.CutPrefix(h, "Bearer ")
		sum := sha256.Sum256([]byte(given))
		if !ok || subtle.ConstantTimeCompare(sum[:], a.token[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="coffer-operator"`)
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "a valid bearer token is required"})
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

func (a *api) create(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Username    string `json:"username"`
		Email       string `json:"email"`
		DisplayName string `json:"display_name"`
		Password    string `json:"password"`
	}
	if !a.decode(w, r, &in) {
		return
	}
	out, err := a.l.CreatePending(r.Context(), a.o.Creator, NewAccount{Username: in.Username, Email: in.Email, DisplayName: in.DisplayName, Password: in.Password})
	if err != nil {
		a.fail(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, out)
}

func (a *api) show(w http.ResponseWriter, r *http.Request) {
	id, ok := a.account(w, r)
	if !ok {
		return
	}
	v, err := a.l.View(r.Context(), id, true)
	if err != nil {
		a.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (a *api) patch(w http.ResponseWriter, r *http.Request) {
	id, ok := a.account(w, r)
	if !ok {
		return
	}
	var in struct {
		DisplayName *string `json:"display_name"`
		Email       *string `json:"email"`
		Username    *string `json:"username"`
	}
	if !a.decode(w, r, &in) {
		return
	}
	switch {
	case in.Username != nil:
		a.fail(w, &FieldError{"username", "the username never changes"})
		return
	case in.DisplayName == nil && in.Email == nil:
		a.fail(w, &FieldError{"display_name", "give display_name or email"})
		return
	}
	// Check both before changing either, so that bad input changes nothing.
	if in.DisplayName != nil {
		if err := CheckDisplayName(*in.DisplayName); err != nil {
			a.fail(w, err)
			return
		}
	}
	if in.Email != nil {
		if err := CheckEmail(*in.Email); err != nil {
			a.fail(w, err)
			return
		}
	}
	if in.DisplayName != nil {
		if err := a.l.SetDisplayName(r.Context(), id, *in.DisplayName); err != nil {
			a.fail(w, err)
			return
		}
	}
	if in.Email != nil {
		if err := a.l.SetEmail(r.Context(), id, *in.Email); err != nil {
			a.fail(w, err)
			return
		}
	}
	a.respondView(w, r, id)
}

func (a *api) delete(w http.ResponseWriter, r *http.Request) {
	id, ok := a.account(w, r)
	if !ok {
		return
	}
	if err := a.l.Delete(r.Context(), id); err != nil {
		a.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"deleted": true})
}

func (a *api) confirm(w http.ResponseWriter, r *http.Request) {
	id, ok := a.account(w, r)
	if !ok {
		return
	}
	var in struct {
		Token string `json:"token"`
	}
	if !a.decode(w, r, &in) {
		return
	}
	if in.Token == "" {
		a.fail(w, &FieldError{"token", "the confirmation token is missing"})
		return
	}
	if err := a.l.Confirm(r.Context(), id, in.Token); err != nil {
		a.fail(w, err)
		return
	}
	a.respondView(w, r, id)
}

func (a *api) pay(w http.ResponseWriter, r *http.Request) {
	id, ok := a.account(w, r)
	if !ok {
		return
	}
	var in struct {
		TransactionID string `json:"transaction_id"`
		Plan          string `json:"plan"`
		PaidThrough   string `json:"paid_through"`
		Days          int    `json:"days"`
	}
	if !a.decode(w, r, &in) {
		return
	}
	p := Payment{TransactionID: in.TransactionID, Plan: in.Plan, Days: in.Days}
	if in.PaidThrough != "" {
		t, err := ParseDate(in.PaidThrough)
		if err != nil {
			a.fail(w, &FieldError{"paid_through", "want a date such as 2026-03-01 or an RFC 3339 time"})
			return
		}
		p.PaidThrough = t
	}
	applied, _, err := a.l.ApplyPayment(r.Context(), id, p)
	if err != nil {
		a.fail(w, err)
		return
	}
	v, err := a.l.View(r.Context(), id, false)
	if err != nil {
		a.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"applied": applied, "account": v})
}

func (a *api) redeem(w http.ResponseWriter, r *http.Request) {
	id, ok := a.account(w, r)
	if !ok {
		return
	}
	var in struct {
		Code string `json:"code"`
	}
	if !a.decode(w, r, &in) {
		return
	}
	if _, err := a.l.RedeemVoucher(r.Context(), id, in.Code); err != nil {
		a.fail(w, err)
		return
	}
	a.respondView(w, r, id)
}

func (a *api) vouchers(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Plan  string `json:"plan"`
		Days  int    `json:"days"`
		Count *int   `json:"count"`
	}
	if !a.decode(w, r, &in) {
		return
	}
	count := 1
	if in.Count != nil {
		count = *in.Count
	}
	codes, err := a.l.CreateVouchers(r.Context(), in.Plan, in.Days, count)
	if err != nil {
		a.fail(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"codes": codes, "plan": in.Plan, "days": in.Days})
}

func (a *api) sweep(w http.ResponseWriter, r *http.Request) {
	rep, err := a.l.Sweep(r.Context())
	if err != nil {
		a.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, rep)
}

// account resolves the {username} of the path, answering 404 for none.
func (a *api) account(w http.ResponseWriter, r *http.Request) (int64, bool) {
	id, err := a.l.Lookup(r.Context(), r.PathValue("username"))
	if err != nil {
		a.fail(w, err)
		return 0, false
	}
	return id, true
}

func (a *api) respondView(w http.ResponseWriter, r *http.Request, id int64) {
	v, err := a.l.View(r.Context(), id, false)
	if err != nil {
		a.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// decode reads a JSON object into v, strictly, answering 400 with the
// offending field.
func (a *api) decode(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxRequest))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil && dec.More() {
		err = errors.New("one JSON object expected")
	}
	if err == nil {
		return true
	}
	var typeErr *json.UnmarshalTypeError
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &typeErr):
		a.fail(w, &FieldError{typeErr.Field, "wrong type: want " + typeErr.Type.String()})
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		a.fail(w, &FieldError{field, "unknown field"})
	case errors.As(err, &tooBig):
		writeJSON(w, http.StatusRequestEntityTooLarge, map[string]string{"error": "the request body is too large"})
	default:
		a.fail(w, &FieldError{"body", "want one JSON object"})
	}
	return false
}

// fail answers an error: 400 naming the field for bad input, 404, 409 for
// conflicts with the account's state, 500 (logged) for the rest.
func (a *api) fail(w http.ResponseWriter, err error) {
	var fe *FieldError
	switch {
	case errors.As(err, &fe):
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": fe.Message, "field": fe.Field})
	case errors.Is(err, ErrBadToken):
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "wrong confirmation token", "field": "token"})
	case errors.Is(err, ErrNotFound):
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no such account"})
	case errors.Is(err, ErrExists), errors.Is(err, ErrPurging), errors.Is(err, ErrPending), errors.Is(err, ErrConfirmed),
		errors.Is(err, ErrVoucherUsed), errors.Is(err, ErrOtherTransaction):
		writeJSON(w, http.StatusConflict, map[string]string{"error": strings.TrimPrefix(err.Error(), "account: ")})
	default:
		a.o.Logger.Error("operator api", "err", err)
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "internal error"})
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}
