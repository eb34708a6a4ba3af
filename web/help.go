package web

import (
	"net/http"
	"strings"
	"time"

	"github.com/mfagate/mfagate/account"
	"github.com/mfagate/mfagate/rollout"
	"github.com/mfagate/mfagate/web/internal/site"
)

// The help page answers, by task, what people ask about security codes,
// with the dates of the configured schedule (never written into the
// template) and the support contacts. It needs no sign-in: people who
// cannot sign in need it most.

type helpView struct {
	site.Page
	Schedule    []helpPhase
	HasSchedule bool
	// MustI answers "Must I do it now?" from the schedule, in sentences.
	MustI       []string
	CodeMinutes int
}

// helpPhase is one line of the schedule, in plain words.
type helpPhase struct {
	When, Who, What string
	Started         bool
}

func handleHelp(st *site.Site, accounts *account.Service, plan *rollout.Rollout) site.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		v := helpView{Page: st.NewPage(r, "Get help signing in"), CodeMinutes: accounts.CodeMinutes()}
		if plan != nil {
			now := accounts.RolloutNow()
			for i := range plan.Phases {
				ph := &plan.Phases[i]
				v.Schedule = append(v.Schedule, helpPhase{When: st.PhaseDate(ph.Start), Who: site.AudienceLabel(ph.Audience),
					What: site.Capitalize(account.PhaseAsks(ph)) + ".", Started: !ph.Start.After(now)})
			}
			v.MustI = mustI(st, plan, now)
		}
		v.HasSchedule = len(v.Schedule) > 0
		return st.Render(w, r, http.StatusOK, "help", v)
	}
}

// mustI answers "Must I do it now?" for everyone at once: when setup is
// offered and when it becomes required, for whom.
func mustI(st *site.Site, plan *rollout.Rollout, now time.Time) []string {
	var already, coming, offered []string
	for i := range plan.Phases {
		ph := &plan.Phases[i]
		who, when := strings.ToLower(site.AudienceLabel(ph.Audience)), st.PhaseDate(ph.Start)
		started := !ph.Start.After(now)
		switch {
		case ph.Requirement == rollout.Required && started:
			already = append(already, who+" (since "+when+")")
		case ph.Requirement == rollout.Required:
			coming = append(coming, who+" on "+when)
		case ph.Requirement == rollout.Optional && started:
			offered = append(offered, "Since "+when+", "+who+" are asked to set them up when they sign in, and can skip it until they become required.")
		case ph.Requirement == rollout.Optional:
			offered = append(offered, "From "+when+", "+who+" will be asked to set them up when they sign in, and can skip it until they become required.")
		}
	}
	var out []string
	if len(already) > 0 {
		out = append(out, "Security codes are already required for "+strings.Join(already, " and ")+
			". If that includes you and you have not set them up, you will be asked to when you next sign in.")
	}
	if len(coming) > 0 {
		out = append(out, "Security codes become required for "+strings.Join(coming, ", and for ")+".")
	}
	out = append(out, offered...)
	if len(out) == 0 {
		out = append(out, "Nothing is required yet.")
	}
	return out
}
