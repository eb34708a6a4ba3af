package account

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/password"
)

// Contacts are the support team's details, quoted in emails so a person
// who did not cause a change knows whom to tell.
type Contacts struct {
	Email string
	Phone string
	Hours string
}

// Options configure a Service. Store is required; the rest have defaults.
type Options struct {
	Store    mfagate.Store
	Clock    mfagate.Clock   // default: the system clock
	Password password.Params // default: password.Default
	// SessionIdle ends a session not used for this long (default 30m);
	// SessionMaxAge ends any session this long after sign-in (default 12h).
	SessionIdle   time.Duration
	SessionMaxAge time.Duration
	Product       string         // product name used in emails (default "mfagate")
	SiteURL       string         // where people sign in, quoted in emails
	Support       Contacts       // quoted in emails
	Location      *time.Location // zone for times written in emails (default UTC)
	Rand          io.Reader      // default crypto/rand; tests never need to change it
}

// Service runs the account use cases. It is safe for concurrent use.
type Service struct {
	store    mfagate.Store
	clock    mfagate.Clock
	params   password.Params
	idle     time.Duration
	maxAge   time.Duration
	product  string
	siteURL  string
	support  Contacts
	loc      *time.Location
	rand     io.Reader
	dummy    string        // hash checked for unknown users, so they cost the same time
	hashSlot chan struct{} // bounds concurrent argon2 runs (each takes ~19 MiB)
	verifies atomic.Int64  // argon2 checks run, so tests can see unknown users cost one too
}

// New returns a Service for o.
func New(o Options) (*Service, error) {
	if o.Store == nil {
		return nil, errors.New("account: a store is required")
	}
	s := &Service{
		store: o.Store, clock: o.Clock, params: o.Password,
		idle: o.SessionIdle, maxAge: o.SessionMaxAge,
		product: o.Product, siteURL: o.SiteURL, support: o.Support,
		loc: o.Location, rand: o.Rand,
	}
	if s.clock == nil {
		s.clock = mfagate.SystemClock{}
	}
	if s.params == (password.Params{}) {
		s.params = password.Default
	}
	if s.idle == 0 {
		s.idle = 30 * time.Minute
	}
	if s.maxAge == 0 {
		s.maxAge = 12 * time.Hour
	}
	if s.product == "" {
		s.product = "mfagate"
	}
	if s.loc == nil {
		s.loc = time.UTC
	}
	if s.rand == nil {
		s.rand = rand.Reader
	}
	s.hashSlot = make(chan struct{}, max(1, runtime.NumCPU()))
	dummy, err := password.Hash("not a real password", s.params, s.rand)
	if err != nil {
		return nil, fmt.Errorf("account: make dummy hash: %w", err)
	}
	s.dummy = dummy
	return s, nil
}

// Actor is who asks for a change, and from where: a signed-in person, a
// staff member, or mfagate.ActorCLI at the server's command line.
type Actor struct {
	Name       string
	ClientAddr string
	UserAgent  string
}

// now returns the clock's time in UTC, at the millisecond precision the
// store keeps, so values compare equal after a round trip.
func (s *Service) now() time.Time { return s.clock.Now().UTC().Truncate(time.Millisecond) }

// hash and verify run argon2 with a bounded number in flight, so a burst of
// sign-ins queues instead of exhausting memory.
func (s *Service) hash(ctx context.Context, pw string) (string, error) {
	if err := s.acquire(ctx); err != nil {
		return "", err
	}
	defer func() { <-s.hashSlot }()
	return password.Hash(pw, s.params, s.rand)
}

func (s *Service) verify(ctx context.Context, pw, phc string) (ok, rehash bool, err error) {
	if err := s.acquire(ctx); err != nil {
		return false, false, err
	}
	defer func() { <-s.hashSlot }()
	s.verifies.Add(1)
	return password.Verify(pw, phc, s.params)
}

func (s *Service) acquire(ctx context.Context) error {
	select {
	case s.hashSlot <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// audit appends one event stamped with the current time.
func (s *Service) audit(tx mfagate.Tx, e mfagate.AuditEvent) error {
	e.At = s.now()
	if err := tx.AppendAudit(&e); err != nil {
		return fmt.Errorf("append audit event: %w", err)
	}
	return nil
}

// Now is the service's current time, for callers that show it.
func (s *Service) Now() time.Time { return s.clock.Now() }
