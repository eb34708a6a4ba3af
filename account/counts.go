package account

import (
	"errors"
	"sync/atomic"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/rollout"
)

// The use cases count what they decided, once it is committed, so that
// an operator can watch sign-ins, locks and enrollments (the metrics of
// docs/operations.md). Counting is a few atomic additions: the account
// package knows nothing of Prometheus, and web's collector reads Counts
// at scrape time, as it reads Checks.
//
// Labels are a fixed, small set: never a username, an address or any
// other value that grows with people.

// MethodPassword is the password step, as Counts names it beside the
// second-factor methods.
const MethodPassword = "password"

// The outcomes of an attempt at a step of signing in.
const (
	// SignInSuccess: the step was passed.
	SignInSuccess = "success"
	// SignInWrongPassword: the password step was refused for an unknown
	// username, a wrong password, a disabled account or one without a
	// password. They are one outcome on purpose: the metrics may be seen
	// by others, and must not tell whether a name has an account.
	SignInWrongPassword = "wrong_password"
	// SignInWrongCode: a code that was checked and was not right.
	SignInWrongCode = "wrong_code"
	// SignInReplayed: an authenticator code that was used already.
	SignInReplayed = "replayed"
	// SignInLocked: refused, unchecked, because the account was locked.
	SignInLocked = "locked"
	// SignInThrottled: refused, unchecked, inside the growing delay.
	SignInThrottled = "throttled"
	// SignInInvalid: not a guess: empty or over-long input, a badly typed
	// code, no code sent, an expired one, a method not accepted, a
	// session that ended meanwhile.
	SignInInvalid = "invalid"
	// SignInError: the step could not be completed (the database did not
	// answer, or something else went wrong).
	SignInError = "error"
)

// The steps at which a wrong code is counted.
const (
	StepChallenge = "challenge" // the second step of signing in, or a confirmation before a change
	StepSetup     = "setup"     // confirming a new factor
)

// The kinds of lock, and what caused them.
const (
	LockTemporary = "temporary" // lifted by time (throttle.lock_for)
	LockHard      = "hard"      // lifted only by support
	CausePassword = "password"  // wrong passwords
	CauseCode     = "code"      // wrong second-factor codes
)

// SignInCount is how many attempts at one step ended one way.
type SignInCount struct {
	Method  string // MethodPassword, or the second factor's method
	Outcome string // SignInSuccess, SignInWrongPassword, ...
	N       int64
}

// CodeFailureCount is how many wrong codes of one method were entered at
// one step.
type CodeFailureCount struct {
	Method, Step string
	N            int64
}

// LockCount is how many locks of one kind one cause set.
type LockCount struct {
	Kind, Cause string
	N           int64
}

// Counts are the use cases' decisions since the service started. Every
// possible label set is listed, zeros included, so that a dashboard has
// a series to draw from the start.
type Counts struct {
	SignIns      []SignInCount
	CodeFailures []CodeFailureCount
	Locks        []LockCount
	// Enrollments are the factors set up, by method.
	Enrollments map[string]int64
	// SetupsRequired are steps of signing in that sent the person to a
	// setup they could not skip; SetupsOffered those that offered one
	// they could; Skips the offers skipped.
	SetupsRequired, SetupsOffered, Skips int64
}

// The methods and outcomes counted, and which outcomes each method has.
var (
	countedMethods = [...]string{MethodPassword, mfagate.MethodEmail, mfagate.MethodTOTP, mfagate.MethodRecovery}
	outcomes       = [...]string{SignInSuccess, SignInWrongPassword, SignInWrongCode, SignInReplayed,
		SignInLocked, SignInThrottled, SignInInvalid, SignInError}
)

const (
	nMethods  = len(countedMethods)
	nOutcomes = len(outcomes)
)

// outcomeApplies reports whether a method can end with an outcome: a
// password is never a wrong code, and only an app's code can be replayed.
func outcomeApplies(method, outcome string) bool {
	switch outcome {
	case SignInWrongPassword:
		return method == MethodPassword
	case SignInWrongCode:
		return method != MethodPassword
	case SignInReplayed:
		return method == mfagate.MethodTOTP
	}
	return true
}

// counts are the atomics behind Counts.
type counts struct {
	signIns        [nMethods][nOutcomes]atomic.Int64
	codeFailures   [nMethods][2]atomic.Int64 // [method][challenge, setup]
	locks          [2][2]atomic.Int64        // [temporary, hard][password, code]
	enrollments    [nMethods]atomic.Int64
	required       atomic.Int64
	offered, skips atomic.Int64
}

func methodIndex(method string) int {
	for i, m := range countedMethods {
		if m == method {
			return i
		}
	}
	return -1
}

func outcomeIndex(outcome string) int {
	for i, o := range outcomes {
		if o == outcome {
			return i
		}
	}
	return -1
}

// signIn counts one attempt at a step.
func (c *counts) signIn(method, outcome string) {
	if m, o := methodIndex(method), outcomeIndex(outcome); m >= 0 && o >= 0 {
		c.signIns[m][o].Add(1)
	}
}

// wrongCode counts one wrong code entered at a step.
func (c *counts) wrongCode(method, step string) {
	m := methodIndex(method)
	if m < 0 {
		return
	}
	s := 0
	if step == StepSetup {
		s = 1
	}
	c.codeFailures[m][s].Add(1)
}

// lock counts a lock that t's admission set, once it is committed.
func (c *counts) lock(t *ticket, codes bool) {
	if t == nil || !t.lock {
		return
	}
	k, cause := 0, 0
	if t.hard {
		k = 1
	}
	if codes {
		cause = 1
	}
	c.locks[k][cause].Add(1)
}

// next counts what a passed step sends the person to.
func (c *counts) next(d Decision) {
	switch d.Outcome {
	case rollout.RequireEnrollment:
		c.required.Add(1)
	case rollout.OfferEnrollment:
		c.offered.Add(1)
	}
}

// outcomeOf is the outcome of a step that returned err, for the errors
// that are not a wrong answer (those are counted where they are known).
func outcomeOf(err error) string {
	switch {
	case err == nil:
		return SignInSuccess
	case errors.Is(err, ErrLocked):
		return SignInLocked
	}
	switch mfagate.ErrorCode(err) {
	case mfagate.ETHROTTLED:
		return SignInThrottled
	case mfagate.EINVALID, mfagate.EUNAUTHORIZED, mfagate.EFORBIDDEN, mfagate.ENOTFOUND, mfagate.ECONFLICT:
		return SignInInvalid
	}
	return SignInError
}

// Counts returns what the service has counted so far.
func (s *Service) Counts() Counts {
	c := &s.counts
	out := Counts{Enrollments: map[string]int64{},
		SetupsRequired: c.required.Load(), SetupsOffered: c.offered.Load(), Skips: c.skips.Load()}
	for mi, m := range countedMethods {
		for oi, o := range outcomes {
			if outcomeApplies(m, o) {
				out.SignIns = append(out.SignIns, SignInCount{m, o, c.signIns[mi][oi].Load()})
			}
		}
		if m == MethodPassword {
			continue
		}
		if m != mfagate.MethodRecovery { // recovery codes are never set up one by one
			out.Enrollments[m] = c.enrollments[mi].Load()
			out.CodeFailures = append(out.CodeFailures, CodeFailureCount{m, StepSetup, c.codeFailures[mi][1].Load()})
		}
		out.CodeFailures = append(out.CodeFailures, CodeFailureCount{m, StepChallenge, c.codeFailures[mi][0].Load()})
	}
	for ki, k := range [...]string{LockTemporary, LockHard} {
		for ci, cause := range [...]string{CausePassword, CauseCode} {
			out.Locks = append(out.Locks, LockCount{k, cause, c.locks[ki][ci].Load()})
		}
	}
	return out
}

// checkCounts count the guesses whose result was used: admitted by the
// throttle and compared with the secret. They are what an attacker gets.
type checkCounts struct {
	password                  atomic.Int64
	email, totp, recoveryCode atomic.Int64
}

// Checks counts the guesses the service has checked since it started.
type Checks struct {
	Password int64            // passwords (at sign-in and when changing one)
	Codes    map[string]int64 // codes by method: email, totp, recovery
}

// Checks returns how many guesses the service has checked so far.
func (s *Service) Checks() Checks {
	return Checks{Password: s.checks.password.Load(), Codes: map[string]int64{
		mfagate.MethodEmail:    s.checks.email.Load(),
		mfagate.MethodTOTP:     s.checks.totp.Load(),
		mfagate.MethodRecovery: s.checks.recoveryCode.Load(),
	}}
}

// codeChecked counts one code compared with the secret.
func (s *Service) codeChecked(method string) {
	switch method {
	case mfagate.MethodEmail:
		s.checks.email.Add(1)
	case mfagate.MethodTOTP:
		s.checks.totp.Add(1)
	case mfagate.MethodRecovery:
		s.checks.recoveryCode.Add(1)
	}
}
