package account_test

// Attacks on forward-auth's session check (check.go): each test tries to
// get a session accepted that the rules say must be refused, or a live one
// refused, and counts what happened. None measures time.

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/account"
	"github.com/mfagate/mfagate/sqlstore"
	"github.com/mfagate/mfagate/sqlstore/sqltest"
	"github.com/mfagate/mfagate/totp"
)

// TestAttackTokenShapes: values of the right length that are not this
// server's tokens in their exact spelling — case flipped, padding or the
// other base64 alphabet's characters, non-ASCII bytes, NULs — and tokens
// made under another server key are refused in memory, with no request.
func TestAttackTokenShapes(t *testing.T) {
	ctx := context.Background()
	f, cs := countedFixture(t, account.Options{})
	f.mustUser(t, "alice", pw)
	in := f.mustSignIn(t, "alice", pw)
	if _, err := f.svc.CheckSession(ctx, in.Token); err != nil {
		t.Fatal(err)
	}
	tok := in.Token
	set := func(i int, s string) string { return tok[:i] + s + tok[i+len(s):] }
	var shapes []string
	for i := range len(tok) {
		c := tok[i]
		switch {
		case c >= 'a' && c <= 'z':
			shapes = append(shapes, set(i, strings.ToUpper(string(c))))
		case c >= 'A' && c <= 'Z':
			shapes = append(shapes, set(i, strings.ToLower(string(c))))
		case c == '-':
			shapes = append(shapes, set(i, "+"))
		case c == '_':
			shapes = append(shapes, set(i, "/"))
		}
	}
	shapes = append(shapes,
		strings.ToUpper(tok), strings.ToLower(tok),
		set(62, "=="), set(63, "="), set(0, "+"), set(0, "/"),
		set(10, "\x00"), set(20, "é"), // é is two bytes: still 64 bytes long
		tok[:63], tok+"A", tok+"=", " "+tok[1:], tok[:63]+"\n",
		strings.Repeat("\xff", 64), strings.Repeat("A", 64), "",
	)
	// Another server's key: a token it made is refused here.
	otherKey := []byte("fedcba9876543210fedcba9876543210")
	other, err := account.New(account.Options{Store: f.store, Clock: f.clock, Password: cheap, Key: otherKey})
	if err != nil {
		t.Fatal(err)
	}
	foreign, err := other.SignIn(ctx, account.SignIn{Username: "alice", Password: pw})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.CheckSession(ctx, foreign.Token); err != nil {
		t.Fatalf("the other server's own token there: %v", err)
	}
	shapes = append(shapes, foreign.Token)
	before, refused := cs.requests.Load(), f.svc.CheckStats().Refused
	for _, s := range shapes {
		if s == tok {
			continue
		}
		for _, check := range bothChecks(f.svc) {
			if cur, err := check(ctx, s); err != account.ErrNoSession || cur != nil {
				t.Errorf("%q: got %v, %v, want ErrNoSession", s, cur, err)
			}
		}
	}
	if got := cs.requests.Load() - before; got != 0 {
		t.Errorf("database requests for %d malformed or foreign tokens: %d, want 0", len(shapes), got)
	}
	if got := f.svc.CheckStats().Refused - refused; got != uint64(len(shapes)) {
		t.Errorf("refused in memory: %d of %d", got, len(shapes))
	}
	if _, err := f.svc.CheckSession(ctx, tok); err != nil {
		t.Errorf("the real token after the flood: %v", err)
	}
}

// TestAttackEndedElsewhereStopsWithinCheckTTL: a session ended on replica
// one in any of the ways that end sessions is refused by replica two, which
// had it in memory and hears no announcements, once CheckTTL has passed
// since it read it: never later. On both backends.
func TestAttackEndedElsewhereStopsWithinCheckTTL(t *testing.T) {
	sqltest.EachBackend(t, func(t *testing.T, b sqltest.Backend) {
		ctx := context.Background()
		dbOne, dbTwo := b.Replicas(t)
		clock := mfagate.NewManualClock(start)
		one := mustServiceWith(t, dbOne, clock, account.Options{SharedStore: true})
		cs := &countingStore{Store: dbTwo}
		two := mustServiceWith(t, cs, clock, account.Options{SharedStore: true})
		f := &fixture{svc: one, store: dbOne, clock: clock}
		f.mustUser(t, "bob", pw)
		staff := account.Actor{Name: "cli", AtServer: true}
		ends := []struct {
			name string
			end  func(t *testing.T, token string)
		}{
			{"sign-out", func(t *testing.T, token string) { must(t, one.SignOut(ctx, token, client)) }},
			{"disabled", func(t *testing.T, token string) {
				must(t, one.SetDisabled(ctx, staff, "bob", true, "left"))
				must(t, one.SetDisabled(ctx, staff, "bob", false, "back"))
			}},
			{"password set by staff", func(t *testing.T, token string) { must(t, one.SetPassword(ctx, staff, "bob", pw)) }},
			{"MFA reset", func(t *testing.T, token string) {
				must(t, one.ResetMFA(ctx, account.Actor{Name: "sam"}, "bob", "lost phone"))
			}},
			{"signed out everywhere", func(t *testing.T, token string) {
				_, err := one.EndSessions(ctx, account.Actor{Name: "sam"}, "bob", "lost laptop")
				must(t, err)
			}},
			{"password changed from another session", func(t *testing.T, token string) {
				other := f.mustSignIn(t, "bob", pw)
				cur, err := one.Authenticate(ctx, other.Token)
				must(t, err)
				must(t, one.ChangePassword(ctx, cur, pw, pw+" two", client))
				must(t, one.SetPassword(ctx, staff, "bob", pw)) // back, for the next case
			}},
			{"other sessions ended", func(t *testing.T, token string) {
				other := f.mustSignIn(t, "bob", pw)
				cur, err := one.Authenticate(ctx, other.Token)
				must(t, err)
				n, err := one.EndOtherSessions(ctx, cur, client)
				must(t, err)
				if n != 1 {
					t.Fatalf("ended %d other sessions, want 1", n)
				}
			}},
		}
		for _, tt := range ends {
			t.Run(tt.name, func(t *testing.T) {
				clock.Advance(time.Minute)
				token := f.mustSignIn(t, "bob", pw).Token
				if _, err := two.CheckSession(ctx, token); err != nil {
					t.Fatalf("before: %v", err)
				}
				read := clock.Now()
				tt.end(t, token)
				if _, err := one.CheckSession(ctx, token); err != account.ErrNoSession {
					t.Fatalf("on the replica that ended it: got %v, want ErrNoSession at once", err)
				}
				clock.Set(read.Add(account.CheckTTL))
				if _, err := two.CheckSession(ctx, token); err != account.ErrNoSession {
					t.Fatalf("on replica two CheckTTL after it read it: got %v, want ErrNoSession", err)
				}
				// And it stays refused however often it is tried later.
				for range 3 {
					clock.Advance(account.NegativeTTL)
					if _, err := two.CheckSession(ctx, token); err != account.ErrNoSession {
						t.Fatalf("later: got %v", err)
					}
				}
			})
		}
	})
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// lookupHookStore runs hook once, right after a session lookup has read a live
// session and before CheckSession caches it: the window in which a
// sign-out on the same replica must not leave the session remembered.
type lookupHookStore struct {
	mfagate.Store
	hook atomic.Pointer[func()]
}

func (h *lookupHookStore) View(ctx context.Context, fn func(mfagate.Tx) error) error {
	return h.Store.View(ctx, func(tx mfagate.Tx) error { return fn(lookupHookTx{tx, h}) })
}

type lookupHookTx struct {
	mfagate.Tx
	h *lookupHookStore
}

func (t lookupHookTx) SessionAndUser(hash []byte) (*mfagate.Session, *mfagate.User, error) {
	s, u, err := t.Tx.SessionAndUser(hash)
	if fn := t.h.hook.Swap(nil); fn != nil && err == nil {
		(*fn)()
	}
	return s, u, err
}

// TestAttackSignOutDuringLookup: a session signed out on this replica
// while CheckSession is between its database read and caching what it
// read is not remembered as live (the epoch): the next check refuses it.
// Also for an account disabled in that window.
func TestAttackSignOutDuringLookup(t *testing.T) {
	sqltest.EachBackend(t, func(t *testing.T, b sqltest.Backend) {
		ctx := context.Background()
		db := b.New(t)
		sqltest.MustMigrate(t, db)
		hs := &lookupHookStore{Store: db}
		clock := mfagate.NewManualClock(start)
		svc := mustServiceWith(t, hs, clock, account.Options{})
		f := &fixture{svc: svc, store: db, clock: clock}
		f.mustUser(t, "alice", pw)
		for _, tt := range []struct {
			name string
			end  func(token string)
		}{
			{"sign-out", func(token string) { must(t, svc.SignOut(ctx, token, client)) }},
			{"disabled", func(string) {
				must(t, svc.SetDisabled(ctx, account.Actor{Name: "cli", AtServer: true}, "alice", true, "left"))
			}},
		} {
			token := f.mustSignIn(t, "alice", pw).Token
			ran := false
			hook := func() { tt.end(token); ran = true }
			hs.hook.Store(&hook)
			svc.CheckSession(ctx, token) // what it answers was true when it read it
			if !ran {
				t.Fatalf("%s: the hook never ran", tt.name)
			}
			for i := range 3 {
				if _, err := svc.CheckSession(ctx, token); err != account.ErrNoSession {
					t.Fatalf("%s: check %d after the session ended during the first one's read: got %v, want ErrNoSession", tt.name, i, err)
				}
			}
		}
	})
}

// TestAttackTouchNeverMovesBack: a replica flushing an older use after
// another flushed a newer one does not move the session's last use back
// (which would end it early), and a flush of a session ended meanwhile
// does not bring it back.
func TestAttackTouchNeverMovesBack(t *testing.T) {
	sqltest.EachBackend(t, func(t *testing.T, b sqltest.Backend) {
		ctx := context.Background()
		dbOne, dbTwo := b.Replicas(t)
		clock := mfagate.NewManualClock(start)
		one := mustServiceWith(t, dbOne, clock, account.Options{SharedStore: true})
		two := mustServiceWith(t, dbTwo, clock, account.Options{SharedStore: true})
		f := &fixture{svc: one, store: dbOne, clock: clock}
		f.mustUser(t, "alice", pw)
		in := f.mustSignIn(t, "alice", pw)
		clock.Advance(time.Minute)
		if _, err := one.CheckSession(ctx, in.Token); err != nil { // one's use, older
			t.Fatal(err)
		}
		clock.Advance(10 * time.Minute)
		newer := clock.Now()
		if _, err := two.CheckSession(ctx, in.Token); err != nil {
			t.Fatal(err)
		}
		must(t, two.FlushTouches(ctx))
		must(t, one.FlushTouches(ctx))
		if got := mustStoredSession(t, dbOne, in.Session.Hash).LastSeenAt; !got.Equal(newer) {
			t.Errorf("last use after the older flush came second: %v, want %v", got, newer)
		}
		// Used on two, then signed out on one, then two flushes.
		clock.Advance(time.Minute)
		clock.Advance(account.CheckTTL)
		if _, err := two.CheckSession(ctx, in.Token); err != nil {
			t.Fatal(err)
		}
		must(t, one.SignOut(ctx, in.Token, client))
		must(t, two.FlushTouches(ctx))
		clock.Advance(account.CheckTTL)
		for _, svc := range []*account.Service{one, two} {
			if _, err := svc.CheckSession(ctx, in.Token); err != account.ErrNoSession {
				t.Errorf("signed out, then a flush of a use: got %v, want ErrNoSession", err)
			}
		}
	})
}

// TestAttackCachedPastTimeouts: while listening (entries trusted for a
// minute), a session kept in memory is still refused the moment it has
// been idle for the idle timeout, or reaches its maximum age, though its
// entry is fresh; and kept in use right up to the maximum age it does not
// outlive it.
func TestAttackCachedPastTimeouts(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const idle, maxAge = 20 * time.Second, 10 * time.Minute
	f, cs := countedFixture(t, account.Options{SessionIdle: idle, SessionMaxAge: maxAge})
	f.mustUser(t, "alice", pw)
	r := fakeRevocations{listening: make(chan bool), ended: make(chan mfagate.Ended), applied: make(chan struct{})}
	go f.svc.FollowRevocations(ctx, r)
	r.listening <- true
	<-r.applied

	// Idle: read at t, not used again; at t+idle its entry is 20 s old,
	// well inside CheckTTLListening, and must be refused.
	in := f.mustSignIn(t, "alice", pw)
	if _, err := f.svc.CheckSession(ctx, in.Token); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(idle - time.Millisecond)
	lookups := cs.lookups.Load()
	if _, err := f.svc.CheckSession(ctx, in.Token); err != nil || cs.lookups.Load() != lookups {
		t.Fatalf("just inside the idle timeout: %v (lookups %d), want it from memory", err, cs.lookups.Load()-lookups)
	}
	f.clock.Advance(idle)
	if _, err := f.svc.CheckSession(ctx, in.Token); err != account.ErrNoSession {
		t.Fatalf("idle for the timeout with a fresh entry: got %v, want ErrNoSession", err)
	}

	// Max age: used every 14 s (never idle) from sign-in on, so the entry
	// read last before the maximum age (at 560 s) is 40 s old at 600 s.
	in = f.mustSignIn(t, "alice", pw)
	signedIn := f.clock.Now()
	accepted := 0
	for f.clock.Now().Before(signedIn.Add(maxAge + time.Minute)) {
		_, err := f.svc.CheckSession(ctx, in.Token)
		age := f.clock.Now().Sub(signedIn)
		switch {
		case age < maxAge && err != nil:
			t.Fatalf("at age %v, in use: got %v", age, err)
		case age >= maxAge && err != account.ErrNoSession:
			t.Fatalf("at age %v, past the maximum %v: got %v, want ErrNoSession", age, maxAge, err)
		}
		if err == nil {
			accepted++
		}
		step := 14 * time.Second
		if left := signedIn.Add(maxAge).Sub(f.clock.Now()); left > 0 && left < step {
			step = left // land exactly on the maximum age
		}
		f.clock.Advance(step)
	}
	if accepted == 0 {
		t.Fatal("never accepted")
	}
}

// TestAttackEvictionFlood: a cache of 8 sessions flooded with 200 valid
// ones: it never holds more than 8, a session signed out on another
// replica and pushed out comes back refused (it is read again), none
// signed out on this replica is ever accepted again.
func TestAttackEvictionFlood(t *testing.T) {
	sqltest.EachBackend(t, func(t *testing.T, b sqltest.Backend) {
		ctx := context.Background()
		dbOne, dbTwo := b.Replicas(t)
		clock := mfagate.NewManualClock(start)
		one := mustServiceWith(t, dbOne, clock, account.Options{SharedStore: true})
		cs := &countingStore{Store: dbTwo}
		two := mustServiceWith(t, cs, clock, account.Options{SharedStore: true, SessionCacheSize: 8})
		u := (&fixture{svc: one, store: dbOne, clock: clock}).mustUser(t, "alice", pw)
		tokens, err := one.NewSessions(ctx, u.ID, 200)
		must(t, err)
		victim := tokens[0]
		if _, err := two.CheckSession(ctx, victim); err != nil {
			t.Fatal(err)
		}
		must(t, one.SignOut(ctx, victim, client)) // two does not hear of it
		for _, tok := range tokens[1:] {
			if _, err := two.CheckSession(ctx, tok); err != nil {
				t.Fatal(err)
			}
			if n := two.CachedChecks(); n > 8 {
				t.Fatalf("cache holds %d, bound 8", n)
			}
		}
		if ev := two.CheckStats().Evictions; ev == 0 {
			t.Fatal("no evictions: the flood did not push anything out")
		}
		if _, err := two.CheckSession(ctx, victim); err != account.ErrNoSession {
			t.Fatalf("signed out elsewhere and pushed out: got %v, want ErrNoSession", err)
		}
		// Signed out on two itself, in the middle of the flood.
		for i, tok := range tokens[1:50] {
			if i%2 == 0 {
				must(t, two.SignOut(ctx, tok, client))
			}
		}
		for round := range 2 {
			for i, tok := range tokens[1:50] {
				_, err := two.CheckSession(ctx, tok)
				if i%2 == 0 && err != account.ErrNoSession {
					t.Fatalf("round %d: token %d signed out here: got %v, want ErrNoSession", round, i+1, err)
				}
				if i%2 == 1 && err != nil {
					t.Fatalf("round %d: token %d live: got %v", round, i+1, err)
				}
			}
		}
	})
}

// TestAttackListenerKilled: the listening connection's backend is killed
// from another connection. The replica hears it lost, so a session ended
// on the other replica during the outage is refused CheckTTL after it was
// read, not CheckTTLListening; when the listener is back, nothing read
// before it is trusted for longer.
func TestAttackListenerKilled(t *testing.T) {
	ctx := context.Background()
	b := sqltest.Postgres(t)
	dsn := b.DSN(t)
	dbOne := b.Open(t, dsn)
	sqltest.MustMigrate(t, dbOne)
	dbTwo := b.Open(t, dsn)
	clock := mfagate.NewManualClock(start)
	one := mustServiceWith(t, dbOne, clock, account.Options{SharedStore: true})
	cs := &countingStore{Store: dbTwo}
	two := mustServiceWith(t, cs, clock, account.Options{SharedStore: true})
	f := &fixture{svc: one, store: dbOne, clock: clock}
	f.mustUser(t, "alice", pw)

	l, err := sqlstore.NewListener(dsn, 5*time.Second, nil)
	must(t, err)
	l.Retry = 10 * time.Millisecond
	heard := make(chan mfagate.Ended, 10)
	on := make(chan bool, 10)
	fctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { two.FollowRevocations(fctx, tapped{l, heard, on, false}); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	wait := func(want bool) {
		t.Helper()
		select {
		case got := <-on:
			if got != want {
				t.Fatalf("listening: got %v, want %v", got, want)
			}
		case <-time.After(30 * time.Second): // a hang, not a timing
			t.Fatalf("listening never became %v", want)
		}
	}
	wait(true)

	conn, err := pgx.Connect(ctx, dsn)
	must(t, err)
	defer conn.Close(ctx)
	var channel string
	must(t, conn.QueryRow(ctx, `SELECT 'mfagate_ended_' || left(md5(current_schema()), 16)`).Scan(&channel))
	kill := func() {
		t.Helper()
		var n int
		// Only the backend listening on this test's own channel.
		must(t, conn.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
			WHERE pid <> pg_backend_pid() AND query = $1`, "LISTEN "+pgx.Identifier{channel}.Sanitize()).Scan(&n))
		if n != 1 {
			t.Fatalf("killed %d listening backends, want 1", n)
		}
	}

	in := f.mustSignIn(t, "alice", pw)
	if _, err := two.CheckSession(ctx, in.Token); err != nil {
		t.Fatal(err)
	}
	read := clock.Now()
	kill()
	wait(false)
	must(t, one.SignOut(ctx, in.Token, client)) // announced, but nobody on two hears it
	clock.Set(read.Add(account.CheckTTL))
	if _, err := two.CheckSession(ctx, in.Token); err != account.ErrNoSession {
		t.Fatalf("signed out during the outage, CheckTTL after the read: got %v, want ErrNoSession", err)
	}
	wait(true) // back: everything remembered was forgotten

	// Read while listening, killed, ended during the outage, and the
	// listener reconnects before CheckTTL: the entry must not now be
	// trusted for a minute.
	in = f.mustSignIn(t, "alice", pw)
	if _, err := two.CheckSession(ctx, in.Token); err != nil {
		t.Fatal(err)
	}
	read = clock.Now()
	kill()
	wait(false)
	must(t, one.SignOut(ctx, in.Token, client))
	wait(true)
	clock.Set(read.Add(account.CheckTTL))
	if _, err := two.CheckSession(ctx, in.Token); err != account.ErrNoSession {
		t.Fatalf("ended during an outage, after the listener came back: got %v, want ErrNoSession", err)
	}
}

// TestAttackAbortedCheckNotRemembered: a check whose request was
// abandoned (its context cancelled before or during the lookup) is not
// remembered as a refusal: the same live session's next check is
// accepted, not refused from the negative cache for NegativeTTL.
func TestAttackAbortedCheckNotRemembered(t *testing.T) {
	sqltest.EachBackend(t, func(t *testing.T, b sqltest.Backend) {
		ctx := context.Background()
		db := b.New(t)
		sqltest.MustMigrate(t, db)
		hs := &lookupHookStore{Store: db}
		clock := mfagate.NewManualClock(start)
		svc := mustServiceWith(t, hs, clock, account.Options{})
		f := &fixture{svc: svc, store: db, clock: clock}
		f.mustUser(t, "alice", pw)

		token := f.mustSignIn(t, "alice", pw).Token
		gone, cancel := context.WithCancel(ctx)
		cancel()
		if cur, err := svc.CheckSession(gone, token); cur != nil && err == nil {
			t.Log("a check with a cancelled context was answered; not a refusal at least")
		}
		if _, err := svc.CheckSession(ctx, token); err != nil {
			t.Fatalf("live session after a check cancelled before its lookup: got %v, want it accepted", err)
		}

		// Cancelled during the lookup: after the read, before the rest.
		token = f.mustSignIn(t, "alice", pw).Token
		during, cancel := context.WithCancel(ctx)
		hook := func() { cancel() }
		hs.hook.Store(&hook)
		svc.CheckSession(during, token)
		if _, err := svc.CheckSession(ctx, token); err != nil {
			t.Fatalf("live session after a check cancelled during its lookup: got %v, want it accepted", err)
		}
		if got := svc.CheckStats().NegativeHits; got != 0 {
			t.Errorf("negative hits for live sessions: %d, want 0", got)
		}
	})
}

// TestAttackPartialSessionNeverFull: a session past the password step
// only is never answered as fully signed in, however often forward-auth
// checks it (from memory or not), on this replica or another; when the
// second factor is passed the new id is at once fully signed in on both,
// and the old id is refused on both (at once here, within CheckTTL there).
func TestAttackPartialSessionNeverFull(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.mustUser(t, "alice", pw)
	secret, _ := f.mustTOTPFactor(t, "alice")
	other := mustService(t, f.store, f.clock, cheap)
	f.clock.Advance(time.Minute)
	in := f.mustSignIn(t, "alice", pw)
	if in.Session.Stage == mfagate.StageFull {
		t.Fatal("signed in with a factor set up: stage full after the password alone")
	}
	for i := range 5 {
		for _, svc := range []*account.Service{f.svc, other} {
			cur, err := svc.CheckSession(ctx, in.Token)
			if err != nil {
				t.Fatal(err)
			}
			if cur.Full {
				t.Fatalf("check %d: a password-only session answered as fully signed in", i)
			}
		}
		f.clock.Advance(time.Second)
	}
	f.clock.Advance(30 * time.Second)
	read := f.clock.Now()
	if _, err := other.CheckSession(ctx, in.Token); err != nil { // fresh on the other replica
		t.Fatal(err)
	}
	v, err := f.svc.Verify(ctx, f.current(t, in.Token), mfagate.MethodTOTP, totp.Code(secret, totp.Step(f.clock.Now())), client)
	if err != nil {
		t.Fatal(err)
	}
	for _, svc := range []*account.Service{f.svc, other} {
		cur, err := svc.CheckSession(ctx, v.Token)
		if err != nil || !cur.Full {
			t.Fatalf("the new id: got %v, %v; want fully signed in at once", cur, err)
		}
	}
	if _, err := f.svc.CheckSession(ctx, in.Token); err != account.ErrNoSession {
		t.Fatalf("the old id on the replica that rotated it: got %v, want ErrNoSession", err)
	}
	if cur, err := other.CheckSession(ctx, in.Token); err == nil && cur.Full {
		t.Fatal("the old id on the other replica answered as fully signed in")
	}
	f.clock.Set(read.Add(account.CheckTTL))
	if _, err := other.CheckSession(ctx, in.Token); err != account.ErrNoSession {
		t.Fatalf("the old id on the other replica after CheckTTL: got %v, want ErrNoSession", err)
	}
}

// TestAttackReconnectKeepsSessionInUse: uses answered from memory on a
// listening replica, whose entries a reconnect of the listener then
// forgets before they are written, do not get the session ended as idle
// early on another replica: it is still accepted just inside the idle
// timeout after its last real use. (Those uses are not written — the
// forget drops them — but IdleGrace covers the minute they can span.)
func TestAttackReconnectKeepsSessionInUse(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const idle = 30 * time.Minute
	store := sqltest.SQLite().New(t)
	clock := mfagate.NewManualClock(start)
	cs := &countingStore{Store: store}
	one := mustServiceWith(t, cs, clock, account.Options{SharedStore: true, SessionIdle: idle})
	two := mustServiceWith(t, store, clock, account.Options{SharedStore: true, SessionIdle: idle})
	(&fixture{svc: one, store: store, clock: clock}).mustUser(t, "alice", pw)
	r := fakeRevocations{listening: make(chan bool), ended: make(chan mfagate.Ended), applied: make(chan struct{})}
	go one.FollowRevocations(ctx, r)
	say := func(on bool) { r.listening <- on; <-r.applied }
	say(true)
	in, err := one.SignIn(ctx, account.SignIn{Username: "alice", Password: pw})
	must(t, err)
	if _, err := one.CheckSession(ctx, in.Token); err != nil { // read from the database
		t.Fatal(err)
	}
	clock.Advance(account.CheckTTLListening - time.Millisecond)
	lookups := cs.lookups.Load()
	if _, err := one.CheckSession(ctx, in.Token); err != nil || cs.lookups.Load() != lookups {
		t.Fatalf("last use, from memory: %v", err)
	}
	lastUse := clock.Now()
	say(false)
	say(true) // reconnected: everything remembered is forgotten
	must(t, one.FlushTouches(ctx))
	clock.Set(lastUse.Add(idle - time.Millisecond))
	if _, err := two.CheckSession(ctx, in.Token); err != nil {
		t.Fatalf("just inside the idle timeout after its last use: got %v, want the session", err)
	}
}

// TestAttackClockStepBack: the server's wall clock is stepped back (an
// NTP correction, a virtual machine resumed from a snapshot) just after
// replica two read a session that replica one then signs out. The rule:
// a session ended on another replica keeps working for at most CheckTTL
// (no listener) after it was read from the database. An entry's age is
// taken from the wall clock, so after a step back of an hour it is
// trusted for the hour plus CheckTTL.
func TestAttackClockStepBack(t *testing.T) {
	ctx := context.Background()
	dbOne, dbTwo := sqltest.SQLite().Replicas(t)
	clock := mfagate.NewManualClock(start)
	one := mustServiceWith(t, dbOne, clock, account.Options{SharedStore: true})
	cs := &countingStore{Store: dbTwo}
	two := mustServiceWith(t, cs, clock, account.Options{SharedStore: true})
	f := &fixture{svc: one, store: dbOne, clock: clock}
	f.mustUser(t, "alice", pw)
	in := f.mustSignIn(t, "alice", pw)
	if _, err := two.CheckSession(ctx, in.Token); err != nil {
		t.Fatal(err)
	}
	must(t, one.SignOut(ctx, in.Token, client))
	clock.Advance(time.Second)
	clock.Advance(-time.Hour) // the step back
	accepted := 0
	for range 10 { // 10 × CheckTTL of real time after the read
		clock.Advance(account.CheckTTL)
		if _, err := two.CheckSession(ctx, in.Token); err == nil {
			accepted++
		}
	}
	if accepted > 0 {
		t.Errorf("signed out on replica one, then the clock stepped back an hour: replica two accepted it %d times in the next %v (%d lookups), want 0 after CheckTTL",
			accepted, 10*account.CheckTTL, cs.lookups.Load())
	}
}

// updateHookStore runs hook once, just before the next Update begins.
type updateHookStore struct {
	mfagate.Store
	hook atomic.Pointer[func()]
}

func (h *updateHookStore) Update(ctx context.Context, fn func(mfagate.Tx) error) error {
	if hook := h.hook.Swap(nil); hook != nil {
		(*hook)()
	}
	return h.Store.Update(ctx, fn)
}

// TestAttackIdleDuringFlush: on a single server the idle timeout is
// exact (docs/forward-auth.md: "A single server ends it exactly on time";
// touches.go: "alone it ends a session exactly at the idle timeout"). A
// use answered by Authenticate (the sign-in pages and console) waits in
// the touches' pending map; FlushTouches takes that map away before it
// writes it. A check that runs in that window sees neither the pending use
// nor the database's copy of it, and ends as idle a session used a moment
// ago.
func TestAttackIdleDuringFlush(t *testing.T) {
	ctx := context.Background()
	const idle = 30 * time.Minute
	db := sqltest.SQLite().New(t)
	hs := &updateHookStore{Store: db}
	clock := mfagate.NewManualClock(start)
	svc := mustServiceWith(t, hs, clock, account.Options{SessionIdle: idle})
	f := &fixture{svc: svc, store: db, clock: clock}
	f.mustUser(t, "alice", pw)
	in := f.mustSignIn(t, "alice", pw)
	clock.Advance(idle - time.Millisecond)
	if _, err := svc.Authenticate(ctx, in.Token); err != nil { // a use just inside the timeout
		t.Fatal(err)
	}
	clock.Advance(2 * time.Millisecond) // 2 ms after that use
	var during error
	ran := false
	hook := func() { _, during = svc.Authenticate(ctx, in.Token); ran = true }
	hs.hook.Store(&hook)
	must(t, svc.FlushTouches(ctx))
	if !ran {
		t.Fatal("the flush wrote nothing: the hook never ran")
	}
	if during != nil {
		t.Errorf("a check while the flush writes, 2 ms after the last use: got %v, want the session", during)
	}
	if _, err := svc.CheckSession(ctx, in.Token); err != nil {
		t.Errorf("after the flush, 2 ms after the last use: got %v, want the session", err)
	}
}

// TestAttackUserWideEndsAnnounced: on PostgreSQL with the listener
// connected (entries trusted for a minute), ends that name an account
// rather than a session — disabled, a password changed from another
// session, signed out everywhere — are heard by replica two and refuse
// the session there at once, with no clock moved.
func TestAttackUserWideEndsAnnounced(t *testing.T) {
	ctx := context.Background()
	b := sqltest.Postgres(t)
	dsn := b.DSN(t)
	dbOne := b.Open(t, dsn)
	sqltest.MustMigrate(t, dbOne)
	dbTwo := b.Open(t, dsn)
	clock := mfagate.NewManualClock(start)
	one := mustServiceWith(t, dbOne, clock, account.Options{SharedStore: true})
	two := mustServiceWith(t, dbTwo, clock, account.Options{SharedStore: true})
	f := &fixture{svc: one, store: dbOne, clock: clock}
	f.mustUser(t, "bob", pw)
	l, err := sqlstore.NewListener(dsn, 5*time.Second, nil)
	must(t, err)
	heard := make(chan mfagate.Ended, 10)
	on := make(chan bool, 10)
	fctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { two.FollowRevocations(fctx, tapped{l, heard, on, false}); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	select {
	case <-on:
	case <-time.After(30 * time.Second): // a hang, not a timing
		t.Fatal("the listener never connected")
	}
	hear := func(t *testing.T) {
		t.Helper()
		select {
		case <-heard:
		case <-time.After(30 * time.Second): // a hang, not a timing
			t.Fatal("no announcement arrived")
		}
	}
	staff := account.Actor{Name: "cli", AtServer: true}
	for _, tt := range []struct {
		name string
		end  func(t *testing.T)
	}{
		{"disabled", func(t *testing.T) {
			must(t, one.SetDisabled(ctx, staff, "bob", true, "left"))
			hear(t)
			must(t, one.SetDisabled(ctx, staff, "bob", false, "back"))
		}},
		{"password changed from another session", func(t *testing.T) {
			other := f.mustSignIn(t, "bob", pw)
			cur, err := one.Authenticate(ctx, other.Token)
			must(t, err)
			must(t, one.ChangePassword(ctx, cur, pw, pw+" two", client))
			hear(t)
			must(t, one.SetPassword(ctx, staff, "bob", pw))
			hear(t)
		}},
		{"signed out everywhere", func(t *testing.T) {
			_, err := one.EndSessions(ctx, account.Actor{Name: "sam"}, "bob", "lost laptop")
			must(t, err)
			hear(t)
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			token := f.mustSignIn(t, "bob", pw).Token
			if _, err := two.CheckSession(ctx, token); err != nil {
				t.Fatal(err)
			}
			tt.end(t)
			if _, err := two.CheckSession(ctx, token); err != account.ErrNoSession {
				t.Fatalf("replica two once the announcement arrived: got %v, want ErrNoSession", err)
			}
		})
	}
}

// TestAttackConcurrentChecksDuringSignOut: goroutines check a session
// over and over while it is signed out on the same replica. However they
// interleave, no check that began after SignOut returned is accepted
// ("a session ended on the replica that answers stops at once"), whether
// the checks hit memory or the database at that moment.
func TestAttackConcurrentChecksDuringSignOut(t *testing.T) {
	sqltest.EachBackend(t, func(t *testing.T, b sqltest.Backend) {
		ctx := context.Background()
		db := b.New(t)
		sqltest.MustMigrate(t, db)
		clock := mfagate.NewManualClock(start)
		svc := mustServiceWith(t, db, clock, account.Options{})
		u := (&fixture{svc: svc, store: db, clock: clock}).mustUser(t, "alice", pw)
		tokens, err := svc.NewSessions(ctx, u.ID, 20)
		must(t, err)
		var late, checks atomic.Int64
		for _, token := range tokens {
			var ended atomic.Bool
			stop := make(chan struct{})
			done := make(chan struct{})
			const workers = 4
			for range workers {
				go func() {
					defer func() { done <- struct{}{} }()
					for {
						select {
						case <-stop:
							return
						default:
						}
						after := ended.Load()
						_, err := svc.CheckSession(ctx, token)
						checks.Add(1)
						if after && err == nil {
							late.Add(1)
						}
						if after && err != nil && err != account.ErrNoSession {
							t.Errorf("check after the sign-out: %v", err)
						}
					}
				}()
			}
			for range 3 { // let them get going: some from memory, some not
				if _, err := svc.CheckSession(ctx, token); err != nil {
					t.Fatal(err)
				}
			}
			must(t, svc.SignOut(ctx, token, client))
			ended.Store(true)
			for range 50 { // checks that surely began after the sign-out
				if _, err := svc.CheckSession(ctx, token); err == nil {
					late.Add(1)
				}
			}
			close(stop)
			for range workers {
				<-done
			}
		}
		if n := late.Load(); n != 0 {
			t.Errorf("checks begun after SignOut returned that were accepted: %d of %d", n, checks.Load())
		}
	})
}
