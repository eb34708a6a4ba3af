package account

import (
	"cmp"
	"context"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"maps"
	"runtime"
	"slices"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/password"
	"github.com/mfagate/mfagate/rollout"
)

// The service itself: its options and defaults, the actor who asks for a
// change, the clocks, password hashing and the keys derived from the one
// server key. The use cases are in the other files (see doc.go).

// Contacts are the support team's details, quoted in emails so a person
// who did not cause a change knows whom to tell.
type Contacts struct {
	Email string
	Phone string
	Hours string
}

// Options configure a Service. Store is required; the rest have defaults.
type Options struct {
	Store mfagate.Store
	Clock mfagate.Clock // default: the system clock
	// RolloutClock is the time the rollout is decided at (default: Clock).
	// A rehearsal moves it alone: authenticator codes, sessions and
	// throttles must keep real time.
	RolloutClock mfagate.Clock
	Password     password.Params // default: password.Default
	// SessionIdle ends a session not used for this long (default 30m);
	// SessionMaxAge ends any session this long after sign-in (default 12h).
	SessionIdle   time.Duration
	SessionMaxAge time.Duration
	Product       string         // product name used in emails (default "mfagate")
	SiteURL       string         // where people sign in, quoted in emails
	Support       Contacts       // quoted in emails
	Location      *time.Location // zone for times written in emails and pages (default: the rollout's, else UTC)
	Rand          io.Reader      // default crypto/rand; tests never need to change it

	// Key is the server's 32-byte secret key: it seals TOTP secrets at
	// rest and keys the hashes of email and recovery codes. Required.
	Key      []byte
	MFA      MFASettings
	Throttle ThrottleSettings
	// Rollout is the dated schedule of phases (SPEC.md section 3) that
	// decides what comes after the password step, sends the notices and
	// reminders, and is forecast for the dashboard. Nil means no
	// schedule at all: people with a factor are challenged and everyone
	// else is offered setup, which they may skip. Operators and support
	// must always have a second factor, whatever it says.
	Rollout *rollout.Rollout
	// Roles are the roles this installation gives people (config's roles,
	// with operator and support): a role off the list is refused wherever
	// roles are given. Nil accepts any well-formed role (tests, embedding).
	Roles []string
	// RoleHelp describes roles for the console, by name (config's roles'
	// descriptions).
	RoleHelp map[string]string
	// SessionCacheSize bounds how many live sessions CheckSession keeps
	// in memory (default DefaultSessionCacheSize); negative is an error.
	SessionCacheSize int
	// SharedStore says that other servers use the same store (PostgreSQL
	// replicas): the idle timeout then allows for their uses not yet
	// written (see IdleGrace).
	SharedStore bool
	// InviteTTL is how long an invitation's link works (default 7 days,
	// config invite.ttl); ResetTTL a password reset's (default 30
	// minutes).
	InviteTTL time.Duration
	ResetTTL  time.Duration
	// MailRetryFor is the delivery worker's mail.retry_for (default 72h):
	// how long a message may have waited before its address was refused,
	// which MarkAddressFixed looks back over.
	MailRetryFor time.Duration
}

// MFASettings are the limits of SPEC.md section 4; zero values take the
// defaults shown.
type MFASettings struct {
	Issuer         string        // shown in authenticator apps (default Product)
	CodeTTL        time.Duration // email code lifetime (10m)
	MaxFailures    int           // wrong tries per email code (5)
	ResendCooldown time.Duration // between email codes (30s)
	HourlyCap      int           // email codes per account per hour (10)
	TOTPSkew       int           // time steps accepted either side of now (0 means 1; -1 means none)
	RecoveryCodes  int           // codes in a set (10)
	// Checkup is how long a factor added beside another may stay unused
	// before sign-in asks for it first (28 days; -1 means never); see
	// ChallengeMethod and RunCheckups.
	Checkup time.Duration
}

// ThrottleSettings bound guessing. Zero values take the defaults shown.
type ThrottleSettings struct {
	DelayAfter        int           // failures before each attempt must wait (3)
	MaxDelay          time.Duration // longest wait between attempts (30s)
	LockAfter         int           // consecutive failures before a lock (10)
	LockFor           time.Duration // how long that lock lasts (15m)
	HardLockAfter     int           // failures before a lock only support lifts (50)
	AddressDelayAfter int           // failures from one address before it must wait (20)
}

// Service runs the account use cases. It is safe for concurrent use.
type Service struct {
	store    mfagate.Store
	clock    mfagate.Clock
	rclock   mfagate.Clock // the rollout's time
	params   password.Params
	idle     time.Duration
	maxAge   time.Duration
	product  string
	siteURL  string
	support  Contacts
	loc      *time.Location
	rand     io.Reader
	keys     keys
	mfa      MFASettings
	throttle ThrottleSettings
	rollout  *rollout.Rollout // nil: none (see Options.Rollout)
	policy   policy           // derived from rollout
	roles    []string         // Options.Roles
	roleHelp map[string]string
	// mailRetryFor is Options.MailRetryFor.
	mailRetryFor time.Duration
	inviteTTL    time.Duration // Options.InviteTTL
	resetTTL     time.Duration // Options.ResetTTL
	dummy        string        // hash checked for unknown users, so they cost the same time
	hashSlot     chan struct{} // bounds concurrent argon2 runs (each takes ~19 MiB)
	checks       checkCounts   // guesses checked, for the metrics
	counts       counts        // decisions made, for the metrics (counts.go)
	check        checkCache    // sessions recently checked for forward-auth
	touches      touches       // uses of sessions not yet written (touches.go)
	shared       bool          // Options.SharedStore
	macs         macPool       // keyed HMACs of session tokens (sessiontoken.go)
	// afterHash, when set (by tests only), runs after each password hash
	// is checked, while the attempt is between admission and its outcome.
	afterHash func()
}

// New returns a Service for o.
func New(o Options) (*Service, error) {
	if o.Store == nil {
		return nil, errors.New("account: a store is required")
	}
	if len(o.Key) != 32 {
		return nil, errors.New("account: the secret key must be 32 bytes")
	}
	if o.SessionCacheSize < 0 {
		return nil, fmt.Errorf("account: the session cache size must not be negative, not %d", o.SessionCacheSize)
	}
	s := &Service{
		store: o.Store, clock: o.Clock, params: o.Password,
		idle: o.SessionIdle, maxAge: o.SessionMaxAge,
		product: o.Product, siteURL: o.SiteURL, support: o.Support,
		loc: o.Location, rand: o.Rand,
		mfa: o.MFA, throttle: o.Throttle, rollout: o.Rollout, shared: o.SharedStore, roles: slices.Clone(o.Roles),
		roleHelp:     maps.Clone(o.RoleHelp),
		mailRetryFor: cmp.Or(o.MailRetryFor, defaultMailRetryFor),
		inviteTTL:    cmp.Or(o.InviteTTL, DefaultInviteTTL),
		resetTTL:     cmp.Or(o.ResetTTL, DefaultResetTTL),
	}
	if s.inviteTTL < 0 || s.resetTTL < 0 {
		return nil, errors.New("account: a link's lifetime must not be negative")
	}
	var err error
	if s.keys, err = deriveKeys(o.Key); err != nil {
		return nil, err
	}
	s.mfa.Issuer = cmp.Or(s.mfa.Issuer, o.Product, "mfagate")
	s.mfa.CodeTTL = cmp.Or(s.mfa.CodeTTL, 10*time.Minute)
	s.mfa.MaxFailures = cmp.Or(s.mfa.MaxFailures, 5)
	s.mfa.ResendCooldown = cmp.Or(s.mfa.ResendCooldown, 30*time.Second)
	s.mfa.HourlyCap = cmp.Or(s.mfa.HourlyCap, 10)
	s.mfa.RecoveryCodes = cmp.Or(s.mfa.RecoveryCodes, 10)
	s.mfa.Checkup = cmp.Or(s.mfa.Checkup, DefaultCheckup)
	switch s.mfa.TOTPSkew {
	case 0:
		s.mfa.TOTPSkew = 1
	case -1:
		s.mfa.TOTPSkew = 0
	}
	t := &s.throttle
	t.DelayAfter = cmp.Or(t.DelayAfter, 3)
	t.MaxDelay = cmp.Or(t.MaxDelay, 30*time.Second)
	t.LockAfter = cmp.Or(t.LockAfter, 10)
	t.LockFor = cmp.Or(t.LockFor, 15*time.Minute)
	t.HardLockAfter = cmp.Or(t.HardLockAfter, 50)
	t.AddressDelayAfter = cmp.Or(t.AddressDelayAfter, 20)
	s.policy = staffNeedMFA(offerEveryone)
	if s.rollout != nil {
		s.policy = staffNeedMFA(rolloutPolicy(s.rollout))
	}
	if s.clock == nil {
		s.clock = mfagate.SystemClock{}
	}
	s.rclock = o.RolloutClock
	if s.rclock == nil {
		s.rclock = s.clock
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
	size := cmp.Or(o.SessionCacheSize, DefaultSessionCacheSize)
	s.check.init(size, s.idleLimit(), s.maxAge)
	// Room for every cached session's use and as many again from pages.
	s.touches.pending, s.touches.max = make(map[[32]byte]int64), 2*size
	if s.product == "" {
		s.product = "mfagate"
	}
	if s.loc == nil && s.rollout != nil {
		s.loc = s.rollout.Location
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
	// AtServer marks someone at the server itself: the command line, or
	// the server's own start-up work. It is never set for a request from
	// the network, whatever its Name says: only it may change staff
	// accounts (see guardStaff) and act on its own account.
	AtServer bool
	// Device is the browser's device token (see device.go), if it has
	// one: its attempts at that account are not slowed by its address.
	Device string
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
	ok, rehash, err = func() (bool, bool, error) {
		defer func() { <-s.hashSlot }()
		return password.Verify(pw, phc, s.params)
	}()
	if s.afterHash != nil {
		s.afterHash()
	}
	return ok, rehash, err
}

func (s *Service) acquire(ctx context.Context) error {
	select {
	case s.hashSlot <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Site is how the service names itself to people, for the pages to say
// the same as the emails.
type Site struct {
	Product  string         // the product name (Options.Product)
	URL      string         // where people sign in (Options.SiteURL)
	Support  Contacts       // the support team's details
	Location *time.Location // the zone times are written in
}

// Site returns the names, address and zone the service writes with.
func (s *Service) Site() Site {
	return Site{Product: s.product, URL: s.siteURL, Support: s.support, Location: s.loc}
}

// Now is the service's current time, for callers that show it.
func (s *Service) Now() time.Time { return s.clock.Now() }

// RolloutNow is the time the rollout is decided at: Now, unless a
// rehearsal moved it.
func (s *Service) RolloutNow() time.Time { return s.rclock.Now().UTC().Truncate(time.Millisecond) }

// rolloutLoc is the zone the rollout's days are in: the day an extension
// covers is a day there, whatever zone pages show times in.
func (s *Service) rolloutLoc() *time.Location {
	if s.rollout != nil && s.rollout.Location != nil {
		return s.rollout.Location
	}
	return s.loc
}

// keys are derived from the one server key, one per use, so a value made
// for one purpose can never stand in for another.
type keys struct {
	seal      []byte // seals TOTP secrets and pending recovery codes
	emailCode []byte // keys the hashes of email codes
	recovery  []byte // keys the hashes of recovery codes
	device    []byte // keys the MACs of device tokens
	session   []byte // keys the MACs of session tokens (sessiontoken.go)
}

func deriveKeys(master []byte) (keys, error) {
	var k keys
	for _, d := range []struct {
		dst  *[]byte
		info string
	}{{&k.seal, "mfagate seal v1"}, {&k.emailCode, "mfagate email code v1"}, {&k.recovery, "mfagate recovery code v1"},
		{&k.device, "mfagate device v1"}, {&k.session, "mfagate session v1"}} {
		key, err := hkdf.Key(sha256.New, master, nil, d.info, 32)
		if err != nil {
			return keys{}, fmt.Errorf("account: derive key: %w", err)
		}
		*d.dst = key
	}
	return k, nil
}
