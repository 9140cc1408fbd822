// The links of the confirmation mails: resending a pending account's link,
// and changing the e-mail address only once the new one is confirmed.

package account

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/coffer-dav/coffer/encryption"
	"github.com/coffer-dav/coffer/storage"
)

// Errors of the confirmation links.
var (
	ErrThrottled    = errors.New("account: sent too often; try again later")
	ErrNoMail       = errors.New("account: this server sends no e-mail")
	ErrTokenExpired = errors.New("account: the link has expired")
)

// Limits of the mails a person can ask for. They are counted from the
// account's events, so they hold across restarts and across servers.
const (
	resendEvery         = 10 * time.Minute // between two confirmation mails of an account
	resendPerDay        = 5                // confirmation mails resent in 24 hours
	emailChangeEvery    = time.Minute      // between two requests to change the address
	emailChangePerDay   = 5                // such requests in 24 hours
	emailChangeLifetime = 24 * time.Hour   // how long the link to a new address works
)

// emailTokenLabel separates the MAC of e-mail change tokens from every
// other use of the token key.
const emailTokenLabel = "coffer email change\x00"

// confirmLink returns the link that confirms a pending account, or "" when
// no link base is configured.
func (l *Lifecycle) confirmLink(username, token string) string {
	if l.o.LinkBase == nil {
		return ""
	}
	return l.link("confirm") + "?u=" + url.QueryEscape(username) + "&t=" + url.QueryEscape(token)
}

// link returns the dashboard's page at path, under the link base.
func (l *Lifecycle) link(path string) string {
	u := *l.o.LinkBase
	u.RawQuery, u.Fragment = "", ""
	u.Path = strings.TrimSuffix(u.Path, "/") + "/" + path
	return u.String()
}

// ResendConfirmation sends a pending account's confirmation mail again,
// through the mail queue. It is refused with ErrThrottled within 10 minutes
// of the last one and after 5 in 24 hours, with ErrConfirmed once the
// address is confirmed, and with ErrNoMail without SMTP.
func (l *Lifecycle) ResendConfirmation(ctx context.Context, account int64) error {
	if l.o.Mailer == nil {
		return ErrNoMail
	}
	seq, err := l.throttle(ctx, account, EventConfirmationResent, EventRegistered, resendEvery, resendPerDay)
	if err != nil {
		return err
	}
	err = l.update(ctx, account, func(t storage.LifecycleTx, r *storage.LifecycleRecord, st Status) error {
		switch {
		case st.State == StatePurged:
			return ErrPurging
		case !r.Confirmed.IsZero():
			return ErrConfirmed
		}
		// The once-key numbers the resends: of two concurrent requests
		// that both passed the count, only one is recorded.
		added, err := t.AddEvent(l.event(r, EventConfirmationResent, "", string(EventConfirmationResent)+":"+strconv.Itoa(seq)))
		if err == nil && !added {
			err = ErrThrottled
		}
		return err
	})
	if err != nil {
		return err
	}
	l.deliver(ctx, account)
	return nil
}

// throttle counts an account's events of kind: it refuses with
// ErrThrottled when the last of them (or of also, when not "") is younger
// than every, or when perDay of them fall within 24 hours. Otherwise it
// returns the number the next one gets.
func (l *Lifecycle) throttle(ctx context.Context, account int64, kind, also EventKind, every time.Duration, perDay int) (int, error) {
	evs, err := l.db.Events(ctx, account)
	if err != nil {
		return 0, err
	}
	now := l.Now()
	n, today := 0, 0
	var last time.Time
	for _, e := range evs {
		k := EventKind(e.Kind)
		if k == kind {
			n++
			if now.Sub(e.At) < Day {
				today++
			}
		}
		if (k == kind || (also != "" && k == also)) && e.At.After(last) {
			last = e.At
		}
	}
	if today >= perDay || (!last.IsZero() && now.Sub(last) < every) {
		return 0, ErrThrottled
	}
	return n + 1, nil
}

// RequestEmailChange sends a link to a new e-mail address; the address
// changes only when that link is followed (ConfirmEmailChange), within 24
// hours and while the old address is still the account's. The link's token
// is stateless: a MAC over the account, both addresses and the expiry, so
// the new address is stored nowhere until it is confirmed. The history
// records the request without the new address, and the old address is told
// of it through the mail queue.
//
// The mail to the new address is sent at once through the Mailer, not
// through the queue (the queue mails the account's current address): an
// error from the mail server is returned, for the page to show.
func (l *Lifecycle) RequestEmailChange(ctx context.Context, account int64, email string) error {
	if err := CheckEmail(email); err != nil {
		return err
	}
	if l.o.Mailer == nil {
		return ErrNoMail
	}
	seq, err := l.throttle(ctx, account, EventEmailChangeRequested, "", emailChangeEvery, emailChangePerDay)
	if err != nil {
		return err
	}
	var rec storage.LifecycleRecord
	expires := l.Now().Add(emailChangeLifetime)
	err = l.update(ctx, account, func(t storage.LifecycleTx, r *storage.LifecycleRecord, st Status) error {
		switch {
		case st.State == StatePurged:
			return ErrPurging
		case r.Email == email:
			return &FieldError{"email", "that is already the account's address"}
		}
		rec = *r
		added, err := t.AddEvent(l.event(r, EventEmailChangeRequested,
			fmt.Sprintf("A link to confirm the new address was sent to it. The address changes only when that link is followed, by %s.", expires.UTC().Format("2006-01-02 15:04 UTC")),
			string(EventEmailChangeRequested)+":"+strconv.Itoa(seq)))
		if err == nil && !added {
			err = ErrThrottled
		}
		return err
	})
	if err != nil {
		return err
	}
	l.deliver(ctx, account)
	token := l.emailToken(account, rec.Email, email, expires)
	name := rec.DisplayName
	if name == "" {
		name = rec.Username
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Hello %s,\n\nPlease confirm this e-mail address as the new one of your %s account %q.\n", name, l.service(), rec.Username)
	if l.o.LinkBase != nil {
		fmt.Fprintf(&b, "\nFollow this link, within 24 hours:\n%s?t=%s\n", l.link("email/confirm"), token)
	} else {
		fmt.Fprintf(&b, "\nYour confirmation code, valid for 24 hours: %s\n", token)
	}
	b.WriteString("\nIf you did not ask for this, ignore this mail: nothing changes.\n")
	return l.o.Mailer.Send(ctx, email, Message{Subject: "Confirm your new e-mail address", Body: b.String()})
}

// ConfirmEmailChange sets the new address a token of RequestEmailChange
// carries, through SetEmail's path (the history records it and the new
// address is told), and returns the account. A forged token, one for
// another account's or a changed address (a replay), gives ErrBadToken;
// one past its 24 hours ErrTokenExpired. Nothing changes then.
func (l *Lifecycle) ConfirmEmailChange(ctx context.Context, token string) (int64, error) {
	token = strings.TrimSpace(token)
	account, expires, email, ok := parseEmailToken(token)
	if !ok {
		return 0, ErrBadToken
	}
	err := l.setEmail(ctx, account, email, func(r *storage.LifecycleRecord, st Status) error {
		switch {
		// Checked against the address the account has now: once it
		// changed, by this token or another, the token is void.
		case !encryption.Equal([]byte(token), []byte(l.emailToken(account, r.Email, email, expires))):
			return ErrBadToken
		case !l.Now().Before(expires):
			return ErrTokenExpired
		case st.State == StatePurged:
			return ErrPurging
		}
		return nil
	})
	if errors.Is(err, ErrNotFound) {
		return 0, ErrBadToken
	}
	if err != nil {
		return 0, err
	}
	return account, nil
}

// parseEmailToken reads what an e-mail change token says, unchecked: the
// account, the expiry and the new address; ok is false for anything that
// is not shaped like a token (its MAC is checked by the caller).
func parseEmailToken(token string) (account int64, expires time.Time, email string, ok bool) {
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(raw) < 16+sha256.Size/2+3 || len(raw) > 16+sha256.Size/2+254 {
		return 0, time.Time{}, "", false
	}
	account = int64(binary.BigEndian.Uint64(raw[:8]))
	expires = time.Unix(int64(binary.BigEndian.Uint64(raw[8:16])), 0)
	email = string(raw[16 : len(raw)-sha256.Size/2])
	if CheckEmail(email) != nil || account <= 0 {
		return 0, time.Time{}, "", false
	}
	return account, expires, email, true
}

// emailToken writes the token of a change from old to email, valid until
// expires: the account, the expiry and the new address, then a MAC that
// also covers the old address.
func (l *Lifecycle) emailToken(account int64, old, email string, expires time.Time) string {
	var b []byte
	b = binary.BigEndian.AppendUint64(b, uint64(account))
	b = binary.BigEndian.AppendUint64(b, uint64(expires.Unix()))
	b = append(b, email...)
	m := l.o.TokenKey.NewHash()
	m.Write([]byte(emailTokenLabel))
	m.Write(b)
	m.Write(binary.BigEndian.AppendUint32(nil, uint32(len(old))))
	m.Write([]byte(old))
	b = append(b, m.Sum(nil)[:sha256.Size/2]...)
	return base64.RawURLEncoding.EncodeToString(b)
}
