package account

import (
	"context"
	"time"

	"github.com/mfagate/mfagate"
)

// A person is unreached when a mail server refused their address for
// good (the delivery worker marks them; see mfagate.Unreached.MarkUnreached).
// Every message to them since then failed; once the address works again,
// staff say so here and those messages go out again.

// defaultMailRetryFor is the delivery worker's default mail.retry_for.
const defaultMailRetryFor = 72 * time.Hour

// MarkAddressFixed is for staff who have made sure a person's address
// works again (their mailbox was restored, or the block lifted): it
// removes the unreached mark and puts their failed emails back in the
// queue, to the address they have now, and returns how many. Codes are
// never sent again: they have expired. Staff give a reason; it is
// audited. EINVALID when the person is not marked unreached.
//
// It sends again every failed message created from mail.retry_for
// before the first refusal: the refused message itself was queued at
// most that long before it was refused, and everything after it failed
// at the same address. Campaign notices they missed are among them, and
// move from failed back to pending in the campaign's counts.
//
// It does not change the address, and it may be used on a staff
// account's: sending them their own mail weakens nothing, so guardStaff
// does not apply.
func (s *Service) MarkAddressFixed(ctx context.Context, by Actor, username, reason string) (int, error) {
	reason, err := staffReason(by, username, reason, "marking the address as fixed")
	if err != nil {
		return 0, err
	}
	var n int
	err = s.update(ctx, func(tx *txn) error {
		// The person's row first and held (see doc.go): a refusal recorded
		// meanwhile waits for this, then marks them again if it is of the
		// address they still have.
		u, err := tx.UserByUsername(username)
		if err != nil {
			return err
		}
		if u.UnreachedAt.IsZero() {
			return mfagate.Errorf(mfagate.EINVALID,
				"Emails to %s are not being refused, so there is nothing to send again", u.Username)
		}
		if err := tx.ClearUnreached(u.ID); err != nil {
			return err
		}
		now := tx.now
		if n, err = tx.RequeueFailedMail(u.ID, u.Email, u.UnreachedAt.Add(-s.mailRetryFor), now); err != nil {
			return err
		}
		return tx.audit(mfagate.AuditEvent{Kind: mfagate.AuditAddressFixed, Outcome: mfagate.OutcomeSuccess,
			Actor: by.Name, Subject: u.Username, ClientAddr: by.ClientAddr, Reason: reason,
			Detail: mfagate.Plural(n, "email", "emails") + " queued again to " + u.Email + "; refused since " +
				s.when(u.UnreachedAt) + ": " + u.UnreachedReason})
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// UnreachedByRole counts enabled people whose address a mail server
// refuses, once under each of their roles, with "" for the total of
// people.
func (s *Service) UnreachedByRole(ctx context.Context) (map[string]int, error) {
	var out map[string]int
	err := s.view(ctx, func(tx *txn) (err error) {
		out, err = tx.UnreachedByRole()
		return err
	})
	return out, err
}
