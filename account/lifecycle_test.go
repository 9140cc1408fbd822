package account

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coffer-dav/coffer/auth"
	"github.com/coffer-dav/coffer/storage"
)

// produced is an event as the test expects it: its kind and when it was produced.
type produced struct {
	Kind EventKind
	At   time.Time
}

func (p produced) String() string {
	return fmt.Sprintf("%s@%s", p.Kind, p.At.Format("2006-01-02 15:04"))
}

var tokenLine = regexp.MustCompile(`confirmation code: (\S+)`)

// driveLife runs one account through every notification there is, sweeping
// every hour (twice, to show a repeat adds nothing), and checks that each
// event is produced once, at its moment. mails returns the e-mails
// (subject and body) that arrived so far. It returns the number of events.
func driveLife(t *testing.T, l *Lifecycle, db *storage.DB, c *clock, mails func() []Message) int {
	t.Helper()
	ctx := context.Background()
	t0 := c.Now()
	at := func(days float64) time.Time { return t0.Add(time.Duration(days * float64(Day))) }
	until := func(days float64) {
		t.Helper()
		for c.Now().Before(at(days)) {
			c.Advance(time.Hour)
			for range 2 {
				if _, err := l.Sweep(ctx); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}

	res, err := l.CreatePending(ctx, testCreator{db, l}, NewAccount{Username: "alice", Email: "alice@example.org", DisplayName: "Alice", Password: "long enough password"})
	must(err)
	id, err := l.Lookup(ctx, "alice")
	must(err)
	if res.State != StatePending {
		t.Fatalf("a new account is %s", res.State)
	}
	until(1)
	token := res.ConfirmationToken
	if ms := mails(); len(ms) > 0 {
		m := tokenLine.FindStringSubmatch(ms[0].Body)
		if m == nil {
			t.Fatalf("the registration mail has no confirmation code:\n%s", ms[0].Body)
		}
		token = m[1]
	}
	if err := l.Confirm(ctx, id, "wrong-token"); !errors.Is(err, ErrBadToken) {
		t.Fatalf("a wrong token: %v", err)
	}
	must(l.Confirm(ctx, id, token))
	if err := l.Confirm(ctx, id, token); !errors.Is(err, ErrConfirmed) {
		t.Fatalf("a second confirmation: %v", err)
	}
	until(210.5)
	applied, st, err := l.ApplyPayment(ctx, id, Payment{TransactionID: "t-1", Plan: "basic", Days: 30})
	must(err)
	if !applied || st.State != StateActive || !st.PaidThrough.Equal(at(240.5)) {
		t.Fatalf("renewal in retention: applied %v, %+v", applied, st)
	}
	until(215)
	_, _, err = l.ApplyPayment(ctx, id, Payment{TransactionID: "t-2", Plan: "basic", Days: 30})
	must(err)
	applied, st, err = l.ApplyPayment(ctx, id, Payment{TransactionID: "t-2", Plan: "basic", Days: 30})
	if err != nil || applied || !st.PaidThrough.Equal(at(270.5)) {
		t.Fatalf("the same transaction again: applied %v, %+v, %v", applied, st, err)
	}
	until(216)
	_, _, err = l.ApplyPayment(ctx, id, Payment{TransactionID: "t-3", Plan: "pro", PaidThrough: at(300)})
	must(err)
	until(217)
	codes, err := l.CreateVouchers(ctx, "pro", 10, 1)
	must(err)
	st, err = l.RedeemVoucher(ctx, id, codes[0])
	must(err)
	if !st.PaidThrough.Equal(at(310)) {
		t.Fatalf("after the voucher: %+v", st)
	}
	if _, err := l.RedeemVoucher(ctx, id, codes[0]); !errors.Is(err, ErrVoucherUsed) {
		t.Fatalf("a voucher redeemed twice: %v", err)
	}
	until(218)
	must(l.SetDisplayName(ctx, id, "Alice B."))
	must(l.SetEmail(ctx, id, "alice.b@example.org"))
	for _, k := range []EventKind{EventPasswordChanged, EventAppPasswordCreated, EventAppPasswordRevoked} {
		must(l.Record(ctx, id, k, ""))
	}
	if err := l.Record(ctx, id, EventRetentionStarted, ""); err == nil {
		t.Fatal("Record took a lifecycle event")
	}
	want := []produced{
		{EventRegistered, at(0)},
		{EventEmailConfirmed, at(1)}, {EventTrialStarted, at(1)},
		{EventSubscriptionExpiring, at(24)}, {EventSubscriptionExpiring, at(30)},
		{EventTrialEnded, at(31)}, {EventRetentionStarted, at(31)},
		{EventDeletionScheduled, at(204)}, {EventDeletionScheduled, at(210)},
		{EventSubscriptionPurchased, at(210.5)},
		{EventSubscriptionExtended, at(215)},
		{EventSubscriptionUpgraded, at(216)},
		{EventVoucherRedeemed, at(217)},
		{EventDisplayNameChanged, at(218)}, {EventEmailChanged, at(218)},
		{EventPasswordChanged, at(218)}, {EventAppPasswordCreated, at(218)}, {EventAppPasswordRevoked, at(218)},
		{EventSubscriptionExpiring, at(303)}, {EventSubscriptionExpiring, at(309)},
		{EventRetentionStarted, at(310)},
		{EventDeletionScheduled, at(483)}, {EventDeletionScheduled, at(489)},
	}
	until(489.5)
	h, err := l.History(ctx, id)
	must(err)
	var got []produced
	for _, e := range h {
		got = append(got, produced{e.Kind, e.At})
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("history:\n got %v\nwant %v", got, want)
	}
	if st, _ := l.Status(ctx, id); st.State != StateRetention || !st.DeleteAt.Equal(at(490)) {
		t.Fatalf("before the purge: %+v", st)
	}
	until(490)
	if st, _ := l.Status(ctx, id); st.State != StatePurged {
		t.Fatalf("after the deletion date: %s", st.State)
	}
	if _, err := l.Lookup(ctx, "alice"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("the purged account is still there: %v", err)
	}
	return len(want)
}

// TestEveryNotificationOnce: each notification is produced once, at its
// moment, and each is mailed once, to the address the account has then.
func TestEveryNotificationOnce(t *testing.T) {
	db, _ := openDB(t)
	c := newClock()
	m := &fakeMailer{}
	l := newLife(t, db, c, m)
	n := driveLife(t, l, db, c, func() []Message {
		var out []Message
		for _, s := range m.Sent() {
			out = append(out, s.Message)
		}
		return out
	})
	sent := m.Sent()
	if len(sent) != n {
		t.Fatalf("%d mails for %d events", len(sent), n)
	}
	for i, s := range sent {
		wantTo := "alice@example.org"
		if i >= 14 { // from the e-mail change on
			wantTo = "alice.b@example.org"
		}
		if s.To != wantTo {
			t.Errorf("mail %d (%s) went to %s, want %s", i, s.Subject, s.To, wantTo)
		}
	}
}

// TestNotificationsOnlyRecordedWithoutSMTP: without a mailer nothing is
// queued, and the confirmation token comes back to the operator.
func TestNotificationsOnlyRecordedWithoutSMTP(t *testing.T) {
	db, _ := openDB(t)
	c := newClock()
	l := newLife(t, db, c, nil)
	driveLife(t, l, db, c, func() []Message { return nil })
}

// TestFailedMailIsRetried: a mail that fails waits for the next sweep, and
// then goes out once.
func TestFailedMailIsRetried(t *testing.T) {
	db, _ := openDB(t)
	c := newClock()
	m := &fakeMailer{fail: true}
	l := newLife(t, db, c, m)
	id := mustCreate(t, l, db, "bob", StartDefault)
	if h, _ := l.History(context.Background(), id); len(h) != 2 || h[0].Mail != "queued" {
		t.Fatalf("after a failed send: %+v", h)
	}
	m.mu.Lock()
	m.fail = false
	m.mu.Unlock()
	rep, err := l.Sweep(context.Background())
	if err != nil || rep.MailsSent != 2 {
		t.Fatalf("sweep: %+v, %v", rep, err)
	}
	if rep, _ := l.Sweep(context.Background()); rep.MailsSent != 0 {
		t.Fatalf("a second sweep sent %d again", rep.MailsSent)
	}
	if got := len(m.Sent()); got != 2 {
		t.Fatalf("%d mails", got)
	}
	if h, _ := l.History(context.Background(), id); h[0].Mail != "sent" {
		t.Fatalf("delivery state %q", h[0].Mail)
	}
}

// TestPendingRemovedAfterAWeek: an unconfirmed account goes after 7 days.
func TestPendingRemovedAfterAWeek(t *testing.T) {
	db, _ := openDB(t)
	c := newClock()
	l := newLife(t, db, c, nil)
	id := mustCreate(t, l, db, "carol", StartPending)
	c.Advance(7*Day - time.Second)
	l.Sweep(context.Background())
	if st, _ := l.State(context.Background(), id); st != StatePending {
		t.Fatalf("after 7 days less a second: %s", st)
	}
	c.Advance(time.Second)
	l.Sweep(context.Background())
	if _, err := l.Lookup(context.Background(), "carol"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("pending account after 7 days: %v", err)
	}
}

// TestLifecycleOffNeverExpires: with the lifecycle off, nothing expires,
// nothing is swept and accounts are permanent.
func TestLifecycleOffNeverExpires(t *testing.T) {
	db, _ := openDB(t)
	c := newClock()
	l, err := New(db, Options{Settings: Settings{Off: true, Trial: Day, Retention: Day, Pending: Day}, Now: c.Now, TokenKey: testKey})
	if err != nil {
		t.Fatal(err)
	}
	id := mustCreate(t, l, db, "dave", StartDefault)
	c.Advance(1000 * Day)
	l.Sweep(context.Background())
	st, err := l.Status(context.Background(), id)
	if err != nil || st.State != StateActive || !st.Permanent {
		t.Fatalf("%+v, %v", st, err)
	}
	if err := l.Gate(context.Background(), id, "dave"); err != nil {
		t.Fatal(err)
	}
	if got := kinds(t, l, id); len(got) != 1 || got[0] != EventRegistered {
		t.Fatalf("history %v", got)
	}
}

func TestPaymentChecks(t *testing.T) {
	db, _ := openDB(t)
	c := newClock()
	l := newLife(t, db, c, nil)
	id := mustCreate(t, l, db, "erin", StartDefault)
	other := mustCreate(t, l, db, "frank", StartDefault)
	pending := mustCreate(t, l, db, "gina", StartPending)
	ctx := context.Background()
	if _, _, err := l.ApplyPayment(ctx, id, Payment{TransactionID: "x", Plan: "basic", Days: 3}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := l.ApplyPayment(ctx, other, Payment{TransactionID: "x", Plan: "basic", Days: 3}); !errors.Is(err, ErrOtherTransaction) {
		t.Fatalf("a transaction of another account: %v", err)
	}
	if _, _, err := l.ApplyPayment(ctx, pending, Payment{TransactionID: "y", Plan: "basic", Days: 3}); !errors.Is(err, ErrPending) {
		t.Fatalf("a payment for a pending account: %v", err)
	}
	if got := kinds(t, l, other); strings.Contains(fmt.Sprint(got), "subscription") {
		t.Fatalf("the refused payment left an event: %v", got)
	}
}

// TestGateKeepsItsAnswerBriefly: Gate answers a burst of requests from one
// read; a change by another process (a second Lifecycle over the database)
// shows within gateTTL, and a change through this one at once.
func TestGateKeepsItsAnswerBriefly(t *testing.T) {
	db, _ := openDB(t)
	c := newClock()
	l := newLife(t, db, c, nil)
	ctx := context.Background()
	id := mustCreate(t, l, db, "hana", StartPending)
	var blocked *auth.Blocked
	if err := l.Gate(ctx, id, "hana"); !errors.As(err, &blocked) {
		t.Fatalf("pending: %v, want *auth.Blocked", err)
	}
	other := newLife(t, db, c, nil)
	token, err := other.ConfirmationToken(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Confirm(ctx, id, token); err != nil {
		t.Fatal(err)
	}
	if err := l.Gate(ctx, id, "hana"); !errors.As(err, &blocked) {
		t.Fatalf("within the second after a change elsewhere: %v, want the kept answer", err)
	}
	if err := l.Gate(ctx, id, "someone-else"); !errors.Is(err, auth.ErrBadCredentials) {
		t.Fatalf("another username for the account: %v", err)
	}
	c.Advance(gateTTL)
	if err := l.Gate(ctx, id, "hana"); err != nil {
		t.Fatalf("a second after the confirmation: %v", err)
	}
	if err := l.Delete(ctx, id); err != nil {
		t.Fatal(err)
	}
	if err := l.Gate(ctx, id, "hana"); !errors.Is(err, auth.ErrBadCredentials) {
		t.Fatalf("right after a delete through the same lifecycle: %v", err)
	}
}
