package account

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/coffer-dav/coffer/storage"
)

// Mailer sends one e-mail.
type Mailer interface {
	Send(ctx context.Context, to string, m Message) error
}

// Message is an e-mail's subject and plain-text body.
type Message struct {
	Subject string
	Body    string
}

const (
	// mailTries bounds delivery attempts; after them the mail is marked failed.
	mailTries = 10
	// mailClaimStale is how long a claimed mail may be in flight before
	// another sender takes it over (its sender died).
	mailClaimStale = 10 * time.Minute
)

// subjects are the e-mail subjects by event kind.
var subjects = map[EventKind]string{
	EventRegistered:            "Welcome to your {service} account",
	EventEmailConfirmed:        "Your e-mail address is confirmed",
	EventTrialStarted:          "Your free trial has started",
	EventTrialEnded:            "Your free trial has ended",
	EventSubscriptionPurchased: "Thank you for your subscription",
	EventSubscriptionExtended:  "Your subscription was extended",
	EventSubscriptionUpgraded:  "Your subscription was changed",
	EventVoucherRedeemed:       "Your voucher was redeemed",
	EventDisplayNameChanged:    "Your display name was changed",
	EventEmailChanged:          "Your e-mail address was changed",
	EventPasswordChanged:       "Your password was changed",
	EventAppPasswordCreated:    "A new app password was created",
	EventAppPasswordRevoked:    "An app password was revoked",
	EventSubscriptionExpiring:  "Your subscription ends soon",
	EventRetentionStarted:      "Your subscription has ended",
	EventDeletionScheduled:     "Your data will be deleted soon",
	EventConfirmationResent:    "Please confirm your e-mail address",
	EventEmailChangeRequested:  "A change of your e-mail address was requested",
	EventRecoveryCodeReplaced:  "You have a new recovery code",
}

// mailBatch is how many mails one claim takes.
const mailBatch = 50

// deliver sends the e-mails that wait, of one account or (0) of all, and
// reports how many went out and how many failed. Each is claimed in the
// outbox first, so concurrent senders never send one twice.
func (l *Lifecycle) deliver(ctx context.Context, account int64) (sent, failed int) {
	if l.o.Mailer == nil {
		return 0, 0
	}
	now := l.Now()
	for {
		jobs, err := l.db.ClaimJobs(ctx, storage.ClaimOptions{Kind: storage.JobMail, Account: account, Now: now, Until: now.Add(mailClaimStale), Limit: mailBatch})
		if err != nil {
			l.o.Logger.Error("claim mails", "err", err)
			return sent, failed
		}
		before := failed
		for i := range jobs {
			if l.send(ctx, &jobs[i], now) {
				sent++
			} else {
				failed++
			}
		}
		// A failed mail is due again at once: claiming on would take it again.
		if len(jobs) < mailBatch || failed > before {
			return sent, failed
		}
	}
}

// send sends one claimed mail and records the outcome: a failed one is
// due again (at the next sweep), until it failed mailTries times.
func (l *Lifecycle) send(ctx context.Context, job *storage.Job, now time.Time) bool {
	ev, err := l.db.Event(ctx, job.Event)
	var rec *storage.LifecycleRecord
	if err == nil {
		rec, err = l.db.LifecycleRecord(ctx, job.Account)
	}
	if err == nil {
		err = l.o.Mailer.Send(ctx, rec.Email, l.compose(ev, rec))
		if err != nil {
			// The error names the server, not the message.
			l.o.Logger.Warn("mail not sent; retried at the next sweep", "event", job.Event, "kind", ev.Kind, "err", err)
		}
	} else {
		l.o.Logger.Error("read mail", "event", job.Event, "err", err)
	}
	if ferr := l.db.FinishJob(ctx, job, storage.JobOutcome{Done: err == nil, RetryAt: now, MaxAttempts: mailTries}); ferr != nil {
		l.o.Logger.Error("record mail", "event", job.Event, "err", ferr)
	}
	return err == nil
}

// compose writes the e-mail of an event. It holds only what the account
// record holds, and the confirmation token while the address is unconfirmed.
func (l *Lifecycle) compose(ev *storage.Event, acct *storage.LifecycleRecord) Message {
	kind := EventKind(ev.Kind)
	subject := subjects[kind]
	if subject == "" {
		subject = "News about your {service} account"
	}
	subject = strings.ReplaceAll(subject, "{service}", l.service())
	name := acct.DisplayName
	if name == "" {
		name = acct.Username
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Hello %s,\n\n", name)
	fmt.Fprintf(&b, "%s (account %q, %s UTC).\n", subject, acct.Username, ev.At.UTC().Format("2006-01-02 15:04"))
	if ev.Detail != "" {
		fmt.Fprintf(&b, "\n%s\n", ev.Detail)
	}
	if (kind == EventRegistered || kind == EventConfirmationResent) && acct.Confirmed.IsZero() {
		token := l.token(acct)
		if link := l.confirmLink(acct.Username, token); link != "" {
			fmt.Fprintf(&b, "\nFollow this link to confirm your e-mail address:\n%s\n", link)
		}
		fmt.Fprintf(&b, "\nYour confirmation code: %s\n", token)
	}
	switch kind {
	case EventPasswordChanged, EventAppPasswordCreated, EventEmailChanged, EventEmailChangeRequested, EventRecoveryCodeReplaced:
		b.WriteString("\nIf this was not you, contact us at once.\n")
	}
	return Message{Subject: subject, Body: b.String()}
}

// service is the service's name in the mails.
func (l *Lifecycle) service() string {
	if l.o.ServiceName == "" {
		return "Coffer"
	}
	return l.o.ServiceName
}

// Flush sends an account's waiting e-mails now (after a change committed
// elsewhere, such as an account's creation); failures wait for the next sweep.
func (l *Lifecycle) Flush(ctx context.Context, account int64) { l.deliver(ctx, account) }
