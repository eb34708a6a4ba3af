package account

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/mfagate/mfagate"
)

// The use cases of the console and the JSON API: finding people, looking
// at their state, and the support actions. Each action takes the staff
// member (or API token) as the actor and a reason, is audited, and emails
// the person where it changes their account.

// SearchPeople finds accounts for the console; Locked is judged now.
func (s *Service) SearchPeople(ctx context.Context, f mfagate.PeopleFilter) ([]*mfagate.PersonSummary, error) {
	f.Now = s.now()
	var out []*mfagate.PersonSummary
	err := s.store.View(ctx, func(tx mfagate.Tx) (err error) {
		out, err = tx.SearchPeople(f)
		return err
	})
	return out, err
}

// Progress counts enabled accounts by role and MFA state.
func (s *Service) Progress(ctx context.Context) ([]*mfagate.ProgressRow, error) {
	var out []*mfagate.ProgressRow
	err := s.store.View(ctx, func(tx mfagate.Tx) (err error) {
		out, err = tx.Progress()
		return err
	})
	return out, err
}

// CampaignStats counts each rollout campaign's emails by delivery state.
func (s *Service) CampaignStats(ctx context.Context) ([]mfagate.CampaignStat, error) {
	var out []mfagate.CampaignStat
	err := s.store.View(ctx, func(tx mfagate.Tx) (err error) {
		out, err = tx.CampaignStats()
		return err
	})
	return out, err
}

// AuditEvents lists audit events, newest first.
func (s *Service) AuditEvents(ctx context.Context, f mfagate.AuditFilter) ([]*mfagate.AuditEvent, error) {
	var out []*mfagate.AuditEvent
	err := s.store.View(ctx, func(tx mfagate.Tx) (err error) {
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
		return "", mfagate.Errorf(mfagate.EINVALID, "Keep the reason to %d characters or fewer", MaxReason)
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
	if err := s.store.Update(ctx, func(tx mfagate.Tx) error {
		return s.audit(tx, mfagate.AuditEvent{Kind: kind, Outcome: mfagate.OutcomeDenied, Actor: by.Name,
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
	err = s.update(ctx, func(tx mfagate.Tx, end *ended) error {
		u, err := tx.UserByUsername(username)
		if err != nil {
			return err
		}
		if n, err = end.userSessions(tx, u.ID, nil); err != nil {
			return err
		}
		if err := s.notify(tx, u, sessionsEnded, by); err != nil {
			return err
		}
		return s.audit(tx, mfagate.AuditEvent{Kind: mfagate.AuditSessionRevoked, Outcome: mfagate.OutcomeSuccess,
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
			sent, err := s.SendCode(ctx, cur, purpose, pending.Address, by)
			if err != nil {
				return nil, err
			}
			return sent, s.store.Update(ctx, func(tx mfagate.Tx) error {
				return s.audit(tx, mfagate.AuditEvent{Kind: mfagate.AuditCodeSent, Outcome: mfagate.OutcomeSuccess,
					Actor: by.Name, Subject: u.Username, ClientAddr: by.ClientAddr, Reason: reason, Detail: "resent by staff to " + sent.Address})
			})
		}
	}
	return nil, mfagate.Errorf(mfagate.ENOTFOUND, "%s is not waiting for an email code: they need to sign in first", u.Username)
}

// CreateToken makes an API token and returns it once, in plain text; only
// its hash is kept.
func (s *Service) CreateToken(ctx context.Context, by Actor, name, role string) (string, *mfagate.Token, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 64 || !usernameRE.MatchString(name) {
		return "", nil, mfagate.Errorf(mfagate.EINVALID, "Name the token with up to 64 letters, numbers and . _ @ + -, such as helpdesk-bot")
	}
	if role != mfagate.RoleOperator && role != mfagate.RoleSupport {
		return "", nil, mfagate.Errorf(mfagate.EINVALID, "A token's role is operator or support, not %q", role)
	}
	raw := make([]byte, 32)
	if _, err := io.ReadFull(s.rand, raw); err != nil {
		return "", nil, fmt.Errorf("make token: %w", err)
	}
	plain := "mfag_" + base64.RawURLEncoding.EncodeToString(raw)
	h := sha256.Sum256([]byte(plain))
	t := &mfagate.Token{Name: name, Role: role, Hash: h[:], CreatedAt: s.now()}
	err := s.store.Update(ctx, func(tx mfagate.Tx) error {
		if err := tx.CreateToken(t); err != nil {
			return err
		}
		return s.audit(tx, mfagate.AuditEvent{Kind: AuditTokenCreate, Outcome: mfagate.OutcomeSuccess,
			Actor: by.Name, Subject: "token " + name, ClientAddr: by.ClientAddr, Detail: "role " + role})
	})
	if err != nil {
		return "", nil, err
	}
	return plain, t, nil
}

// Audit kinds of tokens.
const (
	AuditTokenCreate = "token.create"
	AuditTokenRevoke = "token.revoke"
)

// Tokens lists the API tokens, without their secrets.
func (s *Service) Tokens(ctx context.Context) ([]*mfagate.Token, error) {
	var out []*mfagate.Token
	err := s.store.View(ctx, func(tx mfagate.Tx) (err error) {
		out, err = tx.Tokens()
		return err
	})
	return out, err
}

// RevokeToken stops the named token from working.
func (s *Service) RevokeToken(ctx context.Context, by Actor, name string) error {
	return s.store.Update(ctx, func(tx mfagate.Tx) error {
		if err := tx.RevokeToken(name, s.now()); err != nil {
			return err
		}
		return s.audit(tx, mfagate.AuditEvent{Kind: AuditTokenRevoke, Outcome: mfagate.OutcomeSuccess,
			Actor: by.Name, Subject: "token " + name, ClientAddr: by.ClientAddr})
	})
}

// ErrBadToken is the answer for a missing, unknown or revoked token.
var ErrBadToken = mfagate.Errorf(mfagate.EUNAUTHORIZED, "A valid API token is required")

// AuthenticateToken returns the token a bearer value names, if it is valid.
func (s *Service) AuthenticateToken(ctx context.Context, plain string) (*mfagate.Token, error) {
	if !strings.HasPrefix(plain, "mfag_") || len(plain) != 48 {
		return nil, ErrBadToken
	}
	h := sha256.Sum256([]byte(plain))
	var t *mfagate.Token
	err := s.store.View(ctx, func(tx mfagate.Tx) (err error) {
		t, err = tx.TokenByHash(h[:])
		return err
	})
	if mfagate.ErrorCode(err) == mfagate.ENOTFOUND || (err == nil && !t.RevokedAt.IsZero()) {
		return nil, ErrBadToken
	}
	if err != nil {
		return nil, err
	}
	now := s.now()
	if now.Sub(t.LastUsedAt) >= touchEvery {
		if err := s.store.Update(ctx, func(tx mfagate.Tx) error { return tx.TouchToken(t.ID, now) }); err != nil {
			return nil, err
		}
		t.LastUsedAt = now
	}
	return t, nil
}
