package sqlstore

import (
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/mfagate/mfagate"
)

var _ mfagate.Throttles = (*tx)(nil)

const throttleColumns = `key, run, failures, last_failure_at, locked_until, hard_locked`

// Throttle returns the state behind key; see mfagate.Throttles. A key never seen
// is a zero Throttle with that Key.
func (t *tx) Throttle(key string) (*mfagate.Throttle, error) {
	th, err := scanThrottle(t.queryRow(`SELECT `+throttleColumns+` FROM throttles WHERE key = ?`, key))
	if errors.Is(err, sql.ErrNoRows) {
		return &mfagate.Throttle{Key: key}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get throttle %q: %w", key, err)
	}
	return th, nil
}

// HoldThrottle returns the state behind key and holds it until the
// transaction ends; see mfagate.Throttles.
//
// One upsert that changes nothing takes the hold: on PostgreSQL ON
// CONFLICT DO UPDATE locks the row (and a row being inserted by another
// transaction makes this one wait for it), so a second transaction on the
// same key blocks here until the first ends and then reads what it wrote.
// SQLite's write transactions already run one at a time (BEGIN
// IMMEDIATE). The zero row it may insert is removed again by SaveThrottle
// or the retention job.
func (t *tx) HoldThrottle(key string) (*mfagate.Throttle, error) {
	rows, err := t.writeQuery(`INSERT INTO throttles (key, failures) VALUES (?, 0)
		ON CONFLICT (key) DO UPDATE SET failures = throttles.failures
		RETURNING `+throttleColumns, key)
	if err != nil {
		return nil, fmt.Errorf("hold throttle %q: %w", key, err)
	}
	th, err := scanOne(rows, scanThrottle)
	if err != nil {
		return nil, fmt.Errorf("hold throttle %q: %w", key, err)
	}
	return th, nil
}

// StartThrottle begins key's run when it has none; see mfagate.Throttles.
func (t *tx) StartThrottle(key string, run int64, at time.Time) (bool, error) {
	_, ok, err := t.insertID(`INSERT INTO throttles (key, run, failures, last_failure_at) VALUES (?, ?, 1, ?)
		ON CONFLICT (key) DO NOTHING
		RETURNING 1`, key, run, millis(at))
	if err != nil {
		return false, fmt.Errorf("start throttle %q: %w", key, err)
	}
	return ok, nil
}

// SaveThrottle writes th; see mfagate.Throttles. A throttle with nothing to
// remember is deleted rather than kept as a zero row.
func (t *tx) SaveThrottle(th *mfagate.Throttle) error {
	if th.Failures <= 0 && !th.HardLocked && th.LockedUntil.IsZero() {
		return t.ClearThrottle(th.Key)
	}
	if _, err := t.exec(`INSERT INTO throttles (`+throttleColumns+`) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET run = excluded.run, failures = excluded.failures,
			last_failure_at = excluded.last_failure_at, locked_until = excluded.locked_until, hard_locked = excluded.hard_locked`,
		th.Key, th.Run, max(th.Failures, 0), millis(th.LastFailureAt), millis(th.LockedUntil), boolInt(th.HardLocked)); err != nil {
		return fmt.Errorf("save throttle %q: %w", th.Key, err)
	}
	return nil
}

// ClearThrottle forgets key's failures and lock; see mfagate.Throttles.
func (t *tx) ClearThrottle(key string) error {
	if _, err := t.exec(`DELETE FROM throttles WHERE key = ?`, key); err != nil {
		return fmt.Errorf("clear throttle %q: %w", key, err)
	}
	return nil
}

// ClearThrottleIf forgets key's run when it holds exactly failures
// attempts and, unless anyLock, is not locked at now; see mfagate.Throttles. The
// conditions are in the DELETE itself, so a concurrent admission either
// comes first (and the count no longer matches) or waits for it.
func (t *tx) ClearThrottleIf(key string, run int64, failures int, anyLock bool, now time.Time) (bool, error) {
	q := `DELETE FROM throttles WHERE key = ? AND run = ? AND failures = ?`
	args := []any{key, run, failures}
	if !anyLock {
		q += ` AND hard_locked = 0 AND (locked_until IS NULL OR locked_until <= ?)`
		args = append(args, now.UnixMilli())
	}
	n, err := t.execCount(q, args...)
	if err != nil {
		return false, fmt.Errorf("clear throttle %q: %w", key, err)
	}
	return n == 1, nil
}

// DeleteIdleThrottles removes what is no longer needed of the throttles;
// see mfagate.Retention. The account's keys are recognised by their formats
// (mfagate.PasswordThrottleKey, FactorThrottleKey): the username is looked
// up by the unique index on username_key.
//
// The rows are picked with SKIP LOCKED on PostgreSQL: one an attempt
// holds is left for the next run, so the job never waits on a sign-in,
// and one DELETE locking rows in its own order cannot deadlock with a
// transaction taking them in the order account uses.
func (t *tx) DeleteIdleThrottles(idleBefore, now time.Time) (int, error) {
	n, err := t.execCount(`DELETE FROM throttles WHERE key IN (SELECT key FROM throttles
		WHERE hard_locked = 0 AND (locked_until IS NULL OR locked_until <= ?)
		AND (failures = 0 OR (
			(last_failure_at IS NULL OR last_failure_at < ?)
			AND NOT (key LIKE 'user:%' AND EXISTS (SELECT 1 FROM users WHERE users.username_key = substr(throttles.key, 6)))
			AND NOT (key LIKE 'mfa:%' AND EXISTS (SELECT 1 FROM users WHERE users.username_key = substr(throttles.key, 5)))
		))`+t.dialect.skipLocked()+`)`,
		now.UnixMilli(), idleBefore.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("delete idle throttles: %w", err)
	}
	return n, nil
}

func scanThrottle(sc scanner) (*mfagate.Throttle, error) {
	var (
		th                 mfagate.Throttle
		lastFailure, until sql.NullInt64
		hard               int64
	)
	if err := sc.Scan(&th.Key, &th.Run, &th.Failures, &lastFailure, &until, &hard); err != nil {
		return nil, err
	}
	th.LastFailureAt, th.LockedUntil = fromMillis(lastFailure), fromMillis(until)
	th.HardLocked = hard != 0
	return &th, nil
}

// scanOne reads the one row a write ... RETURNING gives, and closes rows.
func scanOne[T any](rows *sql.Rows, scan func(scanner) (T, error)) (T, error) {
	var zero T
	defer rows.Close()
	if !rows.Next() {
		if err := closeRows(rows); err != nil {
			return zero, err
		}
		return zero, errors.New("no row returned")
	}
	v, err := scan(rows)
	if err == nil {
		err = closeRows(rows)
	}
	return v, err
}
