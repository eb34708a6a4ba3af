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
}

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
