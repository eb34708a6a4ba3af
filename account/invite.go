package account

import (
	"context"
	"fmt"
	"strings"
	"text/template"
	"time"

	"github.com/mfagate/mfagate"
)

// Invitations: a new account is made without a password and its person
// emailed a link to choose one (links.go follows it). Staff can send the
// link again, which voids the old one, or revoke it. Until they accept,
// the person counts as invited in the rollout's groups, and the rollout's
// notices tell them their account is waiting rather than to sign in as
// usual.

// linkMail is an email carrying a link: an invitation or a password
// reset. Its text is removed from the outbox once delivered (Secret), and
// it is not sent once the link has expired.
type linkMail struct {
	subject  string
	body     *template.Template
	priority int
}

// linkData is what link mail templates can use.
type linkData struct {
	Name, Username, Link, Until, Lasts string
	Product, SiteURL                   string
	Support                            Contacts
}

// linkFooter closes every link mail: why it came, and whom to ask.
const linkFooter = `
If you were not expecting this email, you can ignore it: nothing happens unless the link is used. Questions go to your support team{{with .Support.Email}}: {{.}}{{end}}{{with .Support.Phone}}{{if $.Support.Email}} or{{else}}:{{end}} {{.}}{{end}}{{with .Support.Hours}} ({{.}}){{end}}.

This email was sent by {{.Product}}. It will never ask you for your password or a security code.
`

func newLinkMail(subject, body string, priority int) linkMail {
	return linkMail{subject: subject, body: template.Must(template.New(subject).Parse(body + linkFooter)), priority: priority}
}

// invitation goes out after security mail and before campaigns: a large
// import must not hold up anyone's sign-in code.
var invitation = newLinkMail("Set up your account", `Hello {{.Name}},

An account has been made for you{{with .SiteURL}} at {{.}}{{end}}. Your username is {{.Username}}.

To start using it, choose your password here:
{{.Link}}

The link works once, for {{.Lasts}} (until {{.Until}}). If it has expired, get a new one with "Forgotten your password?" on the sign-in page{{with .SiteURL}} ({{.}}/login/forgot){{end}}, or ask your support team.
After choosing your password you may be asked to set up a second step for signing in, such as a code from an app on your phone. It takes about two minutes.
`, mfagate.MailAccount)

// InviteLasts says how long an invitation's link works, for pages.
func (s *Service) InviteLasts() string { return humanDuration(s.inviteTTL) }

// sendLink queues m for u with the link of purpose and token, lasting
// until expires.
func (s *Service) sendLink(tx *txn, u *mfagate.User, m linkMail, purpose, token string, expires time.Time) error {
	d := linkData{Name: u.Name, Username: u.Username, Link: s.linkURL(purpose, token), Until: s.when(expires),
		Lasts: humanDuration(expires.Sub(tx.now)), Product: s.product, SiteURL: strings.TrimSuffix(s.siteURL, "/"), Support: s.support}
	var b strings.Builder
	if err := m.body.Execute(&b, d); err != nil {
		return fmt.Errorf("write %q email: %w", m.subject, err)
	}
	msg := &mfagate.Message{To: u.CodeAddress(), Subject: m.subject, Text: b.String(), CreatedAt: tx.now,
		Priority: m.priority, UserID: u.ID, Secret: true, ExpiresAt: expires}
	if err := tx.EnqueueMail(msg); err != nil {
		return fmt.Errorf("queue %q email: %w", m.subject, err)
	}
	return nil
}

// invite makes u's invitation link and queues the email, in tx: a new
// account being created, or an invitation sent again.
func (s *Service) invite(tx *txn, u *mfagate.User) error {
	token, l, err := s.newLink(tx, u, mfagate.LinkInvite, s.inviteTTL)
	if err != nil {
		return err
	}
	return s.sendLink(tx, u, invitation, mfagate.LinkInvite, token, l.ExpiresAt)
}

// addressFree refuses to invite someone at an address another account
// already has: the invitation would reach whoever holds that account, and
// a forgotten password asked for by address could not tell them apart.
func addressFree(tx *txn, u *mfagate.User) error {
	if err := claimAddress(tx, u.Email); err != nil {
		return err
	}
	others, err := tx.UsersByEmail(u.Email, 2)
	if err != nil {
		return err
	}
	for _, o := range others {
		if o.ID != u.ID {
			return mfagate.Errorf(mfagate.ECONFLICT,
				"The address %s is already used by the account %s: an invitation must go to an address of its own", u.Email, o.Username)
		}
	}
	// Another's address before an unconfirmed change: their codes go there.
	taken, err := tx.EmailInUse(u.Email, u.ID)
	if err != nil {
		return err
	}
	if taken {
		return mfagate.Errorf(mfagate.ECONFLICT,
			"The address %s is still where another account's security codes go: an invitation must go to an address of its own", u.Email)
	}
	return nil
}

// claimAddress holds address until the transaction ends, on every
// replica, before it is checked and given: of two transactions giving one
// address to two accounts at once, the second waits and then finds it
// taken.
func claimAddress(tx mfagate.Throttles, address string) error {
	_, err := tx.HoldThrottle(mfagate.AddressClaimKey(address))
	return err
}

// Invitation is where a person's invitation stands, for the person page.
type Invitation struct {
	SentAt    time.Time // when the latest was sent
	ExpiresAt time.Time // when its link stops working
}

// Expired reports whether the latest invitation's link no longer works at
// now: a new one must be sent.
func (i *Invitation) Expired(now time.Time) bool { return !now.Before(i.ExpiresAt) }

// PendingInvitation returns the person's invitation not yet accepted; nil
// when they have none (never invited, accepted, or revoked).
func (s *Service) PendingInvitation(ctx context.Context, u *mfagate.User) (*Invitation, error) {
	if !u.Invited() {
		return nil, nil
	}
	inv := &Invitation{SentAt: u.InvitedAt}
	err := s.view(ctx, func(tx *txn) error {
		l, err := tx.LatestLink(u.ID, mfagate.LinkInvite)
		if mfagate.ErrorCode(err) == mfagate.ENOTFOUND {
			inv.ExpiresAt = u.InvitedAt // gone: treat as expired
			return nil
		}
		if err == nil {
			inv.ExpiresAt = l.ExpiresAt
		}
		return err
	})
	return inv, err
}

// Reinvite sends a person a new invitation, voiding the old link, for
// someone whose link expired or whose email went astray. Only for people
// who have not chosen a password yet: ECONFLICT for the others, who use
// "forgotten your password" instead. Staff accounts only at the server.
func (s *Service) Reinvite(ctx context.Context, by Actor, username, reason string) error {
	return s.changeInvitation(ctx, by, username, reason, "invited", func(tx *txn, u *mfagate.User) (string, error) {
		switch {
		case u.Disabled:
			return "", mfagate.Errorf(mfagate.ECONFLICT, "%s's account is disabled: enable it before inviting them", u.Username)
		case u.PasswordHash != "":
			return "", mfagate.Errorf(mfagate.ECONFLICT,
				"%s has already chosen a password, so there is nothing to accept. If they have forgotten it, they can use \"Forgotten your password?\" on the sign-in page", u.Username)
		}
		if err := addressFree(tx, u); err != nil {
			return "", err
		}
		u.InvitedAt = tx.now
		if err := tx.UpdateUser(u); err != nil {
			return "", err
		}
		return "invitation sent again to " + u.Email + "; the earlier link no longer works", s.invite(tx, u)
	})
}

// RevokeInvite withdraws a person's invitation: its link stops working at
// once and they no longer count as invited. ECONFLICT when there is none.
func (s *Service) RevokeInvite(ctx context.Context, by Actor, username, reason string) error {
	return s.changeInvitation(ctx, by, username, reason, "changed", func(tx *txn, u *mfagate.User) (string, error) {
		if !u.Invited() {
			return "", mfagate.Errorf(mfagate.ECONFLICT, "%s has no invitation waiting to be accepted", u.Username)
		}
		u.InvitedAt = time.Time{}
		if err := tx.UpdateUser(u); err != nil {
			return "", err
		}
		_, err := tx.DeleteLinks(u.ID, mfagate.LinkInvite)
		return "invitation revoked; its link no longer works", err
	})
}

// changeInvitation runs change on the person's account, held, and audits
// what it did (the detail it returns) with the staff member and reason.
// Staff accounts are changed only at the server (what is guardStaff's
// verb).
func (s *Service) changeInvitation(ctx context.Context, by Actor, username, reason, what string,
	change func(tx *txn, u *mfagate.User) (string, error)) error {
	if err := s.guardStaff(ctx, by, username, mfagate.AuditInvite, what); err != nil {
		return err
	}
	reason, err := inviteReason(reason)
	if err != nil {
		return err
	}
	return s.update(ctx, func(tx *txn) error {
		u, err := tx.UserByUsername(username)
		if err != nil {
			return err
		}
		detail, err := change(tx, u)
		if err != nil {
			return err
		}
		return tx.audit(mfagate.AuditEvent{Kind: mfagate.AuditInvite, Outcome: mfagate.OutcomeSuccess, Actor: by.Name,
			Subject: u.Username, ClientAddr: by.ClientAddr, Reason: reason, Detail: detail})
	})
}

// inviteReason is the optional reason for sending an invitation again or
// revoking it, bounded as other reasons are.
func inviteReason(reason string) (string, error) {
	reason = strings.TrimSpace(reason)
	if len([]rune(reason)) > MaxReason {
		return "", mfagate.Errorf(mfagate.EINVALID, "Keep the reason to %s or fewer", mfagate.Plural(MaxReason, "character", "characters"))
	}
	return reason, nil
}
