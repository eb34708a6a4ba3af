package web

import (
	"net/http"
	"slices"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/account"
)

// banner tells a signed-in person what the rollout changes next for them,
// and when, so the day it becomes required surprises nobody.
type banner struct {
	Text string
	Link string // where to act now, if anywhere
}

// rolloutBanner is the banner for the signed-in person now, or nil.
func (s *server) rolloutBanner(r *http.Request) (*banner, error) {
	d, _, err := s.Accounts.Decide(r.Context(), currentFrom(r))
	if err != nil {
		return nil, err
	}
	return s.bannerFor(d), nil
}

func (s *server) bannerFor(d account.Decision) *banner {
	if !d.ExtendedUntil.IsZero() {
		return &banner{Text: "You have been given until " + s.day(d.ExtendedUntil) +
			" to set up a way to get security codes. After that you will need one to sign in.", Link: "/mfa/setup"}
	}
	n := d.NextPhase
	if n == nil || d.Next == account.NextChallenge || d.Next == account.NextRequireSetup {
		return nil // people with a factor are asked for it already; the others are on the setup page
	}
	when := "From " + s.day(n.Start)
	switch {
	case !n.Required:
		return &banner{Text: when + " you will be asked to set up security codes when you sign in. It takes about two minutes.", Link: "/mfa/setup"}
	case n.DefaultMethod == mfagate.MethodEmail || slices.Equal(n.Methods, []string{mfagate.MethodEmail}):
		return &banner{Text: when + " you will need to verify a code sent to your email at every sign-in.", Link: "/mfa/setup"}
	case slices.Equal(n.Methods, []string{mfagate.MethodTOTP}):
		return &banner{Text: when + " you will need a code from an authenticator app at every sign-in. It takes about two minutes to set up.", Link: "/mfa/setup/totp"}
	default:
		return &banner{Text: when + " you will need to enter a security code at every sign-in. It takes about two minutes to set up.", Link: "/mfa/setup"}
	}
}

// day writes a date as people read it, in the rollout's zone.
func (s *server) day(t time.Time) string {
	return t.In(s.loc()).Format("2 January 2006")
}
