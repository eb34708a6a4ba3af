package console

import (
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path"
	"strings"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/account"
	"github.com/mfagate/mfagate/rollout"
	"github.com/mfagate/mfagate/web/internal/site"
	"github.com/mfagate/mfagate/web/webtest"
)

func filled[V any](n int, on bool) V {
	var v V
	webtest.Fill(&v, n, on, "Sample words")
	return v
}

// say is what a count of n reads as: "1 person", "2 people".
func say(n int, noun [2]string) string {
	if n == 1 {
		return "1 " + noun[0]
	}
	return fmt.Sprintf("%d %s", n, noun[1])
}

// TestConsolePagesRenderedWithCountsSayThemInWords draws every console
// page with 0, 1 and 2 of each thing it counts and every switch on and
// off, in the shared layout as web draws it, and holds what people read
// to plain words: no name from the code, every count agreeing with its
// noun. Where the handler writes a count into a string, the string comes
// from the handler's own function.
func TestConsolePagesRenderedWithCountsSayThemInWords(t *testing.T) {
	base, _ := url.Parse("https://mfa.example.com")
	st, err := site.New(site.Config{Templates: os.DirFS(".."), MorePages: []fs.FS{Templates}, BaseURL: base})
	if err != nil {
		t.Fatal(err)
	}
	methods := func(n int) []string { return []string{mfagate.MethodEmail, mfagate.MethodTOTP}[:min(n, 2)] }
	phases := func(n int, on bool) account.Timeline {
		tl := account.Timeline{At: webtest.FillTime, Location: time.UTC}
		for i := range n {
			ph := filled[rollout.Phase](n, on)
			ph.Start = webtest.FillTime.Add(time.Duration(n+i) * 24 * time.Hour)
			tl.Phases = append(tl.Phases, account.TimelinePhase{Phase: &ph, Started: on && i == 0, InForceFor: []string{"all", mfagate.RoleAdmin}[:n-i-1]})
		}
		return tl
	}

	cases := []struct {
		page   string
		view   func(n int, on bool) any
		counts [][2]string
		from   int // the least count the page says in words (0 may read "none")
	}{
		{page: "admin_add_person", view: func(n int, on bool) any { return filled[addPersonView](n, on) }},
		{page: "admin_audit", view: func(n int, on bool) any { return filled[auditView](n, on) }},
		{page: "admin_confirm", view: func(n int, on bool) any {
			v := filled[confirmView](n, on)
			v.Factors = nil
			for _, m := range methods(n) {
				v.Factors = append(v.Factors, mfagate.MethodName(m))
			}
			return v
		}, counts: [][2]string{{"unused recovery code", "unused recovery codes"}}, from: 1},
		{page: "admin_dashboard", view: func(n int, on bool) any {
			v := filled[dashboardView](n, on)
			v.Timeline, v.Next = timeline(st, phases(n, on))
			v.Progress = nil
			for range n {
				v.Progress = append(v.Progress, newProgressRow(&mfagate.ProgressRow{Role: mfagate.RoleUser, Total: n, Email: n, None: n - 1}))
			}
			counts := map[string]int{"": n}
			for i := range n {
				counts[[]string{mfagate.RoleUser, mfagate.RoleAdmin}[i]] = n
			}
			v.Unreached = newUnreachedView(counts, on)
			sum := filled[rollout.Summary](n, on)
			if !on {
				sum.Next = nil
			}
			v.Forecast = newForecastView(st, sum, webtest.FillTime)
			for range n {
				v.Phases = append(v.Phases, filled[phaseForecastRow](n, on))
			}
			v.Access = accessMatrix()
			return v
		}, counts: [][2]string{{"person", "people"}}},
		{page: "admin_forecast", view: func(n int, on bool) any {
			v := filled[forecastListView](n, on)
			v.Forced, v.Offered = n, n
			return v
		}, counts: [][2]string{{"must set up", "must set up"}}},
		{page: "admin_people", view: func(n int, on bool) any {
			v := filled[peopleView](n, on)
			for i := range v.People {
				u := filled[mfagate.User](n, on)
				v.People[i].Tags = statusTags(&u, methods(i), on)
			}
			return v
		}},
		{page: "admin_person", view: func(n int, on bool) any {
			v := filled[personView](n, on)
			if on && n == 0 { // 0 recovery codes left is said only beside a factor
				v.Factors = filled[personView](1, on).Factors
			}
			v.Tags = statusTags(v.Person, methods(n), on)
			outcome := []rollout.Outcome{rollout.Allow, rollout.OfferEnrollment, rollout.RequireEnrollment}[n]
			v.Today = decisionText(st, account.Decision{Outcome: outcome, Methods: methods(n)})
			v.AtNext = decisionText(st, account.Decision{Outcome: rollout.Challenge, Methods: methods(n)})
			return v
		}, counts: [][2]string{{"unused recovery code", "unused recovery codes"}}},
	}

	covered := map[string]bool{}
	for _, c := range cases {
		covered[c.page] = true
	}
	files, err := fs.Glob(Templates, "templates/*.html")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if name := strings.TrimSuffix(path.Base(f), ".html"); !strings.HasPrefix(name, "_") && !covered[name] {
			t.Errorf("%s has no case here: add one, so that its words are checked", f)
		}
	}

	for _, c := range cases {
		t.Run(c.page, func(t *testing.T) {
			seen := map[string]bool{}
			for _, on := range []bool{false, true} {
				var texts [3]string
				for n := range 3 {
					rec := httptest.NewRecorder()
					if err := st.Render(rec, httptest.NewRequest("GET", "/", nil), http.StatusOK, c.page, c.view(n, on)); err != nil {
						t.Fatalf("n=%d on=%v: %v", n, on, err)
					}
					texts[n] = webtest.VisibleText(rec.Body.String())
					for _, p := range webtest.WordProblems(texts[n]) {
						t.Errorf("n=%d on=%v: %s in:\n%s", n, on, p, texts[n])
					}
					for _, noun := range c.counts {
						seen[say(n, noun)] = seen[say(n, noun)] || strings.Contains(texts[n], say(n, noun))
					}
				}
				if texts[1] == texts[2] {
					t.Errorf("on=%v: the page reads the same for 1 and 2 of everything: the filled view does not reach it", on)
				}
			}
			for _, noun := range c.counts {
				for n := c.from; n < 3; n++ {
					if !seen[say(n, noun)] {
						t.Errorf("the page never says %q when it counts %d", say(n, noun), n)
					}
				}
			}
		})
	}
}
