package mfagate

import (
	"strings"
	"time"
)

// Second-factor methods.
const (
	MethodEmail    = "email"    // a one-time code sent to the registered address
	MethodTOTP     = "totp"     // an authenticator app (RFC 6238)
	MethodRecovery = "recovery" // a single-use recovery code; not a factor of its own
)

// methodWords are the methods' names in words: on its own, and with the
// article a sentence needs.
var methodWords = map[string]struct{ name, phrase string }{
	MethodEmail:    {"email codes", "email codes"},
	MethodTOTP:     {"authenticator app", "an authenticator app"},
	MethodRecovery: {"recovery codes", "recovery codes"},
}

// MethodName names a method in words on its own, as a list, a tag or a
// button does: "email codes", "authenticator app". Pages, emails and the
// command line all name methods through it; an unknown method is named as
// it is written.
func MethodName(method string) string {
	if w, ok := methodWords[method]; ok {
		return w.name
	}
	return method
}

// MethodPhrase names a method as a sentence does, with its article:
// "email codes", "an authenticator app".
func MethodPhrase(method string) string {
	if w, ok := methodWords[method]; ok {
		return w.phrase
	}
	return method
}

// MethodPhrases names methods as a choice: "email codes or an
// authenticator app".
func MethodPhrases(methods []string) string {
	out := make([]string, len(methods))
	for i, m := range methods {
		out[i] = MethodPhrase(m)
	}
	return strings.Join(out, " or ")
}

// Factor is a confirmed second factor. A factor exists only once the
// person has proved it works: an unfinished setup leaves nothing behind.
// A person has at most one factor per method.
type Factor struct {
	ID     int64
	UserID int64
	Method string
	// Secret is the TOTP secret sealed with the server's key (AES-256-GCM);
	// nil for email. The plain secret is never stored.
	Secret []byte
	// LastStep is the last accepted TOTP time step; codes at or before it
	// are refused, so a code cannot be used twice.
	LastStep   int64
	CreatedAt  time.Time
	LastUsedAt time.Time // zero until first used to sign in
}

// RecoveryCode is one single-use code, stored only as a keyed hash.
type RecoveryCode struct {
	ID        int64
	UserID    int64
	Hash      []byte
	CreatedAt time.Time
	UsedAt    time.Time // zero while unused
}

// Purposes of email codes.
const (
	PurposeSignIn = "signin" // the second step of signing in
	PurposeSetup  = "setup"  // proving an address while setting up email codes
	// PurposeAddress proves a new address before it becomes the account's:
	// the code goes to the new address, never to the one in use.
	PurposeAddress = "address"
)

// EmailCode is a one-time code sent by email. It is bound to the sign-in
// attempt (session) it was sent for and stored only as a keyed hash.
type EmailCode struct {
	ID          int64
	UserID      int64
	SessionHash []byte
	Purpose     string
	Address     string // where it was sent
	Hash        []byte
	CreatedAt   time.Time
	ExpiresAt   time.Time
	// Failures counts wrong tries. A resent code starts with the count of
	// the code it replaces, so resending never buys more guesses.
	Failures int
	UsedAt   time.Time // zero until used
	Voided   bool      // replaced by a newer code
}
