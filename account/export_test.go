package account

// Verifies reports how many password checks the service has run.
func (s *Service) Verifies() int64 { return s.verifies.Load() }
