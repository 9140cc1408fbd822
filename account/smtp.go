package account

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// SMTPConfig says how to reach the mail server.
type SMTPConfig struct {
	Addr     string // host:port
	From     string // the sender address
	Username string // empty: no authentication
	Password string
	// TLS is "starttls" (the default; required), "tls" (implicit TLS, port
	// 465) or "none" (plain text: only for a relay on the same host).
	TLS string
	// RootCAs are the certificate authorities the server's certificate
	// must chain to; nil: the system's.
	RootCAs *x509.CertPool
}

// SMTPMailer sends e-mail over SMTP. It uses github.com/emersion/go-smtp: a
// maintained client with STARTTLS, implicit TLS, SASL and timeouts, where
// net/smtp is frozen; the same module's server drives the tests.
type SMTPMailer struct {
	c SMTPConfig
}

// NewSMTPMailer checks the configuration and returns a mailer.
func NewSMTPMailer(c SMTPConfig) (*SMTPMailer, error) {
	host, _, err := net.SplitHostPort(c.Addr)
	if err != nil {
		return nil, fmt.Errorf("smtp address %q: want host:port", c.Addr)
	}
	if err := CheckEmail(c.From); err != nil {
		return nil, fmt.Errorf("smtp sender %q: want a bare e-mail address", c.From)
	}
	switch c.TLS {
	case "":
		c.TLS = "starttls"
	case "starttls", "tls":
	case "none":
		// A password sent in plain text over the network would be given away.
		if c.Username != "" && !isLoopback(host) {
			return nil, errors.New("smtp: authentication without TLS is allowed only to a server on this host")
		}
	default:
		return nil, fmt.Errorf("smtp tls mode %q: want starttls, tls or none", c.TLS)
	}
	return &SMTPMailer{c: c}, nil
}

// Send delivers one message to one address.
func (m *SMTPMailer) Send(ctx context.Context, to string, msg Message) error {
	if err := CheckEmail(to); err != nil {
		return fmt.Errorf("smtp: recipient: %w", err)
	}
	c, err := m.dial(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	if m.c.Username != "" {
		if err := c.Auth(sasl.NewPlainClient("", m.c.Username, m.c.Password)); err != nil {
			return smtpError("authenticate", err)
		}
	}
	if err := c.SendMail(m.c.From, []string{to}, bytes.NewReader(m.render(to, msg))); err != nil {
		return smtpError("send", err)
	}
	return c.Quit()
}

// smtpError keeps only the codes of a server's answer: its text may quote
// the recipient's address, which does not belong in a log.
func smtpError(what string, err error) error {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		e := se.EnhancedCode
		return fmt.Errorf("smtp: %s: the server answered %d (%d.%d.%d)", what, se.Code, e[0], e[1], e[2])
	}
	return fmt.Errorf("smtp: %s: %w", what, err)
}

func (m *SMTPMailer) dial(ctx context.Context) (*smtp.Client, error) {
	d := net.Dialer{Timeout: 15 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", m.c.Addr)
	if err != nil {
		return nil, fmt.Errorf("smtp: %w", err)
	}
	host, _, _ := net.SplitHostPort(m.c.Addr)
	var c *smtp.Client
	switch m.c.TLS {
	case "tls":
		c = smtp.NewClient(tls.Client(conn, &tls.Config{ServerName: host, RootCAs: m.c.RootCAs}))
	case "none":
		c = smtp.NewClient(conn)
	default:
		if c, err = smtp.NewClientStartTLS(conn, &tls.Config{ServerName: host, RootCAs: m.c.RootCAs}); err != nil {
			conn.Close()
			return nil, smtpError("starttls", err)
		}
	}
	c.CommandTimeout = time.Minute
	c.SubmissionTimeout = 2 * time.Minute
	return c, nil
}

// render writes an RFC 5322 message with a quoted-printable UTF-8 body.
func (m *SMTPMailer) render(to string, msg Message) []byte {
	var b bytes.Buffer
	id := make([]byte, 12)
	rand.Read(id)
	domain := m.c.From[strings.LastIndexByte(m.c.From, '@')+1:]
	fmt.Fprintf(&b, "From: %s\r\n", m.c.From)
	fmt.Fprintf(&b, "To: %s\r\n", to)
	fmt.Fprintf(&b, "Subject: %s\r\n", mime.QEncoding.Encode("utf-8", msg.Subject))
	fmt.Fprintf(&b, "Date: %s\r\n", time.Now().UTC().Format(time.RFC1123Z))
	fmt.Fprintf(&b, "Message-ID: <%s@%s>\r\n", hex.EncodeToString(id), domain)
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n")
	w := quotedprintable.NewWriter(&b)
	w.Write([]byte(strings.ReplaceAll(msg.Body, "\n", "\r\n")))
	w.Close()
	return b.Bytes()
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
