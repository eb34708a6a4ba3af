package password

import (
	_ "embed"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/mfagate/mfagate"
	"golang.org/x/text/unicode/norm"
)

// Length limits. MinLength and MaxLength count characters (runes);
// MaxInputBytes bounds what is hashed at all, so a 1 MB "password" is
// refused before any work is spent on it.
const (
	MinLength     = 8
	MaxLength     = 256
	MaxInputBytes = 1024
)

// Normalize puts a password in Unicode NFKC form, so the same characters
// typed on different keyboards give the same hash (NIST SP 800-63B 5.1.1.2).
func Normalize(password string) string { return norm.NFKC.String(password) }

// Check applies the policy to a new password and returns an EINVALID
// *mfagate.Error saying what to change, or nil. There are no composition
// rules: length, and not being common or the person's own name, is what
// makes a password hard to guess.
func Check(password, username, email string) error {
	if !utf8.ValidString(password) {
		return mfagate.Errorf(mfagate.EINVALID, "Your password contains characters that cannot be used. Type it again")
	}
	if len(password) > MaxInputBytes || utf8.RuneCountInString(password) > MaxLength {
		return mfagate.Errorf(mfagate.EINVALID, "Your password must be %d characters or fewer", MaxLength)
	}
	p := Normalize(password)
	if utf8.RuneCountInString(p) < MinLength {
		return mfagate.Errorf(mfagate.EINVALID, "Your password must be at least %d characters long", MinLength)
	}
	lower := strings.ToLower(p)
	if (username != "" && lower == strings.ToLower(username)) ||
		(email != "" && lower == strings.ToLower(email)) {
		return mfagate.Errorf(mfagate.EINVALID, "Your password must not be your username or email address")
	}
	if isCommon(lower) || isOneCharacter(lower) {
		return mfagate.Errorf(mfagate.EINVALID, "That password is too common and easy to guess. Choose a different one")
	}
	return nil
}

// commonList is zxcvbn's list of common passwords (about 30,000 taken from
// real password leaks), of which the 11,611 of 8 characters or more are
// kept: see common.txt's header and NOTICE for its origin and licence.
//
//go:embed common.txt
var commonList string

var (
	commonOnce sync.Once
	common     map[string]struct{}
)

// isCommon reports whether the lower-cased password is on the list.
func isCommon(lower string) bool {
	commonOnce.Do(func() { common = parseCommon(commonList) })
	_, ok := common[lower]
	return ok
}

// parseCommon reads one password a line; lines starting with "#" are the
// header.
func parseCommon(list string) map[string]struct{} {
	set := make(map[string]struct{}, 12000)
	for _, w := range strings.Split(list, "\n") {
		if len(w) >= MinLength && !strings.HasPrefix(w, "#") {
			set[w] = struct{}{}
		}
	}
	return set
}

func isOneCharacter(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return strings.Trim(s, string(r)) == ""
}
