package web

import (
	"net/http"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/account"
	"github.com/mfagate/mfagate/rollout"
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
	if n == nil || d.Outcome == rollout.Challenge || d.Outcome == rollout.RequireEnrollment {
		return nil // people with a factor are asked for it already; the others are on the setup page
	}
	b := &banner{Text: "From " + s.day(n.Start) + " " + n.Asks() + ".", Link: "/mfa/setup"}
	switch {
	case !n.Required:
		b.Text += " It takes about two minutes."
	case n.StartsWith() == mfagate.MethodEmail:
		// an email code needs no setting up
	case n.StartsWith() == mfagate.MethodTOTP:
		b.Text += " It takes about two minutes to set up."
		b.Link = "/mfa/setup/totp"
	default:
		b.Text += " It takes about two minutes to set up."
	}
	return b
}

// day writes a date as people read it, in the rollout's zone.
func (s *server) day(t time.Time) string {
	return t.In(s.loc()).Format("2 January 2006")
}
