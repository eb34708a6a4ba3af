package cli

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/account"
	"github.com/mfagate/mfagate/rollout"
)

// rollout simulate: what the schedule does to everyone, or to one person,
// at a time.

func rolloutSimulate(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "rollout simulate", "--config FILE --at TIME [--user NAME | --list [--csv]] [--json]")
	sf := addStoreFlags(fs)
	at := fs.String("at", "", "the `time` to simulate")
	user := fs.String("user", "", "simulate for this `username` only")
	list := fs.Bool("list", false, "list each person who must set up a second factor, or is offered setup")
	asCSV := fs.Bool("csv", false, "with --list, print CSV")
	asJSON := fs.Bool("json", false, "print JSON")
	if pos, err := parseFlags(fs, args); err != nil {
		return err
	} else if err := noArguments("rollout simulate", pos); err != nil {
		return err
	}
	if *at == "" {
		return usagef("give --at TIME, such as --at 2027-07-13")
	}
	switch {
	case *list && *user != "":
		return usagef("give --list or --user NAME, not both")
	case *asCSV && !*list:
		return usagef("--csv goes with --list")
	case *asCSV && *asJSON:
		return usagef("give --csv or --json, not both")
	}
	a, err := sf.open(ctx, e)
	if err != nil {
		return err
	}
	defer a.Close()
	loc := a.cfg.Rollout.Location
	when, err := parseTime(*at, loc)
	if err != nil {
		return err
	}
	if *user != "" {
		return simulateOne(ctx, e, a, *user, when, *asJSON)
	}
	if *list {
		format := listText
		switch {
		case *asCSV:
			format = listCSV
		case *asJSON:
			format = listJSON
		}
		return simulateList(ctx, e, a, when, format)
	}
	ctx, cancel := context.WithTimeout(ctx, longCommandTimeout) // a walk over every account
	defer cancel()
	sum, err := a.accounts.Forecast(ctx, when)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(e.stdout, summaryJSON(sum))
	}
	printSummary(e.stdout, sum, loc)
	return nil
}

// groupWords describes a group for an operator.
func groupWords(g mfagate.Group) string {
	roles := "no role"
	if len(g.Roles) > 0 {
		roles = "roles " + strings.Join(g.Roles, ", ")
	}
	methods := "no factor"
	if len(g.Methods) > 0 {
		names := make([]string, len(g.Methods))
		for i, m := range g.Methods {
			names[i] = mfagate.MethodName(m)
		}
		methods = "factors " + strings.Join(names, ", ")
	}
	words := []string{roles, methods}
	for _, f := range []struct {
		on   bool
		word string
	}{{g.Skipped, "skipped setup"}, {g.NeverSignedIn, "never signed in"}, {g.Unreached, "unreachable by email"}, {g.Disabled, "disabled"}} {
		if f.on {
			words = append(words, f.word)
		}
	}
	return "People with " + strings.Join(words, "; ")
}

// outcomes in the order reports list them.
var outcomes = []rollout.Outcome{rollout.Allow, rollout.OfferEnrollment, rollout.RequireEnrollment, rollout.Challenge}

// outcomeWords says what each outcome means for people, for one person
// and for several: the text output is read by people, so it never shows
// the identifiers (require_enrollment) that --json keeps for programs.
var outcomeWords = map[rollout.Outcome][2]string{
	rollout.Allow:             {"signs in with the password alone", "sign in with the password alone"},
	rollout.OfferEnrollment:   {"is offered setup (may skip)", "are offered setup (may skip)"},
	rollout.RequireEnrollment: {"must set up a second factor", "must set up a second factor"},
	rollout.Challenge:         {"is asked for their second factor", "are asked for their second factor"},
}

// verb picks the form of a verb that agrees with n people.
func verb(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func printSummary(w io.Writer, s rollout.Summary, loc *time.Location) {
	fmt.Fprintf(w, "On %s, of %s:\n", s.At.In(loc).Format("2 January 2006 15:04 MST"), mfagate.Plural(s.Total, "active account", "active accounts"))
	for _, o := range outcomes {
		n := s.ByOutcome[o]
		fmt.Fprintf(w, "  %7d %s\n", n, verb(n, outcomeWords[o][0], outcomeWords[o][1]))
	}
	if s.NeverSignedIn > 0 {
		fmt.Fprintf(w, "  Of those who must set up, %d %s never signed in.\n", s.NeverSignedIn, verb(s.NeverSignedIn, "has", "have"))
	}
	if s.Extended > 0 {
		fmt.Fprintf(w, "  %d %s an extension that softens a requirement.\n", s.Extended, verb(s.Extended, "has", "have"))
	}
	roles := make([]string, 0, len(s.ByRole))
	for r := range s.ByRole {
		roles = append(roles, r)
	}
	slices.Sort(roles)
	if len(roles) > 0 {
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(w, "\nBy role:")
		fmt.Fprintln(tw, "ROLE\tPASSWORD ONLY\tOFFERED\tMUST SET UP\tCHALLENGED\t")
		for _, r := range roles {
			c := s.ByRole[r]
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t\n", r, c[rollout.Allow], c[rollout.OfferEnrollment], c[rollout.RequireEnrollment], c[rollout.Challenge])
		}
		tw.Flush()
	}
	if s.Next != nil {
		fmt.Fprintf(w, "\nNext: %q on %s: %d more will have to set up a second factor", s.Next.Name,
			s.Next.Start.In(loc).Format("2 January 2006"), s.ForcedAtNext)
		if s.ForcedAtNextNeverSignedIn > 0 {
			fmt.Fprintf(w, ", %d of them %s never signed in", s.ForcedAtNextNeverSignedIn, verb(s.ForcedAtNextNeverSignedIn, "has", "have"))
		}
		fmt.Fprintln(w, ".")
		if s.ForcedAtNextUnreached > 0 {
			fmt.Fprintf(w, "%d of them cannot be reached by email: their mail server refuses their address, so they will not have had the notice.\n",
				s.ForcedAtNextUnreached)
		}
	}
}

func summaryJSON(s rollout.Summary) map[string]any {
	byOutcome := map[string]int{}
	for _, o := range outcomes {
		byOutcome[o.String()] = s.ByOutcome[o]
	}
	byRole := map[string]map[string]int{}
	for r, c := range s.ByRole {
		byRole[r] = map[string]int{}
		for _, o := range outcomes {
			byRole[r][o.String()] = c[o]
		}
	}
	out := map[string]any{"at": s.At, "total": s.Total, "by_decision": byOutcome, "by_role": byRole,
		"extended": s.Extended, "never_signed_in": s.NeverSignedIn}
	if s.Next != nil {
		out["next"] = map[string]any{"phase": s.Next.Name, "starts": s.Next.Start,
			"forced_to_enroll": s.ForcedAtNext, "forced_never_signed_in": s.ForcedAtNextNeverSignedIn,
			"forced_unreached": s.ForcedAtNextUnreached}
	}
	return out
}

func simulateOne(ctx context.Context, e *env, a *app, username string, at time.Time, asJSON bool) error {
	sim, err := a.accounts.Simulate(ctx, username, at)
	if err != nil {
		return err
	}
	u, p, d := sim.User, sim.Person, sim.Decision
	why := explain(d, p, a.cfg.Rollout.Location)
	if sim.Staff {
		why += "; as operators and support can reset other people's sign-in, they must set up a second factor whatever the phase"
	}
	if asJSON {
		out := map[string]any{"user": u.Username, "at": at, "roles": u.Roles, "factors": p.Methods,
			"decision": d.Outcome.String(), "methods": d.Methods, "default_method": d.DefaultMethod,
			"extended": d.Extended, "why": why}
		if d.Active != nil {
			out["phase"] = d.Active.Name
		}
		if d.Next != nil {
			out["next"] = map[string]any{"phase": d.Next.Name, "starts": d.Next.Start}
		}
		return writeJSON(e.stdout, out)
	}
	loc := a.cfg.Rollout.Location
	fmt.Fprintf(e.stdout, "On %s, %s %s.\n", at.In(loc).Format("2 January 2006 15:04 MST"), u.Username, outcomeWords[d.Outcome][0])
	fmt.Fprintf(e.stdout, "Why: %s\n", why)
	if d.Next != nil {
		fmt.Fprintf(e.stdout, "Next: %q from %s.\n", d.Next.Name, d.Next.Start.In(loc).Format("2 January 2006"))
	}
	return nil
}

// explain says why the decision came out as it did, with days in loc.
func explain(d rollout.Decision, p rollout.Person, loc *time.Location) string {
	var b strings.Builder
	switch {
	case d.Active == nil:
		b.WriteString("no phase applies to their roles (" + strings.Join(p.Roles, ",") + ") yet")
	default:
		req := account.PhaseRequires(d.Active)
		fmt.Fprintf(&b, "phase %q (%s, for %s) is in force for them", d.Active.Name, strings.ToLower(req[:1])+req[1:], strings.Join(d.Active.Audience, ","))
	}
	if len(p.Methods) == 0 {
		b.WriteString("; they have no second factor")
	} else {
		names := make([]string, len(p.Methods))
		for i, m := range p.Methods {
			names[i] = mfagate.MethodPhrase(m)
		}
		b.WriteString("; they have set up " + strings.Join(names, " and ") + ", which is always asked for")
	}
	if d.Outcome == rollout.RequireEnrollment && len(p.Methods) > 0 {
		b.WriteString(", but the phase accepts only " + mfagate.MethodPhrases(d.Methods))
	}
	if d.Extended {
		b.WriteString("; an extension makes the requirement optional for them until " + account.ExtensionEnds(p.ExtendedUntil, loc))
	}
	return b.String()
}
