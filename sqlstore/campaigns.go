package sqlstore

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/mfagate/mfagate"
)

var _ mfagate.Campaigns = (*tx)(nil)

// roleAll in CampaignRecipients' roles selects every account.
const roleAll = "all"

// CampaignRecipients lists the next accounts the campaign has not reached;
// see mfagate.Campaigns.
//
// Users are walked by primary key from afterID; each condition is a lookup
// in a primary key or unique index: user_roles (user_id, role),
// campaign_sends (campaign, user_id) and factors (user_id, method). So a
// page costs about as many lookups as the users it passes over. A limit
// of 0 or less means no limit, as in Users.
func (t *tx) CampaignRecipients(campaign string, roles []string, withoutFactor bool, counting []string, afterID int64, limit int) ([]*mfagate.User, error) {
	// Each subquery repeats the bound on user_id. SQLite looks rows up by
	// user and does not need it, but PostgreSQL may merge-join whole
	// indexes instead, and it does not carry users.id > afterID over to
	// them by itself: without the bound a page late in a million accounts
	// reads every earlier role and factor.
	conds := []string{`users.disabled = 0`, `users.id > ?`}
	args := []any{afterID}
	if !slices.Contains(roles, roleAll) {
		roles = normalizeRoles(roles)
		if len(roles) == 0 {
			return nil, nil // one of no roles: nobody
		}
		conds = append(conds, `EXISTS (SELECT 1 FROM user_roles r
			WHERE r.user_id = users.id AND r.user_id > ? AND r.role IN (`+placeholders(len(roles))+`))`)
		args = append(args, afterID)
		for _, r := range roles {
			args = append(args, r)
		}
	}
	conds = append(conds, `NOT EXISTS (SELECT 1 FROM campaign_sends c
		WHERE c.campaign = ? AND c.user_id = users.id AND c.user_id > ?)`)
	args = append(args, campaign, afterID)
	switch {
	case withoutFactor && len(counting) > 0:
		conds = append(conds, `NOT EXISTS (SELECT 1 FROM factors f WHERE f.user_id = users.id AND f.user_id > ? AND f.method IN (`+placeholders(len(counting))+`))`)
		args = append(args, afterID)
		for _, m := range counting {
			args = append(args, m)
		}
	case withoutFactor:
		conds = append(conds, `NOT EXISTS (SELECT 1 FROM factors f WHERE f.user_id = users.id AND f.user_id > ?)`)
		args = append(args, afterID)
	}
	limitSQL, args := limitClause(limit, args)
	users, err := t.usersPage(` FROM users`+whereClause(conds)+` ORDER BY users.id`+limitSQL, args)
	if err != nil {
		return nil, fmt.Errorf("list recipients of campaign %q: %w", campaign, err)
	}
	return users, nil
}

// MarkCampaignSent records that the campaign reached the user, once; see
// mfagate.Campaigns.
//
// ON CONFLICT DO NOTHING on the primary key, not a read first: on
// PostgreSQL a second transaction inserting the same key waits for the
// first and, once it commits, inserts nothing; on SQLite transactions run
// one at a time. Either way exactly one of them sees a row inserted.
func (t *tx) MarkCampaignSent(campaign string, userID int64, at time.Time) (bool, error) {
	n, err := t.execCount(`INSERT INTO campaign_sends (campaign, user_id, sent_at) VALUES (?, ?, ?)
		ON CONFLICT (campaign, user_id) DO NOTHING`,
		campaign, userID, millis(at))
	if err != nil {
		return false, fmt.Errorf("mark campaign %q sent to user %d: %w", campaign, userID, err)
	}
	return n > 0, nil
}

// CampaignStats counts each campaign's messages by delivery state; see
// mfagate.Campaigns. Messages outside any campaign are left out; those the
// retention job deleted are counted from campaign_archive.
func (t *tx) CampaignStats() ([]mfagate.CampaignStat, error) {
	rows, err := t.query(`SELECT campaign, SUM(pending), SUM(sent), SUM(failed) FROM (
			SELECT campaign,
				SUM(CASE WHEN status = ? THEN 1 ELSE 0 END) AS pending,
				SUM(CASE WHEN status = ? THEN 1 ELSE 0 END) AS sent,
				SUM(CASE WHEN status = ? THEN 1 ELSE 0 END) AS failed
			FROM mail_outbox WHERE campaign <> '' GROUP BY campaign
			UNION ALL
			SELECT campaign, 0, sent, failed FROM campaign_archive
		) counts GROUP BY campaign`,
		mfagate.MailPending, mfagate.MailSent, mfagate.MailFailed)
	if err != nil {
		return nil, fmt.Errorf("count campaign mail: %w", err)
	}
	var stats []mfagate.CampaignStat
	for rows.Next() {
		var s mfagate.CampaignStat
		if err := rows.Scan(&s.Campaign, &s.Pending, &s.Sent, &s.Failed); err != nil {
			rows.Close()
			return nil, fmt.Errorf("count campaign mail: %w", err)
		}
		stats = append(stats, s)
	}
	if err := closeRows(rows); err != nil {
		return nil, fmt.Errorf("count campaign mail: %w", err)
	}
	// Sorted here, not by ORDER BY: PostgreSQL collations do not sort by byte.
	slices.SortFunc(stats, func(a, b mfagate.CampaignStat) int { return cmp.Compare(a.Campaign, b.Campaign) })
	return stats, nil
}

// placeholders returns n comma-separated ? placeholders.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}
