// A new recovery code for a signed-in user.

package auth

import (
	"context"

	"github.com/coffer-dav/coffer/encryption"
)

// NewRecoveryCode wraps the user key of a signed-in identity under a new
// recovery code, which replaces the old one at once, and returns it to be
// shown once. The password and app passwords keep working. id must be a
// login with the account password (its Keys open the data).
func (s *Service) NewRecoveryCode(ctx context.Context, id *Identity) (string, error) {
	if id.AppPassword != "" || id.Keys == nil {
		return "", ErrBadCredentials
	}
	st, ok := s.store.(SlotStore)
	if !ok {
		return "", ErrRecoveryOff
	}
	code, err := NewSecret(16)
	if err != nil {
		return "", err
	}
	rc, err := s.recoverySlot(id.AccountID, id.Keys.UserKey(), code)
	if err != nil {
		return "", err
	}
	if err := st.SetCredentials(ctx, id.AccountID, map[string]encryption.Slot{"recovery": rc}); err != nil {
		return "", err
	}
	return code, nil
}
