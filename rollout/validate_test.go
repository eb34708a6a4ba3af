package rollout_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/rollout"
)

func TestValidate(t *testing.T) {
	const p2, p3, p4 = `phase 2 ("Optional enrollment")`, `phase 3 ("Email verification required")`, `phase 4 ("Full enforcement")`
	tests := []struct {
		name   string
		change func(r *rollout.Rollout)
		want   string // the whole message; "" for valid
	}{
		{"the SPEC schedule", func(r *rollout.Rollout) {}, ""},
		{"no phases: MFA off unless enrolled", func(r *rollout.Rollout) { r.Phases = nil }, ""},
		{"all mixed with roles", func(r *rollout.Rollout) { r.Phases[3].Audience = []string{"all", "admin"} }, ""},
		{"a reminder before the previous phase's start", func(r *rollout.Rollout) { r.Phases[2].Reminders = []time.Duration{60 * day} }, ""},
		{"methods on a notify phase are harmless", func(r *rollout.Rollout) { r.Phases[0].Methods = []string{"email"} }, ""},
		{"no location", func(r *rollout.Rollout) { r.Location = nil }, "rollout: location (time zone) is required"},
		{"same start as the previous phase", func(r *rollout.Rollout) { r.Phases[2].Start = r.Phases[1].Start },
			p3 + ": starts 2027-06-11 (midnight BST), not after " + p2 + " which starts 2027-06-11 (midnight BST); list phases in start order, each later than the one before"},
		{"earlier than the previous phase", func(r *rollout.Rollout) { r.Phases[3].Start = mustUTC(t, "2027-07-01T08:30:00Z") },
			p4 + ": starts 2027-07-01 09:30:00 BST, not after " + p3 + " which starts 2027-07-13 (midnight BST); list phases in start order, each later than the one before"},
		{"no start", func(r *rollout.Rollout) { r.Phases[0].Start = time.Time{} }, `phase 1 ("Communication"): start is not set`},
		{"empty name", func(r *rollout.Rollout) { r.Phases[1].Name = " " }, `phase 2: name is empty`},
		{"no name", func(r *rollout.Rollout) { r.Phases[1].Name = "" }, `phase 2: name is empty`},
		{"empty audience", func(r *rollout.Rollout) { r.Phases[2].Audience = nil }, p3 + ": audience is empty; list roles, or all for everyone"},
		{"empty audience entry", func(r *rollout.Rollout) { r.Phases[2].Audience = []string{"admin", ""} }, p3 + ": audience has an empty entry"},
		{"duplicate role", func(r *rollout.Rollout) { r.Phases[2].Audience = []string{"admin", "user", "admin"} }, p3 + `: audience lists "admin" twice`},
		{"duplicate all", func(r *rollout.Rollout) { r.Phases[3].Audience = []string{"all", "all"} }, p4 + `: audience lists "all" twice`},
		{"requirement none", func(r *rollout.Rollout) { r.Phases[2].Requirement = rollout.None }, p3 + ": requirement is not set; use notify, optional or required"},
		{"requirement out of range", func(r *rollout.Rollout) { r.Phases[2].Requirement = 7 }, p3 + ": requirement 7 is not one of notify, optional, required"},
		{"unknown method", func(r *rollout.Rollout) { r.Phases[2].Methods = []string{"email", "sms"} }, p3 + `: method "sms" is not one of email, totp`},
		{"recovery is not a method", func(r *rollout.Rollout) { r.Phases[3].Methods = []string{"recovery", "totp"} }, p4 + `: method "recovery" is not one of email, totp`},
		{"optional without methods", func(r *rollout.Rollout) { r.Phases[1].Methods = nil }, p2 + ": methods is empty; a phase that is optional needs at least one of email, totp"},
		{"required without methods", func(r *rollout.Rollout) { r.Phases[3].Methods = []string{} }, p4 + ": methods is empty; a phase that is required needs at least one of email, totp"},
		{"duplicate method", func(r *rollout.Rollout) { r.Phases[3].Methods = []string{"totp", "email", "totp"} }, p4 + `: method "totp" is listed twice`},
		{"default method not among methods", func(r *rollout.Rollout) { r.Phases[2].Methods = []string{"totp"} },
			p3 + `: default_method "email" is not one of the phase's methods (totp)`},
		{"default method on a notify phase", func(r *rollout.Rollout) { r.Phases[0].DefaultMethod = "email" },
			`phase 1 ("Communication"): default_method "email" is set on a notify phase, which asks nobody to set up a factor`},
		{"zero reminder", func(r *rollout.Rollout) { r.Phases[2].Reminders = []time.Duration{7 * day, 0} },
			p3 + ": reminder 0s is not a time before the start; reminders count back from the start and must be positive, such as 7d or 12h"},
		{"negative reminder", func(r *rollout.Rollout) { r.Phases[3].Reminders = []time.Duration{-day} },
			p4 + ": reminder -1d is not a time before the start; reminders count back from the start and must be positive, such as 7d or 12h"},
		{"duplicate reminder", func(r *rollout.Rollout) { r.Phases[3].Reminders = []time.Duration{7 * day, day, 7 * day} }, p4 + ": reminder 7d is listed twice"},
		{"duplicate reminder in hours", func(r *rollout.Rollout) { r.Phases[3].Reminders = []time.Duration{12 * time.Hour, 12 * time.Hour} }, p4 + ": reminder 12h0m0s is listed twice"},
		{"notice without subject", func(r *rollout.Rollout) { r.Phases[0].Notice.Subject = "" }, `phase 1 ("Communication"): notice has no subject`},
		{"notice without body", func(r *rollout.Rollout) { r.Phases[0].Notice.Body = "\n" }, `phase 1 ("Communication"): notice has no body`},
		{"grace on a required phase", func(r *rollout.Rollout) { r.Phases[2].Grace = 14 * day; r.Phases[2].GraceUntil = r.Phases[3].Start }, ""},
		{"grace past a later phase asking the same", func(r *rollout.Rollout) { r.Phases[2].Grace = 30 * day }, ""},
		{"grace past the next stricter phase", func(r *rollout.Rollout) { r.Phases[2].Grace = 19 * day; r.Phases[3].Methods = []string{"totp"} },
			p3 + `: grace 19d runs past the start of ` + p4 + ` (2027-07-31 (midnight BST)), which asks more of the same people; make the grace shorter than the 18 days between them`},
		{"grace up to the next stricter phase", func(r *rollout.Rollout) { r.Phases[2].Grace = 18 * day; r.Phases[3].Methods = []string{"totp"} }, ""},
		{"grace on an optional phase", func(r *rollout.Rollout) { r.Phases[1].Grace = 14 * day },
			p2 + ": grace is set, but the phase is optional; only a required phase gives each person time before it is enforced"},
		{"grace_until without grace", func(r *rollout.Rollout) { r.Phases[2].GraceUntil = r.Phases[3].Start },
			p3 + ": grace_until is set without grace; set grace too, such as 14d"},
		{"grace_until before the start", func(r *rollout.Rollout) { r.Phases[2].Grace = 7 * day; r.Phases[2].GraceUntil = r.Phases[1].Start },
			p3 + ": grace_until 2027-06-11 (midnight BST) is not after the phase starts (2027-07-13 (midnight BST))"},
		{"capped skips", func(r *rollout.Rollout) {
			r.Phases[1].MaxSkips, r.Phases[1].RepromptAfter, r.Phases[1].Then = 3, day, rollout.Required
		}, ""},
		{"a reprompt alone", func(r *rollout.Rollout) { r.Phases[1].RepromptAfter = day }, ""},
		{"max_skips without then", func(r *rollout.Rollout) { r.Phases[1].MaxSkips = 3 },
			p2 + ": max_skips is set without then; say what applies after the last skip: then: required"},
		{"then without max_skips", func(r *rollout.Rollout) { r.Phases[1].Then = rollout.Required },
			p2 + ": then is set without max_skips; say after how many skips it applies, such as max_skips: 3"},
		{"then optional", func(r *rollout.Rollout) { r.Phases[1].MaxSkips, r.Phases[1].Then = 2, rollout.Optional },
			p2 + ": then optional does not ask more than optional; after the last skip only required makes sense"},
		{"max_skips on a required phase", func(r *rollout.Rollout) { r.Phases[2].MaxSkips, r.Phases[2].Then = 2, rollout.Required },
			p3 + ": max_skips and reprompt_after are for an optional phase, where setup can be skipped; this one is required"},
		{"retiring email codes", func(r *rollout.Rollout) {
			r.Phases[3].Methods, r.Phases[3].Retire = []string{"totp"}, []string{"email"}
		}, ""},
		{"retiring every method", func(r *rollout.Rollout) {
			r.Phases[3].Methods, r.Phases[3].Retire = []string{"totp"}, []string{"email", "totp"}
		}, p4 + `: "totp" is both retired and one of the phase's methods; a retired method no longer counts; ` + p4 + ": retire leaves no method to sign in with; keep at least one of email, totp"},
		{"retiring an unknown method", func(r *rollout.Rollout) { r.Phases[3].Retire = []string{"sms"} },
			p4 + `: retire names "sms", which is not one of email, totp`},
		{"retiring the default method", func(r *rollout.Rollout) {
			r.Phases[2].Methods, r.Phases[2].Retire = []string{"totp"}, []string{"email"}
		},
			p3 + `: default_method "email" is not one of the phase's methods (totp); ` + p3 + `: default_method "email" is retired by the same phase`},
		{"retiring on a notify phase", func(r *rollout.Rollout) { r.Phases[0].Retire = []string{"email"} },
			`phase 1 ("Communication"): retire is set on a notify phase, which asks nobody for a factor`},
		{"every problem at once", func(r *rollout.Rollout) {
			r.Phases[1].Methods = nil
			r.Phases[3].Audience = nil
			r.Phases[3].Reminders = []time.Duration{0}
		}, p2 + ": methods is empty; a phase that is optional needs at least one of email, totp; " +
			p4 + ": audience is empty; list roles, or all for everyone; " +
			p4 + ": reminder 0s is not a time before the start; reminders count back from the start and must be positive, such as 7d or 12h"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := specRollout(t)
			tt.change(r)
			err := r.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("got %v, want no error", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("got no error, want %q", tt.want)
			}
			var e *mfagate.Error
			if !errors.As(err, &e) || e.Code != mfagate.EINVALID {
				t.Errorf("code: got %v (%T), want %v", mfagate.ErrorCode(err), err, mfagate.EINVALID)
			}
			if err.Error() != tt.want {
				t.Errorf("got  %q\nwant %q", err.Error(), tt.want)
			}
		})
	}
}

func TestValidateNil(t *testing.T) {
	var r *rollout.Rollout
	if err := r.Validate(); mfagate.ErrorCode(err) != mfagate.EINVALID || !strings.Contains(err.Error(), "missing") {
		t.Errorf("got %v, want an EINVALID error saying the rollout is missing", err)
	}
	empty := &rollout.Rollout{Location: time.UTC}
	if err := empty.Validate(); err != nil {
		t.Errorf("got %v, want no error", err)
	}
}

func TestWarnings(t *testing.T) {
	r := specRollout(t)
	if w := r.Warnings(); len(w) != 0 {
		t.Errorf("the SPEC schedule: got warnings %q, want none", w)
	}
	// Full enforcement reminds a week ahead; with only a day's reminder
	// its people hear of it a day before.
	r.Phases[3].Reminders = []time.Duration{day}
	want := `phase 4 ("Full enforcement"): its audience first hears of it 1 day before it starts (2027-07-30 (midnight BST)); give them at least 7 days: a reminder of 7d, an earlier notice, or a grace of at least 7d`
	if w := r.Warnings(); len(w) != 1 || w[0] != want {
		t.Errorf("a day's reminder: got %q, want %q", w, want)
	}
	r.Phases[3].Reminders = []time.Duration{7*day - time.Second}
	if w := r.Warnings(); len(w) != 1 {
		t.Errorf("a reminder a second short of a week: got %q, want a warning", w)
	}
	r.Phases[3].Reminders = nil
	if w := r.Warnings(); len(w) != 1 || !strings.Contains(w[0], "is emailed nothing about it before it starts") {
		t.Errorf("no reminder: got %q", w)
	}
	r.Phases[3].Grace = 7 * day // everyone gets a week of their own
	if w := r.Warnings(); len(w) != 0 {
		t.Errorf("with a week's grace: got %q, want none", w)
	}
}
