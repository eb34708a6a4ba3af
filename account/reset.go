package account

import (
	"cmp"
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mfagate/mfagate"
)

// Forgotten passwords: a person gives their username or email address and
// is emailed a single-use link (links.go follows it). The answer is the
// same whether or not an account exists, and so is the work behind it:
// the same store calls in the same order, a token made either way, only
// the link and its email written for a real account. The mail goes
// through the outbox, so the answer never waits on a mail server.
//
// Asking is throttled as a sign-in is, atomically, by holding throttle
// keys: per account (or per name nobody has, counted alike), at most one
// link per ResetCooldown and ResetsPerHour in an hour; per client
// address, ResetsPerAddress in an hour. A request over the account's
// limit gets the same answer as any other and sends nothing (the link
// sent moments ago still works); only the address's limit is told, as it
// says nothing about any account.

// Limits of asking for password resets.
const (
	ResetCooldown    = 2 * time.Minute // between two links for one account
	ResetsPerHour    = 5               // links for one account in an hour
	ResetsPerAddress = 20              // requests from one client address in an hour
)

// maxSharedAddress bounds the accounts one email lists when several share
// the address asked for.
const maxSharedAddress = 10

// ErrResetsFromAddress is the answer once a client address has asked for
// ResetsPerAddress resets in an hour.
var ErrResetsFromAddress = mfagate.Errorf(mfagate.ETHROTTLED,
	"There have been too many requests to reset a password from your network in the last hour. Try again later, or contact your support team")

// ResetFor says how long a reset link works, for pages to tell.
func (s *Service) ResetFor() string { return humanDuration(s.resetTTL) }

// ResetAgainAfter says how long after one link another can be sent, for
// pages to tell.
func (s *Service) ResetAgainAfter() string { return humanDuration(ResetCooldown) }

// forgotten is whom a request for a reset names, as read before the
// transaction that answers it (which holds the throttle keys first, then
// the person's row: doc.go).
type forgotten struct {
	key    string          // the account's throttle key
	userID int64           // the one account named; 0 for none or several
	shared []*mfagate.User // several enabled accounts sharing the address asked for
}

// ForgotPassword emails a link to choose a new password to the account
// who names: a username or, when no account has that username and who
// looks like an address, the email address of one. Nobody is told
// whether the account exists: an unknown name, a disabled account and a
// request over the limits all get the same nil as a link on its way.
// When several enabled accounts share the address, one email to it names
// them and asks to try again with a username. EINVALID for empty or
// unreadable input; ErrResetsFromAddress past the client address's limit.
func (s *Service) ForgotPassword(ctx context.Context, who string, c Actor) error {
	who = strings.TrimSpace(who)
	switch {
	case who == "":
		return mfagate.Errorf(mfagate.EINVALID, "Enter your username or email address")
	case len(who) > MaxUsernameBytes:
		return mfagate.Errorf(mfagate.EINVALID, "The username or email address is too long")
	case !utf8.ValidString(who):
		return mfagate.Errorf(mfagate.EINVALID, "The username or email address contains characters that cannot be used")
	}
	var f forgotten
	if err := s.view(ctx, func(tx *txn) (err error) {
		f, err = s.whoForgot(tx, who)
		return err
	}); err != nil {
		return err
	}
	// Made for everyone, used only for a real account.
	token, hash, err := s.linkToken()
	if err != nil {
		return err
	}
	return s.update(ctx, func(tx *txn) error {
		refused, err := s.admitReset(tx, f.key, c, tx.now)
		if err != nil {
			return err
		}
		u, err := tx.UserByID(f.userID) // held from here; 0 (nobody) is not found
		if mfagate.ErrorCode(err) == mfagate.ENOTFOUND {
			u, err = nil, nil
		}
		if err != nil {
			return err
		}
		ev := mfagate.AuditEvent{Kind: mfagate.AuditResetAsk, Outcome: mfagate.OutcomeFailure,
			Actor: ActorAnonymous, ClientAddr: c.ClientAddr}
		if u != nil {
			ev.Subject = u.Username
		}
		switch {
		case refused != "":
			ev.Detail = "nothing sent: " + refused
		case len(f.shared) > 0:
			names := make([]string, len(f.shared))
			for i, o := range f.shared {
				names[i] = o.Username
			}
			if err := tx.EnqueueMail(s.sharedAddressMail(f.shared, tx.now)); err != nil {
				return err
			}
			ev.Outcome = mfagate.OutcomeSuccess
			ev.Detail = "asked by an address several accounts share: their usernames emailed to it (" + strings.Join(names, ", ") + ")"
		case u == nil:
			ev.Detail = "nothing sent: no account has that username or address"
		case u.Disabled:
			ev.Detail = "nothing sent: the account is disabled"
		default:
			l := &mfagate.Link{UserID: u.ID, Purpose: mfagate.LinkReset, Hash: hash,
				CreatedAt: tx.now, ExpiresAt: tx.now.Add(s.resetTTL)}
			if err := tx.CreateLink(l); err != nil {
				return err
			}
			if err := tx.EnqueueMail(s.resetMail(u, token, l.ExpiresAt, c, tx.now)); err != nil {
				return err
			}
			ev.Outcome = mfagate.OutcomeSuccess
			ev.Detail = "a reset link emailed, working for " + humanDuration(s.resetTTL)
		}
		return tx.audit(ev)
	})
}

// whoForgot finds the account who names, reading without holding: by
// username, and, when who looks like an address, by email address too
// (both lookups whatever the first finds, so that the work does not
// depend on it). A username wins over an address.
func (s *Service) whoForgot(tx *txn, who string) (forgotten, error) {
	f := forgotten{key: mfagate.ResetThrottleKey(who)}
	u, err := tx.UserByUsername(who)
	switch {
	case mfagate.ErrorCode(err) == mfagate.ENOTFOUND:
		u = nil
	case err != nil:
		return f, err
	}
	var byEmail []*mfagate.User
	if strings.Contains(who, "@") {
		all, err := tx.UsersByEmail(who, maxSharedAddress+1)
		if err != nil {
			return f, err
		}
		for _, o := range all {
			if !o.Disabled {
				byEmail = append(byEmail, o)
			}
		}
		if u == nil && len(byEmail) == 0 && len(all) > 0 {
			u = all[0] // only disabled accounts: counted as that account, sent nothing
		}
	}
	switch {
	case u != nil:
	case len(byEmail) == 1:
		u = byEmail[0]
	case len(byEmail) > 1:
		f.shared = byEmail[:min(len(byEmail), maxSharedAddress)]
		return f, nil
	default:
		return f, nil
	}
	f.key, f.userID = mfagate.ResetThrottleKey(u.Username), u.ID
	return f, nil
}

// admitReset admits one request for a reset under the account's key, then
// the client address's (doc.go's order). It returns why the account's
// limit refused it ("" when admitted), and ErrResetsFromAddress past the
// address's limit (the transaction then rolls back, counting nothing).
func (s *Service) admitReset(tx mfagate.Throttles, key string, c Actor, now time.Time) (string, error) {
	refused, err := s.admitCapped(tx, key, ResetCooldown, ResetsPerHour, now)
	if err != nil {
		return "", err
	}
	if c.ClientAddr == "" {
		return refused, nil
	}
	over, err := s.admitCapped(tx, mfagate.ResetAddressThrottleKey(clientBlock(c.ClientAddr)), 0, ResetsPerAddress, now)
	if err != nil {
		return "", err
	}
	if over != "" {
		return "", ErrResetsFromAddress
	}
	return refused, nil
}

// admitCapped admits one request under key, holding it, when the latest
// one admitted is at least cooldown old and fewer than perHour were
// admitted in the run; a run ends an hour after its latest request, so
// no hour ever holds more than perHour. It returns why it refused ("" when
// admitted), counting nothing then.
func (s *Service) admitCapped(tx mfagate.Throttles, key string, cooldown time.Duration, perHour int, now time.Time) (string, error) {
	run, err := s.newRun()
	if err != nil {
		return "", err
	}
	if started, err := tx.StartThrottle(key, run, now); started || err != nil {
		return "", err
	}
	th, err := tx.HoldThrottle(key)
	if err != nil {
		return "", err
	}
	since := now.Sub(th.LastFailureAt)
	if th.Failures > 0 && (since >= time.Hour || since < -clockTolerance) {
		th.Failures = 0 // the run has faded (or was stamped by a clock far ahead)
	}
	if th.Failures == 0 || th.Run == 0 {
		th.Run = run
	}
	switch {
	case th.Failures > 0 && since < cooldown:
		return "a link was sent less than " + humanDuration(cooldown) + " ago", nil
	case th.Failures >= perHour:
		return fmt.Sprintf("%d asked for within the hour, the most allowed", th.Failures), nil
	}
	th.Failures, th.LastFailureAt = th.Failures+1, now
	return "", tx.SaveThrottle(th)
}

// resetEmailText is the email with a reset link. It says what the link is
// for, how long it works, and that ignoring it changes nothing.
const resetEmailText = `Hello %s,

Someone asked to reset the password of your %s account %s%s.

To choose a new password, open this link:

%s

The link works once, until %s (%s after it was sent). If you use a second step to sign in, such as a security code, you will still be asked for it after choosing your password.

If you did not ask for this, ignore this email: your password has not changed, and the link stops working by itself.

We only send you a link when you or your organisation asked for one. We never ask for your password or a security code by email.%s
`

func (s *Service) resetMail(u *mfagate.User, token string, expires time.Time, c Actor, now time.Time) *mfagate.Message {
	from := ""
	if c.ClientAddr != "" {
		from = " from the address " + c.ClientAddr
	}
	text := fmt.Sprintf(resetEmailText, cmp.Or(u.Name, u.Username), s.product, u.Username, from,
		s.linkURL(mfagate.LinkReset, token), s.when(expires), humanDuration(s.resetTTL), s.contactLine())
	// To the address sign-in codes go to: one set by staff and not yet
	// confirmed is no way in by itself.
	return &mfagate.Message{To: u.CodeAddress(), Subject: fmt.Sprintf("Choose a new password for %s", s.product),
		Text: text, CreatedAt: now, Priority: mfagate.MailSecurity, Secret: true, UserID: u.ID, ExpiresAt: expires}
}

// sharedAddressEmailText answers a reset asked by an address several
// accounts share: which link would be meant is not known, so it names
// them and sends none.
const sharedAddressEmailText = `Hello,

Someone asked to reset a password for the email address %s. These %s accounts use that address:

%s
To choose a new password for one of them, ask again with its username: %s

If you did not ask for this, ignore this email: no password has changed.%s
`

func (s *Service) sharedAddressMail(us []*mfagate.User, now time.Time) *mfagate.Message {
	var list strings.Builder
	for _, u := range us {
		fmt.Fprintf(&list, "  %s\n", u.Username)
	}
	text := fmt.Sprintf(sharedAddressEmailText, us[0].Email, s.product, list.String(),
		strings.TrimSuffix(s.siteURL, "/")+"/login/forgot", s.contactLine())
	return &mfagate.Message{To: us[0].Email, Subject: fmt.Sprintf("Your %s accounts", s.product),
		Text: text, CreatedAt: now, Priority: mfagate.MailSecurity}
}

// contactLine names the support team at the end of an email, where
// there is one to name.
func (s *Service) contactLine() string {
	var ways []string
	if s.support.Email != "" {
		ways = append(ways, s.support.Email)
	}
	if s.support.Phone != "" {
		ways = append(ways, s.support.Phone)
	}
	if len(ways) == 0 {
		return ""
	}
	return "\n\nQuestions? Contact your support team: " + strings.Join(ways, " or ") + "."
}
