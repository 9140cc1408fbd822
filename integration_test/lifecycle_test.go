package integration_test

import (
	"encoding/json"
	"io"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/mail"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// The account lifecycle on the real binary: the operator API on its own
// listener with its bearer token, the lifecycle flags, SMTP, and the
// "coffer account" commands.

const operatorToken = "integration-operator-token"

var operatorLine = regexp.MustCompile(`coffer: operator API on (\S+)`)

// lifecycleServer starts coffer with the lifecycle on, the operator API on
// a free port and the given extra settings as COFFER_* variables.
func lifecycleServer(t *testing.T, env ...string) (*server, string) {
	t.Helper()
	t.Setenv("COFFER_OPERATOR_LISTEN", "127.0.0.1:0")
	t.Setenv("COFFER_OPERATOR_TOKEN", operatorToken)
	t.Setenv("COFFER_LIFECYCLE", "on")
	for i := 0; i+1 < len(env); i += 2 {
		t.Setenv(env[i], env[i+1])
	}
	secrets.add(operatorToken)
	s := startServer(t, "")
	m := operatorLine.FindStringSubmatch(s.output())
	if m == nil {
		t.Fatalf("no operator API address in the output:\n%s", s.output())
	}
	return s, strings.TrimSuffix(m[1], "/")
}

// operator calls the operator API with a token and decodes the JSON answer.
func operator(t *testing.T, base, token, method, path, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := (&http.Client{Timeout: 60 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("%s %s: %d, not JSON: %v", method, path, resp.StatusCode, err)
	}
	return resp.StatusCode, out
}

// TestLifecycleOperatorAPI: the operator API refuses requests without the
// right token and names the field of bad input; an account it creates waits
// for confirmation without DAV access, then syncs; the CLI sees the same.
func TestLifecycleOperatorAPI(t *testing.T) {
	s, api := lifecycleServer(t)
	for _, tok := range []string{"", "wrong-token-wrong-token", operatorToken[:len(operatorToken)-1]} {
		for _, e := range [][2]string{{"GET", "/v1/accounts/" + s.User}, {"POST", "/v1/accounts"}, {"POST", "/v1/sweep"}, {"DELETE", "/v1/accounts/" + s.User}} {
			if status, out := operator(t, api, tok, e[0], e[1], `{}`); status != 401 || out["error"] == nil {
				t.Errorf("token %q: %s %s: %d %v", tok, e[0], e[1], status, out)
			}
		}
	}
	bad := []struct{ path, body, field string }{
		{"/v1/accounts", `{"username":"Not Valid","email":"n@example.org"}`, "username"},
		{"/v1/accounts", `{"username":"nina","email":"nope"}`, "email"},
		{"/v1/accounts", `{"username":"nina","email":"n@example.org","password":"short"}`, "password"},
		{"/v1/accounts", `{"username":"nina","email":"n@example.org","colour":"red"}`, "colour"},
		{"/v1/accounts/" + s.User + "/payments", `{"transaction_id":"t","plan":"basic","paid_through":"soon"}`, "paid_through"},
		{"/v1/accounts/" + s.User + "/payments", `{"transaction_id":"","plan":"basic","days":3}`, "transaction_id"},
		{"/v1/vouchers", `{"plan":"basic","days":0}`, "days"},
	}
	for _, b := range bad {
		if status, out := operator(t, api, operatorToken, "POST", b.path, b.body); status != 400 || out["field"] != b.field {
			t.Errorf("POST %s %s: %d %v, want 400 naming %s", b.path, b.body, status, out, b.field)
		}
	}

	secrets.add("nina's long password")
	status, out := operator(t, api, operatorToken, "POST", "/v1/accounts", `{"username":"nina","email":"nina@example.org","password":"nina's long password"}`)
	if status != 201 || out["state"] != "pending" || out["recovery_code"] == nil {
		t.Fatalf("create: %d %v", status, out)
	}
	nina := s.client(t, "nina", "nina's long password")
	if r := nina.do("PROPFIND", "/dav/calendars/nina/", "", "Depth", "0"); r.Status != 403 || !strings.Contains(r.Body, "not confirmed") {
		t.Fatalf("pending account over DAV: %d %s", r.Status, r.Body)
	}
	if status, out := operator(t, api, operatorToken, "POST", "/v1/accounts/nina/confirm", `{"token":"`+out["confirmation_token"].(string)+`"}`); status != 200 || out["state"] != "trial" {
		t.Fatalf("confirm: %d %v", status, out)
	}
	nina.must(207, "PROPFIND", "/dav/calendars/nina/", "", "Depth", "1")
	// The CLI reads the same state while the server runs.
	cli, err := coffer(t, "", "account", "show", "nina", "--data", s.data)
	if err != nil || !strings.Contains(cli, `"state": "trial"`) || !strings.Contains(cli, "email_confirmed") {
		t.Fatalf("account show: %v\n%s", err, cli)
	}
	if cli, err := coffer(t, "", "account", "pay", "nina", "--transaction", "cli-1", "--plan", "basic", "--days", "30", "--data", s.data); err != nil || !strings.Contains(cli, `"state": "active"`) {
		t.Fatalf("account pay: %v\n%s", err, cli)
	}
	if cli, err := coffer(t, "", "account", "pay", "nina", "--transaction", "cli-1", "--plan", "basic", "--days", "30", "--data", s.data); err != nil || !strings.Contains(cli, "nothing changed") {
		t.Fatalf("account pay again: %v\n%s", err, cli)
	}
	if cli, err := coffer(t, "", "account", "sweep", "--data", s.data); err != nil || !strings.Contains(cli, `"purged": 0`) {
		t.Fatalf("account sweep: %v\n%s", err, cli)
	}
	if cli, err := coffer(t, "", "account", "delete", "nina", "--data", s.data); err != nil {
		t.Fatalf("account delete: %v\n%s", err, cli)
	}
	nina.must(401, "PROPFIND", "/dav/calendars/nina/", "", "Depth", "0")
}

// TestLifecycleRetentionOnTheBinary: with a three-second trial, the real
// server blocks DAV with 403 and the deletion date once the trial ends,
// answers no 404, and serves the data again, intact, after a payment.
func TestLifecycleRetentionOnTheBinary(t *testing.T) {
	s, api := lifecycleServer(t, "COFFER_TRIAL_LENGTH", "3s", "COFFER_SWEEP_EVERY", "500ms")
	addUser(t, s.data, "ria", "ria's long password")
	ria := s.client(t, "ria", "ria's long password")
	cal := "/dav/calendars/ria/calendar/"
	body := event("ria-1", "Ria keeps this")
	ria.must(201, "PUT", cal+"keep.ics", body, "Content-Type", "text/calendar")
	var r response
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if r = ria.do("PROPFIND", cal, "", "Depth", "1"); r.Status != 207 {
			break
		}
	}
	if r.Status != 403 || !strings.Contains(r.Body, "will be deleted on") {
		t.Fatalf("after the trial: %d %s", r.Status, r.Body)
	}
	for _, p := range []string{"/dav/principals/ria/", "/dav/calendars/ria/", cal, cal + "keep.ics", cal + "gone.ics", "/dav/addressbooks/ria/contacts/"} {
		for _, m := range []string{"PROPFIND", "GET", "DELETE"} {
			if got := ria.do(m, p, "", "Depth", "1"); got.Status != 403 {
				t.Errorf("%s %s in retention: %d", m, p, got.Status)
			}
		}
	}
	if status, out := operator(t, api, operatorToken, "POST", "/v1/accounts/ria/payments", `{"transaction_id":"ria-1","plan":"basic","days":30}`); status != 200 || out["applied"] != true {
		t.Fatalf("renewal: %d %v", status, out)
	}
	if got := ria.must(200, "GET", cal+"keep.ics", "").Body; got != body {
		t.Fatalf("after renewal: %q", got)
	}
}

// TestLifecycleMailOnTheBinary: with SMTP configured, the confirmation code
// of an account the operator creates arrives by e-mail, and confirms it.
func TestLifecycleMailOnTheBinary(t *testing.T) {
	box := startMailbox(t)
	_, api := lifecycleServer(t, "COFFER_SMTP_ADDR", box.addr, "COFFER_SMTP_FROM", "coffer@example.org", "COFFER_SMTP_TLS", "none")
	status, out := operator(t, api, operatorToken, "POST", "/v1/accounts", `{"username":"mia","email":"mia@example.org"}`)
	if status != 201 || out["confirmation_token"] != nil || out["password"] == nil {
		t.Fatalf("create: %d %v", status, out)
	}
	secrets.add(out["password"].(string))
	msgs := box.wait(t, 1)
	code := regexp.MustCompile(`confirmation code: (\S+)`).FindStringSubmatch(msgs[0].body)
	if msgs[0].to != "mia@example.org" || code == nil {
		t.Fatalf("registration mail: %+v", msgs[0])
	}
	if status, out := operator(t, api, operatorToken, "POST", "/v1/accounts/mia/confirm", `{"token":"`+code[1]+`"}`); status != 200 || out["state"] != "trial" {
		t.Fatalf("confirm: %d %v", status, out)
	}
	msgs = box.wait(t, 3) // e-mail confirmed, trial started
	if !strings.Contains(msgs[1].subject+msgs[2].subject, "trial") {
		t.Fatalf("mails: %+v", msgs)
	}
}

// mailbox is an SMTP server that keeps what it receives.
type mailbox struct {
	addr string
	mu   sync.Mutex
	got  []boxMail
}

// boxMail is one received e-mail.
type boxMail struct{ to, subject, body string }

func startMailbox(t *testing.T) *mailbox {
	t.Helper()
	b := &mailbox{}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &boxSession{b: b}, nil }))
	srv.Domain = "localhost"
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b.addr = ln.Addr().String()
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return b
}

// wait returns the mails once n arrived.
func (b *mailbox) wait(t *testing.T, n int) []boxMail {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		b.mu.Lock()
		got := append([]boxMail(nil), b.got...)
		b.mu.Unlock()
		if len(got) >= n {
			return got
		}
	}
	t.Fatalf("fewer than %d mails arrived", n)
	return nil
}

// boxSession is one SMTP connection to the mailbox.
type boxSession struct {
	b  *mailbox
	to string
}

func (s *boxSession) Mail(string, *smtp.MailOptions) error      { return nil }
func (s *boxSession) Rcpt(to string, _ *smtp.RcptOptions) error { s.to = to; return nil }
func (s *boxSession) Reset()                                    {}
func (s *boxSession) Logout() error                             { return nil }

func (s *boxSession) Data(r io.Reader) error {
	m, err := mail.ReadMessage(r)
	if err != nil {
		return err
	}
	body, err := io.ReadAll(quotedprintable.NewReader(m.Body))
	if err != nil {
		return err
	}
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	s.b.got = append(s.b.got, boxMail{to: s.to, subject: m.Header.Get("Subject"), body: string(body)})
	return nil
}
