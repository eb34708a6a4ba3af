package api

import (
	"encoding/csv"
	"net/http"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/account"
	"github.com/mfagate/mfagate/rollout"
	"github.com/mfagate/mfagate/web/internal/site"
)

// apiForecastPerson is one person of the forecast list: the same fields
// as "mfagate rollout simulate --list --json".
type apiForecastPerson struct {
	Username         string   `json:"username"`
	Email            string   `json:"email"`
	Roles            []string `json:"roles"`
	Decision         string   `json:"decision"` // require_enrollment or offer_enrollment
	LastSignInAt     *string  `json:"last_sign_in_at"`
	Deadline         *string  `json:"deadline"`
	ReachableByEmail bool     `json:"reachable_by_email"`
	Why              string   `json:"why"`
}

type forecastListReply struct {
	At         *string             `json:"at"`
	People     []apiForecastPerson `json:"people"`
	NextCursor string              `json:"next_cursor,omitempty"`
}

// forecastAt reads the at parameter: a date (its first moment in the
// rollout's zone) or an RFC 3339 time; the rollout's time when left out.
func forecastAt(q query, d Deps) (time.Time, error) {
	s := q.get("at")
	if s == "" {
		return d.Accounts.RolloutNow(), nil
	}
	if day, err := time.Parse(time.DateOnly, s); err == nil && day.Year() >= 1970 {
		return rollout.StartOfDay(day, d.Site.RolloutLoc()), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil || t.UTC().Year() < 1970 {
		return time.Time{}, mfagate.Errorf(mfagate.EINVALID, "at must be a date such as 2027-07-13 or an RFC 3339 time such as 2027-07-13T09:00:00Z")
	}
	return t, nil
}

// Forecast lists the people who at a time would have to set up a second
// factor or be offered setup, each as sign-in would decide, paged like
// the people list; format=csv gives every page at once as CSV (GET
// /api/v1/rollout/forecast).
func Forecast(d Deps) Func {
	return func(w http.ResponseWriter, r *http.Request, _ *mfagate.Token) error {
		q, err := readQuery(r, "at", "limit", "cursor", "format")
		if err != nil {
			return err
		}
		at, err := forecastAt(q, d)
		if err != nil {
			return err
		}
		switch q.get("format") {
		case "":
		case "csv":
			return forecastCSV(w, r, d, at)
		default:
			return mfagate.Errorf(mfagate.EINVALID, "format takes only csv; leave it out for JSON")
		}
		limit, err := q.limit()
		if err != nil {
			return err
		}
		after, err := q.cursor()
		if err != nil {
			return err
		}
		page, more, err := d.Accounts.ForecastPeople(r.Context(), at, after, limit)
		if err != nil {
			return err
		}
		reply := forecastListReply{At: apiTime(at), People: []apiForecastPerson{}}
		if more {
			reply.NextCursor = encodeCursor(page[len(page)-1].User.ID)
		}
		for _, e := range page {
			reply.People = append(reply.People, newAPIForecastPerson(e))
		}
		site.WriteJSON(w, http.StatusOK, reply)
		return nil
	}
}

func newAPIForecastPerson(e account.ForecastEntry) apiForecastPerson {
	roles := e.User.Roles
	if roles == nil {
		roles = []string{}
	}
	return apiForecastPerson{Username: e.User.Username, Email: e.User.Email, Roles: roles, Decision: e.Decision.Outcome.String(),
		LastSignInAt: apiTime(e.User.LastSignInAt), Deadline: apiTime(e.Decision.OwnDeadline()),
		ReachableByEmail: e.User.UnreachedAt.IsZero(), Why: e.Why}
}

// forecastBatch is how many people the CSV reads at a time.
const forecastBatch = 1000

func forecastCSV(w http.ResponseWriter, r *http.Request, d Deps, at time.Time) error {
	// The first page is read before anything is written, so that an error
	// still becomes a JSON error.
	page, more, err := d.Accounts.ForecastPeople(r.Context(), at, 0, forecastBatch)
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="forecast.csv"`)
	h.Set("Cache-Control", "no-store")
	cw := csv.NewWriter(w)
	cw.Write(account.ForecastColumns)
	for {
		for _, e := range page {
			cw.Write(e.Record())
		}
		if !more {
			break
		}
		if page, more, err = d.Accounts.ForecastPeople(r.Context(), at, page[len(page)-1].User.ID, forecastBatch); err != nil {
			// Too late for an error body: cut the download short so it
			// cannot pass for a complete one.
			d.Site.Logger().ErrorContext(r.Context(), "export the forecast", "err", err, "request_id", site.RequestID(w))
			cw.Flush()
			panic(http.ErrAbortHandler)
		}
	}
	cw.Flush()
	return cw.Error()
}
