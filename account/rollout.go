package account

import (
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/rollout"
)

// RolloutPolicy decides by the dated phases of r (SPEC.md section 3).
func RolloutPolicy(r *rollout.Rollout) Policy {
	return func(u *mfagate.User, factors []*mfagate.Factor, now time.Time) Decision {
		rd := rollout.Decide(r, PersonOf(u, factors), now)
		d := fromRollout(rd)
		if rd.Extended {
			d.ExtendedUntil = u.ExtendedUntil
		}
		return d
	}
}

// PersonOf is what the rollout needs to know about an account.
func PersonOf(u *mfagate.User, factors []*mfagate.Factor) rollout.Person {
	return rollout.Person{Roles: u.Roles, Methods: methodsOf(factors), Skips: u.Skips, ExtendedUntil: u.ExtendedUntil}
}

func fromRollout(rd rollout.Decision) Decision {
	d := Decision{Methods: rd.Methods, DefaultMethod: rd.DefaultMethod}
	switch rd.Outcome {
	case rollout.Allow:
		d.Next = NextDone
	case rollout.OfferEnrollment:
		d.Next = NextOfferSetup
	case rollout.RequireEnrollment:
		d.Next = NextRequireSetup
	default:
		d.Next = NextChallenge
	}
	if rd.Active != nil {
		d.Phase = rd.Active.Name
	}
	if n := rd.Next; n != nil && n.Requirement > rollout.Notify { // a notice changes nothing at sign-in
		d.NextPhase = &Upcoming{Name: n.Name, Start: n.Start, Required: n.Requirement == rollout.Required,
			Methods: n.Methods, DefaultMethod: n.DefaultMethod}
	}
	return d
}
