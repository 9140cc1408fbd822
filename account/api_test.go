package account

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

const testToken = "operator-token-for-tests"

// apiServer is the operator API over a fresh database, with alice (active,
// confirmed) and pat (pending).
func apiServer(t *testing.T) (*httptest.Server, *Lifecycle) {
	t.Helper()
	db, _ := openDB(t)
	l := newLife(t, db, newClock(), nil)
	h, err := l.Handler(APIOptions{Token: testToken, Creator: testCreator{db, l}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	mustCreate(t, l, db, "alice", StartDefault)
	mustCreate(t, l, db, "pat", StartPending)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv, l
}

// call sends one request and decodes the JSON answer.
func call(t *testing.T, srv *httptest.Server, token, method, path, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("%s %s: answer is not JSON: %v", method, path, err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("%s %s: Content-Type %q", method, path, ct)
	}
	return resp.StatusCode, out
}

func TestAPIRefusesWithoutToken(t *testing.T) {
	srv, _ := apiServer(t)
	endpoints := []struct{ method, path string }{
		{"POST", "/v1/accounts"}, {"GET", "/v1/accounts/alice"}, {"PATCH", "/v1/accounts/alice"}, {"DELETE", "/v1/accounts/alice"},
		{"POST", "/v1/accounts/pat/confirm"}, {"POST", "/v1/accounts/alice/payments"}, {"POST", "/v1/accounts/alice/vouchers"},
		{"POST", "/v1/vouchers"}, {"POST", "/v1/sweep"}, {"GET", "/nowhere"},
	}
	for _, tok := range []string{"", "wrong", testToken + "x", strings.ToUpper(testToken), testToken[:10]} {
		for _, e := range endpoints {
			status, out := call(t, srv, tok, e.method, e.path, `{}`)
			if status != http.StatusUnauthorized || out["error"] == nil {
				t.Errorf("token %q, %s %s: %d %v", tok, e.method, e.path, status, out)
			}
		}
	}
	// A token in another scheme is no token.
	req, _ := http.NewRequest("GET", srv.URL+"/v1/accounts/alice", nil)
	req.Header.Set("Authorization", "Basic "+testToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("Basic scheme: %d", resp.StatusCode)
	}
	// Nothing changed: alice is still there.
	if status, out := call(t, srv, testToken, "GET", "/v1/accounts/alice", ""); status != 200 || out["state"] != "trial" {
		t.Fatalf("alice: %d %v", status, out)
	}
}

func TestAPIBadInputNamesTheField(t *testing.T) {
	srv, l := apiServer(t)
	tests := []struct {
		name, method, path, body, field string
	}{
		{"create: bad username", "POST", "/v1/accounts", `{"username":"Bad Name","email":"b@example.org"}`, "username"},
		{"create: no email", "POST", "/v1/accounts", `{"username":"bob"}`, "email"},
		{"create: bad email", "POST", "/v1/accounts", `{"username":"bob","email":"Bob <b@example.org>"}`, "email"},
		{"create: short password", "POST", "/v1/accounts", `{"username":"bob","email":"b@example.org","password":"short"}`, "password"},
		{"create: unknown field", "POST", "/v1/accounts", `{"username":"bob","email":"b@example.org","plan":"x"}`, "plan"},
		{"create: wrong type", "POST", "/v1/accounts", `{"username":7,"email":"b@example.org"}`, "username"},
		{"create: not JSON", "POST", "/v1/accounts", `username=bob`, "body"},
		{"create: two objects", "POST", "/v1/accounts", `{"username":"bob","email":"b@example.org"}{}`, "body"},
		{"confirm: no token", "POST", "/v1/accounts/pat/confirm", `{}`, "token"},
		{"confirm: wrong token", "POST", "/v1/accounts/pat/confirm", `{"token":"nope"}`, "token"},
		{"pay: no transaction", "POST", "/v1/accounts/alice/payments", `{"plan":"basic","days":30}`, "transaction_id"},
		{"pay: no plan", "POST", "/v1/accounts/alice/payments", `{"transaction_id":"t1","days":30}`, "plan"},
		{"pay: bad plan", "POST", "/v1/accounts/alice/payments", `{"transaction_id":"t1","plan":"a b","days":30}`, "plan"},
		{"pay: neither date nor days", "POST", "/v1/accounts/alice/payments", `{"transaction_id":"t1","plan":"basic"}`, "paid_through"},
		{"pay: both", "POST", "/v1/accounts/alice/payments", `{"transaction_id":"t1","plan":"basic","days":3,"paid_through":"2030-01-01"}`, "paid_through"},
		{"pay: bad date", "POST", "/v1/accounts/alice/payments", `{"transaction_id":"t1","plan":"basic","paid_through":"next year"}`, "paid_through"},
		{"pay: past date", "POST", "/v1/accounts/alice/payments", `{"transaction_id":"t1","plan":"basic","paid_through":"2020-01-01"}`, "paid_through"},
		{"pay: negative days", "POST", "/v1/accounts/alice/payments", `{"transaction_id":"t1","plan":"basic","days":-3}`, "days"},
		{"pay: days as text", "POST", "/v1/accounts/alice/payments", `{"transaction_id":"t1","plan":"basic","days":"30"}`, "days"},
		{"vouchers: no days", "POST", "/v1/vouchers", `{"plan":"basic"}`, "days"},
		{"vouchers: too many", "POST", "/v1/vouchers", `{"plan":"basic","days":30,"count":100000}`, "count"},
		{"vouchers: no plan", "POST", "/v1/vouchers", `{"days":30}`, "plan"},
		{"redeem: no code", "POST", "/v1/accounts/alice/vouchers", `{}`, "code"},
		{"redeem: unknown code", "POST", "/v1/accounts/alice/vouchers", `{"code":"AAAAA-BBBBB"}`, "code"},
		{"patch: username", "PATCH", "/v1/accounts/alice", `{"username":"alicia"}`, "username"},
		{"patch: nothing", "PATCH", "/v1/accounts/alice", `{}`, "display_name"},
		{"patch: bad email", "PATCH", "/v1/accounts/alice", `{"display_name":"A","email":"not an address"}`, "email"},
		{"patch: control characters", "PATCH", "/v1/accounts/alice", `{"display_name":"A\u0000B"}`, "display_name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, out := call(t, srv, testToken, tt.method, tt.path, tt.body)
			if status != http.StatusBadRequest || out["field"] != tt.field || out["error"] == "" {
				t.Fatalf("%d %v, want 400 naming %q", status, out, tt.field)
			}
		})
	}
	// Bad input changed nothing: alice keeps her name, and no events were added.
	status, out := call(t, srv, testToken, "GET", "/v1/accounts/alice", "")
	if status != 200 || out["display_name"] != "" || len(out["history"].([]any)) != 2 {
		t.Fatalf("alice after bad input: %v", out)
	}
	if _, err := l.Lookup(t.Context(), "bob"); err == nil {
		t.Fatal("bob was created from bad input")
	}
}

// TestAPIOperations drives each endpoint once the way a web shop would.
func TestAPIOperations(t *testing.T) {
	srv, _ := apiServer(t)
	status, out := call(t, srv, testToken, "POST", "/v1/accounts", `{"username":"bob","email":"bob@example.org","display_name":"Bob"}`)
	if status != 201 || out["state"] != "pending" || out["password"] == nil || out["recovery_code"] == nil || out["confirmation_token"] == nil {
		t.Fatalf("create: %d %v", status, out)
	}
	if status, _ := call(t, srv, testToken, "POST", "/v1/accounts", `{"username":"bob","email":"bob@example.org"}`); status != http.StatusConflict {
		t.Fatalf("a second bob: %d", status)
	}
	if status, _ := call(t, srv, testToken, "POST", "/v1/accounts/bob/payments", `{"transaction_id":"early","plan":"basic","days":30}`); status != http.StatusConflict {
		t.Fatalf("paying for a pending account: %d", status)
	}
	if status, out := call(t, srv, testToken, "POST", "/v1/accounts/bob/confirm", `{"token":"`+out["confirmation_token"].(string)+`"}`); status != 200 || out["state"] != "trial" {
		t.Fatalf("confirm: %d %v", status, out)
	}
	pay := `{"transaction_id":"tx-1","plan":"basic","days":30}`
	status, out = call(t, srv, testToken, "POST", "/v1/accounts/bob/payments", pay)
	first := out["account"].(map[string]any)["paid_through"]
	if status != 200 || out["applied"] != true || first == nil {
		t.Fatalf("pay: %d %v", status, out)
	}
	status, out = call(t, srv, testToken, "POST", "/v1/accounts/bob/payments", pay)
	if status != 200 || out["applied"] != false || out["account"].(map[string]any)["paid_through"] != first {
		t.Fatalf("the same payment again: %d %v", status, out)
	}
	if status, _ := call(t, srv, testToken, "POST", "/v1/accounts/alice/payments", pay); status != http.StatusConflict {
		t.Fatalf("bob's transaction for alice: %d", status)
	}
	status, out = call(t, srv, testToken, "POST", "/v1/vouchers", `{"plan":"pro","days":10,"count":2}`)
	codes, _ := out["codes"].([]any)
	if status != 201 || len(codes) != 2 {
		t.Fatalf("vouchers: %d %v", status, out)
	}
	if status, out := call(t, srv, testToken, "POST", "/v1/accounts/bob/vouchers", `{"code":"`+codes[0].(string)+`"}`); status != 200 || out["plan"] != "pro" {
		t.Fatalf("redeem: %d %v", status, out)
	}
	if status, _ := call(t, srv, testToken, "POST", "/v1/accounts/alice/vouchers", `{"code":"`+codes[0].(string)+`"}`); status != http.StatusConflict {
		t.Fatalf("a used voucher: %d", status)
	}
	if status, out := call(t, srv, testToken, "PATCH", "/v1/accounts/bob", `{"display_name":"Robert","email":"robert@example.org"}`); status != 200 || out["username"] != "bob" || out["email"] != "robert@example.org" || out["display_name"] != "Robert" {
		t.Fatalf("patch: %d %v", status, out)
	}
	status, out = call(t, srv, testToken, "GET", "/v1/accounts/bob", "")
	var got []string
	for _, e := range out["history"].([]any) {
		got = append(got, e.(map[string]any)["kind"].(string))
	}
	want := "registered email_confirmed trial_started subscription_purchased voucher_redeemed display_name_changed email_changed"
	if status != 200 || strings.Join(got, " ") != want {
		t.Fatalf("history: %d %v", status, got)
	}
	if status, out := call(t, srv, testToken, "POST", "/v1/sweep", ""); status != 200 || out["purged"] == nil {
		t.Fatalf("sweep: %d %v", status, out)
	}
	if status, _ := call(t, srv, testToken, "DELETE", "/v1/accounts/bob", ""); status != 200 {
		t.Fatalf("delete: %d", status)
	}
	if status, _ := call(t, srv, testToken, "GET", "/v1/accounts/bob", ""); status != 404 {
		t.Fatalf("bob after delete: %d", status)
	}
}
