package sqlstore

import (
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/mfagate/mfagate"
)

const throttleColumns = `key, failures, last_failure_at, locked_until, hard_locked`

// Throttle returns the state behind key; see mfagate.Tx. A key never seen
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

// RecordFailure adds one failure to key; see mfagate.Tx.
//
// A single upsert, so the count is added by the database itself: two
// replicas recording at once never both write the same new count, and
// there is no read-then-insert race on a key seen for the first time.
func (t *tx) RecordFailure(key string, at time.Time) (*mfagate.Throttle, error) {
	rows, err := t.writeQuery(`INSERT INTO throttles (key, failures, last_failure_at) VALUES (?, 1, ?)
		ON CONFLICT (key) DO UPDATE SET failures = throttles.failures + 1,
			last_failure_at = excluded.last_failure_at
		RETURNING `+throttleColumns,
		key, millis(at))
	if err != nil {
		return nil, fmt.Errorf("record failure for %q: %w", key, err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := closeRows(rows); err != nil {
			return nil, fmt.Errorf("record failure for %q: %w", key, err)
		}
		return nil, fmt.Errorf("record failure for %q: no row returned", key)
	}
	th, err := scanThrottle(rows)
	if err == nil {
		err = closeRows(rows)
	}
	if err != nil {
		return nil, fmt.Errorf("record failure for %q: %w", key, err)
	}
	return th, nil
}

// LockThrottle sets key's lock; see mfagate.Tx. Both halves are set as
// given: a lock for a time replaces a hard lock, and a zero until with hard
// false leaves the key unlocked. The failure count is kept.
func (t *tx) LockThrottle(key string, until time.Time, hard bool) error {
	if _, err := t.exec(`INSERT INTO throttles (key, failures, locked_until, hard_locked) VALUES (?, 0, ?, ?)
		ON CONFLICT (key) DO UPDATE SET locked_until = excluded.locked_until,
			hard_locked = excluded.hard_locked`,
		key, millis(until), boolInt(hard)); err != nil {
		return fmt.Errorf("lock %q: %w", key, err)
	}
	return nil
}

// ClearThrottle forgets key's failures and lock; see mfagate.Tx.
func (t *tx) ClearThrottle(key string) error {
	if _, err := t.exec(`DELETE FROM throttles WHERE key = ?`, key); err != nil {
		return fmt.Errorf("clear throttle %q: %w", key, err)
	}
	return nil
}

func scanThrottle(sc scanner) (*mfagate.Throttle, error) {
	var (
		th                 mfagate.Throttle
		lastFailure, until sql.NullInt64
		hard               int64
	)
	if err := sc.Scan(&th.Key, &th.Failures, &lastFailure, &until, &hard); err != nil {
		return nil, err
	}
	th.LastFailureAt, th.LockedUntil = fromMillis(lastFailure), fromMillis(until)
	th.HardLocked = hard != 0
	return &th, nil
}
