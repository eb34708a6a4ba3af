package sqlstore

import (
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/mfagate/mfagate"
)

var _ mfagate.EmailCodes = (*tx)(nil)

const emailCodeColumns = `id, user_id, session_hash, purpose, address, hash, created_at, expires_at,
	failures, used_at, voided`

// CreateEmailCode voids the codes earlier sent for the same session and
// purpose, then inserts c and sets c.ID; see mfagate.EmailCodes. Both happen in
// the caller's transaction, so no moment exists with two live codes.
func (t *tx) CreateEmailCode(c *mfagate.EmailCode) error {
	if _, err := t.exec(`UPDATE email_codes SET voided = 1
		WHERE session_hash = ? AND purpose = ? AND voided = 0`,
		c.SessionHash, c.Purpose); err != nil {
		return fmt.Errorf("create email code: void earlier codes: %w", err)
	}
	id, _, err := t.insertID(`INSERT INTO email_codes
		(user_id, session_hash, purpose, address, hash, created_at, expires_at, failures, used_at, voided)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		RETURNING id`,
		c.UserID, c.SessionHash, c.Purpose, c.Address, c.Hash, millis(c.CreatedAt), millis(c.ExpiresAt),
		c.Failures, millis(c.UsedAt), boolInt(c.Voided))
	if err != nil {
		return fmt.Errorf("create email code: %w", err)
	}
	c.ID = id
	return nil
}

// LatestEmailCode returns the newest code sent for the session and
// purpose; see mfagate.EmailCodes.
//
// Inside Update on PostgreSQL the row is locked until the transaction
// ends: the caller reads the code to check a guess and then saves Failures
// or UsedAt, and without the lock two guesses at once could both read the
// same count (losing a failure) or both accept the code.
func (t *tx) LatestEmailCode(sessionHash []byte, purpose string) (*mfagate.EmailCode, error) {
	c, err := scanEmailCode(t.queryRow(`SELECT `+emailCodeColumns+` FROM email_codes
		WHERE session_hash = ? AND purpose = ?
		ORDER BY id DESC LIMIT 1`+t.forUpdate(),
		sessionHash, purpose))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, mfagate.Errorf(mfagate.ENOTFOUND, "no code was sent")
	}
	if err != nil {
		return nil, fmt.Errorf("get latest email code: %w", err)
	}
	return c, nil
}

// UpdateEmailCode saves Failures, UsedAt and Voided; see mfagate.EmailCodes.
func (t *tx) UpdateEmailCode(c *mfagate.EmailCode) error {
	n, err := t.execCount(`UPDATE email_codes SET failures = ?, used_at = ?, voided = ? WHERE id = ?`,
		c.Failures, millis(c.UsedAt), boolInt(c.Voided), c.ID)
	if err != nil {
		return fmt.Errorf("update email code %d: %w", c.ID, err)
	}
	if n == 0 {
		return mfagate.Errorf(mfagate.ENOTFOUND, "email code %d not found", c.ID)
	}
	return nil
}

// LastEmailCodeAt is when the user's newest code of purpose was sent; see
// mfagate.EmailCodes.
func (t *tx) LastEmailCodeAt(userID int64, purpose string) (time.Time, error) {
	var at sql.NullInt64
	if err := t.queryRow(`SELECT MAX(created_at) FROM email_codes WHERE user_id = ? AND purpose = ?`, userID, purpose).Scan(&at); err != nil {
		return time.Time{}, fmt.Errorf("get newest email code of user %d: %w", userID, err)
	}
	return fromMillis(at), nil
}

// EmailCodesSince counts the codes sent to the user at or after since; see
// mfagate.EmailCodes. Voided and used codes count: each was an email sent.
func (t *tx) EmailCodesSince(userID int64, since time.Time) (int, error) {
	var n int
	if err := t.queryRow(`SELECT COUNT(*) FROM email_codes WHERE user_id = ? AND created_at >= ?`,
		userID, since.UnixMilli()).Scan(&n); err != nil {
		return 0, fmt.Errorf("count email codes of user %d: %w", userID, err)
	}
	return n, nil
}

// EmailCodeTimesSince returns the creation times of the codes sent to the
// user at or after since, oldest first; see mfagate.EmailCodes. Voided and
// used codes count, as in EmailCodesSince.
func (t *tx) EmailCodeTimesSince(userID int64, since time.Time) ([]time.Time, error) {
	rows, err := t.query(`SELECT created_at FROM email_codes WHERE user_id = ? AND created_at >= ? ORDER BY created_at, id`,
		userID, since.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("list email codes of user %d: %w", userID, err)
	}
	defer rows.Close()
	var times []time.Time
	for rows.Next() {
		var at sql.NullInt64
		if err := rows.Scan(&at); err != nil {
			return nil, fmt.Errorf("list email codes of user %d: %w", userID, err)
		}
		times = append(times, fromMillis(at))
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list email codes of user %d: %w", userID, err)
	}
	return times, nil
}

func scanEmailCode(sc scanner) (*mfagate.EmailCode, error) {
	var (
		c                      mfagate.EmailCode
		created, expires, used sql.NullInt64
		voided                 int64
	)
	if err := sc.Scan(&c.ID, &c.UserID, &c.SessionHash, &c.Purpose, &c.Address, &c.Hash,
		&created, &expires, &c.Failures, &used, &voided); err != nil {
		return nil, err
	}
	c.CreatedAt, c.ExpiresAt, c.UsedAt = fromMillis(created), fromMillis(expires), fromMillis(used)
	c.Voided = voided != 0
	return &c, nil
}
