package account

import (
	"context"
	"fmt"

	"github.com/mfagate/mfagate"
)

// seedBatch is how many sessions SeedSessions writes in one transaction:
// enough to seed 100,000 quickly, few enough to stay well within a
// request's deadline on either backend.
const seedBatch = 1000

// SeedSessions starts n fully signed-in sessions for the account named
// username, through the path sign-in takes to make one (newSession), and
// returns their cookie tokens. It is for load tests and seeding only
// (bench/seed, which bench/forward-auth.sh runs): it checks no password and
// no code, and writes no audit event, so nothing that answers a request
// may call it. A disabled or unknown account is refused.
func (s *Service) SeedSessions(ctx context.Context, username string, n int, c Actor) ([]string, error) {
	if n < 1 {
		return nil, mfagate.Errorf(mfagate.EINVALID, "The number of sessions must be at least 1")
	}
	tokens := make([]string, 0, n)
	for len(tokens) < n {
		batch := make([]string, 0, min(seedBatch, n-len(tokens)))
		err := s.update(ctx, func(tx *txn) error {
			batch = batch[:0] // a retried transaction starts over
			u, err := tx.UserByUsername(username)
			if err != nil {
				return err
			}
			if u.Disabled {
				return mfagate.Errorf(mfagate.EINVALID, "The account %s is disabled", username)
			}
			for range cap(batch) {
				token, sess, err := s.newSession(u.ID, c)
				if err != nil {
					return err
				}
				sess.CreatedAt, sess.LastSeenAt = tx.now, tx.now
				if err := tx.CreateSession(sess); err != nil {
					return fmt.Errorf("seed a session: %w", err)
				}
				batch = append(batch, token)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		tokens = append(tokens, batch...)
	}
	return tokens, nil
}
