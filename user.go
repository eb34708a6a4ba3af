package mfagate

import (
	"slices"
	"strings"
	"time"
)

// Roles with a meaning of their own. Any other string may also be a role
// (rollout phases select people by role), but these four are known.
const (
	RoleAdmin    = "admin"    // a client organisation's administrator
	RoleUser     = "user"     // a regular account holder
	RoleOperator = "operator" // the vendor's team that runs the rollout
	RoleSupport  = "support"  // help-desk staff
)

// User is an account that can sign in.
type User struct {
	ID           int64
	Username     string // as typed when created; compared case-insensitively
	Email        string
	Name         string // display name
	Roles        []string
	PasswordHash string // PHC string; empty means no password is set
	Disabled     bool
	CreatedAt    time.Time
	LastSignInAt time.Time // zero when the person has never signed in

	// ExtendedUntil gives one person more time: until then, phases that
	// require MFA treat them as optional. Zero when there is none.
	ExtendedUntil   time.Time
	ExtensionReason string
	// Skips counts how often the person skipped setting up MFA; LastSkipAt
	// is the latest. Kept for progress reports.
	Skips      int
	LastSkipAt time.Time
	// Pace is the person's course through the one rollout phase that paces
	// them one by one (a grace window, capped skips); see rollout.Pace.
	Pace Pace

	// UnreachedAt is when a mail server refused the person's address for
	// good (zero when it has not), UnreachedReason its answer. Changing
	// the address clears both.
	UnreachedAt     time.Time
	UnreachedReason string

	// InvitedAt is when the person was last sent an invitation to choose
	// their first password, until they accept it; zero for everyone else.
	InvitedAt time.Time

	// EmailUnconfirmedAt is when staff set Email to an address the person
	// has not confirmed yet (zero once they have, or when nobody did).
	// Until then sign-in codes still go to PreviousEmail, the address
	// before (see CodeAddress), and notices go to both: an address given
	// to support by someone else is not a way in by itself.
	EmailUnconfirmedAt time.Time
	PreviousEmail      string
}

// EmailUnconfirmed reports whether staff set an address the person has
// not confirmed yet.
func (u *User) EmailUnconfirmed() bool { return !u.EmailUnconfirmedAt.IsZero() }

// CodeAddress is where the person's sign-in codes go: their address, or,
// while an address set by staff waits to be confirmed, the one before it.
func (u *User) CodeAddress() string {
	if u.EmailUnconfirmed() && u.PreviousEmail != "" {
		return u.PreviousEmail
	}
	return u.Email
}

// Invited reports whether the person has an invitation not yet accepted.
func (u *User) Invited() bool { return !u.InvitedAt.IsZero() }

// HasRole reports whether the user has role r.
func (u *User) HasRole(r string) bool { return slices.Contains(u.Roles, r) }

// UsernameKey is the form of a username used for lookups and uniqueness:
// case-insensitive, so "Alice" and "alice" are one account.
func UsernameKey(username string) string { return strings.ToLower(username) }

// UserFilter narrows a list of users. Zero values mean "any".
type UserFilter struct {
	Role    string
	AfterID int64 // for paging: only users with a larger ID
	Limit   int   // 0 means no limit
}

// Person is what the rollout needs to know about one account: enough to
// decide and to count, streamed for every account when simulating.
type Person struct {
	ID            int64
	Username      string
	Roles         []string
	Methods       []string // methods of the confirmed factors
	SignedIn      bool     // has ever signed in
	ExtendedUntil time.Time
	Skips         int
	Disabled      bool
	Unreached     bool // a mail server refused their address for good
	Invited       bool // invited, and not yet accepted
}

// MFA states a search can ask for.
const (
	MFAAny   = ""      // anyone
	MFANone  = "none"  // no factor
	MFASetUp = "setup" // at least one factor
	MFAEmail = "email" // email codes among their factors
	MFATOTP  = "totp"  // an authenticator app among their factors
)

// PeopleFilter narrows the console's search for people. Zero values mean
// "any".
type PeopleFilter struct {
	Query  string // part of the username, name or email, in any case
	Role   string // has this role
	MFA    string // one of the MFA states above
	Locked bool   // only accounts locked at Now
	// Unreached keeps only people whose address a mail server refused.
	Unreached bool
	Now       time.Time // the time Locked is judged at
	AfterID   int64     // for paging: only accounts with a larger ID
	Limit     int       // 0 means no limit
}

// PersonSummary is one row of the console's people list.
type PersonSummary struct {
	User    *User
	Methods []string // methods of the confirmed factors, sorted
	Locked  bool     // locked at the filter's Now
}

// Group is a number of accounts alike in everything the rollout counts
// them by: the same roles, the same factor methods, and the same facts.
// The store keeps these counts current as accounts change (People.Groups),
// so that a forecast reads a few dozen groups, not every account.
type Group struct {
	Roles         []string // sorted
	Methods       []string // methods of the confirmed factors, sorted
	Skipped       bool     // skipped setting up MFA at least once
	NeverSignedIn bool
	Unreached     bool // a mail server refused their address for good
	Disabled      bool
	Invited       bool // invited, and not yet accepted
	People        int
}

// GroupMismatch is a group whose kept count differs from a recount from
// the accounts themselves (People.RecountGroups).
type GroupMismatch struct {
	Group       Group // People is the kept count
	Recounted   int
	WrongPeople int // accounts of the group whose own copy of it was wrong
}

// ProgressRow counts one role's enabled accounts by MFA state. A person
// with several roles counts under each.
type ProgressRow struct {
	Role          string
	Total         int
	Email         int // email codes only
	TOTP          int // an authenticator app only
	Both          int // both methods
	None          int // no factor
	Skipped       int // no factor and skipped setup at least once
	NeverSignedIn int // no factor and never signed in
	Invited       int // invited and not accepted yet
}

// Pace is a person's own course through a rollout phase with a grace
// window or capped skips: the phase's name ("" for none), when its
// requirement was first shown to them at sign-in, and their skips under
// it. A new phase starts them afresh (see Users.MarkShown and
// Users.RecordSkipIn).
type Pace struct {
	Phase      string
	ShownAt    time.Time
	Skips      int
	LastSkipAt time.Time
}
