package account

import (
	"cmp"
	"context"
	"crypto/subtle"
	"errors"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/password"
)

// Sessions: finding the signed-in person from a cookie, timeouts,
// signing out, ending other sessions, and changing one's own password.

// touchEvery is how stale an API token's LastUsedAt may get before a
// use writes it (tokens.go). Sessions' uses are written in batches
// instead (touches.go).
const touchEvery = time.Minute

// ErrNoSession is returned for a missing, unknown, expired or revoked
// session, and for one whose account is disabled.
var ErrNoSession = mfagate.Errorf(mfagate.EUNAUTHORIZED, "Sign in to continue")

// Current is a valid session and its account.
type Current struct {
	Session *mfagate.Session
	User    *mfagate.User
}

// Authenticate returns the session a cookie token names, if it is still
// valid: known, not idle for longer than the idle timeout, younger than
// the maximum age, and its account enabled. ErrNoSession otherwise. A
// token this server did not make is refused without a lookup.
func (s *Service) Authenticate(ctx context.Context, token string) (*Current, error) {
	key, ok := s.sessionKey(token)
	if !ok {
		return nil, ErrNoSession
	}
	return s.authenticate(ctx, key)
}

// authenticate looks the session up, with its account, in one query,
// counting the uses this replica has not written yet, ends it if it has
// expired, and records this use for the next flush of touches.
func (s *Service) authenticate(ctx context.Context, key [32]byte) (*Current, error) {
	var cur Current
	err := s.view(ctx, func(tx *txn) (err error) {
		cur.Session, cur.User, err = tx.SessionAndUser(key[:])
		return err
	})
	if mfagate.ErrorCode(err) == mfagate.ENOTFOUND {
		return nil, ErrNoSession
	}
	if err != nil {
		return nil, err
	}
	now := s.now()
	if seen := s.localSeen(&key); seen.After(cur.Session.LastSeenAt) {
		cur.Session.LastSeenAt = seen
	}
	if s.expired(cur.Session, now) || cur.User.Disabled {
		if err := s.update(ctx, func(tx *txn) error { return tx.end.session(tx, key[:]) }); err != nil {
			return nil, err
		}
		return nil, ErrNoSession
	}
	if err := s.touch(ctx, &key, now); mfagate.ErrorCode(err) == mfagate.ENOTFOUND {
		return nil, ErrNoSession // revoked meanwhile
	} else if err != nil {
		return nil, err
	}
	cur.Session.LastSeenAt = now
	return &cur, nil
}

// expired reports whether a session has passed its idle or absolute
// timeout. With replicas sharing the store the idle timeout allows
// IdleGrace more: another replica may have used the session within that
// time without having written it yet (touches.go), and a session in use
// must never be ended for being idle. A lone server knows every use.
func (s *Service) expired(sess *mfagate.Session, now time.Time) bool {
	return now.Sub(sess.LastSeenAt) >= s.idleLimit() || now.Sub(sess.CreatedAt) >= s.maxAge
}

// idleLimit is the idle timeout as expired applies it.
func (s *Service) idleLimit() time.Duration {
	if s.shared {
		return s.idle + IdleGrace
	}
	return s.idle
}

// SessionTimes returns when a session ends if unused and at the latest.
func (s *Service) SessionTimes(sess *mfagate.Session) (idleEnd, maxEnd time.Time) {
	return sess.LastSeenAt.Add(s.idleLimit()), sess.CreatedAt.Add(s.maxAge)
}

// SignOut ends the session the token names. An unknown token is not an
// error: signing out twice is harmless.
func (s *Service) SignOut(ctx context.Context, token string, c Actor) error {
	h, ok := s.tokenHash(token)
	if !ok {
		return nil
	}
	return s.update(ctx, func(tx *txn) error {
		sess, err := tx.SessionByHash(h)
		if mfagate.ErrorCode(err) == mfagate.ENOTFOUND {
			return nil
		}
		if err != nil {
			return err
		}
		u, err := tx.UserByID(sess.UserID)
		if err != nil {
			return err
		}
		if err := tx.end.session(tx, h); err != nil {
			return err
		}
		return tx.audit(mfagate.AuditEvent{
			Kind: mfagate.AuditSignOut, Outcome: mfagate.OutcomeSuccess,
			Actor: u.Username, Subject: u.Username, ClientAddr: c.ClientAddr,
		})
	})
}

// Sessions lists the signed-in person's sessions, newest first.
func (s *Service) Sessions(ctx context.Context, cur *Current) ([]*mfagate.Session, error) {
	return s.UserSessions(ctx, cur.User.ID)
}

// UserSessions lists an account's live sessions, newest first.
func (s *Service) UserSessions(ctx context.Context, userID int64) ([]*mfagate.Session, error) {
	var list []*mfagate.Session
	err := s.view(ctx, func(tx *txn) (err error) {
		list, err = tx.UserSessions(userID)
		return err
	})
	if err != nil {
		return nil, err
	}
	now := s.now()
	live := list[:0]
	for _, sess := range list {
		if len(sess.Hash) == 32 {
			if seen := s.localSeen((*[32]byte)(sess.Hash)); seen.After(sess.LastSeenAt) {
				sess.LastSeenAt = seen // used here since the last flush
			}
		}
		if !s.expired(sess, now) {
			live = append(live, sess)
		}
	}
	return live, nil
}

// EndOtherSessions signs the person out everywhere but here and returns
// how many sessions it ended.
func (s *Service) EndOtherSessions(ctx context.Context, cur *Current, c Actor) (int, error) {
	var n int
	err := s.update(ctx, func(tx *txn) (err error) {
		if n, err = tx.end.userSessions(tx, cur.User.ID, cur.Session.Hash); err != nil || n == 0 {
			return err
		}
		return tx.audit(mfagate.AuditEvent{
			Kind: mfagate.AuditSessionRevoked, Outcome: mfagate.OutcomeSuccess,
			Actor: cur.User.Username, Subject: cur.User.Username, ClientAddr: c.ClientAddr,
			Detail: "ended the person's other sessions",
		})
	})
	return n, err
}

// Errors about the current password when changing it, so a form can put
// them next to the right field.
var (
	ErrNoCurrentPassword    = mfagate.Errorf(mfagate.EINVALID, "Enter your current password")
	ErrWrongCurrentPassword = mfagate.Errorf(mfagate.EINVALID, "Your current password is not correct")
)

// ChangePassword replaces the signed-in person's password after checking
// the current one, ends their other sessions and emails them. A wrong
// current password is EINVALID with a message for that field. The check
// is throttled like a sign-in, under the same key: a stolen session must
// not become a way to guess the password.
func (s *Service) ChangePassword(ctx context.Context, cur *Current, current, next string, c Actor) error {
	if current == "" {
		return ErrNoCurrentPassword
	}
	if len(current) > password.MaxInputBytes {
		return ErrWrongCurrentPassword
	}
	if err := password.Check(next, cur.User.Username, cur.User.Email); err != nil {
		return err
	}
	var pass, addr *ticket
	err := s.update(ctx, func(tx *txn) (err error) {
		now := tx.now
		if pass, addr, err = s.admitPassword(tx, cur.User.Username, c, now); errors.Is(err, errKeyLocked) {
			return mfagate.Errorf(mfagate.ETHROTTLED,
				"Your account is locked for now after too many wrong passwords. Try again after %s, or contact your support team", s.LockFor())
		}
		return err
	})
	if err != nil {
		return err
	}
	ok, _, err := s.verify(ctx, current, cmp.Or(cur.User.PasswordHash, s.dummy))
	if err != nil {
		return err
	}
	s.checks.password.Add(1)
	if !ok || cur.User.PasswordHash == "" {
		if err := s.update(ctx, func(tx *txn) error {
			if pass.lock {
				if err := s.locked(tx, pass, cur.User, c, false); err != nil {
					return err
				}
			}
			return tx.audit(mfagate.AuditEvent{
				Kind: mfagate.AuditPasswordChange, Outcome: mfagate.OutcomeFailure,
				Actor: cur.User.Username, Subject: cur.User.Username, ClientAddr: c.ClientAddr,
				Detail: "current password not correct",
			})
		}); err != nil {
			return err
		}
		s.counts.lock(pass, false)
		return ErrWrongCurrentPassword
	}
	if subtle.ConstantTimeCompare([]byte(current), []byte(next)) == 1 {
		err := s.update(ctx, func(tx *txn) error { return s.passwordRight(tx, pass, addr, tx.now) })
		if err != nil && !errors.Is(err, errKeyLocked) {
			return err
		}
		return mfagate.Errorf(mfagate.EINVALID, "Your new password must be different from your current one")
	}
	h, err := s.hash(ctx, next)
	if err != nil {
		return err
	}
	checked := cur.User.PasswordHash
	return s.update(ctx, func(tx *txn) error {
		if err := s.passwordRight(tx, pass, addr, tx.now); errors.Is(err, errKeyLocked) {
			return mfagate.Errorf(mfagate.ETHROTTLED,
				"Your account was locked meanwhile after too many wrong passwords. Try again after %s, or contact your support team", s.LockFor())
		} else if err != nil {
			return err
		}
		// The session must still be live, and the password the one that
		// was checked: support may have ended the session or set a new
		// password while the hashes ran.
		if err := s.holdSession(tx, cur); err != nil {
			return err
		}
		if cur.User.PasswordHash != checked {
			return mfagate.Errorf(mfagate.ECONFLICT, "Your password was changed meanwhile. Sign in again with the new one")
		}
		u := cur.User
		u.PasswordHash = h
		if err := tx.UpdateUser(u); err != nil {
			return err
		}
		if _, err := tx.end.userSessions(tx, u.ID, cur.Session.Hash); err != nil {
			return err
		}
		if err := s.notify(tx, tx.now, u, passwordChanged, c); err != nil {
			return err
		}
		cur.User = u
		return tx.audit(mfagate.AuditEvent{
			Kind: mfagate.AuditPasswordChange, Outcome: mfagate.OutcomeSuccess,
			Actor: u.Username, Subject: u.Username, ClientAddr: c.ClientAddr,
		})
	})
}

// Every way a session ends — rotation after a sign-in step, sign-out, a
// lock, a password change, a reset, disabling the account, "sign out
// everywhere" — goes through ended and Service.update, so that this
// replica's forward-auth cache forgets it as soon as the change is
// committed (TestOnlyOnePathEndsSessions keeps it so).

// ended collects the sessions one transaction ends.
type ended struct {
	hashes [][]byte
	users  []int64 // every session of these users, but one kept
}

// session ends one session; a missing one is not an error.
func (e *ended) session(tx mfagate.Sessions, hash []byte) error {
	if err := tx.DeleteSession(hash); err != nil {
		return err
	}
	e.hashes = append(e.hashes, hash)
	return nil
}

// refresh has every replica forget what it remembers of the user's
// sessions without ending them, so that they are read again with what
// changed (their roles): the cache forgets a user's sessions as it would
// ended ones, and the database still has them.
func (e *ended) refresh(userID int64) {
	e.users = append(e.users, userID)
}

// userSessions ends every session of the user except keep's (nil keeps
// none) and returns how many it ended.
func (e *ended) userSessions(tx mfagate.Sessions, userID int64, keep []byte) (int, error) {
	n, err := tx.DeleteUserSessions(userID, keep)
	if err != nil {
		return 0, err
	}
	e.users = append(e.users, userID)
	return n, nil
}
