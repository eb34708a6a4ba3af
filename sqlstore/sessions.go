package sqlstore

import (
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
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
		err := t.queryRow(`SELECT 1 FROM sessions WHERE hash = ?`, hash).Scan(&one)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return mfagate.Errorf(mfagate.ENOTFOUND, "session not found")
		case err != nil: // not "no session": the check must not remember it as one
			return fmt.Errorf("touch session: %w", err)
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

// The columns of SessionAndUser's join, each named by its table.
var (
	joinedSessionColumns = prefixColumns("s.", sessionColumns)
	joinedUserColumns    = prefixColumns("u.", userColumns)
)

func prefixColumns(prefix, columns string) string {
	names := strings.Split(columns, ",")
	for i, n := range names {
		names[i] = prefix + strings.TrimSpace(n)
	}
	return strings.Join(names, ", ")
}

// SessionAndUser returns a session and its user in one query; see
// mfagate.Sessions. The roles come as one row each (none: one row with a
// NULL role), so that no separator has to be kept out of role names.
func (t *tx) SessionAndUser(hash []byte) (*mfagate.Session, *mfagate.User, error) {
	rows, err := t.query(`SELECT `+joinedSessionColumns+`, `+joinedUserColumns+`, r.role
		FROM sessions s JOIN users u ON u.id = s.user_id LEFT JOIN user_roles r ON r.user_id = u.id
		WHERE s.hash = ?`, hash)
	if err != nil {
		return nil, nil, fmt.Errorf("get session and user: %w", err)
	}
	var (
		sess  *mfagate.Session
		u     *mfagate.User
		roles []string
	)
	for rows.Next() {
		var role sql.NullString
		if sess, u, err = scanSessionAndUser(rows, &role); err != nil {
			rows.Close()
			return nil, nil, fmt.Errorf("get session and user: %w", err)
		}
		if role.Valid {
			roles = append(roles, role.String)
		}
	}
	if err := closeRows(rows); err != nil {
		return nil, nil, fmt.Errorf("get session and user: %w", err)
	}
	if sess == nil {
		return nil, nil, mfagate.Errorf(mfagate.ENOTFOUND, "session not found")
	}
	// Sorted here, as oneUser sorts them: collations do not sort by byte.
	slices.Sort(roles)
	u.Roles = roles
	return sess, u, nil
}

func scanSession(sc scanner) (*mfagate.Session, error) {
	var f sessionFields
	if err := sc.Scan(f.dests()...); err != nil {
		return nil, err
	}
	return f.session(), nil
}

// sessionFields are what a row of sessionColumns is scanned into.
type sessionFields struct {
	s                        mfagate.Session
	stage                    string
	created, seen, secondFac sql.NullInt64
}

func (f *sessionFields) dests() []any {
	return []any{&f.s.Hash, &f.s.UserID, &f.stage, &f.created, &f.seen, &f.secondFac, &f.s.ClientAddr, &f.s.UserAgent,
		&f.s.PendingTOTP, &f.s.PendingRecovery}
}

func (f *sessionFields) session() *mfagate.Session {
	s := f.s
	s.Stage = mfagate.Stage(f.stage)
	s.CreatedAt = fromMillis(f.created)
	s.LastSeenAt = fromMillis(f.seen)
	s.SecondFactorAt = fromMillis(f.secondFac)
	return &s
}

// scanSessionAndUser scans a row of SessionAndUser's join: the session's
// columns, the user's (read by scanUser itself, so that a column added to
// userColumns is read here too), and role.
func scanSessionAndUser(sc scanner, role *sql.NullString) (*mfagate.Session, *mfagate.User, error) {
	var f sessionFields
	u, err := scanUser(withAround{rows: sc, before: f.dests(), after: []any{role}})
	if err != nil {
		return nil, nil, err
	}
	return f.session(), u, nil
}

// withAround scans a row's leading columns into before, the next into
// what the wrapped caller asks for, and the rest into after.
type withAround struct {
	rows          scanner
	before, after []any
}

func (w withAround) Scan(dest ...any) error {
	all := make([]any, 0, len(w.before)+len(dest)+len(w.after))
	return w.rows.Scan(append(append(append(all, w.before...), dest...), w.after...)...)
}

// touchBatch bounds the sessions one statement of TouchSessions writes,
// well inside both databases' limits on parameters.
const touchBatch = 512

// TouchSessions records many uses of sessions; see mfagate.Sessions. One
// UPDATE per touchBatch sessions, each row only moved forward. Statements
// write a power of two of sessions (the rest in smaller ones), so that
// there are a few statements to prepare, not one per count.
func (t *tx) TouchSessions(touches []mfagate.SessionTouch) (int, error) {
	changed := 0
	for len(touches) > 0 {
		n := touchBatch
		for n > len(touches) {
			n /= 2
		}
		batch := touches[:n]
		touches = touches[len(batch):]
		values := make([]string, len(batch))
		args := make([]any, 0, 2*len(batch))
		for i, tc := range batch {
			// Typed, so that PostgreSQL compares a bytea with a bytea.
			values[i] = "(CAST(? AS " + blobType(t.dialect) + "), CAST(? AS BIGINT))"
			args = append(args, tc.Hash, tc.At.UnixMilli())
		}
		n, err := t.execCount(`UPDATE sessions SET last_seen_at = v.column2
			FROM (VALUES `+strings.Join(values, ", ")+`) AS v
			WHERE sessions.hash = v.column1 AND sessions.last_seen_at < v.column2`, args...)
		if err != nil {
			return changed, fmt.Errorf("touch sessions: %w", err)
		}
		changed += n
	}
	return changed, nil
}

func sessionExists() error {
	return mfagate.Errorf(mfagate.ECONFLICT, "session already exists")
}

// blobType is the SQL type of a byte string, for a CAST.
func blobType(d dialect) string {
	if d == dialectPostgres {
		return "BYTEA"
	}
	return "BLOB"
}
