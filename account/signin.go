package account

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"time"
	"unicode/utf8"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/password"
	"github.com/mfagate/mfagate/rollout"
)

// The password step of signing in: admission by the throttles, the
// check, the new session, and what the rollout says comes next.

// ErrBadCredentials is the one answer for an unknown username, a wrong
// password, a disabled account or one without a password: which of them
// it was is never told, so the answer does not reveal who has an account.
var ErrBadCredentials = mfagate.Errorf(mfagate.EUNAUTHORIZED,
	"The username or password is not correct. Check them and try again")

// ActorAnonymous is the actor of events caused by someone not signed in.
const ActorAnonymous = "anonymous"

// MaxUsernameBytes bounds the username a sign-in will look up.
const MaxUsernameBytes = 256

// SignIn is the password step of signing in.
type SignIn struct {
	Username string
	Password string
	Client   Actor  // ClientAddr and UserAgent of the browser
	OldToken string // the browser's session before this step, if any; it is ended
}

// SignedIn is a new session, the token for its cookie, and what the
// person must do next before they are fully signed in.
type SignedIn struct {
	User    *mfagate.User
	Session *mfagate.Session
	Token   string
	Next    Decision
	// Device is a new device token for the browser (see device.go),
	// lasting DeviceFor.
	Device string
}

// SignIn checks a username and password and starts a new session. Every
// failure returns ErrBadCredentials after the same amount of hashing work.
// Input too long or not UTF-8 is refused with EINVALID before any hashing.
func (s *Service) SignIn(ctx context.Context, in SignIn) (out *SignedIn, err error) {
	// outcome is set where a refusal is known for what it is; other
	// errors are counted by their code.
	var outcome string
	defer func() {
		if outcome == "" {
			outcome = outcomeOf(err)
		}
		s.counts.signIn(MethodPassword, outcome)
		if err == nil {
			s.counts.next(out.Next)
		}
	}()
	if in.Username == "" || in.Password == "" {
		return nil, mfagate.Errorf(mfagate.EINVALID, "Enter your username and password")
	}
	if len(in.Username) > MaxUsernameBytes || len(in.Password) > password.MaxInputBytes {
		return nil, mfagate.Errorf(mfagate.EINVALID, "The username or password is too long")
	}
	if !utf8.ValidString(in.Username) || !utf8.ValidString(in.Password) {
		return nil, mfagate.Errorf(mfagate.EINVALID, "The username or password contains characters that cannot be used")
	}

	var (
		u          *mfagate.User
		pass, addr *ticket
		locked     bool
	)
	err = s.update(ctx, func(tx *txn) (err error) {
		pass, addr, err = s.admitPassword(tx, in.Username, in.Client, tx.now)
		if locked = errors.Is(err, errKeyLocked); err != nil && !locked {
			return err
		}
		u, err = tx.UserByUsername(in.Username)
		if mfagate.ErrorCode(err) == mfagate.ENOTFOUND {
			u, err = nil, nil
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	var reason string
	switch {
	case locked:
		reason = "account locked"
	case u == nil:
		reason = "unknown username"
	case u.PasswordHash == "":
		reason = "no password set"
	}
	phc := s.dummy
	if reason == "" {
		phc = u.PasswordHash
	}
	// Every answer costs one full hash, locked ones included (against the
	// dummy, the result unused), so timing tells neither who exists nor
	// who is locked.
	ok, rehash, err := s.verify(ctx, in.Password, phc)
	if err != nil {
		return nil, fmt.Errorf("check password: %w", err)
	}
	if !locked {
		s.checks.password.Add(1)
	}
	switch {
	case reason != "":
	case !ok:
		reason = "wrong password"
	case u.Disabled:
		reason = "account disabled"
	}
	if reason != "" {
		if err := s.update(ctx, func(tx *txn) error {
			return s.passwordWrong(tx, pass, u, in.Client, reason)
		}); err != nil {
			return nil, err
		}
		outcome = SignInWrongPassword
		if locked {
			outcome = SignInLocked
		}
		s.counts.lock(pass, false)
		return nil, ErrBadCredentials
	}

	newHash := ""
	if rehash {
		if newHash, err = s.hash(ctx, in.Password); err != nil {
			return nil, err
		}
	}
	token, sess, err := s.newSession(u.ID, in.Client)
	if err != nil {
		return nil, err
	}
	var (
		decision Decision
		refused  string // the outcome of a password refused after all
	)
	err = s.update(ctx, func(tx *txn) error {
		refused = ""
		sess.CreatedAt, sess.LastSeenAt = tx.now, tx.now
		if err := s.passwordRight(tx, pass, addr, tx.now); errors.Is(err, errKeyLocked) {
			// Locked by wrong passwords admitted after this one, while it
			// was being checked: the lock holds, right password or not.
			refused = SignInLocked
			return s.passwordWrong(tx, nil, u, in.Client, "account locked while the password was checked")
		} else if err != nil {
			return err
		}
		// Held from here to the end: the account as it is now, not as it
		// was when the password was looked up. Disabled, or given another
		// password, while the hash was checked: the old password no
		// longer signs in.
		fresh, err := tx.UserByID(u.ID)
		if err != nil {
			return err
		}
		switch {
		case fresh.Disabled:
			refused = SignInWrongPassword
			return s.passwordWrong(tx, nil, fresh, in.Client, "account disabled while the password was checked")
		case fresh.PasswordHash != u.PasswordHash:
			refused = SignInWrongPassword
			return s.passwordWrong(tx, nil, fresh, in.Client, "password changed while it was checked")
		}
		u = fresh
		factors, err := tx.UserFactors(u.ID)
		if err != nil {
			return err
		}
		decision = s.step(u, factors, nil)
		if err := s.markShown(tx, u, decision); err != nil {
			return err
		}
		if decision.Outcome != rollout.Allow {
			sess.Stage = mfagate.StagePassword
		}
		if in.OldToken != "" {
			if h, ok := s.tokenHash(in.OldToken); ok {
				if err := tx.end.session(tx, h); err != nil {
					return err
				}
			}
		}
		if err := tx.RecordSignIn(u.ID, sess.CreatedAt, newHash); err != nil {
			return err
		}
		u.LastSignInAt = sess.CreatedAt
		if newHash != "" {
			u.PasswordHash = newHash
			if err := tx.audit(mfagate.AuditEvent{
				Kind: mfagate.AuditPasswordRehash, Outcome: mfagate.OutcomeSuccess, Actor: mfagate.ActorSystem,
				Subject: u.Username, Detail: "password hash upgraded to the current parameters",
			}); err != nil {
				return err
			}
		}
		if err := tx.CreateSession(sess); err != nil {
			return err
		}
		return tx.audit(mfagate.AuditEvent{
			Kind: mfagate.AuditSignInPassword, Outcome: mfagate.OutcomeSuccess,
			Actor: u.Username, Subject: u.Username, ClientAddr: in.Client.ClientAddr,
		})
	})
	switch {
	case err != nil:
		return nil, err
	case refused != "":
		outcome = refused
		return nil, ErrBadCredentials
	}
	return &SignedIn{User: u, Session: sess, Token: token, Next: decision,
		Device: s.deviceToken(u.Username, sess.CreatedAt.Add(DeviceFor))}, nil
}

// admitPassword admits one password attempt at username from c's address
// (see admit): it returns the tickets of the address (nil without one, or
// from a browser with the account's device token) and of the password key. errKeyLocked means the account is locked, by
// wrong passwords or by wrong codes (a lock on the codes stops sign-in as
// well); the address's attempt is counted even then.
func (s *Service) admitPassword(tx mfagate.Throttles, username string, c Actor, now time.Time) (pass, addr *ticket, err error) {
	codes, err := tx.Throttle(mfagate.FactorThrottleKey(username))
	if err != nil {
		return nil, nil, err
	}
	// The account's key before the address's, always (see doc.go).
	if !codes.LockedAt(now) {
		pass, err = s.admit(tx, mfagate.PasswordThrottleKey(username), s.accountRule(), now)
		if err != nil && !errors.Is(err, errKeyLocked) {
			return nil, nil, err
		}
	}
	locked := pass == nil
	if c.ClientAddr != "" && !s.knownDevice(c.Device, username, now) {
		if addr, err = s.admit(tx, s.addressKey(c.ClientAddr), s.addressRule(), now); err != nil {
			return nil, nil, err // a wait: the transaction rolls back, the account's count with it
		}
	}
	if locked {
		return nil, addr, errKeyLocked
	}
	return pass, addr, nil
}

// passwordRight settles a right password's tickets: the run of wrong
// passwords is forgotten, and the address's count is taken back (a
// success there proves nothing about others sharing it, so only time
// clears it). errKeyLocked when a lock set meanwhile holds.
func (s *Service) passwordRight(tx mfagate.Throttles, pass, addr *ticket, now time.Time) error {
	if err := s.settle(tx, pass, now); err != nil {
		return err
	}
	return s.takeBack(tx, addr, now)
}

// passwordWrong records a refused password step: the attempt stays
// counted; a lock its admission set is announced. The typed text of an
// unknown username is not recorded: people sometimes type their password
// there.
func (s *Service) passwordWrong(tx *txn, pass *ticket, u *mfagate.User, c Actor, reason string) error {
	if pass != nil && pass.lock {
		if err := s.locked(tx, pass, u, c, false); err != nil {
			return err
		}
	}
	subject := ""
	if u != nil {
		subject = u.Username
	}
	return tx.audit(mfagate.AuditEvent{
		Kind: mfagate.AuditSignInPassword, Outcome: mfagate.OutcomeFailure,
		Actor: cmp.Or(subject, ActorAnonymous), Subject: subject, ClientAddr: c.ClientAddr, Detail: reason,
	})
}

// newSession makes a fully signed-in session with a fresh random token;
// callers lower the stage when a second step is due, and set its times to
// the now of the transaction that stores it.
func (s *Service) newSession(userID int64, c Actor) (string, *mfagate.Session, error) {
	var raw [tokenRandomLen + tokenMACLen]byte
	if _, err := io.ReadFull(s.rand, raw[:tokenRandomLen]); err != nil {
		return "", nil, fmt.Errorf("make session id: %w", err)
	}
	s.tokenMAC(raw[tokenRandomLen:], raw[:tokenRandomLen])
	token := base64.RawURLEncoding.EncodeToString(raw[:])
	h := sha256.Sum256(raw[:tokenRandomLen])
	return token, &mfagate.Session{
		Hash: h[:], UserID: userID, Stage: mfagate.StageFull,
		ClientAddr: c.ClientAddr, UserAgent: clipAgent(c.UserAgent),
	}, nil
}

func clipAgent(ua string) string {
	if len(ua) > 256 {
		ua = ua[:256]
	}
	if !utf8.ValidString(ua) {
		return ""
	}
	return ua
}
