// The strength rule every new password passes: it refuses the common ones.

package auth

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"unicode"

	"github.com/trustelem/zxcvbn/frequency"
)

// commonCount is how many of the most common passwords are refused.
const commonCount = 20000

// commonPasswords is the sorted list of the most common passwords of 4 or
// more characters, lower-case, built on first use from the frequency list
// that github.com/trustelem/zxcvbn carries (from leaked-password corpora):
// a server that checks no new password builds nothing.
var commonPasswords = sync.OnceValue(func() []string {
	var out []string
	for _, p := range frequency.FrequencyLists["passwords"] {
		if len(out) == commonCount {
			break
		}
		if len(p) >= 4 {
			out = append(out, strings.ToLower(p))
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
})

// errWeakPassword is a password that is too easy to guess.
var errWeakPassword = errors.New("the password is too common or too easy to guess; try a few unusual words together")

// leet undoes the usual letter-for-digit swaps (p@ssw0rd).
var leet = strings.NewReplacer("0", "o", "1", "i", "3", "e", "4", "a", "5", "s", "7", "t", "@", "a", "$", "s", "!", "i")

// checkStrength refuses what is guessed first: the 20,000 most common
// passwords, also with digits or symbols around them (Dragon2024!), with
// letters swapped for digits (p@ssw0rd), or repeated (hunter2hunter2);
// runs and repeats of one short piece (abcdefgh, 19871987); short
// all-digit ones; and the account's own details (username, e-mail
// address, display name, given as hints) with little else. A list and
// rules rather than an estimator such as zxcvbn: its dictionaries cost a
// running server several MB of heap for a check made at sign-up.
func checkStrength(password string, hints []string) error {
	p := strings.ToLower(password)
	if weak(p) || weak(leet.Replace(p)) {
		return errWeakPassword
	}
	// Without the account's details, enough must remain.
	rest := p
	for _, h := range hintWords(hints) {
		rest = strings.ReplaceAll(rest, h, "")
	}
	if rest != p && (len(core(rest)) < 4 || weak(core(rest)) || weak(leet.Replace(core(rest)))) {
		return errWeakPassword
	}
	return nil
}

// weak reports whether a lower-case password, or its letters without the
// digits and symbols around them, is common or a run or repeat.
func weak(p string) bool {
	c := core(p)
	if c == "" {
		// Digits and symbols alone: long ones only, and no pattern.
		return len(p) < 12 || patterned(p)
	}
	for _, s := range []string{p, c, unit(p), unit(c)} {
		if patterned(s) || common(s) {
			return true
		}
	}
	return false
}

// core strips everything but letters from both ends.
func core(p string) string {
	return strings.TrimFunc(p, func(r rune) bool { return !unicode.IsLetter(r) })
}

// unit returns the piece a password repeats (hunter2 of hunter2hunter2),
// or the password itself.
func unit(p string) string {
	for n := 1; n <= len(p)/2; n++ {
		if len(p)%n == 0 && strings.Repeat(p[:n], len(p)/n) == p {
			return p[:n]
		}
	}
	return p
}

// patterned reports a piece of at most 3 characters (a repeat of it), or a
// run of neighbouring characters (abcdefgh, 87654321).
func patterned(s string) bool {
	if len(s) <= 3 {
		return true
	}
	up, down := true, true
	for i := 1; i < len(s); i++ {
		up = up && s[i] == s[i-1]+1
		down = down && s[i] == s[i-1]-1
	}
	return up || down
}

// common reports whether a lower-case string is in the list.
func common(s string) bool {
	_, found := slices.BinarySearch(commonPasswords(), s)
	return found
}

// hintWords returns the account's details as lower-case words to look
// for in a password: each whole, the parts of an address and of a name,
// and an address's local part run together (zorba.quint as zorbaquint).
// Parts shorter than 3 letters are left out, and longer ones come first.
func hintWords(hints []string) []string {
	var out []string
	sep := func(r rune) bool { return r == '@' || r == '.' || r == ' ' || r == '-' || r == '_' || r == '+' }
	for _, h := range hints {
		h = strings.ToLower(strings.TrimSpace(h))
		local, _, _ := strings.Cut(h, "@")
		out = append(out, h, strings.Join(strings.FieldsFunc(local, sep), ""))
		out = append(out, strings.FieldsFunc(h, sep)...)
	}
	out = slices.DeleteFunc(out, func(w string) bool { return len(w) < 3 })
	slices.SortFunc(out, func(a, b string) int { return len(b) - len(a) })
	return slices.Compact(out)
}
