package console

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/account"
	"github.com/mfagate/mfagate/rollout"
	"github.com/mfagate/mfagate/web/internal/site"
)

// The rollout dashboard: the timeline, enrollment progress by role (a
// table, and the same numbers as a chart), the forecast for the next
// phase and the campaigns sent so far.

type dashboardView struct {
	consolePage
	HasRollout bool
	Timeline   []phaseRow
	Next       string // "Email verification required starts on 13 July 2027, in 12 days", or ""
	Progress   []progressRow
	Chart      barChart
	Legend     []segmentKind
	Forecast   forecastView
	// Phases count, for each phase yet to start, whom it will force to
	// set up, each with a link to the list of them.
	Phases    []phaseForecastRow
	Unreached unreachedView
	Campaigns []campaignRow
	Access    []accessRow
}

// unreachedView counts the people whose address a mail server refuses.
type unreachedView struct {
	Total  int
	ByRole []unreachedRow
	Link   string // the people list filtered to them, for those who may see it
}

type unreachedRow struct {
	Role string
	N    int
}

func newUnreachedView(counts map[string]int, link bool) unreachedView {
	v := unreachedView{Total: counts[""]}
	for role, n := range counts {
		if role != "" {
			v.ByRole = append(v.ByRole, unreachedRow{Role: role, N: n})
		}
	}
	slices.SortFunc(v.ByRole, func(a, b unreachedRow) int { return strings.Compare(a.Role, b.Role) })
	if link {
		v.Link = "/admin/people?unreached=yes"
	}
	return v
}

// Dashboard is the rollout dashboard (GET /admin).
func Dashboard(d Deps) site.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		ctx := r.Context()
		v := dashboardView{consolePage: newConsolePage(d.Site, r, "Rollout dashboard", AreaDashboard), Legend: segmentKinds, Access: accessMatrix()}
		tl := d.Accounts.Timeline()
		v.HasRollout = len(tl.Phases) > 0
		v.Timeline, v.Next = timeline(d.Site, tl)

		rows, err := d.Accounts.Progress(ctx)
		if err != nil {
			return err
		}
		for _, p := range rows {
			v.Progress = append(v.Progress, newProgressRow(p))
		}
		v.Chart = newBarChart(v.Progress)

		if v.HasRollout { // without phases there is nothing to forecast
			f, err := d.Accounts.ForecastNow(ctx)
			if err != nil {
				return err
			}
			v.Forecast = newForecastView(d.Site, f.Summary, f.At)
			phases, err := d.Accounts.PhaseForecasts(ctx)
			if err != nil {
				return err
			}
			for _, p := range phases {
				v.Phases = append(v.Phases, newPhaseForecastRow(d.Site, p))
			}
		}

		unreached, err := d.Accounts.UnreachedByRole(ctx)
		if err != nil {
			return err
		}
		v.Unreached = newUnreachedView(unreached, mayUse(v.User, AreaPeople))

		stats, err := d.Accounts.CampaignStats(ctx)
		if err != nil {
			return err
		}
		for _, c := range stats {
			v.Campaigns = append(v.Campaigns, campaignRow{Name: campaignName(c.Campaign), Queued: c.Pending, Sent: c.Sent, Failed: c.Failed})
		}
		return d.Site.Render(w, r, http.StatusOK, "admin_dashboard", v)
	}
}

// phaseRow is one phase on the timeline.
type phaseRow struct {
	Name        string
	When        string
	Audience    string
	Requirement string
	Status      string // "In force for administrators", "Replaced by a stricter phase", "Next, in 12 days", "Upcoming"
	Active      bool
}

// timeline lists the phases with the ones in force marked, and says
// which starts next.
func timeline(st *site.Site, t account.Timeline) ([]phaseRow, string) {
	var rows []phaseRow
	next := ""
	for _, ph := range t.Phases {
		row := phaseRow{Name: ph.Name, When: st.PhaseDate(ph.Start), Audience: site.AudienceLabel(ph.Audience), Requirement: account.PhaseRequires(ph.Phase)}
		switch {
		case len(ph.InForceFor) > 0:
			who := []string{"everyone"}
			if !slices.Contains(ph.InForceFor, rollout.Everyone) {
				who = who[:0]
				for _, a := range ph.InForceFor {
					who = append(who, site.RoleLabel(a))
				}
			}
			row.Active = true
			row.Status = "In force for " + strings.Join(who, " and ")
		case ph.Started:
			row.Status = "Started; a later phase now applies to the same people"
		case next == "":
			row.Status = "Next, " + inDays(daysUntil(st, t.At, ph.Start))
			next = ph.Name + " starts on " + row.When + ", " + inDays(daysUntil(st, t.At, ph.Start))
		default:
			row.Status = "Upcoming, " + inDays(daysUntil(st, t.At, ph.Start))
		}
		rows = append(rows, row)
	}
	return rows, next
}

// daysUntil counts calendar days from now to t in the rollout's zone.
func daysUntil(st *site.Site, now, t time.Time) int {
	loc := st.RolloutLoc()
	day := func(x time.Time) time.Time {
		x = x.In(loc)
		return time.Date(x.Year(), x.Month(), x.Day(), 0, 0, 0, 0, time.UTC)
	}
	return int(day(t).Sub(day(now)).Hours() / 24)
}

func inDays(n int) string {
	switch n {
	case 0:
		return "later today"
	case 1:
		return "tomorrow"
	default:
		return fmt.Sprintf("in %d days", n)
	}
}

// countCell is a count with its share of the row's total, both as text.
type countCell struct {
	N   int
	Pct string
}

func newCount(n, total int) countCell {
	return countCell{N: n, Pct: shareText(n, total)}
}

// percent writes n of total as a whole percentage; a share that rounds
// to nothing but is not nothing is "under 1%".
func shareText(n, total int) string {
	if total == 0 {
		return "0%"
	}
	p := (n*1000/total + 5) / 10
	if p == 0 && n > 0 {
		return "under 1%"
	}
	return fmt.Sprintf("%d%%", p)
}

// progressRow is one role's line of the progress table.
type progressRow struct {
	Role                                                     string
	Total                                                    int
	Email, TOTP, Both, None, Skipped, NeverSignedIn, Invited countCell
}

func newProgressRow(p *mfagate.ProgressRow) progressRow {
	return progressRow{
		Role: p.Role, Total: p.Total,
		Email: newCount(p.Email, p.Total), TOTP: newCount(p.TOTP, p.Total), Both: newCount(p.Both, p.Total),
		None: newCount(p.None, p.Total), Skipped: newCount(p.Skipped, p.Total), NeverSignedIn: newCount(p.NeverSignedIn, p.Total),
		Invited: newCount(p.Invited, p.Total),
	}
}

// campaignRow counts one campaign's emails.
type campaignRow struct {
	Name                 string
	Queued, Sent, Failed int
}

// campaignName turns a campaign key ("notice/PHASE",
// "reminder/PHASE/7d") into words.
func campaignName(key string) string {
	parts := strings.Split(key, "/")
	switch {
	case len(parts) == 2 && parts[0] == "notice":
		return "Notice: " + parts[1]
	case len(parts) == 3 && parts[0] == "reminder":
		return "Reminder " + parts[2] + " before: " + parts[1]
	}
	return key
}

type forecastView struct {
	AsOf         string // "09:05"
	Total        int
	MustSetUpNow int // required to set up today
	NeverNow     int
	NextName     string
	NextWhen     string
	Forced       int
	ForcedNever  int
	// ForcedUnreached are those of Forced whose address is refused: the
	// phase's notice and reminders do not reach them.
	ForcedUnreached int
	// ForcedInvited are those of Forced who have not accepted their
	// invitation: they have no password yet.
	ForcedInvited int
	HasNextDecide bool
}

func newForecastView(st *site.Site, sum rollout.Summary, asOf time.Time) forecastView {
	v := forecastView{
		AsOf:  asOf.In(st.RolloutLoc()).Format("15:04"),
		Total: sum.Total, MustSetUpNow: sum.ByOutcome[rollout.RequireEnrollment], NeverNow: sum.NeverSignedIn,
		Forced: sum.ForcedAtNext, ForcedNever: sum.ForcedAtNextNeverSignedIn, ForcedUnreached: sum.ForcedAtNextUnreached,
		ForcedInvited: sum.ForcedAtNextInvited,
	}
	if sum.Next != nil {
		v.HasNextDecide = true
		v.NextName, v.NextWhen = sum.Next.Name, st.PhaseDate(sum.Next.Start)
	}
	return v
}

// phaseForecastRow is one upcoming phase of the per-phase forecast.
type phaseForecastRow struct {
	Name, When                                  string
	Forced, NeverSignedIn, Unreached, MustSetUp int
	Link                                        string // the forecast list for its first day
}

func newPhaseForecastRow(st *site.Site, p account.PhaseForecast) phaseForecastRow {
	return phaseForecastRow{Name: p.Phase.Name, When: st.PhaseDate(p.Phase.Start), Forced: p.Forced, NeverSignedIn: p.NeverSignedIn,
		Unreached: p.Unreached, MustSetUp: p.MustSetUp, Link: "/admin/forecast?at=" + forecastParam(st, p.Phase.Start)}
}

// forecastParam writes a time as the forecast page's at: a date when it
// is the start of that day in the rollout's zone, as phases usually are.
func forecastParam(st *site.Site, t time.Time) string {
	day := t.In(st.RolloutLoc())
	if rollout.StartOfDay(day, st.RolloutLoc()).Equal(t) {
		return day.Format(time.DateOnly)
	}
	return url.QueryEscape(t.UTC().Format(time.RFC3339))
}
