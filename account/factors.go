package account

import (
	"context"
	"strings"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/rollout"
	"github.com/mfagate/mfagate/seal"
)

// A person's own factors after setup: skipping an offered setup, their
// recovery codes, and removing a factor.

// SkipSetup lets a person who is offered setup carry on without it, this
// time. It is recorded and audited; the offer returns at the next sign-in.
// EFORBIDDEN when setup is required.
func (s *Service) SkipSetup(ctx context.Context, cur *Current, c Actor) (string, error) {
	var token string
	err := s.update(ctx, func(tx *txn) error {
		now := tx.now
		if err := s.holdSession(tx, cur); err != nil {
			return err
		}
		fs, err := tx.UserFactors(cur.User.ID)
		if err != nil {
			return err
		}
		d := s.decideNow(cur.User, fs)
		if d.Outcome != rollout.OfferEnrollment {
			return mfagate.Errorf(mfagate.EFORBIDDEN, "Setting up a way to get security codes is required now: it cannot be skipped")
		}
		if d.paced {
			// Counted under the phase, whose cap the statement itself
			// checks: skips at once on any replica cannot pass it. An
			// extension lets them skip past it.
			limit := d.maxSkips
			if !d.ExtendedUntil.IsZero() {
				limit = 0
			}
			ok, err := tx.RecordSkipIn(cur.User.ID, d.Phase, limit, s.RolloutNow())
			if err != nil {
				return err
			}
			if !ok {
				return mfagate.Errorf(mfagate.EFORBIDDEN, "You have skipped setting up %s already: set it up now", mfagate.Plural(d.maxSkips, "time", "times"))
			}
		} else if err := tx.RecordSkip(cur.User.ID, now); err != nil {
			return err
		}
		if err := tx.audit(mfagate.AuditEvent{Kind: mfagate.AuditSetupSkip, Outcome: mfagate.OutcomeSuccess,
			Actor: cur.User.Username, Subject: cur.User.Username, ClientAddr: c.ClientAddr}); err != nil {
			return err
		}
		var sess *mfagate.Session
		token, sess, err = s.rotate(tx, cur, now)
		if err != nil {
			return err
		}
		sess.SecondFactorAt = cur.Session.SecondFactorAt // no second factor was passed
		cur.Session = sess
		return tx.UpdateSession(sess)
	})
	if err == nil {
		s.counts.skips.Add(1)
	}
	return token, err
}

// PendingRecoveryCodes returns the new recovery codes waiting to be shown
// in this session, or nil.
func (s *Service) PendingRecoveryCodes(cur *Current) ([]string, error) {
	if cur.Session.PendingRecovery == nil {
		return nil, nil
	}
	plain, err := seal.Open(s.keys.seal, cur.Session.PendingRecovery, recoveryContext(cur))
	if err != nil {
		return nil, err
	}
	return strings.Split(string(plain), "\n"), nil
}

// RecoveryCodesSaved forgets the plain recovery codes once the person says
// they have saved them: they are never shown again.
func (s *Service) RecoveryCodesSaved(ctx context.Context, cur *Current) error {
	return s.update(ctx, func(tx *txn) error {
		if err := s.holdSession(tx, cur); err != nil {
			return err
		}
		cur.Session.PendingRecovery = nil
		return tx.UpdateSession(cur.Session)
	})
}

// RenewRecoveryCodes makes a new set of recovery codes, voiding the old
// ones, and keeps them for showing once. It needs a recent second factor.
func (s *Service) RenewRecoveryCodes(ctx context.Context, cur *Current, c Actor) error {
	return s.update(ctx, func(tx *txn) error {
		now := tx.now
		if err := s.holdSession(tx, cur); err != nil {
			return err
		}
		fs, err := tx.UserFactors(cur.User.ID)
		if err != nil {
			return err
		}
		if len(fs) == 0 {
			return mfagate.Errorf(mfagate.EINVALID, "Set up email codes or an authenticator app first: recovery codes come with them")
		}
		if s.NeedsReauth(cur, fs) {
			return ErrReauth
		}
		codes, err := s.newRecoveryCodes(tx, cur.User.ID, now)
		if err != nil {
			return err
		}
		if cur.Session.PendingRecovery, err = s.sealCodes(cur, codes); err != nil {
			return err
		}
		if err := tx.UpdateSession(cur.Session); err != nil {
			return err
		}
		if err := s.notify(tx, tx.now, cur.User, recoveryRenewed, c); err != nil {
			return err
		}
		return tx.audit(mfagate.AuditEvent{Kind: mfagate.AuditRecoveryRenew, Outcome: mfagate.OutcomeSuccess,
			Actor: cur.User.Username, Subject: cur.User.Username, ClientAddr: c.ClientAddr})
	})
}

// RecoveryCodesLeft counts the person's unused recovery codes.
func (s *Service) RecoveryCodesLeft(ctx context.Context, userID int64) (int, error) {
	var n int
	err := s.view(ctx, func(tx *txn) (err error) {
		n, err = tx.UnusedRecoveryCodes(userID)
		return err
	})
	return n, err
}

// RemoveFactor removes one of the person's own factors. It needs a recent
// second factor, and refuses to remove the last one while the policy
// requires MFA. Removing the last factor also voids the recovery codes.
func (s *Service) RemoveFactor(ctx context.Context, cur *Current, id int64, c Actor) error {
	return s.update(ctx, func(tx *txn) error {
		if err := s.holdSession(tx, cur); err != nil {
			return err
		}
		fs, err := tx.UserFactors(cur.User.ID)
		if err != nil {
			return err
		}
		var f *mfagate.Factor
		for _, x := range fs {
			if x.ID == id {
				f = x
			}
		}
		if f == nil {
			return mfagate.Errorf(mfagate.ENOTFOUND, "That way of getting codes is not set up for your account")
		}
		if s.NeedsReauth(cur, fs) {
			return ErrReauth
		}
		if len(fs) == 1 {
			if d := s.decideNow(cur.User, nil); d.Outcome == rollout.RequireEnrollment {
				return mfagate.Errorf(mfagate.EFORBIDDEN,
					"You cannot remove your only way of getting security codes: it is required. Add another way first")
			}
			if _, err := tx.DeleteUserFactors(cur.User.ID); err != nil { // the recovery codes go with it
				return err
			}
		} else if err := tx.DeleteFactor(cur.User.ID, id); err != nil {
			return err
		}
		if err := s.notify(tx, tx.now, cur.User, factorRemoved, c, mfagate.MethodPhrase(f.Method)); err != nil {
			return err
		}
		return tx.audit(mfagate.AuditEvent{Kind: mfagate.AuditFactorRemove, Outcome: mfagate.OutcomeSuccess,
			Actor: cur.User.Username, Subject: cur.User.Username, ClientAddr: c.ClientAddr, Detail: "method " + f.Method})
	})
}
