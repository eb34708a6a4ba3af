package account

// CachedChecks reports how many sessions the check cache holds.
func (s *Service) CachedChecks() int {
	s.check.mu.Lock()
	defer s.check.mu.Unlock()
	return len(s.check.m)
}

// AfterHash makes fn run after every password check, while the attempt
// is in flight: admitted, not yet settled.
func (s *Service) AfterHash(fn func()) { s.afterHash = fn }

// TokenHash is tokenHash, for FuzzTokens.
var TokenHash = tokenHash

// StaffRule is the forecast's rule for staff, for tests that count the
// way it does.
var StaffRule = staffRule
