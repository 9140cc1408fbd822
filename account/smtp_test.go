package account

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

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

// startSMTP starts a test server without TLS that allows authentication in
// plain text.
func startSMTP(t *testing.T) *smtpServer { return startSMTPWith(t, "none", nil) }

// startSMTPWith starts a test server in a TLS mode: "none"; "starttls",
// which offers STARTTLS with cert and allows authentication only after it;
// or "tls", implicit TLS with cert.
func startSMTPWith(t *testing.T, mode string, cert *tls.Certificate) *smtpServer {
	t.Helper()
	s := &smtpServer{}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &smtpSession{s: s}, nil }))
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = mode == "none"
	var ln net.Listener
	var err error
	switch mode {
	case "tls":
		ln, err = tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{*cert}})
	case "starttls":
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{*cert}}
		fallthrough
	default:
		ln, err = net.Listen("tcp", "127.0.0.1:0")
	}
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

// testCert is a self-signed certificate for 127.0.0.1 and the pool that trusts it.
func testCert(t *testing.T) (*tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "coffer test SMTP"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, BasicConstraintsValid: true, IsCA: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

// TestSMTPTLSModes: the default, STARTTLS, and implicit TLS each deliver,
// with authentication only over TLS (the server refuses it in plain text);
// a server that does not offer STARTTLS, a certificate nobody trusts, or a
// mode that does not match the server's, is refused, never downgraded.
func TestSMTPTLSModes(t *testing.T) {
	cert, pool := testCert(t)
	tests := []struct {
		name       string
		server     string // the server's mode
		client     string // the mailer's mode
		trusted    bool
		wantSentOK bool
	}{
		{"starttls, the default", "starttls", "", true, true},
		{"starttls", "starttls", "starttls", true, true},
		{"implicit tls", "tls", "tls", true, true},
		{"starttls not offered", "none", "starttls", true, false},
		{"starttls, untrusted certificate", "starttls", "starttls", false, false},
		{"implicit tls, untrusted certificate", "tls", "tls", false, false},
		{"implicit tls against starttls", "starttls", "tls", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startSMTPWith(t, tt.server, cert)
			c := SMTPConfig{Addr: srv.addr, From: "coffer@example.org", Username: "coffer", Password: "smtp-secret", TLS: tt.client}
			if tt.trusted {
				c.RootCAs = pool
			}
			m, err := NewSMTPMailer(c)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			err = m.Send(ctx, "alice@example.org", Message{Subject: "Grüße", Body: "Hello Alice"})
			got := srv.Messages()
			if tt.wantSentOK {
				if err != nil || len(got) != 1 || got[0].Subject != "Grüße" || !strings.Contains(got[0].Body, "Hello Alice") {
					t.Fatalf("send = %v, received %+v", err, got)
				}
				return
			}
			if err == nil || len(got) != 0 {
				t.Fatalf("send = %v, received %d messages; want a refusal", err, len(got))
			}
			if strings.Contains(err.Error(), "smtp-secret") {
				t.Fatalf("the error holds the password: %v", err)
			}
		})
	}
}
