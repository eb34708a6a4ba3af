package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
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

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
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
