package account

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"time"

	"github.com/mfagate/mfagate"
)

// Guessing is bounded by runs of attempts kept in the database under
// three kinds of key (see mfagate.Throttle):
//
//   - the password key of a username, known or not, so that guessing at a
//     name nobody has behaves exactly like guessing at a real one;
//   - the second-factor key of an account: codes of every kind, at sign-in
//     and in setup, counted on their own, so that a right password never
//     lowers them;
//   - the key of a client address, which only slows down (it never locks:
//     a whole office may share one address) and fades after an hour.
//
// An attempt is admitted before it is checked: holding the key, the run
// is read, the attempt refused if the key is locked or inside its growing
// delay, and otherwise counted at once. So however many requests arrive
// together, on however many replicas, no more are checked than the run
// allows: delay_after of them before the first wait, lock_after before
// the lock, none while locked. A right answer then takes its count back
// (settle), unless a lock set after it was admitted is in force.

// ErrLocked is what a locked account hears at the second step. At the
// password step a lock looks exactly like a wrong password.
var ErrLocked = mfagate.Errorf(mfagate.ETHROTTLED,
	"You entered the wrong code too many times, so your account is locked for now")

// errKeyLocked means a key is locked; callers turn it into the answer
// that suits their step.
var errKeyLocked = errors.New("throttle key locked")

// WaitError refuses an attempt that came too soon after wrong ones: the
// next may come at Until. Its message says how long to wait; pages that
// ask for a code say the time instead, next to the field.
type WaitError struct {
	Until time.Time
	Wait  time.Duration // from the attempt to Until
	err   error
}

func (e *WaitError) Error() string { return e.err.Error() }
func (e *WaitError) Unwrap() error { return e.err }

// waitError says how long to wait, d from now, before the next attempt.
func waitError(d time.Duration, now time.Time) error {
	secs := max(int(d.Round(time.Second)/time.Second), 1)
	return &WaitError{Until: now.Add(d), Wait: d, err: mfagate.Errorf(mfagate.ETHROTTLED,
		"Too many attempts in a row. Wait %s, then try again", mfagate.Plural(secs, "second", "seconds"))}
}

// rule is how a kind of key throttles.
type rule struct {
	delayAfter int  // attempts in a run admitted without waiting
	locks      bool // the run locks at LockAfter and hard-locks at HardLockAfter
	fades      bool // a run is forgotten an hour after its latest attempt
}

func (s *Service) accountRule() rule { return rule{delayAfter: s.throttle.DelayAfter, locks: true} }
func (s *Service) addressRule() rule {
	return rule{delayAfter: s.throttle.AddressDelayAfter, fades: true}
}

// fadeAfter is how long an address's run lasts after its latest attempt.
const fadeAfter = time.Hour

// clockTolerance is how far ahead of this server's clock an attempt may be
// stamped and still be waited for: replicas whose clocks differ by less
// keep the growing delay whole. Farther ahead, the stamp is taken for a
// clock that was set back, and not waited for.
const clockTolerance = 5 * time.Minute

// delay is how long after the n-th attempt of a run the next must wait:
// nothing for the first few, then doubling to a cap.
func (s *Service) delay(n, after int) time.Duration {
	if n < after {
		return 0
	}
	d := time.Second << min(n-after, 10)
	return min(d, s.throttle.MaxDelay)
}

// ticket is one attempt admitted under a key.
type ticket struct {
	key      string
	run      int64     // the run it belongs to (mfagate.Throttle.Run)
	n        int       // its place in the run: 1 for the first since the key was cleared
	prevLast time.Time // the run's latest attempt before this one
	// lock reports that admitting it locked the key (it was the
	// lock_after-th, or the hard_lock_after-th, of the run): if it turns
	// out wrong the lock stands and is announced; if right, it is lifted.
	lock, hard bool
}

// admit counts one attempt under key, before it is checked, and returns
// its ticket. It refuses with errKeyLocked while the key is locked and
// with a wait error inside the growing delay, counting nothing.
func (s *Service) admit(tx mfagate.Throttles, key string, r rule, now time.Time) (*ticket, error) {
	run, err := s.newRun() // the name of the run, if this attempt starts one
	if err != nil {
		return nil, err
	}
	// Most often the key has no run: the first attempt of one is always
	// admitted (lock_after and hard_lock_after are above 1), in one
	// statement.
	if s.throttle.LockAfter > 1 && s.throttle.HardLockAfter > 1 {
		if started, err := tx.StartThrottle(key, run, now); started || err != nil {
			return &ticket{key: key, run: run, n: 1}, err
		}
	}
	th, err := tx.HoldThrottle(key)
	if err != nil {
		return nil, err
	}
	if th.LockedAt(now) {
		return nil, errKeyLocked
	}
	if r.fades && th.Failures > 0 && now.Sub(th.LastFailureAt) > fadeAfter {
		th.Failures = 0
	}
	if th.Failures == 0 || th.Run == 0 {
		th.Run = run // a new run starts with this attempt
	}
	if d := s.delay(th.Failures, r.delayAfter); d > 0 {
		// An attempt stamped ahead of this server's clock is waited for:
		// the replica that stamped it may run ahead of this one. Only one
		// stamped far ahead (a clock set forward, then back) is not: it
		// would block for as long as the clock was off. Replicas' clocks
		// must agree to within clockTolerance (run NTP).
		if wait := th.LastFailureAt.Add(d).Sub(now); wait > 0 && wait <= max(2*d, clockTolerance) {
			return nil, waitError(wait, now)
		}
	}
	t := &ticket{key: key, run: th.Run, n: th.Failures + 1, prevLast: th.LastFailureAt}
	th.Failures, th.LastFailureAt = t.n, now
	if r.locks {
		switch {
		case t.n >= s.throttle.HardLockAfter:
			th.HardLocked, t.lock, t.hard = true, true, true
		case t.n%s.throttle.LockAfter == 0:
			th.LockedUntil, t.lock = now.Add(s.throttle.LockFor), true
		}
	}
	return t, tx.SaveThrottle(th)
}

// settle records that t's attempt was right: it and every attempt of the
// run admitted before it are forgotten, with any lock its own admission
// set. Attempts admitted after it stay counted. When a lock set after it
// was admitted is in force, settle changes nothing and returns
// errKeyLocked: a success in flight never lifts a lock set meanwhile.
func (s *Service) settle(tx mfagate.Throttles, t *ticket, now time.Time) error {
	// Most often nothing came after it: one statement forgets the run,
	// its own lock included, and any other lock keeps it.
	if done, err := tx.ClearThrottleIf(t.key, t.run, t.n, t.lock, now); done || err != nil {
		return err
	}
	th, err := tx.HoldThrottle(t.key)
	if err != nil {
		return err
	}
	ours := th.Run == t.run                     // support has not cleared the key since
	own := ours && th.Failures == t.n && t.lock // the lock in force, if any, is this attempt's own
	if th.LockedAt(now) && !own {
		return errKeyLocked
	}
	switch {
	case !ours:
		// Support cleared the key after this attempt was admitted: the
		// attempts counted now all came later, and stay.
	case th.Failures == t.n:
		th.Failures, th.LockedUntil, th.HardLocked = 0, time.Time{}, false
	case th.Failures > t.n:
		th.Failures -= t.n
	}
	return tx.SaveThrottle(th)
}

// takeBack removes t's attempt from its run, as if it had not been made,
// for an attempt that was right but proves nothing about the key's owner:
// a sign-in from an address others share, or the first code of an app
// being set up. Any lock its own admission set is lifted too.
func (s *Service) takeBack(tx mfagate.Throttles, t *ticket, now time.Time) error {
	if t == nil {
		return nil
	}
	// Most often it is the only attempt of its run (the address's first
	// in an hour): one statement removes the run.
	if t.n == 1 {
		if done, err := tx.ClearThrottleIf(t.key, t.run, 1, t.lock, now); done || err != nil {
			return err
		}
	}
	th, err := tx.HoldThrottle(t.key)
	if err != nil {
		return err
	}
	if th.Failures <= 0 || th.Run != t.run {
		return tx.SaveThrottle(th) // nothing of its run is left (an empty row the hold made goes)
	}
	latest := th.Failures == t.n // nothing was admitted after it
	th.Failures--
	if latest {
		th.LastFailureAt = t.prevLast
		if t.lock {
			th.LockedUntil = time.Time{}
			th.HardLocked = th.HardLocked && !t.hard
		}
	}
	return tx.SaveThrottle(th)
}

// locked announces a lock that t's admission set, now that its attempt
// turned out wrong: it audits the lock and, for a real account, emails
// the person (at most once a quarter of an hour per kind, see alert).
func (s *Service) locked(tx *txn, t *ticket, u *mfagate.User, c Actor, codes bool) error {
	detail := "locked for " + humanDuration(s.throttle.LockFor) + " after " + mfagate.Plural(t.n, "failed attempt", "failed attempts")
	if t.hard {
		detail = "locked until support unlocks it, after " + mfagate.Plural(t.n, "failed attempt", "failed attempts")
	}
	what := "passwords"
	if codes {
		what = "security codes"
	}
	subject := ""
	if u != nil {
		subject = u.Username
	}
	if err := tx.audit(mfagate.AuditEvent{Kind: mfagate.AuditLock, Outcome: mfagate.OutcomeLocked,
		Actor: mfagate.ActorSystem, Subject: subject, ClientAddr: c.ClientAddr, Detail: detail + ": wrong " + what}); err != nil {
		return err
	}
	if u == nil {
		return nil
	}
	switch {
	case t.hard:
		return s.alert(tx, u, mfagate.NoticeHardLock, c)
	case codes:
		return s.alert(tx, u, mfagate.NoticeCodeLock, c)
	default:
		return s.alert(tx, u, mfagate.NoticePasswordLock, c)
	}
}

// newRun names a new run of attempts: a random, positive number (0 is the
// run of rows written before runs were named).
func (s *Service) newRun() (int64, error) {
	var b [8]byte
	if _, err := io.ReadFull(s.rand, b[:]); err != nil {
		return 0, fmt.Errorf("name a run of attempts: %w", err)
	}
	return int64(binary.BigEndian.Uint64(b[:])>>1) | 1, nil
}

// LockFor says how long a temporary lock lasts, for pages to tell.
func (s *Service) LockFor() string { return humanDuration(s.throttle.LockFor) }

// codeTickets are the tickets of one code attempt: the account's
// second-factor key and the client's address.
type codeTickets struct {
	factor, addr *ticket
}

// admitCode admits one code attempt for the person: ErrLocked while
// their codes are locked, a wait error inside the growing delay.
func (s *Service) admitCode(tx mfagate.Throttles, cur *Current, c Actor, now time.Time) (codeTickets, error) {
	var tk codeTickets
	var err error
	// The account's key before the address's, always (see doc.go).
	tk.factor, err = s.admit(tx, mfagate.FactorThrottleKey(cur.User.Username), s.accountRule(), now)
	if errors.Is(err, errKeyLocked) {
		return tk, ErrLocked
	}
	if err != nil || c.ClientAddr == "" || s.knownDevice(c.Device, cur.User.Username, now) {
		return tk, err
	}
	tk.addr, err = s.admit(tx, s.addressKey(c.ClientAddr), s.addressRule(), now)
	return tk, err
}

// addressKey is the throttle key of a client address. IPv6 addresses are
// counted by their /64, the block one household or host is given: one
// machine can pick any address in it.
func (s *Service) addressKey(addr string) string {
	return mfagate.AddressThrottleKey(clientBlock(addr))
}

// clientBlock is the part of a client address its throttles count by: the
// address itself, or the /64 of an IPv6 address.
func clientBlock(addr string) string {
	if a, err := netip.ParseAddr(addr); err == nil && a.Is6() && !a.Is4In6() {
		if p, err := a.Prefix(64); err == nil {
			return p.String()
		}
	}
	return addr
}

// codeRight settles a right code that proves the person's identity (a
// code sent to their registered address, their app's code, a recovery
// code): the run of wrong codes before it is forgotten.
func (s *Service) codeRight(tx mfagate.Throttles, tk codeTickets, now time.Time) error {
	if err := s.settle(tx, tk.factor, now); err != nil {
		if errors.Is(err, errKeyLocked) {
			return ErrLocked
		}
		return err
	}
	return s.takeBack(tx, tk.addr, now)
}

// Locked reports whether the account is locked now, by wrong passwords or
// wrong codes, and whether only support can lift it.
func (s *Service) Locked(ctx context.Context, username string) (locked, hard bool, err error) {
	now := s.now()
	err = s.view(ctx, func(tx *txn) error {
		for _, key := range []string{mfagate.PasswordThrottleKey(username), mfagate.FactorThrottleKey(username)} {
			th, err := tx.Throttle(key)
			if err != nil {
				return err
			}
			locked = locked || th.LockedAt(now)
			hard = hard || th.HardLocked
		}
		return nil
	})
	return locked, hard, err
}
