package account

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/emailcode"
	"github.com/mfagate/mfagate/recovery"
	"github.com/mfagate/mfagate/rollout"
	"github.com/mfagate/mfagate/seal"
	"github.com/mfagate/mfagate/totp"
)

// The second step: checking a code from an email, an authenticator app
// or a recovery code, for sign-in and for confirming a change.

// freshFor is how recent a second factor must be to change factors.
const freshFor = 10 * time.Minute

// notifyAfterFailures is how many wrong codes after a right password make
// mfagate warn the person that someone may know their password.
const notifyAfterFailures = 3

// ErrReauth means a change needs a second factor passed within the last
// ten minutes; the caller sends the person through the challenge first.
var ErrReauth = mfagate.Errorf(mfagate.EFORBIDDEN, "Confirm it's you with a security code first")

// ErrSetupCodeAgain is a replay of the very code that set up the app,
// while it is still accepted and before the app has been used to sign in:
// the person typing, at their next sign-in, the code still on their
// screen. It is refused, counted and audited like any replay (it is one,
// so errors.Is(err, totp.ErrReplay) holds), but nobody is emailed that a
// code was used twice: that would alarm them for their own typing.
var ErrSetupCodeAgain error = setupCodeAgain{mfagate.Errorf(mfagate.EINVALID,
	"You used that code to set up your app. Wait for your app to show a new one, then enter it")}

type setupCodeAgain struct{ msg *mfagate.Error }

func (e setupCodeAgain) Error() string   { return e.msg.Message }
func (e setupCodeAgain) Unwrap() []error { return []error{e.msg, totp.ErrReplay} }

// Factors lists the person's confirmed factors, oldest first.
func (s *Service) Factors(ctx context.Context, userID int64) ([]*mfagate.Factor, error) {
	var fs []*mfagate.Factor
	err := s.view(ctx, func(tx *txn) (err error) {
		fs, err = tx.UserFactors(userID)
		return err
	})
	return fs, err
}

// Decide runs the policy for the signed-in person now: what they must do
// before, or whether, they are fully signed in.
func (s *Service) Decide(ctx context.Context, cur *Current) (Decision, []*mfagate.Factor, error) {
	fs, err := s.Factors(ctx, cur.User.ID)
	if err != nil {
		return Decision{}, nil, err
	}
	return s.step(cur.User, fs, cur.Session), fs, nil
}

// NeedsReauth reports whether a change to factors must first be confirmed
// with a second factor: the person has one and has not used it within the
// last ten minutes.
func (s *Service) NeedsReauth(cur *Current, factors []*mfagate.Factor) bool {
	return len(factors) > 0 && s.now().Sub(cur.Session.SecondFactorAt) > freshFor
}

// Verified is the outcome of a passed second step: the session under its
// new id, and what comes next — done, or setting up a factor a phase
// demands that the person does not have yet.
type Verified struct {
	Token   string
	Session *mfagate.Session
	Next    Decision
}

// Verify checks a code typed at the challenge with method "email",
// "totp" or "recovery". On success the session moves to a new id and is
// fully signed in, with its second factor recorded as just now. The
// attempt is admitted under the account's second-factor key first (see
// admit), in the same transaction as the check, so concurrent guesses
// take turns and none is checked beyond the limit. A wrong code counts
// towards the account's lock; when it locks, the session ends and
// ErrLocked is returned.
func (s *Service) Verify(ctx context.Context, cur *Current, method, input string, c Actor) (*Verified, error) {
	switch method {
	case mfagate.MethodEmail, mfagate.MethodTOTP, mfagate.MethodRecovery:
	default:
		return nil, mfagate.Errorf(mfagate.EINVALID, "Choose how to confirm it's you")
	}
	var (
		result *Verified
		failed error // a wrong code: counted and recorded, then returned
		wrong  *ticket
		locked bool
	)
	err := s.update(ctx, func(tx *txn) error {
		now := tx.now
		result, failed, wrong, locked = nil, nil, nil, false
		tk, factors, err := s.startCode(tx, cur, c, now)
		if err != nil {
			return err
		}
		if err := s.methodAllowed(cur, factors, method); err != nil {
			return err
		}
		// Anything but a right or wrong code (no code sent, an expired one,
		// a badly typed one) returns an error and rolls the admission back:
		// it was not a guess.
		var detail string
		switch method {
		case mfagate.MethodEmail:
			detail, failed, err = s.checkEmail(tx, cur, factors, input, mfagate.PurposeSignIn, now)
		case mfagate.MethodTOTP:
			detail, failed, err = s.checkTOTP(tx, cur, factors, input, now)
		case mfagate.MethodRecovery:
			detail, failed, err = s.checkRecovery(tx, cur, factors, input, c, now)
		}
		if err != nil {
			return err
		}
		if failed != nil {
			wrong = tk.factor
			locked, err = s.wrongCode(tx, cur, tk, method, failed, c)
			return err
		}
		if err := s.codeRight(tx, tk, now); err != nil {
			return err
		}
		token, sess, err := s.rotate(tx, cur, now)
		if err != nil {
			return err
		}
		result = &Verified{Token: token, Session: sess, Next: Decision{Outcome: rollout.Allow}}
		if d := s.decideNow(cur.User, factors); d.Outcome == rollout.RequireEnrollment && cur.Session.Stage == mfagate.StagePassword {
			result.Next = d
			sess.Stage = mfagate.StagePassword // signed in only once the demanded factor is set up
			if err := tx.UpdateSession(sess); err != nil {
				return err
			}
		}
		return tx.audit(mfagate.AuditEvent{Kind: mfagate.AuditSignInFactor, Outcome: mfagate.OutcomeSuccess,
			Actor: cur.User.Username, Subject: cur.User.Username, ClientAddr: c.ClientAddr, Detail: "method " + method + detail})
	})
	if err != nil {
		s.counts.signIn(method, outcomeOf(err))
		return nil, err
	}
	if failed != nil {
		outcome := SignInWrongCode
		if errors.Is(failed, totp.ErrReplay) {
			outcome = SignInReplayed
		}
		s.counts.signIn(method, outcome)
		s.counts.wrongCode(method, StepChallenge)
		s.counts.lock(wrong, true)
		if locked {
			return nil, ErrLocked
		}
		return nil, failed
	}
	s.counts.signIn(method, SignInSuccess)
	s.counts.next(result.Next)
	return result, nil
}

// ChallengeMethods lists the person's factors that their challenge
// accepts now: those the phase in force asks for (a phase may demand an
// authenticator app and no longer take email codes), or all of them.
// Recovery codes are always accepted besides: they are the way back in
// for someone who lost their phone.
func (s *Service) ChallengeMethods(cur *Current, factors []*mfagate.Factor) []string {
	d := s.step(cur.User, factors, cur.Session)
	var out []string
	for _, f := range factors {
		if d.Outcome != rollout.Challenge || slices.Contains(d.Methods, f.Method) {
			out = append(out, f.Method)
		}
	}
	return out
}

// methodAllowed refuses a method the person's challenge does not accept
// now (see ChallengeMethods).
func (s *Service) methodAllowed(cur *Current, factors []*mfagate.Factor, method string) error {
	allowed := s.ChallengeMethods(cur, factors)
	if method == mfagate.MethodRecovery || len(factors) == 0 || slices.Contains(allowed, method) {
		return nil
	}
	names := make([]string, len(allowed))
	for i, m := range allowed {
		names[i] = mfagate.MethodPhrase(m)
	}
	refused := mfagate.MethodPhrase(method) + " are"
	if method == mfagate.MethodTOTP {
		refused = mfagate.MethodPhrase(method) + " is"
	}
	return mfagate.Errorf(mfagate.EINVALID, "Confirm it's you with %s: %s not accepted for your account now",
		strings.Join(names, " or "), refused)
}

// startCode begins a transaction's code attempt: it admits it (see
// admitCode) and then, with the account's key held, so that a request of
// the same person that was ahead (another tab, another replica, which may
// have ended this session or set up a factor) has committed, re-reads the
// session and the person's factors. An error rolls the admission back.
func (s *Service) startCode(tx *txn, cur *Current, c Actor, now time.Time) (codeTickets, []*mfagate.Factor, error) {
	tk, err := s.admitCode(tx, cur, c, now)
	if err != nil {
		return tk, nil, err
	}
	if err := s.holdSession(tx, cur); err != nil {
		return tk, nil, err
	}
	factors, err := tx.UserFactors(cur.User.ID)
	return tk, factors, err
}

// holdSession holds the person's row for the rest of the transaction and
// then re-reads their session: ErrNoSession when it was ended, or the
// person disabled, meanwhile. Every change made through a session starts
// with it (after any throttle key: see doc.go). Whatever ends sessions —
// support, a reset, disabling, a new password — holds the same row first,
// so it either comes wholly before (and the session is seen gone) or
// waits, and then also ends any session this transaction makes. It
// refreshes cur.
func (s *Service) holdSession(tx *txn, cur *Current) error {
	u, err := tx.UserByID(cur.User.ID)
	if mfagate.ErrorCode(err) == mfagate.ENOTFOUND {
		return ErrNoSession
	}
	if err != nil {
		return err
	}
	if u.Disabled {
		return ErrNoSession
	}
	cur.User = u
	return s.stillLive(tx, cur)
}

// stillLive re-reads the session inside the transaction: a session ended
// meanwhile (rotated by a code accepted a moment ago, signed out, reset)
// can no longer be used. It refreshes cur.Session. See holdSession.
func (s *Service) stillLive(tx mfagate.Sessions, cur *Current) error {
	sess, err := tx.SessionByHash(cur.Session.Hash)
	if mfagate.ErrorCode(err) == mfagate.ENOTFOUND {
		return ErrNoSession
	}
	if err != nil {
		return err
	}
	cur.Session = sess
	return nil
}

// wrongCode records a wrong code, which stays counted: it audits it,
// warns the person where due and, when its admission locked the account's
// codes, announces the lock and ends the session, reporting true.
func (s *Service) wrongCode(tx *txn, cur *Current, tk codeTickets, method string, failed error, c Actor) (bool, error) {
	replayed, setupAgain := errors.Is(failed, totp.ErrReplay), errors.Is(failed, ErrSetupCodeAgain)
	detail := "method " + method + ": wrong code"
	switch {
	case setupAgain:
		detail = "method totp: the code that set up the app was entered again"
	case replayed:
		detail = "method totp: a code already used was entered again"
	}
	if err := tx.audit(mfagate.AuditEvent{Kind: mfagate.AuditSignInFactor, Outcome: mfagate.OutcomeFailure,
		Actor: cur.User.Username, Subject: cur.User.Username, ClientAddr: c.ClientAddr, Detail: detail}); err != nil {
		return false, err
	}
	if replayed && !setupAgain {
		if err := s.alert(tx, cur.User, mfagate.NoticeReplay, c); err != nil {
			return false, err
		}
	}
	// Wrong codes in a row after a right password mean someone may know
	// the password. They are counted on the account, whatever the session
	// or address they come from.
	if tk.factor.n >= notifyAfterFailures && cur.Session.Stage == mfagate.StagePassword && !replayed {
		if err := s.alert(tx, cur.User, mfagate.NoticeFailedCodes, c); err != nil {
			return false, err
		}
	}
	if !tk.factor.lock {
		return false, nil
	}
	if err := s.locked(tx, tk.factor, cur.User, c, true); err != nil {
		return false, err
	}
	return true, tx.end.session(tx, cur.Session.Hash)
}

// rotate moves the session to a new id, fully signed in, with the second
// factor passed now. The old id stops working in the same transaction,
// and in this replica's check cache once it commits.
func (s *Service) rotate(tx *txn, cur *Current, now time.Time) (string, *mfagate.Session, error) {
	token, next, err := s.newSession(cur.User.ID, Actor{ClientAddr: cur.Session.ClientAddr, UserAgent: cur.Session.UserAgent})
	if err != nil {
		return "", nil, err
	}
	next.CreatedAt = cur.Session.CreatedAt // the absolute lifetime runs from sign-in
	next.LastSeenAt, next.SecondFactorAt = now, now
	next.PendingRecovery = cur.Session.PendingRecovery
	next.PendingTOTP = cur.Session.PendingTOTP
	if err := tx.end.session(tx, cur.Session.Hash); err != nil {
		return "", nil, err
	}
	if err := tx.CreateSession(next); err != nil {
		return "", nil, err
	}
	return token, next, nil
}

// checkEmail checks an email code for the session and purpose. A wrong
// code is returned as failed, with its failure already saved on the code.
func (s *Service) checkEmail(tx *txn, cur *Current, factors []*mfagate.Factor, input, purpose string, now time.Time) (string, error, error) {
	f := hasMethod(factors, mfagate.MethodEmail)
	if purpose == mfagate.PurposeSignIn && f == nil {
		return "", nil, mfagate.Errorf(mfagate.EINVALID, "Email codes are not set up for your account")
	}
	code, err := tx.LatestEmailCode(cur.Session.Hash, purpose)
	if mfagate.ErrorCode(err) == mfagate.ENOTFOUND {
		return "", nil, mfagate.Errorf(mfagate.EINVALID, "Send a code to your email first")
	}
	if err != nil {
		return "", nil, err
	}
	if purpose == mfagate.PurposeSignIn && !strings.EqualFold(code.Address, cur.User.CodeAddress()) {
		// Sent to an address that is no longer where codes go: not
		// redirected, and no longer any use.
		return "", nil, errAddressChanged
	}
	err = emailcode.Check(code, s.keys.emailCode, input, now, s.mfa.MaxFailures)
	if err == nil || errors.Is(err, emailcode.ErrWrongCode) {
		s.codeChecked(mfagate.MethodEmail)
	}
	if errors.Is(err, emailcode.ErrWrongCode) {
		code.Failures++
		if uerr := tx.UpdateEmailCode(code); uerr != nil {
			return "", nil, uerr
		}
		return "", err, nil
	}
	if err != nil {
		return "", nil, err
	}
	code.UsedAt = now
	if err := tx.UpdateEmailCode(code); err != nil {
		return "", nil, err
	}
	if f != nil {
		if err := tx.UseFactor(f.ID, 0, now); err != nil {
			return "", nil, err
		}
	}
	return "", nil, nil
}

func (s *Service) checkTOTP(tx mfagate.Factors, cur *Current, factors []*mfagate.Factor, input string, now time.Time) (string, error, error) {
	f := hasMethod(factors, mfagate.MethodTOTP)
	if f == nil {
		return "", nil, mfagate.Errorf(mfagate.EINVALID, "An authenticator app is not set up for your account")
	}
	secret, err := seal.Open(s.keys.seal, f.Secret, factorContext(cur.User.ID))
	if err != nil {
		return "", nil, fmt.Errorf("open TOTP secret of user %d: %w", cur.User.ID, err)
	}
	step, err := totp.Verify(secret, input, now, f.LastStep, s.mfa.TOTPSkew)
	if err == nil || errors.Is(err, totp.ErrWrongCode) || errors.Is(err, totp.ErrReplay) {
		s.codeChecked(mfagate.MethodTOTP)
	}
	if errors.Is(err, totp.ErrReplay) && !f.LastUsedAt.After(f.CreatedAt) {
		// Not used since it was set up, so only the setup code has been
		// accepted: is this it again?
		if again, err := totp.Verify(secret, input, now, f.LastStep-1, s.mfa.TOTPSkew); err == nil && again == f.LastStep {
			return "", ErrSetupCodeAgain, nil
		}
	}
	if errors.Is(err, totp.ErrWrongCode) || errors.Is(err, totp.ErrReplay) {
		return "", err, nil
	}
	if err != nil {
		return "", nil, err
	}
	err = tx.UseFactor(f.ID, step, now)
	if mfagate.ErrorCode(err) == mfagate.ECONFLICT { // another replica took this step first
		return "", totp.ErrReplay, nil
	}
	return "", nil, err
}

func (s *Service) checkRecovery(tx *txn, cur *Current, factors []*mfagate.Factor, input string, c Actor, now time.Time) (string, error, error) {
	if len(factors) == 0 {
		return "", nil, mfagate.Errorf(mfagate.EINVALID, "Recovery codes are not set up for your account")
	}
	norm, err := recovery.Normalize(input)
	if err != nil {
		return "", nil, err
	}
	s.codeChecked(mfagate.MethodRecovery)
	err = tx.UseRecoveryCode(cur.User.ID, recovery.Hash(s.keys.recovery, cur.User.ID, norm), now)
	if mfagate.ErrorCode(err) == mfagate.ENOTFOUND {
		return "", ErrWrongRecoveryCode, nil
	}
	if err != nil {
		return "", nil, err
	}
	left, err := tx.UnusedRecoveryCodes(cur.User.ID)
	if err != nil {
		return "", nil, err
	}
	if err := s.notify(tx, tx.now, cur.User, recoveryUsed, c, strconv.Itoa(left)); err != nil {
		return "", nil, err
	}
	if err := tx.audit(mfagate.AuditEvent{Kind: mfagate.AuditRecoveryUse, Outcome: mfagate.OutcomeSuccess,
		Actor: cur.User.Username, Subject: cur.User.Username, ClientAddr: c.ClientAddr,
		Detail: mfagate.Plural(left, "recovery code", "recovery codes") + " left"}); err != nil {
		return "", nil, err
	}
	return ", " + mfagate.Plural(left, "recovery code", "recovery codes") + " left", nil, nil
}

// ErrWrongRecoveryCode is a recovery code that is not one of the
// person's unused codes.
var ErrWrongRecoveryCode = mfagate.Errorf(mfagate.EINVALID,
	"That recovery code is not correct, or it has been used already. Check it and try again")

// factorContext binds a sealed TOTP secret to its owner: a sealed value
// copied into another person's row does not open.
func factorContext(userID int64) []byte {
	return []byte("totp-factor:user:" + strconv.FormatInt(userID, 10))
}
