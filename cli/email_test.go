package cli_test

import (
	"regexp"
	"strings"
	"testing"
)

// TestUserSetEmail: the command line gives an account another address,
// a staff account's too, with a reason; bad input is refused in one
// sentence and changes nothing; user show says the address waits to be
// confirmed and where codes still go.
func TestUserSetEmail(t *testing.T) {
	cfg := install(t, "")
	mustRun(t, "", "user", "add", "ada", "--email", "ada@example.com", "--roles", "user", "--no-password", "--config", cfg)
	mustRun(t, "", "user", "add", "bea", "--email", "bea@example.com", "--roles", "user", "--no-password", "--config", cfg)
	mustRun(t, "", "user", "add", "sam", "--email", "sam@example.com", "--roles", "support", "--no-password", "--config", cfg)

	for _, tt := range []struct {
		name string
		args []string
		code int
		says string
	}{
		{"no reason", []string{"ada", "--email", "ada@new.example.com"}, 2, "--reason"},
		{"no address", []string{"ada", "--reason", "x"}, 2, "--email"},
		{"two names", []string{"ada", "bea", "--email", "ada@new.example.com", "--reason", "x"}, 2, "exactly one username"},
		{"a bad address", []string{"ada", "--email", "ada at example", "--reason", "x"}, 1, "correct format"},
		{"another's address", []string{"ada", "--email", "BEA@example.com", "--reason", "x"}, 1, "used by another account"},
		{"nobody", []string{"nobody", "--email", "n@example.com", "--reason", "x"}, 1, "not found"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, "", append(append([]string{"user", "set-email"}, tt.args...), "--config", cfg)...)
			if r.code != tt.code || !strings.Contains(r.stderr, tt.says) {
				t.Fatalf("got %d %q, want %d saying %q", r.code, r.stderr, tt.code, tt.says)
			}
		})
	}
	if show := mustRun(t, "", "user", "show", "ada", "--config", cfg); !regexp.MustCompile(`(?m)^Email:\s+ada@example.com$`).MatchString(show) {
		t.Fatalf("a refused change changed the address:\n%s", show)
	}

	out := mustRun(t, "", "user", "set-email", "ada", "--email", "ada@new.example.com", "--reason", "left her old employer", "--config", cfg)
	if !strings.Contains(out, "The email address of ada is now ada@new.example.com") || !strings.Contains(out, "still go to ada@example.com") {
		t.Fatalf("set-email: %q", out)
	}
	show := mustRun(t, "", "user", "show", "ada", "--config", cfg)
	if !regexp.MustCompile(`(?m)^Email:\s+ada@new.example.com$`).MatchString(show) ||
		!regexp.MustCompile(`(?m)^Email confirmed:\s+not yet, .*security codes still go to ada@example.com$`).MatchString(show) {
		t.Fatalf("user show after set-email:\n%s", show)
	}
	// At the server, a staff account's address changes too.
	mustRun(t, "", "user", "set-email", "sam", "--email", "sam@new.example.com", "--reason", "new team", "--config", cfg)
}
