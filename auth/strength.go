// The strength rule every new password passes: it refuses the common ones.

package auth

import (
	"errors"
	"strings"

	"github.com/trustelem/zxcvbn"
)

// minStrength is the least zxcvbn score (0 to 4) a new password needs. A
// score of 2 means about a million guesses or more: every password of
// zxcvbn's lists of leaked and common passwords, keyboard walks, dates,
// repeats and their l33t variants score below it. Online guessing is
// throttled and offline guessing needs the server secret as well as the
// database, so the rule refuses what is guessed first without turning
// people away with rules about character classes.
const minStrength = 2

// strengthPrefix bounds what the estimator reads: its cost grows with the
// square of the length (a 1000-character password takes seconds), and a
// password whose first 64 characters are strong is strong.
const strengthPrefix = 64

// errWeakPassword is a password that is too easy to guess.
var errWeakPassword = errors.New("the password is too common or too easy to guess; try a few unusual words together")

// checkStrength refuses a password that is among the common ones or is
// easily guessed, also from the account's own details (username, e-mail
// address, display name), which are given as hints.
func checkStrength(password string, hints []string) error {
	p := []rune(password)
	if len(p) > strengthPrefix {
		p = p[:strengthPrefix]
	}
	var inputs []string
	for _, h := range hints {
		h = strings.ToLower(strings.TrimSpace(h))
		if h == "" {
			continue
		}
		inputs = append(inputs, h)
		// The parts of an e-mail address and of a name count on their own,
		// and so do they run together ("zorba.quint" as "zorbaquint").
		local, _, _ := strings.Cut(h, "@")
		parts := strings.FieldsFunc(h, func(r rune) bool { return r == '@' || r == '.' || r == ' ' || r == '-' || r == '_' || r == '+' })
		inputs = append(inputs, parts...)
		inputs = append(inputs, strings.Join(strings.FieldsFunc(local, func(r rune) bool { return r == '.' || r == ' ' || r == '-' || r == '_' || r == '+' }), ""))
	}
	if zxcvbn.PasswordStrength(string(p), inputs).Score < minStrength {
		return errWeakPassword
	}
	return nil
}
