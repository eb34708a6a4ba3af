package web

import (
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/account"
	"github.com/mfagate/mfagate/rollout"
	"github.com/mfagate/mfagate/web/internal/site"
)

// What the rollout's pacing means for one person, in their words: their
// own grace window's end, the skips they have left, when a skipped offer
// comes back.

// paceBanner is the banner for a person whose phase paces them, or nil.
func paceBanner(st *site.Site, d account.Decision) *site.Banner {
	switch {
	case d.Grace && d.ExtendedUntil.IsZero() && d.Outcome == rollout.Challenge:
		// Their factor stops counting when the window ends.
		return &site.Banner{Text: "After " + until(st, d.Deadline) + " the way you get security codes now will no longer be accepted for your account. Before then, set up " +
			mfagate.MethodPhrases(d.Accepts) + ": it takes about two minutes.", Link: "/account"}
	case d.Grace && d.ExtendedUntil.IsZero():
		return &site.Banner{Text: "You have until " + until(st, d.Deadline) +
			" to set up a way to get security codes. After that you will need one to sign in. It takes about two minutes.", Link: "/mfa/setup"}
	case d.Outcome == rollout.RequireEnrollment && d.SkipsUsed:
		// Signed in by their last skip: the next sign-in asks for setup.
		return &site.Banner{Text: "Set up a way to get security codes now: it takes about two minutes." + skipsLeft(d), Link: "/mfa/setup"}
	}
	return nil
}

// withSkips adds to the banner b (nil for none) what capped skips and a
// snoozed offer mean for the person: when they will be asked again, and
// how many skips they have left.
func withSkips(st *site.Site, b *site.Banner, d account.Decision) *site.Banner {
	if !d.Capped && !d.Snoozed {
		return b
	}
	if b == nil {
		b = &site.Banner{Text: "Set up a way to get security codes: it takes about two minutes.", Link: "/mfa/setup"}
	}
	if d.Snoozed {
		b.Text += " You skipped setting it up: we will ask you again from " + st.PhaseDate(d.Deadline) + "."
	}
	b.Text += skipsLeft(d)
	return b
}

// until names the end of a window as people say it: "the end of 30
// September 2027" for one that ends at midnight, "16 August 2027 at
// 10:00 BST" otherwise.
func until(st *site.Site, t time.Time) string {
	local := t.In(st.RolloutLoc())
	if local.Hour() == 0 && local.Minute() == 0 && local.Second() == 0 {
		return "the end of " + local.Add(-time.Second).Format("2 January 2006")
	}
	return st.PhaseDate(t)
}

// skipsLeft says, with a space before it, how many more times the person
// may skip setting up, when the phase limits it.
func skipsLeft(d account.Decision) string {
	switch {
	case !d.Capped:
		return ""
	case d.SkipsLeft <= 0:
		return " You cannot skip it again: the next time you sign in you will need to set it up."
	case d.SkipsLeft == 1:
		return " You can skip it 1 more time. After that you will need to set it up to sign in."
	}
	return " You can skip it " + mfagate.Plural(d.SkipsLeft, "more time", "more times") + ". After that you will need to set it up to sign in."
}

// skipNote is the line under "Skip for now": when the offer comes back,
// and how many skips are left after this one.
func skipNote(d account.Decision) string {
	again := "You will be asked again the next time you sign in."
	if d.Reprompt > 0 {
		again = "You will not be asked again for " + account.HumanDuration(d.Reprompt) + "."
	}
	if !d.Capped {
		return again
	}
	switch after := d.SkipsLeft - 1; {
	case after <= 0:
		return "This is the last time you can skip it: after this, you will need to set it up to sign in."
	default:
		return again + " After this skip you can skip " + mfagate.Plural(after, "more time", "more times") + "."
	}
}
