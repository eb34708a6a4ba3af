package cli

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/account"
)

// rollout simulate --list: the forecast that names names, each person as
// sign-in would decide for them (account.Service.ForecastPeople).

type listFormat int

const (
	listText listFormat = iota
	listCSV
	listJSON
)

// listPage is how many people the list reads and prints at a time.
const listPage = 1000

// forecastJSON is one person of the list as --json prints it, and as the
// API gives it: decision keeps the identifier (require_enrollment,
// offer_enrollment), why says it in words.
type forecastJSON struct {
	Username         string     `json:"username"`
	Email            string     `json:"email"`
	Roles            []string   `json:"roles"`
	Decision         string     `json:"decision"`
	LastSignInAt     *time.Time `json:"last_sign_in_at"`
	Deadline         *time.Time `json:"deadline"`
	ReachableByEmail bool       `json:"reachable_by_email"`
	Why              string     `json:"why"`
}

func timeOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func simulateList(ctx context.Context, e *env, a *app, at time.Time, format listFormat) error {
	ctx, cancel := context.WithTimeout(ctx, longCommandTimeout) // a walk over every account
	defer cancel()
	loc := a.cfg.Rollout.Location
	var (
		cw      *csv.Writer
		enc     *json.Encoder
		tw      *tabwriter.Writer
		forced  int
		offered int
	)
	switch format {
	case listCSV:
		cw = csv.NewWriter(e.stdout)
		cw.Write(account.ForecastColumns)
	case listJSON:
		enc = json.NewEncoder(e.stdout)
		fmt.Fprintf(e.stdout, "{\"at\": %q, \"people\": [", at.Format(time.RFC3339))
	case listText:
		tw = tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "USERNAME\tROLES\tON THAT DAY\tLAST SIGN-IN\tDEADLINE\tEMAIL\tWHY")
	}
	day := func(t time.Time, none string) string {
		if t.IsZero() {
			return none
		}
		return t.In(loc).Format("2006-01-02 15:04")
	}
	first := true
	for after := int64(0); ; {
		page, more, err := a.accounts.ForecastPeople(ctx, at, after, listPage)
		if err != nil {
			return err
		}
		for _, p := range page {
			if p.Forced() {
				forced++
			} else {
				offered++
			}
			u := p.User
			switch format {
			case listCSV:
				cw.Write(p.Record())
			case listJSON:
				if !first {
					fmt.Fprint(e.stdout, ",")
				}
				fmt.Fprint(e.stdout, "\n  ")
				enc.Encode(forecastJSON{Username: u.Username, Email: u.Email, Roles: u.Roles, Decision: p.Decision.Outcome.String(),
					LastSignInAt: timeOrNil(u.LastSignInAt), Deadline: timeOrNil(p.Decision.OwnDeadline()),
					ReachableByEmail: u.UnreachedAt.IsZero(), Why: p.Why})
			case listText:
				reach := "reachable"
				if !u.UnreachedAt.IsZero() {
					reach = "cannot be reached"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", u.Username, strings.Join(u.Roles, ","), p.DecisionWords(),
					day(u.LastSignInAt, "never"), day(p.Decision.OwnDeadline(), "-"), reach, p.Why)
			}
			first = false
		}
		if !more {
			break
		}
		after = page[len(page)-1].User.ID
	}
	switch format {
	case listCSV:
		cw.Flush()
		return cw.Error()
	case listJSON:
		fmt.Fprintf(e.stdout, "]}\n")
		return nil
	}
	fmt.Fprintf(e.stdout, "On %s, %s and %s:\n\n", at.In(loc).Format("2 January 2006 15:04 MST"),
		mfagate.Plural(forced, "person must set up a second factor", "people must set up a second factor"),
		mfagate.Plural(offered, "person is offered setup", "people are offered setup"))
	if forced+offered > 0 {
		tw.Flush()
	}
	return nil
}
