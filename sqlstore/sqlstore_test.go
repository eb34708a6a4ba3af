package sqlstore_test

import (
	"context"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/sqlstore"
	"github.com/mfagate/mfagate/sqlstore/sqltest"
	"github.com/mfagate/mfagate/sqlstore/storetest"

	_ "github.com/jackc/pgx/v5/stdlib"
)

// allMigrations is the embedded set, in order.
var allMigrations = []string{"0001_init.sql", "0002_factors.sql", "0003_rollout.sql", "0004_console.sql", "0005_hardening.sql", "0006_mail.sql", "0007_groups.sql", "0008_ended.sql", "0009_links.sql", "0010_address.sql", "0011_pace.sql", "0012_checkup.sql"}

func TestSQLite(t *testing.T) { runBackend(t, sqltest.SQLite()) }

func TestPostgres(t *testing.T) { runBackend(t, sqltest.Postgres(t)) }

func runBackend(t *testing.T, b sqltest.Backend) {
	storetest.Run(t, func(t *testing.T) mfagate.Store { return b.New(t) })

	t.Run("ClaimMailTwoReplicas", func(t *testing.T) {
		one, two := b.Replicas(t)
		storetest.ClaimConcurrently(t, one, two)
	})

	t.Run("HoldThrottleTwoReplicas", func(t *testing.T) {
		one, two := b.Replicas(t)
		storetest.HoldConcurrently(t, one, two)
	})

	t.Run("SkipCapTwoReplicas", func(t *testing.T) {
		one, two := b.Replicas(t)
		storetest.SkipCapConcurrently(t, one, two)
	})

	t.Run("UseLinkTwoReplicas", func(t *testing.T) {
		one, two := b.Replicas(t)
		storetest.UseLinkConcurrently(t, one, two)
	})

	t.Run("ClaimJobTwoReplicas", func(t *testing.T) {
		one, two := b.Replicas(t)
		storetest.ClaimJobConcurrently(t, one, two)
	})

	t.Run("CreateEmailCodeVoids", func(t *testing.T) { testCreateEmailCodeVoids(t, b) })

	t.Run("MigrateFrom0001", func(t *testing.T) { testMigrateFrom0001(t, b) })

	t.Run("MigrateFrom0002", func(t *testing.T) { testMigrateFrom0002(t, b) })

	t.Run("MigrateFrom0004", func(t *testing.T) { testMigrateFrom0004(t, b) })
	t.Run("MigrateFrom0005", func(t *testing.T) { testMigrateFrom0005(t, b) })
	t.Run("MigrateFrom0006", func(t *testing.T) { testMigrateFrom0006(t, b) })
	t.Run("MailQueued", func(t *testing.T) { testMailQueued(t, b) })

	t.Run("MarkCampaignSentTwoReplicas", func(t *testing.T) {
		one, two := b.Replicas(t)
		storetest.MarkConcurrently(t, one, two)
	})

	t.Run("ProgressTwoReplicas", func(t *testing.T) {
		one, two := b.Replicas(t)
		storetest.ProgressConcurrently(t, one, two)
	})

	t.Run("GroupsTwoReplicas", func(t *testing.T) {
		one, two := b.Replicas(t)
		storetest.GroupsUnderRandomChanges(t, one, two, 4000)
	})

	t.Run("MigrateFrom0003", func(t *testing.T) { testMigrateFrom0003(t, b) })

	t.Run("MigrateTwice", func(t *testing.T) {
		db := b.Open(t, b.DSN(t))
		if got, want := sqltest.MustMigrate(t, db), allMigrations; !reflect.DeepEqual(got, want) {
			t.Errorf("first Migrate: got %v, want %v", got, want)
		}
		if got := sqltest.MustMigrate(t, db); len(got) != 0 {
			t.Errorf("second Migrate: got %v, want nothing applied", got)
		}
	})

	t.Run("MigrateConcurrently", func(t *testing.T) {
		// Two replicas starting together: one applies, the other waits and
		// finds nothing to do.
		dsn := b.DSN(t)
		dbs := []*sqlstore.DB{b.Open(t, dsn), b.Open(t, dsn)}
		type result struct {
			applied []string
			err     error
		}
		results := make(chan result, len(dbs))
		for _, db := range dbs {
			go func() {
				applied, err := db.Migrate(context.Background())
				results <- result{applied, err}
			}()
		}
		// Each file is its own transaction, so the two may share the work,
		// but together they apply every file exactly once.
		var all []string
		for range dbs {
			r := <-results
			if r.err != nil {
				t.Errorf("Migrate: %v", r.err)
			}
			all = append(all, r.applied...)
		}
		slices.Sort(all)
		if want := allMigrations; !reflect.DeepEqual(all, want) {
			t.Errorf("files applied by both: got %v, want %v", all, want)
		}
	})

	t.Run("ViewRefusesWrites", func(t *testing.T) {
		s := b.New(t)
		err := s.View(context.Background(), func(tx mfagate.Tx) error {
			return tx.CreateUser(&mfagate.User{Username: "alice", CreatedAt: time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)})
		})
		if err == nil {
			t.Fatalf("CreateUser in View: got nil error, want one")
		}
		err = s.View(context.Background(), func(tx mfagate.Tx) error { _, err := tx.UserByUsername("alice"); return err })
		if got, want := mfagate.ErrorCode(err), mfagate.ENOTFOUND; got != want {
			t.Errorf("user written in View: got code %q, want %q", got, want)
		}
	})

	t.Run("Deadlines", func(t *testing.T) { testDeadlines(t, b) })

	t.Run("Ping", func(t *testing.T) {
		if err := b.New(t).Ping(context.Background()); err != nil {
			t.Errorf("Ping: got %v, want nil", err)
		}
	})
}
