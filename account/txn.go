package account

import (
	"context"
	"fmt"
	"time"

	"github.com/mfagate/mfagate"
)

// txn is one transaction of a use case: the store's Tx, the time fixed
// when the transaction began, and the sessions it ends (see ended).
//
// now is the one time of everything the transaction writes: the change,
// its audit event and the email about it carry the same instant, however
// long the transaction takes. Use cases read tx.now, never the clock,
// inside update or view. The rollout's clock (RolloutNow) is another
// clock, which a rehearsal moves: rollout decisions keep reading it.
type txn struct {
	mfagate.Tx
	now time.Time
	end ended
}

// audit appends one event stamped with the transaction's now.
func (tx *txn) audit(e mfagate.AuditEvent) error {
	e.At = tx.now
	if err := tx.AppendAudit(&e); err != nil {
		return fmt.Errorf("append audit event: %w", err)
	}
	return nil
}

// update runs fn in one transaction, as Store.Update does, with its now
// read once as it begins, and then has this replica's check cache forget
// the sessions fn ended; the other replicas hear of them when it commits
// (Sessions.AnnounceEnded). It forgets them even when the transaction
// failed: that costs a lookup, never a session that should be dead.
func (s *Service) update(ctx context.Context, fn func(tx *txn) error) error {
	var end ended
	err := s.store.Update(ctx, func(t mfagate.Tx) error {
		tx := &txn{Tx: t, now: s.now()}
		err := fn(tx)
		end = tx.end
		if err != nil || (len(end.hashes) == 0 && len(end.users) == 0) {
			return err
		}
		// Told to the other replicas at commit (see FollowRevocations).
		return tx.AnnounceEnded(end.hashes, end.users)
	})
	s.check.forget(&end)
	return err
}

// view runs fn for reading only, as Store.View does, with its now read
// once as it begins.
func (s *Service) view(ctx context.Context, fn func(tx *txn) error) error {
	return s.store.View(ctx, func(t mfagate.Tx) error { return fn(&txn{Tx: t, now: s.now()}) })
}
