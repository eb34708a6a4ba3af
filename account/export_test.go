package account

import "context"

// CachedChecks reports how many live sessions the check cache holds.
func (s *Service) CachedChecks() int { return s.check.pos.len() }

// CachedRefusals reports how many refusals the check cache holds.
func (s *Service) CachedRefusals() int { return s.check.neg.len() }

// AfterHash makes fn run after every password check, while the attempt
// is in flight: admitted, not yet settled.
func (s *Service) AfterHash(fn func()) { s.afterHash = fn }

// TokenHash is tokenHash, for FuzzTokens.
func (s *Service) TokenHash(token string) ([]byte, bool) { return s.tokenHash(token) }

// PendingTouches reports how many uses of sessions wait for a flush
// outside the cache's entries.
func (s *Service) PendingTouches() int {
	s.touches.mu.Lock()
	defer s.touches.mu.Unlock()
	return len(s.touches.pending)
}

// NewSessions makes n fully signed-in sessions of the user without
// signing in (no password hashed), as the benchmarks need, through
// SeedSessions, and returns their tokens.
func (s *Service) NewSessions(ctx context.Context, userID int64, n int) ([]string, error) {
	var name string
	err := s.view(ctx, func(tx *txn) error {
		u, err := tx.UserByID(userID)
		if err == nil {
			name = u.Username
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.SeedSessions(ctx, name, n, Actor{})
}

// StaffRule is the forecast's rule for staff, for tests that count the
// way it does.
var StaffRule = staffRule
