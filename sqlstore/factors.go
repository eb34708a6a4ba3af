package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/mfagate/mfagate"
)

var _ mfagate.Factors = (*tx)(nil)

const factorColumns = `id, user_id, method, secret, last_step, created_at, last_used_at`

// CreateFactor inserts f and sets f.ID; see mfagate.Factors.
func (t *tx) CreateFactor(f *mfagate.Factor) error {
	if err := t.lockUser(f.UserID); err != nil {
		return fmt.Errorf("create %s factor: %w", f.Method, err)
	}
	// ON CONFLICT DO NOTHING, as in CreateUser: a conflict must not abort a
	// PostgreSQL transaction.
	id, ok, err := t.insertID(`INSERT INTO factors
		(user_id, method, secret, last_step, created_at, last_used_at)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (user_id, method) DO NOTHING
		RETURNING id`,
		f.UserID, f.Method, blob(f.Secret), f.LastStep, millis(f.CreatedAt), millis(f.LastUsedAt))
	if err != nil {
		if isUniqueViolation(err) {
			return factorExists(f.Method)
		}
		return fmt.Errorf("create %s factor: %w", f.Method, err)
	}
	if !ok {
		return factorExists(f.Method)
	}
	if err := t.regroup(f.UserID); err != nil {
		return fmt.Errorf("create %s factor: %w", f.Method, err)
	}
	f.ID = id
	return nil
}

// UserFactors lists a user's factors, oldest first; see mfagate.Factors.
func (t *tx) UserFactors(userID int64) ([]*mfagate.Factor, error) {
	rows, err := t.query(`SELECT `+factorColumns+` FROM factors WHERE user_id = ?
		ORDER BY created_at, id`, userID)
	if err != nil {
		return nil, fmt.Errorf("list factors of user %d: %w", userID, err)
	}
	var fs []*mfagate.Factor
	for rows.Next() {
		var (
			f             mfagate.Factor
			created, used sql.NullInt64
		)
		if err := rows.Scan(&f.ID, &f.UserID, &f.Method, &f.Secret, &f.LastStep, &created, &used); err != nil {
			rows.Close()
			return nil, fmt.Errorf("list factors of user %d: %w", userID, err)
		}
		f.CreatedAt, f.LastUsedAt = fromMillis(created), fromMillis(used)
		fs = append(fs, &f)
	}
	if err := closeRows(rows); err != nil {
		return nil, fmt.Errorf("list factors of user %d: %w", userID, err)
	}
	return fs, nil
}

// UseFactor records a successful use; see mfagate.Factors.
//
// One statement for every method: a TOTP factor moves to step only while
// its stored step is earlier, checked in the UPDATE itself, so of two
// replicas accepting the same code at once only one changes the row (on
// PostgreSQL the second waits for the first's row lock and then re-checks
// the condition against the new step). Other methods ignore step.
func (t *tx) UseFactor(id int64, step int64, at time.Time) error {
	n, err := t.execCount(`UPDATE factors
		SET last_step = CASE WHEN method = ? THEN ? ELSE last_step END, last_used_at = ?
		WHERE id = ? AND (method <> ? OR last_step < ?)`,
		mfagate.MethodTOTP, step, millis(at), id, mfagate.MethodTOTP, step)
	if err != nil {
		return fmt.Errorf("use factor %d: %w", id, err)
	}
	if n > 0 {
		return nil
	}
	var method string
	err = t.queryRow(`SELECT method FROM factors WHERE id = ?`, id).Scan(&method)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return factorNotFound(id)
	case err != nil:
		return fmt.Errorf("use factor %d: %w", id, err)
	}
	return mfagate.Errorf(mfagate.ECONFLICT, "this code was already used; wait for the next one")
}

// DeleteFactor removes one factor of the user; see mfagate.Factors.
func (t *tx) DeleteFactor(userID, id int64) error {
	// The user is part of the condition so that one person can never
	// remove another's factor by guessing an ID.
	if err := t.lockUser(userID); err != nil {
		return fmt.Errorf("delete factor %d: %w", id, err)
	}
	n, err := t.execCount(`DELETE FROM factors WHERE id = ? AND user_id = ?`, id, userID)
	if err != nil {
		return fmt.Errorf("delete factor %d: %w", id, err)
	}
	if n == 0 {
		return factorNotFound(id)
	}
	if err := t.regroup(userID); err != nil {
		return fmt.Errorf("delete factor %d: %w", id, err)
	}
	return nil
}

// DeleteUserFactors removes a user's factors and recovery codes; see
// mfagate.Factors.
func (t *tx) DeleteUserFactors(userID int64) (int, error) {
	if err := t.lockUser(userID); err != nil {
		return 0, fmt.Errorf("delete factors of user %d: %w", userID, err)
	}
	if _, err := t.exec(`DELETE FROM recovery_codes WHERE user_id = ?`, userID); err != nil {
		return 0, fmt.Errorf("delete factors of user %d: recovery codes: %w", userID, err)
	}
	n, err := t.execCount(`DELETE FROM factors WHERE user_id = ?`, userID)
	if err != nil {
		return 0, fmt.Errorf("delete factors of user %d: %w", userID, err)
	}
	if err := t.regroup(userID); err != nil {
		return 0, fmt.Errorf("delete factors of user %d: %w", userID, err)
	}
	return n, nil
}

// ReplaceRecoveryCodes removes the user's recovery codes and stores codes
// instead, setting their IDs; see mfagate.Factors. Each code's UserID is set to
// userID, which is what is stored whatever the code said.
func (t *tx) ReplaceRecoveryCodes(userID int64, codes []*mfagate.RecoveryCode) error {
	if _, err := t.exec(`DELETE FROM recovery_codes WHERE user_id = ?`, userID); err != nil {
		return fmt.Errorf("replace recovery codes of user %d: %w", userID, err)
	}
	for _, c := range codes {
		id, _, err := t.insertID(`INSERT INTO recovery_codes (user_id, hash, created_at, used_at)
			VALUES (?, ?, ?, ?)
			RETURNING id`,
			userID, c.Hash, millis(c.CreatedAt), millis(c.UsedAt))
		if err != nil {
			return fmt.Errorf("replace recovery codes of user %d: %w", userID, err)
		}
		c.ID, c.UserID = id, userID
	}
	return nil
}

// UseRecoveryCode marks the user's unused code with that hash used; see
// mfagate.Factors. The "unused" check is in the UPDATE, so a code redeemed by
// two requests at once is accepted once.
func (t *tx) UseRecoveryCode(userID int64, hash []byte, at time.Time) error {
	n, err := t.execCount(`UPDATE recovery_codes SET used_at = ?
		WHERE user_id = ? AND hash = ? AND used_at IS NULL`,
		millis(at), userID, hash)
	if err != nil {
		return fmt.Errorf("use recovery code of user %d: %w", userID, err)
	}
	if n == 0 {
		return mfagate.Errorf(mfagate.ENOTFOUND, "no such unused recovery code")
	}
	return nil
}

// UnusedRecoveryCodes counts the user's codes not yet used; see mfagate.Factors.
func (t *tx) UnusedRecoveryCodes(userID int64) (int, error) {
	var n int
	if err := t.queryRow(`SELECT COUNT(*) FROM recovery_codes WHERE user_id = ? AND used_at IS NULL`,
		userID).Scan(&n); err != nil {
		return 0, fmt.Errorf("count recovery codes of user %d: %w", userID, err)
	}
	return n, nil
}

// CheckupFactors lists factors added beside another and not used since,
// due for a check-up reminder; see mfagate.Factors. The range on
// created_at is read from factors_created (0012), so a pass costs the
// factors added in the window, not all of them.
func (t *tx) CheckupFactors(from, to time.Time, campaignPrefix string, afterID int64, limit int) ([]*mfagate.Factor, error) {
	args := []any{millis(from), millis(to), afterID, campaignPrefix}
	limitSQL, args := limitClause(limit, args)
	rows, err := t.query(`SELECT f.id, f.user_id, f.method, f.secret, f.last_step, f.created_at, f.last_used_at
		FROM factors f JOIN users u ON u.id = f.user_id
		WHERE f.created_at >= ? AND f.created_at <= ? AND f.id > ?
			AND (f.last_used_at IS NULL OR f.last_used_at <= f.created_at)
			AND u.disabled = 0
			AND EXISTS (SELECT 1 FROM factors o WHERE o.user_id = f.user_id AND o.id <> f.id)
			AND NOT EXISTS (SELECT 1 FROM campaign_sends c
				WHERE c.campaign = ? || CAST(f.id AS TEXT) AND c.user_id = f.user_id)
		ORDER BY f.id`+limitSQL, args...)
	if err != nil {
		return nil, fmt.Errorf("list factors due a check-up: %w", err)
	}
	var fs []*mfagate.Factor
	for rows.Next() {
		var (
			f             mfagate.Factor
			created, used sql.NullInt64
		)
		if err := rows.Scan(&f.ID, &f.UserID, &f.Method, &f.Secret, &f.LastStep, &created, &used); err != nil {
			rows.Close()
			return nil, fmt.Errorf("list factors due a check-up: %w", err)
		}
		f.CreatedAt, f.LastUsedAt = fromMillis(created), fromMillis(used)
		fs = append(fs, &f)
	}
	if err := closeRows(rows); err != nil {
		return nil, fmt.Errorf("list factors due a check-up: %w", err)
	}
	return fs, nil
}

func factorExists(method string) error {
	return mfagate.Errorf(mfagate.ECONFLICT, "a %s factor is already set up", method)
}

func factorNotFound(id int64) error {
	return mfagate.Errorf(mfagate.ENOTFOUND, "factor %d not found", id)
}

// totpSampleSize is how many sealed secrets TOTPSample, and the check of
// a backup, return: a wrong
// key opens none of them, and one damaged value does not hide that the
// key is right.
const totpSampleSize = 3

// TOTPSample counts the authenticator apps in the database and returns
// the newest few with their sealed secrets, for a server to check at
// start that its key opens them. The database must be migrated.
func (db *DB) TOTPSample(ctx context.Context) (int, []*mfagate.Factor, error) {
	ctx, cancel := db.withDeadline(ctx)
	defer cancel()
	n, fs, err := sampleTOTP(ctx, db.db, db.dialect)
	return n, fs, unavailable(ctx, err)
}

// sampleTOTP is TOTPSample on q, a database or a backup file.
func sampleTOTP(ctx context.Context, q querier, d dialect) (int, []*mfagate.Factor, error) {
	var n int
	if err := q.QueryRowContext(ctx, d.rebind("SELECT COUNT(*) FROM factors WHERE method = ?"), mfagate.MethodTOTP).Scan(&n); err != nil {
		return 0, nil, err
	}
	rows, err := q.QueryContext(ctx, d.rebind("SELECT id, user_id, secret FROM factors WHERE method = ? ORDER BY id DESC LIMIT ?"), mfagate.MethodTOTP, totpSampleSize)
	if err != nil {
		return 0, nil, err
	}
	defer rows.Close()
	var fs []*mfagate.Factor
	for rows.Next() {
		f := &mfagate.Factor{Method: mfagate.MethodTOTP}
		if err := rows.Scan(&f.ID, &f.UserID, &f.Secret); err != nil {
			return 0, nil, err
		}
		fs = append(fs, f)
	}
	return n, fs, rows.Err()
}
