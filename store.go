package mfagate

import (
	"context"
	"time"
)

// Store is the persistent state of mfagate, shared by every replica.
//
// Work happens inside Update or View, which hand fn a Tx. Use cases that
// change several things (a user, its audit event and the email about it)
// do so in one Update, so either all of it happens or none of it does.
//
// Every call has a deadline: ctx's, or else the store's request timeout.
// When it passes, or the database cannot be reached, the call fails with
// EUNAVAILABLE (and an Update is rolled back). Work that may take longer
// than a request, such as walking every account, sets its own deadline.
type Store interface {
	// Update runs fn in one read-write transaction, committed when fn
	// returns nil and rolled back otherwise. fn's error is returned as is,
	// except that one without a code becomes EUNAVAILABLE when the
	// database did not answer in time.
	Update(ctx context.Context, fn func(Tx) error) error
	// View runs fn for reading only, without taking a write lock. Each
	// statement sees the latest committed data, not one snapshot. Writes
	// are refused. Errors as for Update.
	View(ctx context.Context, fn func(Tx) error) error
	// Ping checks that the database answers. EUNAVAILABLE.
	Ping(ctx context.Context) error
	// Close releases the database.
	Close() error
}

// Tx is what can be done inside one Store transaction. The context given
// to Update or View applies to every call. Creation times (User.CreatedAt,
// Session.CreatedAt and LastSeenAt, AuditEvent.At, Message.CreatedAt) must
// be set: a zero one is an internal error.
//
// Tx is composed of one small interface per noun. Store.Update and View
// hand the whole of it, but code that works on one noun asks for that
// interface alone (the delivery worker for MailQueue, the retention job
// for Retention, a throttle helper for Throttles), so that what it can
// touch reads from its signature.
type Tx interface {
	Users
	People
	Sessions
	Factors
	EmailCodes
	Throttles
	Notices
	Auditor
	MailQueue
	Unreached
	Campaigns
	Tokens
	Links
	Jobs
	Retention
}

// Users are the accounts: who may sign in, with what password and roles.
type Users interface {
	// CreateUser inserts u and sets u.ID. ECONFLICT when the username is
	// taken (compared case-insensitively).
	CreateUser(u *User) error
	// UserByID returns the user with that ID. Inside Update the user is
	// held until the transaction ends, as HoldThrottle holds a key, so a
	// change to what was read cannot undo another's. ENOTFOUND.
	UserByID(id int64) (*User, error)
	// UserByUsername returns the user with that username, ignoring case,
	// held as UserByID holds it. ENOTFOUND.
	UserByUsername(username string) (*User, error)
	// UsersByEmail lists up to limit users whose email address is
	// address, compared case-insensitively, disabled ones included, in ID
	// order. It holds nothing: a use case that changes one of them reads
	// it again with UserByID.
	UsersByEmail(address string, limit int) ([]*User, error)
	// UpdateUser saves every field of u but ID, CreatedAt, Skips and
	// LastSkipAt (see RecordSkip). ENOTFOUND; ECONFLICT when a changed
	// username is taken.
	UpdateUser(u *User) error
	// Users lists users in ID order.
	Users(f UserFilter) ([]*User, error)
	// RecordSignIn sets the user's LastSignInAt to at and, when rehash is
	// not empty, their PasswordHash to it (the password hashed again with
	// the current parameters), changing nothing else. ENOTFOUND.
	RecordSignIn(userID int64, at time.Time, rehash string) error
	// RecordSkip adds one to the user's Skips and sets LastSkipAt, in one
	// statement. ENOTFOUND.
	RecordSkip(userID int64, at time.Time) error
	// RecordSkipIn is RecordSkip under a paced phase: it also counts the
	// skip in the user's Pace for that phase (starting it afresh if Pace
	// was another phase's), all in one statement. With maxSkips > 0 it
	// changes nothing and reports false once the user has skipped that
	// many times under the phase, so concurrent skips cannot pass the
	// cap. ENOTFOUND.
	RecordSkipIn(userID int64, phase string, maxSkips int, at time.Time) (bool, error)
	// MarkShown records at as when phase's requirement was first shown to
	// the user, unless it already is (starting Pace afresh if it was
	// another phase's). ENOTFOUND.
	MarkShown(userID int64, phase string, at time.Time) error
	// EmailInUse reports whether an account other than exceptID has the
	// address email (compared ignoring case), as its address or as one
	// waiting to be confirmed's predecessor (PreviousEmail).
	EmailInUse(email string, exceptID int64) (bool, error)
}

// People are the read models over every account, for the rollout and for
// staff: each account with its factors, searched or counted.
type People interface {
	// People calls fn for every account, in ID order, with its roles and
	// factor methods, streaming so that a million accounts fit in little
	// memory. An error from fn stops the walk and is returned.
	People(fn func(*Person) error) error
	// SearchPeople lists accounts matching f, in ID order, with their
	// factor methods and whether they are locked.
	SearchPeople(f PeopleFilter) ([]*PersonSummary, error)
	// Progress counts enabled accounts by role and MFA state, for the
	// rollout dashboard. It must stay fast at a million accounts.
	Progress() ([]*ProgressRow, error)
	// Groups returns how many accounts are in each group, every account in
	// exactly one, disabled ones too; groups with no one are left out.
	// The counts are kept current in the transaction of every change that
	// moves an account between groups, so this reads a few rows however
	// many accounts there are. With them come the accounts whose extension
	// runs past extendedAfter, as their groups describe them (ID, Username,
	// Skips and ExtendedUntil set besides), in ID order: they are few, and
	// read in the same statement, so that both agree.
	Groups(extendedAfter time.Time) (groups []*Group, extended []*Person, err error)
	// RecountGroups counts the groups again from the accounts themselves,
	// slowly, and returns those whose kept count is wrong. With fix, it
	// also replaces the kept counts by the recount (in Update).
	RecountGroups(fix bool) ([]*GroupMismatch, error)
}

// Sessions are the signed-in browsers, by the hash of their token.
type Sessions interface {
	// CreateSession inserts s. ECONFLICT when the hash exists.
	CreateSession(s *Session) error
	// SessionByHash returns the session with that token hash. ENOTFOUND.
	SessionByHash(hash []byte) (*Session, error)
	// UpdateSession saves Stage, LastSeenAt, SecondFactorAt, PendingTOTP
	// and PendingRecovery. ENOTFOUND.
	UpdateSession(s *Session) error
	// TouchSession records that the session was used at at, changing
	// nothing else, so a check racing another request never undoes its
	// changes. ENOTFOUND.
	TouchSession(hash []byte, at time.Time) error
	// DeleteSession removes one session; a missing one is not an error.
	DeleteSession(hash []byte) error
	// DeleteUserSessions removes every session of the user except the one
	// whose hash is keep (nil keeps none) and returns how many it removed.
	DeleteUserSessions(userID int64, keep []byte) (int, error)
	// UserSessions lists a user's sessions, newest first.
	UserSessions(userID int64) ([]*Session, error)
	// SessionAndUser returns the session with that token hash and its
	// user, read together in one query. ENOTFOUND when there is no such
	// session.
	SessionAndUser(hash []byte) (*Session, *User, error)
	// TouchSessions records many uses at once, as TouchSession does one:
	// each session's LastSeenAt becomes its At where that is later,
	// nothing else changes, and sessions that are gone are skipped. It
	// returns how many sessions it changed.
	TouchSessions(touches []SessionTouch) (int, error)
	// AnnounceEnded tells every replica following Revocations that the
	// sessions with these hashes, and every session of these users, have
	// ended: when the transaction commits, and not at all when it rolls
	// back. Where no replica can listen (SQLite) it does nothing. Only
	// inside Update.
	AnnounceEnded(hashes [][]byte, users []int64) error
}

// SessionTouch is one use of a session, for TouchSessions.
type SessionTouch struct {
	Hash []byte
	At   time.Time
}

// Revocations are the announcements of ended sessions
// (Sessions.AnnounceEnded) that a replica hears from the others, so that
// what it remembers of sessions can be trusted for longer.
type Revocations interface {
	// Follow listens until ctx is done, calling listening(true) each time
	// it starts to hear announcements (at first and after every
	// reconnection) and listening(false) when it stops (the connection
	// was lost); while it is not listening, announcements are missed.
	// Each announcement heard is handed to ended. Neither callback may
	// block for long.
	Follow(ctx context.Context, listening func(bool), ended func(Ended))
}

// Ended is one announcement of ended sessions.
type Ended struct {
	Hashes [][]byte // sessions by token hash
	Users  []int64  // every session of these users (one may have been kept)
	All    bool     // too many to name: every session may have ended
}

// Factors are a person's second factors and their recovery codes.
type Factors interface {
	// CreateFactor inserts f and sets f.ID. ECONFLICT when the user already
	// has a factor of that method.
	CreateFactor(f *Factor) error
	// UserFactors lists a user's factors, oldest first.
	UserFactors(userID int64) ([]*Factor, error)
	// UseFactor records a successful use: LastUsedAt, and for TOTP the new
	// LastStep. For TOTP it succeeds only while step is later than the
	// stored LastStep, checked in the same statement, so two replicas can
	// never both accept one code: ECONFLICT for a replay. ENOTFOUND.
	UseFactor(id int64, step int64, at time.Time) error
	// DeleteFactor removes one factor of the user. ENOTFOUND.
	DeleteFactor(userID, id int64) error
	// DeleteUserFactors removes every factor and recovery code of the user
	// and returns how many factors it removed.
	DeleteUserFactors(userID int64) (int, error)
	// ReplaceRecoveryCodes removes the user's recovery codes and stores
	// codes instead, setting their IDs.
	ReplaceRecoveryCodes(userID int64, codes []*RecoveryCode) error
	// UseRecoveryCode marks the user's unused code with that hash used, in
	// one statement. ENOTFOUND when there is no such unused code.
	UseRecoveryCode(userID int64, hash []byte, at time.Time) error
	// UnusedRecoveryCodes counts the user's codes not yet used.
	UnusedRecoveryCodes(userID int64) (int, error)
	// CheckupFactors lists up to limit factors with an ID above afterID,
	// in ID order, created at or after from and at or before to, that
	// have not been used since (LastUsedAt not after CreatedAt), of
	// enabled users who have another factor, and that no campaign named
	// campaignPrefix followed by the factor's ID has reached (see
	// MarkCampaignSent): the factors a check-up reminder is due for.
	CheckupFactors(from, to time.Time, campaignPrefix string, afterID int64, limit int) ([]*Factor, error)
}

// EmailCodes are the one-time codes sent by email, for a session and a
// purpose.
type EmailCodes interface {
	// CreateEmailCode voids the codes earlier sent for the same session
	// and purpose, then inserts c and sets c.ID.
	CreateEmailCode(c *EmailCode) error
	// LatestEmailCode returns the newest code sent for the session and
	// purpose, voided or not. ENOTFOUND.
	LatestEmailCode(sessionHash []byte, purpose string) (*EmailCode, error)
	// UpdateEmailCode saves Failures, UsedAt and Voided. ENOTFOUND.
	UpdateEmailCode(c *EmailCode) error
	// EmailCodesSince counts the codes sent to the user at or after since.
	EmailCodesSince(userID int64, since time.Time) (int, error)
	// EmailCodeTimesSince returns when each code sent to the user at or
	// after since was made, oldest first: from them the hourly cap knows
	// when it lets the next one through.
	EmailCodeTimesSince(userID int64, since time.Time) ([]time.Time, error)
	// LastEmailCodeAt is when the newest code of purpose was sent to the
	// user, for any session; zero when none was.
	LastEmailCodeAt(userID int64, purpose string) (time.Time, error)
}

// Throttles count attempts and failures under a key (an account's password
// or second factor, a client address) and hold its locks.
type Throttles interface {
	// Throttle returns the state behind key, for showing it; a key never
	// seen has a zero Throttle with that Key, not an error.
	Throttle(key string) (*Throttle, error)
	// HoldThrottle returns the state behind key and holds the key until
	// the transaction ends: another transaction holding, saving or
	// clearing it, on any replica, waits until this one has committed or
	// rolled back, and then sees what it wrote. It is how an attempt is
	// admitted (counted before it is checked) without a race. A key never
	// seen is a zero Throttle with that Key. Only inside Update.
	HoldThrottle(key string) (*Throttle, error)
	// StartThrottle begins key's run (named run) with one attempt at at,
	// and reports true, when the key has no run; otherwise it changes nothing and
	// reports false. It is the common case of admitting an attempt, in one
	// statement: a second transaction starting the same key at once waits
	// for the first and then finds a run.
	StartThrottle(key string, run int64, at time.Time) (bool, error)
	// SaveThrottle writes th's state under th.Key. A throttle with no
	// failures and no lock is removed.
	SaveThrottle(th *Throttle) error
	// ClearThrottle forgets key's failures and lock.
	ClearThrottle(key string) error
	// ClearThrottleIf forgets key's run in one statement, and reports
	// that it did, only when it is the named run, holds exactly failures
	// attempts and, unless anyLock, no lock is in force at now. It is the
	// common case of settling an attempt, without holding the key first.
	ClearThrottleIf(key string, run int64, failures int, anyLock bool, now time.Time) (bool, error)
}

// Notices remember what has been emailed to each person about each kind of
// security event, so that a burst of events makes one email.
type Notices interface {
	// HoldNotice returns what has been emailed to the user about one kind
	// of security event, held until the transaction ends as HoldThrottle
	// holds a key. A kind never emailed is a zero NoticeState with that
	// UserID and Kind. Only inside Update.
	HoldNotice(userID int64, kind string) (*NoticeState, error)
	// SaveNotice writes n.
	SaveNotice(n *NoticeState) error
	// NoticesDue lists up to limit notices that hold events back and whose
	// last email went before sentBefore, oldest first.
	NoticesDue(sentBefore time.Time, limit int) ([]*NoticeState, error)
}

// Auditor is the audit log: what was done, by whom, to whom, and how it
// ended.
type Auditor interface {
	// AppendAudit adds e to the audit log and sets e.ID.
	AppendAudit(e *AuditEvent) error
	// AuditEvents lists audit events, newest first.
	AuditEvents(f AuditFilter) ([]*AuditEvent, error)
}

// MailQueue is the transactional outbox: messages queued in the same
// transaction as the change they tell of, and leased to the delivery
// workers that send them.
type MailQueue interface {
	// EnqueueMail adds m (with its Campaign, Secret, Priority, UserID and
	// ExpiresAt) to the outbox as pending, due at m.CreatedAt, and sets
	// m.ID and m.Status. A security message (MailSecurity) wakes this
	// process's security sender once the transaction commits (see
	// sqlstore.DB.MailQueued).
	EnqueueMail(m *Message) error
	// ClaimMail leases to batch c.Claim up to c.Limit pending messages of
	// priority c.Lowest to c.Highest (numbers; MailSecurity is 0) that are
	// due at c.Now, not leased by another batch and not expired, for
	// c.Lease, counting one attempt for each; highest priority first,
	// codes (Secret) before other security mail, then oldest first.
	// Messages whose ExpiresAt has passed are given up instead, in the
	// same transaction. Leases are set and compared with the database's
	// own clock, not c.Now: replicas whose clocks disagree must still
	// agree on whose lease has ended.
	ClaimMail(c MailClaim) ([]*Message, error)
	// HoldMail reports whether message id is still pending in batch claim
	// and not expired at now, and if so extends its lease by lease from
	// the database's now. A worker calls it right before sending, so that
	// a message another batch has taken over (after a pause past the
	// lease) or that was sent meanwhile is never sent again.
	HoldMail(id, claim int64, now time.Time, lease time.Duration) (bool, error)
	// RenewMail extends the lease of every pending message of batch claim
	// by lease from the database's now, and returns how many it still
	// holds.
	RenewMail(claim int64, lease time.Duration) (int, error)
	// ReleaseMail ends the lease of those of messages ids that are still
	// pending in batch claim (the batch stopped before trying them), so
	// any worker may take them at once; it returns how many.
	ReleaseMail(claim int64, ids []int64) (int, error)
	// MarkMailSent records that the message was accepted by the mail
	// server, removing the text of a secret message (it carried a code).
	// ENOTFOUND; ECONFLICT when it was already sent.
	MarkMailSent(id int64, at time.Time) error
	// RetryMail records a failed attempt of batch claim and when to try
	// again, ending the lease. ENOTFOUND; ECONFLICT when the message was
	// already sent, or is no longer in batch claim (another worker took
	// it over: the failure of a stale attempt must not free it while the
	// other sends it). Claim 0 matches any batch, for tests and tools.
	RetryMail(id, claim int64, lastErr string, next time.Time) error
	// FailMail records that batch claim's delivery was given up or
	// refused for good, with why, removing the text of a secret message.
	// ENOTFOUND; ECONFLICT as for RetryMail.
	FailMail(id, claim int64, lastErr string) error
	// Mail lists outbox messages, newest first, at most limit (0: all).
	Mail(limit int) ([]*Message, error)
	// MailQueue reports the pending messages of each priority at now, for
	// the metrics: one MailQueueLane per priority, MailSecurity first,
	// empty ones included. Its cost does not grow with sent mail.
	MailQueue(now time.Time) ([]MailQueueLane, error)
}

// Unreached marks the people whose address a mail server refused for good,
// and puts their mail back in the queue once it is fixed.
type Unreached interface {
	// MarkUnreached records that a mail server refused address for good
	// at at, with its reply, on the user whose address it still is
	// (compared case-insensitively); it reports whether it marked them.
	// ENOTFOUND when there is no such user.
	MarkUnreached(userID int64, address, reason string, at time.Time) (bool, error)
	// ClearUnreached removes the unreached mark from a user. ENOTFOUND.
	ClearUnreached(userID int64) error
	// RequeueFailedMail puts the user's failed messages that carry no code
	// and were created at or after since back in the queue, addressed to
	// to, due at now, and returns how many.
	RequeueFailedMail(userID int64, to string, since, now time.Time) (int, error)
	// UnreachedByRole counts enabled users marked unreached, under each of
	// their roles, with "" for the total of people.
	UnreachedByRole() (map[string]int, error)
}

// Campaigns record which rollout emails reached whom.
type Campaigns interface {
	// CampaignRecipients lists up to limit enabled accounts with an ID
	// above afterID that have one of roles (any role when roles holds
	// "all"), that the campaign has not reached yet, and, when
	// withoutFactor is set, that have no factor among the methods
	// counting (no factor at all when counting is empty): the people a
	// reminder is for, including those whose only factor a phase retires.
	// In ID order.
	CampaignRecipients(campaign string, roles []string, withoutFactor bool, counting []string, afterID int64, limit int) ([]*User, error)
	// MarkCampaignSent records that the campaign reached the user, once:
	// it reports false, changing nothing, when it already had. Callers
	// queue the email only when it reports true, in the same transaction.
	MarkCampaignSent(campaign string, userID int64, at time.Time) (bool, error)
	// CampaignStats counts each campaign's messages by delivery state.
	CampaignStats() ([]CampaignStat, error)
}

// Tokens are the API tokens.
type Tokens interface {
	// CreateToken inserts t and sets t.ID. ECONFLICT when the name is
	// taken.
	CreateToken(t *Token) error
	// TokenByHash returns the token with that hash, revoked or not.
	// ENOTFOUND.
	TokenByHash(hash []byte) (*Token, error)
	// Tokens lists every token, oldest first.
	Tokens() ([]*Token, error)
	// RevokeToken marks the named token revoked at at. ENOTFOUND.
	RevokeToken(name string, at time.Time) error
	// TouchToken records a use of the token.
	TouchToken(id int64, at time.Time) error
}

// Links are the single-use links emailed to choose a password
// (invitations and password resets), by the hash of their token.
type Links interface {
	// CreateLink removes the user's earlier links of the same purpose (a
	// new link voids the old one), then inserts l and sets l.ID.
	CreateLink(l *Link) error
	// LinkByHash returns the link with that token hash, used or not.
	// ENOTFOUND.
	LinkByHash(hash []byte) (*Link, error)
	// LatestLink returns the user's newest link of purpose. ENOTFOUND.
	LatestLink(userID int64, purpose string) (*Link, error)
	// UseLink marks the link used at at, in one statement, when it is
	// unused and not expired at at: of two uses at once, on any replica,
	// one succeeds. ENOTFOUND when it is used, expired or gone.
	UseLink(id int64, at time.Time) error
	// DeleteLinks removes the user's links of purpose ("" for every
	// purpose) and returns how many it removed.
	DeleteLinks(userID int64, purpose string) (int, error)
}

// Jobs let one replica of the cluster run each scheduled job.
type Jobs interface {
	// ClaimJob lets one replica run the named scheduled job: it reports
	// true, and sets the job's next run to next, when the job was due at
	// now (or never ran); false, changing nothing, when another replica
	// has claimed this run already.
	ClaimJob(name string, now, next time.Time) (bool, error)
}

// Retention removes what has expired, for the retention job: nothing
// secret outlives its use.
type Retention interface {
	// DeleteStaleSessions removes sessions last seen before idleBefore or
	// created before createdBefore (a zero bound is not applied), and
	// returns how many it removed.
	DeleteStaleSessions(idleBefore, createdBefore time.Time) (int, error)
	// DeleteOldEmailCodes removes email codes that expired before
	// expiredBefore and were created before createdBefore, and returns how
	// many.
	DeleteOldEmailCodes(expiredBefore, createdBefore time.Time) (int, error)
	// DeleteIdleThrottles removes throttles with no lock in force at now
	// that hold no attempt, or whose latest attempt was before idleBefore
	// and that are not an account's (the password or second-factor key of
	// a username someone has): an account's run of failures lasts until a
	// right answer or support ends it. It returns how many it removed.
	DeleteIdleThrottles(idleBefore, now time.Time) (int, error)
	// ExpireSecretMail gives up on pending secret messages (Message.Secret)
	// created before createdBefore, not leased (by the database's clock),
	// and whose ExpiresAt, when they have one, is not after now (a link
	// outlives a code), removing their text: what they carry has expired.
	// It returns how many.
	ExpireSecretMail(createdBefore, now time.Time) (int, error)
	// DeleteOldMail removes up to limit sent and failed messages created
	// before createdBefore, oldest first, keeping their campaigns' counts
	// in CampaignStats, and returns how many it removed.
	DeleteOldMail(createdBefore time.Time, limit int) (int, error)
	// DeleteOldLinks removes links that expired before expiredBefore, used
	// or not, and returns how many.
	DeleteOldLinks(expiredBefore time.Time) (int, error)
}
