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
