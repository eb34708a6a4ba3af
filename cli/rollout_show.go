package cli

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/account"
	"github.com/mfagate/mfagate/rollout"
)

// rollout show: the schedule as a table or JSON, each phase in words.

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
