package sqlstore

import (
	"cmp"
	"database/sql"
	"errors"
	"fmt"
	"slices"

	"github.com/mfagate/mfagate"
)

// Bits of user_roles.progress_state: a copy, on each of a person's role
// rows, of what Progress counts them by.
const (
	stateEmail    = 1  // has an email factor
	stateTOTP     = 2  // has a TOTP factor
	stateSkipped  = 4  // skipped setting up MFA at least once
	stateNever    = 8  // never signed in
	stateDisabled = 16 // the account is disabled
)

// progressState computes a person's progress_state from users and factors.
// Migration 0004 repeats it to fill the column.
const progressState = `CASE WHEN EXISTS (SELECT 1 FROM factors f WHERE f.user_id = users.id AND f.method = 'email') THEN 1 ELSE 0 END
	+ CASE WHEN EXISTS (SELECT 1 FROM factors f WHERE f.user_id = users.id AND f.method = 'totp') THEN 2 ELSE 0 END
	+ CASE WHEN users.skips > 0 THEN 4 ELSE 0 END
	+ CASE WHEN users.last_sign_in_at IS NULL THEN 8 ELSE 0 END
	+ users.disabled * 16`

// Progress counts enabled accounts by role and MFA state; see mfagate.People.
//
// A GROUP BY of user_roles joined to users and factors took two seconds
// at a million accounts on SQLite, which joins by looking up each row.
// So each role row carries its person's state (progress_state), and this
// reads the index on (role, progress_state) alone: a few dozen groups,
// counted in tens of milliseconds (BenchmarkProgress).
func (t *tx) Progress() ([]*mfagate.ProgressRow, error) {
	rows, err := t.query(`SELECT role, progress_state, COUNT(*) FROM user_roles
		GROUP BY role, progress_state`)
	if err != nil {
		return nil, fmt.Errorf("count progress: %w", err)
	}
	byRole := make(map[string]*mfagate.ProgressRow)
	for rows.Next() {
		var (
			role         string
			state, count int
		)
		if err := rows.Scan(&role, &state, &count); err != nil {
			rows.Close()
			return nil, fmt.Errorf("count progress: %w", err)
		}
		if state&stateDisabled != 0 {
			continue
		}
		r := byRole[role]
		if r == nil {
			r = &mfagate.ProgressRow{Role: role}
			byRole[role] = r
		}
		addCount(r, state, count)
	}
	if err := closeRows(rows); err != nil {
		return nil, fmt.Errorf("count progress: %w", err)
	}
	out := make([]*mfagate.ProgressRow, 0, len(byRole))
	for _, r := range byRole {
		out = append(out, r)
	}
	// Sorted here, not by ORDER BY: PostgreSQL collations do not sort by byte.
	slices.SortFunc(out, func(a, b *mfagate.ProgressRow) int { return cmp.Compare(a.Role, b.Role) })
	return out, nil
}

// addCount adds n enabled accounts in state to r.
func addCount(r *mfagate.ProgressRow, state, n int) {
	r.Total += n
	switch state & (stateEmail | stateTOTP) {
	case stateEmail:
		r.Email += n
	case stateTOTP:
		r.TOTP += n
	case stateEmail | stateTOTP:
		r.Both += n
	default:
		r.None += n
		if state&stateSkipped != 0 {
			r.Skipped += n
		}
		if state&stateNever != 0 {
			r.NeverSignedIn += n
		}
	}
}

// refreshProgress recomputes the progress_state of the user's role rows.
// Every change to what it reads (roles, factors, skips, the first sign-in,
// disabling) calls it in the same transaction, after the change and while
// holding the user's row: UpdateUser and RecordSkip have just updated it,
// CreateUser has just inserted it, and the factor methods lock it first
// (lockUser). On PostgreSQL that lock is what keeps the copy right: a
// concurrent change to the same person waits for this transaction to end,
// and its own refresh, a later statement, then sees what this one wrote.
// On SQLite write transactions already run one at a time.
func (t *tx) refreshProgress(userID int64) error {
	if _, err := t.exec(`UPDATE user_roles SET progress_state = (SELECT `+progressState+`
		FROM users WHERE users.id = user_roles.user_id) WHERE user_id = ?`, userID); err != nil {
		return fmt.Errorf("progress state: %w", err)
	}
	return nil
}

// refreshProgressOf is refreshProgress for a user who was just given
// roles: none, and there is nothing to refresh.
func (t *tx) refreshProgressOf(userID int64, roles []string) error {
	if len(roles) == 0 {
		return nil
	}
	return t.refreshProgress(userID)
}

// lockUser locks the user's row until the transaction ends, on PostgreSQL,
// before a change to their factors; see refreshProgress. A missing user is
// not an error here.
func (t *tx) lockUser(userID int64) error {
	if !t.writable {
		return errReadOnly
	}
	var id int64
	err := t.queryRow(`SELECT id FROM users WHERE id = ?`+t.forUpdate(), userID).Scan(&id)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("lock user: %w", err)
	}
	return nil
}
