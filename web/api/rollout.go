package api

import (
	_ "embed"
	"net/http"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/rollout"
	"github.com/mfagate/mfagate/web/internal/site"
)

// openAPI is the API's contract. A test checks that it names every route
// in web/routes.go, and no other.
//
//go:embed openapi.json
var openAPI []byte

// OpenAPI serves the API's document, open to anyone.
func OpenAPI() site.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.Write(openAPI)
		return nil
	}
}

// apiEvent is one audit event.
type apiEvent struct {
	ID         int64   `json:"id"`
	At         *string `json:"at"`
	Kind       string  `json:"kind"`
	Outcome    string  `json:"outcome"`
	Actor      string  `json:"actor"`
	Subject    string  `json:"subject"`
	ClientAddr string  `json:"client_addr"`
	Reason     string  `json:"reason"`
	Detail     string  `json:"detail"`
}

type auditReply struct {
	Events     []apiEvent `json:"events"`
	NextCursor string     `json:"next_cursor,omitempty"`
}

// Audit lists audit events, newest first (GET /api/v1/audit).
func Audit(d Deps) Func {
	return func(w http.ResponseWriter, r *http.Request, _ *mfagate.Token) error {
		q, err := readQuery(r, "subject", "actor", "kind", "since", "until", "limit", "cursor")
		if err != nil {
			return err
		}
		f := mfagate.AuditFilter{Subject: q.get("subject"), Actor: q.get("actor"), Kind: q.get("kind")}
		if f.Since, err = q.time("since"); err != nil {
			return err
		}
		if f.Until, err = q.time("until"); err != nil {
			return err
		}
		limit, err := q.limit()
		if err != nil {
			return err
		}
		if f.BeforeID, err = q.cursor(); err != nil {
			return err
		}
		f.Limit = limit + 1
		evs, err := d.Accounts.AuditEvents(r.Context(), f)
		if err != nil {
			return err
		}
		reply := auditReply{Events: []apiEvent{}}
		if len(evs) > limit {
			evs = evs[:limit]
			reply.NextCursor = encodeCursor(evs[limit-1].ID)
		}
		for _, e := range evs {
			reply.Events = append(reply.Events, apiEvent{ID: e.ID, At: apiTime(e.At), Kind: e.Kind, Outcome: e.Outcome,
				Actor: e.Actor, Subject: e.Subject, ClientAddr: e.ClientAddr, Reason: e.Reason, Detail: e.Detail})
		}
		site.WriteJSON(w, http.StatusOK, reply)
		return nil
	}
}

// apiPhase is one phase of the rollout.
type apiPhase struct {
	Name          string   `json:"name"`
	Starts        *string  `json:"starts"`
	Audience      []string `json:"audience"`
	Requirement   string   `json:"requirement"` // notify, optional or required
	Methods       []string `json:"methods"`
	DefaultMethod string   `json:"default_method,omitempty"`
	Notice        bool     `json:"notice"` // an email is sent when it starts
}

func newAPIPhase(ph *rollout.Phase) *apiPhase {
	methods := ph.Methods
	if methods == nil {
		methods = []string{}
	}
	return &apiPhase{Name: ph.Name, Starts: apiTime(ph.Start), Audience: ph.Audience, Requirement: ph.Requirement.String(),
		Methods: methods, DefaultMethod: ph.DefaultMethod, Notice: ph.Notice != nil}
}

type rolloutReply struct {
	Timezone  string      `json:"timezone"`
	Now       *string     `json:"now"`       // the rollout's time: moved in a rehearsal
	Rehearsal bool        `json:"rehearsal"` // the server runs at a chosen time
	Phases    []*apiPhase `json:"phases"`
	Active    []string    `json:"active"` // names of the phases in force now
	Next      *apiPhase   `json:"next"`   // the next phase to start, for anyone
}

// Rollout is the schedule and what is in force now (GET /api/v1/rollout).
func Rollout(d Deps) Func {
	return func(w http.ResponseWriter, r *http.Request, _ *mfagate.Token) error {
		if _, err := readQuery(r); err != nil {
			return err
		}
		tl := d.Accounts.Timeline()
		reply := rolloutReply{Timezone: tl.Location.String(), Now: apiTime(tl.At), Rehearsal: d.Site.Rehearsal(), Phases: []*apiPhase{}, Active: []string{}}
		var next *rollout.Phase
		for _, ph := range tl.Phases {
			reply.Phases = append(reply.Phases, newAPIPhase(ph.Phase))
			if ph.Started {
				reply.Active = append(reply.Active, ph.Name)
			} else if next == nil || ph.Start.Before(next.Start) {
				next = ph.Phase
			}
		}
		if next != nil {
			reply.Next = newAPIPhase(next)
		}
		site.WriteJSON(w, http.StatusOK, reply)
		return nil
	}
}

// apiProgressRow counts one role's enabled accounts by MFA state.
type apiProgressRow struct {
	Role          string `json:"role"`
	Total         int    `json:"total"`
	Email         int    `json:"email_only"`
	TOTP          int    `json:"totp_only"`
	Both          int    `json:"both"`
	None          int    `json:"none"`
	Skipped       int    `json:"skipped"`
	NeverSignedIn int    `json:"never_signed_in"`
	Invited       int    `json:"invited"`
}

type apiCampaign struct {
	Campaign string `json:"campaign"`
	Pending  int    `json:"pending"`
	Sent     int    `json:"sent"`
	Failed   int    `json:"failed"`
}

// apiForecast is what the rollout does to every enabled account now, and
// who will be made to set up when the next phase starts.
type apiForecast struct {
	ComputedAt                *string                   `json:"computed_at"` // when this forecast was made: now
	At                        *string                   `json:"at"`
	Total                     int                       `json:"total"`
	ByOutcome                 map[string]int            `json:"by_outcome"`
	ByRole                    map[string]map[string]int `json:"by_role"`
	Extended                  int                       `json:"extended"`
	NeverSignedIn             int                       `json:"never_signed_in"`
	NextPhase                 *apiPhase                 `json:"next_phase"`
	ForcedAtNext              int                       `json:"forced_at_next"`
	ForcedAtNextNeverSignedIn int                       `json:"forced_at_next_never_signed_in"`
	// ForcedAtNextUnreached are those forced at the next phase whose
	// address a mail server refuses: its notice will not reach them.
	ForcedAtNextUnreached int `json:"forced_at_next_unreached"`
	// Invited are those invited who have not accepted yet, also by role,
	// and those of ForcedAtNext.
	Invited             int            `json:"invited"`
	InvitedByRole       map[string]int `json:"invited_by_role"`
	ForcedAtNextInvited int            `json:"forced_at_next_invited"`
}

func newAPIForecast(sum rollout.Summary, computed time.Time) *apiForecast {
	outcomes := func(m map[rollout.Outcome]int) map[string]int {
		out := make(map[string]int, len(m))
		for o, n := range m {
			out[o.String()] = n
		}
		return out
	}
	f := &apiForecast{ComputedAt: apiTime(computed), At: apiTime(sum.At), Total: sum.Total,
		ByOutcome: outcomes(sum.ByOutcome), ByRole: map[string]map[string]int{},
		Extended: sum.Extended, NeverSignedIn: sum.NeverSignedIn,
		ForcedAtNext: sum.ForcedAtNext, ForcedAtNextNeverSignedIn: sum.ForcedAtNextNeverSignedIn,
		ForcedAtNextUnreached: sum.ForcedAtNextUnreached,
		Invited:               sum.Invited, InvitedByRole: sum.InvitedByRole, ForcedAtNextInvited: sum.ForcedAtNextInvited}
	if f.InvitedByRole == nil {
		f.InvitedByRole = map[string]int{}
	}
	for role, m := range sum.ByRole {
		f.ByRole[role] = outcomes(m)
	}
	if sum.Next != nil {
		f.NextPhase = newAPIPhase(sum.Next)
	}
	return f
}

type progressReply struct {
	ByRole    []apiProgressRow `json:"by_role"`
	Campaigns []apiCampaign    `json:"campaigns"`
	Forecast  *apiForecast     `json:"forecast"`
}

// Progress counts enrollment by role, the campaigns and the forecast
// (GET /api/v1/rollout/progress).
func Progress(d Deps) Func {
	// The forecast reads the rollout groups, not every account: it is
	// made afresh at each request.
	forecast := func(r *http.Request) (*apiForecast, error) {
		f, err := d.Accounts.ForecastNow(r.Context())
		if err != nil {
			return nil, err
		}
		return newAPIForecast(f.Summary, f.Made), nil
	}
	return func(w http.ResponseWriter, r *http.Request, _ *mfagate.Token) error {
		if _, err := readQuery(r); err != nil {
			return err
		}
		rows, err := d.Accounts.Progress(r.Context())
		if err != nil {
			return err
		}
		stats, err := d.Accounts.CampaignStats(r.Context())
		if err != nil {
			return err
		}
		f, err := forecast(r)
		if err != nil {
			return err
		}
		reply := progressReply{ByRole: []apiProgressRow{}, Campaigns: []apiCampaign{}, Forecast: f}
		for _, p := range rows {
			reply.ByRole = append(reply.ByRole, apiProgressRow(*p))
		}
		for _, c := range stats {
			reply.Campaigns = append(reply.Campaigns, apiCampaign(c))
		}
		site.WriteJSON(w, http.StatusOK, reply)
		return nil
	}
}
