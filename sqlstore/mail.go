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

var _ mfagate.MailQueue = (*tx)(nil)
var _ mfagate.Unreached = (*tx)(nil)

const mailColumns = `id, to_addr, subject, body_text, created_at, status, attempts, next_attempt_at, sent_at,
	last_error, campaign, secret, priority, user_id, expires_at, queued_at, claim`

// EnqueueMail adds m to the outbox as pending, due at m.CreatedAt; see
// mfagate.MailQueue.
func (t *tx) EnqueueMail(m *mfagate.Message) error {
	if m.Priority < mfagate.MailSecurity || m.Priority > mfagate.MailCampaign {
		return fmt.Errorf("enqueue mail: priority %d is not one of the three", m.Priority)
	}
	var userID any
	if m.UserID != 0 {
		userID = m.UserID
	}
	id, _, err := t.insertID(`INSERT INTO mail_outbox
		(to_addr, subject, body_text, created_at, status, attempts, next_attempt_at, campaign, secret,
		priority, user_id, expires_at, queued_at)
		VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?)
		RETURNING id`,
		m.To, m.Subject, m.Text, millis(m.CreatedAt), mfagate.MailPending, millis(m.CreatedAt), m.Campaign, boolInt(m.Secret),
		m.Priority, userID, millis(m.ExpiresAt), millis(m.CreatedAt))
	if err != nil {
		return fmt.Errorf("enqueue mail: %w", err)
	}
	m.ID, m.Status, m.Attempts, m.NextAttemptAt, m.QueuedAt = id, mfagate.MailPending, 0, m.CreatedAt, m.CreatedAt
	if m.Priority == mfagate.MailSecurity {
		t.securityMail = true
	}
	return nil
}

// ClaimMail leases a batch of due messages; see mfagate.MailQueue.
//
// One statement picks and leases the rows, so no other claimer can take
// them between a read and a write. The pick is a MATERIALIZED CTE so it
// runs once: as an IN subquery PostgreSQL may rescan it, and a rescan after
// the first rows were leased picks more than limit. The lease is checked
// again on the rows being updated: on PostgreSQL (READ COMMITTED) a claimer
// that waited for another re-reads the row and skips it once the other's
// lease is set. 'pending' is written out, not bound, so that SQLite can
// walk the partial index mail_outbox_queue in the order of the pick.
func (t *tx) ClaimMail(c mfagate.MailClaim) ([]*mfagate.Message, error) {
	if c.Limit <= 0 {
		return nil, nil
	}
	at := c.Now.UnixMilli()
	if c.Lowest <= mfagate.MailSecurity {
		// Only security mail expires (it carries a code).
		if _, err := t.exec(`UPDATE mail_outbox SET status = ?, lease_until = NULL, claim = NULL,
				body_text = CASE WHEN secret = 1 THEN '' ELSE body_text END,
				last_error = 'not sent: the code in it expired first'
			WHERE status = 'pending' AND priority = ? AND expires_at <= ?
			AND (lease_until IS NULL OR lease_until <= `+t.dialect.nowMillis()+`)`,
			mfagate.MailFailed, mfagate.MailSecurity, at); err != nil {
			return nil, fmt.Errorf("claim mail: give up expired: %w", err)
		}
	}
	// Within security mail, codes (secret) go before notices: someone is
	// waiting at the page for a code, and a spray of wrong passwords over
	// many accounts queues a lock notice for each. Only the security
	// lane orders so; the others keep the index's order.
	order := `priority, id`
	if c.Lowest <= mfagate.MailSecurity {
		order = `priority, secret DESC, id`
	}
	dbNow := t.dialect.nowMillis()
	rows, err := t.writeQuery(`WITH due AS MATERIALIZED (
			SELECT id FROM mail_outbox
			WHERE status = 'pending' AND priority >= ? AND priority <= ?
			AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until <= `+dbNow+`)
			AND (expires_at IS NULL OR expires_at > ?)
			ORDER BY `+order+` LIMIT ?`+t.dialect.skipLocked()+`
		)
		UPDATE mail_outbox SET lease_until = `+dbNow+` + ?, attempts = attempts + 1, claim = ?
		WHERE id IN (SELECT id FROM due)
		AND status = 'pending' AND (lease_until IS NULL OR lease_until <= `+dbNow+`)
		RETURNING `+mailColumns,
		c.Lowest, c.Highest, at, at, c.Limit, c.Lease.Milliseconds(), c.Claim)
	if err != nil {
		return nil, fmt.Errorf("claim mail: %w", err)
	}
	ms, err := scanMessages(rows)
	if err != nil {
		return nil, fmt.Errorf("claim mail: %w", err)
	}
	// RETURNING gives no order; hand them out as they were picked.
	slices.SortFunc(ms, func(a, b *mfagate.Message) int {
		return cmp.Or(cmp.Compare(a.Priority, b.Priority), compareSecretFirst(a, b), cmp.Compare(a.ID, b.ID))
	})
	return ms, nil
}

// compareSecretFirst orders a security code before a security notice, as
// ClaimMail picks them.
func compareSecretFirst(a, b *mfagate.Message) int {
	if a.Priority != mfagate.MailSecurity || a.Secret == b.Secret {
		return 0
	}
	if a.Secret {
		return -1
	}
	return 1
}

// HoldMail checks that a message is still the batch's and extends its
// lease; see mfagate.MailQueue.
func (t *tx) HoldMail(id, claim int64, now time.Time, lease time.Duration) (bool, error) {
	n, err := t.execCount(`UPDATE mail_outbox SET lease_until = `+t.dialect.nowMillis()+` + ?
		WHERE id = ? AND claim = ? AND status = 'pending' AND (expires_at IS NULL OR expires_at > ?)`,
		lease.Milliseconds(), id, claim, now.UnixMilli())
	if err != nil {
		return false, fmt.Errorf("hold mail %d: %w", id, err)
	}
	return n == 1, nil
}

// RenewMail extends the lease of a batch; see mfagate.MailQueue.
func (t *tx) RenewMail(claim int64, lease time.Duration) (int, error) {
	n, err := t.execCount(`UPDATE mail_outbox SET lease_until = `+t.dialect.nowMillis()+` + ?
		WHERE claim = ? AND status = 'pending'`,
		lease.Milliseconds(), claim)
	if err != nil {
		return 0, fmt.Errorf("renew mail lease: %w", err)
	}
	return n, nil
}

// ReleaseMail ends the lease of untried messages of a batch; see
// mfagate.MailQueue.
func (t *tx) ReleaseMail(claim int64, ids []int64) (int, error) {
	released := 0
	for chunk := range slices.Chunk(ids, 500) {
		args := []any{claim}
		for _, id := range chunk {
			args = append(args, id)
		}
		n, err := t.execCount(`UPDATE mail_outbox SET lease_until = NULL, claim = NULL
			WHERE claim = ? AND status = 'pending' AND id IN (`+placeholders(len(chunk))+`)`, args...)
		if err != nil {
			return released, fmt.Errorf("release mail: %w", err)
		}
		released += n
	}
	return released, nil
}

// MarkMailSent records that the message was sent; see mfagate.MailQueue. The
// status check in the UPDATE is what makes "sent exactly once" hold even
// when two senders race. A secret message loses its text in the same
// statement: once delivered, the code in it lives only in the person's
// mailbox.
func (t *tx) MarkMailSent(id int64, at time.Time) error {
	n, err := t.execCount(`UPDATE mail_outbox SET status = ?, sent_at = ?, lease_until = NULL, claim = NULL,
			body_text = CASE WHEN secret = 1 THEN '' ELSE body_text END
		WHERE id = ? AND status <> ?`,
		mfagate.MailSent, millis(at), id, mfagate.MailSent)
	if err != nil {
		return fmt.Errorf("mark mail %d sent: %w", id, err)
	}
	if n == 0 {
		return t.whyNotChanged(id, 0)
	}
	return nil
}

// RetryMail records a failed attempt and when to try again, ending the
// lease; see mfagate.MailQueue. A message already sent, or now in another
// batch, is not touched: ECONFLICT.
func (t *tx) RetryMail(id, claim int64, lastErr string, next time.Time) error {
	where, args := inBatch(id, claim)
	n, err := t.execCount(`UPDATE mail_outbox SET lease_until = NULL, claim = NULL, next_attempt_at = ?, last_error = ?
		WHERE `+where, append([]any{millis(next), lastErr}, args...)...)
	if err != nil {
		return fmt.Errorf("retry mail %d: %w", id, err)
	}
	if n == 0 {
		return t.whyNotChanged(id, claim)
	}
	return nil
}

// FailMail records that delivery was given up; see mfagate.MailQueue. A message
// already sent, or now in another batch, is not touched: ECONFLICT. A
// secret message loses its text.
func (t *tx) FailMail(id, claim int64, lastErr string) error {
	where, args := inBatch(id, claim)
	n, err := t.execCount(`UPDATE mail_outbox SET status = ?, lease_until = NULL, claim = NULL, last_error = ?,
			body_text = CASE WHEN secret = 1 THEN '' ELSE body_text END
		WHERE `+where, append([]any{mfagate.MailFailed, lastErr}, args...)...)
	if err != nil {
		return fmt.Errorf("fail mail %d: %w", id, err)
	}
	if n == 0 {
		return t.whyNotChanged(id, claim)
	}
	return nil
}

// inBatch is the condition of RetryMail and FailMail: message id, not
// sent, and in batch claim unless claim is 0.
func inBatch(id, claim int64) (string, []any) {
	if claim == 0 {
		return `id = ? AND status <> ?`, []any{id, mfagate.MailSent}
	}
	return `id = ? AND status <> ? AND claim = ?`, []any{id, mfagate.MailSent, claim}
}

// Mail lists outbox messages, newest first; see mfagate.MailQueue.
func (t *tx) Mail(limit int) ([]*mfagate.Message, error) {
	limitSQL, args := limitClause(limit, nil)
	rows, err := t.query(`SELECT `+mailColumns+` FROM mail_outbox ORDER BY id DESC`+limitSQL, args...)
	if err != nil {
		return nil, fmt.Errorf("list mail: %w", err)
	}
	ms, err := scanMessages(rows)
	if err != nil {
		return nil, fmt.Errorf("list mail: %w", err)
	}
	return ms, nil
}

// whyNotChanged explains an UPDATE of a message that changed nothing
// because the message is missing, already sent, or (claim not 0) in
// another batch.
func (t *tx) whyNotChanged(id, claim int64) error {
	var status string
	var held sql.NullInt64
	err := t.queryRow(`SELECT status, claim FROM mail_outbox WHERE id = ?`, id).Scan(&status, &held)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return mfagate.Errorf(mfagate.ENOTFOUND, "message %d not found", id)
	case err != nil:
		return fmt.Errorf("get mail %d: %w", id, err)
	case status == mfagate.MailSent:
		return mfagate.Errorf(mfagate.ECONFLICT, "message %d was already sent", id)
	case claim != 0 && held.Int64 != claim:
		return mfagate.Errorf(mfagate.ECONFLICT, "message %d is another worker's now", id)
	}
	return fmt.Errorf("mail %d: no row changed (status %q)", id, status)
}

// scanMessages reads and closes rows of mailColumns.
func scanMessages(rows *sql.Rows) ([]*mfagate.Message, error) {
	var ms []*mfagate.Message
	for rows.Next() {
		var (
			m                                                   mfagate.Message
			created, next, sent, userID, expires, queued, claim sql.NullInt64
			secret                                              int64
		)
		if err := rows.Scan(&m.ID, &m.To, &m.Subject, &m.Text, &created, &m.Status, &m.Attempts,
			&next, &sent, &m.LastError, &m.Campaign, &secret, &m.Priority, &userID, &expires, &queued, &claim); err != nil {
			rows.Close()
			return nil, err
		}
		m.CreatedAt, m.NextAttemptAt, m.SentAt = fromMillis(created), fromMillis(next), fromMillis(sent)
		m.ExpiresAt, m.QueuedAt = fromMillis(expires), fromMillis(queued)
		m.UserID, m.Claim = userID.Int64, claim.Int64
		m.Secret = secret != 0
		ms = append(ms, &m)
	}
	if err := closeRows(rows); err != nil {
		return nil, err
	}
	return ms, nil
}

// MarkUnreached marks the person whose address a mail server refused; see
// mfagate.Unreached. The first refusal's time is kept, with the latest answer.
func (t *tx) MarkUnreached(userID int64, address, reason string, at time.Time) (bool, error) {
	var email string
	err := t.queryRow(`SELECT email FROM users WHERE id = ?`+t.forUpdate(), userID).Scan(&email)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, mfagate.Errorf(mfagate.ENOTFOUND, "user %d not found", userID)
	case err != nil:
		return false, fmt.Errorf("mark user %d unreached: %w", userID, err)
	case !strings.EqualFold(strings.TrimSpace(email), strings.TrimSpace(address)):
		return false, nil // their address has changed since
	}
	if _, err := t.exec(`UPDATE users SET unreached_at = COALESCE(unreached_at, ?), unreached_reason = ? WHERE id = ?`,
		at.UnixMilli(), reason, userID); err != nil {
		return false, fmt.Errorf("mark user %d unreached: %w", userID, err)
	}
	if err := t.regroup(userID); err != nil {
		return false, fmt.Errorf("mark user %d unreached: %w", userID, err)
	}
	return true, nil
}

// ClearUnreached removes the unreached mark; see mfagate.Unreached.
func (t *tx) ClearUnreached(userID int64) error {
	n, err := t.execCount(`UPDATE users SET unreached_at = NULL, unreached_reason = '' WHERE id = ?`, userID)
	if err != nil {
		return fmt.Errorf("clear user %d unreached: %w", userID, err)
	}
	if n == 0 {
		return mfagate.Errorf(mfagate.ENOTFOUND, "user %d not found", userID)
	}
	if err := t.regroup(userID); err != nil {
		return fmt.Errorf("clear user %d unreached: %w", userID, err)
	}
	return nil
}

// RequeueFailedMail sends a person's failed messages again; see
// mfagate.Unreached. The same rows go back in the queue, so a campaign's counts
// move from failed to pending rather than counting the person twice.
func (t *tx) RequeueFailedMail(userID int64, to string, since, now time.Time) (int, error) {
	n, err := t.execCount(`UPDATE mail_outbox SET status = ?, to_addr = ?, next_attempt_at = ?, queued_at = ?,
			lease_until = NULL, claim = NULL, attempts = 0, last_error = ''
		WHERE user_id = ? AND status = ? AND secret = 0 AND created_at >= ?`,
		mfagate.MailPending, to, now.UnixMilli(), now.UnixMilli(), userID, mfagate.MailFailed, since.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("requeue mail of user %d: %w", userID, err)
	}
	return n, nil
}

// UnreachedByRole counts enabled unreached people per role; see
// mfagate.Unreached. It adds up the rollout groups' kept counts.
func (t *tx) UnreachedByRole() (map[string]int, error) {
	groups, err := t.groupRows()
	if err != nil {
		return nil, fmt.Errorf("count unreached people: %w", err)
	}
	out := map[string]int{"": 0}
	for _, g := range groups {
		if g.state&(stateUnreached|stateDisabled) != stateUnreached {
			continue
		}
		out[""] += g.people
		for _, role := range splitRoles(g.roles) {
			out[role] += g.people
		}
	}
	return out, nil
}
