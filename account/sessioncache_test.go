package account_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/account"
	"github.com/mfagate/mfagate/sqlstore"
	"github.com/mfagate/mfagate/sqlstore/sqltest"
)

// countingStore counts what reaches the database: requests, and the
// session lookups and touches inside them.
type countingStore struct {
	mfagate.Store
	requests, lookups, touchCalls, touched atomic.Int64
}

func (c *countingStore) Update(ctx context.Context, fn func(mfagate.Tx) error) error {
	c.requests.Add(1)
	return c.Store.Update(ctx, func(tx mfagate.Tx) error { return fn(countingTx{tx, c}) })
}

func (c *countingStore) View(ctx context.Context, fn func(mfagate.Tx) error) error {
	c.requests.Add(1)
	return c.Store.View(ctx, func(tx mfagate.Tx) error { return fn(countingTx{tx, c}) })
}

type countingTx struct {
	mfagate.Tx
	c *countingStore
}

func (t countingTx) SessionAndUser(h []byte) (*mfagate.Session, *mfagate.User, error) {
	t.c.lookups.Add(1)
	return t.Tx.SessionAndUser(h)
}

func (t countingTx) SessionByHash(h []byte) (*mfagate.Session, error) {
	t.c.lookups.Add(1)
	return t.Tx.SessionByHash(h)
}

func (t countingTx) TouchSessions(ts []mfagate.SessionTouch) (int, error) {
	t.c.touchCalls.Add(1)
	t.c.touched.Add(int64(len(ts)))
	return t.Tx.TouchSessions(ts)
}

func (t countingTx) TouchSession(h []byte, at time.Time) error {
	t.c.touchCalls.Add(1)
	t.c.touched.Add(1)
	return t.Tx.TouchSession(h, at)
}

// countedFixture is a fixture whose service goes through a countingStore.
func countedFixture(tb testing.TB, o account.Options) (*fixture, *countingStore) {
	tb.Helper()
	f := &fixture{store: sqltest.SQLite().New(tb), clock: mfagate.NewManualClock(start)}
	cs := &countingStore{Store: f.store}
	f.svc = mustServiceWith(tb, cs, f.clock, o)
	return f, cs
}

func mustServiceWith(tb testing.TB, store mfagate.Store, clock mfagate.Clock, o account.Options) *account.Service {
	tb.Helper()
	o.Store, o.Clock, o.Password, o.Key = store, clock, cheap, testKey
	svc, err := account.New(o)
	if err != nil {
		tb.Fatal(err)
	}
	return svc
}

func randomToken(tb testing.TB, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		tb.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// TestForgedTokensCostNothing: random tokens of the right form, a real
// token with its MAC or its random part changed, and cookies of the
// form before MACs (43 characters) are refused with no database request
// at all, however many arrive, and leave nothing in memory.
func TestForgedTokensCostNothing(t *testing.T) {
	ctx := context.Background()
	f, cs := countedFixture(t, account.Options{})
	f.mustUser(t, "alice", pw)
	in := f.mustSignIn(t, "alice", pw)
	if _, err := f.svc.CheckSession(ctx, in.Token); err != nil {
		t.Fatal(err)
	}
	flip := func(i int) string {
		c := byte('A')
		if in.Token[i] == 'A' {
			c = 'B'
		}
		return in.Token[:i] + string(c) + in.Token[i+1:]
	}
	forged := []string{flip(0), flip(31), flip(42), flip(43), flip(63), in.Token[:43], randomToken(t, 32)}
	before := cs.requests.Load()
	const flood = 20_000
	for i := range flood {
		tok := forged[i%len(forged)]
		if i >= len(forged) {
			tok = randomToken(t, 48) // 64 characters of base64url: the right form
		}
		for _, check := range bothChecks(f.svc) {
			if cur, err := check(ctx, tok); err != account.ErrNoSession || cur != nil {
				t.Fatalf("%q: got %v, %v, want ErrNoSession", tok, cur, err)
			}
		}
	}
	if got := cs.requests.Load() - before; got != 0 {
		t.Errorf("database requests for %d forged tokens: got %d, want 0", flood, got)
	}
	if got := f.svc.CheckStats().Refused; got != flood {
		t.Errorf("refused in memory: got %d, want %d", got, flood)
	}
	if n, r := f.svc.CachedChecks(), f.svc.CachedRefusals(); n != 1 || r != 0 {
		t.Errorf("cache after the flood: %d sessions and %d refusals, want alice's session only", n, r)
	}
}

// TestStaleTokenQueriedOnce: a token this server made whose session has
// ended is looked up once, then refused from memory for NegativeTTL, and
// looked up again after; a new session right after works at once.
func TestStaleTokenQueriedOnce(t *testing.T) {
	ctx := context.Background()
	f, cs := countedFixture(t, account.Options{})
	f.mustUser(t, "alice", pw)
	old := f.mustSignIn(t, "alice", pw)
	if err := f.svc.SignOut(ctx, old.Token, client); err != nil {
		t.Fatal(err)
	}
	before := cs.lookups.Load()
	for range 1000 {
		if _, err := f.svc.CheckSession(ctx, old.Token); err != account.ErrNoSession {
			t.Fatalf("ended session: got %v, want ErrNoSession", err)
		}
	}
	if got := cs.lookups.Load() - before; got != 1 {
		t.Errorf("lookups of a stale token checked 1000 times: got %d, want 1", got)
	}
	fresh := f.mustSignIn(t, "alice", pw)
	if cur, err := f.svc.CheckSession(ctx, fresh.Token); err != nil || cur.Username != "alice" {
		t.Fatalf("a new session right after: got %v, %v", cur, err)
	}
	f.clock.Advance(account.NegativeTTL - time.Millisecond)
	f.svc.CheckSession(ctx, old.Token)
	if got := cs.lookups.Load() - before; got != 2 { // the new session's one lookup
		t.Errorf("lookups within NegativeTTL: got %d, want 2", got)
	}
	f.clock.Advance(time.Millisecond)
	f.svc.CheckSession(ctx, old.Token)
	if got := cs.lookups.Load() - before; got != 3 {
		t.Errorf("lookups once NegativeTTL passed: got %d, want 3", got)
	}
}

// TestCacheBoundAndExpiry: with more sessions than it may hold, the cache
// stays within its size and says how many it pushed out; an entry still
// warm is never served past its idle or absolute timeout; and the flush
// drops the entries that have expired, without clearing the others.
func TestCacheBoundAndExpiry(t *testing.T) {
	ctx := context.Background()
	const size = 50
	f, _ := countedFixture(t, account.Options{SessionCacheSize: size, SessionIdle: 2 * time.Second, SessionMaxAge: 3 * time.Second})
	u := f.mustUser(t, "alice", pw)
	tokens, err := f.svc.NewSessions(ctx, u.ID, 3*size)
	if err != nil {
		t.Fatal(err)
	}
	for round := range 3 {
		for _, tok := range tokens {
			if _, err := f.svc.CheckSession(ctx, tok); err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
			if n := f.svc.CachedChecks(); n > size {
				t.Fatalf("cache holds %d sessions, over its size %d", n, size)
			}
		}
	}
	if st := f.svc.CheckStats(); st.Evictions < uint64(2*size) || st.Size != size {
		t.Errorf("got %+v, want at least %d evictions and %d held", st, 2*size, size)
	}

	// Idle: checked at 1 s, warm (CheckTTL is 5 s), but 2 s unused at 3 s.
	f2, cs := countedFixture(t, account.Options{SessionIdle: 2 * time.Second, SessionMaxAge: time.Hour})
	u = f2.mustUser(t, "bob", pw)
	tokens, err = f2.svc.NewSessions(ctx, u.ID, 2)
	if err != nil {
		t.Fatal(err)
	}
	f2.clock.Advance(time.Second)
	for _, tok := range tokens {
		f2.svc.CheckSession(ctx, tok)
	}
	f2.clock.Advance(1999 * time.Millisecond)
	lookups := cs.lookups.Load()
	if _, err := f2.svc.CheckSession(ctx, tokens[0]); err != nil || cs.lookups.Load() != lookups {
		t.Fatalf("used 1.999 s ago: got %v with %d lookups, want it from memory", err, cs.lookups.Load()-lookups)
	}
	f2.clock.Advance(time.Millisecond)
	if n := f2.svc.CachedChecks(); n != 2 {
		t.Fatalf("cached %d sessions, want 2", n)
	}
	if err := f2.svc.FlushTouches(ctx); err != nil {
		t.Fatal(err)
	}
	if n := f2.svc.CachedChecks(); n != 1 {
		t.Errorf("after the flush: %d sessions cached, want the idle one dropped and the other kept", n)
	}
	if _, err := f2.svc.CheckSession(ctx, tokens[1]); err != account.ErrNoSession {
		t.Fatalf("idle for 2 s: got %v, want ErrNoSession", err)
	}
	// tokens[0]: read at 1 s (warm until 6 s), last used at 2.999 s.
	f2.clock.Advance(1999 * time.Millisecond)
	if _, err := f2.svc.CheckSession(ctx, tokens[0]); err != account.ErrNoSession {
		t.Fatalf("idle for 2 s, entry still warm: got %v, want ErrNoSession", err)
	}

	// Absolute: kept busy, but 3 s after sign-in it ends, warm or not.
	f3, _ := countedFixture(t, account.Options{SessionIdle: 2 * time.Second, SessionMaxAge: 3 * time.Second})
	u = f3.mustUser(t, "carol", pw)
	tokens, err = f3.svc.NewSessions(ctx, u.ID, 1)
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		f3.svc.CheckSession(ctx, tokens[0])
		f3.clock.Advance(500 * time.Millisecond)
	}
	f3.clock.Advance(499 * time.Millisecond)
	if _, err := f3.svc.CheckSession(ctx, tokens[0]); err != nil {
		t.Fatalf("at 2.999 s: got %v", err)
	}
	f3.clock.Advance(time.Millisecond)
	if _, err := f3.svc.CheckSession(ctx, tokens[0]); err != account.ErrNoSession {
		t.Fatalf("at the maximum age, entry warm: got %v, want ErrNoSession", err)
	}
}

// TestConcurrentChecks: 100 goroutines checking live, ended and forged
// tokens through a small cache, while sessions end and touches flush, see
// only right answers (run with -race).
func TestConcurrentChecks(t *testing.T) {
	ctx := context.Background()
	f, _ := countedFixture(t, account.Options{SessionCacheSize: 20})
	u := f.mustUser(t, "alice", pw)
	live, err := f.svc.NewSessions(ctx, u.ID, 40)
	if err != nil {
		t.Fatal(err)
	}
	doomed, err := f.svc.NewSessions(ctx, u.ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for g := range 100 {
		wg.Go(func() {
			for i := range 50 {
				tok := live[(g+i)%len(live)]
				if cur, err := f.svc.CheckSession(ctx, tok); err != nil || cur.UserID != u.ID {
					errs <- fmt.Errorf("live session: got %v, %v", cur, err)
					return
				}
				f.svc.CheckSession(ctx, doomed[(g+i)%len(doomed)]) // live or ended: either is right
				if _, err := f.svc.CheckSession(ctx, randomToken(t, 48)); err != account.ErrNoSession {
					errs <- fmt.Errorf("forged token: got %v", err)
					return
				}
			}
		})
	}
	wg.Go(func() {
		for _, tok := range doomed {
			f.svc.SignOut(ctx, tok, client)
			f.svc.FlushTouches(ctx)
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for _, tok := range doomed {
		if _, err := f.svc.CheckSession(ctx, tok); err != account.ErrNoSession {
			t.Errorf("signed out: got %v, want ErrNoSession", err)
		}
	}
}

// TestTouchesBatched: N sessions checked many times cost one write at the
// flush, which leaves each session's last use in the database; between
// flushes nothing is written, and the idle timeout still counts the uses
// not yet written.
func TestTouchesBatched(t *testing.T) {
	sqltest.EachBackend(t, func(t *testing.T, b sqltest.Backend) {
		ctx := context.Background()
		store := b.New(t)
		clock := mfagate.NewManualClock(start)
		cs := &countingStore{Store: store}
		svc := mustServiceWith(t, cs, clock, account.Options{})
		f := &fixture{svc: svc, store: store, clock: clock}
		u := f.mustUser(t, "alice", pw)
		const n = 300
		tokens, err := svc.NewSessions(ctx, u.ID, n)
		if err != nil {
			t.Fatal(err)
		}
		used := make(map[string]time.Time)
		for round := range 3 {
			clock.Advance(7 * time.Second) // past CheckTTL: every round looks sessions up again too
			for i, tok := range tokens {
				if i%3 == round%3 && round > 0 {
					continue // not every session every round
				}
				if _, err := svc.CheckSession(ctx, tok); err != nil {
					t.Fatal(err)
				}
				used[tok] = clock.Now()
				svc.CheckSession(ctx, tok) // from memory
			}
		}
		if got := cs.touchCalls.Load(); got != 0 {
			t.Fatalf("writes before the flush: got %d, want 0", got)
		}
		if err := svc.FlushTouches(ctx); err != nil {
			t.Fatal(err)
		}
		if got, touched := cs.touchCalls.Load(), cs.touched.Load(); got != 1 || touched != n {
			t.Fatalf("the flush: %d writes of %d sessions, want 1 of %d", got, touched, n)
		}
		for tok, at := range used {
			h, _ := svc.TokenHash(tok)
			if got := mustStoredSession(t, store, h).LastSeenAt; !got.Equal(at) {
				t.Fatalf("stored last seen: got %v, want %v", got, at)
			}
		}
		if err := svc.FlushTouches(ctx); err != nil {
			t.Fatal(err)
		}
		if got := cs.touchCalls.Load(); got != 1 {
			t.Errorf("a flush with nothing new: got %d writes in all, want still 1", got)
		}
		// Unwritten uses count: used at 29 minutes, not flushed, alive at 58.
		clock.Advance(29 * time.Minute)
		if _, err := svc.CheckSession(ctx, tokens[0]); err != nil {
			t.Fatal(err)
		}
		usedAt := clock.Now()
		clock.Advance(29 * time.Minute)
		// The list of one's sessions shows it, with the use not yet written.
		list, err := svc.UserSessions(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		h, _ := svc.TokenHash(tokens[0])
		found := false
		for _, sess := range list {
			if string(sess.Hash) == string(h) {
				found = sess.LastSeenAt.Equal(usedAt)
			}
		}
		if !found {
			t.Fatalf("UserSessions: want the session used at %v, not yet written, listed with that time", usedAt)
		}
		if _, err := svc.CheckSession(ctx, tokens[0]); err != nil {
			t.Fatalf("used 29 minutes ago, not yet written: got %v, want the session", err)
		}
	})
}

// TestRevocationAcrossReplicas: two replicas on one database. A session
// checked on the second, warm in its cache, is signed out on the first:
//   - PostgreSQL, the second following announcements: refused on the
//     second as soon as the announcement arrives, the clock unmoved;
//   - the announcement lost while the listener still looks connected:
//     served from memory until CheckTTLListening, refused at it;
//   - no listener (SQLite, or PostgreSQL before it connects): served
//     until CheckTTL, refused at it.
func TestRevocationAcrossReplicas(t *testing.T) {
	ctx := context.Background()
	type replicas struct {
		one, two *account.Service
		cs       *countingStore
		clock    *mfagate.ManualClock
		dsn      string
		db2      *sqlstore.DB
	}
	open := func(t *testing.T, b sqltest.Backend) replicas {
		dsn := b.DSN(t)
		db1 := b.Open(t, dsn)
		sqltest.MustMigrate(t, db1)
		db2 := b.Open(t, dsn)
		clock := mfagate.NewManualClock(start)
		cs := &countingStore{Store: db2}
		r := replicas{dsn: dsn, clock: clock, cs: cs, db2: db2,
			one: mustServiceWith(t, db1, clock, account.Options{SharedStore: true}),
			two: mustServiceWith(t, cs, clock, account.Options{SharedStore: true})}
		f := &fixture{svc: r.one, store: db1, clock: clock}
		f.mustUser(t, "alice", pw)
		return r
	}
	// warm signs in on one and checks on two until it is answered from
	// memory there.
	warm := func(t *testing.T, r replicas) string {
		in, err := r.one.SignIn(ctx, account.SignIn{Username: "alice", Password: pw})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.two.CheckSession(ctx, in.Token); err != nil {
			t.Fatal(err)
		}
		lookups := r.cs.lookups.Load()
		if _, err := r.two.CheckSession(ctx, in.Token); err != nil || r.cs.lookups.Load() != lookups {
			t.Fatalf("second check on replica two: got %v with a lookup, want it from memory", err)
		}
		return in.Token
	}
	follow := func(t *testing.T, r replicas, drop bool) <-chan mfagate.Ended {
		var l mfagate.Revocations
		var err error
		if strings.HasPrefix(r.dsn, "postgres") {
			l, err = sqlstore.NewListener(r.dsn, 5*time.Second, nil)
		} else {
			var p *sqlstore.Poller
			p, err = sqlstore.NewPoller(r.db2, nil)
			if p != nil {
				p.Every = 5 * time.Millisecond
			}
			l = p
		}
		if err != nil {
			t.Fatal(err)
		}
		heard := make(chan mfagate.Ended, 10)
		on := make(chan bool, 10)
		ctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			r.two.FollowRevocations(ctx, tapped{l, heard, on, drop})
			close(done)
		}()
		t.Cleanup(func() { cancel(); <-done })
		select {
		case <-on:
		case <-time.After(30 * time.Second): // a hang, not a timing
			t.Fatal("the listener never connected")
		}
		return heard
	}

	t.Run("announced", func(t *testing.T) {
		sqltest.EachBackend(t, func(t *testing.T, b sqltest.Backend) {
			r := open(t, b)
			heard := follow(t, r, false)
			tok := warm(t, r)
			r.clock.Advance(account.CheckTTL + time.Second) // past the short time: only the announcement can refuse it
			if _, err := r.two.CheckSession(ctx, tok); err != nil {
				t.Fatalf("listening, before the sign-out: got %v", err)
			}
			if err := r.one.SignOut(ctx, tok, client); err != nil {
				t.Fatal(err)
			}
			<-heard // forgotten by then: the tap hands it on first
			if _, err := r.two.CheckSession(ctx, tok); err != account.ErrNoSession {
				t.Fatalf("replica two once the announcement arrived: got %v, want ErrNoSession", err)
			}
		})
	})
	t.Run("announcement lost", func(t *testing.T) {
		sqltest.EachBackend(t, func(t *testing.T, b sqltest.Backend) {
			r := open(t, b)
			heard := follow(t, r, true)
			tok := warm(t, r)
			if err := r.one.SignOut(ctx, tok, client); err != nil {
				t.Fatal(err)
			}
			<-heard // arrived, and dropped by the tap
			r.clock.Advance(account.CheckTTLListening - time.Millisecond)
			if _, err := r.two.CheckSession(ctx, tok); err != nil {
				t.Fatalf("within CheckTTLListening: got %v, want the remembered session", err)
			}
			r.clock.Advance(time.Millisecond)
			if _, err := r.two.CheckSession(ctx, tok); err != account.ErrNoSession {
				t.Fatalf("at CheckTTLListening: got %v, want ErrNoSession", err)
			}
		})
	})
	sqltest.EachBackend(t, func(t *testing.T, b sqltest.Backend) {
		r := open(t, b)
		tok := warm(t, r)
		if err := r.one.SignOut(ctx, tok, client); err != nil {
			t.Fatal(err)
		}
		r.clock.Advance(account.CheckTTL - time.Millisecond)
		if _, err := r.two.CheckSession(ctx, tok); err != nil {
			t.Fatalf("no listener, within CheckTTL: got %v, want the remembered session", err)
		}
		r.clock.Advance(time.Millisecond)
		if _, err := r.two.CheckSession(ctx, tok); err != account.ErrNoSession {
			t.Fatalf("no listener, at CheckTTL: got %v, want ErrNoSession", err)
		}
	})
}

// bothChecks are CheckSession and Authenticate in one shape: what they
// found (nil, not a typed nil, when nothing) and the error.
func bothChecks(svc *account.Service) []func(context.Context, string) (any, error) {
	return []func(context.Context, string) (any, error){
		func(ctx context.Context, s string) (any, error) {
			if c, err := svc.CheckSession(ctx, s); c != nil {
				return c, err
			} else {
				return nil, err
			}
		},
		func(ctx context.Context, s string) (any, error) {
			if c, err := svc.Authenticate(ctx, s); c != nil {
				return c, err
			} else {
				return nil, err
			}
		},
	}
}

// tapped is a listener whose announcements are handed on to the service
// (unless drop) and then told to the test.
type tapped struct {
	r     mfagate.Revocations
	heard chan<- mfagate.Ended
	on    chan<- bool
	drop  bool
}

func (tp tapped) Follow(ctx context.Context, listening func(bool), ended func(mfagate.Ended)) {
	tp.r.Follow(ctx, func(on bool) {
		listening(on)
		tp.on <- on
	}, func(e mfagate.Ended) {
		if !tp.drop {
			ended(e)
		}
		tp.heard <- e
	})
}

// TestIdleAcrossReplicas: a use on one replica not yet written does not
// let another end the session as idle: with a shared store the idle
// timeout allows IdleGrace for it. Once the grace has passed too, the
// session ends.
func TestIdleAcrossReplicas(t *testing.T) {
	sqltest.EachBackend(t, func(t *testing.T, b sqltest.Backend) {
		ctx := context.Background()
		dbOne, dbTwo := b.Replicas(t)
		clock := mfagate.NewManualClock(start)
		one := mustServiceWith(t, dbOne, clock, account.Options{SharedStore: true})
		two := mustServiceWith(t, dbTwo, clock, account.Options{SharedStore: true})
		(&fixture{svc: one, store: dbOne, clock: clock}).mustUser(t, "alice", pw)
		in, err := one.SignIn(ctx, account.SignIn{Username: "alice", Password: pw})
		if err != nil {
			t.Fatal(err)
		}
		clock.Advance(29 * time.Minute)
		if _, err := one.CheckSession(ctx, in.Token); err != nil { // a use on one, not yet written
			t.Fatal(err)
		}
		clock.Advance(time.Minute + idleGraceLessABit)
		if _, err := two.CheckSession(ctx, in.Token); err != nil {
			t.Fatalf("30 minutes after the last use written, 1 after the last use: got %v, want the session", err)
		}
		if err := one.FlushTouches(ctx); err != nil {
			t.Fatal(err)
		}
		clock.Advance(account.IdleGrace + 30*time.Minute)
		if _, err := two.CheckSession(ctx, in.Token); err != account.ErrNoSession {
			t.Fatalf("idle for the timeout and the grace: got %v, want ErrNoSession", err)
		}
	})
}

// idleGraceLessABit stays inside IdleGrace.
const idleGraceLessABit = account.IdleGrace - time.Second

// fakeRevocations lets a test say when the listener is connected and
// what it hears.
type fakeRevocations struct {
	listening chan bool
	ended     chan mfagate.Ended
	applied   chan struct{}
}

func (r fakeRevocations) Follow(ctx context.Context, listening func(bool), ended func(mfagate.Ended)) {
	for {
		select {
		case <-ctx.Done():
			return
		case on := <-r.listening:
			listening(on)
		case e := <-r.ended:
			ended(e)
		}
		r.applied <- struct{}{}
	}
}

// TestListeningTrustsLonger: while the listener is connected an entry is
// trusted for CheckTTLListening; when it is lost, for CheckTTL again; when
// it comes back everything remembered is forgotten (announcements were
// missed meanwhile); an announcement of "all" forgets everything too.
func TestListeningTrustsLonger(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f, cs := countedFixture(t, account.Options{})
	u := f.mustUser(t, "alice", pw)
	tokens, err := f.svc.NewSessions(ctx, u.ID, 3)
	if err != nil {
		t.Fatal(err)
	}
	r := fakeRevocations{listening: make(chan bool), ended: make(chan mfagate.Ended), applied: make(chan struct{})}
	go f.svc.FollowRevocations(ctx, r)
	say := func(v any) {
		switch v := v.(type) {
		case bool:
			r.listening <- v
		case mfagate.Ended:
			r.ended <- v
		}
		<-r.applied
	}
	fromMemory := func(tok string) bool {
		t.Helper()
		before := cs.lookups.Load()
		if _, err := f.svc.CheckSession(ctx, tok); err != nil {
			t.Fatal(err)
		}
		return cs.lookups.Load() == before
	}
	say(true)
	for _, tok := range tokens {
		fromMemory(tok)
	}
	f.clock.Advance(account.CheckTTLListening - time.Millisecond)
	if !fromMemory(tokens[0]) || !fromMemory(tokens[1]) {
		t.Fatal("listening, within CheckTTLListening: want the sessions from memory")
	}
	f.clock.Advance(time.Millisecond)
	if fromMemory(tokens[0]) {
		t.Fatal("listening, at CheckTTLListening: want a lookup")
	}
	say(false) // tokens[0] was read just now; tokens[1] and [2] a minute ago
	if !fromMemory(tokens[0]) || fromMemory(tokens[1]) {
		t.Fatal("not listening: want an entry read now from memory, one read a minute ago looked up")
	}
	say(true)
	if n := f.svc.CachedChecks(); n != 0 {
		t.Fatalf("listening again: %d sessions cached, want all forgotten", n)
	}
	for _, tok := range tokens {
		fromMemory(tok)
	}
	say(mfagate.Ended{All: true})
	if n := f.svc.CachedChecks(); n != 0 {
		t.Fatalf("after an announcement of all: %d sessions cached, want none", n)
	}
	for _, tok := range tokens {
		fromMemory(tok)
	}
	h, _ := f.svc.TokenHash(tokens[2])
	say(mfagate.Ended{Hashes: [][]byte{h}})
	if !fromMemory(tokens[0]) || fromMemory(tokens[2]) {
		t.Fatal("after an announcement of one session: want only that one looked up")
	}
	say(mfagate.Ended{Users: []int64{u.ID}})
	if n := f.svc.CachedChecks(); n != 0 {
		t.Fatalf("after an announcement of the user: %d sessions cached, want none", n)
	}
}
