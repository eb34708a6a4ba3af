package sqlstore_test

import (
	"context"
	"strings"
	"testing"

	"github.com/mfagate/mfagate/sqlstore"
	"github.com/mfagate/mfagate/sqlstore/sqltest"
)

// pendingIndexes are the indexes that hold pending mail alone, or first:
// the partial ones of the queue and of claims, and the one by status and
// due time. Which one PostgreSQL takes for a count depends on what
// VACUUM could mark visible, so on what else the server runs.
var pendingIndexes = []string{"mail_outbox_queue", "mail_outbox_claim", "mail_outbox_due"}

// TestMailQueueReadsOnlyTheQueue: the metrics read the queue at every
// scrape, on every replica, so its statements must find pending mail by
// an index of it and never walk the sent mail kept for retention. The outbox holds 30,000 sent messages and 30,000 pending
// ones behind them: so many pending that PostgreSQL, told "priority = 2",
// would rather walk the primary key in id order, through all the sent
// mail first (it did, before MailQueue asked for a range).
func TestMailQueueReadsOnlyTheQueue(t *testing.T) {
	for _, tt := range []struct {
		name    string
		backend func(testing.TB) sqltest.Backend
	}{
		{"sqlite", func(testing.TB) sqltest.Backend { return sqltest.SQLite() }},
		{"postgres", sqltest.Postgres},
	} {
		t.Run(tt.name, func(t *testing.T) {
			backend := tt.backend(t)
			db := backend.New(t)
			ctx := context.Background()
			seed := `INSERT INTO mail_outbox (to_addr, subject, created_at, status, next_attempt_at, priority, queued_at, campaign)
				SELECT 'p' || i || '@example.com', 's', 1700000000000 + i, CASE WHEN i <= 30000 THEN 'sent' ELSE 'pending' END,
					1700000000000 + i, CASE WHEN i % 50 = 0 THEN 0 ELSE 2 END, 1700000000000 + i, ''
				FROM (WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 60000) SELECT i FROM n) nums`
			// Statistics, and for PostgreSQL the visibility map, as
			// autovacuum keeps them.
			analyze := "ANALYZE"
			if backend.Driver == sqlstore.DriverPostgres {
				analyze = "VACUUM ANALYZE mail_outbox"
			}
			for _, q := range []string{seed, analyze} {
				if err := sqlstore.Exec(ctx, db, q); err != nil {
					t.Fatalf("%.40s: %v", q, err)
				}
			}
			for _, st := range sqlstore.MailQueueStatements {
				plan, err := sqlstore.Explain(ctx, db, st.Query, st.Args...)
				if err != nil {
					t.Fatal(err)
				}
				first, _, _ := strings.Cut(strings.TrimSpace(st.Query), "\n")
				byPending := false
				for _, index := range pendingIndexes {
					byPending = byPending || strings.Contains(plan, index)
				}
				if !byPending || strings.Contains(plan, "pkey") || strings.Contains(plan, "Seq Scan") {
					t.Errorf("%s on %s: the plan does not find pending mail by an index of it:\n%s", first, backend.Driver, plan)
				}
			}
		})
	}
}
