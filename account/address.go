package account

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/mfagate/mfagate"
)

// Changing the email address: by the person, who proves the new address
// with a code sent to it, and by staff, after which the person confirms
// it at their next sign-in. The email factor has no address of its own:
// its codes go where mfagate.User.CodeAddress says, so it moves with a
// confirmed address and with nothing else.

var (
	// ErrAddressNeedsSignIn refuses an address change to a session that
	// has not passed its second factor (SPEC section 4, Addresses).
	ErrAddressNeedsSignIn = mfagate.Errorf(mfagate.EFORBIDDEN,
		"Finish signing in before you change your email address")
	// ErrAddressNeedsFactor refuses an address change to someone with no
	// second factor: nothing but the password would stand behind it.
	ErrAddressNeedsFactor = mfagate.Errorf(mfagate.EFORBIDDEN,
		"Set up a way to get security codes first: your email address can be changed once a security code has confirmed it's you")
	// ErrSameAddress is the address the account has already.
	ErrSameAddress = mfagate.Errorf(mfagate.EINVALID,
		"That is already the email address of your account. Enter a different one")
	// ErrAddressTaken is an address another account uses (as its address,
	// or as the one its codes still go to).
	ErrAddressTaken = mfagate.Errorf(mfagate.ECONFLICT,
		"That email address is used by another account. Enter a different one, or contact your support team")
)

var (
	addressChanged = newNotice("The email address of your account was changed", `Hello {{.Name}},

The email address of your account {{.Username}} was changed to {{.Detail}} on {{.When}}{{with .From}} from the address {{.}}{{end}}.
From now on, emails and security codes for your account go to the new address, not to this one.
`)
	addressConfirmed = newNotice("This is now your email address", `Hello {{.Name}},

This address is now the email address of your account {{.Username}}. It was confirmed on {{.When}}{{with .From}} from the address {{.}}{{end}}.
Security codes and emails about your account will come here from now on.
`)
	addressSetByStaff = newNotice("A new email address was set for your account", `Hello {{.Name}},

{{.Actor}} set {{.Detail}} as the email address of your account {{.Username}} on {{.When}}. You have been signed out everywhere.
The next time you sign in, you will be asked to confirm the new address with a code sent to it. Until then, security codes still go to the address you had before, and emails about your account go to both.
`)
)

// checkNewAddress checks an address u is to have: one address, in the
// usual form, not the one they have, and nobody else's. Two accounts on
// one address would share its codes and reset links, and notices for one
// would reach the other.
func checkNewAddress(tx *txn, u *mfagate.User, address string) error {
	if address == "" {
		return mfagate.Errorf(mfagate.EINVALID, "Enter the new email address")
	}
	if err := checkEmail(address); err != nil {
		return err
	}
	if strings.EqualFold(address, u.Email) && !u.EmailUnconfirmed() {
		return ErrSameAddress
	}
	if err := claimAddress(tx, address); err != nil {
		return err
	}
	taken, err := tx.EmailInUse(address, u.ID)
	if err != nil {
		return err
	}
	if taken {
		return ErrAddressTaken
	}
	return nil
}

// SendAddressCode emails a code to address for the person to prove that
// it is theirs before it becomes the account's: a new address of their
// choosing, or the one staff set for them, still unconfirmed. Only a
// fully signed-in session may ask, with a second factor passed within the
// last ten minutes, as for changing factors (ErrReauth): someone with no
// factor may only confirm the address staff set (ErrAddressNeedsFactor).
// The code is an email code of its own purpose (PurposeAddress), with the
// same cooldown, hourly cap, lock and failure limit as the others; it
// never goes to the address in use, and a sign-in code never confirms an
// address, nor the reverse.
func (s *Service) SendAddressCode(ctx context.Context, cur *Current, address string, c Actor) (*CodeSent, error) {
	address = strings.TrimSpace(address)
	var sent *CodeSent
	err := s.update(ctx, func(tx *txn) error {
		th, err := tx.HoldThrottle(mfagate.FactorThrottleKey(cur.User.Username))
		if err != nil {
			return err
		}
		if th.LockedAt(tx.now) {
			return ErrLocked
		}
		if err := s.holdSession(tx, cur); err != nil {
			return err
		}
		if cur.Session.Stage != mfagate.StageFull {
			return ErrAddressNeedsSignIn
		}
		fs, err := tx.UserFactors(cur.User.ID)
		if err != nil {
			return err
		}
		// Confirming the address support set needs only what signing in
		// needed; any other address, a second factor too.
		confirming := cur.User.EmailUnconfirmed() && strings.EqualFold(address, cur.User.Email)
		if len(fs) == 0 && !confirming {
			return ErrAddressNeedsFactor
		}
		if s.NeedsReauth(cur, fs) {
			return ErrReauth
		}
		if err := checkNewAddress(tx, cur.User, address); err != nil {
			return err
		}
		sent, err = s.issueCode(tx, cur, mfagate.PurposeAddress, address, c)
		return err
	})
	if errors.Is(err, ErrAddressNeedsSignIn) || errors.Is(err, ErrAddressNeedsFactor) {
		if aerr := s.update(ctx, func(tx *txn) error {
			return tx.audit(mfagate.AuditEvent{Kind: mfagate.AuditEmailChange, Outcome: mfagate.OutcomeDenied,
				Actor: cur.User.Username, Subject: cur.User.Username, ClientAddr: c.ClientAddr,
				Detail: "refused: no second factor passed"})
		}); aerr != nil {
			return nil, aerr
		}
	}
	return sent, err
}

// ConfirmAddress checks the code sent by SendAddressCode and, when it is
// right, makes its address the account's, confirmed. The address before
// is told (what changed, when, from where, whom to contact), the new one
// gets a confirmation, and it is audited. Email codes, if the person uses
// them, go to the new address from now on; a code sent earlier to the old
// one stops working (checkEmail). A wrong code counts towards the lock of
// the account's codes, as at the challenge; a right one proves the
// mailbox, not the person, so it lowers nothing.
func (s *Service) ConfirmAddress(ctx context.Context, cur *Current, input string, c Actor) error {
	var (
		failed error
		wrong  *ticket
		locked bool
	)
	err := s.update(ctx, func(tx *txn) error {
		now := tx.now
		failed, wrong, locked = nil, nil, false
		tk, _, err := s.startCode(tx, cur, c, now)
		if err != nil {
			return err
		}
		if cur.Session.Stage != mfagate.StageFull {
			return ErrAddressNeedsSignIn
		}
		code, err := tx.LatestEmailCode(cur.Session.Hash, mfagate.PurposeAddress)
		if mfagate.ErrorCode(err) == mfagate.ENOTFOUND {
			return mfagate.Errorf(mfagate.EINVALID, "Send a code to your new address first")
		}
		if err != nil {
			return err
		}
		_, failed, err = s.checkEmail(tx, cur, nil, input, mfagate.PurposeAddress, now)
		if err != nil {
			return err
		}
		if failed != nil {
			wrong = tk.factor
			locked, err = s.wrongCode(tx, cur, tk, mfagate.MethodEmail, failed, c)
			return err
		}
		if err := errors.Join(s.takeBack(tx, tk.factor, now), s.takeBack(tx, tk.addr, now)); err != nil {
			return err
		}
		// Checked again: another account may have taken it meanwhile.
		u := cur.User
		if err := checkNewAddress(tx, u, code.Address); err != nil {
			return err
		}
		was, before := *u, u.CodeAddress()
		u.Email, u.PreviousEmail, u.EmailUnconfirmedAt = code.Address, "", time.Time{}
		if err := tx.UpdateUser(u); err != nil {
			return err
		}
		// A reset link sent to the address before must not outlive it.
		if _, err := tx.DeleteLinks(u.ID, mfagate.LinkReset); err != nil {
			return err
		}
		tx.end.refresh(u.ID) // forward-auth's Remote-Email follows at the next request
		// The addresses left behind hear of it; the new one is told it
		// is now the account's.
		for _, old := range leftBehind(&was, u.Email) {
			to := was
			to.Email, to.EmailUnconfirmedAt = old, time.Time{}
			if err := s.notify(tx, now, &to, addressChanged, c, u.Email); err != nil {
				return err
			}
		}
		if err := s.notify(tx, now, u, addressConfirmed, c); err != nil {
			return err
		}
		detail := "email " + before + " → " + u.Email
		if strings.EqualFold(was.Email, u.Email) {
			detail += " (the address set by staff, confirmed)"
		}
		return tx.audit(mfagate.AuditEvent{Kind: mfagate.AuditEmailChange, Outcome: mfagate.OutcomeSuccess,
			Actor: u.Username, Subject: u.Username, ClientAddr: c.ClientAddr, Detail: detail})
	})
	switch {
	case err != nil:
		return err
	case failed != nil:
		s.counts.wrongCode(mfagate.MethodEmail, StepChallenge)
		s.counts.lock(wrong, true)
		if locked {
			return ErrLocked
		}
		return failed
	}
	return nil
}

// leftBehind lists the addresses of was that stop being the account's
// when it moves to now: its address and, while that was unconfirmed, the
// one before.
func leftBehind(was *mfagate.User, now string) []string {
	all := []string{was.Email}
	if was.EmailUnconfirmed() {
		all = append(all, was.PreviousEmail)
	}
	var out []string
	for _, a := range all {
		if a != "" && !strings.EqualFold(a, now) && (len(out) == 0 || !strings.EqualFold(out[0], a)) {
			out = append(out, a)
		}
	}
	return out
}

// ChangeEmail gives an account a new address, for staff helping someone
// who can no longer read theirs. Staff give a reason; it is audited, the
// person's sessions end, and both addresses are told. The new address
// stays unconfirmed until the person confirms it after their next
// sign-in (SendAddressCode, ConfirmAddress): until then their sign-in
// codes still go to the address before, so an address given to support
// by someone pretending to be them opens nothing by itself; a person who
// lost that mailbox and has only email codes needs their MFA reset too,
// which is a decision of its own. Staff accounts change address only at the server
// (see guardStaff).
func (s *Service) ChangeEmail(ctx context.Context, by Actor, username, address, reason string) error {
	reason, err := staffReason(by, username, reason, "the address change")
	if err != nil {
		return err
	}
	address = strings.TrimSpace(address)
	if address == "" {
		return mfagate.Errorf(mfagate.EINVALID, "Enter the new email address")
	}
	if err := checkEmail(address); err != nil {
		return err
	}
	if err := s.guardStaff(ctx, by, username, mfagate.AuditEmailChange, "given another email address"); err != nil {
		return err
	}
	return s.update(ctx, func(tx *txn) error {
		u, err := tx.UserByUsername(username)
		if err != nil {
			return err
		}
		if !by.AtServer && IsStaff(u) { // made staff meanwhile
			return staffAccountError(u.Username, "given another email address")
		}
		if strings.EqualFold(address, u.Email) {
			return mfagate.Errorf(mfagate.EINVALID, "%s is already the email address of %s", address, u.Username)
		}
		if err := checkNewAddress(tx, u, address); err != nil {
			return err
		}
		// Links sent to the address before (a reset, an invitation) stop
		// working: the mailbox they went to is the one being replaced.
		if _, err := tx.DeleteLinks(u.ID, ""); err != nil {
			return err
		}
		if u.Invited() && u.PasswordHash == "" {
			// Someone who has never chosen a password has nothing the new
			// address could take over: it is a correction of where their
			// invitation goes, and a new one goes there.
			detail := "email " + u.Email + " → " + address + " before they accepted their invitation; a new invitation sent there"
			u.Email, u.PreviousEmail, u.EmailUnconfirmedAt, u.InvitedAt = address, "", time.Time{}, tx.now
			if err := tx.UpdateUser(u); err != nil {
				return err
			}
			if err := s.invite(tx, u); err != nil {
				return err
			}
			return tx.audit(mfagate.AuditEvent{Kind: mfagate.AuditEmailChange, Outcome: mfagate.OutcomeSuccess,
				Actor: by.Name, Subject: u.Username, ClientAddr: by.ClientAddr, Reason: reason, Detail: detail})
		}
		detail := "email " + u.Email + " → " + address + " (to be confirmed at their next sign-in)"
		// A second change before the first is confirmed keeps the address
		// confirmed last as the one codes go to.
		if !u.EmailUnconfirmed() {
			u.PreviousEmail = u.Email
		}
		u.Email, u.EmailUnconfirmedAt = address, tx.now
		if err := tx.UpdateUser(u); err != nil {
			return err
		}
		n, err := tx.end.userSessions(tx, u.ID, nil)
		if err != nil {
			return err
		}
		if err := s.notify(tx, tx.now, u, addressSetByStaff, by, address); err != nil {
			return err
		}
		return tx.audit(mfagate.AuditEvent{Kind: mfagate.AuditEmailChange, Outcome: mfagate.OutcomeSuccess,
			Actor: by.Name, Subject: u.Username, ClientAddr: by.ClientAddr, Reason: reason,
			Detail: detail + "; " + mfagate.Plural(n, "session", "sessions") + " ended"})
	})
}

// errAddressChanged is a code sent to an address that is no longer where
// codes go: it proves nothing now.
var errAddressChanged = mfagate.Errorf(mfagate.EINVALID,
	"Your email address has changed since that code was sent. Send a new code")

// confirmedBySetup confirms an address set by staff when the person sets
// up email codes with a code sent to it. They had no email codes (setup
// is refused otherwise), so the address they proved opens nothing the
// address before did.
func (s *Service) confirmedBySetup(tx *txn, cur *Current, c Actor) error {
	u := cur.User
	before := u.PreviousEmail
	u.PreviousEmail, u.EmailUnconfirmedAt = "", time.Time{}
	if err := tx.UpdateUser(u); err != nil {
		return err
	}
	return tx.audit(mfagate.AuditEvent{Kind: mfagate.AuditEmailChange, Outcome: mfagate.OutcomeSuccess,
		Actor: u.Username, Subject: u.Username, ClientAddr: c.ClientAddr,
		Detail: "email " + before + " → " + u.Email + " (the address set by staff, confirmed by setting up email codes)"})
}
