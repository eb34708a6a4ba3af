package sqlstore

import (
	"cmp"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/mfagate/mfagate"
)

const mailColumns = `id, to_addr, subject, body_text, created_at, status, attempts, next_attempt_at, sent_at,
	last_error, campaign, secret`

// EnqueueMail adds m to the outbox as pending, due at m.CreatedAt; see
// mfagate.Tx.
func (t *tx) EnqueueMail(m *mfagate.Message) error {
	id, _, err := t.insertID(`INSERT INTO mail_outbox
		(to_addr, subject, body_text, created_at, status, attempts, next_attempt_at, campaign, secret)
		VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?)
		RETURNING id`,
		m.To, m.Subject, m.Text, millis(m.CreatedAt), mfagate.MailPending, millis(m.CreatedAt), m.Campaign, boolInt(m.Secret))
	if err != nil {
		return fmt.Errorf("enqueue mail: %w", err)
	}
	m.ID, m.Status, m.Attempts, m.NextAttemptAt = id, mfagate.MailPending, 0, m.CreatedAt
	return nil
}

// ClaimMail leases up to limit due messages; see mfagate.Tx.
//
// One statement picks and leases the rows, so no other claimer can take
// them between a read and a write. The pick is a MATERIALIZED CTE so it
// runs once: as an IN subquery PostgreSQL may rescan it, and a rescan after
// the first rows were leased picks more than limit. The lease is checked
// again on the rows being updated: on PostgreSQL (READ COMMITTED) a claimer
// that waited for another re-reads the row and skips it once the other's
// lease is set.
func (t *tx) ClaimMail(now time.Time, lease time.Duration, limit int) ([]*mfagate.Message, error) {
	if limit <= 0 {
		return nil, nil
	}
	at, until := now.UnixMilli(), now.Add(lease).UnixMilli()
	rows, err := t.writeQuery(`WITH due AS MATERIALIZED (
			SELECT id FROM mail_outbox
			WHERE status = ? AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until <= ?)
			ORDER BY id LIMIT ?`+t.dialect.skipLocked()+`
		)
		UPDATE mail_outbox SET lease_until = ?, attempts = attempts + 1
		WHERE id IN (SELECT id FROM due)
		AND status = ? AND (lease_until IS NULL OR lease_until <= ?)
		RETURNING `+mailColumns,
		mfagate.MailPending, at, at, limit, until, mfagate.MailPending, at)
	if err != nil {
		return nil, fmt.Errorf("claim mail: %w", err)
	}
	ms, err := scanMessages(rows)
	if err != nil {
		return nil, fmt.Errorf("claim mail: %w", err)
	}
	// RETURNING gives no order; hand them out oldest first.
	slices.SortFunc(ms, func(a, b *mfagate.Message) int { return cmp.Compare(a.ID, b.ID) })
	return ms, nil
}

// MarkMailSent records that the message was sent; see mfagate.Tx. The
// status check in the UPDATE is what makes "sent exactly once" hold even
// when two senders race. A secret message loses its text in the same
// statement: once delivered, the code in it lives only in the person's
// mailbox.
func (t *tx) MarkMailSent(id int64, at time.Time) error {
	n, err := t.execCount(`UPDATE mail_outbox SET status = ?, sent_at = ?, lease_until = NULL,
			body_text = CASE WHEN secret = 1 THEN '' ELSE body_text END
		WHERE id = ? AND status <> ?`,
		mfagate.MailSent, millis(at), id, mfagate.MailSent)
	if err != nil {
		return fmt.Errorf("mark mail %d sent: %w", id, err)
	}
	if n == 0 {
		return t.whyNotChanged(id)
	}
	return nil
}

// RetryMail records a failed attempt and when to try again, ending the
// lease; see mfagate.Tx. A message already sent is not touched: ECONFLICT.
func (t *tx) RetryMail(id int64, lastErr string, next time.Time) error {
	n, err := t.execCount(`UPDATE mail_outbox SET lease_until = NULL, next_attempt_at = ?, last_error = ?
		WHERE id = ? AND status <> ?`,
		millis(next), lastErr, id, mfagate.MailSent)
	if err != nil {
		return fmt.Errorf("retry mail %d: %w", id, err)
	}
	if n == 0 {
		return t.whyNotChanged(id)
	}
	return nil
}

// FailMail records that delivery was given up; see mfagate.Tx. A message
// already sent is not touched: ECONFLICT. A secret message loses its text.
func (t *tx) FailMail(id int64, lastErr string) error {
	n, err := t.execCount(`UPDATE mail_outbox SET status = ?, lease_until = NULL, last_error = ?,
			body_text = CASE WHEN secret = 1 THEN '' ELSE body_text END
		WHERE id = ? AND status <> ?`,
		mfagate.MailFailed, lastErr, id, mfagate.MailSent)
	if err != nil {
		return fmt.Errorf("fail mail %d: %w", id, err)
	}
	if n == 0 {
		return t.whyNotChanged(id)
	}
	return nil
}

// Mail lists outbox messages, newest first; see mfagate.Tx.
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
// because the message is missing or already sent.
func (t *tx) whyNotChanged(id int64) error {
	var status string
	err := t.queryRow(`SELECT status FROM mail_outbox WHERE id = ?`, id).Scan(&status)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return mfagate.Errorf(mfagate.ENOTFOUND, "message %d not found", id)
	case err != nil:
		return fmt.Errorf("get mail %d: %w", id, err)
	case status == mfagate.MailSent:
		return mfagate.Errorf(mfagate.ECONFLICT, "message %d was already sent", id)
	}
	return fmt.Errorf("mail %d: no row changed (status %q)", id, status)
}

// scanMessages reads and closes rows of mailColumns.
func scanMessages(rows *sql.Rows) ([]*mfagate.Message, error) {
	var ms []*mfagate.Message
	for rows.Next() {
		var (
			m                   mfagate.Message
			created, next, sent sql.NullInt64
			secret              int64
		)
		if err := rows.Scan(&m.ID, &m.To, &m.Subject, &m.Text, &created, &m.Status, &m.Attempts,
			&next, &sent, &m.LastError, &m.Campaign, &secret); err != nil {
			rows.Close()
			return nil, err
		}
		m.CreatedAt, m.NextAttemptAt, m.SentAt = fromMillis(created), fromMillis(next), fromMillis(sent)
		m.Secret = secret != 0
		ms = append(ms, &m)
	}
	if err := closeRows(rows); err != nil {
		return nil, err
	}
	return ms, nil
}
