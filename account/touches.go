package account

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/mfagate/mfagate"
)

// Touches: the idle timeout needs to know when each session was last
// used, and writing that on every request would make every check a
// write. So uses are remembered here and written in batches: FlushTouches
// writes every session this replica saw since the last flush, in a few
// transactions of touchTxn sessions each, one statement per 512; the
// server runs it every TouchEvery and once more when it stops.
//
// The database's LastSeenAt may therefore lag a use: by at most
// TouchEvery for the flush to come, plus the run of the flush before it
// and of its own (each bounded by touchFlushTimeout): 40 + 10 + 10 s, the
// IdleGrace of one minute, as long as the database takes the writes. This
// replica counts its own unwritten uses (localSeen), so alone it ends a
// session exactly at the idle timeout. Replicas sharing the store
// (Options.SharedStore) allow IdleGrace more before ending a session for
// being idle: a session another replica used within the last minute, not
// yet written, is never ended as idle. So with several servers a session
// ends between session_idle_timeout and one minute later; the retention
// job allows the same minute (cli).

// IdleGrace bounds how long a use of a session may wait before it is in
// the database (see above).
const IdleGrace = time.Minute

// TouchEvery is how often the server runs FlushTouches.
const TouchEvery = 40 * time.Second

// touchFlushTimeout bounds each of a flush's transactions.
const touchFlushTimeout = 10 * time.Second

// touchTxn is how many sessions one of a flush's transactions writes, so
// that none holds SQLite's write lock for long.
const touchTxn = 1024

// touches are uses not yet written that are not in the check cache's
// entries (which keep their own): those of Authenticate, and those of
// entries evicted before their flush.
type touches struct {
	mu      sync.Mutex
	pending map[[32]byte]int64 // latest use, Unix ms
	// flushing are the pending uses a flush is writing: still counted by
	// localSeen until they are in the database, or a check in between
	// would see neither and end a session in use as idle.
	flushing map[[32]byte]int64
	max      int // beyond this many, a use is written at once
	// flush lets one FlushTouches run at a time.
	flush sync.Mutex
}

// touch records a use of the session key at now, for the next flush; when
// too many are waiting already, it writes this one at once, as before
// batching, so memory stays bounded whatever the number of sessions.
func (s *Service) touch(ctx context.Context, key *[32]byte, now time.Time) error {
	t := &s.touches
	t.mu.Lock()
	if _, ok := t.pending[*key]; ok || len(t.pending) < t.max {
		t.pending[*key] = max(t.pending[*key], now.UnixMilli())
		t.mu.Unlock()
		return nil
	}
	t.mu.Unlock()
	return s.store.Update(ctx, func(tx mfagate.Tx) error { return tx.TouchSession(key[:], now) })
}

// pend records uses to write at the next flush.
func (t *touches) pend(key [32]byte, at int64) {
	t.mu.Lock()
	t.pending[key] = max(t.pending[key], at)
	t.mu.Unlock()
}

// localSeen is the latest use of session key this replica has answered,
// written or not; zero when it knows of none.
func (s *Service) localSeen(key *[32]byte) time.Time {
	s.touches.mu.Lock()
	at := max(s.touches.pending[*key], s.touches.flushing[*key])
	s.touches.mu.Unlock()
	if e, ok := s.check.pos.get(key); ok {
		at = max(at, e.seen.Load())
	}
	if at == 0 {
		return time.Time{}
	}
	return time.UnixMilli(at).UTC()
}

// FlushTouches writes every use of a session this replica has answered
// and not yet written, and forgets the cached sessions that have expired.
// Uses it could not write are kept for the next flush. The server calls it
// every TouchEvery and when it stops.
func (s *Service) FlushTouches(ctx context.Context) error {
	t := &s.touches
	t.flush.Lock()
	defer t.flush.Unlock()
	t.mu.Lock()
	pending := t.pending
	t.pending = make(map[[32]byte]int64) // not len(batch): a burst must not keep its room for ever
	t.flushing = pending                 // never changed from here on: localSeen reads it
	t.mu.Unlock()
	defer func() {
		t.mu.Lock()
		t.flushing = nil // written, or back in pending
		t.mu.Unlock()
	}()
	batch := make(map[[32]byte]int64, len(pending))
	for k, at := range pending {
		batch[k] = at
	}
	now := s.now().UnixMilli()
	c := &s.check
	c.pos.each(func(e *entry) {
		if seen := e.seen.Load(); seen > e.flushed.Load() {
			batch[e.key] = max(batch[e.key], seen)
			e.flushed.Store(seen)
		}
	})
	c.pos.removeIf(func(e *entry) bool { return c.dead(e, now) })
	c.neg.removeIf(func(until int64) bool { return now >= until })
	if len(batch) == 0 {
		return nil
	}
	list := make([]mfagate.SessionTouch, 0, len(batch))
	for k, at := range batch {
		list = append(list, mfagate.SessionTouch{Hash: k[:], At: time.UnixMilli(at).UTC()})
	}
	for len(list) > 0 {
		chunk := list[:min(len(list), touchTxn)]
		err := func() error {
			ctx, cancel := context.WithTimeout(ctx, touchFlushTimeout)
			defer cancel()
			return s.store.Update(ctx, func(tx mfagate.Tx) error {
				_, err := tx.TouchSessions(chunk)
				return err
			})
		}()
		if err != nil {
			for _, tc := range list {
				t.pend([32]byte(tc.Hash), tc.At.UnixMilli())
			}
			return fmt.Errorf("write when sessions were last used: %w", err)
		}
		list = list[len(chunk):]
	}
	return nil
}
