package account

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/emailcode"
)

// Sending email codes: at sign-in and to set up email codes, always to the
// registered address, with the cooldown and the hourly cap.

// CodeSent describes an email code on its way, for the page that asks
// for it.
type CodeSent struct {
	Address   string
	ExpiresAt time.Time
	SentAt    time.Time
	// NextSendAt is when another code may be sent; the page says so rather
	// than showing a countdown.
	NextSendAt time.Time
	// ResendNow reports that NextSendAt had passed when this was read: the
	// page then says a new code can be asked for now, not from a time
	// gone by.
	ResendNow bool
}

// codeEmail is the message that carries a code. It says what the code is
// for and how long it lasts; it never carries a link.
const codeEmailText = `Hello %s,

Your security code is: %s

Enter it on the page that asked for it %s. It works once, for %s.

If you did not ask for this code, someone may know your password: change it from your account page, or contact your support team%s.

Do not share this code with anyone. %s will never ask you for it by phone or email.
`

// SendCode emails a new code for this session, always to the person's
// registered address: purpose PurposeSignIn (they must have email codes
// set up), or PurposeSetup, to prove the address. A different address
// (any but "" or the registered one) is refused and audited: nobody who
// has only the password may have codes sent elsewhere, and changing the
// address is a change of its own. The previous code of the session stops
// working; its failed tries carry over. Codes are refused within the
// resend cooldown, beyond the hourly cap, and while the account's codes
// are locked, with a message saying when to try again. Requests at once,
// on any replica, take turns (the account's second-factor key is held),
// so the cooldown and the cap hold for them too.
func (s *Service) SendCode(ctx context.Context, cur *Current, purpose, address string, c Actor) (*CodeSent, error) {
	registered := cur.User.Email
	if purpose == mfagate.PurposeSignIn {
		registered = cur.User.CodeAddress()
	}
	if address = strings.TrimSpace(address); address != "" && !strings.EqualFold(address, registered) {
		if err := s.update(ctx, func(tx *txn) error {
			return tx.audit(mfagate.AuditEvent{Kind: mfagate.AuditCodeSent, Outcome: mfagate.OutcomeDenied,
				Actor: cur.User.Username, Subject: cur.User.Username, ClientAddr: c.ClientAddr,
				Detail: "purpose " + purpose + ": refused to send a code to an address that is not the registered one"})
		}); err != nil {
			return nil, err
		}
		return nil, ErrOtherAddress
	}
	var sent *CodeSent
	err := s.update(ctx, func(tx *txn) error {
		now := tx.now
		th, err := tx.HoldThrottle(mfagate.FactorThrottleKey(cur.User.Username))
		if err != nil {
			return err
		}
		if th.LockedAt(now) {
			return ErrLocked
		}
		if err := s.stillLive(tx, cur); err != nil {
			return err
		}
		address := cur.User.Email
		switch purpose {
		case mfagate.PurposeSignIn:
			// The email factor's address: while an address set by staff
			// waits to be confirmed, still the one before (see
			// mfagate.User.CodeAddress).
			address = cur.User.CodeAddress()
			fs, err := tx.UserFactors(cur.User.ID)
			if err != nil {
				return err
			}
			if hasMethod(fs, mfagate.MethodEmail) == nil {
				return mfagate.Errorf(mfagate.EINVALID, "Email codes are not set up for your account")
			}
			if err := s.methodAllowed(cur, fs, mfagate.MethodEmail); err != nil {
				return err
			}
		case mfagate.PurposeSetup:
			// Only to set up email codes: not again once they are, and not
			// for someone with factors who has not just passed one.
			fs, err := tx.UserFactors(cur.User.ID)
			if err != nil {
				return err
			}
			if hasMethod(fs, mfagate.MethodEmail) != nil {
				return mfagate.Errorf(mfagate.ECONFLICT, "Email codes are already set up for your account")
			}
			if s.NeedsReauth(cur, fs) {
				return ErrReauth
			}
		default:
			return fmt.Errorf("send code: unknown purpose %q", purpose)
		}
		sent, err = s.issueCode(tx, cur, purpose, address, c)
		return err
	})
	return sent, err
}

// PendingCode returns the latest code sent for this session and purpose,
// or nil when none was sent, so a page can say where it went.
func (s *Service) PendingCode(ctx context.Context, cur *Current, purpose string) (*CodeSent, error) {
	var sent *CodeSent
	err := s.view(ctx, func(tx *txn) error {
		ec, err := tx.LatestEmailCode(cur.Session.Hash, purpose)
		if mfagate.ErrorCode(err) == mfagate.ENOTFOUND {
			return nil
		}
		if err != nil {
			return err
		}
		sent = &CodeSent{Address: ec.Address, ExpiresAt: ec.ExpiresAt, SentAt: ec.CreatedAt, NextSendAt: ec.CreatedAt.Add(s.mfa.ResendCooldown)}
		_, capEnds, err := s.hourlyCap(tx, cur.User.ID, tx.now)
		if err != nil {
			return err
		}
		if capEnds.After(sent.NextSendAt) {
			sent.NextSendAt = capEnds
		}
		sent.ResendNow = !tx.now.Before(sent.NextSendAt)
		return nil
	})
	return sent, err
}

// ErrOtherAddress refuses a code to an address that is not the
// registered one.
var ErrOtherAddress = mfagate.Errorf(mfagate.EFORBIDDEN,
	"Security codes can only be sent to the email address on your account. To use a different address, ask your support team to change it")

// CodeMinutes is how long an email code lasts, for pages to say.
func (s *Service) CodeMinutes() int { return int(s.mfa.CodeTTL.Minutes()) }

// hourlyCap returns how many codes were sent to the user in the hour
// before now and, when that is the most allowed, when the cap lets the
// next one through: an hour after the oldest that must leave the window
// (zero while it lets them through now).
func (s *Service) hourlyCap(tx *txn, userID int64, now time.Time) (int, time.Time, error) {
	times, err := tx.EmailCodeTimesSince(userID, now.Add(-time.Hour))
	if err != nil {
		return 0, time.Time{}, err
	}
	n := len(times)
	if n < s.mfa.HourlyCap {
		return n, time.Time{}, nil
	}
	// A code sent exactly an hour ago still counts (at or after since), so
	// the window lets the next through just after; pages name whole
	// seconds, so the time is the next whole second.
	ends := times[n-s.mfa.HourlyCap].Add(time.Hour + time.Millisecond)
	if t := ends.Truncate(time.Second); t.Before(ends) {
		ends = t.Add(time.Second)
	}
	return n, ends, nil
}

// issueCode makes a new code for the session and purpose, to address,
// with the account's resend cooldown and hourly cap, and queues the email
// that carries it. The caller holds the account's second-factor key and
// has checked that the session may have it sent there.
func (s *Service) issueCode(tx *txn, cur *Current, purpose, address string, c Actor) (*CodeSent, error) {
	now := tx.now
	// The cooldown is the account's, not the session's: sign-ins at once
	// in ten tabs get one code between them. (A sign-in code just after
	// the setup code is another matter: it is let through.)
	lastSent, err := tx.LastEmailCodeAt(cur.User.ID, purpose)
	if err != nil {
		return nil, err
	}
	if wait := emailcode.CanResend(lastSent, now, s.mfa.ResendCooldown); wait > 0 {
		return nil, mfagate.Errorf(mfagate.ETHROTTLED, "A code was sent moments ago. You can ask for a new one from %s",
			s.clockTime(now.Add(wait)))
	}
	failures := 0
	last, err := tx.LatestEmailCode(cur.Session.Hash, purpose)
	switch {
	case err == nil:
		failures = last.Failures
	case mfagate.ErrorCode(err) != mfagate.ENOTFOUND:
		return nil, err
	}
	n, capEnds, err := s.hourlyCap(tx, cur.User.ID, now)
	if err != nil {
		return nil, err
	}
	if !capEnds.IsZero() {
		return nil, mfagate.Errorf(mfagate.ETHROTTLED, "You have asked for %s in the last hour, the most allowed. You can ask for a new code from %s, or contact your support team",
			mfagate.Plural(n, "code", "codes"), s.clockTime(capEnds))
	}
	code, err := emailcode.Generate(s.rand)
	if err != nil {
		return nil, err
	}
	ec := &mfagate.EmailCode{
		UserID: cur.User.ID, SessionHash: cur.Session.Hash, Purpose: purpose, Address: address,
		Hash: emailcode.Hash(s.keys.emailCode, cur.Session.Hash, code), CreatedAt: now,
		ExpiresAt: now.Add(s.mfa.CodeTTL), Failures: failures,
	}
	if err := tx.CreateEmailCode(ec); err != nil {
		return nil, err
	}
	what := "to finish signing in"
	switch purpose {
	case mfagate.PurposeSetup:
		what = "to confirm this email address"
	case mfagate.PurposeAddress:
		what = "to make this the email address of your account " + cur.User.Username
	}
	contact := ""
	if s.support.Email != "" {
		contact = " at " + s.support.Email
	}
	m := &mfagate.Message{To: address, Subject: fmt.Sprintf("Your %s security code", s.product), CreatedAt: now,
		Text:   fmt.Sprintf(codeEmailText, cur.User.Name, code, what, humanDuration(s.mfa.CodeTTL), contact, s.product),
		Secret: true, Priority: mfagate.MailSecurity, UserID: cur.User.ID, ExpiresAt: ec.ExpiresAt}
	if err := tx.EnqueueMail(m); err != nil {
		return nil, err
	}
	return &CodeSent{Address: address, ExpiresAt: ec.ExpiresAt, SentAt: now, NextSendAt: now.Add(s.mfa.ResendCooldown)},
		tx.audit(mfagate.AuditEvent{Kind: mfagate.AuditCodeSent, Outcome: mfagate.OutcomeSuccess,
			Actor: cur.User.Username, Subject: cur.User.Username, ClientAddr: c.ClientAddr, Detail: "purpose " + purpose})
}
