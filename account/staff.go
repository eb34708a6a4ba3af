package account

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/rollout"
)

// The use cases of the console and the JSON API: finding people, looking
// at their state, and the support actions. Each action takes the staff
// member (or API token) as the actor and a reason, is audited, and emails
// the person where it changes their account.

// SearchPeople finds accounts for the console; Locked is judged now.
func (s *Service) SearchPeople(ctx context.Context, f mfagate.PeopleFilter) ([]*mfagate.PersonSummary, error) {
	f.Now = s.now()
	var out []*mfagate.PersonSummary
	err := s.view(ctx, func(tx *txn) (err error) {
		out, err = tx.SearchPeople(f)
		return err
	})
	return out, err
}

// Progress counts enabled accounts by role and MFA state.
func (s *Service) Progress(ctx context.Context) ([]*mfagate.ProgressRow, error) {
	var out []*mfagate.ProgressRow
	err := s.view(ctx, func(tx *txn) (err error) {
		out, err = tx.Progress()
		return err
	})
	return out, err
}

// CampaignStats counts each rollout campaign's emails by delivery state.
func (s *Service) CampaignStats(ctx context.Context) ([]mfagate.CampaignStat, error) {
	var out []mfagate.CampaignStat
	err := s.view(ctx, func(tx *txn) (err error) {
		out, err = tx.CampaignStats()
		return err
	})
	return out, err
}

// AuditEvents lists audit events, newest first.
func (s *Service) AuditEvents(ctx context.Context, f mfagate.AuditFilter) ([]*mfagate.AuditEvent, error) {
	var out []*mfagate.AuditEvent
	err := s.view(ctx, func(tx *txn) (err error) {
		out, err = tx.AuditEvents(f)
		return err
	})
	return out, err
}

// MaxReason is the longest reason a staff action takes, in characters
// (not bytes: a reason in Cyrillic or Greek is as long as one in English).
const MaxReason = 500

// staffReason checks a staff action's reason and that staff do not act on
// their own account from the console or API (the command line may).
func staffReason(by Actor, username, reason, what string) (string, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return "", mfagate.Errorf(mfagate.EINVALID, "Give a reason for %s; it is kept in the audit log", what)
	}
	if utf8.RuneCountInString(reason) > MaxReason {
		return "", mfagate.Errorf(mfagate.EINVALID, "Keep the reason to %s or fewer", mfagate.Plural(MaxReason, "character", "characters"))
	}
	if !by.AtServer && mfagate.UsernameKey(by.Name) == mfagate.UsernameKey(username) {
		return "", mfagate.Errorf(mfagate.EFORBIDDEN, "You cannot do this to your own account: ask another member of staff")
	}
	return reason, nil
}

// guardStaff refuses to let anyone but the server's own command line
// weaken an operator's or support account: reset its factors, unlock,
// disable or enable it, give it more time, or set its password. Those
// accounts can reset everyone else's, so neither a support member nor a
// leaked API token may touch them; the refusal is audited, with kind. An
// unknown username passes (the change itself then reports ENOTFOUND).
func (s *Service) guardStaff(ctx context.Context, by Actor, username, kind, what string) error {
	if by.AtServer {
		return nil
	}
	u, err := s.User(ctx, username)
	if mfagate.ErrorCode(err) == mfagate.ENOTFOUND {
		return nil
	}
	if err != nil {
		return err
	}
	if !IsStaff(u) {
		return nil
	}
	if err := s.update(ctx, func(tx *txn) error {
		return tx.audit(mfagate.AuditEvent{Kind: kind, Outcome: mfagate.OutcomeDenied, Actor: by.Name,
			Subject: u.Username, ClientAddr: by.ClientAddr, Detail: "refused: a staff account is changed only at the server's command line"})
	}); err != nil {
		return err
	}
	return staffAccountError(u.Username, what)
}

func staffAccountError(username, what string) error {
	return mfagate.Errorf(mfagate.EFORBIDDEN,
		"%s is an operator or support account. Staff accounts can only be %s at the server's command line (mfagate user ...), not from the console or the API",
		username, what)
}

// EndSessions signs a person out everywhere, for staff.
func (s *Service) EndSessions(ctx context.Context, by Actor, username, reason string) (int, error) {
	reason, err := staffReason(by, username, reason, "ending their sessions")
	if err != nil {
		return 0, err
	}
	var n int
	err = s.update(ctx, func(tx *txn) error {
		u, err := tx.UserByUsername(username)
		if err != nil {
			return err
		}
		if n, err = tx.end.userSessions(tx, u.ID, nil); err != nil {
			return err
		}
		if err := s.notify(tx, tx.now, u, sessionsEnded, by); err != nil {
			return err
		}
		return tx.audit(mfagate.AuditEvent{Kind: mfagate.AuditSessionRevoked, Outcome: mfagate.OutcomeSuccess,
			Actor: by.Name, Subject: u.Username, ClientAddr: by.ClientAddr, Reason: reason, Detail: mfagate.Plural(n, "session", "sessions") + " ended"})
	})
	return n, err
}

// ResendCode sends a new email code to a person part-way through signing
// in, for staff helping them on the phone. The cooldown and hourly cap
// still apply. ENOTFOUND when they are not waiting for a code.
func (s *Service) ResendCode(ctx context.Context, by Actor, username, reason string) (*CodeSent, error) {
	reason, err := staffReason(by, username, reason, "resending the code")
	if err != nil {
		return nil, err
	}
	u, err := s.User(ctx, username)
	if err != nil {
		return nil, err
	}
	sessions, err := s.UserSessions(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	for _, sess := range sessions {
		if sess.Stage != mfagate.StagePassword {
			continue
		}
		cur := &Current{Session: sess, User: u}
		for _, purpose := range []string{mfagate.PurposeSignIn, mfagate.PurposeSetup} {
			pending, err := s.PendingCode(ctx, cur, purpose)
			if err != nil {
				return nil, err
			}
			if pending == nil {
				continue
			}
			sent, err := s.SendCode(ctx, cur, purpose, "", by) // where codes go now, which may not be where the last one went
			if err != nil {
				return nil, err
			}
			return sent, s.update(ctx, func(tx *txn) error {
				return tx.audit(mfagate.AuditEvent{Kind: mfagate.AuditCodeSent, Outcome: mfagate.OutcomeSuccess,
					Actor: by.Name, Subject: u.Username, ClientAddr: by.ClientAddr, Reason: reason, Detail: "resent by staff to " + sent.Address})
			})
		}
	}
	return nil, mfagate.Errorf(mfagate.ENOTFOUND, "%s is not waiting for an email code: they need to sign in first", u.Username)
}

// ResetMFA removes every factor and recovery code of an account and ends
// its sessions, for a person who lost theirs. Staff give a reason; it is
// audited and the person is emailed. At their next sign-in they set up
// again as the policy demands. The run of wrong codes goes with the
// factors it was guessing at. Staff never see or set secrets, and staff
// accounts are reset only at the server (see guardStaff).
func (s *Service) ResetMFA(ctx context.Context, by Actor, username, reason string) error {
	reason, err := staffReason(by, username, reason, "resetting")
	if err != nil {
		return err
	}
	if err := s.guardStaff(ctx, by, username, mfagate.AuditMFAReset, "reset"); err != nil {
		return err
	}
	return s.update(ctx, func(tx *txn) error {
		// The key before the person's row (see doc.go).
		if err := tx.ClearThrottle(mfagate.FactorThrottleKey(username)); err != nil {
			return err
		}
		u, err := tx.UserByUsername(username)
		if err != nil {
			return err
		}
		n, err := tx.DeleteUserFactors(u.ID)
		if err != nil {
			return err
		}
		if _, err := tx.end.userSessions(tx, u.ID, nil); err != nil {
			return err
		}
		if err := s.notify(tx, tx.now, u, mfaReset, by, s.AfterReset(u)); err != nil {
			return err
		}
		return tx.audit(mfagate.AuditEvent{Kind: mfagate.AuditMFAReset, Outcome: mfagate.OutcomeSuccess,
			Actor: by.Name, Subject: u.Username, ClientAddr: by.ClientAddr, Reason: reason,
			Detail: mfagate.Plural(n, "factor", "factors") + " removed; sessions ended"})
	})
}

// AfterReset tells a person, in their words, what their next sign-in asks
// of them once they have no factor: what the rollout says for them now,
// and from its next phase when that is stricter. A reset does not make
// anyone set up again by itself: with no phase asking, the password is
// enough.
func (s *Service) AfterReset(u *mfagate.User) string {
	d := s.decideNow(u, nil)
	var t string
	switch d.Outcome {
	case rollout.RequireEnrollment:
		t = "The next time you sign in you will be asked to set up a way to get security codes again before you can carry on."
	case rollout.OfferEnrollment:
		t = "The next time you sign in you will be offered to set up a way to get security codes again. You can skip it for now."
	default:
		t = "For now your password alone signs you in. You can set up a way to get security codes again from your account page."
	}
	switch n := d.NextPhase; {
	case d.Outcome == rollout.RequireEnrollment:
	case !d.RequiredAfter().IsZero():
		t += " You have until " + ExtensionEnds(d.RequiredAfter(), s.rolloutLoc()) + " to set it up; after that it will be required."
	case n != nil && n.Required:
		t += " From " + n.Start.In(s.loc).Format("2 January 2006") + " it will be required."
	}
	return t
}

// Unlock lifts a lock on an account, temporary or hard, by wrong
// passwords or wrong codes, and forgets the failed attempts. Staff give a
// reason; it is audited and the person is emailed. Staff accounts are
// unlocked only at the server (see guardStaff).
func (s *Service) Unlock(ctx context.Context, by Actor, username, reason string) error {
	reason, err := staffReason(by, username, reason, "unlocking")
	if err != nil {
		return err
	}
	if err := s.guardStaff(ctx, by, username, mfagate.AuditUnlock, "unlocked"); err != nil {
		return err
	}
	return s.update(ctx, func(tx *txn) error {
		// The keys before the person's row (see doc.go).
		for _, key := range []string{mfagate.PasswordThrottleKey(username), mfagate.FactorThrottleKey(username)} {
			if err := tx.ClearThrottle(key); err != nil {
				return err
			}
		}
		u, err := tx.UserByUsername(username)
		if err != nil {
			return err
		}
		if err := s.notify(tx, tx.now, u, accountUnlocked, by); err != nil {
			return err
		}
		return tx.audit(mfagate.AuditEvent{Kind: mfagate.AuditUnlock, Outcome: mfagate.OutcomeSuccess,
			Actor: by.Name, Subject: u.Username, ClientAddr: by.ClientAddr, Reason: reason})
	})
}

// Extend gives one person more time: until then, phases that require MFA
// treat them as optional. Staff give a reason; it is audited and the
// person is emailed. A zero until removes the extension.
func (s *Service) Extend(ctx context.Context, by Actor, username string, until time.Time, reason string) error {
	reason, err := staffReason(by, username, reason, "the extension")
	if err != nil {
		return err
	}
	if !until.IsZero() && !until.After(s.RolloutNow()) {
		return mfagate.Errorf(mfagate.EINVALID, "The extension must end in the future, not %s", until.In(s.loc).Format("2 January 2006 15:04 MST"))
	}
	if err := s.guardStaff(ctx, by, username, mfagate.AuditExtend, "given more time"); err != nil {
		return err
	}
	return s.update(ctx, func(tx *txn) error {
		u, err := tx.UserByUsername(username)
		if err != nil {
			return err
		}
		u.ExtendedUntil, u.ExtensionReason = until.UTC().Truncate(time.Millisecond), reason
		if until.IsZero() {
			u.ExtensionReason = ""
		}
		if err := tx.UpdateUser(u); err != nil {
			return err
		}
		detail := "extension removed"
		if !until.IsZero() {
			detail = "until " + ExtensionEnds(until, s.rolloutLoc())
			if err := s.notify(tx, tx.now, u, extended, by, ExtensionEnds(until, s.rolloutLoc())); err != nil {
				return err
			}
		}
		return tx.audit(mfagate.AuditEvent{Kind: mfagate.AuditExtend, Outcome: mfagate.OutcomeSuccess,
			Actor: by.Name, Subject: u.Username, ClientAddr: by.ClientAddr, Reason: reason, Detail: detail})
	})
}
