package account_test

import (
	"context"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/account"
)

// BenchmarkCheckSession100k is forward-auth's check with 100,000 live
// sessions (the default cache size) used at random, against
// BenchmarkCheckSession's one session in the same run:
//   - hit: every session warm in the cache;
//   - forged: random tokens of the right form, refused by their MAC;
//   - stale: tokens this server made whose sessions ended, refused from
//     the negative cache;
//   - lookup and two-queries: the database path (Authenticate, one
//     joined query) and, for the ratio, the two queries it replaced.
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
	hashes := make([][]byte, len(order))
	for i := range hashes {
		h, _ := f.svc.TokenHash(tokens[order[i]])
		hashes[i] = h
	}
	b.Run("two-queries", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			err := f.store.View(ctx, func(tx mfagate.Tx) error {
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
}
