package sqlstore

import (
	"database/sql"
	"fmt"
	"time"

	"github.com/mfagate/mfagate"
)

var _ mfagate.Notices = (*tx)(nil)

const noticeColumns = `user_id, kind, sent_at, held, held_since, held_last_at, held_from`

// HoldNotice returns the state of one kind of security notice to the user
// and holds it until the transaction ends; see mfagate.Notices. It takes the
// hold as HoldThrottle does, with an upsert that changes nothing.
func (t *tx) HoldNotice(userID int64, kind string) (*mfagate.NoticeState, error) {
	rows, err := t.writeQuery(`INSERT INTO security_notices (user_id, kind) VALUES (?, ?)
		ON CONFLICT (user_id, kind) DO UPDATE SET held = security_notices.held
		RETURNING `+noticeColumns, userID, kind)
	if err != nil {
		return nil, fmt.Errorf("hold notice %q of user %d: %w", kind, userID, err)
	}
	n, err := scanOne(rows, scanNotice)
	if err != nil {
		return nil, fmt.Errorf("hold notice %q of user %d: %w", kind, userID, err)
	}
	return n, nil
}

// SaveNotice writes n; see mfagate.Notices.
func (t *tx) SaveNotice(n *mfagate.NoticeState) error {
	if _, err := t.exec(`INSERT INTO security_notices (`+noticeColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (user_id, kind) DO UPDATE SET sent_at = excluded.sent_at, held = excluded.held,
			held_since = excluded.held_since, held_last_at = excluded.held_last_at, held_from = excluded.held_from`,
		n.UserID, n.Kind, millis(n.SentAt), n.Held, millis(n.HeldSince), millis(n.HeldLastAt), n.HeldFrom); err != nil {
		return fmt.Errorf("save notice %q of user %d: %w", n.Kind, n.UserID, err)
	}
	return nil
}

// NoticesDue lists notices holding events whose last email went before
// sentBefore; see mfagate.Notices.
func (t *tx) NoticesDue(sentBefore time.Time, limit int) ([]*mfagate.NoticeState, error) {
	limitSQL, args := limitClause(limit, []any{sentBefore.UnixMilli()})
	rows, err := t.query(`SELECT `+noticeColumns+` FROM security_notices
		WHERE held > 0 AND (sent_at IS NULL OR sent_at < ?)
		ORDER BY sent_at, user_id, kind`+limitSQL, args...)
	if err != nil {
		return nil, fmt.Errorf("list due notices: %w", err)
	}
	var out []*mfagate.NoticeState
	for rows.Next() {
		n, err := scanNotice(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("list due notices: %w", err)
		}
		out = append(out, n)
	}
	if err := closeRows(rows); err != nil {
		return nil, fmt.Errorf("list due notices: %w", err)
	}
	return out, nil
}

func scanNotice(sc scanner) (*mfagate.NoticeState, error) {
	var (
		n                   mfagate.NoticeState
		sent, since, lastAt sql.NullInt64
	)
	if err := sc.Scan(&n.UserID, &n.Kind, &sent, &n.Held, &since, &lastAt, &n.HeldFrom); err != nil {
		return nil, err
	}
	n.SentAt, n.HeldSince, n.HeldLastAt = fromMillis(sent), fromMillis(since), fromMillis(lastAt)
	return &n, nil
}
