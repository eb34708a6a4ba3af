package mfagate

import "time"

// Stage is how far a session has got through signing in.
type Stage string

const (
	// StagePassword means the password was right but a second factor (or
	// setting one up) may still be due. Only the sign-in steps, logout and
	// help are reachable in this stage.
	StagePassword Stage = "password"
	// StageFull means the person is fully signed in.
	StageFull Stage = "full"
)

// Session is a server-side session. The cookie carries a random token and
// a MAC of it under the server's key; the store keeps only the SHA-256 of
// the random part, so a copy of the database does not let anyone sign in.
type Session struct {
	Hash           []byte // SHA-256 of the random part of the token in the cookie
	UserID         int64
	Stage          Stage
	CreatedAt      time.Time // start of the absolute lifetime
	LastSeenAt     time.Time // start of the idle timeout; written in batches, at most a minute late (account.IdleGrace)
	SecondFactorAt time.Time // when a second factor was last passed; zero if never
	ClientAddr     string
	UserAgent      string

	// State of a sign-in or setup in progress, kept only as long as the
	// session: abandoning it leaves nothing usable behind.
	PendingTOTP     []byte // a TOTP secret being set up, sealed
	PendingRecovery []byte // new recovery codes not yet confirmed as saved, sealed
}
