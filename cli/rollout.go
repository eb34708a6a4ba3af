package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/account"
	"github.com/mfagate/mfagate/config"
	"github.com/mfagate/mfagate/rollout"
)

const rolloutUsage = `Usage: mfagate rollout SUBCOMMAND --config FILE [options]

Subcommands:
  show [--at TIME] [--json]                the timeline, and which phases are in force
  validate                                 check the rollout, naming any phase at fault
  simulate --at TIME [--user NAME] [--json]
                                           what would happen at TIME, for one person or everyone
  simulate --at TIME --list [--csv|--json] each person who must set up, or is offered setup, at TIME
  extend NAME --until DATE --reason TEXT   give one person more time to set up MFA
  recount [--fix]                          check the counts the forecast reads against every account
  run-due                                  send the notices and reminders that are due, once (for cron)

TIME is a date (midnight in the rollout's time zone) or an RFC 3339 time.`

func runRollout(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(e.stdout, rolloutUsage)
		if len(args) == 0 {
			return usagef("name a rollout subcommand: show, validate, simulate, extend, recount or run-due")
		}
		return nil
	}
	sub := map[string]func(context.Context, *env, []string) error{
		"show": rolloutShow, "validate": rolloutValidate, "simulate": rolloutSimulate,
		"extend": rolloutExtend, "recount": rolloutRecount, "run-due": rolloutRunDue,
	}[args[0]]
	if sub == nil {
		return usagef("unknown rollout subcommand %q; run \"mfagate rollout -h\" to see them", args[0])
	}
	return sub(ctx, e, args[1:])
}

// loadPlan reads the configuration and its rollout.
func loadPlan(e *env, path string) (*config.Config, *rollout.Rollout, error) {
	cfg, err := loadConfig(e, path)
	if err != nil {
		return nil, nil, err
	}
	plan, err := cfg.Plan()
	if err != nil {
		return nil, nil, err
	}
	return cfg, plan, nil
}

func rolloutValidate(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "rollout validate", "--config FILE")
	path := fs.String("config", "", "the configuration `file`")
	if pos, err := parseFlags(fs, args); err != nil {
		return err
	} else if err := noArguments("rollout validate", pos); err != nil {
		return err
	}
	_, plan, err := loadPlan(e, *path)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "The rollout is valid: %s in %s.\n", mfagate.Plural(len(plan.Phases), "phase", "phases"), plan.Location)
	for _, w := range plan.Warnings() { // allowed, but likely a mistake
		fmt.Fprintf(e.stderr, "Warning: %s\n", w)
	}
	return nil
}

// phaseJSON is a phase as show --json prints it.
type phaseJSON struct {
	Name          string    `json:"name"`
	Starts        time.Time `json:"starts"`
	Audience      []string  `json:"audience"`
	Requirement   string    `json:"requirement"`
	Methods       []string  `json:"methods,omitempty"`
	DefaultMethod string    `json:"default_method,omitempty"`
	Notice        bool      `json:"notice"`
	Reminders     []string  `json:"reminders,omitempty"`
	Started       bool      `json:"started"`
	// Pacing, person by person.
	Grace         string     `json:"grace,omitempty"`
	GraceUntil    *time.Time `json:"grace_until,omitempty"` // every window ends by then
	MaxSkips      int        `json:"max_skips,omitempty"`
	RepromptAfter string     `json:"reprompt_after,omitempty"`
	Then          string     `json:"then,omitempty"`
	Retire        []string   `json:"retire,omitempty"`
}

func rolloutShow(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "rollout show", "--config FILE [--at TIME] [--json]")
	path := fs.String("config", "", "the configuration `file`")
	at := fs.String("at", "", "show the timeline as at this `time` (default: now)")
	asJSON := fs.Bool("json", false, "print JSON")
	if pos, err := parseFlags(fs, args); err != nil {
		return err
	} else if err := noArguments("rollout show", pos); err != nil {
		return err
	}
	cfg, plan, err := loadPlan(e, *path)
	if err != nil {
		return err
	}
	now := time.Now()
	if *at != "" {
		if now, err = parseTime(*at, cfg.Rollout.Location); err != nil {
			return err
		}
	}
	var phases []phaseJSON
	var asked []string // what each phase asks, for the table
	for i := range plan.Phases {
		p := &plan.Phases[i]
		asked = append(asked, asks(p))
		pj := phaseJSON{Name: p.Name, Starts: p.Start, Audience: p.Audience, Requirement: p.Requirement.String(),
			Methods: p.Methods, DefaultMethod: p.DefaultMethod, Notice: p.Notice != nil, Started: !now.Before(p.Start)}
		for _, r := range p.Reminders {
			pj.Reminders = append(pj.Reminders, durationWords(r))
		}
		if p.Grace > 0 {
			pj.Grace = durationWords(p.Grace)
		}
		if !p.GraceUntil.IsZero() {
			pj.GraceUntil = &p.GraceUntil
		}
		if p.RepromptAfter > 0 {
			pj.RepromptAfter = durationWords(p.RepromptAfter)
		}
		if p.Then != rollout.None {
			pj.Then = p.Then.String()
		}
		pj.MaxSkips, pj.Retire = p.MaxSkips, p.Retire
		phases = append(phases, pj)
	}
	if *asJSON {
		return writeJSON(e.stdout, map[string]any{"at": now, "timezone": plan.Location.String(), "phases": phases})
	}
	fmt.Fprintf(e.stdout, "Rollout in %s, as at %s:\n\n", plan.Location, now.In(plan.Location).Format("2 January 2006 15:04 MST"))
	if len(phases) == 0 {
		fmt.Fprintln(e.stdout, "No phases: MFA is asked only of people who set it up themselves.")
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\tSTARTS\tPHASE\tFOR\tWHAT IT ASKS")
	next := false
	for i, p := range phases {
		mark := "  "
		switch {
		case p.Started:
			mark = "✓ "
		case !next:
			mark, next = "→ ", true
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", mark, p.Starts.In(plan.Location).Format("2006-01-02 15:04"), p.Name,
			strings.Join(p.Audience, ","), asked[i])
	}
	tw.Flush()
	fmt.Fprintln(e.stdout, "\n✓ in force   → next")
	return nil
}

// asks says what a phase asks, in the dashboard's words, and what it
// sends.
func asks(p *rollout.Phase) string {
	s := account.PhaseRequires(p)
	if p.Notice != nil && p.Requirement != rollout.Notify {
		s += "; notice sent"
	}
	if len(p.Reminders) > 0 {
		var rs []string
		for _, r := range p.Reminders {
			rs = append(rs, humanDays(r))
		}
		s += "; reminders " + strings.Join(rs, ", ") + " before"
	}
	if len(p.Retire) > 0 {
		s += "; " + mfagate.MethodPhrases(p.Retire) + " no longer count"
	}
	if p.Grace > 0 {
		s += "; each person has " + humanDays(p.Grace) + " from their first sign-in"
		if !p.GraceUntil.IsZero() {
			s += ", until " + p.GraceUntil.Add(-time.Second).In(p.GraceUntil.Location()).Format("2 January 2006") + " at the latest"
		}
	}
	if p.MaxSkips > 0 {
		s += "; " + mfagate.Plural(p.MaxSkips, "skip", "skips") + ", then " + p.Then.String()
	}
	if p.RepromptAfter > 0 {
		s += "; asked again " + humanDays(p.RepromptAfter) + " after a skip"
	}
	return s
}

func durationWords(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return d.String()
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

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

// rolloutRecount checks the rollout groups' counts against every account
// and, with --fix, repairs them. Wrong counts without --fix are an error,
// so that a scheduled check fails loudly.
func rolloutRecount(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "rollout recount", "--config FILE [--fix]")
	sf := addStoreFlags(fs)
	fix := fs.Bool("fix", false, "replace wrong counts by the recount")
	if pos, err := parseFlags(fs, args); err != nil {
		return err
	} else if err := noArguments("rollout recount", pos); err != nil {
		return err
	}
	a, err := sf.open(ctx, e)
	if err != nil {
		return err
	}
	defer a.Close()
	ctx, cancel := context.WithTimeout(ctx, longCommandTimeout) // reads every account
	defer cancel()
	wrong, err := a.accounts.RecountGroups(ctx, *fix)
	if err != nil {
		return err
	}
	if len(wrong) == 0 {
		fmt.Fprintln(e.stdout, "The counts the dashboard and the forecast read agree with the accounts.")
		return nil
	}
	for _, m := range wrong {
		fmt.Fprintf(e.stdout, "%s: counted %d, recounted %d\n", groupWords(m.Group), m.Group.People, m.Recounted)
	}
	if *fix {
		fmt.Fprintln(e.stdout, "Repaired: the counts now match the accounts.")
		return nil
	}
	return fmt.Errorf("the counts the dashboard and the forecast read are wrong for %s; run \"mfagate rollout recount --fix\" to repair them",
		mfagate.Plural(len(wrong), "group", "groups"))
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

func rolloutExtend(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "rollout extend", "NAME --until DATE --reason TEXT")
	sf := addStoreFlags(fs)
	until := fs.String("until", "", "the `date` (end of that day) or time the extension lasts until; \"none\" removes it")
	reason := fs.String("reason", "", "why, for the audit log")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("give exactly one username, as in \"mfagate rollout extend alice --until 2027-08-15 --reason \\\"on leave\\\"\"")
	}
	if *until == "" || strings.TrimSpace(*reason) == "" {
		return usagef("give --until DATE and --reason TEXT")
	}
	a, err := sf.open(ctx, e)
	if err != nil {
		return err
	}
	defer a.Close()
	loc := a.cfg.Rollout.Location
	var end time.Time
	if *until != "none" {
		if end, err = parseTime(*until, loc); err != nil {
			return err
		}
		if d, err := time.Parse(time.DateOnly, *until); err == nil {
			// A date means the whole of that day, stored as its last
			// second, as the console stores it.
			end = rollout.EndOfDay(d, loc)
		}
	}
	if err := a.accounts.Extend(ctx, cliActor, pos[0], end, *reason); err != nil {
		return err
	}
	if end.IsZero() {
		fmt.Fprintf(e.stdout, "Removed the extension of %s.\n", pos[0])
		return nil
	}
	fmt.Fprintf(e.stdout, "%s has until %s to set up MFA. An email telling them is on its way: the running server sends it.\n", pos[0], account.ExtensionEnds(end, loc))
	return nil
}

func rolloutRunDue(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "rollout run-due", "--config FILE")
	sf := addStoreFlags(fs)
	if pos, err := parseFlags(fs, args); err != nil {
		return err
	} else if err := noArguments("rollout run-due", pos); err != nil {
		return err
	}
	a, err := sf.open(ctx, e)
	if err != nil {
		return err
	}
	defer a.Close()
	n, err := a.accounts.RunCampaigns(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Queued %s.\n", mfagate.Plural(n, "email", "emails"))
	return nil
}
