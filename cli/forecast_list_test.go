package cli_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/account"
	"github.com/mfagate/mfagate/rollout"
	"github.com/mfagate/mfagate/sqlstore/sqltest"
)

// seedPhases are sqltest.SeedSchedule's phases, as configuration.
const seedPhases = `    - {name: Communication, starts: 2027-05-26, audience: [admin], requirement: notify}
    - {name: Optional, starts: 2027-06-11, audience: [admin], requirement: optional, methods: [email, totp]}
    - {name: Email required, starts: 2027-07-13, audience: [admin], requirement: required, methods: [email, totp], default_method: email}
    - {name: Full enforcement, starts: 2027-07-31, audience: [all], requirement: required, methods: [email, totp]}
`

type listedPerson struct {
	Username         string     `json:"username"`
	Decision         string     `json:"decision"`
	Deadline         *time.Time `json:"deadline"`
	ReachableByEmail bool       `json:"reachable_by_email"`
	Why              string     `json:"why"`
}

// TestForecastListAgreesWithSignIn: for a seeded organisation of 1,200
// people, "rollout simulate --list" (JSON and CSV) and GET
// /api/v1/rollout/forecast (every page, and CSV) name, at three dates,
// exactly the people sign-in's own decision would make set up or offer
// it, with that decision and deadline, on SQLite and PostgreSQL.
func TestForecastListAgreesWithSignIn(t *testing.T) {
	sqltest.EachBackend(t, func(t *testing.T, be sqltest.Backend) {
		ctx := context.Background()
		dsn := be.DSN(t)
		db := be.Open(t, dsn)
		sqltest.MustMigrate(t, db)
		sqltest.SeedPeople(t, be, dsn, db, 1200)

		cfg := install(t, "")
		text, _ := os.ReadFile(cfg)
		conf := regexp.MustCompile(`(?m)^database:\n  driver: sqlite\n  dsn: .*\n`).ReplaceAllString(string(text),
			fmt.Sprintf("database:\n  driver: %s\n  dsn: %q\n", be.Driver, dsn))
		conf += "rollout:\n  timezone: UTC\n  phases:\n" + seedPhases
		if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
			t.Fatal(err)
		}
		// Two with more time, through the command line (the store's own
		// path), so that some deadlines are their own.
		for _, name := range []string{"user0000014", "user0000049"} {
			mustRun(t, "", "rollout", "extend", name, "--until", "2027-08-15", "--reason", "on leave", "--config", cfg)
		}
		svc, err := account.New(account.Options{Store: db, Clock: mfagate.NewManualClock(time.Date(2027, 5, 1, 0, 0, 0, 0, time.UTC)),
			Key: bytes.Repeat([]byte{7}, 32), Rollout: sqltest.SeedSchedule()})
		if err != nil {
			t.Fatal(err)
		}
		var users []*mfagate.User
		factors := map[int64][]*mfagate.Factor{}
		err = db.View(ctx, func(tx mfagate.Tx) error {
			if users, err = tx.Users(mfagate.UserFilter{}); err != nil {
				return err
			}
			for _, u := range users {
				if factors[u.ID], err = tx.UserFactors(u.ID); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}

		token := mustToken(t, cfg, "forecast", "operator")
		out, _ := start(t, "serve", "--config", cfg)
		base := "http://" + out.await(t, regexp.MustCompile(`listening on (127\.0\.0\.1:\d+)`))[1]
		get := func(path string) []byte {
			t.Helper()
			req, _ := http.NewRequest("GET", base+path, nil)
			req.Header.Set("Authorization", "Bearer "+token)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			var b bytes.Buffer
			b.ReadFrom(res.Body)
			if res.StatusCode != 200 {
				t.Fatalf("GET %s: %d %s", path, res.StatusCode, b.String())
			}
			return b.Bytes()
		}

		for _, day := range []string{"2027-06-11", "2027-07-13", "2027-07-31"} {
			at, _ := time.Parse(time.DateOnly, day)
			want := map[string]account.Decision{}
			for _, u := range users {
				d := svc.DecideAt(u, factors[u.ID], at)
				if !u.Disabled && (d.Outcome == rollout.RequireEnrollment || d.Outcome == rollout.OfferEnrollment) {
					want[u.Username] = d
				}
			}
			if len(want) == 0 {
				t.Fatalf("%s: nobody to list", day)
			}
			check := func(from string, got []listedPerson) {
				t.Helper()
				seen := map[string]bool{}
				for _, p := range got {
					d, ok := want[p.Username]
					switch {
					case !ok:
						t.Errorf("%s, %s: lists %s, whom sign-in would let in or challenge", day, from, p.Username)
					case seen[p.Username]:
						t.Errorf("%s, %s: lists %s twice", day, from, p.Username)
					case p.Decision != d.Outcome.String() || (p.Deadline == nil) != d.OwnDeadline().IsZero() ||
						p.Deadline != nil && !p.Deadline.Truncate(time.Second).Equal(d.OwnDeadline().Truncate(time.Second)): // CSV and the API print seconds
						t.Errorf("%s, %s: %s is %s until %v, sign-in says %s until %v", day, from, p.Username, p.Decision, p.Deadline, d.Outcome, d.OwnDeadline())
					case p.Why == "" || strings.Contains(p.Why, "_enrollment"):
						t.Errorf("%s, %s: %s's why is %q", day, from, p.Username, p.Why)
					}
					seen[p.Username] = true
				}
				if len(seen) != len(want) {
					t.Errorf("%s, %s: lists %d people, sign-in would send %d to setup", day, from, len(seen), len(want))
				}
			}

			var cliList struct {
				People []listedPerson `json:"people"`
			}
			if err := json.Unmarshal([]byte(mustRun(t, "", "rollout", "simulate", "--at", day, "--list", "--json", "--config", cfg)), &cliList); err != nil {
				t.Fatal(err)
			}
			check("simulate --list --json", cliList.People)
			check("simulate --list --csv", csvPeople(t, mustRun(t, "", "rollout", "simulate", "--at", day, "--list", "--csv", "--config", cfg)))

			var apiList []listedPerson
			for cursor, pages := "", 0; ; pages++ {
				var page struct {
					People     []listedPerson `json:"people"`
					NextCursor string         `json:"next_cursor"`
				}
				path := "/api/v1/rollout/forecast?limit=100&at=" + day
				if cursor != "" {
					path += "&cursor=" + cursor
				}
				if err := json.Unmarshal(get(path), &page); err != nil {
					t.Fatal(err)
				}
				apiList = append(apiList, page.People...)
				if cursor = page.NextCursor; cursor == "" || pages > 50 {
					break
				}
			}
			check("the API", apiList)
			check("the API's CSV", csvPeople(t, string(get("/api/v1/rollout/forecast?format=csv&at="+day))))
		}
	})
}

// csvPeople reads the list's CSV, whose decision is in words.
func csvPeople(t *testing.T, text string) []listedPerson {
	t.Helper()
	rows, err := csv.NewReader(strings.NewReader(text)).ReadAll()
	if err != nil || len(rows) == 0 || strings.Join(rows[0], ",") != strings.Join(account.ForecastColumns, ",") {
		t.Fatalf("CSV: %v, header %v", err, rows)
	}
	var out []listedPerson
	for _, r := range rows[1:] {
		p := listedPerson{Username: r[0], Why: r[7], ReachableByEmail: r[6] == "yes"}
		switch r[3] {
		case "must set up":
			p.Decision = rollout.RequireEnrollment.String()
		case "offered setup":
			p.Decision = rollout.OfferEnrollment.String()
		default:
			t.Fatalf("CSV decision %q", r[3])
		}
		if r[5] != "" {
			d, err := time.Parse(time.RFC3339, r[5])
			if err != nil {
				t.Fatal(err)
			}
			p.Deadline = &d
		}
		out = append(out, p)
	}
	return out
}
