package sqlstore

import (
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/mfagate/mfagate"
)

var _ mfagate.Tokens = (*tx)(nil)

const tokenColumns = `id, name, role, hash, created_at, last_used_at, revoked_at`

// CreateToken inserts t and sets t.ID; see mfagate.Tokens.
func (t *tx) CreateToken(tok *mfagate.Token) error {
	// ON CONFLICT DO NOTHING, as in CreateUser, so that a taken name does
	// not abort a PostgreSQL transaction. A hash that is taken (a token
	// generated twice) still fails the statement: it cannot happen by
	// chance, and reporting it as a taken name would mislead.
	id, ok, err := t.insertID(`INSERT INTO api_tokens (name, role, hash, created_at, last_used_at, revoked_at)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (name) DO NOTHING
		RETURNING id`,
		tok.Name, tok.Role, tok.Hash, millis(tok.CreatedAt), millis(tok.LastUsedAt), millis(tok.RevokedAt))
	if err != nil {
		return fmt.Errorf("create token %q: %w", tok.Name, err)
	}
	if !ok {
		return mfagate.Errorf(mfagate.ECONFLICT, "a token named %q already exists", tok.Name)
	}
	tok.ID = id
	return nil
}

// TokenByHash returns the token with that hash, revoked or not; see
// mfagate.Tokens.
func (t *tx) TokenByHash(hash []byte) (*mfagate.Token, error) {
	tok, err := scanToken(t.queryRow(`SELECT `+tokenColumns+` FROM api_tokens WHERE hash = ?`, hash))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, mfagate.Errorf(mfagate.ENOTFOUND, "token not found")
	}
	if err != nil {
		return nil, fmt.Errorf("get token: %w", err)
	}
	return tok, nil
}

// Tokens lists every token, oldest first; see mfagate.Tokens.
func (t *tx) Tokens() ([]*mfagate.Token, error) {
	rows, err := t.query(`SELECT ` + tokenColumns + ` FROM api_tokens ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	var toks []*mfagate.Token
	for rows.Next() {
		tok, err := scanToken(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("list tokens: %w", err)
		}
		toks = append(toks, tok)
	}
	if err := closeRows(rows); err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	return toks, nil
}

// RevokeToken marks the named token revoked; see mfagate.Tokens. Revoking a
// revoked token keeps the first time.
func (t *tx) RevokeToken(name string, at time.Time) error {
	n, err := t.execCount(`UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE name = ?`,
		millis(at), name)
	if err != nil {
		return fmt.Errorf("revoke token %q: %w", name, err)
	}
	if n == 0 {
		return mfagate.Errorf(mfagate.ENOTFOUND, "no token named %q", name)
	}
	return nil
}

// TouchToken records a use of the token; see mfagate.Tokens. A token that no
// longer exists is not an error: the use already happened.
func (t *tx) TouchToken(id int64, at time.Time) error {
	if _, err := t.exec(`UPDATE api_tokens SET last_used_at = ? WHERE id = ?`, millis(at), id); err != nil {
		return fmt.Errorf("touch token %d: %w", id, err)
	}
	return nil
}

func scanToken(sc scanner) (*mfagate.Token, error) {
	var (
		tok                    mfagate.Token
		created, used, revoked sql.NullInt64
	)
	if err := sc.Scan(&tok.ID, &tok.Name, &tok.Role, &tok.Hash, &created, &used, &revoked); err != nil {
		return nil, err
	}
	tok.CreatedAt, tok.LastUsedAt, tok.RevokedAt = fromMillis(created), fromMillis(used), fromMillis(revoked)
	return &tok, nil
}
