package web

import (
	"net/http"
	"strings"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/account"
	"github.com/mfagate/mfagate/rollout"
)

// The help page answers, by task, what people ask about security codes,
// with the dates of the configured schedule (never written into the
// template) and the support contacts. It needs no sign-in: people who
// cannot sign in need it most.

type helpView struct {
	page
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

func (s *server) handleHelp() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := helpView{page: s.newPage(r, "Get help signing in"), CodeMinutes: s.Accounts.CodeMinutes()}
		tl := s.Accounts.Timeline()
		for _, ph := range tl.Phases {
			v.Schedule = append(v.Schedule, helpPhase{When: s.phaseDate(ph.Start), Who: audienceLabel(ph.Audience),
				What: capitalize(account.PhaseAsks(ph.Phase)) + ".", Started: ph.Started})
		}
		if len(tl.Phases) > 0 {
			v.MustI = s.mustI(tl)
		}
		v.HasSchedule = len(v.Schedule) > 0
		s.render(w, r, http.StatusOK, "help", v)
	})
}

// mustI answers "Must I do it now?" for everyone at once: when setup is
// offered and when it becomes required, for whom.
func (s *server) mustI(tl account.Timeline) []string {
	var already, coming, offered []string
	for _, ph := range tl.Phases {
		who, when := strings.ToLower(audienceLabel(ph.Audience)), s.phaseDate(ph.Start)
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

type outboxView struct {
	page
	Messages []*mfagate.Message
}

// handleDevOutbox lists the emails the service has written, newest first.
// It exists only with the "outbox" mail driver, which sends nothing.
func (s *server) handleDevOutbox() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := outboxView{page: s.newPage(r, "Outbox")}
		err := mailView{s.Store}.view(r.Context(), func(q mfagate.MailQueue) (err error) {
			v.Messages, err = q.Mail(200)
			return err
		})
		if err != nil {
			s.renderError(w, r, err)
			return
		}
		if s.DevMailbox != nil {
			for i, m := range v.Messages {
				if got, ok := s.DevMailbox.Delivered(m.ID); ok {
					v.Messages[i] = got // with the text the table no longer keeps
				}
			}
		}
		s.render(w, r, http.StatusOK, "outbox", v)
	})
}
