package mfagate

import "time"

// Outcomes of audited events.
const (
	OutcomeSuccess = "success"
	OutcomeFailure = "failure"
	OutcomeLocked  = "locked"
	OutcomeDenied  = "denied" // refused because the actor may not do it
)

// Audit event kinds. Kinds are dotted: the area, then what happened.
const (
	AuditSignInPassword = "signin.password"
	AuditSignOut        = "signout"
	AuditSessionRevoked = "session.revoke"
	AuditUserCreate     = "user.create"
	AuditUserUpdate     = "user.update"
	AuditUserDisable    = "user.disable"
	AuditUserEnable     = "user.enable"
	AuditPasswordChange = "password.change"
	AuditPasswordRehash = "password.rehash"

	AuditSignInFactor  = "signin.factor"   // a second-factor code checked at sign-in
	AuditCodeSent      = "code.sent"       // an email code sent
	AuditFactorAdd     = "factor.add"      // a factor set up
	AuditFactorRemove  = "factor.remove"   // a factor removed by its owner
	AuditRecoveryUse   = "recovery.use"    // a recovery code used to sign in
	AuditRecoveryRenew = "recovery.renew"  // recovery codes made anew
	AuditSetupSkip     = "mfa.skip"        // setting up MFA skipped
	AuditMFAReset      = "mfa.reset"       // every factor removed by staff
	AuditLock          = "account.lock"    // locked after too many failures
	AuditUnlock        = "account.unlock"  // a lock lifted by staff
	AuditExtend        = "rollout.extend"  // one person given more time
	AuditCampaign      = "rollout.send"    // a batch of rollout emails queued
	AuditAddressFixed  = "mail.fixed"      // a refused address marked fixed by staff, its emails sent again
	AuditRolesChange   = "user.roles"      // an account's roles changed by staff
	AuditInvite        = "user.invite"     // an invitation sent, sent again or revoked
	AuditInviteAccept  = "invite.accept"   // an invitation followed: a first password chosen
	AuditResetAsk      = "password.forgot" // a reset link asked for
	AuditPasswordReset = "password.reset"  // a reset link followed: a new password chosen
	AuditEmailChange   = "user.email"      // an address change: asked for, confirmed, or set by staff
)

// Actors that are not people.
const (
	ActorSystem = "system" // the server itself (scheduled work)
	ActorCLI    = "cli"    // someone at the command line on the server
)

// AuditEvent is one line of the append-only audit log. It never holds a
// password, code, secret or session id.
type AuditEvent struct {
	ID         int64
	At         time.Time // UTC
	Kind       string
	Outcome    string
	Actor      string // who acted: a username, ActorSystem or ActorCLI
	Subject    string // whom it concerned: a username, possibly unknown
	ClientAddr string
	Reason     string // why, for staff actions
	Detail     string // extra, human-readable facts
}

// AuditFilter narrows a list of audit events. Zero values mean "any".
type AuditFilter struct {
	Subject  string
	Actor    string
	Kind     string
	Since    time.Time // inclusive
	Until    time.Time // exclusive
	BeforeID int64     // for paging backwards: only events with a smaller ID
	Limit    int       // 0 means no limit
}
