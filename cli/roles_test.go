package cli_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestRolesOffTheListAreRefused: the command line refuses a role the
// configuration does not list, naming the closest one, in user add and in
// a CSV import (which then imports nothing); a role added to roles is
// taken; and the server names, at start, roles that accounts hold but
// roles no longer lists.
func TestRolesOffTheListAreRefused(t *testing.T) {
	cfg := install(t, "")
	bad := run(t, "", "user", "add", "bob", "--email", "bob@example.com", "--roles", "usr", "--no-password", "--config", cfg)
	if bad.code == 0 || !strings.Contains(bad.stderr, `Role "usr" is not one of the roles this installation uses (admin, user, operator, support). Did you mean "user"?`) {
		t.Fatalf("user add --roles usr: got %d %q", bad.code, bad.stderr)
	}
	csv := filepath.Join(t.TempDir(), "people.csv")
	if err := os.WriteFile(csv, []byte("username,email,name,roles\ncy,cy@example.com,Cy,user\ndee,dee@example.com,Dee,nurse\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	imp := run(t, "", "user", "import", csv, "--config", cfg)
	if imp.code == 0 || !strings.Contains(imp.stderr, "line 3") || !strings.Contains(imp.stderr, `Role "nurse" is not one of the roles`) {
		t.Fatalf("import with an unknown role: got %d %q", imp.code, imp.stderr)
	}
	if out := mustRun(t, "", "user", "list", "--config", cfg); strings.Contains(out, "cy@example.com") {
		t.Fatalf("the import's good row was imported:\n%s", out)
	}

	// A role added to roles is taken.
	data, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	withNurse := string(data) + "roles:\n  - {name: nurse, description: Ward staff}\n  - {name: user}\n"
	if err := os.WriteFile(cfg, []byte(withNurse), 0o600); err != nil {
		t.Fatal(err)
	}
	mustRun(t, "", "user", "import", csv, "--config", cfg)
	// Taken off the list again: the accounts keep it, and serve says so.
	if err := os.WriteFile(cfg, data, 0o600); err != nil {
		t.Fatal(err)
	}
	_, errOut := start(t, "serve", "--config", cfg)
	errOut.await(t, regexp.MustCompile(`accounts hold a role that roles does not list.*role=nurse accounts=1`))
}

// TestUserSetRoles: the command line changes an account's roles, staff
// roles included, with a reason; a role off the list is refused with a
// suggestion; user show lists the new roles.
func TestUserSetRoles(t *testing.T) {
	cfg := install(t, "")
	mustRun(t, "", "user", "add", "ada", "--email", "ada@example.com", "--roles", "user", "--no-password", "--config", cfg)
	if r := run(t, "", "user", "set-roles", "ada", "--roles", "admin", "--config", cfg); r.code != 2 || !strings.Contains(r.stderr, "--reason") {
		t.Fatalf("without a reason: got %d %q", r.code, r.stderr)
	}
	if r := run(t, "", "user", "set-roles", "ada", "--roles", "admin,supprt", "--reason", "x", "--config", cfg); r.code == 0 ||
		!strings.Contains(r.stderr, `Did you mean "support"?`) {
		t.Fatalf("a role off the list: got %d %q", r.code, r.stderr)
	}
	out := mustRun(t, "", "user", "set-roles", "ada", "--roles", "admin,support", "--reason", "joins the help desk", "--config", cfg)
	if !strings.Contains(out, "ada now has the roles admin, support.") {
		t.Fatalf("set-roles: %q", out)
	}
	if show := mustRun(t, "", "user", "show", "ada", "--config", cfg); !regexp.MustCompile(`(?m)^Roles:\s+admin,support$`).MatchString(show) {
		t.Fatalf("user show after set-roles:\n%s", show)
	}
}

// TestSetRolesReachesForwardAuth: roles changed at the command line,
// beside a running server, are what forward-auth answers with at the
// signed-in person's next requests: the server hears of the change
// (ended_sessions on SQLite) rather than trusting its cache.
func TestSetRolesReachesForwardAuth(t *testing.T) {
	cfg := install(t, "")
	mustRun(t, "plum orchard lantern\n", "user", "add", "ada", "--email", "ada@example.com", "--roles", "user", "--password-stdin", "--config", cfg)
	out, _ := start(t, "serve", "--config", cfg)
	base := "http://" + out.await(t, regexp.MustCompile(`listening on (\S+),`))[1]
	c := browser(t)
	signIn(t, c, base, "ada", "plum orchard lantern")
	groups := func() string {
		t.Helper()
		res, err := c.Get(base + "/auth/verify")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Fatalf("verify: %d", res.StatusCode)
		}
		return res.Header.Get("Remote-Groups")
	}
	if g := groups(); g != "user" {
		t.Fatalf("before: Remote-Groups %q", g)
	}
	mustRun(t, "", "user", "set-roles", "ada", "--roles", "admin,user", "--reason", "joins the admins", "--config", cfg)
	deadline := time.Now().Add(5 * time.Second)
	for g := groups(); g != "admin,user"; g = groups() {
		if time.Now().After(deadline) {
			t.Fatalf("5 s after set-roles, forward-auth still answers Remote-Groups %q", g)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestDemoSaysItRehearses: the demo started at another time says so in
// its printout, and the account lines keep the form SPEC.md gives them.
func TestDemoSaysItRehearses(t *testing.T) {
	out, _ := start(t, "demo", "--addr", "127.0.0.1:0", "--data", filepath.Join(t.TempDir(), "data"), "--clock", "2030-01-01", "--rehearsal")
	out.await(t, regexp.MustCompile(`/dev/outbox`))
	if !strings.Contains(out.String(), "This is a rehearsal: the demo behaves as on 1 January 2030 at 00:00") {
		t.Errorf("the demo does not say it rehearses:\n%s", out.String())
	}
	if n := len(accountLine.FindAllString(out.String(), -1)); n != 3 {
		t.Errorf("%d account lines in the SPEC's form, want 3:\n%s", n, out.String())
	}
}
