package console

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/account"
	"github.com/mfagate/mfagate/rollout"
	"github.com/mfagate/mfagate/web/internal/site"
)

// The forecast list (GET /admin/forecast?at=DATE): who, on a day, would
// have to set up security codes or be offered setup, each as sign-in
// would decide (account.Service.ForecastPeople). Read-only, under the
// dashboard, so operators may open it as well as support.

const forecastPage = 100

type forecastListView struct {
	consolePage
	When      string // "13 July 2027"
	People    []forecastPersonRow
	Forced    int // on this page
	Offered   int
	NextPage  string
	FirstPage string
}

type forecastPersonRow struct {
	Username, Roles, Decision, LastSignIn, Deadline, Email, Why string
	Link                                                        string // the person's page, for those who may see it
}

// ForecastList is the forecast list page.
func ForecastList(d Deps) site.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		q := r.URL.Query()
		for k := range q {
			if k != "at" && k != "after" {
				return mfagate.Errorf(mfagate.EINVALID, "Unknown parameter %q: this page takes at and after", site.Clip(k))
			}
		}
		loc := d.Site.RolloutLoc()
		at := d.Accounts.RolloutNow()
		if s := q.Get("at"); s != "" {
			day, err := time.Parse(time.DateOnly, s)
			switch {
			case err == nil && day.Year() >= 1970:
				at = rollout.StartOfDay(day, loc)
			default:
				if at, err = time.Parse(time.RFC3339, s); err != nil || at.UTC().Year() < 1970 {
					return mfagate.Errorf(mfagate.EINVALID, "Give the day as a date such as 2027-07-13")
				}
			}
		}
		var after int64
		if s := q.Get("after"); s != "" {
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil || n < 1 {
				return mfagate.Errorf(mfagate.EINVALID, "This page link is damaged: go back to the first page")
			}
			after = n
		}
		page, more, err := d.Accounts.ForecastPeople(r.Context(), at, after, forecastPage)
		if err != nil {
			return err
		}
		when := at.In(loc).Format("2 January 2006")
		if !rollout.StartOfDay(at.In(loc), loc).Equal(at) {
			when = at.In(loc).Format("2 January 2006 at 15:04 MST")
		}
		v := forecastListView{consolePage: newConsolePage(d.Site, r, "Who must set up security codes on "+when, AreaDashboard), When: when}
		people := mayUse(v.User, AreaPeople)
		for _, e := range page {
			v.People = append(v.People, newForecastPersonRow(d.Site, e, people))
			if e.Forced() {
				v.Forced++
			} else {
				v.Offered++
			}
		}
		base := url.Values{"at": {q.Get("at")}}
		if q.Get("at") == "" {
			base.Del("at")
		}
		if more {
			next := url.Values{"after": {strconv.FormatInt(page[len(page)-1].User.ID, 10)}}
			for k, vs := range base {
				next[k] = vs
			}
			v.NextPage = "/admin/forecast?" + next.Encode()
		}
		if after > 0 {
			v.FirstPage = "/admin/forecast"
			if len(base) > 0 {
				v.FirstPage += "?" + base.Encode()
			}
		}
		return d.Site.Render(w, r, http.StatusOK, "admin_forecast", v)
	}
}

func newForecastPersonRow(st *site.Site, e account.ForecastEntry, link bool) forecastPersonRow {
	loc := st.RolloutLoc()
	row := forecastPersonRow{Username: e.User.Username, Roles: strings.Join(e.User.Roles, ", "), Decision: "Must set up",
		LastSignIn: "Never", Deadline: "None", Email: "Reaches them", Why: e.Why}
	if !e.Forced() {
		row.Decision = "Offered setup"
	}
	if !e.User.LastSignInAt.IsZero() {
		row.LastSignIn = e.User.LastSignInAt.In(loc).Format("2 January 2006")
	}
	if dl := e.Decision.OwnDeadline(); !dl.IsZero() {
		row.Deadline = dl.In(loc).Format("2 January 2006 15:04")
	}
	if !e.User.UnreachedAt.IsZero() {
		row.Email = "Cannot be reached"
	}
	if link {
		row.Link = "/admin/people/" + url.PathEscape(e.User.Username)
	}
	return row
}
