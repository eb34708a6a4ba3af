package web_test

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/account"
	"github.com/mfagate/mfagate/rollout"
)

// seeded is what the test seeded for one person, to count by hand.
type seeded struct {
	roles    []string
	methods  []string
	skips    int
	signedIn bool
	disabled bool
	invited  bool // invited, not accepted
}

// seedPeople imports n people in a spread of states: every mix of role,
// method, skips, signing in and being disabled.
func seedPeople(tb testing.TB, h *harness, n int) map[string]seeded {
	tb.Helper()
	ctx := context.Background()
	roleSets := [][]string{{"admin"}, {"user"}, {"admin", "user"}}
	var rows []account.ImportRow
	plan := map[string]seeded{}
	for i := range n {
		name := fmt.Sprintf("p%03d", i)
		p := seeded{roles: roleSets[i%3]}
		switch i % 7 {
		case 0:
			p.methods = []string{mfagate.MethodEmail}
		case 1:
			p.methods = []string{mfagate.MethodTOTP}
		case 2:
			p.methods = []string{mfagate.MethodEmail, mfagate.MethodTOTP}
		case 3:
			p.skips = 1 + i%3
		case 4: // never signed in, nothing set up
		case 5:
			p.skips = 1 // skipped without ever finishing a sign-in: counted both ways
		case 6:
			p.disabled, p.methods = true, []string{mfagate.MethodEmail}
		}
		p.signedIn = i%7 != 4 && i%7 != 5 && i%5 != 0
		p.invited = i%7 == 4 && i%2 == 0
		plan[name] = p
		rows = append(rows, account.ImportRow{Line: i + 2, NewUser: account.NewUser{
			Username: name, Email: name + "@example.com", Name: "Person " + name, Roles: p.roles, Invite: p.invited}})
	}
	if _, err := h.accounts.ImportUsers(ctx, account.Actor{Name: "test"}, rows); err != nil {
		tb.Fatal(err)
	}
	err := h.store.Update(ctx, func(tx mfagate.Tx) error {
		for name, p := range plan {
			u, err := tx.UserByUsername(name)
			if err != nil {
				return err
			}
			for _, m := range p.methods {
				f := &mfagate.Factor{UserID: u.ID, Method: m, CreatedAt: h.clock.Now()}
				if m == mfagate.MethodTOTP {
					f.Secret = []byte("not a real sealed secret")
				}
				if err := tx.CreateFactor(f); err != nil {
					return err
				}
			}
			for range p.skips {
				if err := tx.RecordSkip(u.ID, h.clock.Now()); err != nil {
					return err
				}
			}
			if p.signedIn || p.disabled {
				if p.signedIn {
					u.LastSignInAt = h.clock.Now().Add(-time.Hour)
				}
				u.Disabled = p.disabled
				if err := tx.UpdateUser(u); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return plan
}

// countByHand counts the progress row of role from the seeding plan:
// people, email only, app only, both, none, skipped, never signed in.
func countByHand(plan map[string]seeded, role string) [8]int {
	var c [8]int
	for _, p := range plan {
		if p.disabled || !slices.Contains(p.roles, role) {
			continue
		}
		c[0]++
		if p.invited {
			c[7]++
		}
		email, app := slices.Contains(p.methods, mfagate.MethodEmail), slices.Contains(p.methods, mfagate.MethodTOTP)
		switch {
		case email && app:
			c[3]++
		case email:
			c[1]++
		case app:
			c[2]++
		default:
			c[4]++
			if p.skips > 0 {
				c[5]++
			}
			if !p.signedIn {
				c[6]++
			}
		}
	}
	return c
}

var numCellRE = regexp.MustCompile(`<td class="num"[^>]*>(\d+)`)

// progressCells reads one role's row of the progress table.
func progressCells(tb testing.TB, page, role string) [8]int {
	tb.Helper()
	row := between(page, `<th scope="row">`+role+`</th>`, "</tr>")
	cells := numCellRE.FindAllStringSubmatch(row, -1)
	if len(cells) != 8 {
		tb.Fatalf("row %s: got %d number cells, want 8:\n%s", role, len(cells), row)
	}
	var got [8]int
	for i, c := range cells {
		got[i], _ = strconv.Atoi(c[1])
	}
	return got
}

func withRollout(r *rollout.Rollout) harnessOption {
	return func(o *harnessConfig) { o.Account.Rollout = r }
}

func TestDashboardCountsMatchTheAccounts(t *testing.T) {
	r := plan(t)
	h := newRolloutHarness(t, time.Date(2027, 6, 20, 9, 0, 0, 0, time.UTC), withRollout(r))
	people := seedPeople(t, h, 350)
	// The harness's own accounts: alice (user) and ada (admin) have done
	// nothing yet.
	people["alice"] = seeded{roles: []string{"user"}}
	people["ada"] = seeded{roles: []string{"admin"}}
	c := h.staff(t, "olga", "operator")

	// Rollout emails so far.
	err := h.store.Update(context.Background(), func(tx mfagate.Tx) error {
		for i, status := range []string{"sent", "sent", "pending"} {
			m := &mfagate.Message{To: fmt.Sprintf("p%03d@example.com", i), Subject: "Notice", Text: "Hello",
				CreatedAt: h.clock.Now(), Campaign: "notice/Optional enrollment"}
			if err := tx.EnqueueMail(m); err != nil {
				return err
			}
			if status == "sent" {
				if err := tx.MarkMailSent(m.ID, h.clock.Now()); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	res := h.get(t, c, "/admin")
	if res.StatusCode != 200 {
		t.Fatalf("dashboard: got %d", res.StatusCode)
	}
	page := res.body
	for _, role := range []string{"admin", "user"} {
		if got, want := progressCells(t, page, role), countByHand(people, role); got != want {
			t.Errorf("%s row: got %v, want %v (people, email, app, both, none, skipped, never signed in, invited)", role, got, want)
		}
	}

	// The forecast, counted by hand: at 13 July, admins without a factor
	// must set up.
	forced, never, invited := 0, 0, 0
	for _, p := range people {
		if !p.disabled && slices.Contains(p.roles, "admin") && len(p.methods) == 0 {
			forced++
			if !p.signedIn {
				never++
			}
			if p.invited {
				invited++
			}
		}
	}
	if want := fmt.Sprintf("<strong>%d</strong> of them have not accepted their invitations yet", invited); invited < 2 || !strings.Contains(page, want) {
		t.Errorf("the forecast does not say %q (%d invited)", want, invited)
	}
	want := fmt.Sprintf("When <strong>Email verification required</strong> starts on 13 July 2027, <strong>%d</strong> people will be forced to set up security codes (%d of them have never signed in).", forced, never)
	if !strings.Contains(page, want) {
		t.Errorf("the forecast does not say %q:\n%s", want, between(page, `id="forecast"`, `id="campaigns"`))
	}
	if !strings.Contains(page, "As of 10:00.") {
		t.Error("the forecast does not say when it was made, in London time")
	}

	for _, s := range []string{
		"Next: Email verification required starts on 13 July 2027, in 23 days.",
		"In force for administrators",
		`<th scope="row">Notice: Optional enrollment</th><td class="num" data-label="Queued">1</td><td class="num" data-label="Sent">2</td><td class="num" data-label="Failed">0</td>`,
		`role="img" aria-labelledby="chart-title chart-desc"`,
	} {
		if !strings.Contains(page, s) {
			t.Errorf("the dashboard does not contain %q", s)
		}
	}
	desc := between(page, `<desc id="chart-desc">`, "</desc>")
	admin := countByHand(people, "admin")
	if !strings.Contains(desc, fmt.Sprintf("admin, %d people: both methods %d", admin[0], admin[3])) {
		t.Errorf("the chart's description does not summarise the admin bar: %q", desc)
	}
	if strings.Contains(page, " style=") || strings.Contains(page, "<script>") {
		t.Error("the dashboard has inline style or script")
	}

	// Nothing is kept between views: a new admin shows in the very next
	// forecast, made at that view.
	h.mustUser(t, "late", pw, "admin")
	h.clock.Advance(time.Minute)
	page = h.get(t, c, "/admin").body
	if !strings.Contains(page, fmt.Sprintf("<strong>%d</strong> people will be forced", forced+1)) || !strings.Contains(page, "As of 10:01.") {
		t.Error("the next view's forecast does not count the new admin, made at that view")
	}
}

func TestDashboardWithoutRollout(t *testing.T) {
	h := newHarness(t)
	c := h.staff(t, "sam", "support")
	page := h.get(t, c, "/admin").body
	for _, s := range []string{"No rollout is configured", "No phase is scheduled after today", "No rollout emails have been sent yet"} {
		if !strings.Contains(page, s) {
			t.Errorf("the dashboard does not say %q", s)
		}
	}
}

func TestTimelineMarksThePhasesInForce(t *testing.T) {
	tests := []struct {
		name string
		at   time.Time
		want []string
	}{
		{"before the rollout", time.Date(2027, 5, 25, 12, 0, 0, 0, time.UTC),
			[]string{"Next: Communication starts on 26 May 2027, tomorrow.", "Next, tomorrow", "Upcoming, in 67 days"}},
		{"the day email becomes required", time.Date(2027, 7, 13, 8, 0, 0, 0, time.UTC),
			[]string{"<strong class=\"tag tag-active\">In force for administrators</strong>", "Started; a later phase now applies to the same people", "Next: Full enforcement starts on 31 July 2027, in 18 days."}},
		{"full enforcement", time.Date(2027, 8, 1, 8, 0, 0, 0, time.UTC),
			[]string{"<strong class=\"tag tag-active\">In force for everyone</strong>", "Every phase has started"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newRolloutHarness(t, tt.at, withRollout(plan(t)))
			c := h.staff(t, "olga", "operator")
			page := between(h.get(t, c, "/admin").body, `id="timeline"`, `id="progress"`)
			for _, s := range tt.want {
				if !strings.Contains(page, s) {
					t.Errorf("the timeline does not contain %q:\n%s", s, page)
				}
			}
			if n := strings.Count(page, "timeline-active"); tt.name != "before the rollout" && n != 1 {
				t.Errorf("got %d phases marked in force, want 1", n)
			}
		})
	}
}

// TestDashboardForecastsEveryPhase: on the day of the notice the next
// phase (optional) forces nobody, but the dashboard counts each phase to
// come, and links to who they are, a list operators may open.
func TestDashboardForecastsEveryPhase(t *testing.T) {
	h := newRolloutHarness(t, time.Date(2027, 5, 26, 9, 0, 0, 0, time.UTC), withRollout(plan(t)))
	c := h.staff(t, "olga", "operator")
	body := h.get(t, c, "/admin").body
	table := body[strings.Index(body, `id="phase-forecast"`):]
	table = table[:strings.Index(table, "</table>")]
	for _, want := range []string{"Optional enrollment", "Email verification required", "Full enforcement",
		`href="/admin/forecast?at=2027-07-13"`, `href="/admin/forecast?at=2027-07-31"`, `data-label="Newly forced"`} {
		if !strings.Contains(table, want) {
			t.Errorf("the per-phase forecast lacks %q:\n%s", want, table)
		}
	}
	// ada (admin) is forced on 13 July; alice (user) on 31 July.
	row := table[strings.Index(table, "Email verification required"):]
	if !strings.Contains(row[:strings.Index(row, "</tr>")], `data-label="Newly forced">1<`) {
		t.Errorf("13 July row: %s", row[:strings.Index(row, "</tr>")])
	}
	list := h.get(t, c, "/admin/forecast?at=2027-07-13")
	if list.StatusCode != 200 || !strings.Contains(list.body, "Who must set up security codes on 13 July 2027") ||
		!strings.Contains(list.body, ">ada<") || strings.Contains(list.body, ">alice<") || !strings.Contains(list.body, `class="table table-cards"`) {
		t.Fatalf("forecast list: %d\n%s", list.StatusCode, list.body)
	}
	if strings.Contains(list.body, "require_enrollment") || strings.Contains(list.body, `href="/admin/people/ada"`) {
		t.Errorf("the list shows an identifier, or an operator a link to a person's page")
	}
}
