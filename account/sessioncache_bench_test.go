package account_test

import (
	"context"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/account"
	"github.com/mfagate/mfagate/sqlstore/sqltest"
)

// BenchmarkCheckSession100k is forward-auth's check with 100,000 live
// sessions (the default cache size) used at random, against
// BenchmarkCheckSession's one session in the same run:
//   - hit: every session warm in the cache;
//   - forged: random tokens of the right form, refused by their MAC;
//   - stale: tokens this server made whose sessions ended, refused from
//     the negative cache;
//   - lookup: the database path (Authenticate: one joined query, and the
//     use queued for the next flush); see BenchmarkSessionLookup.
//
// It reports the heap the warm cache takes per session (B/session).
func BenchmarkCheckSession100k(b *testing.B) {
	ctx := context.Background()
	const n = account.DefaultSessionCacheSize
	f := newFixture(b)
	u := f.mustUser(b, "alice", pw)
	tokens, err := f.svc.NewSessions(ctx, u.ID, n)
	if err != nil {
		b.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for _, tok := range tokens {
		if _, err := f.svc.CheckSession(ctx, tok); err != nil {
			b.Fatal(err)
		}
	}
	if err := f.svc.FlushTouches(ctx); err != nil { // the uses waiting are not the cache's
		b.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	perSession := float64(after.HeapAlloc-before.HeapAlloc) / n
	if got := f.svc.CachedChecks(); got != n {
		b.Fatalf("cached %d sessions, want %d", got, n)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	order := make([]int, 1<<16)
	for i := range order {
		order[i] = rng.IntN(n)
	}
	b.Run("hit", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, err := f.svc.CheckSession(ctx, tokens[order[i&(len(order)-1)]]); err != nil {
				b.Fatal(err)
			}
			i++
		}
		b.ReportMetric(perSession, "B/session")
	})
	forged := make([]string, len(order))
	for i := range forged {
		forged[i] = randomToken(b, 48)
	}
	b.Run("forged", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, err := f.svc.CheckSession(ctx, forged[i&(len(forged)-1)]); err != account.ErrNoSession {
				b.Fatal(err)
			}
			i++
		}
	})
	stale, err := f.svc.NewSessions(ctx, u.ID, 1000)
	if err != nil {
		b.Fatal(err)
	}
	for _, tok := range stale {
		f.svc.SignOut(ctx, tok, client)
		f.svc.CheckSession(ctx, tok) // one lookup each, then remembered
	}
	b.Run("stale", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, err := f.svc.CheckSession(ctx, stale[i%len(stale)]); err != account.ErrNoSession {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("lookup", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, err := f.svc.Authenticate(ctx, tokens[order[i&(len(order)-1)]]); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}

// BenchmarkSessionLookup is the database's part of a check that misses
// the cache, on each backend, with 10,000 sessions: the one joined query
// (SessionAndUser) against the two queries it replaced (the session,
// then its user and roles), in the same run.
func BenchmarkSessionLookup(b *testing.B) {
	for _, be := range []struct {
		name string
		new  func(testing.TB) sqltest.Backend
	}{
		{"sqlite", func(testing.TB) sqltest.Backend { return sqltest.SQLite() }},
		{"postgres", func(tb testing.TB) sqltest.Backend { return sqltest.Postgres(tb) }},
	} {
		b.Run(be.name, func(b *testing.B) {
			ctx := context.Background()
			store := be.new(b).New(b)
			f := &fixture{store: store, clock: mfagate.NewManualClock(start)}
			f.svc = mustService(b, store, f.clock, cheap)
			u := f.mustUser(b, "alice", pw)
			tokens, err := f.svc.NewSessions(ctx, u.ID, 10_000)
			if err != nil {
				b.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(1, 2))
			hashes := make([][]byte, 1<<12)
			for i := range hashes {
				hashes[i], _ = f.svc.TokenHash(tokens[rng.IntN(len(tokens))])
			}
			b.Run("one-query", func(b *testing.B) {
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					err := store.View(ctx, func(tx mfagate.Tx) error {
						_, _, err := tx.SessionAndUser(hashes[i&(len(hashes)-1)])
						return err
					})
					if err != nil {
						b.Fatal(err)
					}
					i++
				}
			})
			b.Run("two-queries", func(b *testing.B) {
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					err := store.View(ctx, func(tx mfagate.Tx) error {
						s, err := tx.SessionByHash(hashes[i&(len(hashes)-1)])
						if err != nil {
							return err
						}
						_, err = tx.UserByID(s.UserID)
						return err
					})
					if err != nil {
						b.Fatal(err)
					}
					i++
				}
			})
		})
	}
}
