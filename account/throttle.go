package account

import (
	"fmt"
	"time"

	"github.com/mfagate/mfagate"
)

// Throttle keys: one per username (known or not, so that guessing at an
// unknown name behaves exactly like guessing at a real one) and one per
// client address.
func userKey(username string) string { return "user:" + mfagate.UsernameKey(username) }
func addrKey(addr string) string     { return "addr:" + addr }

// ErrLocked is what a locked account hears at the second step. At the
// password step a lock looks exactly like a wrong password.
var ErrLocked = mfagate.Errorf(mfagate.ETHROTTLED,
	"You entered the wrong code too many times, so your account is locked for now")

// waitError says how long to wait before the next attempt.
func waitError(d time.Duration) error {
	secs := int(d.Round(time.Second) / time.Second)
	if secs < 1 {
		secs = 1
	}
	unit := "seconds"
	if secs == 1 {
		unit = "second"
	}
	return mfagate.Errorf(mfagate.ETHROTTLED, "Too many attempts in a row. Wait %d %s, then try again", secs, unit)
}

// delay is how long after the last of n consecutive failures the next
// attempt must wait: nothing for the first few, then doubling to a cap.
func (s *Service) delay(n, after int) time.Duration {
	if n < after {
		return 0
	}
	d := time.Second << min(n-after, 10)
	return min(d, s.throttle.MaxDelay)
}

// gate reports whether an attempt under key may be made now: a locked key
// gives locked=true; a key inside its growing delay gives a wait error.
func (s *Service) gate(tx mfagate.Tx, key string, after int, fades bool, now time.Time) (locked bool, err error) {
	th, err := tx.Throttle(key)
	if err != nil {
		return false, err
	}
	if th.HardLocked || now.Before(th.LockedUntil) {
		return true, nil
	}
	// An address's count fades after an hour without failures: a success
	// there proves nothing about the others sharing it, so only time clears it.
	if fades && th.Failures > 0 && now.Sub(th.LastFailureAt) > time.Hour {
		return false, tx.ClearThrottle(key)
	}
	if d := s.delay(th.Failures, after); d > 0 {
		// A failure stamped further ahead than any delay (a clock that was
		// set forward, then back) is not waited for: it would block for
		// as long as the clock was off.
		if wait := th.LastFailureAt.Add(d).Sub(now); wait > 0 && wait <= 2*d {
			return false, waitError(wait)
		}
	}
	return false, nil
}

// gateSignIn checks both keys of an attempt.
func (s *Service) gateSignIn(tx mfagate.Tx, username, addr string, now time.Time) (locked bool, err error) {
	if addr != "" {
		if _, err := s.gate(tx, addrKey(addr), s.throttle.AddressDelayAfter, true, now); err != nil {
			return false, err
		}
	}
	return s.gate(tx, userKey(username), s.throttle.DelayAfter, false, now)
}

// failure counts one failed attempt against the username and address.
// When it reaches a lock threshold it locks the account, audits it and,
// for a real account, emails the person. It returns whether it locked.
func (s *Service) failure(tx mfagate.Tx, username string, u *mfagate.User, c Actor) (bool, error) {
	now := s.now()
	if c.ClientAddr != "" {
		if _, err := tx.RecordFailure(addrKey(c.ClientAddr), now); err != nil {
			return false, err
		}
	}
	th, err := tx.RecordFailure(userKey(username), now)
	if err != nil {
		return false, err
	}
	t := s.throttle
	var hard bool
	switch {
	case th.Failures >= t.HardLockAfter:
		hard = true
	case th.Failures%t.LockAfter == 0:
	default:
		return false, nil
	}
	if err := tx.LockThrottle(th.Key, now.Add(t.LockFor), hard); err != nil {
		return false, err
	}
	detail := fmt.Sprintf("locked for %s after %d failed attempts", t.LockFor, th.Failures)
	if hard {
		detail = fmt.Sprintf("locked until support unlocks it, after %d failed attempts", th.Failures)
	}
	subject := ""
	if u != nil {
		subject = u.Username
	}
	if err := s.audit(tx, mfagate.AuditEvent{Kind: mfagate.AuditLock, Outcome: mfagate.OutcomeLocked,
		Actor: mfagate.ActorSystem, Subject: subject, ClientAddr: c.ClientAddr, Detail: detail}); err != nil {
		return false, err
	}
	if u != nil {
		n := accountLocked
		if hard {
			n = accountHardLocked
		}
		if err := s.notify(tx, u, n, c, humanDuration(t.LockFor)); err != nil {
			return false, err
		}
	}
	return true, nil
}

// LockFor says how long a temporary lock lasts, for pages to tell.
func (s *Service) LockFor() string { return humanDuration(s.throttle.LockFor) }

// codeAttempt lets a code be tried for the person unless their account is
// locked (ErrLocked) or inside its growing delay (a wait error), and
// returns their factors.
func (s *Service) codeAttempt(tx mfagate.Tx, cur *Current, now time.Time) ([]*mfagate.Factor, error) {
	locked, err := s.gate(tx, userKey(cur.User.Username), s.throttle.DelayAfter, false, now)
	if err != nil {
		return nil, err
	}
	if locked {
		return nil, ErrLocked
	}
	return tx.UserFactors(cur.User.ID)
}
