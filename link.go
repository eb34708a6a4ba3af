package mfagate

import "time"

// Purposes of emailed links.
const (
	LinkInvite = "invite" // an invitation to choose a first password
	LinkReset  = "reset"  // a forgotten password
)

// Link is a single-use link emailed to a person, to choose a password: an
// invitation to a new account or a reset of a forgotten password. The
// store keeps only the hash of the token the link carries.
type Link struct {
	ID        int64
	UserID    int64
	Purpose   string // LinkInvite or LinkReset
	Hash      []byte // SHA-256 of the token
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    time.Time // zero until used
}

// Usable reports whether the link can still be used at now.
func (l *Link) Usable(now time.Time) bool { return l.UsedAt.IsZero() && now.Before(l.ExpiresAt) }
