package sqlstore

import (
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/mfagate/mfagate"
)

var _ mfagate.Sessions = (*tx)(nil)

const sessionColumns = `hash, user_id, stage, created_at, last_seen_at, second_factor_at, client_addr, user_agent,
	pending_totp, pending_recovery`

// CreateSession inserts s; see mfagate.Sessions.
func (t *tx) CreateSession(s *mfagate.Session) error {
	n, err := t.execCount(`INSERT INTO sessions (`+sessionColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (hash) DO NOTHING`,
		s.Hash, s.UserID, string(s.Stage), millis(s.CreatedAt), millis(s.LastSeenAt),
		millis(s.SecondFactorAt), s.ClientAddr, s.UserAgent,
		blob(s.PendingTOTP), blob(s.PendingRecovery))
	if err != nil {
		if isUniqueViolation(err) {
			return sessionExists()
		}
		return fmt.Errorf("create session: %w", err)
	}
	if n == 0 {
		return sessionExists()
	}
	return nil
}

// SessionByHash returns the session with that token hash; see mfagate.Sessions.
func (t *tx) SessionByHash(hash []byte) (*mfagate.Session, error) {
	s, err := scanSession(t.queryRow(`SELECT `+sessionColumns+` FROM sessions WHERE hash = ?`, hash))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, mfagate.Errorf(mfagate.ENOTFOUND, "session not found")
	}
	if err != nil {
		return nil, fmt.Errorf("get session: %w", err)
	}
	return s, nil
}

// UpdateSession saves Stage, LastSeenAt, SecondFactorAt, PendingTOTP,
// and PendingRecovery; see mfagate.Sessions.
func (t *tx) UpdateSession(s *mfagate.Session) error {
	n, err := t.execCount(`UPDATE sessions SET stage = ?, last_seen_at = ?, second_factor_at = ?,
		pending_totp = ?, pending_recovery = ? WHERE hash = ?`,
		string(s.Stage), millis(s.LastSeenAt), millis(s.SecondFactorAt),
		blob(s.PendingTOTP), blob(s.PendingRecovery), s.Hash)
	if err != nil {
		return fmt.Errorf("update session: %w", err)
	}
	if n == 0 {
		return mfagate.Errorf(mfagate.ENOTFOUND, "session not found")
	}
	return nil
}

// TouchSession records a use of the session; see mfagate.Sessions.
func (t *tx) TouchSession(hash []byte, at time.Time) error {
	n, err := t.execCount(`UPDATE sessions SET last_seen_at = ? WHERE hash = ? AND last_seen_at < ?`,
		millis(at), hash, millis(at))
	if err != nil {
		return fmt.Errorf("touch session: %w", err)
	}
	if n == 0 {
		var one int
		if err := t.queryRow(`SELECT 1 FROM sessions WHERE hash = ?`, hash).Scan(&one); err != nil {
			return mfagate.Errorf(mfagate.ENOTFOUND, "session not found")
		}
	}
	return nil
}

// DeleteSession removes one session; see mfagate.Sessions.
func (t *tx) DeleteSession(hash []byte) error {
	if _, err := t.exec(`DELETE FROM sessions WHERE hash = ?`, hash); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// DeleteUserSessions removes a user's sessions but keep; see mfagate.Sessions.
func (t *tx) DeleteUserSessions(userID int64, keep []byte) (int, error) {
	query, args := `DELETE FROM sessions WHERE user_id = ?`, []any{userID}
	if keep != nil {
		query += ` AND hash <> ?`
		args = append(args, keep)
	}
	n, err := t.execCount(query, args...)
	if err != nil {
		return 0, fmt.Errorf("delete sessions of user %d: %w", userID, err)
	}
	return n, nil
}

// UserSessions lists a user's sessions, newest first; see mfagate.Sessions.
func (t *tx) UserSessions(userID int64) ([]*mfagate.Session, error) {
	rows, err := t.query(`SELECT `+sessionColumns+` FROM sessions WHERE user_id = ?
		ORDER BY created_at DESC, last_seen_at DESC, hash`, userID)
	if err != nil {
		return nil, fmt.Errorf("list sessions of user %d: %w", userID, err)
	}
	var ss []*mfagate.Session
	for rows.Next() {
		s, err := scanSession(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("list sessions of user %d: %w", userID, err)
		}
		ss = append(ss, s)
	}
	if err := closeRows(rows); err != nil {
		return nil, fmt.Errorf("list sessions of user %d: %w", userID, err)
	}
	return ss, nil
}

// DeleteStaleSessions removes sessions idle since before idleBefore or
// created before createdBefore; see mfagate.Retention. A zero bound is not
// applied.
func (t *tx) DeleteStaleSessions(idleBefore, createdBefore time.Time) (int, error) {
	var (
		conds []string
		args  []any
	)
	if !idleBefore.IsZero() {
		conds = append(conds, `last_seen_at < ?`)
		args = append(args, idleBefore.UnixMilli())
	}
	if !createdBefore.IsZero() {
		conds = append(conds, `created_at < ?`)
		args = append(args, createdBefore.UnixMilli())
	}
	if len(conds) == 0 {
		return 0, nil
	}
	// Picked with SKIP LOCKED on PostgreSQL, as DeleteIdleThrottles does:
	// a session being ended or used now is left for the next run.
	where := conds[0]
	if len(conds) == 2 {
		where += ` OR ` + conds[1]
	}
	n, err := t.execCount(`DELETE FROM sessions WHERE hash IN (SELECT hash FROM sessions WHERE `+where+t.dialect.skipLocked()+`)`, args...)
	if err != nil {
		return 0, fmt.Errorf("delete stale sessions: %w", err)
	}
	return n, nil
}

func scanSession(sc scanner) (*mfagate.Session, error) {
	var (
		s                        mfagate.Session
		stage                    string
		created, seen, secondFac sql.NullInt64
	)
	if err := sc.Scan(&s.Hash, &s.UserID, &stage, &created, &seen, &secondFac, &s.ClientAddr, &s.UserAgent,
		&s.PendingTOTP, &s.PendingRecovery); err != nil {
		return nil, err
	}
	s.Stage = mfagate.Stage(stage)
	s.CreatedAt = fromMillis(created)
	s.LastSeenAt = fromMillis(seen)
	s.SecondFactorAt = fromMillis(secondFac)
	return &s, nil
}

func sessionExists() error {
	return mfagate.Errorf(mfagate.ECONFLICT, "session already exists")
}
