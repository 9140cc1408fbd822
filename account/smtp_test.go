package account

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// smtpServer is a test SMTP server that keeps what it receives and wants
// PLAIN authentication.
type smtpServer struct {
	mu       sync.Mutex
	received []receivedMail
	addr     string
}

// receivedMail is one message the test server accepted.
type receivedMail struct {
	From, To string
	Subject  string
	Body     string
}

func startSMTP(t *testing.T) *smtpServer {
	t.Helper()
	s := &smtpServer{}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &smtpSession{s: s}, nil }))
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.addr = ln.Addr().String()
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return s
}

func (s *smtpServer) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Message
	for _, m := range s.received {
		out = append(out, Message{Subject: m.Subject, Body: m.Body})
	}
	return out
}

// smtpSession is one connection to the test server.
type smtpSession struct {
	s        *smtpServer
	authed   bool
	from, to string
}

func (x *smtpSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (x *smtpSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != "coffer" || pass != "smtp-secret" {
			return errors.New("bad credentials")
		}
		x.authed = true
		return nil
	}), nil
}

func (x *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	if !x.authed {
		return smtp.ErrAuthRequired
	}
	x.from = from
	return nil
}

func (x *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error { x.to = to; return nil }

func (x *smtpSession) Data(r io.Reader) error {
	m, err := mail.ReadMessage(r)
	if err != nil {
		return err
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if err != nil {
		return err
	}
	body, err := io.ReadAll(quotedprintable.NewReader(m.Body))
	if err != nil {
		return err
	}
	x.s.mu.Lock()
	defer x.s.mu.Unlock()
	x.s.received = append(x.s.received, receivedMail{From: x.from, To: x.to, Subject: subject, Body: string(bytes.ReplaceAll(body, []byte("\r\n"), []byte("\n")))})
	return nil
}

func (x *smtpSession) Reset()        {}
func (x *smtpSession) Logout() error { return nil }

// TestNotificationsBySMTP: with SMTP configured against a test server, each
// notification of a whole life arrives as one e-mail.
func TestNotificationsBySMTP(t *testing.T) {
	srv := startSMTP(t)
	m, err := NewSMTPMailer(SMTPConfig{Addr: srv.addr, From: "coffer@example.org", Username: "coffer", Password: "smtp-secret", TLS: "none"})
	if err != nil {
		t.Fatal(err)
	}
	db, _ := openDB(t)
	c := newClock()
	l := newLife(t, db, c, m)
	n := driveLife(t, l, db, c, srv.Messages)
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if len(srv.received) != n {
		t.Fatalf("%d e-mails arrived for %d events", len(srv.received), n)
	}
	for _, r := range srv.received {
		if r.From != "coffer@example.org" || !strings.HasPrefix(r.To, "alice") || r.Subject == "" || !strings.Contains(r.Body, "Hello Alice") {
			t.Errorf("mail %+v", r)
		}
		if strings.Contains(r.Body, "long enough password") {
			t.Error("a mail holds the password")
		}
	}
}

// TestSMTPRefusesPlainAuthToRemote: a password never goes over the network
// without TLS.
func TestSMTPRefusesPlainAuthToRemote(t *testing.T) {
	if _, err := NewSMTPMailer(SMTPConfig{Addr: "mail.example.org:25", From: "a@example.org", Username: "u", Password: "p", TLS: "none"}); err == nil {
		t.Fatal("plain-text authentication to a remote server was accepted")
	}
	if _, err := NewSMTPMailer(SMTPConfig{Addr: "mail.example.org", From: "a@example.org"}); err == nil {
		t.Fatal("an address without a port was accepted")
	}
	m, err := NewSMTPMailer(SMTPConfig{Addr: "127.0.0.1:1", From: "a@example.org"})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Send(context.Background(), "b@example.org", Message{Subject: "s", Body: "b"}); err == nil {
		t.Fatal("sending to a closed port succeeded")
	}
}
