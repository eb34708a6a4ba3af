package mfagate

import (
	"strings"
	"time"
)

// Throttle is the run of consecutive attempts behind one key, such as
// "user:alice" (passwords), "mfa:alice" (second-factor codes) or
// "addr:192.0.2.7" (a client address). It lives in the database so every
// replica sees it.
//
// An attempt is admitted, and counted in Failures, before it is checked;
// a success then takes its count back. So Failures includes attempts
// still being checked, and however many arrive at once no more are
// checked than the run allows.
type Throttle struct {
	Key string
	// Run names the run of attempts the key holds: a random number given
	// when the run starts (its first attempt after the key was cleared).
	Run           int64
	Failures      int       // attempts admitted since the key was last cleared, not yet proved right
	LastFailureAt time.Time // when the latest of them was admitted
	LockedUntil   time.Time // zero when not locked for a time
	HardLocked    bool      // locked until support unlocks
}

// LockedAt reports whether the key is locked at now.
func (th *Throttle) LockedAt(now time.Time) bool {
	return th.HardLocked || now.Before(th.LockedUntil)
}

// Throttle keys. The store's people search recognises the password and
// second-factor keys of an account to tell whether it is locked, so the
// formats are part of the store's contract.
func PasswordThrottleKey(username string) string { return "user:" + UsernameKey(username) }

// FactorThrottleKey is the key of an account's second-factor attempts:
// counted on their own, so that a right password never lowers them.
func FactorThrottleKey(username string) string { return "mfa:" + UsernameKey(username) }

// AddressThrottleKey is the key of the attempts from one client address.
func AddressThrottleKey(addr string) string { return "addr:" + addr }

// ResetThrottleKey is the key of the password-reset links asked for one
// account (by its username), or for a name or an address nobody has (as
// typed): both are counted alike, so that the limit tells nobody whether
// an account exists.
func ResetThrottleKey(who string) string { return "reset:" + strings.ToLower(who) }

// AddressClaimKey is held, as a throttle key is, by a transaction that
// gives an account an email address, so that two accounts cannot take one
// address at once on any replica: the check that nobody has it and the
// write that gives it then stand together.
func AddressClaimKey(email string) string { return "claim:" + strings.ToLower(email) }

// ResetAddressThrottleKey is the key of the password resets asked for
// from one client address.
func ResetAddressThrottleKey(addr string) string { return "reset-addr:" + addr }

// Kinds of security notice that are coalesced: at most one email of a
// kind per person per NoticeEvery, the next one saying how many more
// events there were.
const (
	NoticeReplay       = "code.replay"   // an authenticator code entered twice
	NoticeFailedCodes  = "code.failures" // wrong codes after a right password
	NoticePasswordLock = "lock.password" // locked after wrong passwords
	NoticeCodeLock     = "lock.code"     // locked after wrong codes
	NoticeHardLock     = "lock.hard"     // locked until support unlocks
)

// NoticeEvery is the least time between two security notices of one kind
// to one person.
const NoticeEvery = 15 * time.Minute

// NoticeState is what has been emailed to a person about one kind of
// security event, and what is held back for the next email.
type NoticeState struct {
	UserID int64
	Kind   string
	SentAt time.Time // the last email of this kind; zero if never
	// Held counts the events since SentAt that were not emailed on their
	// own; HeldSince is the first, HeldLastAt and HeldFrom the latest
	// (its time and client address).
	Held       int
	HeldSince  time.Time
	HeldLastAt time.Time
	HeldFrom   string
}
