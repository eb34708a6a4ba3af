package cli_test

import (
	"database/sql"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"
)

func TestRolloutValidateExample(t *testing.T) {
	r := run(t, "", "rollout", "validate", "--config", "../examples/mfagate.yaml")
	if r.code != 0 || !strings.Contains(r.stdout, "The rollout is valid: 4 phases") || r.stderr != "" {
		t.Fatalf("got %d %q %q, want the example valid, with no warning", r.code, r.stdout, r.stderr)
	}
}

// TestRolloutValidateWarns: a required phase its people hear of a day
// ahead is allowed, with a warning on stderr and exit status 0.
func TestRolloutValidateWarns(t *testing.T) {
	cfg := withPhases(t, "UTC", `    - {name: Sudden, starts: 2027-07-13, audience: [all], requirement: required, methods: [email], reminders: [1d]}
`)
	r := run(t, "", "rollout", "validate", "--config", cfg)
	want := `Warning: phase 1 ("Sudden"): its audience first hears of it 1 day before it starts`
	if r.code != 0 || !strings.Contains(r.stdout, "The rollout is valid") || !strings.HasPrefix(r.stderr, want) {
		t.Fatalf("got %d %q %q, want valid with the warning %q", r.code, r.stdout, r.stderr, want)
	}
}

// withPhases writes a configuration whose rollout is phases (YAML) and
// returns its path.
func withPhases(tb testing.TB, tz, phases string) string {
	tb.Helper()
	cfg := install(tb, "")
	data, _ := os.ReadFile(cfg)
	text := string(data) + "rollout:\n  timezone: " + tz + "\n  phases:\n" + phases
	if err := os.WriteFile(cfg, []byte(text), 0o600); err != nil {
		tb.Fatal(err)
	}
	return cfg
}

func TestRolloutValidateNamesThePhase(t *testing.T) {
	const good = `    - {name: Optional, starts: 2027-06-11, audience: [admin], requirement: optional, methods: [email, totp]}
`
	tests := []struct {
		name, tz, phases, want string
	}{
		{"out of order", "UTC", good + `    - {name: Earlier, starts: 2027-06-01, audience: [admin], requirement: required, methods: [email]}
`, `phase 2 ("Earlier")`},
		{"unknown method", "UTC", `    - {name: Sms, starts: 2027-06-11, audience: [admin], requirement: required, methods: [sms]}
`, `"sms"`},
		{"empty audience", "UTC", `    - {name: Nobody, starts: 2027-06-11, audience: [], requirement: optional, methods: [email]}
`, `"Nobody"`},
		{"bad timezone", "Mars/Olympus", good, "Mars/Olympus"},
		{"default method not offered", "UTC", `    - {name: Apps only, starts: 2027-06-11, audience: [admin], requirement: required, methods: [totp], default_method: email}
`, `"Apps only"`},
		{"reminder after the phase", "UTC", `    - {name: Late, starts: 2027-06-11, audience: [admin], requirement: required, methods: [email], reminders: [-1d]}
`, `"Late"`},
		{"required without methods", "UTC", `    - {name: Bare, starts: 2027-06-11, audience: [admin], requirement: required}
`, `"Bare"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := withPhases(t, tt.tz, tt.phases)
			r := run(t, "", "rollout", "validate", "--config", cfg)
			if r.code == 0 || !containsFold(r.stderr, tt.want) {
				t.Fatalf("got %d %q, want a failure naming %s", r.code, r.stderr, tt.want)
			}
			if strings.Count(strings.TrimSpace(r.stderr), "\n") > 0 {
				t.Fatalf("the error is more than one line: %q", r.stderr)
			}
		})
	}
}

const specPhases = `    - name: Communication
      starts: 2027-05-26
      audience: [admin]
      requirement: notify
      notice: {subject: "MFA is coming", body: "Sign-in is getting a second step."}
    - {name: Optional enrollment, starts: 2027-06-11, audience: [admin], requirement: optional, methods: [email, totp]}
    - {name: Email verification required, starts: 2027-07-13, audience: [admin], requirement: required, methods: [email, totp], default_method: email, reminders: [7d, 1d]}
    - {name: Full enforcement, starts: 2027-07-31, audience: [all], requirement: required, methods: [email, totp], reminders: [7d, 1d]}
`

func TestRolloutShowSimulateExtendRunDue(t *testing.T) {
	cfg := withPhases(t, "Europe/London", specPhases)
	for _, u := range []struct{ name, roles string }{{"ada", "admin"}, {"bob", "admin"}, {"uma", "user"}} {
		if r := run(t, "", "user", "add", u.name, "--email", u.name+"@example.com", "--roles", u.roles, "--no-password", "--config", cfg); r.code != 0 {
			t.Fatal(r.stderr)
		}
	}
	show := run(t, "", "rollout", "show", "--at", "2027-07-01", "--config", cfg)
	if show.code != 0 || !strings.Contains(show.stdout, "✓") || !strings.Contains(show.stdout, "→") ||
		!strings.Contains(show.stdout, "2027-07-13 00:00  Email verification required") ||
		!strings.Contains(show.stdout, "; reminders 7 days, 1 day before") {
		t.Fatalf("show: got %d\n%s%s", show.code, show.stdout, show.stderr)
	}
	var timeline struct {
		Phases []struct {
			Name    string `json:"name"`
			Started bool   `json:"started"`
		} `json:"phases"`
	}
	js := run(t, "", "rollout", "show", "--at", "2027-07-01", "--json", "--config", cfg)
	if err := json.Unmarshal([]byte(js.stdout), &timeline); err != nil || len(timeline.Phases) != 4 || !timeline.Phases[1].Started || timeline.Phases[2].Started {
		t.Fatalf("show --json: got %v %+v", err, timeline)
	}

	var sum struct {
		Total      int            `json:"total"`
		ByDecision map[string]int `json:"by_decision"`
		Next       struct {
			Phase  string `json:"phase"`
			Forced int    `json:"forced_to_enroll"`
			Never  int    `json:"forced_never_signed_in"`
		} `json:"next"`
	}
	sim := run(t, "", "rollout", "simulate", "--at", "2027-07-13", "--json", "--config", cfg)
	if err := json.Unmarshal([]byte(sim.stdout), &sum); err != nil {
		t.Fatalf("simulate --json: %v\n%s%s", err, sim.stdout, sim.stderr)
	}
	if sum.Total != 3 || sum.ByDecision["require_enrollment"] != 2 || sum.ByDecision["allow"] != 1 ||
		sum.Next.Phase != "Full enforcement" || sum.Next.Forced != 1 || sum.Next.Never != 1 {
		t.Fatalf("simulate at 13 July: got %+v, want 2 admins forced now and uma at the next phase", sum)
	}
	text := run(t, "", "rollout", "simulate", "--at", "2027-07-13", "--config", cfg)
	if !strings.Contains(text.stdout, "      2 must set up a second factor") || !strings.Contains(text.stdout, "      1 signs in with the password alone") ||
		!strings.Contains(text.stdout, `Next: "Full enforcement" on 31 July 2027: 1 more will have to set up a second factor, 1 of them has never signed in.`) {
		t.Fatalf("simulate text:\n%s", text.stdout)
	}
	one := run(t, "", "rollout", "simulate", "--at", "2027-07-13", "--user", "ada", "--config", cfg)
	// People read the text output: words, never the identifiers that
	// --json keeps for programs.
	for _, out := range []string{text.stdout, one.stdout} {
		for _, id := range []string{"require_enrollment", "offer_enrollment", "allow", "challenge", "1 are", "1 have"} {
			if strings.Contains(out, id) {
				t.Errorf("simulate's text output shows %q:\n%s", id, out)
			}
		}
	}
	if one.code != 0 || !strings.Contains(one.stdout, "ada must set up a second factor.") || !strings.Contains(one.stdout, `phase "Email verification required" (required at every sign-in`) {
		t.Fatalf("simulate --user: got %d\n%s%s", one.code, one.stdout, one.stderr)
	}

	if r := run(t, "", "rollout", "extend", "bob", "--until", "2027-08-15", "--reason", "on leave", "--config", cfg); r.code != 0 {
		t.Fatalf("extend: %d %q", r.code, r.stderr)
	}
	one = run(t, "", "rollout", "simulate", "--at", "2027-07-13", "--user", "bob", "--config", cfg)
	if !strings.Contains(one.stdout, "bob is offered setup (may skip).") || !strings.Contains(one.stdout, "extension") || strings.Contains(one.stdout, "offer_enrollment") {
		t.Fatalf("simulate bob after the extension:\n%s", one.stdout)
	}
	if r := run(t, "", "rollout", "extend", "bob", "--until", "2027-08-15", "--config", cfg); r.code != 2 {
		t.Fatalf("extend without a reason: got %d, want 2", r.code)
	}
	// The zero time would read as "none" and remove the extension.
	if r := run(t, "", "rollout", "extend", "bob", "--until", "0001-01-01T00:00:00Z", "--reason", "typo", "--config", cfg); r.code != 2 || !strings.Contains(r.stderr, "before 1970") {
		t.Fatalf("extend until the zero time: got %d %q, want 2 and before 1970", r.code, r.stderr)
	}

	due := run(t, "", "rollout", "run-due", "--config", cfg)
	if due.code != 0 || !strings.Contains(due.stdout, "Queued") {
		t.Fatalf("run-due: got %d %q %q", due.code, due.stdout, due.stderr)
	}
	if r := run(t, "", "serve", "--clock", "2027-07-13", "--config", cfg); r.code != 2 || !containsFold(r.stderr, "--rehearsal") {
		t.Fatalf("--clock without --rehearsal: got %d %q, want 2", r.code, r.stderr)
	}
}

// TestRolloutRecountFindsAndRepairsWrongCounts: the counts agree after
// ordinary changes; made wrong behind mfagate's back (a hand-written
// change to the database), recount says which group and fails, and
// --fix repairs them, after which the forecast is right again.
func TestRolloutRecountFindsAndRepairsWrongCounts(t *testing.T) {
	cfg := withPhases(t, "Europe/London", specPhases)
	for _, u := range []struct{ name, roles string }{{"ada", "admin"}, {"bob", "admin"}, {"uma", "user"}} {
		mustRun(t, "", "user", "add", u.name, "--email", u.name+"@example.com", "--roles", u.roles, "--no-password", "--config", cfg)
	}
	if out := mustRun(t, "", "rollout", "recount", "--config", cfg); !strings.Contains(out, "agree with the accounts") {
		t.Fatalf("recount of right counts: %q", out)
	}
	db, err := sql.Open("sqlite", dbPath(cfg))
	if err != nil {
		t.Fatal(err)
	}
	_, err = db.Exec(`UPDATE rollout_groups SET people = people + 5
		WHERE rowid = (SELECT MIN(rowid) FROM rollout_groups WHERE roles = 'admin')`)
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	bad := run(t, "", "rollout", "recount", "--config", cfg)
	if bad.code == 0 || !strings.Contains(bad.stdout, "People with roles admin; no factor; never signed in: counted 7, recounted 2") ||
		!strings.Contains(bad.stderr, `counts the dashboard and the forecast read are wrong for 1 group; run "mfagate rollout recount --fix"`) {
		t.Fatalf("recount of wrong counts: got %d\n%s%s", bad.code, bad.stdout, bad.stderr)
	}
	if out := mustRun(t, "", "rollout", "recount", "--fix", "--config", cfg); !strings.Contains(out, "Repaired") {
		t.Fatalf("recount --fix: %q", out)
	}
	mustRun(t, "", "rollout", "recount", "--config", cfg)
	sim := mustRun(t, "", "rollout", "simulate", "--at", "2027-07-13", "--config", cfg)
	if !strings.Contains(sim, "      2 must set up a second factor") {
		t.Fatalf("simulate after the repair:\n%s", sim)
	}
}

// TestRolloutShowPacing: show says each phase's pacing in words, and
// --json gives its settings.
func TestRolloutShowPacing(t *testing.T) {
	r := run(t, "", "rollout", "show", "--config", "../examples/mfagate.yaml", "--at", "2027-06-01")
	for _, want := range []string{"3 skips, then required; asked again 1 day after a skip",
		"each person has 14 days from their first sign-in, until 30 September 2027 at the latest"} {
		if r.code != 0 || !strings.Contains(r.stdout, want) {
			t.Errorf("rollout show: got %d %q, want it to say %q", r.code, r.stdout, want)
		}
	}
	r = run(t, "", "rollout", "show", "--config", "../examples/mfagate.yaml", "--json")
	var out struct {
		Phases []struct {
			Name       string    `json:"name"`
			Grace      string    `json:"grace"`
			GraceUntil time.Time `json:"grace_until"`
			MaxSkips   int       `json:"max_skips"`
			Then       string    `json:"then"`
		} `json:"phases"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || len(out.Phases) != 4 {
		t.Fatalf("rollout show --json: %v\n%s", err, r.stdout)
	}
	if p := out.Phases[1]; p.MaxSkips != 3 || p.Then != "required" {
		t.Errorf("optional enrollment in JSON: got %+v", p)
	}
	if p := out.Phases[3]; p.Grace != "14d" || p.GraceUntil.UTC().Format(time.RFC3339) != "2027-09-30T23:00:00Z" {
		t.Errorf("full enforcement in JSON: got %+v, want grace 14d until the end of 30 September (London)", p)
	}
}

// TestRolloutExtendNamesTheDayGiven: "--until 2027-07-20" lets the person
// in without a second factor through the whole of 20 July in the
// rollout's zone, and the command's output, the email and the simulation
// all name 20 July, never the day after. New York, behind UTC, catches a
// day written in UTC.
func TestRolloutExtendNamesTheDayGiven(t *testing.T) {
	cfg := withPhases(t, "America/New_York", specPhases)
	mustRun(t, "", "user", "add", "bob", "--email", "bob@example.com", "--roles", "admin", "--no-password", "--config", cfg)
	out := mustRun(t, "", "rollout", "extend", "bob", "--until", "2027-07-20", "--reason", "on leave", "--config", cfg)
	if !strings.Contains(out, "20 July 2027") || strings.Contains(out, "21 July") {
		t.Errorf("extend says %q, want 20 July 2027 and not 21 July", out)
	}
	db := openSQLite(t, dbPath(cfg))
	var until int64
	var body string
	if err := db.QueryRow(`SELECT extended_until FROM users WHERE username = 'bob'`).Scan(&until); err != nil {
		t.Fatal(err)
	}
	ny, _ := time.LoadLocation("America/New_York")
	if got, want := time.UnixMilli(until).In(ny), time.Date(2027, 7, 20, 23, 59, 59, 999e6, ny); !got.Equal(want) {
		t.Errorf("stored until %v, want %v, the last moment of 20 July", got, want)
	}
	if err := db.QueryRow(`SELECT body_text FROM mail_outbox WHERE to_addr = 'bob@example.com' AND subject LIKE '%more time%'`).Scan(&body); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(body, "20 July 2027") || strings.Contains(body, "21 July") {
		t.Errorf("the email says:\n%s\nwant 20 July 2027 and not 21 July", body)
	}
	sim := mustRun(t, "", "rollout", "simulate", "--at", "2027-07-20T23:59:00-04:00", "--user", "bob", "--config", cfg)
	if !strings.Contains(sim, "bob is offered setup (may skip).") || !strings.Contains(sim, "until 20 July 2027") || strings.Contains(sim, "21 July") {
		t.Errorf("simulate late on 20 July:\n%s", sim)
	}
	if sim := mustRun(t, "", "rollout", "simulate", "--at", "2027-07-21", "--user", "bob", "--config", cfg); !strings.Contains(sim, "bob must set up a second factor.") {
		t.Errorf("simulate on 21 July:\n%s", sim)
	}
}
