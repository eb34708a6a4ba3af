package web

import (
	"net/http"
	"strings"

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

func handleHelp(st *site.Site, accounts *account.Service) site.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		v := helpView{Page: st.NewPage(r, "Get help signing in"), CodeMinutes: accounts.CodeMinutes()}
		tl := accounts.Timeline()
		for _, ph := range tl.Phases {
			v.Schedule = append(v.Schedule, helpPhase{When: st.PhaseDate(ph.Start), Who: site.AudienceLabel(ph.Audience),
				What: site.Capitalize(account.PhaseAsks(ph.Phase)) + ".", Started: ph.Started})
		}
		if len(tl.Phases) > 0 {
			v.MustI = mustI(st, tl)
		}
		v.HasSchedule = len(v.Schedule) > 0
		return st.Render(w, r, http.StatusOK, "help", v)
	}
}

// mustI answers "Must I do it now?" for everyone at once: when setup is
// offered and when it becomes required, for whom.
func mustI(st *site.Site, tl account.Timeline) []string {
	var already, coming, offered []string
	for _, ph := range tl.Phases {
		who, when := strings.ToLower(site.AudienceLabel(ph.Audience)), st.PhaseDate(ph.Start)
		started := ph.Started
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
