package account

import "time"

// EventKind names an entry of an account's notification history.
type EventKind string

// The events of the notification history. Their names are stable: they are
// stored, and other packages record some of them through Lifecycle.Record.
const (
	EventRegistered            EventKind = "registered"
	EventEmailConfirmed        EventKind = "email_confirmed"
	EventTrialStarted          EventKind = "trial_started"
	EventTrialEnded            EventKind = "trial_ended"
	EventSubscriptionPurchased EventKind = "subscription_purchased"
	EventSubscriptionExtended  EventKind = "subscription_extended"
	EventSubscriptionUpgraded  EventKind = "subscription_upgraded"
	EventVoucherRedeemed       EventKind = "voucher_redeemed"
	EventDisplayNameChanged    EventKind = "display_name_changed"
	EventEmailChanged          EventKind = "email_changed"
	EventPasswordChanged       EventKind = "password_changed"
	EventAppPasswordCreated    EventKind = "app_password_created"
	EventAppPasswordRevoked    EventKind = "app_password_revoked"
	EventSubscriptionExpiring  EventKind = "subscription_expiring" // a reminder before the trial or subscription ends
	EventRetentionStarted      EventKind = "retention_started"
	EventDeletionScheduled     EventKind = "deletion_scheduled"     // a reminder before the data is deleted
	EventConfirmationResent    EventKind = "confirmation_resent"    // the confirmation link of a pending account, sent again
	EventEmailChangeRequested  EventKind = "email_change_requested" // a link to confirm a new address went to that address
	EventRecoveryCodeReplaced  EventKind = "recovery_code_replaced" // a new recovery code replaced the old one
)

// Event is one entry of an account's notification history.
type Event struct {
	Kind   EventKind `json:"kind"`
	Detail string    `json:"detail"`
	At     time.Time `json:"at"`
	Mail   string    `json:"mail"` // e-mail delivery: none, queued, sending, sent or failed
}

// recordable lists the kinds other packages may record with Record; the rest
// come from the lifecycle's own operations, in the transaction of their change.
var recordable = map[EventKind]bool{
	EventPasswordChanged:      true,
	EventAppPasswordCreated:   true,
	EventAppPasswordRevoked:   true,
	EventDisplayNameChanged:   true,
	EventEmailChanged:         true,
	EventRecoveryCodeReplaced: true,
}

// date writes a day for people: 2026-03-01.
func date(t time.Time) string { return t.UTC().Format("2006-01-02") }
