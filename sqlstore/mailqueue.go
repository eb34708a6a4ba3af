package sqlstore

import (
	"database/sql"
	"fmt"
	"time"

	"github.com/mfagate/mfagate"
)

// queueHead is how many of the first due messages in line MailQueue looks
// at for the one waiting longest. Messages go out in id order, and nearly
// always became due in that order too; one tried again, or put back after
// its address was fixed, keeps its old id with a later due time, and
// looking a little further than the first finds the older ones behind it.
const queueHead = 100

// The statements of MailQueue (their plans are checked by a test).
const (
	queueCountSQL = `SELECT priority, COUNT(*) FROM mail_outbox WHERE status = 'pending' GROUP BY priority`
	queueDueSQL   = `SELECT MIN(next_attempt_at) FROM (SELECT next_attempt_at FROM mail_outbox
		WHERE status = 'pending' AND priority >= ? AND priority <= ? AND next_attempt_at <= ?
		ORDER BY priority, id LIMIT ?) head`
)

// MailQueue reports the pending messages of each priority; see
// mfagate.MailQueue. It reads only the partial index of pending messages
// (mail_outbox_queue) and, per priority, the rows of the first in line
// until it has seen queueHead due ones: the cost follows the queue, never
// the sent mail kept for retention. The priority range (not "priority = ?") keeps PostgreSQL on
// that index: with an equality it may walk the primary key in id order
// instead, through every sent message first.
func (t *tx) MailQueue(now time.Time) ([]mfagate.MailQueueLane, error) {
	lanes := []mfagate.MailQueueLane{{Priority: mfagate.MailSecurity}, {Priority: mfagate.MailAccount}, {Priority: mfagate.MailCampaign}}
	rows, err := t.query(queueCountSQL)
	if err != nil {
		return nil, fmt.Errorf("count queued mail: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var p, n int
		if err := rows.Scan(&p, &n); err != nil {
			return nil, fmt.Errorf("count queued mail: %w", err)
		}
		if p >= 0 && p < len(lanes) {
			lanes[p].Pending = n
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count queued mail: %w", err)
	}
	rows.Close()
	for i := range lanes {
		if lanes[i].Pending == 0 {
			continue
		}
		var due sql.NullInt64
		err := t.queryRow(queueDueSQL, lanes[i].Priority, lanes[i].Priority, now.UnixMilli(), queueHead).Scan(&due)
		if err != nil {
			return nil, fmt.Errorf("age of queued mail: %w", err)
		}
		lanes[i].Due = fromMillis(due)
	}
	return lanes, nil
}
