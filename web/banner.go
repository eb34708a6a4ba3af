package web

import (
	"net/http"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/account"
	"github.com/mfagate/mfagate/rollout"
	"github.com/mfagate/mfagate/web/internal/site"
)

// rolloutBanner is the banner for the signed-in person now, or nil: what
// the rollout changes next for them, and when, so the day it becomes
// required surprises nobody.
func rolloutBanner(st *site.Site, accounts *account.Service, r *http.Request) (*site.Banner, error) {
	d, _, err := accounts.Decide(r.Context(), site.CurrentFrom(r))
	if err != nil {
		return nil, err
	}
	return bannerFor(st, d), nil
}

func bannerFor(st *site.Site, d account.Decision) *site.Banner {
	if b := paceBanner(st, d); b != nil {
		return b
	}
	extension := &site.Banner{Text: "You have been given until " + st.ExtensionEnds(d.RequiredAfter()) +
		" to set up a way to get security codes. After that you will need one to sign in.", Link: "/mfa/setup"}
	if !d.ExtendedUntil.IsZero() {
		return extension
	}
	if d.Outcome == rollout.Challenge || d.Outcome == rollout.RequireEnrollment {
		return nil // people with a factor are asked for it already; the others are on the setup page
	}
	if !d.RequiredAfter().IsZero() {
		return extension // the next phase will not require it of them before then
	}
	n := d.NextPhase
	if n == nil {
		if c := d.NextNotice; c != nil && d.Outcome == rollout.Allow {
			return &site.Banner{Text: "From " + st.Day(c.Start) + " " + c.Asks() + "."}
		}
		return withSkips(st, nil, d)
	}
	b := &site.Banner{Text: "From " + st.Day(n.Start) + " " + n.Asks() + ".", Link: "/mfa/setup"}
	if n.Required && n.Grace > 0 {
		b.Text += " From your first sign-in after that you will have " + account.HumanDuration(n.Grace) + " to set it up."
	}
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
	return withSkips(st, b, d)
}
