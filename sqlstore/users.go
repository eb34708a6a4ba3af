package sqlstore

import (
	"cmp"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/mfagate/mfagate"
)

var _ mfagate.Users = (*tx)(nil)

const userColumns = `id, username, email, name, password_hash, disabled, created_at, last_sign_in_at,
	extended_until, extension_reason, skips, last_skip_at, unreached_at, unreached_reason, invited_at,
	email_unconfirmed_at, previous_email, pace_phase, pace_shown_at, pace_skips, pace_skip_at`

// CreateUser inserts u and sets u.ID; see mfagate.Users.
func (t *tx) CreateUser(u *mfagate.User) error {
	// ON CONFLICT DO NOTHING rather than catching the unique violation: on
	// PostgreSQL a failed statement aborts the whole transaction, and the
	// caller may want to go on after a conflict, as on SQLite.
	roles := normalizeRoles(u.Roles)
	group := groupKey{roles: rolesKey(roles), state: newUserState(u)}
	id, ok, err := t.insertID(`INSERT INTO users
		(username, username_key, email, name, password_hash, disabled, created_at, last_sign_in_at,
		extended_until, extension_reason, skips, last_skip_at, invited_at, group_roles, group_state,
		email_unconfirmed_at, previous_email)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (username_key) DO NOTHING
		RETURNING id`,
		u.Username, mfagate.UsernameKey(u.Username), u.Email, u.Name, u.PasswordHash,
		boolInt(u.Disabled), millis(u.CreatedAt), millis(u.LastSignInAt),
		millis(u.ExtendedUntil), u.ExtensionReason, u.Skips, millis(u.LastSkipAt), millis(u.InvitedAt), group.roles, group.state,
		millis(u.EmailUnconfirmedAt), u.PreviousEmail)
	if err != nil {
		if isUniqueViolation(err) {
			return usernameTaken(u.Username)
		}
		return fmt.Errorf("create user: %w", err)
	}
	if !ok {
		return usernameTaken(u.Username)
	}
	if err := t.insertRoles(id, roles); err != nil {
		return fmt.Errorf("create user: %w", err)
	}
	t.noteMove(id, groupKey{state: -1}, group)
	u.ID, u.Roles = id, roles
	return nil
}

// UserByID returns the user with that ID; see mfagate.Users. Inside Update
// on PostgreSQL the row is locked until the transaction ends (forUpdate):
// the caller may change what it read, and a concurrent change to the same
// person (disabling them, a new password) must wait rather than be
// written over.
func (t *tx) UserByID(id int64) (*mfagate.User, error) {
	u, err := t.oneUser(`WHERE id = ?`+t.forUpdate(), id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, mfagate.Errorf(mfagate.ENOTFOUND, "user %d not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("get user %d: %w", id, err)
	}
	return u, nil
}

// UserByUsername returns the user with that username, ignoring case; see
// mfagate.Users. Inside Update on PostgreSQL the row is locked, as UserByID's.
func (t *tx) UserByUsername(username string) (*mfagate.User, error) {
	u, err := t.oneUser(`WHERE username_key = ?`+t.forUpdate(), mfagate.UsernameKey(username))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, mfagate.Errorf(mfagate.ENOTFOUND, "user %q not found", username)
	}
	if err != nil {
		return nil, fmt.Errorf("get user %q: %w", username, err)
	}
	return u, nil
}

// UsersByEmail lists the users with that address; see mfagate.Users.
// lower() on both sides, so that each database compares by its own rule
// and the expression index users_email (migration 0009) serves the lookup.
func (t *tx) UsersByEmail(address string, limit int) ([]*mfagate.User, error) {
	if limit <= 0 {
		return nil, nil
	}
	args := []any{address}
	lim, args := limitClause(limit, args)
	users, err := t.usersPage(` FROM users WHERE lower(email) = lower(?) ORDER BY users.id`+lim, args)
	if err != nil {
		return nil, fmt.Errorf("find users by email: %w", err)
	}
	return users, nil
}

// UpdateUser saves every field of u but ID, CreatedAt, Skips and
// LastSkipAt; see mfagate.Users. The skip count is RecordSkip's alone, so a
// use case that read the user before a concurrent skip cannot undo it.
func (t *tx) UpdateUser(u *mfagate.User) error {
	// Checked first so that the usual conflict does not abort a PostgreSQL
	// transaction; the unique index still catches a race.
	var other int64
	err := t.queryRow(`SELECT id FROM users WHERE username_key = ? AND id <> ?`,
		mfagate.UsernameKey(u.Username), u.ID).Scan(&other)
	switch {
	case err == nil:
		return usernameTaken(u.Username)
	case !errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("update user %d: %w", u.ID, err)
	}
	// A new address clears the unreached mark (the right-hand sides see
	// the row as it was, so email there is the old address).
	n, err := t.execCount(`UPDATE users SET username = ?, username_key = ?, email = ?, name = ?,
		password_hash = ?, disabled = ?, last_sign_in_at = ?, extended_until = ?, extension_reason = ?, invited_at = ?,
		email_unconfirmed_at = ?, previous_email = ?,
		unreached_at = CASE WHEN email = ? THEN unreached_at ELSE NULL END,
		unreached_reason = CASE WHEN email = ? THEN unreached_reason ELSE '' END
		WHERE id = ?`,
		u.Username, mfagate.UsernameKey(u.Username), u.Email, u.Name, u.PasswordHash,
		boolInt(u.Disabled), millis(u.LastSignInAt), millis(u.ExtendedUntil), u.ExtensionReason, millis(u.InvitedAt),
		millis(u.EmailUnconfirmedAt), u.PreviousEmail,
		u.Email, u.Email, u.ID)
	if err != nil {
		if isUniqueViolation(err) {
			return usernameTaken(u.Username)
		}
		return fmt.Errorf("update user %d: %w", u.ID, err)
	}
	if n == 0 {
		return mfagate.Errorf(mfagate.ENOTFOUND, "user %d not found", u.ID)
	}
	roles := normalizeRoles(u.Roles)
	if _, err := t.exec(`DELETE FROM user_roles WHERE user_id = ?`, u.ID); err != nil {
		return fmt.Errorf("update user %d: %w", u.ID, err)
	}
	if err := t.insertRoles(u.ID, roles); err != nil {
		return fmt.Errorf("update user %d: %w", u.ID, err)
	}
	if err := t.regroup(u.ID); err != nil {
		return fmt.Errorf("update user %d: %w", u.ID, err)
	}
	u.Roles = roles
	return nil
}

// Users lists users in ID order; see mfagate.Users.
func (t *tx) Users(f mfagate.UserFilter) ([]*mfagate.User, error) {
	var (
		conds []string
		args  []any
	)
	if f.Role != "" {
		conds = append(conds, `EXISTS (SELECT 1 FROM user_roles r WHERE r.user_id = users.id AND r.role = ?)`)
		args = append(args, f.Role)
	}
	if f.AfterID > 0 {
		conds = append(conds, `users.id > ?`)
		args = append(args, f.AfterID)
	}
	limit, args := limitClause(f.Limit, args)
	users, err := t.usersPage(` FROM users`+whereClause(conds)+` ORDER BY users.id`+limit, args)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return users, nil
}

// usersPage reads the users that page selects (a FROM users ... clause
// with its ORDER BY and LIMIT), with their roles: two queries, whatever the
// page's size.
func (t *tx) usersPage(page string, args []any) ([]*mfagate.User, error) {
	rows, err := t.query(`SELECT `+userColumns+page, args...)
	if err != nil {
		return nil, err
	}
	var users []*mfagate.User
	byID := make(map[int64]*mfagate.User)
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		users = append(users, u)
		byID[u.ID] = u
	}
	if err := closeRows(rows); err != nil {
		return nil, err
	}
	if len(users) == 0 {
		return users, nil
	}

	// The roles of the same page in one query. Without a transaction (View)
	// the page may have changed in between; roles of users not in the list
	// are ignored.
	rows, err = t.query(`SELECT user_id, role FROM user_roles WHERE user_id IN (SELECT users.id`+page+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("roles: %w", err)
	}
	for rows.Next() {
		var (
			id   int64
			role string
		)
		if err := rows.Scan(&id, &role); err != nil {
			rows.Close()
			return nil, fmt.Errorf("roles: %w", err)
		}
		if u := byID[id]; u != nil {
			u.Roles = append(u.Roles, role)
		}
	}
	if err := closeRows(rows); err != nil {
		return nil, fmt.Errorf("roles: %w", err)
	}
	for _, u := range users {
		slices.Sort(u.Roles)
	}
	return users, nil
}

// RecordSignIn records a sign-in; see mfagate.Users. Two statements that
// touch only what a sign-in changes, so a sign-in never writes back what
// it read of the person.
func (t *tx) RecordSignIn(userID int64, at time.Time, rehash string) error {
	rows, err := t.writeQuery(`UPDATE users SET last_sign_in_at = ?,
			password_hash = CASE WHEN ? = '' THEN password_hash ELSE ? END
		WHERE id = ? RETURNING group_state`, millis(at), rehash, rehash, userID)
	if err != nil {
		return fmt.Errorf("record sign-in of user %d: %w", userID, err)
	}
	found, state := rows.Next(), 0
	if found {
		err = rows.Scan(&state)
	}
	if err := cmp.Or(err, closeRows(rows)); err != nil {
		return fmt.Errorf("record sign-in of user %d: %w", userID, err)
	}
	if !found {
		return mfagate.Errorf(mfagate.ENOTFOUND, "user %d not found", userID)
	}
	// Only the first sign-in moves the person to another group.
	if state < 0 || state&stateNever != 0 {
		if err := t.regroup(userID); err != nil {
			return fmt.Errorf("record sign-in of user %d: %w", userID, err)
		}
	}
	return nil
}

// RecordSkip adds one to the user's skips and sets the last skip's time;
// see mfagate.Users. One UPDATE, so concurrent skips are all counted.
func (t *tx) RecordSkip(userID int64, at time.Time) error {
	n, err := t.execCount(`UPDATE users SET skips = skips + 1, last_skip_at = ? WHERE id = ?`, millis(at), userID)
	if err != nil {
		return fmt.Errorf("record skip of user %d: %w", userID, err)
	}
	if n == 0 {
		return mfagate.Errorf(mfagate.ENOTFOUND, "user %d not found", userID)
	}
	if err := t.regroup(userID); err != nil {
		return fmt.Errorf("record skip of user %d: %w", userID, err)
	}
	return nil
}

// RecordSkipIn adds one to the user's skips, and to their skips under
// phase; see mfagate.Users. One conditional UPDATE: the cap is checked by
// the statement that counts, so concurrent skips on any replica cannot
// pass it.
func (t *tx) RecordSkipIn(userID int64, phase string, maxSkips int, at time.Time) (bool, error) {
	n, err := t.execCount(`UPDATE users SET skips = skips + 1, last_skip_at = ?,
		pace_skips = CASE WHEN pace_phase = ? THEN pace_skips + 1 ELSE 1 END,
		pace_shown_at = CASE WHEN pace_phase = ? THEN pace_shown_at ELSE NULL END,
		pace_skip_at = ?, pace_phase = ?
		WHERE id = ? AND (? <= 0 OR pace_phase <> ? OR pace_skips < ?)`,
		millis(at), phase, phase, millis(at), phase, userID, maxSkips, phase, maxSkips)
	if err != nil {
		return false, fmt.Errorf("record skip of user %d: %w", userID, err)
	}
	if n == 0 {
		if _, err := t.UserByID(userID); err != nil {
			return false, err
		}
		return false, nil // every skip is used
	}
	if err := t.regroup(userID); err != nil {
		return false, fmt.Errorf("record skip of user %d: %w", userID, err)
	}
	return true, nil
}

// MarkShown records when phase's requirement was first shown to the
// user; see mfagate.Users. Only the first time counts: a later call, on
// any replica, finds it set and changes nothing.
func (t *tx) MarkShown(userID int64, phase string, at time.Time) error {
	n, err := t.execCount(`UPDATE users SET pace_shown_at = ?,
		pace_skips = CASE WHEN pace_phase = ? THEN pace_skips ELSE 0 END,
		pace_skip_at = CASE WHEN pace_phase = ? THEN pace_skip_at ELSE NULL END,
		pace_phase = ?
		WHERE id = ? AND (pace_phase <> ? OR pace_shown_at IS NULL)`,
		millis(at), phase, phase, phase, userID, phase)
	if err != nil {
		return fmt.Errorf("mark phase shown to user %d: %w", userID, err)
	}
	if n == 0 {
		_, err := t.UserByID(userID) // ENOTFOUND, or already shown
		return err
	}
	return nil
}

// EmailInUse reports whether another account has the address; see
// mfagate.Users. Both sides lowercased, as the indexes of 0010 are.
func (t *tx) EmailInUse(email string, exceptID int64) (bool, error) {
	if email == "" { // nobody's address, though most have no previous one
		return false, nil
	}
	var n int
	err := t.queryRow(`SELECT COUNT(*) FROM users WHERE (lower(email) = lower(?) OR lower(previous_email) = lower(?)) AND id <> ?`,
		email, email, exceptID).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("look up address: %w", err)
	}
	return n > 0, nil
}

// oneUser reads the one user that where (a WHERE clause and what follows
// it) finds, with its roles: from the copy of them its rollout group keeps
// on the same row (group_roles, groups.go), in the same statement, so a
// sign-in reads an account in one round trip; from user_roles for an
// account an older release created and nobody has counted yet.
// sql.ErrNoRows when there is none.
//
// The copy is exact: the roles change only with CreateUser and UpdateUser,
// which write it in the same transaction; and, read with the row, it is
// what a FOR UPDATE that waited for another transaction then sees.
func (t *tx) oneUser(where string, args ...any) (*mfagate.User, error) {
	var (
		roles string
		state int
	)
	u, err := scanUser(withExtra{t.queryRow(`SELECT `+userColumns+`, group_roles, group_state FROM users `+where, args...),
		[]any{&roles, &state}})
	if err != nil {
		return nil, err
	}
	if state >= 0 {
		u.Roles = splitRoles(roles)
		return u, nil
	}
	rows, err := t.query(`SELECT role FROM user_roles WHERE user_id = ?`, u.ID)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var role string
		if err := rows.Scan(&role); err != nil {
			rows.Close()
			return nil, err
		}
		u.Roles = append(u.Roles, role)
	}
	if err := closeRows(rows); err != nil {
		return nil, err
	}
	// Sorted here, not by ORDER BY: PostgreSQL collations do not sort by byte.
	slices.Sort(u.Roles)
	return u, nil
}

func (t *tx) insertRoles(userID int64, roles []string) error {
	if len(roles) == 0 {
		return nil
	}
	values := make([]string, len(roles))
	args := make([]any, 0, 2*len(roles))
	for i, r := range roles {
		values[i] = "(?, ?)"
		args = append(args, userID, r)
	}
	_, err := t.exec(`INSERT INTO user_roles (user_id, role) VALUES `+strings.Join(values, ", "), args...)
	return err
}

func scanUser(s scanner) (*mfagate.User, error) {
	var (
		u                                   mfagate.User
		disabled                            int64
		created, lastSign, extended, skipAt sql.NullInt64
		unreached, invited, unconfirmed     sql.NullInt64
		shown, paceSkip                     sql.NullInt64
	)
	if err := s.Scan(&u.ID, &u.Username, &u.Email, &u.Name, &u.PasswordHash, &disabled, &created, &lastSign,
		&extended, &u.ExtensionReason, &u.Skips, &skipAt, &unreached, &u.UnreachedReason, &invited,
		&unconfirmed, &u.PreviousEmail, &u.Pace.Phase, &shown, &u.Pace.Skips, &paceSkip); err != nil {
		return nil, err
	}
	u.Pace.ShownAt, u.Pace.LastSkipAt = fromMillis(shown), fromMillis(paceSkip)
	u.Disabled = disabled != 0
	u.CreatedAt = fromMillis(created)
	u.LastSignInAt = fromMillis(lastSign)
	u.ExtendedUntil = fromMillis(extended)
	u.LastSkipAt = fromMillis(skipAt)
	u.UnreachedAt = fromMillis(unreached)
	u.InvitedAt = fromMillis(invited)
	u.EmailUnconfirmedAt = fromMillis(unconfirmed)
	return &u, nil
}

// newUserState is the group_state of a new account, which has no factor
// and has not been refused by a mail server yet.
func newUserState(u *mfagate.User) int {
	state := 0
	if u.Skips > 0 {
		state |= stateSkipped
	}
	if u.LastSignInAt.IsZero() {
		state |= stateNever
	}
	if u.Invited() {
		state |= stateInvited
	}
	if u.Disabled {
		state |= stateDisabled
	}
	return state
}

// normalizeRoles returns roles sorted, without duplicates or empty
// strings, in a new slice; nil when there are none.
func normalizeRoles(roles []string) []string {
	var out []string
	for _, r := range roles {
		if r != "" {
			out = append(out, r)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func usernameTaken(username string) error {
	return mfagate.Errorf(mfagate.ECONFLICT, "username %q is already taken", username)
}

// closeRows closes rows and returns the error that ended the iteration.
func closeRows(rows *sql.Rows) error {
	if err := rows.Close(); err != nil {
		return err
	}
	return rows.Err()
}
