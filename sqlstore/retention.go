package sqlstore

import (
	"fmt"
	"time"

	"github.com/mfagate/mfagate"
)

var _ mfagate.Jobs = (*tx)(nil)
var _ mfagate.Retention = (*tx)(nil)

// ClaimJob lets one replica run a scheduled job; see mfagate.Jobs.
//
// One conditional upsert decides: the first replica to move next_run_at
// past now wins the turn, and the others' WHERE no longer matches, so
// they get no row back.
func (t *tx) ClaimJob(name string, now, next time.Time) (bool, error) {
	_, ok, err := t.insertID(`INSERT INTO jobs (name, next_run_at) VALUES (?, ?)
		ON CONFLICT (name) DO UPDATE SET next_run_at = excluded.next_run_at
		WHERE jobs.next_run_at <= ?
		RETURNING 1`,
		name, next.UnixMilli(), now.UnixMilli())
	if err != nil {
		return false, fmt.Errorf("claim job %q: %w", name, err)
	}
	return ok, nil
}

// DeleteOldEmailCodes removes codes long expired; see mfagate.Retention.
func (t *tx) DeleteOldEmailCodes(expiredBefore, createdBefore time.Time) (int, error) {
	n, err := t.execCount(`DELETE FROM email_codes WHERE expires_at < ? AND created_at < ?`,
		expiredBefore.UnixMilli(), createdBefore.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("delete old email codes: %w", err)
	}
	return n, nil
}

// ExpireSecretMail gives up on code emails too old to be of use; see
// mfagate.Retention.
func (t *tx) ExpireSecretMail(createdBefore, now time.Time) (int, error) {
	n, err := t.execCount(`UPDATE mail_outbox SET status = ?, body_text = '', lease_until = NULL,
			last_error = 'not delivered before the code in it expired'
		WHERE secret = 1 AND status = ? AND created_at < ? AND (expires_at IS NULL OR expires_at <= ?)
		AND (lease_until IS NULL OR lease_until <= `+t.dialect.nowMillis()+`)`,
		mfagate.MailFailed, mfagate.MailPending, createdBefore.UnixMilli(), now.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("expire secret mail: %w", err)
	}
	return n, nil
}

// DeleteOldMail removes old sent and failed messages; see mfagate.Retention.
//
// One DELETE picks and removes the rows and returns the campaign and
// status of each, and those counts are added to campaign_archive in the
// same transaction, so campaign progress never goes backwards and counts
// only what was really deleted: a message put back in the queue between
// two statements (its address fixed) could otherwise be archived as
// failed and still be counted as pending. A limit keeps each transaction
// short when a campaign left millions.
func (t *tx) DeleteOldMail(createdBefore time.Time, limit int) (int, error) {
	if limit <= 0 {
		return 0, nil
	}
	rows, err := t.writeQuery(`DELETE FROM mail_outbox WHERE id IN (
			SELECT id FROM mail_outbox WHERE status IN (?, ?) AND created_at < ? ORDER BY id LIMIT ?)
		AND status IN (?, ?)
		RETURNING campaign, status`,
		mfagate.MailSent, mfagate.MailFailed, createdBefore.UnixMilli(), limit, mfagate.MailSent, mfagate.MailFailed)
	if err != nil {
		return 0, fmt.Errorf("delete old mail: %w", err)
	}
	type counts struct{ sent, failed int }
	byCampaign := map[string]*counts{}
	n := 0
	for rows.Next() {
		var campaign, status string
		if err := rows.Scan(&campaign, &status); err != nil {
			rows.Close()
			return 0, fmt.Errorf("delete old mail: %w", err)
		}
		n++
		if campaign == "" {
			continue
		}
		c := byCampaign[campaign]
		if c == nil {
			c = &counts{}
			byCampaign[campaign] = c
		}
		if status == mfagate.MailSent {
			c.sent++
		} else {
			c.failed++
		}
	}
	if err := closeRows(rows); err != nil {
		return 0, fmt.Errorf("delete old mail: %w", err)
	}
	for campaign, c := range byCampaign {
		if _, err := t.exec(`INSERT INTO campaign_archive (campaign, sent, failed) VALUES (?, ?, ?)
			ON CONFLICT (campaign) DO UPDATE SET sent = campaign_archive.sent + excluded.sent,
				failed = campaign_archive.failed + excluded.failed`,
			campaign, c.sent, c.failed); err != nil {
			return 0, fmt.Errorf("delete old mail: keep campaign counts: %w", err)
		}
	}
	return n, nil
}
