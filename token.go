package mfagate

import "time"

// Token is a bearer token for the JSON API, held by a program acting for
// operators or support. The store keeps only its hash.
type Token struct {
	ID         int64
	Name       string // who or what holds it; the actor of its audited actions
	Role       string // RoleOperator or RoleSupport
	Hash       []byte // SHA-256 of the token
	CreatedAt  time.Time
	LastUsedAt time.Time // zero until used
	RevokedAt  time.Time // zero while valid
}
