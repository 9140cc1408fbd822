package auth

import (
	"context"
	"errors"

	"github.com/coffer-dav/coffer/encryption"
)

// SlotStore writes several key slots at once. A Store that also implements
// it enables recovery (Recover, RecoverWithEscrow) and escrow slots; the
// Service finds it by a type assertion.
type SlotStore interface {
	// SetCredentials stores slots by kind, replacing those of the same kinds,
	// in one transaction.
	SetCredentials(ctx context.Context, account int64, slots map[string]encryption.Slot) error
}

// Recovery errors.
var (
	ErrRecoveryOff  = errors.New("auth: the credential store cannot replace recovery codes")
	ErrNoEscrowSlot = errors.New("auth: the account has no escrow slot (it was created before an escrow key was configured and has not logged in since)")
)

// Recover opens a user's keys with the recovery code, sets a new password
// and issues a new recovery code, which replaces the old one and is
// returned to be shown once. Every cached login of the user is forgotten.
// A wrong code or an unknown user gives ErrBadCredentials.
func (s *Service) Recover(ctx context.Context, username, code, password string) (*Identity, string, error) {
	if err := CheckPassword(password); err != nil {
		return nil, "", err
	}
	id, c, err := s.unlockRecovery(ctx, username, code)
	if err != nil {
		return nil, "", err
	}
	newCode, err := s.reset(ctx, c, id.Keys, password)
	return id, newCode, err
}

// RecoverWithEscrow is Recover with the operator's offline escrow private
// key in place of the recovery code.
func (s *Service) RecoverWithEscrow(ctx context.Context, username string, key *encryption.EscrowPrivateKey, password string) (*Identity, string, error) {
	if err := CheckPassword(password); err != nil {
		return nil, "", err
	}
	c, err := s.store.Credentials(ctx, username)
	if errors.Is(err, ErrUnknownUser) {
		return nil, "", ErrBadCredentials
	}
	if err != nil {
		return nil, "", err
	}
	if len(c.EscrowSlot.Wrapped) == 0 {
		return nil, "", ErrNoEscrowSlot
	}
	raw, err := encryption.OpenEscrow(c.EscrowSlot, key, s.o.ServerSecret, encryption.SlotAD(c.AccountID, "escrow"))
	if err != nil {
		return nil, "", err
	}
	keys, err := encryption.NewKeyring(raw)
	if err != nil {
		return nil, "", err
	}
	newCode, err := s.reset(ctx, c, keys, password)
	if err != nil {
		return nil, "", err
	}
	return identityOf(c, keys), newCode, nil
}

// unlockRecovery opens a user's keys with the recovery code alone.
func (s *Service) unlockRecovery(ctx context.Context, username, code string) (*Identity, *Credentials, error) {
	c, err := s.store.Credentials(ctx, username)
	if errors.Is(err, ErrUnknownUser) {
		return nil, nil, ErrBadCredentials
	}
	if err != nil {
		return nil, nil, err
	}
	raw, err := encryption.Unwrap(c.RecoverySlot, []byte(NormalizeSecret(code)), s.o.ServerSecret, encryption.SlotAD(c.AccountID, "recovery"))
	if err != nil {
		return nil, nil, ErrBadCredentials
	}
	keys, err := encryption.NewKeyring(raw)
	if err != nil {
		return nil, nil, err
	}
	s.ensureEscrow(ctx, c, keys)
	return identityOf(c, keys), c, nil
}

// reset replaces the password and the recovery code of an unlocked account
// in one write (adding the escrow slot when it is due), then forgets the
// user's cached logins. It returns the new recovery code.
func (s *Service) reset(ctx context.Context, c *Credentials, keys *encryption.Keyring, password string) (string, error) {
	st, ok := s.store.(SlotStore)
	if !ok {
		return "", ErrRecoveryOff
	}
	pw, err := s.passwordSlot(c.AccountID, keys, password)
	if err != nil {
		return "", err
	}
	code, err := NewSecret(16)
	if err != nil {
		return "", err
	}
	rc, err := s.recoverySlot(c.AccountID, keys.UserKey(), code)
	if err != nil {
		return "", err
	}
	slots := map[string]encryption.Slot{"password": pw, "recovery": rc}
	if s.escrowDue(c) {
		if slots["escrow"], err = s.escrowSlot(c.AccountID, keys.UserKey()); err != nil {
			return "", err
		}
	}
	err = st.SetCredentials(ctx, c.AccountID, slots)
	// Forget even on failure: a half-done change must not leave a cached login.
	s.Forget(c.Username)
	if err != nil {
		return "", err
	}
	return code, nil
}

// recoverySlot wraps a user key under a recovery code.
func (s *Service) recoverySlot(account int64, userKey []byte, code string) (encryption.Slot, error) {
	return encryption.WrapSecret(userKey, []byte(NormalizeSecret(code)), s.o.ServerSecret, encryption.SlotAD(account, "recovery"))
}

// escrowSlot seals a user key to the configured escrow public key.
func (s *Service) escrowSlot(account int64, userKey []byte) (encryption.Slot, error) {
	return encryption.SealEscrow(userKey, s.o.Escrow, s.o.ServerSecret, encryption.SlotAD(account, "escrow"))
}

// escrowDue reports whether an escrow key is configured and the account's
// escrow slot is missing or sealed to another key.
func (s *Service) escrowDue(c *Credentials) bool {
	if s.o.Escrow == nil || s.o.Escrow.SealedTo(c.EscrowSlot) {
		return false
	}
	_, ok := s.store.(SlotStore)
	return ok
}

// ensureEscrow adds the escrow slot of an account that just logged in, when
// it is due. It is best effort: a failure never refuses the login, and the
// next login tries again.
func (s *Service) ensureEscrow(ctx context.Context, c *Credentials, keys *encryption.Keyring) {
	if !s.escrowDue(c) {
		return
	}
	slot, err := s.escrowSlot(c.AccountID, keys.UserKey())
	if err != nil {
		return
	}
	if s.store.(SlotStore).SetCredentials(ctx, c.AccountID, map[string]encryption.Slot{"escrow": slot}) == nil {
		c.EscrowSlot = slot
	}
}

// identityOf is the identity of an account whose keys are open.
func identityOf(c *Credentials, keys *encryption.Keyring) *Identity {
	return &Identity{AccountID: c.AccountID, Username: c.Username, Email: c.Email, DisplayName: c.DisplayName, Keys: keys}
}
