package sqlstore

import (
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/mfagate/mfagate"
)

var _ mfagate.Links = (*tx)(nil)

const linkColumns = `id, user_id, purpose, hash, created_at, expires_at, used_at`

// CreateLink removes the user's earlier links of the purpose and inserts
// l; see mfagate.Links. Both happen in the caller's transaction, so no
// moment exists with two live links.
func (t *tx) CreateLink(l *mfagate.Link) error {
	if _, err := t.DeleteLinks(l.UserID, l.Purpose); err != nil {
		return fmt.Errorf("create link: %w", err)
	}
	id, _, err := t.insertID(`INSERT INTO links (user_id, purpose, hash, created_at, expires_at, used_at)
		VALUES (?, ?, ?, ?, ?, ?)
		RETURNING id`,
		l.UserID, l.Purpose, l.Hash, millis(l.CreatedAt), millis(l.ExpiresAt), millis(l.UsedAt))
	if err != nil {
		return fmt.Errorf("create link: %w", err)
	}
	l.ID = id
	return nil
}

// LinkByHash returns the link with that token hash; see mfagate.Links.
func (t *tx) LinkByHash(hash []byte) (*mfagate.Link, error) {
	return t.oneLink(`WHERE hash = ?`, hash)
}

// LatestLink returns the user's newest link of purpose; see mfagate.Links.
func (t *tx) LatestLink(userID int64, purpose string) (*mfagate.Link, error) {
	return t.oneLink(`WHERE user_id = ? AND purpose = ? ORDER BY id DESC LIMIT 1`, userID, purpose)
}

func (t *tx) oneLink(where string, args ...any) (*mfagate.Link, error) {
	var (
		l                      mfagate.Link
		created, expires, used sql.NullInt64
	)
	err := t.queryRow(`SELECT `+linkColumns+` FROM links `+where, args...).
		Scan(&l.ID, &l.UserID, &l.Purpose, &l.Hash, &created, &expires, &used)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, mfagate.Errorf(mfagate.ENOTFOUND, "link not found")
	}
	if err != nil {
		return nil, fmt.Errorf("get link: %w", err)
	}
	l.CreatedAt, l.ExpiresAt, l.UsedAt = fromMillis(created), fromMillis(expires), fromMillis(used)
	return &l, nil
}

// UseLink marks the link used when it is still usable; see mfagate.Links.
// The condition is in the UPDATE itself: of two uses at once, the second
// waits for the first's row lock and then no longer matches.
func (t *tx) UseLink(id int64, at time.Time) error {
	n, err := t.execCount(`UPDATE links SET used_at = ? WHERE id = ? AND used_at IS NULL AND expires_at > ?`,
		at.UnixMilli(), id, at.UnixMilli())
	if err != nil {
		return fmt.Errorf("use link %d: %w", id, err)
	}
	if n == 0 {
		return mfagate.Errorf(mfagate.ENOTFOUND, "the link was used, has expired or was replaced")
	}
	return nil
}

// DeleteLinks removes the user's links of purpose; see mfagate.Links.
func (t *tx) DeleteLinks(userID int64, purpose string) (int, error) {
	q, args := `DELETE FROM links WHERE user_id = ?`, []any{userID}
	if purpose != "" {
		q, args = q+` AND purpose = ?`, append(args, purpose)
	}
	n, err := t.execCount(q, args...)
	if err != nil {
		return 0, fmt.Errorf("delete links of user %d: %w", userID, err)
	}
	return n, nil
}

// DeleteOldLinks removes links long expired; see mfagate.Retention.
func (t *tx) DeleteOldLinks(expiredBefore time.Time) (int, error) {
	n, err := t.execCount(`DELETE FROM links WHERE expires_at < ?`, expiredBefore.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("delete old links: %w", err)
	}
	return n, nil
}
