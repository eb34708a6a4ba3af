package account

import (
	"slices"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/rollout"
)

// PhaseAsks says in words what a phase asks, at sign-in, of someone who
// has not set up a second step yet, written to them and ready to end a
// sentence that begins "From 13 July 2027": "you will need to verify a
// code sent to your email at every sign-in". The rollout banner, the help
// page's schedule and the rollout emails all say it through this, so what
// a person reads on the page is what their email told them.
func PhaseAsks(p *rollout.Phase) string {
	return phaseAsks(p.Requirement, p.Methods, p.DefaultMethod)
}

// PhaseRequires says in a few words what a phase requires, for staff
// (the dashboard's timeline, "mfagate rollout show"), where PhaseAsks
// says it to the person: "Required at every sign-in: a code sent by email
// or a code from an authenticator app; people without one start with a
// code sent by email".
func PhaseRequires(p *rollout.Phase) string {
	switch p.Requirement {
	case rollout.Notify:
		return "Notice by email; nothing changes at sign-in"
	case rollout.Optional:
		return "Setup offered at sign-in; it can be skipped"
	case rollout.Required:
		t := "Required at every sign-in: " + mfagate.MethodPhrases(p.Methods)
		if p.DefaultMethod != "" {
			t += "; people without one start with " + mfagate.MethodPhrase(p.DefaultMethod)
		}
		return t
	}
	return p.Requirement.String()
}

// ExtensionEnds says when an extension stored as until runs out, in loc
// (the rollout's zone), for the person and for staff alike: the last day
// it covers, "20 July 2027", for one that lasts to the end of a day (as
// rollout.EndOfDay stores it, or to the midnight after), else that day
// and the time ("20 July 2027 at 15:00 BST").
func ExtensionEnds(until time.Time, loc *time.Location) string {
	last := until.Add(-time.Nanosecond).In(loc) // the last moment it covers
	// The end of a day as stored now, as the console stored it (its last
	// second), or the midnight after.
	if end := rollout.EndOfDay(last, loc).Add(time.Millisecond); until.Equal(end.Add(-time.Millisecond)) || until.Equal(end.Add(-time.Second)) || until.Equal(end) {
		return last.Format("2 January 2006")
	}
	return until.In(loc).Format("2 January 2006 at 15:04 MST")
}

// Asks is PhaseAsks for the next change a Decision names.
func (u *Upcoming) Asks() string {
	req := rollout.Optional
	switch {
	case u.Required:
		req = rollout.Required
	case u.NoticeOnly:
		req = rollout.Notify
	}
	return phaseAsks(req, u.Methods, u.DefaultMethod)
}

// StartsWith is the method someone without a second step will use when the
// change comes (email codes when they are the default or the only method,
// an authenticator app when it is the only one), or "" when it is theirs
// to choose.
func (u *Upcoming) StartsWith() string { return startsWith(u.Methods, u.DefaultMethod) }

func startsWith(methods []string, defaultMethod string) string {
	switch {
	case defaultMethod == mfagate.MethodEmail || slices.Equal(methods, []string{mfagate.MethodEmail}):
		return mfagate.MethodEmail
	case slices.Equal(methods, []string{mfagate.MethodTOTP}):
		return mfagate.MethodTOTP
	}
	return ""
}

func phaseAsks(req rollout.Requirement, methods []string, defaultMethod string) string {
	switch {
	case req == rollout.Notify:
		return "you will get an email explaining what is coming; nothing changes when you sign in"
	case req == rollout.Optional:
		return "you will be asked to set up security codes when you sign in; you can skip it at first"
	}
	return "you will need " + phaseNeeds(methods, defaultMethod)
}

// phaseNeeds says what a required phase with methods needs at sign-in,
// to follow "you need" or "you will need": "to verify a code sent to your
// email at every sign-in".
func phaseNeeds(methods []string, defaultMethod string) string {
	switch startsWith(methods, defaultMethod) {
	case mfagate.MethodEmail:
		return "to verify a code sent to your email at every sign-in"
	case mfagate.MethodTOTP:
		return "a code from an authenticator app at every sign-in"
	default:
		return "to enter a security code at every sign-in"
	}
}

// timeLeft says how long is left at until start, in loc's calendar
// days, for a reminder's subject: "in 7 days", "tomorrow", or "today"
// for a phase starting later on the same day.
func timeLeft(start, at time.Time, loc *time.Location) string {
	day := func(t time.Time) time.Time {
		y, m, d := t.In(loc).Date()
		return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	}
	switch n := int(day(start).Sub(day(at)) / (24 * time.Hour)); {
	case n <= 0:
		return "today"
	case n == 1:
		return "tomorrow"
	default:
		return "in " + mfagate.Plural(n, "day", "days")
	}
}
