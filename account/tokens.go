package account

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"strings"

	"github.com/mfagate/mfagate"
)

// API tokens: programs (a help desk's tools, scripts) call the JSON API
// with a bearer token made here, which carries one staff role. Only a hash
// of each token is kept; the plain value is shown once, when it is made.

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
	t := &mfagate.Token{Name: name, Role: role, Hash: h[:]}
	err := s.update(ctx, func(tx *txn) error {
		t.CreatedAt = tx.now
		if err := tx.CreateToken(t); err != nil {
			return err
		}
		return tx.audit(mfagate.AuditEvent{Kind: AuditTokenCreate, Outcome: mfagate.OutcomeSuccess,
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
	err := s.view(ctx, func(tx *txn) (err error) {
		out, err = tx.Tokens()
		return err
	})
	return out, err
}

// RevokeToken stops the named token from working.
func (s *Service) RevokeToken(ctx context.Context, by Actor, name string) error {
	return s.update(ctx, func(tx *txn) error {
		if err := tx.RevokeToken(name, tx.now); err != nil {
			return err
		}
		return tx.audit(mfagate.AuditEvent{Kind: AuditTokenRevoke, Outcome: mfagate.OutcomeSuccess,
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
	err := s.view(ctx, func(tx *txn) (err error) {
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
		if err := s.update(ctx, func(tx *txn) error { return tx.TouchToken(t.ID, now) }); err != nil {
			return nil, err
		}
		t.LastUsedAt = now
	}
	return t, nil
}
