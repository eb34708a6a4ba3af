package account

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/emailcode"
	"github.com/mfagate/mfagate/recovery"
	"github.com/mfagate/mfagate/rollout"
	"github.com/mfagate/mfagate/seal"
	"github.com/mfagate/mfagate/totp"
)

// Enrollment: setting up email codes or an authenticator app, and the
// recovery codes made with the first factor.

// Enrolled is the outcome of a finished setup.
type Enrolled struct {
	// Token is the session's new id when setting up completed sign-in;
	// empty when the person was already signed in.
	Token string
	// RecoveryCodes reports that new recovery codes wait to be shown.
	RecoveryCodes bool
}

// ConfirmEmailSetup checks the code sent to the registered address and,
// when it is right, sets up email codes for the person. The code proves
// they can read that mailbox, so it counts as a second factor passed.
func (s *Service) ConfirmEmailSetup(ctx context.Context, cur *Current, input string, c Actor) (*Enrolled, error) {
	return s.enroll(ctx, cur, mfagate.MethodEmail, c, func(tx *txn, now time.Time) (*mfagate.Factor, bool, error) {
		code, err := tx.LatestEmailCode(cur.Session.Hash, mfagate.PurposeSetup)
		if mfagate.ErrorCode(err) == mfagate.ENOTFOUND {
			return nil, false, mfagate.Errorf(mfagate.EINVALID, "Send a code to your email first")
		}
		if err != nil {
			return nil, false, err
		}
		if !strings.EqualFold(code.Address, cur.User.Email) {
			// Sent before the address changed: it proves nothing now.
			return nil, false, errAddressChanged
		}
		if _, failed, err := s.checkEmail(tx, cur, nil, input, mfagate.PurposeSetup, now); err != nil || failed != nil {
			return nil, false, errors.Join(err, failed)
		}
		if cur.User.EmailUnconfirmed() {
			// The code went to the address staff set, and came back: that
			// confirms it, and email codes start out there.
			if err := s.confirmedBySetup(tx, cur, c); err != nil {
				return nil, false, err
			}
		}
		return &mfagate.Factor{UserID: cur.User.ID, Method: mfagate.MethodEmail, CreatedAt: now, LastUsedAt: now}, true, nil
	})
}

// TOTPSetup is what the authenticator-app page shows: the secret as text
// and as the otpauth URI a QR code carries.
type TOTPSetup struct {
	Secret  string // base32, grouped for reading
	URI     string
	Issuer  string
	Account string
}

// StartTOTPSetup returns the secret being set up in this session, making
// one on the first call. It is kept sealed in the session only, so an
// abandoned setup leaves nothing that could sign anyone in.
func (s *Service) StartTOTPSetup(ctx context.Context, cur *Current) (*TOTPSetup, error) {
	var secret []byte
	if cur.Session.PendingTOTP != nil {
		var err error
		if secret, err = seal.Open(s.keys.seal, cur.Session.PendingTOTP, pendingContext(cur)); err != nil {
			return nil, fmt.Errorf("open pending TOTP secret: %w", err)
		}
	} else {
		var err error
		if secret, err = totp.NewSecret(s.rand); err != nil {
			return nil, err
		}
		sealed, err := seal.Seal(s.keys.seal, secret, pendingContext(cur), s.rand)
		if err != nil {
			return nil, err
		}
		err = s.update(ctx, func(tx *txn) error {
			if err := s.holdSession(tx, cur); err != nil {
				return err
			}
			cur.Session.PendingTOTP = sealed
			return tx.UpdateSession(cur.Session)
		})
		if err != nil {
			return nil, err
		}
	}
	account := cur.User.Username
	return &TOTPSetup{
		Secret: totp.FormatSecret(totp.EncodeSecret(secret)), URI: totp.URI(s.mfa.Issuer, account, secret),
		Issuer: s.mfa.Issuer, Account: account,
	}, nil
}

// ConfirmTOTPSetup checks the first code from the app against the secret
// being set up and, when it is right, turns it into a factor.
func (s *Service) ConfirmTOTPSetup(ctx context.Context, cur *Current, input string, c Actor) (*Enrolled, error) {
	if cur.Session.PendingTOTP == nil {
		return nil, mfagate.Errorf(mfagate.EINVALID, "Start again: scan the QR code, then enter the code your app shows")
	}
	// The first code of a new app proves only that the person holds the
	// secret this session was shown: it is not a second factor passed.
	return s.enroll(ctx, cur, mfagate.MethodTOTP, c, func(tx *txn, now time.Time) (*mfagate.Factor, bool, error) {
		if cur.Session.PendingTOTP == nil { // finished by another request meanwhile
			return nil, false, mfagate.Errorf(mfagate.EINVALID, "Start again: scan the QR code, then enter the code your app shows")
		}
		secret, err := seal.Open(s.keys.seal, cur.Session.PendingTOTP, pendingContext(cur))
		if err != nil {
			return nil, false, fmt.Errorf("open pending TOTP secret: %w", err)
		}
		step, err := totp.Verify(secret, input, now, 0, s.mfa.TOTPSkew)
		if err == nil || errors.Is(err, totp.ErrWrongCode) {
			s.codeChecked(mfagate.MethodTOTP)
		}
		if err != nil {
			return nil, false, err
		}
		sealed, err := seal.Seal(s.keys.seal, secret, factorContext(cur.User.ID), s.rand)
		if err != nil {
			return nil, false, err
		}
		return &mfagate.Factor{UserID: cur.User.ID, Method: mfagate.MethodTOTP, Secret: sealed, LastStep: step,
			CreatedAt: now, LastUsedAt: now}, false, nil
	})
}

// enroll creates the factor that check returns, in one transaction with
// everything that goes with it: recovery codes for a first factor, the
// session fully signed in under a new id when this completes sign-in, the
// audit event and the email. The code is admitted under the account's
// second-factor key first, like any code (see Verify); a wrong one
// (check's ErrWrongCode) stays counted towards the lock. check reports
// whether a right code proves the person's identity (a code sent to
// their address does; an app's first code does not, and is taken back).
func (s *Service) enroll(ctx context.Context, cur *Current, method string, c Actor,
	check func(*txn, time.Time) (*mfagate.Factor, bool, error)) (*Enrolled, error) {
	var (
		out    Enrolled
		failed error
		wrong  *ticket
		locked bool
	)
	err := s.update(ctx, func(tx *txn) error {
		now := tx.now
		out, failed, wrong, locked = Enrolled{}, nil, nil, false
		tk, factors, err := s.startCode(tx, cur, c, now)
		if err != nil {
			return err
		}
		if s.NeedsReauth(cur, factors) {
			return ErrReauth
		}
		if hasMethod(factors, method) != nil {
			return mfagate.Errorf(mfagate.ECONFLICT, "%s is already set up for your account", mfagate.MethodPhrase(method))
		}
		f, proves, err := check(tx, now)
		if errors.Is(err, emailcode.ErrWrongCode) || errors.Is(err, totp.ErrWrongCode) {
			failed, wrong = err, tk.factor
			locked, err = s.wrongCode(tx, cur, tk, method, failed, c)
			return err
		}
		if err != nil {
			return err
		}
		if proves {
			err = s.codeRight(tx, tk, now)
		} else {
			err = errors.Join(s.takeBack(tx, tk.factor, now), s.takeBack(tx, tk.addr, now))
		}
		if err != nil {
			return err
		}
		if err := tx.CreateFactor(f); err != nil {
			return err
		}
		sess := cur.Session
		sess.PendingTOTP = nil
		if len(factors) == 0 {
			codes, err := s.newRecoveryCodes(tx, cur.User.ID, now)
			if err != nil {
				return err
			}
			if sess.PendingRecovery, err = s.sealCodes(cur, codes); err != nil {
				return err
			}
			out.RecoveryCodes = true
		}
		if sess.Stage == mfagate.StagePassword {
			if d := s.decideNow(cur.User, append(factors, f)); d.Outcome == rollout.RequireEnrollment {
				// Still not what the phase demands (it cannot happen with
				// the methods offered, but never sign in on it).
				return mfagate.Errorf(mfagate.EFORBIDDEN, "Set up one of: %v", d.Methods)
			}
			token, next, err := s.rotate(tx, cur, now)
			if err != nil {
				return err
			}
			out.Token, cur.Session = token, next
		} else {
			sess.SecondFactorAt = now
			if err := tx.UpdateSession(sess); err != nil {
				return err
			}
		}
		if err := s.notify(tx, tx.now, cur.User, factorAdded, c, mfagate.MethodPhrase(method)); err != nil {
			return err
		}
		return tx.audit(mfagate.AuditEvent{Kind: mfagate.AuditFactorAdd, Outcome: mfagate.OutcomeSuccess,
			Actor: cur.User.Username, Subject: cur.User.Username, ClientAddr: c.ClientAddr, Detail: "method " + method})
	})
	switch {
	case err != nil:
		return nil, err
	case failed != nil:
		s.counts.wrongCode(method, StepSetup)
		s.counts.lock(wrong, true)
		if locked {
			return nil, ErrLocked
		}
		return nil, failed
	}
	s.counts.enrollments[methodIndex(method)].Add(1)
	return &out, nil
}

// newRecoveryCodes replaces the person's recovery codes with a new set
// and returns the codes in plain text, to be shown once.
func (s *Service) newRecoveryCodes(tx mfagate.Factors, userID int64, now time.Time) ([]string, error) {
	codes, err := recovery.Generate(s.rand, s.mfa.RecoveryCodes)
	if err != nil {
		return nil, err
	}
	rows := make([]*mfagate.RecoveryCode, len(codes))
	for i, code := range codes {
		norm, err := recovery.Normalize(code)
		if err != nil {
			return nil, err
		}
		rows[i] = &mfagate.RecoveryCode{UserID: userID, Hash: recovery.Hash(s.keys.recovery, userID, norm), CreatedAt: now}
	}
	return codes, tx.ReplaceRecoveryCodes(userID, rows)
}

func (s *Service) sealCodes(cur *Current, codes []string) ([]byte, error) {
	return seal.Seal(s.keys.seal, []byte(strings.Join(codes, "\n")), recoveryContext(cur), s.rand)
}

func pendingContext(cur *Current) []byte {
	return []byte(fmt.Sprintf("totp-pending:user:%d", cur.User.ID))
}

func recoveryContext(cur *Current) []byte {
	return []byte(fmt.Sprintf("recovery-pending:user:%d", cur.User.ID))
}
