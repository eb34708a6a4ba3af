package account

import (
	"context"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mfagate/mfagate"
)

// CheckTTL is how long a checked session is trusted from memory before
// the database is asked again, while this replica does not hear of
// sessions ended elsewhere (before FollowRevocations is listening, or
// while it has lost its connection or cannot read). It bounds how long a
// session revoked on another replica keeps working for forward-auth.
const CheckTTL = 5 * time.Second

// CheckTTLListening is CheckTTL while this replica hears of every session
// ended on the others (FollowRevocations): such an entry is forgotten as
// soon as the announcement arrives, so it may be kept longer. It is the
// worst case when an announcement is missed without the connection being
// seen to fail.
const CheckTTLListening = time.Minute

// NegativeTTL is how long a token that names no live session is refused
// from memory. Only tokens this server made (their MAC checks) get this
// far: a session once gone never comes back, and a new session has a new
// token, so the only cost of a longer time would be memory.
const NegativeTTL = 30 * time.Second

// DefaultSessionCacheSize is how many sessions the check cache holds
// unless Options.SessionCacheSize says otherwise: the 100,000 live
// sessions of SPEC.md's targets, at about 0.35 KB of heap each
// (BenchmarkCheckSession100k), some 35 MB.
const DefaultSessionCacheSize = 100_000

// checkCache remembers recently checked sessions by token hash: those
// that are live (pos), and those that are not (neg).
type checkCache struct {
	pos *clockMap[*entry]
	neg *clockMap[int64] // when the refusal ends, Unix milliseconds
	// epoch grows each time sessions are forgotten. A check that read the
	// database before a forget may have read a session that is gone by
	// now; it is not cached when the epoch moved meanwhile.
	epoch atomic.Uint64
	// listening is set while announcements of ended sessions are heard
	// (FollowRevocations): entries then last CheckTTLListening.
	listening atomic.Bool
	// idle and maxAge are the service's limits (idleLimit, maxAge), in
	// milliseconds, for dead.
	idle, maxAge int64

	hits, misses, refused, negHits atomic.Uint64

	// roleSets are the role sets of cached sessions, shared (roleSet).
	roleSets     sync.Map // string (the roles joined) -> []string
	roleSetCount atomic.Int64
}

// Checked is a live session as forward-auth answers with it: whose it is
// and whether every step of signing in is done. It is shared between
// callers and never changes once cached (it is replaced, not changed):
// read it, never modify it. It holds only what forward-auth reads, so
// that a hundred thousand of them fit in little memory
// (BenchmarkCheckSession100k reports the heap per session).
type Checked struct {
	UserID                int64
	Username, Name, Email string
	Roles                 []string // sorted; shared by every session of the same roles
	Groups                string   // Roles joined with commas, for Remote-Groups
	Full                  bool     // every step of signing in is done (mfagate.StageFull)
}

// entry is one cached live session. seen and flushed are this replica's
// uses of it, for the idle timeout and touches.go.
type entry struct {
	c                 Checked
	key               [32]byte
	at                int64 // when it was read from the database, Unix milliseconds
	created, lastSeen int64 // the session's times as read, Unix ms
	// seen is the latest use answered here (Unix ms); flushed the latest
	// written to the database.
	seen, flushed atomic.Int64
}

func (c *checkCache) init(size int, idle, maxAge time.Duration) {
	c.pos, c.neg = newClockMap[*entry](size), newClockMap[int64](max(size/4, 1))
	c.idle, c.maxAge = idle.Milliseconds(), maxAge.Milliseconds()
}

// ttl is how long an entry is trusted now, in milliseconds.
func (c *checkCache) ttl() int64 {
	if c.listening.Load() {
		return CheckTTLListening.Milliseconds()
	}
	return CheckTTL.Milliseconds()
}

// latest is the latest use of e known here.
func (e *entry) latest() int64 {
	return max(e.lastSeen, e.seen.Load())
}

// dead reports whether e's session has passed its idle or absolute
// timeout at now (Unix ms); see Service.expired.
func (c *checkCache) dead(e *entry, now int64) bool {
	return now-e.latest() >= c.idle || now-e.created >= c.maxAge
}

// CheckSession is Authenticate for the hot path of forward-auth, called
// for every request to every protected application.
//
// A token this server did not make (wrong length, alphabet or MAC) is
// refused with no lookup at all, and leaves no trace in memory. A session
// checked in the last CheckTTL (CheckTTLListening while this replica hears
// of sessions ended elsewhere) is answered from memory, still honouring
// its idle and absolute timeouts; a token that named no live session in
// the last NegativeTTL is refused from memory; otherwise the database is
// asked. Sessions ended on this replica are forgotten at once (see
// Service.update); on another, when its announcement arrives, or within
// the TTL.
//
// The Checked returned is shared with other callers: read it, never
// modify it. It carries only what forward-auth answers with, the
// account's identity and roles and whether the session is fully signed
// in: no secret (the password hash, pending setups) has any business in a
// cache of every live session, and every byte more is a hundred thousand.
func (s *Service) CheckSession(ctx context.Context, token string) (*Checked, error) {
	key, ok := s.sessionKey(token)
	if !ok {
		s.check.refused.Add(1)
		return nil, ErrNoSession
	}
	now := s.now().UnixMilli()
	c := &s.check
	if e, hit := c.pos.get(&key); hit {
		// A negative age is a clock stepped back (NTP, a restored VM): the
		// entry's age is unknown, so it is read again rather than trusted
		// for as long as the clock went back.
		if age := now - e.at; age >= 0 && age < c.ttl() && !c.dead(e, now) {
			if now > e.seen.Load() {
				e.seen.Store(now) // racing stores are within the same millisecond or so
			}
			c.hits.Add(1)
			return &e.c, nil
		}
	}
	if until, hit := c.neg.get(&key); hit && now < until {
		c.negHits.Add(1)
		return nil, ErrNoSession
	}
	c.misses.Add(1)
	epoch := c.epoch.Load()
	cur, err := s.authenticate(ctx, key)
	if err == ErrNoSession {
		c.pos.remove(&key)
		// Why a refusal may be remembered: the token is handed out only
		// once the transaction that creates its session has committed
		// (SignIn, rotate), and a lookup reads the latest committed data,
		// so no lookup of it can run before its session exists; and once
		// gone, a session never comes back. A refusal therefore never
		// stands in front of a session that is, or will be, live.
		c.neg.put(&key, now+NegativeTTL.Milliseconds(), func(until int64) bool { return now >= until }, nil, nil)
		return nil, err
	}
	if err != nil {
		return nil, err
	}
	u := cur.User
	e := &entry{key: key, at: now, created: cur.Session.CreatedAt.UnixMilli(), lastSeen: cur.Session.LastSeenAt.UnixMilli()}
	// An address set by staff reaches applications once the person has
	// confirmed it: until then, the one before (mfagate.User.CodeAddress).
	e.c = Checked{UserID: u.ID, Username: u.Username, Name: u.Name, Email: u.CodeAddress(), Full: cur.Session.Stage == mfagate.StageFull}
	e.c.Roles, e.c.Groups = c.roleSet(u.Roles)
	e.seen.Store(now)
	e.flushed.Store(now) // authenticate queued this use already
	c.pos.put(&key, e, func(old *entry) bool { return c.dead(old, now) },
		func() bool { return c.epoch.Load() == epoch }, // sessions were ended meanwhile: this one may be among them
		func(old *entry) {
			if seen := old.seen.Load(); seen > old.flushed.Load() {
				s.touches.pend(old.key, seen) // pushed out before its flush: its use is still written
			}
		})
	return &e.c, nil
}

// roleSet returns roles and their joined form, shared with every other
// session of the same roles: most people share a few sets, and a copy
// each would be most of an entry. Past maxRoleSets distinct sets, a
// session gets its own.
func (c *checkCache) roleSet(roles []string) ([]string, string) {
	groups := strings.Join(roles, ",")
	if v, ok := c.roleSets.Load(groups); ok {
		return v.([]string), groups
	}
	if c.roleSetCount.Load() >= maxRoleSets {
		return roles, groups
	}
	v, loaded := c.roleSets.LoadOrStore(groups, roles)
	if !loaded {
		c.roleSetCount.Add(1)
	}
	return v.([]string), groups
}

// maxRoleSets bounds the role sets roleSet shares.
const maxRoleSets = 1024

// keepUses hands the uses of cached sessions not yet written to the next
// flush, before the cache is emptied: a session in use must not look idle
// to the other replicas because this one forgot it.
func (s *Service) keepUses() {
	s.check.pos.each(func(e *entry) {
		if seen := e.seen.Load(); seen > e.flushed.Load() {
			s.touches.pend(e.key, seen)
			e.flushed.Store(seen)
		}
	})
}

// forget drops the sessions that end ended from the check cache.
func (c *checkCache) forget(end *ended) {
	if len(end.hashes) == 0 && len(end.users) == 0 {
		return
	}
	c.forgetEnded(mfagate.Ended{Hashes: end.hashes, Users: end.users})
}

// forgetEnded drops the sessions e names, or all of them.
func (c *checkCache) forgetEnded(e mfagate.Ended) {
	c.epoch.Add(1)
	if e.All {
		c.pos.removeIf(func(*entry) bool { return true })
		return
	}
	for _, h := range e.Hashes {
		if len(h) != 32 {
			continue
		}
		c.pos.remove((*[32]byte)(h))
	}
	if len(e.Users) > 0 {
		c.pos.removeIf(func(en *entry) bool { return slices.Contains(e.Users, en.c.UserID) })
	}
}

// CheckStats are the check cache's counts since the service started, for
// the metrics.
type CheckStats struct {
	Hits         uint64 // sessions answered from memory
	Misses       uint64 // checks that asked the database
	NegativeHits uint64 // tokens refused from memory: no live session
	Refused      uint64 // values refused without a lookup: not a token this server made
	Evictions    uint64 // live sessions pushed out to make room
	Size         int    // live sessions held now
	Listening    bool   // hearing of sessions ended on other replicas
}

// CheckStats returns the check cache's counts.
func (s *Service) CheckStats() CheckStats {
	c := &s.check
	return CheckStats{
		Hits: c.hits.Load(), Misses: c.misses.Load(), NegativeHits: c.negHits.Load(), Refused: c.refused.Load(),
		Evictions: c.pos.evicted.Load(), Size: c.pos.len(), Listening: c.listening.Load(),
	}
}

// FollowRevocations hears of the sessions ended on other replicas from r
// until ctx is done, and forgets them here as each announcement arrives.
// While it hears them, checked sessions are trusted for
// CheckTTLListening instead of CheckTTL; each time it starts hearing
// again after a gap, everything remembered is forgotten, since what was
// announced meanwhile was missed.
func (s *Service) FollowRevocations(ctx context.Context, r mfagate.Revocations) {
	c := &s.check
	r.Follow(ctx, func(on bool) {
		if on {
			// Forgotten before trusting for longer: an entry read before
			// the gap ended is never trusted past CheckTTL.
			s.keepUses()
			c.forgetEnded(mfagate.Ended{All: true})
		}
		c.listening.Store(on)
	}, func(e mfagate.Ended) {
		if e.All {
			s.keepUses()
		}
		c.forgetEnded(e)
	})
}
