package account

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/password"
	"github.com/mfagate/mfagate/rollout"
)

// Links: the single-use links emailed to choose a password, an invitation
// to a new account (invite.go) or the reset of a forgotten password
// (reset.go), and what following one does. A link carries 256 random bits;
// the store keeps only their SHA-256. Following a link proves the person
// reads that mailbox, nothing more: it sets the password and starts a
// session exactly as a sign-in with that password would, so whoever has a
// second factor must still pass it.

// Default lifetimes of links (Options.InviteTTL, Options.ResetTTL).
const (
	DefaultInviteTTL = 7 * 24 * time.Hour
	DefaultResetTTL  = 30 * time.Minute
)

// ErrLinkDead is the one answer for a link that has expired, was used or
// replaced by a newer one, was tampered with, or never existed: which of
// them it was is not told.
var ErrLinkDead = mfagate.Errorf(mfagate.ENOTFOUND,
	"This link has expired or was already used. Ask for a new one")

const linkTokenBytes = 32

// LinkPath is the path of the page a link of purpose opens.
func LinkPath(purpose, token string) string {
	if purpose == mfagate.LinkInvite {
		return "/invite/" + token
	}
	return "/reset/" + token
}

// linkURL is the link itself, as an email gives it.
func (s *Service) linkURL(purpose, token string) string {
	return strings.TrimSuffix(s.siteURL, "/") + LinkPath(purpose, token)
}

// newLink makes a link of purpose for u, lasting ttl from the
// transaction's now, voiding u's earlier one of that purpose, and returns
// its token.
func (s *Service) newLink(tx *txn, u *mfagate.User, purpose string, ttl time.Duration) (string, *mfagate.Link, error) {
	token, hash, err := s.linkToken()
	if err != nil {
		return "", nil, err
	}
	l := &mfagate.Link{UserID: u.ID, Purpose: purpose, Hash: hash, CreatedAt: tx.now, ExpiresAt: tx.now.Add(ttl)}
	if err := tx.CreateLink(l); err != nil {
		return "", nil, err
	}
	return token, l, nil
}

// linkToken makes a new link's token and the hash the store keeps.
func (s *Service) linkToken() (string, []byte, error) {
	raw := make([]byte, linkTokenBytes)
	if _, err := io.ReadFull(s.rand, raw); err != nil {
		return "", nil, fmt.Errorf("make a link's token: %w", err)
	}
	sum := sha256.Sum256(raw)
	return base64.RawURLEncoding.EncodeToString(raw), sum[:], nil
}

// linkHash is the stored hash of a link's token; false for anything that
// is not one (wrong length, or characters a token never has).
func linkHash(token string) ([]byte, bool) {
	if len(token) != base64.RawURLEncoding.EncodedLen(linkTokenBytes) {
		return nil, false
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(token)
	if err != nil {
		return nil, false
	}
	sum := sha256.Sum256(raw)
	return sum[:], true
}

// Linked is what a link's page shows: whose it is, and until when it
// works.
type Linked struct {
	User      *mfagate.User
	ExpiresAt time.Time
}

// OpenLink checks a link of purpose for its page, without using it:
// opening a link (or a mail scanner fetching it) changes nothing.
// ErrLinkDead.
func (s *Service) OpenLink(ctx context.Context, purpose, token string) (*Linked, error) {
	var out *Linked
	err := s.view(ctx, func(tx *txn) error {
		l, u, err := liveLink(tx, purpose, token)
		if err == nil {
			out = &Linked{User: u, ExpiresAt: l.ExpiresAt}
		}
		return err
	})
	return out, err
}

// liveLink finds a usable link of purpose and its account, enabled.
// ErrLinkDead.
func liveLink(tx *txn, purpose, token string) (*mfagate.Link, *mfagate.User, error) {
	hash, ok := linkHash(token)
	if !ok {
		return nil, nil, ErrLinkDead
	}
	l, err := tx.LinkByHash(hash)
	if mfagate.ErrorCode(err) == mfagate.ENOTFOUND {
		return nil, nil, ErrLinkDead
	}
	if err != nil {
		return nil, nil, err
	}
	if l.Purpose != purpose || !l.Usable(tx.now) {
		return nil, nil, ErrLinkDead
	}
	u, err := tx.UserByID(l.UserID)
	if mfagate.ErrorCode(err) == mfagate.ENOTFOUND {
		return nil, nil, ErrLinkDead
	}
	if err != nil {
		return nil, nil, err
	}
	if u.Disabled {
		return nil, nil, ErrLinkDead
	}
	return l, u, nil
}

// ChoosePassword is following a link: the token it carries and the
// password chosen on its page.
type ChoosePassword struct {
	Purpose  string // mfagate.LinkInvite or mfagate.LinkReset
	Token    string
	Password string
	Client   Actor
	OldToken string // the browser's session before this, if any; it is ended
}

// ChoosePassword follows a link: it checks the password against the
// policy, uses the link (once: of two tries at once, on any replica, one
// wins), sets the password and starts a session at the step a sign-in
// with that password would reach, so a person with a second factor must
// still pass it. Following an invitation accepts it. A reset ends every
// other session, forgets wrong passwords (not wrong codes) and emails the
// person that the password changed.
// ErrLinkDead, or EINVALID for a password the policy refuses (the link
// then still works).
func (s *Service) ChoosePassword(ctx context.Context, in ChoosePassword) (*SignedIn, error) {
	linked, err := s.OpenLink(ctx, in.Purpose, in.Token)
	if err != nil {
		return nil, err
	}
	if len(in.Password) > password.MaxInputBytes {
		return nil, mfagate.Errorf(mfagate.EINVALID, "The password is too long")
	}
	if err := password.Check(in.Password, linked.User.Username, linked.User.Email); err != nil {
		return nil, err
	}
	h, err := s.hash(ctx, in.Password)
	if err != nil {
		return nil, err
	}
	token, sess, err := s.newSession(linked.User.ID, in.Client)
	if err != nil {
		return nil, err
	}
	var (
		u        *mfagate.User
		decision Decision
	)
	err = s.update(ctx, func(tx *txn) error {
		l, fresh, err := liveLink(tx, in.Purpose, in.Token)
		if err != nil {
			return err
		}
		if err := tx.UseLink(l.ID, tx.now); mfagate.ErrorCode(err) == mfagate.ENOTFOUND {
			return ErrLinkDead
		} else if err != nil {
			return err
		}
		u = fresh
		u.PasswordHash = h
		// Choosing a password accepts an invitation, whichever link it
		// came by: an invited person who asked for a reset link instead.
		u.InvitedAt = time.Time{}
		if _, err := tx.DeleteLinks(u.ID, mfagate.LinkInvite); err != nil {
			return err
		}
		kind, detail := mfagate.AuditPasswordReset, "a new password chosen with a reset link"
		if in.Purpose == mfagate.LinkInvite {
			kind, detail = mfagate.AuditInviteAccept, "the invitation accepted and a first password chosen"
		}
		if err := tx.UpdateUser(u); err != nil {
			return err
		}
		if in.Purpose == mfagate.LinkReset {
			// A reset link is also a way in for whoever reads the
			// mailbox: nobody stays signed in with the old password.
			if _, err := tx.end.userSessions(tx, u.ID, nil); err != nil {
				return err
			}
			if _, err := tx.DeleteLinks(u.ID, mfagate.LinkReset); err != nil {
				return err
			}
			// Wrong passwords were guesses at the old one, which is gone:
			// a lock they set would only keep the owner out. Wrong codes
			// stay counted, and their lock holds.
			if err := tx.ClearThrottle(mfagate.PasswordThrottleKey(u.Username)); err != nil {
				return err
			}
			if err := s.notify(tx, tx.now, u, passwordChanged, in.Client); err != nil {
				return err
			}
		} else if in.OldToken != "" {
			if old, ok := s.tokenHash(in.OldToken); ok {
				if err := tx.end.session(tx, old); err != nil {
					return err
				}
			}
		}
		factors, err := tx.UserFactors(u.ID)
		if err != nil {
			return err
		}
		decision = s.step(u, factors, nil)
		if err := s.markShown(tx, u, decision); err != nil {
			return err
		}
		sess.CreatedAt, sess.LastSeenAt = tx.now, tx.now
		if decision.Outcome != rollout.Allow {
			sess.Stage = mfagate.StagePassword
		}
		if err := tx.RecordSignIn(u.ID, tx.now, ""); err != nil {
			return err
		}
		u.LastSignInAt = tx.now
		if err := tx.CreateSession(sess); err != nil {
			return err
		}
		return tx.audit(mfagate.AuditEvent{
			Kind: kind, Outcome: mfagate.OutcomeSuccess, Actor: u.Username, Subject: u.Username,
			ClientAddr: in.Client.ClientAddr, Detail: detail,
		})
	})
	if err != nil {
		return nil, err
	}
	s.counts.next(decision)
	return &SignedIn{User: u, Session: sess, Token: token, Next: decision,
		Device: s.deviceToken(u.Username, sess.CreatedAt.Add(DeviceFor))}, nil
}
