package account

import (
	"context"
	"slices"
	"sync"
	"time"
)

// CheckTTL is how long a checked session is trusted from memory before
// the database is asked again. It bounds how long a session revoked on
// another replica keeps working for forward-auth: at most this long.
const CheckTTL = 5 * time.Second

// checkCacheMax bounds the memory the cache can take.
const checkCacheMax = 100_000

// checkCache remembers recently checked sessions by token hash.
type checkCache struct {
	mu sync.Mutex
	m  map[[32]byte]checked
	// epoch grows each time sessions are forgotten. A check that read the
	// database before a forget may have read a session that is gone by
	// now; it is not cached when the epoch moved meanwhile.
	epoch uint64
}

type checked struct {
	cur *Current // never modified once cached: replaced, not changed
	at  time.Time
}

// CheckSession is Authenticate for the hot path of forward-auth, called
// for every request to every protected application. A session checked in
// the last CheckTTL is answered from memory, still honouring its idle and
// absolute timeouts; otherwise the database is asked, and a dead session
// is forgotten at once. Sessions ended on this replica are forgotten at
// once too (see Service.update); on another replica, within CheckTTL.
// Tokens that cannot be sessions are refused without any work, so
// anonymous requests leave no trace in memory. The Current returned is
// shared with other callers: read it, never modify it.
func (s *Service) CheckSession(ctx context.Context, token string) (*Current, error) {
	h, ok := tokenHash(token)
	if !ok {
		return nil, ErrNoSession
	}
	var key [32]byte
	copy(key[:], h)
	now := s.now()
	s.check.mu.Lock()
	e, hit := s.check.m[key]
	epoch := s.check.epoch
	s.check.mu.Unlock()
	if hit && now.Sub(e.at) < CheckTTL && !s.expired(e.cur.Session, now) {
		return e.cur, nil
	}
	cur, err := s.Authenticate(ctx, token)
	s.check.mu.Lock()
	defer s.check.mu.Unlock()
	if err != nil {
		delete(s.check.m, key)
		return nil, err
	}
	if s.check.epoch != epoch {
		return cur, nil // sessions were ended meanwhile: this one may be among them
	}
	if s.check.m == nil {
		s.check.m = make(map[[32]byte]checked)
	}
	if len(s.check.m) >= checkCacheMax {
		clear(s.check.m) // rare; starting afresh costs one query per live session
	}
	s.check.m[key] = checked{cur: cur, at: now}
	return cur, nil
}

// forget drops the sessions that end ended from the check cache.
func (c *checkCache) forget(end *ended) {
	if len(end.hashes) == 0 && len(end.users) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch++
	for _, h := range end.hashes {
		var key [32]byte
		copy(key[:], h)
		delete(c.m, key)
	}
	if len(end.users) == 0 {
		return
	}
	for k, e := range c.m {
		if slices.Contains(end.users, e.cur.User.ID) {
			delete(c.m, k)
		}
	}
}
